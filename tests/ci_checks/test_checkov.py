"""checkov over the session's synthesized templates (every environment): no failed check, and every
skip carries its reason beside its resource (``vectora_constructs.nag.skip_checkov``).

checkov runs from its own venv (``.venv-checkov``, ``make install``; requirements-checkov.txt says
why) with the project's settings (``.checkov.yaml``).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from tests.support.assembly import CloudAssembly
from tests.support.cdk_cli import REPO_ROOT

CHECKOV_VENV = REPO_ROOT / ".venv-checkov"
CHECKOV = CHECKOV_VENV / "bin" / "checkov"
Report = dict[str, Any]


def run_checkov(files: Iterable[Path]) -> Report:
    """checkov's JSON report over ``files`` (failed, passed and skipped checks)."""
    if not CHECKOV.exists():
        pytest.fail(f"no checkov at {CHECKOV.relative_to(REPO_ROOT)}: run make install")
    args = [arg for path in files for arg in ("-f", str(path))]
    result = subprocess.run(
        [str(CHECKOV), "--config-file", ".checkov.yaml", "-o", "json", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # 0: no failed check, 1: some; anything else is checkov itself failing.
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert isinstance(report, dict), "one framework, one report"
    return report


def failed_checks(report: Report) -> list[str]:
    return sorted(
        f"{c['check_id']} on {c['resource']} ({Path(c['file_path']).name}): {c['check_name']}"
        for c in report["results"].get("failed_checks", [])
    )


def skip_problems(templates: Mapping[str, Mapping[str, Any]], report: Report) -> list[str]:
    """Each skip written in a template without a reason, or for a check that does not apply there
    (a stale skip hides nothing and misleads); each skip checkov applied without a reason."""
    applied = {
        (Path(c["file_path"]).name, c["resource"], c["check_id"])
        for c in report["results"].get("skipped_checks", [])
    }
    problems = []
    for file_name, template in templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
            for skip in skips:
                where = f"{file_name} {logical_id}: {skip.get('id')}"
                if not str(skip.get("comment", "")).strip():
                    problems.append(f"{where} is skipped without a reason")
                if (file_name, f"{resource['Type']}.{logical_id}", skip.get("id")) not in applied:
                    problems.append(f"{where} is skipped but checkov does not report it there (stale skip)")
    problems += [
        f"{Path(c['file_path']).name} {c['resource']}: {c['check_id']} skipped without a reason"
        for c in report["results"].get("skipped_checks", [])
        if not c["check_result"].get("suppress_comment", "").strip()
        or c["check_result"]["suppress_comment"] == "No comment provided"  # checkov's stand-in
    ]
    return sorted(problems)


@pytest.fixture(scope="module")
def assembly_report(assembly: CloudAssembly) -> Report:
    return run_checkov(assembly.template_files())


def _templates_by_file(assembly: CloudAssembly) -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in assembly.template_files()}


def test_checkov_finds_no_failed_check_in_any_template(
    assembly: CloudAssembly, assembly_report: Report
) -> None:
    summary = assembly_report["summary"]
    # The scan saw the nine templates' resources (an empty scan would "pass" too).
    assert len(assembly.template_files()) == 9
    assert summary["resource_count"] >= 100 and summary["passed"] > 0, summary
    assert summary["parsing_errors"] == 0, summary
    assert failed_checks(assembly_report) == []


def test_every_skip_has_its_reason_beside_the_resource(
    assembly: CloudAssembly, assembly_report: Report
) -> None:
    assert assembly_report["summary"]["skipped"] > 0  # the skips below are the ones checkov applied
    assert skip_problems(_templates_by_file(assembly), assembly_report) == []


def test_an_unskipped_finding_a_skip_without_reason_and_a_stale_skip_are_caught(tmp_path: Path) -> None:
    # given log groups without a KMS key (CKV_AWS_158): one not skipped, one skipped without a
    # reason, one skipped with its reason plus a skip of a bucket check (stale on a log group)
    def log_group(skips: list[dict[str, str]] | None = None) -> dict[str, Any]:
        resource: dict[str, Any] = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}}
        if skips is not None:
            resource["Metadata"] = {"checkov": {"skip": skips}}
        return resource

    template = {
        "Resources": {
            "Plain": log_group(),
            "NoReason": log_group([{"id": "CKV_AWS_158", "comment": " "}]),
            "Reasoned": log_group(
                [{"id": "CKV_AWS_158", "comment": "a real reason"}, {"id": "CKV_AWS_21", "comment": "why"}]
            ),
        }
    }
    path = tmp_path / "fixture.template.json"
    path.write_text(json.dumps(template))
    # when checkov runs with the project's settings
    report = run_checkov([path])
    # then each problem is reported, and only those
    assert [f.split("): ")[0] + ")" for f in failed_checks(report)] == [
        "CKV_AWS_158 on AWS::Logs::LogGroup.Plain (fixture.template.json)"
    ]
    assert skip_problems({path.name: template}, report) == [
        "fixture.template.json AWS::Logs::LogGroup.NoReason: CKV_AWS_158 skipped without a reason",
        "fixture.template.json NoReason: CKV_AWS_158 is skipped without a reason",
        "fixture.template.json Reasoned: CKV_AWS_21 is skipped but checkov does not report it there "
        "(stale skip)",
    ]


def test_the_checkov_venv_holds_exactly_the_pinned_versions() -> None:
    # The lock is the venv's whole resolved set: a rebuild gives the same checkov and libraries.
    pinned = {}
    for line in (REPO_ROOT / "requirements-checkov.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            pinned[requirement.name.lower().replace("_", "-")] = specifier.version
    assert pinned["checkov"] == "3.3.30"
    freeze = subprocess.run(
        [str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "list", "--format=json", "--exclude-editable"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    installed = {
        p["name"].lower().replace("_", "-"): p["version"]
        for p in json.loads(freeze.stdout)
        if p["name"] not in ("pip", "setuptools", "wheel")
    }
    assert installed == pinned
