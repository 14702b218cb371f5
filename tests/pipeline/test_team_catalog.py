"""The team's canonical layout read as it is (tests/pipeline/team_catalog/, written from issue 28's
facts): named scope lists per file, the source catalog with bouquets and HTML extractors, nested
prompts; one index with the project's own layout, references by name, problems naming file and key."""

from __future__ import annotations

import shutil
import uuid
from datetime import date
from pathlib import Path

import pytest

from local_aws.internet.dates import render
from local_aws.internet.store import find
from local_aws.internet.store import load as load_recordings
from tests.pipeline.conftest import REPO_ROOT
from tests.pipeline.fake_bedrock import MODEL_ID, FakeBedrock, editorial_answer, normalization_answer
from vectora_core.config.catalog import CanonicalText, build_index
from vectora_core.config.loading import DirStore, load_client_bundle
from vectora_core.config.validation import ConfigError, validate_client_text
from vectora_core.pipeline.bedrock import BedrockJson
from vectora_core.pipeline.ingest import run_ingest
from vectora_core.pipeline.newsletter import BedrockEditor, run_newsletter
from vectora_core.pipeline.normalize import BedrockNormalizer, run_normalize_score
from vectora_core.pipeline.sources import HttpFetcher, SourceError
from vectora_ops.config.publish import repo_files, validate_files
from vectora_ops.promotion.configcopy import in_scope

TEAM_CATALOG = Path(__file__).parent / "team_catalog"
TODAY = date(2026, 11, 24)
# Every name the team's lai_weekly v7 refers to, by kind (issue 28's list, plus this catalog's own).
TEAM_NAMES = {
    "scope": [
        "lai_companies_global", "lai_molecules_global", "lai_trademarks_global", "lai_companies_mvp_core",
        "lai_companies_hybrid",
    ],
    "bouquet": ["lai_corporate_mvp", "lai_press_mvp"],
    "prompt": ["lai_normalization", "lai_matching", "lai_editorial"],
}  # fmt: skip


def team_root(tmp: Path) -> Path:
    """A repository-shaped folder: the project's canonical/ and the team's, side by side, and the
    team's lai_weekly."""
    shutil.copytree(REPO_ROOT / "canonical", tmp / "canonical")
    shutil.copytree(TEAM_CATALOG / "canonical", tmp / "canonical", dirs_exist_ok=True)
    shutil.copytree(TEAM_CATALOG / "clients", tmp / "clients")
    return tmp


def texts(root: Path) -> list[CanonicalText]:
    canonical = root / "canonical"
    return [
        CanonicalText(p.relative_to(canonical).as_posix(), f"canonical/{p.relative_to(canonical).as_posix()}",
                      p.read_text("utf-8"))
        for p in sorted(canonical.rglob("*.yaml"))
    ]  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return team_root(tmp_path / "repo")


def problems_with(root: Path, path: str, text: str) -> list[str]:
    target = root / "canonical" / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return build_index(texts(root))[1]


def test_every_reference_of_the_team_lai_weekly_resolves_by_name_wherever_it_lives(root: Path) -> None:
    index, problems = build_index(texts(root))
    assert problems == []
    for kind, names in TEAM_NAMES.items():
        for name in names:
            assert (kind, name) in index.origins, (kind, name)
    assert index.origins[("scope", "lai_companies_mvp_core")] == (
        "canonical/scopes/company_scopes.yaml: lai_companies_mvp_core"
    )
    assert index.origins[("prompt", "lai_normalization")] == (
        "canonical/prompts/normalization/generic_normalization.yaml (metadata.prompt_id)"
    )
    # the project's own layout is in the same index
    assert index.origins[("scope", "lai_companies")] == "canonical/scopes/lai_companies.yaml (scope_id)"
    assert [e.name for e in index.scopes["lai_companies_mvp_core"].entries] == [
        "MedinCell", "Camurus", "DelSiTech", "Nanexa", "Peptron",
    ]  # fmt: skip
    assert index.scopes["lai_trademarks_global"].kind == "trademarks"
    assert index.scopes["lai_exclusions_noise"].kind == "keywords"
    text = (root / "clients" / "lai_weekly.yaml").read_text("utf-8")
    checked = validate_client_text(text, index, expected_id="lai_weekly")
    assert checked.problems == [] and checked.config is not None


