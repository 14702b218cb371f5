"""A cloud assembly as the CDK CLI writes it (``cdk.out``), read one way for every command.

The checklist, the preflight's bootstrap check, ``diff_summary.py`` and ``synth_summary.py`` read
its ``manifest.json`` and stack templates through here, so an odd folder gets one answer: a one-line
error naming the folder and what is wrong with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from vectora_ops.errors import OperationError, one_line

STACK_ARTIFACT: Final = "aws:cloudformation:stack"


@dataclass(frozen=True)
class StackArtifact:
    """One stack of the assembly: its manifest entry, and its template read on demand."""

    name: str
    artifact: dict[str, Any]
    folder: Path

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.artifact.get("properties") or {})

    @property
    def region(self) -> str:
        return str(self.artifact.get("environment", "")).rsplit("/", 1)[-1]  # aws://<account>/<region>

    @property
    def dependencies(self) -> list[str]:
        """The stacks this one depends on (its asset manifests left out)."""
        return [d for d in self.artifact.get("dependencies", []) if not d.endswith(".assets")]

    def template(self) -> dict[str, Any]:
        path = self.folder / str(self.properties.get("templateFile", ""))
        try:
            template = json.loads(path.read_bytes())
        except (OSError, ValueError) as err:
            raise OperationError(f"{self.name}'s template in {self.folder}: {one_line(err)}") from None
        if not isinstance(template, dict):
            raise OperationError(f"{self.name}'s template in {self.folder} is not a JSON object")
        return template


def stack_artifacts(folder: Path) -> dict[str, StackArtifact]:
    """The stacks of the cloud assembly ``folder``, by name; OperationError (one line) if it is not one."""
    try:
        manifest = json.loads((folder / "manifest.json").read_bytes())
        return {
            name: StackArtifact(name, artifact, folder)
            for name, artifact in manifest["artifacts"].items()
            if artifact.get("type") == STACK_ARTIFACT
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise OperationError(
            f"{folder} is not a cloud assembly (its manifest.json: {one_line(err)})"
        ) from None
