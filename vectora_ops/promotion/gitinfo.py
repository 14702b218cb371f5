"""What the checkout is: its commit, whether its tree is clean, who the git user is.

A promotion trusts only a commit that exists and a tree that ``git status`` calls clean (tracked
changes and untracked files that are not ignored both count as dirty); no variable can say
otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vectora_ops.errors import OperationError


class GitError(OperationError):
    """git is missing, or the folder is not a git checkout."""


def _git(root: Path, *args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed: a deployment records the commit it deploys")
    result = subprocess.run(  # noqa: S603  # git, fixed arguments
        [git, "-C", str(root), *args], capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise GitError(
            f"git {' '.join(args)} failed in {root}: {result.stderr.strip() or result.stdout.strip()}"
        )
    return result.stdout.strip()


@dataclass(frozen=True)
class Checkout:
    commit: str
    clean: bool


def checkout(root: Path) -> Checkout:
    """The HEAD commit of ``root`` and whether ``git status --porcelain`` is empty."""
    commit = _git(root, "rev-parse", "HEAD")
    return Checkout(commit=commit, clean=_git(root, "status", "--porcelain") == "")


def user_name(root: Path) -> str:
    """git's ``user.name`` (empty if unset)."""
    try:
        return _git(root, "config", "user.name")
    except GitError:
        return ""
