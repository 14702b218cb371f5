"""Client-config validation (every error path names its field), canonical files, publication rules."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.pipeline.conftest import REPO_ROOT
from vectora_core.config.cli import canonical_index, publish
from vectora_core.config.publish import ConfigFile, repo_files, validate_files
from vectora_core.config.validation import validate_canonical_text, validate_client_text

GOOD = yaml.safe_load((REPO_ROOT / "clients" / "lai_weekly.yaml").read_text())


@pytest.fixture(scope="module")
def index():
    found, problems = canonical_index(REPO_ROOT)
    assert problems == []
    return found


def problems_of(document: dict, index, expected_id: str | None = "lai_weekly") -> list[str]:
    config, problems = validate_client_text(yaml.safe_dump(document), index, expected_id=expected_id)
    assert (config is None) == bool(problems)
    return problems


def edited(**paths: object) -> dict:
    document = copy.deepcopy(GOOD)
    for path, value in paths.items():
        *parents, last = path.split("__")
        node = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is KeyError:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return document


def test_the_repository_config_is_valid(index) -> None:
    assert problems_of(GOOD, index) == []


def test_version_suffix_in_client_id_is_refused_with_the_field_path_and_the_fix(index) -> None:
    problems = problems_of(edited(client_profile__client_id="lai_weekly_v7"), index, expected_id=None)
    assert problems == [
        "client_profile.client_id: must not carry a version suffix ('_v7'); "
        "put 7.0.0 in client_profile.version"
    ]


def test_every_violation_is_reported_at_once_even_when_the_schema_fails(index) -> None:
    # given an old-style file: a versioned id (schema), a stale config_version (rule), an unknown
    # source (reference into canonical/)
    document = edited(
        client_profile__client_id="lai_weekly_v7",
        metadata__config_version="6.1.0",
        sources__include=[*GOOD["sources"]["include"], "no_such_source"],
    )
    problems = problems_of(document, index, expected_id=None)
    assert [p.split(":", 1)[0] for p in problems] == [
        "client_profile.client_id",
        "metadata.config_version",
        f"sources.include[{len(GOOD['sources']['include'])}]",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"client_profile__version": "7.0"}, "client_profile.version: must be a semantic version"),
        (
            {"client_profile__client_id": "LAI-weekly"},
            "client_profile.client_id: 'LAI-weekly' is not allowed",
        ),
        (
            {"metadata__config_version": "6.1.0"},
            "metadata.config_version: must equal client_profile.version (7.0.0)",
        ),
        (
            {"metadata__changelog__0__version": "7.0.1"},
            "metadata.changelog[0].version: the newest (first) entry",
        ),
        (
            {"metadata__changelog__0__date": "30/01/2026"},
            "metadata.changelog[0].date: Input should be a valid date",
        ),
        (
            {"metadata__changelog__1__date": "2026-02-01"},
            "metadata.changelog[1].date: entries go newest first",
        ),
        ({"metadata__changelog": []}, "metadata.changelog: List should have at least 1 item"),
        ({"scoring__threshold": KeyError}, "scoring.threshold: required field is missing"),
        ({"scoring__thresold": 5}, "scoring.thresold: unknown key; allowed here: event_rules, scopes"),
        (
            {"sources__include": ["fiercepharma", "nope"]},
            "sources.include[1]: 'nope' is not in catalog lai_sources",
        ),
        ({"sources__catalog": "other_sources"}, "sources.catalog: no canonical/sources/other_sources.yaml"),
        (
            {"scoring__scopes__0__scope": "lai_things"},
            "scoring.scopes[0].scope: no canonical/scopes/lai_things.yaml",
        ),
        (
            {"prompts__editorial": "normalization"},
            "prompts.editorial: normalization is a normalization prompt",
        ),
        (
            {"newsletter__sections__0__event_types": ["gossip"]},
            "newsletter.sections[0].event_types[0]: Input should be",
        ),
        ({"pipeline__period_days": 0}, "pipeline.period_days: Input should be greater than or equal to 1"),
    ],
)
def test_each_violation_names_its_field(index, change: dict, expected: str) -> None:
    problems = problems_of(edited(**change), index)
    assert any(p.startswith(expected) for p in problems), problems


def test_every_violation_is_reported_at_once(index) -> None:
    document = edited(
        client_profile__client_id="lai_weekly_v7", pipeline__period_days=0, scoring__threshold=-1
    )
    problems = problems_of(document, index, expected_id=None)
    assert [p.split(":")[0] for p in problems] == [
        "client_profile.client_id",
        "scoring.threshold",
        "pipeline.period_days",
    ]


def test_file_name_must_match_the_client_id(index) -> None:
    assert problems_of(GOOD, index, expected_id="other") == [
        "client_profile.client_id: 'lai_weekly' does not match the file name (other.yaml); "
        "the file must be clients/<client_id>.yaml"
    ]


def test_invalid_yaml_and_non_mapping_documents() -> None:
    assert validate_client_text("a: [", None)[1][0].startswith("<document>: not valid YAML (line")
    assert validate_client_text("- 1\n", None)[1] == ["<document>: must be a mapping of keys, got list"]


def test_canonical_files_are_checked_against_their_schema_and_name() -> None:
    text = (REPO_ROOT / "canonical" / "sources" / "lai_sources.yaml").read_text()
    assert validate_canonical_text("sources", "lai_sources", text)[1] == []
    assert validate_canonical_text("sources", "renamed", text)[1] == [
        "catalog_id: 'lai_sources' must equal the file name (renamed)"
    ]
    broken = yaml.safe_load(text)
    broken["sources"][0].pop("url")
    problems = validate_canonical_text("sources", "lai_sources", yaml.safe_dump(broken))[1]
    assert problems == ["sources[0]: an rss source needs url"]


def test_pubmed_sources_default_to_the_real_eutils_url(bundle) -> None:
    pubmed = bundle.catalog.by_id()["pubmed_lai"]
    assert str(pubmed.eutils_base_url) == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"


def test_publish_refuses_prod_before_anything_else() -> None:
    with pytest.raises(ValueError, match=r"^--env prod is refused: prod only receives configs by promotion"):
        publish("prod", repo_files(REPO_ROOT), s3=object())


def test_publish_uploads_nothing_when_one_file_is_invalid() -> None:
    # given: the real files plus one invalid client; an S3 client that fails the test if touched
    files = repo_files(REPO_ROOT) + [
        ConfigFile("clients/bad.yaml", "client_profile: {}\n", "clients/bad.yaml")
    ]

    class Untouchable:
        def put_object(self, **_: object) -> None:
            raise AssertionError("nothing may be uploaded")

    # when / then
    with pytest.raises(ValueError) as raised:
        publish("dev", files, s3=Untouchable())
    lines = str(raised.value).splitlines()
    assert "clients/bad.yaml: client_profile.version: required field is missing" in lines
    assert lines[-1].startswith("nothing uploaded: ")


def test_publish_of_a_missing_client_is_an_error() -> None:
    assert validate_files(repo_files(REPO_ROOT, ["nobody"])) == [
        f"{REPO_ROOT / 'clients' / 'nobody.yaml'}: file not found or empty"
    ]


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def test_validate_config_script_reports_every_problem_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "lai_weekly_v7.yaml"
    bad.write_text(yaml.safe_dump(edited(client_profile__client_id="lai_weekly_v7", scoring__threshold=-1)))
    result = run_script("scripts/config/validate_config.py", str(bad))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert (
        f"{bad}: client_profile.client_id: must not carry a version suffix ('_v7'); "
        "put 7.0.0 in client_profile.version" in lines
    )
    assert any(line.startswith(f"{bad}: scoring.threshold:") for line in lines)
    assert lines[-1] == "validate_config: 2 problem(s)"
    ok = run_script("scripts/config/validate_config.py", "clients/lai_weekly.yaml")
    assert (ok.returncode, ok.stdout) == (0, "ok clients/lai_weekly.yaml: lai_weekly 7.0.0\n")


def test_publish_config_script_refuses_prod_in_one_line() -> None:
    result = run_script("scripts/config/publish_config.py", "--env", "prod")
    assert result.returncode == 1
    assert result.stderr == (
        "publish_config: --env prod is refused: prod only receives configs by promotion from stage\n"
    )
    unknown = run_script("scripts/config/publish_config.py", "--env", "qa")
    assert unknown.returncode == 2
    assert unknown.stderr == "publish_config: unknown environment 'qa': allowed values are dev, stage, prod\n"


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