def test_the_bundle_has_the_html_bouquet_with_and_without_extractors_and_skips_disabled_sources(root, caplog):
    caplog.set_level("INFO", logger="vectora_core")
    bundle = load_client_bundle(DirStore(root), "lai_weekly")
    by_id = {s.id: s for s in bundle.sources}
    assert list(by_id) == [
        "press_corporate__delsitech", "press_corporate__nanexa", "press_corporate__peptron",
        "press_corporate__medincell", "press_corporate__camurus", "press_sector__endpoints",
    ]  # fmt: skip
    assert by_id["press_corporate__delsitech"].extractor.date_format == "%d.%m.%Y"
    assert by_id["press_corporate__nanexa"].ssl_verify is False
    assert by_id["press_corporate__delsitech"].ssl_verify is True
    assert by_id["press_corporate__peptron"].extractor is None  # the generic parser
    assert by_id["press_corporate__peptron"].date_patterns == [r"Posted on (?P<date>\d{4}\.\d{2}\.\d{2})"]
    assert by_id["press_corporate__medincell"].type == "rss"
    assert (
        "sources skipped (enabled: false in their catalog): press_corporate__medincell_legacy" in caplog.text
    )
    prompt = bundle.normalization_prompt
    assert prompt.system.startswith("[team prompt lai_normalization]") and prompt.max_tokens == 900
    assert prompt.version == "2.1.0" and "{known_entities}" in prompt.user_template


def test_the_catalogs_pubmed_source_works_as_the_projects(root: Path) -> None:
    index, _ = build_index(texts(root))
    (source,) = index.catalogs["lai_science_mvp"].sources
    (project,) = [s for s in index.catalogs["lai_sources"].sources if s.id == "pubmed_lai"]
    assert source.type == "pubmed" and source.query == project.query
    assert source.eutils_base_url == project.eutils_base_url


def test_a_name_defined_twice_is_refused_naming_both_places(root: Path) -> None:
    scope = (
        "scope_id: lai_companies_mvp_core\nkind: companies\ndescription: x\nentries: [{name: MedinCell}]\n"
    )
    problems = problems_with(root, "scopes/lai_companies_mvp_core.yaml", scope)
    assert problems == [
        "canonical/scopes/lai_companies_mvp_core.yaml (scope_id): scope 'lai_companies_mvp_core' is already "
        "defined by canonical/scopes/company_scopes.yaml: lai_companies_mvp_core; a name is defined once"
    ]
    (root / "canonical/scopes/lai_companies_mvp_core.yaml").unlink()
    bouquet = (root / "canonical/sources/source_catalog.yaml").read_text("utf-8")
    problems = problems_with(
        root,
        "sources/source_catalog.yaml",
        bouquet.replace("bouquet_id: lai_science_mvp", "bouquet_id: lai_sources"),
    )
    assert problems == [
        "canonical/sources/source_catalog.yaml: bouquets (lai_sources, #2): bouquet 'lai_sources' is already "
        "defined by canonical/sources/lai_sources.yaml (catalog_id); a name is defined once"
    ]


CATALOG, EXTRACTORS = "sources/source_catalog.yaml", "sources/html_extractors.yaml"
NORMALIZATION = "prompts/normalization/generic_normalization.yaml"


@pytest.mark.parametrize(
    ("path", "old", "new", "expected"),
    [
        (CATALOG, "      - press_corporate__peptron\n", "      - press_corporate__petpron\n",
         f"canonical/{CATALOG}: bouquets[0] (lai_corporate_mvp).source_keys: not sources of "
         "this catalog: press_corporate__petpron"),
        (CATALOG, "ingestion_mode: api\n    enabled: false", "ingestion_mode: api\n    enabled: true",
         f"canonical/{CATALOG}: sources[7] (press_sector__newsapi).ingestion_mode: 'api' cannot "
         "be fetched by this pipeline (html, rss, pubmed); set enabled: false to keep it listed"),
        (CATALOG, "    html_url: https://www.nanexa.com/en/press-releases/\n", "",
         f"canonical/{CATALOG}: sources[1] (press_corporate__nanexa): an html source needs url"),
        (EXTRACTORS, 'title: "td.title a"', 'titel: "td.title a"',
         f"canonical/{EXTRACTORS}: extractors.press_corporate__nanexa.selectors.titel: "
         "Extra inputs are not permitted"),
        (EXTRACTORS, "  press_corporate__nanexa:\n", "  press_corporate__nanexxa:\n",
         f"canonical/{EXTRACTORS}: extractors.press_corporate__nanexxa: no source "
         "'press_corporate__nanexxa' in a source catalog (sources[].source_key)"),
        ("scopes/company_scopes.yaml", "lai_companies_hybrid:\n", "lai_companies_hybrid: 3\nunused:\n",
         "canonical/scopes/company_scopes.yaml: lai_companies_hybrid: a scope list is a list of "
         "non-empty strings"),
        (NORMALIZATION, "Title: {title}", "Title: {item_title}",
         f"canonical/{NORMALIZATION}: <document>: user_template: unknown placeholder(s) {{item_title}}; "
         "allowed: {known_entities}, {published_at}, {source_name}, {text}, {title}, {url}"),
        (NORMALIZATION, "in {language};", "in {lang};",
         f"canonical/{NORMALIZATION}: <document>: system_instructions: unknown placeholder(s) {{lang}}; "
         "allowed: {event_types}, {language}"),
        (NORMALIZATION, "  prompt_id: lai_normalization\n", "",
         f"canonical/{NORMALIZATION}: metadata.prompt_id: Field required"),
    ],
)  # fmt: skip
def test_validation_names_the_file_and_key_of_each_problem(root, path, old, new, expected) -> None:
    text = (root / "canonical" / path).read_text("utf-8")
    assert old in text
    found = problems_with(root, path, text.replace(old, new, 1))
    assert found[0] == expected
    # and the bouquet of an invalid source is left out, not run without it
    assert found[1:] in ([], [f"canonical/{CATALOG}: bouquets[0] (lai_corporate_mvp).source_keys: left out, "
                              "invalid source(s): press_corporate__nanexa"])  # fmt: skip


