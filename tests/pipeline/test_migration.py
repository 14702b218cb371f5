"""migrate_config.py: old-style identities (version in the id, no version, changelog without versions
or none) and this project's previous format, into the current format with nothing else lost."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from tests.pipeline.conftest import REPO_ROOT
from vectora_core.config.loading import DirStore, load_client_bundle
from vectora_core.config.validation import validate_client_text
from vectora_ops.config.cli import canonical_index
from vectora_ops.config.migration import MigrationError, migrate_text

CONFIGS = Path(__file__).parent / "configs"
OLD_STYLE = (CONFIGS / "lai_weekly_v7.yaml").read_text("utf-8")
PROJECT_FORMAT = (CONFIGS / "lai_weekly_project_format.yaml").read_text("utf-8")
DAY = date(2026, 1, 30)
ENTRY = (
    '    - version: "7.0.0"\n'
    "      date: 2026-01-30\n"
    '      changes: "Migrated from client_id lai_weekly_v7: stable id lai_weekly, '
    'version 7.0.0 in client_profile"\n'
)


@pytest.fixture(scope="module")
def index():
    return canonical_index(REPO_ROOT)[0]


def test_old_style_identity_is_migrated_and_every_other_byte_kept(index) -> None:
    # given the team's format with the version in the id, no version, no changelog, French comments
    migrated = migrate_text(OLD_STYLE, today=DAY, canonical=index)
    # then exactly these lines change; every other line (comments, quotes, spacing) is untouched
    expected = OLD_STYLE.replace(
        '  client_id: "lai_weekly_v7"            # la version est dans l\'identifiant\n',
        '  client_id: "lai_weekly"               # la version est dans l\'identifiant\n  version: "7.0.0"\n',
    ).replace(
        "metadata:\n  template_version",
        f'metadata:\n  config_version: "7.0.0"\n  changelog:\n{ENTRY}  template_version',
    )
    assert migrated.text == expected
    assert (migrated.old_id, migrated.client_id, migrated.version) == ("lai_weekly_v7", "lai_weekly", "7.0.0")
    result = validate_client_text(migrated.text, index, expected_id="lai_weekly")
    assert result.problems == []
    assert "metadata.template_version" in result.warnings[0]  # kept, and said so


def test_a_changelog_without_versions_keeps_its_entries_under_the_new_one(index) -> None:
    old = OLD_STYLE.replace(
        '  template_version: "7.0.0"\n',
        "  changelog:   # historique\n"
        "    - date: 2026-01-15\n"
        "      changes: Sections par type d'événement\n"
        "    - date: 2025-12-01\n"
        "      version: v6\n"
        "      changes: Première version\n",
    )
    migrated = migrate_text(old, today=DAY, canonical=index)
    expected = old
    for before, after in (
        (
            '  client_id: "lai_weekly_v7"            # la version est dans l\'identifiant\n',
            '  client_id: "lai_weekly"               # la version est dans l\'identifiant\n'
            '  version: "7.0.0"\n',
        ),
        ("  changelog:   # historique\n", f'  config_version: "7.0.0"\n  changelog:   # historique\n{ENTRY}'),
        ("      version: v6\n", "      version: 6.0.0\n"),  # made semantic, in its own (plain) style
    ):
        expected = expected.replace(before, after)
    assert migrated.text == expected
    assert validate_client_text(migrated.text, index, expected_id="lai_weekly").problems == []


@pytest.mark.parametrize(
    ("old_id", "version"), [("x_v7_1", "7.1.0"), ("x_v8", "8.0.0"), ("x_v2.3.4", "2.3.4")]
)
def test_suffix_forms(old_id: str, version: str) -> None:
    migrated = migrate_text(f"client_profile:\n  client_id: {old_id}\n", today=DAY)
    document = yaml.safe_load(migrated.text)
    assert (migrated.client_id, document["client_profile"]["version"]) == ("x", version)
    assert document["metadata"]["config_version"] == version
    assert document["metadata"]["changelog"][0]["version"] == version


def test_an_explicit_version_wins_and_missing_or_conflicting_versions_are_refused() -> None:
    assert migrate_text("client_profile:\n  client_id: x_v7\n", today=DAY, version="7.2.0").version == "7.2.0"
    with pytest.raises(MigrationError) as missing:
        migrate_text("client_profile:\n  client_id: x\n", today=DAY)
    assert missing.value.problems == [
        "client_profile.version: 'x' has no version suffix and the file no semantic version; "
        "pass --version X.Y.Z"
    ]
    with pytest.raises(MigrationError) as conflict:
        migrate_text("client_profile:\n  client_id: x_v7\nmetadata:\n  config_version: 6.0.0\n", today=DAY)
    assert conflict.value.problems == [
        "client_profile.version: the file gives several versions (metadata.config_version: 6.0.0, "
        "the id's suffix '_v7': 7.0.0); pass --version"
    ]
    with pytest.raises(MigrationError, match=r"^client_profile.client_id: required field is missing"):
        migrate_text("client_profile:\n  name: x\n", today=DAY)
    with pytest.raises(MigrationError, match=r"^client_profile: must be a mapping of keys, got str"):
        migrate_text("client_profile: lai\n", today=DAY)


def test_the_oldest_layout_with_the_id_at_the_top_level_is_migrated_by_the_round_trip() -> None:
    old = "# vieux format\nclient_id: lai_weekly_v6   # id\nname: LAI Weekly\nsources: {}\n"
    with pytest.raises(MigrationError, match=r"sources.catalog: required field is missing"):
        migrate_text(old, today=DAY)
    migrated = migrate_text(old.replace("sources: {}\n", "extra: kept\n"), today=DAY)
    assert migrated.text.startswith("# vieux format\nclient_profile:\n")
    document = yaml.safe_load(migrated.text)
    assert document["client_profile"] == {"name": "LAI Weekly", "client_id": "lai_weekly", "version": "6.0.0"}
    assert document["extra"] == "kept"


def test_the_previous_project_format_keeps_its_meaning(index) -> None:
    # given clients/lai_weekly.yaml as it was in this project's previous format
    migrated = migrate_text(PROJECT_FORMAT, today=DAY, canonical=index)
    assert migrated.notes == ("sections of the previous project format mapped to the current format",)
    assert migrated.text.startswith(PROJECT_FORMAT.split("client_profile:")[0])  # its comments stay
    result = validate_client_text(migrated.text, index, expected_id="lai_weekly")
    assert (result.problems, result.warnings) == ([], [])
    # then it means what the hand-written clients/lai_weekly.yaml means
    new, old = result.config, load_client_bundle(DirStore(REPO_ROOT), "lai_weekly").config
    assert new is not None
    assert (
        new.source_config.source_bouquets_enabled
        == old.source_config.source_bouquets_enabled
        == ["lai_sources"]
    )
    assert sorted(new.scope_names()) == sorted(old.scope_names())
    assert new.scoring_config.event_type_weight_overrides == {
        "regulatory": 3.0,
        "partnership": 2.5,
        "corporate_move": 2.5,  # acquisition 2.5, product_launch 1.5, corporate 0.5: the highest
        "clinical_update": 2.0,
        "financial_results": 1.5,
        "scientific_publication": 1.0,
        "other": 0.0,
    }
    assert new.newsletter_selection.min_score_threshold == old.newsletter_selection.min_score_threshold == 5.0
    shape = [(s.id, s.title, s.max_items) for s in new.newsletter_layout.ordered()]
    assert shape == [(s.id, s.title, s.max_items) for s in old.newsletter_layout.ordered()]
    assert new.newsletter_layout.sections[1].filter_event_types == [
        "partnership",
        "corporate_move",
        "financial_results",
    ]
    assert new.bedrock_config == old.bedrock_config
    assert new.pipeline.default_period_days == old.pipeline.default_period_days == 7
    assert (new.pipeline.max_items_per_source, new.pipeline.bedrock_concurrency) == (50, 8)
    assert (new.newsletter_delivery.include_intro, new.newsletter_delivery.include_tldr) == (True, False)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("{scope: lai_technologies, weight: 1.2}", "{scope: lai_technologies, weight: 2.0}"),
            "scoring.scopes[1].weight: 2.0 differs from canonical/scopes/lai_technologies.yaml's "
            "match_weight 1.2",
        ),
        (
            ("{scope: lai_molecules, weight: 1.0}", "{scope: lai_peptides, weight: 1.0}"),
            "scoring.scopes[2].scope: no canonical/scopes/lai_peptides.yaml",
        ),
        (("  title: LAI Weekly\n", "  title: LAI Hebdo\n"), "newsletter.title: 'LAI Hebdo' differs from"),
        (
            ("  max_points_per_scope: 10.0", "  max_points_per_scope: 8"),
            "scoring.max_points_per_scope: 8 differs",
        ),
        (
            ("    corporate: 0.5\n", "    gossip: 0.5\n"),
            "scoring.event_type_weights.gossip: not an event type",
        ),
        (("  threshold: 5.0\n", ""), "scoring.threshold: required field is missing"),
    ],
)
def test_what_the_previous_format_cannot_carry_over_is_refused_naming_the_field(
    index, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in PROJECT_FORMAT
    with pytest.raises(MigrationError) as raised:
        migrate_text(PROJECT_FORMAT.replace(old, new), today=DAY, canonical=index)
    assert any(p.startswith(expected) for p in raised.value.problems), raised.value.problems


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/config/migrate_config.py", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_script_writes_a_valid_config_and_never_overwrites(tmp_path: Path) -> None:
    old = tmp_path / "lai_weekly_v7.yaml"
    old.write_text(OLD_STYLE, encoding="utf-8")
    output = tmp_path / "lai_weekly.yaml"
    result = run(str(old), "--date", "2026-01-30", "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {output} (lai_weekly 7.0.0)\n"
    assert (
        output.read_text("utf-8")
        == migrate_text(OLD_STYLE, today=DAY, canonical=canonical_index(REPO_ROOT)[0]).text
    )
    check = subprocess.run(
        [sys.executable, "scripts/config/validate_config.py", str(output)], cwd=REPO_ROOT, capture_output=True
    )
    assert check.returncode == 0, check.stderr
    again = run(str(old), "--output", str(output))
    assert (again.returncode, again.stderr) == (1, f"error: {output} exists; pass --force to overwrite it\n")


def test_dry_run_prints_the_unified_diff_and_writes_nothing(tmp_path: Path) -> None:
    old = tmp_path / "lai_weekly_v7.yaml"
    old.write_text(OLD_STYLE, encoding="utf-8")
    output = tmp_path / "out.yaml"
    result = run(str(old), "--date", "2026-01-30", "--output", str(output), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert not output.exists()
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"--- {old}", f"+++ {output}"]
    changed = [line for line in lines[2:] if line[:1] in "+-"]
    assert changed == [
        '-  client_id: "lai_weekly_v7"            # la version est dans l\'identifiant',
        '+  client_id: "lai_weekly"               # la version est dans l\'identifiant',
        '+  version: "7.0.0"',
        '+  config_version: "7.0.0"',
        "+  changelog:",
        *("+" + line for line in ENTRY.splitlines()),
    ]


def test_script_refuses_and_writes_nothing_when_the_result_is_invalid(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    head = OLD_STYLE.split("# DOMAINES DE VEILLE")[0]  # no watch_domains and nothing after them
    old.write_text(head + "metadata:\n  created_date: 2026-01-29\n", encoding="utf-8")
    output = tmp_path / "new.yaml"
    result = run(str(old), "--output", str(output))
    assert result.returncode == 1
    assert (
        f"{old}: migrated lai_weekly: watch_domains: required field is missing" in result.stderr.splitlines()
    )
    assert result.stderr.splitlines()[-1].startswith(
        "error: nothing written; complete the old file and retry: "
    )
    assert not output.exists()


def test_bad_command_lines_are_usage_errors() -> None:
    version = run("x.yaml", "--version", "7.0")
    assert (version.returncode, version.stderr) == (
        2,
        "migrate_config.py: error: argument --version: '7.0' is not a semantic version MAJOR.MINOR.PATCH "
        "such as 7.0.0 (see --help)\n",
    )
    day = run("x.yaml", "--date", "30/01/2026")
    assert day.returncode == 2 and "argument --date: '30/01/2026' is not a date YYYY-MM-DD" in day.stderr
