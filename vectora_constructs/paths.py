"""Where the runtime code lives, relative to this file (constructs never depend on the cwd)."""

from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
LAMBDAS_DIR: Final = REPO_ROOT / "lambdas"
LAYERS_DIR: Final = REPO_ROOT / "layers"
BUILD_DIR: Final = REPO_ROOT / ".build"

# Byte-for-byte reproducible assets: never package caches that running the tests leaves behind.
ASSET_EXCLUDES: Final = [
    "**/__pycache__",
    "**/*.pyc",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/*.egg-info",  # left by the editable install of vectora_core
]
