"""What this project's stacks declare for one environment, read from a synthesized cloud assembly
(the one the deploy then uses, so the plan compares the account with what will be deployed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vectora_core.naming import StackComponent, resource_name
from vectora_ops.promotion import assembly as assemblies
from vectora_ops.takeover.inventory import NAME_PROPERTIES


@dataclass(frozen=True)
class Declared:
    """One named resource of a stack's template."""

    stack: str
    logical_id: str
    type: str
    name: str
    deletion_policy: str | None


@dataclass(frozen=True)
class DeclaredStacks:
    env: str
    assembly: assemblies.Assembly
    templates: dict[str, dict[str, Any]]  # stack name -> template, in deployment order

    @property
    def stack_names(self) -> tuple[str, ...]:
        return tuple(self.templates)

    def resources(self) -> list[Declared]:
        """Every resource whose template gives it a literal physical name."""
        found = []
        for stack, template in self.templates.items():
            for logical_id, resource in template.get("Resources", {}).items():
                prop = NAME_PROPERTIES.get(resource.get("Type", ""))
                name = (resource.get("Properties") or {}).get(prop) if prop else None
                if isinstance(name, str):
                    found.append(
                        Declared(stack, logical_id, resource["Type"], name, resource.get("DeletionPolicy"))
                    )
        return found


def load(env: str, folder: Path) -> DeclaredStacks:
    """The environment's templates from an assembly folder (``cdk synth`` output)."""
    built = assemblies.build(folder)
    templates = {resource_name(c, env): built.template(resource_name(c, env)) for c in StackComponent}
    return DeclaredStacks(env, built, templates)


def synthesize(env: str, root: Path, work: Path, alarm_emails: str | None) -> DeclaredStacks:
    """A fresh ``cdk synth -c env=all`` of the checkout (the promotion's own synth and zip)."""
    return load(env, assemblies.synthesize(root, work / "assembly", alarm_emails))
