"""The cloud assembly: synthesized once per commit, zipped deterministically, stored, reused.

``cdk synth -c env=all`` writes every environment's templates of a commit (and their assets) in one
folder. Zipped with sorted entries and fixed dates, it is the artifact: its sha256 names it, it is
stored in ``vectora-inbox-lambda-code-{env}`` under ``assemblies/<commit>/<sha256>.zip``, and a
promotion deploys the source's stored assembly into the target (``cdk deploy --app <folder>``, no
synth), so the target receives exactly what the source runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

from vectora_ops.environment import STACK_COMPONENTS, Environment, if_found
from vectora_ops.errors import OperationError
from vectora_ops.operation.state import StackState
from vectora_ops.promotion.cdk import run_cdk
from vectora_ops.template_diff import StackDiff, diff_templates

ASSEMBLIES_PREFIX: Final = "assemblies/"
_ZIP_DATE: Final = (1980, 1, 1, 0, 0, 0)


class AssemblyError(OperationError):
    """The assembly could not be built, found, or it does not match its sha256."""


@dataclass(frozen=True)
class Assembly:
    directory: Path
    sha256: str
    data: bytes

    def template(self, stack_name: str) -> dict[str, Any]:
        path = self.directory / f"{stack_name}.template.json"
        if not path.is_file():
            raise AssemblyError(f"the assembly {self.sha256[:12]} holds no stack {stack_name}")
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def deploy_args(self, stacks: Sequence[str]) -> list[str]:
        """``cdk deploy`` of ``stacks`` from this folder (no synth), without a prompt."""
        return ["deploy", "--app", str(self.directory), *stacks, "--require-approval", "never"]

    def diffs(self, env: Environment, deployed: dict[str, StackState | None]) -> dict[str, StackDiff]:
        """Each stack of ``env``: this assembly's template against the deployed one (a plan's view)."""
        diffs = {}
        for component in STACK_COMPONENTS:
            stack, state = env.name(component), deployed.get(component)
            diffs[stack] = diff_templates(stack, self.template(stack), state.template if state else None)
        return diffs


def synthesize(
    root: Path, output: Path, alarm_emails: str | None, echo: Callable[[str], None] | None = None
) -> Path:
    """Every environment's stacks of the checkout at ``root`` into ``output`` (``-c env=all``)."""
    args = ["synth", "-c", "env=all", "--quiet", "--output", str(output)]
    if alarm_emails:
        args[3:3] = ["-c", f"alarm_emails={alarm_emails}"]
    run_cdk(root, args, echo=echo)
    return output


def zip_folder(folder: Path) -> bytes:
    """The folder as a zip: sorted entries, fixed dates, modes kept, so equal files give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=_ZIP_DATE)
            info.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def unpack(data: bytes, folder: Path) -> Path:
    """Extract an assembly zip (every entry must stay inside ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename)
            if name.is_absolute() or ".." in name.parts:
                raise AssemblyError(f"refusing an assembly entry outside its folder: {info.filename}")
            target = folder.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)
    return folder


def build(folder: Path) -> Assembly:
    data = zip_folder(folder)
    return Assembly(directory=folder, sha256=hashlib.sha256(data).hexdigest(), data=data)


def key_of(commit: str | None, sha256: str) -> str:
    return f"{ASSEMBLIES_PREFIX}{commit or 'unknown'}/{sha256}.zip"


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise AssemblyError(f"not an s3:// location: {uri!r}")
    return bucket, key


def store(clients: Environment, assembly: Assembly, commit: str | None) -> str:
    """Put the zip in the environment's lambda-code bucket (once per content); its ``s3://`` URI."""
    key = key_of(commit, assembly.sha256)
    if if_found(clients.s3.head_object, Bucket=clients.code_bucket, Key=key) is None:
        clients.s3.put_object(
            Bucket=clients.code_bucket, Key=key, Body=assembly.data, ContentType="application/zip"
        )
    return f"s3://{clients.code_bucket}/{key}"


def fetch(clients: Environment, location: str, sha256: str, folder: Path) -> Assembly:
    """Download a stored assembly, check its sha256, unpack it into ``folder``."""
    bucket, key = split_uri(location)
    found = if_found(clients.s3.get_object, Bucket=bucket, Key=key)
    if found is None:
        raise AssemblyError(f"the recorded assembly {location} is gone")
    data = bytes(found["Body"].read())
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise AssemblyError(
            f"the assembly at {location} has sha256 {actual[:12]}..., its record says {sha256[:12]}..."
        )
    return Assembly(directory=unpack(data, folder), sha256=sha256, data=data)
