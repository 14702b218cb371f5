"""Checklist fixtures: the session's synth (never a second one per test) and broken copies of it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.assembly import CloudAssembly
from vectora_ops.checklist.context import Context, Templates, load_templates

Edit = Callable[[dict[str, dict[str, Any]], dict[str, Any]], None]  # (templates by stack, manifest)


def copy_assembly(source: CloudAssembly, target: Path, edit: Edit | None = None) -> Path:
    """The manifest and the templates of ``source`` in ``target`` (what the checklist reads), edited."""
    target.mkdir(parents=True, exist_ok=True)
    manifest = json.loads(json.dumps(source.manifest))
    templates = json.loads(json.dumps(source.templates))
    if edit:
        edit(templates, manifest)
    (target / "manifest.json").write_text(json.dumps(manifest))
    for name, template in templates.items():
        (target / manifest["artifacts"][name]["properties"]["templateFile"]).write_text(json.dumps(template))
    return target


@pytest.fixture
def broken(assembly: CloudAssembly, tmp_path: Path) -> Callable[[str, Edit], Context]:
    """``broken(env, edit)``: a context (nothing deployed) on an edited copy of the session synth."""

    def make(env: str, edit: Edit) -> Context:
        folder = copy_assembly(assembly, tmp_path / "assembly", edit)
        return Context(env, load_templates(folder, env), None, "not reachable (test)")

    return make


@pytest.fixture
def intact(assembly: CloudAssembly) -> Callable[[str], Context]:
    return lambda env: Context(env, load_templates(assembly.directory, env), None, "not reachable (test)")


def no_templates(env: str, root: Path) -> Context:
    return Context(env, Templates("", {}, {}), None, "not reachable (test)", root=root)


def resources(templates: dict[str, dict[str, Any]], type_: str, env: str) -> list[dict[str, Any]]:
    """The resources of ``type_`` in ``env``'s stacks (the session synth holds every environment)."""
    return [
        r
        for name, t in templates.items()
        if name.endswith(f"-{env}")
        for r in t["Resources"].values()
        if r["Type"] == type_
    ]


def copy_checkout_configs(target: Path) -> Path:
    repo = Path(__file__).resolve().parents[2]
    for folder in ("clients", "canonical"):
        shutil.copytree(repo / folder, target / folder)
    return target
