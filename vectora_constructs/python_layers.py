"""Python Lambda layers built on this machine, without Docker.

- ``source_layer``: a folder already in the layer layout (``python/<package>``), e.g. vectora_core.
- ``requirements_layer``: third-party libraries installed by local pip for the Lambda platform
  (manylinux wheels of the runtime's Python), cached under ``.build/`` by a key over the
  requirements file, runtime and platform, so a second synth reinstalls nothing and the asset hash
  (that same key) is identical on every synth of the same commit.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from aws_cdk import AssetHashType, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from vectora_constructs.paths import ASSET_EXCLUDES, BUILD_DIR

# The Lambda platform the wheels are chosen for (x86_64 is the functions' architecture).
LAMBDA_PLATFORM = "manylinux2014_x86_64"
_LAYER_BUILD_FORMAT = "1"  # bump to invalidate every cached build when the recipe below changes
LAYER_ZIP = "layer.zip"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same files always give the same bytes


class LayerBuildError(RuntimeError):
    """pip could not build a requirements layer."""


def requirements_build_key(requirements: Path, runtime: lambda_.Runtime) -> str:
    digest = hashlib.sha256()
    for part in (_LAYER_BUILD_FORMAT, runtime.name, LAMBDA_PLATFORM, requirements.read_text()):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def write_layer_zip(folder: Path) -> Path:
    """``folder/layer.zip`` holding ``folder/python``: sorted entries, fixed dates, kept modes.

    The asset is this one file rather than ~700 files: staging it into cdk.out and uploading it
    is a single copy (the CLI would otherwise zip the folder again on every deploy).
    """
    target = folder / LAYER_ZIP
    if target.is_file():
        return target
    scratch = folder / f".{LAYER_ZIP}.tmp"
    with zipfile.ZipFile(scratch, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((folder / "python").rglob("*")):
            if not path.is_file():
                continue
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=_ZIP_EPOCH)
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    scratch.rename(target)
    return target


def build_requirements_layer(requirements: Path, runtime: lambda_.Runtime) -> tuple[Path, str]:
    """Install ``requirements`` into ``.build/layers/<key>/python`` once; return (folder, key)."""
    key = requirements_build_key(requirements, runtime)
    target = BUILD_DIR / "layers" / key
    if (target / "python").is_dir():
        write_layer_zip(target)
        return target, key
    python_version = runtime.name.removeprefix("python")  # "python3.13" -> "3.13"
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    # Build beside the cache and rename at the end: an interrupted build never looks complete.
    scratch = Path(tempfile.mkdtemp(dir=BUILD_DIR, prefix="layer-"))
    try:
        command = [
            sys.executable, "-m", "pip", "install",
            "--quiet", "--disable-pip-version-check", "--no-compile",
            "--target", str(scratch / "python"),
            "--platform", LAMBDA_PLATFORM,
            "--implementation", "cp",
            "--python-version", python_version,
            "--only-binary=:all:",
            "--requirement", str(requirements),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603  # fixed argv, no shell
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise LayerBuildError(f"pip could not build the layer from {requirements}: {last}")
        write_layer_zip(scratch)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():  # a concurrent synth may have finished the same build first
            scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target, key


def source_layer(
    scope: Construct, id_: str, *, layer_name: str, folder: Path, runtime: lambda_.Runtime, description: str
) -> lambda_.LayerVersion:
    return lambda_.LayerVersion(
        scope,
        id_,
        layer_version_name=layer_name,
        code=lambda_.Code.from_asset(str(folder), exclude=ASSET_EXCLUDES),
        compatible_runtimes=[runtime],
        description=description,
        # Old versions stay: snapshots and rollbacks point functions back at them.
        removal_policy=RemovalPolicy.RETAIN,
    )


def requirements_layer(
    scope: Construct,
    id_: str,
    *,
    layer_name: str,
    requirements: Path,
    runtime: lambda_.Runtime,
    description: str,
) -> lambda_.LayerVersion:
    folder, key = build_requirements_layer(requirements, runtime)
    return lambda_.LayerVersion(
        scope,
        id_,
        layer_version_name=layer_name,
        code=lambda_.Code.from_asset(
            str(folder / LAYER_ZIP), asset_hash=key, asset_hash_type=AssetHashType.CUSTOM
        ),
        compatible_runtimes=[runtime],
        description=description,
        removal_policy=RemovalPolicy.RETAIN,
    )
