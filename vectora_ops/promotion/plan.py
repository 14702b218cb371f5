"""The plan: what a promotion would change in the target, side by side with the source.

A data structure (rendered as tables by ``render``): per function and layer, source sha vs target
sha; per client config, the YAML's ``client_profile.version`` in each; canonical files added,
changed or removed; per stack, a template diff summary (the source assembly's template for the
target's stack vs the target's deployed template). Its sha256 covers all of it: approving a
promotion approves that plan, and the record stores it. Just before deploying, the plan is computed
again: if the source part moved (a deploy into the source, a config published there), the
promotion refuses.

``compare()`` builds the same side-by-side rows for any two environments (the drift report).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from vectora_core.naming import CANONICAL_PREFIX, client_of
from vectora_ops.operation.state import ConfigObject, EnvState
from vectora_ops.template_diff import StackDiff

SAME: Final = "same"
ABSENT: Final = "-"
CODE_SECTIONS: Final = ("functions", "layers")  # EnvState.code()'s, named "function x", "layer y"


@dataclass(frozen=True)
class Row:
    kind: str  # function, layer, client config, canonical, stack
    name: str
    source: str
    target: str
    change: str  # same, update, add, remove, or a stack diff summary


def short(sha: str | None) -> str:
    return sha[:12] if sha else ABSENT


def _change(source: str | None, target: str | None) -> str:
    if source == target:
        return SAME
    if target is None:
        return "add"
    if source is None:
        return "remove"
    return "update"


def code_rows(source: EnvState, target: EnvState) -> list[Row]:
    mine, theirs = source.code(), target.code()
    return [
        Row(section[:-1], name, short(sha), short(other), _change(sha, other))
        for section in CODE_SECTIONS
        for name, sha in mine[section].items()
        for other in [theirs[section].get(name)]
    ]


def _config_label(obj: ConfigObject | None) -> str:
    if obj is None:
        return ABSENT
    version = f"v {obj.version_id[:8]}" if obj.version_id else "unversioned"
    return f"{obj.semver} ({obj.sha256[:8]}, {version})" if obj.semver else f"{obj.sha256[:8]} ({version})"


def config_rows(source: dict[str, ConfigObject], target: dict[str, ConfigObject]) -> list[Row]:
    rows = []
    for key in sorted(set(source) | set(target)):
        mine, theirs = source.get(key), target.get(key)
        kind = "canonical" if key.startswith(CANONICAL_PREFIX) else "client config"
        name = client_of(key) or key.removeprefix(CANONICAL_PREFIX)
        change = _change(mine.sha256 if mine else None, theirs.sha256 if theirs else None)
        rows.append(Row(kind, name, _config_label(mine), _config_label(theirs), change))
    return rows


def compare(a: EnvState, b: EnvState) -> list[Row]:
    """Code, layers, client configs and canonical files of ``a`` beside ``b``'s."""
    return code_rows(a, b) + config_rows(a.configs, b.configs)


def digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Plan:
    source_env: str
    target_env: str
    client: str | None
    commit: str | None
    assembly_sha256: str | None
    rows: list[Row]
    stacks: dict[str, StackDiff]
    source_part: dict[str, Any]
    target_part: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the parameters the deploy passes

    @property
    def sha256(self) -> str:
        return digest(self.as_dict(with_sha=False))

    def changes(self) -> list[Row]:
        return [r for r in self.rows if r.change != SAME]

    def as_dict(self, *, with_sha: bool = True) -> dict[str, Any]:
        data = {
            "source": self.source_env,
            "target": self.target_env,
            "client": self.client,
            "commit": self.commit,
            "assembly_sha256": self.assembly_sha256,
            "rows": [asdict(r) for r in self.rows],
            "stacks": {name: d.as_dict() for name, d in sorted(self.stacks.items())},
            "source_part": self.source_part,
            "target_part": self.target_part,
            "extra": self.extra,
        }
        if with_sha:
            data["sha256"] = self.sha256
        return data


def state_part(state: EnvState, *, with_stacks: bool) -> dict[str, Any]:
    part: dict[str, Any] = {
        **state.code(),
        "configs": {
            k: {"version_id": v.version_id, "sha256": v.sha256} for k, v in sorted(state.configs.items())
        },
    }
    if with_stacks:
        part["stacks"] = {k: (digest(v) if v is not None else None) for k, v in state.templates().items()}
    return part


def source_part(state: EnvState, commit: str | None, assembly_sha256: str | None) -> dict[str, Any]:
    """What the approval of a plan pins in the source: the artifact, the shas, the config versions."""
    return {"commit": commit, "assembly_sha256": assembly_sha256, **state_part(state, with_stacks=False)}


def build_plan(
    *,
    source: EnvState,
    target: EnvState,
    client: str | None,
    commit: str | None,
    assembly_sha256: str | None,
    stacks: dict[str, StackDiff],
) -> Plan:
    # A stack the deploy leaves as it is reads "same", as an unchanged function does.
    rows = compare(source, target) + [
        Row(
            "stack", name, "assembly", ABSENT if d.new_stack else "deployed", SAME if d.empty else d.summary()
        )
        for name, d in sorted(stacks.items())
    ]
    return Plan(
        source_env=source.env,
        target_env=target.env,
        client=client,
        commit=commit,
        assembly_sha256=assembly_sha256,
        rows=rows,
        stacks=stacks,
        source_part=source_part(source, commit, assembly_sha256),
        target_part=state_part(target, with_stacks=True),
    )


def differing(old: dict[str, Any], new: dict[str, Any], label: str) -> list[str]:
    """``<label> <key>`` for every key whose value differs between ``old`` and ``new``, in key order."""
    return [f"{label} {k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def code_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The functions and layers (``EnvState.code()``'s sections) whose shas differ: ``function ingest-v2``."""
    return [d for s in CODE_SECTIONS for d in differing(old.get(s, {}), new.get(s, {}), s[:-1])]


def moved(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between two source parts, named (``function ingest-v2``, ``clients/x.yaml``)."""
    found = [f.replace("_", " ") for f in ("commit", "assembly_sha256") if before.get(f) != after.get(f)]
    # Configs by content: a re-upload of the same bytes is a new version, not a change (and the copy
    # takes the versions the plan pinned anyway).
    old, new = ({k: v.get("sha256") for k, v in part.get("configs", {}).items()} for part in (before, after))
    return found + code_differences(before, after) + differing(old, new, "config")
