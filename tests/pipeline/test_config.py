"""Client-config validation in the team's format: identity, business sections, ranges, references
into canonical/, unknown keys kept with one warning, the runtime version, canonical files."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.pipeline.conftest import REPO_ROOT
from vectora_core import RUNTIME_VERSION
from vectora_core.config.schema import EVENT_TYPES, Source, SourceCatalog
from vectora_core.config.validation import (
    CanonicalIndex,
    parse_yaml,
    validate_canonical_text,
    validate_client_text,
)
from vectora_ops.config.cli import canonical_index

CONFIGS = Path(__file__).parent / "configs"
# The repository's config, and the team-format test config (every section, French comments).
REPO_TEXT = (REPO_ROOT / "clients" / "lai_weekly.yaml").read_text("utf-8")
TEAM_TEXT = (CONFIGS / "lai_weekly.yaml").read_text("utf-8")
TEAM = yaml.safe_load(TEAM_TEXT)


@pytest.fixture(scope="module")
def index() -> CanonicalIndex:
    found, problems = canonical_index(REPO_ROOT)
    assert problems == []
    return found


def problems_of(document: dict, index, expected_id: str | None = "lai_weekly", runtime=None) -> list[str]:
    result = validate_client_text(yaml.safe_dump(document), index, expected_id=expected_id, runtime=runtime)
    assert (result.config is None) == bool(result.problems)
    return result.problems


def edited(**paths: object) -> dict:
    """The team config with ``a__b__0__c=value`` set (``KeyError``: deleted)."""
    document = copy.deepcopy(TEAM)
    for path, value in paths.items():
        *parents, last = path.split("__")
        node = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is KeyError:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return document


def test_the_repository_config_is_valid_and_knows_every_key(index) -> None:
    result = validate_client_text(REPO_TEXT, index, expected_id="lai_weekly", runtime=(RUNTIME_VERSION, "x"))
    assert (result.problems, result.warnings) == ([], [])
    assert result.config is not None and result.config.version == "7.1.0"


def test_a_config_in_the_team_format_is_accepted_and_its_unknown_keys_listed_in_one_warning(index) -> None:
    # given the team's format with every section, and keys the schema does not model
    result = validate_client_text(TEAM_TEXT, index, expected_id="lai_weekly")
    # then it is valid; the unknown keys are kept and named once, each with its path
    assert result.problems == []
    assert result.warnings == [
        "6 key(s) unknown to the schema, kept as they are: matching_config.enable_diagnostic_mode, "
        "matching_config.trademark_privileges.ingestion_priority, "
        "newsletter_selection.deduplication.prefer_higher_score, newsletter_layout.sections[3].notes, "
        "metadata.created_by, metadata.creation_notes"
    ]
    config = result.config
    assert config is not None
    assert config.matching_config.model_extra == {"enable_diagnostic_mode": True}
    assert [s.id for s in config.newsletter_layout.ordered()] == [
        "regulatory_updates",
        "partnerships_deals",
        "clinical_updates",
        "others",
    ]
    assert config.newsletter_layout.sections[3].accepts("safety_signal")  # the "*" catch-all


def test_a_misspelt_key_is_a_warning_with_a_suggestion_and_its_default_applies(index) -> None:
    document = edited(pipeline__default_perod_days=14)
    del document["pipeline"]["default_period_days"]
    result = validate_client_text(yaml.safe_dump(document), index, expected_id="lai_weekly")
    assert result.problems == []
    assert (
        "kept as they are: pipeline.default_perod_days (did you mean default_period_days?), "
        in result.warnings[0]
    )
    assert result.config is not None and result.config.pipeline.default_period_days == 7


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"client_profile__client_id": "lai_weekly_v7"},
            "client_profile.client_id: must not carry a version suffix ('_v7'); "
            "put 7.0.0 in client_profile.version",
        ),
        (
            {"client_profile__client_id": "LAI-weekly"},
            "client_profile.client_id: 'LAI-weekly' is not allowed",
        ),
        ({"client_profile__client_id": KeyError}, "client_profile.client_id: required field is missing"),
        ({"client_profile__version": "7.0"}, "client_profile.version: must be a semantic version"),
        ({"client_profile__version": KeyError}, "client_profile.version: required field is missing"),
        (
            {"metadata__config_version": "6.1.0"},
            "metadata.config_version: must equal client_profile.version (7.0.0), got 6.1.0",
        ),
        (
            {"metadata__changelog__0__version": "7.0.1"},
            "metadata.changelog[0].version: the newest (first) entry must describe version 7.0.0, got 7.0.1",
        ),
        (
            {"metadata__changelog__0__version": KeyError},
            "metadata.changelog[0].version: the newest (first) entry must describe version 7.0.0, got none",
        ),
        (
            {"metadata__changelog__1__version": "8.0.0"},
            "metadata.changelog[1].version: entries go newest first with strictly decreasing versions",
        ),
        (
            {"metadata__changelog__1__date": "2026-02-01"},
            "metadata.changelog[1].date: entries go newest first",
        ),
        (
            {"metadata__changelog__0__date": "30/01/2026"},
            "metadata.changelog[0].date: Input should be a valid date",
        ),
        ({"metadata__changelog": []}, "metadata.changelog: List should have at least 1 item"),
    ],
)
def test_identity_and_versioning_stay_strict(index, change: dict, expected: str) -> None:
    problems = problems_of(edited(**change), index, expected_id=None)
    assert any(p.startswith(expected) for p in problems), problems


def test_older_changelog_entries_may_have_no_version(index) -> None:
    assert problems_of(edited(metadata__changelog__1__version=KeyError), index) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"watch_domains": KeyError}, "watch_domains: required field is missing"),
        ({"watch_domains": []}, "watch_domains: List should have at least 1 item"),
        ({"watch_domains__0__id": KeyError}, "watch_domains[0].id: required field is missing"),
        ({"newsletter_layout__sections": KeyError}, "newsletter_layout.sections: required field is missing"),
        (
            {"newsletter_layout__sections__1__id": KeyError},
            "newsletter_layout.sections[1].id: required field",
        ),
        (
            {"newsletter_layout__sections__1__max_items": KeyError},
            "newsletter_layout.sections[1].max_items: required field is missing",
        ),
        ({"scoring_config": KeyError}, "scoring_config: required field is missing"),
        ({"bedrock_config__editorial_prompt": KeyError}, "bedrock_config.editorial_prompt: required field"),
    ],
)
def test_the_teams_required_fields(index, change: dict, expected: str) -> None:
    problems = problems_of(edited(**change), index)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"matching_config__min_domain_score": 0.95},
            "matching_config.min_domain_score: a score threshold must lie within 0.1-0.9, got 0.95",
        ),
        (
            {"matching_config__fallback_min_score": 0.05},
            "matching_config.fallback_min_score: a score threshold must lie within 0.1-0.9, got 0.05",
        ),
        (
            {"matching_config__domain_type_thresholds__technology": 1.0},
            "matching_config.domain_type_thresholds.technology: a score threshold must lie within 0.1-0.9",
        ),
        (
            {"matching_config__trademark_privileges__auto_match_threshold": 0.99},
            "matching_config.trademark_privileges.auto_match_threshold: a score threshold must lie within",
        ),
        (
            {"newsletter_selection__deduplication__similarity_threshold": 0.0},
            "newsletter_selection.deduplication.similarity_threshold: a score threshold must lie within",
        ),
        (
            {"newsletter_selection__min_score_threshold": -1},
            "newsletter_selection.min_score_threshold: Input",
        ),
        ({"newsletter_layout__sections__0__max_items": 0}, "newsletter_layout.sections[0].max_items: Input"),
        ({"pipeline__default_period_days": 0}, "pipeline.default_period_days: Input should be greater"),
        ({"pipeline__bedrock_concurrency": 64}, "pipeline.bedrock_concurrency: Input should be less"),
        (
            {"scoring_config__event_type_weight_overrides__partnership": 150},
            "scoring_config.event_type_weight_overrides: event-type weights lie within 0-100, got "
            "partnership: 150",
        ),
        (
            {"scoring_config__event_type_weight_overrides__gossip": 1},
            "scoring_config.event_type_weight_overrides.gossip.[key]: Input should be 'partnership'",
        ),
        (
            {"newsletter_layout__sections__3__filter_event_types": ["*", "partnership"]},
            "newsletter_layout.sections[3].filter_event_types: '*' (any event type) stands alone",
        ),
        (
            {"newsletter_layout__sections__0__filter_event_types": ["gossip"]},
            "newsletter_layout.sections[0].filter_event_types[0]: Input should be 'partnership'",
        ),
        (
            {"newsletter_layout__sections__0__sort_by": "random"},
            "newsletter_layout.sections[0].sort_by: Input",
        ),
        (
            {"newsletter_layout__sections__1__id": "regulatory_updates"},
            "newsletter_layout: section ids must be unique, repeated: regulatory_updates",
        ),
        (
            {"watch_domains__1__technology_scope": KeyError},
            "watch_domains[1]: a watch domain names at least one of technology_scope, company_scope",
        ),
        (
            {"source_config__source_bouquets_enabled": []},
            "source_config: enable at least one bouquet (source_bouquets_enabled) or source",
        ),
        ({"client_profile__active": "maybe"}, "client_profile.active: Input should be a valid boolean"),
        ({"newsletter_delivery__notification_email": "nobody"}, "newsletter_delivery.notification_email:"),
    ],
)
def test_business_sections_are_typed_with_their_ranges(index, change: dict, expected: str) -> None:
    problems = problems_of(edited(**change), index)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"newsletter_layout__sections__1__source_domains": ["tech_lai_ecosystem", "biosimilars"]},
            "newsletter_layout.sections[1].source_domains[1]: 'biosimilars' is not a watch domain of this "
            "config (watch_domains ids: tech_lai_ecosystem, delivery_technologies)",
        ),
        (
            {"watch_domains__0__trademark_scope": "lai_brands"},
            "watch_domains[0].trademark_scope: no scope lai_brands (canonical/scopes/lai_brands.yaml or a "
            "list of a scopes file); available scopes: "
            "lai_companies, lai_keywords, lai_molecules, lai_technologies, lai_trademarks",
        ),
        (
            {"watch_domains__0__company_scope": "lai_keywords"},
            "watch_domains[0].company_scope: lai_keywords is a keywords scope, this field takes companies "
            "(such scopes: lai_companies)",
        ),
        (
            {"watch_domains__1__id": "tech_lai_ecosystem"},
            "watch_domains[1].id: 'tech_lai_ecosystem' is used by an earlier watch domain; ids are unique",
        ),
        (
            {"source_config__source_bouquets_enabled": ["lai_press_mvp"]},
            "source_config.source_bouquets_enabled[0]: no bouquet lai_press_mvp "
            "(canonical/sources/lai_press_mvp.yaml or a bouquet of a source catalog); available bouquets: "
            "lai_sources",
        ),
        (
            {"source_config__sources_extra_enabled": ["press_sector__biocentury"]},
            "source_config.sources_extra_enabled[0]: 'press_sector__biocentury' is in no canonical source "
            "catalog (source ids: alkermes, camurus, endpoints,",
        ),
        (
            {"source_config__bouquet_ingestion_overrides": {"lai_press_mvp": {"max_items": 3}}},
            "source_config.bouquet_ingestion_overrides.lai_press_mvp: not an enabled bouquet "
            "(source_bouquets_enabled: lai_sources)",
        ),
        (
            {"bedrock_config__normalization_prompt": "lai_normalization"},
            "bedrock_config.normalization_prompt: no prompt lai_normalization "
            "(canonical/prompts/lai_normalization.yaml or a prompt_id of a nested prompt); "
            "available prompts: editorial, normalization",
        ),
        (
            {"bedrock_config__editorial_prompt": "normalization"},
            "bedrock_config.editorial_prompt: normalization is a normalization prompt, not a editorial one",
        ),
        (
            {"bedrock_config__matching_prompt": "lai_matching"},
            "bedrock_config.matching_prompt: no prompt lai_matching (canonical/prompts/lai_matching.yaml",
        ),
        (
            {"scoring_config__client_specific_bonuses__trademark_mentions__scope": "lai_trademarks_global"},
            "scoring_config.client_specific_bonuses.trademark_mentions.scope: no scope lai_trademarks_global "
            "(canonical/scopes/lai_trademarks_global.yaml",
        ),
        (
            {"matching_config__fallback_company_scopes": ["lai_molecules"]},
            "matching_config.fallback_company_scopes[0]: lai_molecules is a molecules scope, this field "
            "takes companies",
        ),
    ],
)
def test_references_name_what_is_missing_and_list_what_exists(index, change: dict, expected: str) -> None:
    problems = problems_of(edited(**change), index)
    assert any(p.startswith(expected) for p in problems), problems


def test_an_extra_source_defined_by_two_catalogs_is_ambiguous(index) -> None:
    source = Source(id="camurus", name="Camurus (copy)", type="rss", url="https://example.com/feed")
    twice = copy.copy(index)
    twice.catalogs = {
        **index.catalogs,
        "copy": SourceCatalog(catalog_id="copy", description="d", sources=[source]),
    }
    document = edited(source_config__sources_extra_enabled=["camurus"])
    assert problems_of(document, twice) == [
        "source_config.sources_extra_enabled[0]: 'camurus' is defined by several catalogs "
        "(copy, lai_sources); "
        "enable the one you mean as a bouquet instead"
    ]


def test_the_canonical_scoring_rules_must_exist(index) -> None:
    without = copy.copy(index)
    without.scoring_rules = None
    assert problems_of(TEAM, without) == [
        "scoring_config: canonical/scoring/scoring_rules.yaml is missing (the default event-type weights "
        "and scope scoring every config builds on)"
    ]


def test_every_violation_is_reported_at_once_even_when_the_schema_fails(index) -> None:
    # given: a versioned id (schema), a stale config_version (rule), an unknown scope (reference)
    document = edited(
        client_profile__client_id="lai_weekly_v7",
        metadata__config_version="6.1.0",
        watch_domains__1__technology_scope="lai_platforms",
    )
    problems = problems_of(document, index, expected_id=None)
    assert [p.split(":", 1)[0] for p in problems] == [
        "client_profile.client_id",
        "metadata.config_version",
        "watch_domains[1].technology_scope",
    ]


def test_file_name_must_match_the_client_id(index) -> None:
    assert problems_of(TEAM, index, expected_id="other") == [
        "client_profile.client_id: 'lai_weekly' does not match the file name (other.yaml); "
        "the file must be clients/<client_id>.yaml"
    ]


def test_a_config_needing_a_newer_runtime_is_refused_naming_both_versions(index) -> None:
    document = edited(metadata__min_runtime_version="9.0.0")
    assert problems_of(document, index, runtime=("2.1.0", "dev (deployed)")) == [
        "metadata.min_runtime_version: 9.0.0 is newer than the runtime 2.1.0 of dev (deployed); "
        "deploy a runtime >= 9.0.0 first"
    ]
    # versions compare as numbers: 2.10.0 is newer than 2.9.0
    assert problems_of(edited(metadata__min_runtime_version="2.10.0"), index, runtime=("2.9.0", "x"))
    assert problems_of(edited(metadata__min_runtime_version="2.9.0"), index, runtime=("2.10.0", "x")) == []
    assert problems_of(edited(metadata__min_runtime_version=KeyError), index, runtime=("0.0.1", "x")) == []


def test_yaml_that_is_not_a_usable_document_is_one_problem() -> None:
    assert validate_client_text("a: [", None).problems[0].startswith("<document>: not valid YAML (line")
    assert validate_client_text("- 1\n", None).problems == ["<document>: must be a mapping of keys, got list"]
    assert parse_yaml("a: 1\nb: 2\na: 3\n")[1] == [
        "<document>: not valid YAML: duplicate key 'a' (line 3): each key may appear once"
    ]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(12)
    )
    assert parse_yaml(bomb)[1] == [
        "<document>: not valid YAML: more than 100 aliases (*name): refused as an alias bomb"
    ]
    assert parse_yaml("[" * 100_000)[1][0].startswith("<document>: not valid YAML")


def test_canonical_files_are_checked_against_their_schema_and_name() -> None:
    text = (REPO_ROOT / "canonical" / "sources" / "lai_sources.yaml").read_text()
    assert validate_canonical_text("sources", "lai_sources", text)[1] == []
    assert validate_canonical_text("sources", "renamed", text)[1] == [
        "catalog_id: 'lai_sources' must equal the file name (renamed)"
    ]
    broken = yaml.safe_load(text)
    broken["sources"][0].pop("url")
    assert validate_canonical_text("sources", "lai_sources", yaml.safe_dump(broken))[1] == [
        "sources[0]: an rss source needs url"
    ]


def test_scoring_rules_weigh_every_event_type() -> None:
    text = (REPO_ROOT / "canonical" / "scoring" / "scoring_rules.yaml").read_text()
    rules = yaml.safe_load(text)
    assert set(rules["event_type_weights"]) == set(EVENT_TYPES)
    del rules["event_type_weights"]["safety_signal"]
    assert validate_canonical_text("scoring", "scoring_rules", yaml.safe_dump(rules))[1] == [
        "event_type_weights: give a weight to every event type, missing: safety_signal"
    ]


def test_prompt_placeholders_are_checked_when_publishing() -> None:
    text = (REPO_ROOT / "canonical" / "prompts" / "normalization.yaml").read_text()
    assert validate_canonical_text("prompts", "normalization", text)[1] == []
    typo = text.replace("{title}", "{titel}")
    assert validate_canonical_text("prompts", "normalization", typo)[1] == [
        "<document>: user_template: unknown placeholder(s) {titel}; "
        "allowed: {known_entities}, {published_at}, {source_name}, {text}, {title}, {url}"
    ]
    brace = text.replace('{{"date"', '{"date"')
    assert validate_canonical_text("prompts", "normalization", brace)[1] == [
        "<document>: system: not a valid template (Single '}' encountered in format string); "
        "write literal braces as {{ and }}"
    ]


def test_the_normalization_prompt_lists_the_event_types_of_the_format(bundle) -> None:
    system = bundle.normalization_prompt.system
    assert '"event_type": one of {event_types};' in system
    filled = system.format(language="English", event_types=", ".join(EVENT_TYPES))
    assert "one of partnership, clinical_update, regulatory, regulatory_approval, nda_submission," in filled
