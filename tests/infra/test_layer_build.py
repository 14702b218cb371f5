"""The common-deps layer is built by local pip once per requirements content, and reused."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from aws_cdk import aws_lambda as lambda_

from vectora_constructs import python_layers
from vectora_constructs.python_layers import LayerBuildError, build_requirements_layer, requirements_build_key

RUNTIME = lambda_.Runtime.PYTHON_3_13


@pytest.fixture
def build_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(python_layers, "BUILD_DIR", tmp_path / ".build")
    return tmp_path / ".build"


def test_key_depends_on_requirements_and_runtime_only(tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("six==1.16.0\n")
    key = requirements_build_key(reqs, RUNTIME)
    assert key == requirements_build_key(reqs, RUNTIME)
    assert key != requirements_build_key(reqs, lambda_.Runtime.PYTHON_3_12)
    reqs.write_text("six==1.17.0\n")
    assert key != requirements_build_key(reqs, RUNTIME)


def test_builds_once_then_reuses_the_cache(
    tmp_path: Path, build_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("six==1.16.0\n")
    # first build: real pip, real wheel for the Lambda platform
    folder, key = build_requirements_layer(reqs, RUNTIME)
    assert folder == build_dir / "layers" / key
    assert (folder / "python" / "six.py").is_file()
    assert not list(folder.rglob("*.pyc"))  # --no-compile: byte-identical assets
    assert [p.name for p in build_dir.iterdir()] == ["layers"]  # no scratch folder left behind

    # second build: pip must not run at all
    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip ran although the build was cached")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert build_requirements_layer(reqs, RUNTIME) == (folder, key)


def test_a_failed_build_names_the_requirements_and_leaves_no_cache(tmp_path: Path, build_dir: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("this-package-does-not-exist-vectora==0.0.1\n")
    with pytest.raises(LayerBuildError, match="pip could not build the layer from .*requirements.txt"):
        build_requirements_layer(reqs, RUNTIME)
    assert not (build_dir / "layers").exists()


def test_the_layer_asset_is_one_reproducible_zip(tmp_path: Path, build_dir: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("six==1.16.0\n")
    folder, _ = build_requirements_layer(reqs, RUNTIME)
    archive = folder / python_layers.LAYER_ZIP
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        assert "python/six.py" in names and names == sorted(names)
        assert {info.date_time for info in opened.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    first = archive.read_bytes()
    # rebuilt from the same files (e.g. on another machine): the very same bytes
    archive.unlink()
    assert python_layers.write_layer_zip(folder).read_bytes() == first