def test_a_scope_file_of_an_unknown_kind_and_a_prompt_of_no_purpose_are_refused(root: Path) -> None:
    assert problems_with(root, "scopes/brand_scopes.yaml", "x: [a]\n")[0].startswith(
        "canonical/scopes/brand_scopes.yaml: <document>: brand_scopes.yaml is neither a scope file"
    )
    (root / "canonical/scopes/brand_scopes.yaml").unlink()
    prompt = "metadata: {prompt_id: lai_other, version: 1}\nsystem_instructions: s\nuser_template: u\n"
    assert problems_with(root, "prompts/misc/other.yaml", prompt) == [
        "canonical/prompts/misc/other.yaml: metadata.purpose: required outside the folders normalization, "
        "editorial, matching, domain_scoring (one of normalization, editorial, matching, domain_scoring)"
    ]


def test_the_pipeline_refuses_a_broken_catalog_naming_the_key(root: Path) -> None:
    path = root / "canonical/sources/source_catalog.yaml"
    path.write_text(
        path.read_text("utf-8").replace("bouquet_id: lai_press_mvp", "bouquet_id: Lai Press"), "utf-8"
    )
    with pytest.raises(
        ConfigError,
        match=r"canonical/sources/source_catalog.yaml: bouquets\[1\]\.bouquet_id: String should match",
    ):
        load_client_bundle(DirStore(root), "lai_weekly")


def test_a_bouquet_with_an_invalid_source_or_extractor_is_left_out_and_its_reference_fails(
    root: Path,
) -> None:
    extractors = root / "canonical/sources/html_extractors.yaml"
    extractors.write_text(
        extractors.read_text("utf-8").replace('date_format: "%B %d, %Y"', "date_format: 3"), "utf-8"
    )
    with pytest.raises(ConfigError) as refused:
        load_client_bundle(DirStore(root), "lai_weekly")
    assert refused.value.problems[0].startswith(
        "source_config.source_bouquets_enabled[0]: no bouquet lai_corporate_mvp "
    )
    assert refused.value.problems[1:] == [
        f"canonical/{EXTRACTORS}: extractors.press_corporate__nanexa.date_format: Input should be a "
        "valid string",
        f"canonical/{CATALOG}: bouquets[0] (lai_corporate_mvp).source_keys: left out, invalid source(s): "
        "press_corporate__nanexa",
    ]


def test_a_problem_in_a_file_the_config_does_not_need_is_logged_not_fatal(root: Path, caplog) -> None:
    caplog.set_level("WARNING", logger="vectora_core")
    # what a test or a hand put in a bucket, past publish (which refuses it)
    (root / "canonical/scopes/stray.yaml").write_text("scope: original\n", "utf-8")
    prompts = root / "canonical/prompts/editorial/copy_of_normalization.yaml"
    shutil.copy(root / "canonical/prompts/normalization/generic_normalization.yaml", prompts)
    bundle = load_client_bundle(DirStore(root), "lai_weekly")
    assert bundle.config.client_id == "lai_weekly"
    (line,) = [r.getMessage() for r in caplog.records if "canonical files with problems" in r.getMessage()]
    assert "canonical/scopes/stray.yaml: <document>: stray.yaml is neither a scope file" in line
    # an editorial prompt by its folder, with the normalization's placeholders: invalid, so it
    # defines nothing (not a second lai_normalization), and the config does not need it
    assert "canonical/prompts/editorial/copy_of_normalization.yaml: <document>: system_instructions: " in line


def test_a_name_the_config_uses_defined_twice_fails_the_run_naming_both_places(root: Path) -> None:
    prompts = root / "canonical/prompts/normalization/copy.yaml"
    shutil.copy(root / "canonical/prompts/normalization/generic_normalization.yaml", prompts)
    with pytest.raises(ConfigError) as refused:
        load_client_bundle(DirStore(root), "lai_weekly")
    assert refused.value.problems == [
        "canonical/prompts/normalization/generic_normalization.yaml (metadata.prompt_id): prompt "
        "'lai_normalization' is already defined by canonical/prompts/normalization/copy.yaml "
        "(metadata.prompt_id); a name is defined once"
    ]


def test_publish_carries_every_team_file_byte_for_byte_and_validates_them(root: Path) -> None:
    files = repo_files(root)
    by_key = {f.key: f for f in files}
    for path in sorted((TEAM_CATALOG / "canonical").rglob("*.yaml")):
        key = f"canonical/{path.relative_to(TEAM_CATALOG / 'canonical').as_posix()}"
        assert by_key[key].body == path.read_bytes(), key  # comments, accents and all
    assert "canonical/prompts/normalization/generic_normalization.yaml" in by_key
    assert "canonical/ingestion/ingestion_profiles.yaml" in by_key
    checked = validate_files(files)
    assert checked.problems == []
    assert [c.client_id for _, c in checked.configs] == ["lai_weekly"]


def test_promotion_copies_and_validates_the_team_files_as_publish_does(root: Path) -> None:
    files = repo_files(root)
    canonical = [f.key for f in files if f.key.startswith("canonical/")]
    assert "canonical/prompts/normalization/generic_normalization.yaml" in canonical
    assert all(in_scope(key, client) for key in canonical for client in (None, "lai_weekly"))
    checked = validate_files(files, runtime=("2.0.0", "prod once promoted (stage's artifact)"))
    assert checked.problems == [] and [c.client_id for _, c in checked.configs] == ["lai_weekly"]


class RecordedInternet(HttpFetcher):
    """The local internet's recordings, in-process: each URL's recorded body, its dates rendered."""

    def __init__(self) -> None:
        super().__init__(attempts=1)
        self.recordings, _ = load_recordings([REPO_ROOT / "local_aws" / "recordings"])
        self.asked: list[tuple[str, bool]] = []

    def get(self, url: str, params: dict[str, str] | None = None, *, verify: bool = True) -> bytes:  # noqa: ARG002
        self.asked.append((url, verify))
        recording = find(self.recordings, url)
        if recording is None:
            raise SourceError(f"no recording for {url}")
        return render(recording.body.decode("utf-8"), TODAY).encode("utf-8")


def test_the_team_lai_weekly_runs_into_a_newsletter_with_the_html_sources_items(root, aws_backend) -> None:
    bundle = load_client_bundle(DirStore(root), "lai_weekly")
    s3 = aws_backend.client("s3")
    buckets = {n: f"team-{n}-{uuid.uuid4().hex[:8]}" for n in ("data", "newsletters")}
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    internet = RecordedInternet()
    ingested = run_ingest(
        bundle, s3=s3, data_bucket=buckets["data"], fetcher=internet, run_date=TODAY, pubmed_api_key=None,
    )  # fmt: skip
    assert ingested["sources_failed"] == []
    assert ("https://www.nanexa.com/en/press-releases/", False) in internet.asked
    assert all(verify for url, verify in internet.asked if "nanexa" not in url)
    bedrock = FakeBedrock(normalization_answer)
    normalizer = BedrockNormalizer(bundle, BedrockJson(bedrock.client, MODEL_ID))
    run_normalize_score(bundle, s3=s3, data_bucket=buckets["data"], normalizer=normalizer, run_date=TODAY)
    # the team's prompt, as written, is what Bedrock received
    system = bedrock.requests[0]["system"][0]["text"]
    assert system.startswith("[team prompt lai_normalization]") and "{event_types}" not in system
    editor_bedrock = FakeBedrock(editorial_answer)
    letter = run_newsletter(
        bundle, s3=s3, data_bucket=buckets["data"], newsletters_bucket=buckets["newsletters"],
        editor=BedrockEditor(BedrockJson(editor_bedrock.client, MODEL_ID)), run_date=TODAY,
    )  # fmt: skip
    assert editor_bedrock.requests[0]["system"][0]["text"].startswith("[team prompt lai_editorial]")
    key = f"lai_weekly/{TODAY.isoformat()}/newsletter.md"
    markdown = s3.get_object(Bucket=buckets["newsletters"], Key=key)["Body"].read().decode()
    for title in (
        "DelSiTech signs license agreement for its silica matrix long-acting injectable platform",
        "Nanexa and Novo Nordisk expand NanoZolid collaboration on long-acting semaglutide",
        "Peptron completes enrollment in Phase 2 trial of SmartDepot once-monthly long-acting injectable",
    ):
        assert title in markdown
    assert "annual report" not in markdown and "interim report" not in markdown  # outside the week
    assert sum(letter["sections"].values()) >= 3
