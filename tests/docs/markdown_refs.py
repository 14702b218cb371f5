"""What the project's Markdown files point at, and whether it is there.

Two kinds of reference are checked, in every Markdown file of the repository:

- links ``[text](path)``, ``[text](path#anchor)``, images and reference definitions: the path,
  read relative to the file, must stay inside the repository and exist; an anchor must be a
  heading of the target (GitHub's slugs); web links (``http``, ``https``, ``mailto``) are left
  alone (no network in the tests), any other scheme and any absolute path are refused;
- repository paths written in backticks (inline code, and shell blocks - fenced ``bash``, ``sh``,
  ``shell`` or ``console``: commands run from the repository root -, word by word): a word
  is taken for a path when its first segment is a top-level folder of the repository and it
  holds a ``/`` (``scripts/maintenance/create_snapshot.py``, ``stacks/``), or when it starts
  with ``vectora_core/`` (the runtime package, imported under that name and written
  package-relative: ``layers/vectora_core/python/vectora_core/...``). Such a path is read from
  the repository root, so one starting with ``../`` always leaves it.

Anything else in backticks is not a repository path: S3 keys (``curated/<client>/...``), log
group and parameter names (``/aws/lambda/...``), paths inside a snapshot folder, generated
folders (``.venv/``, ``cdk.out/``: not in the repository's file list), bare file names; nor is
any word of another fenced block (``text``, ``json``, ``python``...): those show data, such as the
inside of a snapshot folder, whose ``stacks/`` is not the repository's.

The repository is its files as git lists them (tracked, plus untracked ones not ignored), so a
new Markdown file is checked before it is committed and generated output never counts as there.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]

# The runtime package's modules are written as the package imports them.
PACKAGE_ALIASES: Final = {"vectora_core/": "layers/vectora_core/python/vectora_core/"}

# Files a document describes that are generated at run time and never committed. Each entry says
# who writes it; a test checks that each is still mentioned and still absent, so the list cannot rot.
GENERATED: Final = {
    "canonical/sources/demo_fixture_sources.yaml": "written by the e2e tests (fixture_feeds.py) "
    "into the config bucket (with the port of their fixture feed server), not into the checkout",
    "clients/lai_weekly_demo.yaml": "fixture_feeds.py's default test client, generated and "
    "published like the fixture catalog",
}

# What a self-contained document must never mention: the design notes and rules that live
# outside the repository. Each pattern with the line shown to whoever writes it.
BANNED: Final = {
    re.compile(r"ARCHITECTURE\.md", re.IGNORECASE): (
        "the architecture notes are not in the repository: write what is needed in docs/"
    ),
    re.compile(r"STYLE\.md", re.IGNORECASE): "the style notes are not in the repository",
    re.compile(r"\.\./shared|\bshared/(?:spec|ARCHITECTURE)", re.IGNORECASE): (
        "the shared folder is not in the repository"
    ),
    re.compile(r"environments-rules", re.IGNORECASE): "the rules file is not in the repository",
    # "the spec's variables", "as in the spec": a reader cannot open it. A function's spec
    # (vectora_core.functions.FunctionSpec) is written "its spec", "a function spec".
    re.compile(r"\bthe spec(?:ification)?\b(?!\s+of\s+(?:a|each|every|one|the|its)\b)", re.IGNORECASE): (
        "'the spec' is not in the repository: say it here, in the project's own words"
    ),
}

WEB_SCHEMES: Final = ("http", "https", "mailto")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([\w+-]*)")
SHELL_BLOCKS: Final = frozenset({"bash", "sh", "shell", "console"})
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); the text may hold code spans, not brackets.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'(][^)]*)?\)")
_REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_LINE_ANCHOR = re.compile(r"^L\d+(?:-L\d+)?$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# Punctuation around a path in prose or a command line: `(see stacks/)`, `[--client ID]`, `a,b`.
_STRIP = "()[]{}<>'\",;:!?`"
_SUFFIXES = (re.compile(r"::.*$"), re.compile(r":\d+(?:-\d+)?$"))  # pytest node ids, file:line


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Repository:
    """The files of a checkout (posix paths relative to ``root``) and the folders that hold them."""

    root: Path
    files: frozenset[str]

    @classmethod
    def from_git(cls, root: Path = REPO_ROOT) -> Repository:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        # --cached still lists a tracked file deleted from the working tree: it is not there.
        return cls(root, frozenset(p for p in listed.split("\0") if p and (root / p).is_file()))

    @classmethod
    def from_tree(cls, root: Path) -> Repository:
        """Every file under ``root`` (for checks on a folder that is not a git checkout)."""
        return cls(root, frozenset(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()))

    @property
    def folders(self) -> frozenset[str]:
        return frozenset(
            str(parent) for f in self.files for parent in PurePosixPath(f).parents if str(parent) != "."
        )

    @property
    def top_level(self) -> frozenset[str]:
        """First segments of every path: the top-level folders and files."""
        return frozenset(f.split("/", 1)[0] for f in self.files)

    def markdown_files(self) -> list[str]:
        return sorted(f for f in self.files if f.endswith(".md"))

    def exists(self, rel: str, *, folder: bool = False) -> bool:
        rel = rel.rstrip("/")
        return rel in self.folders or (not folder and rel in self.files)


# --- reading a Markdown file --------------------------------------------------------------------


def prose_and_code(text: str) -> Iterator[tuple[int, str, str | None]]:
    """(line number, line, the info string of the fenced block it is in, None outside one) for
    every line but the fences themselves; an untagged block's info string is ""."""
    fence: str | None = None
    info = ""
    for number, line in enumerate(text.splitlines(), start=1):
        opened = _FENCE.match(line)
        if opened and fence is None:
            fence, info = opened.group(1)[0] * 3, opened.group(2).lower()
            continue
        if opened and opened.group(1).startswith(fence or "") and not opened.group(2):
            fence = None
            continue
        yield number, line, info if fence is not None else None


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text (code spans and links reduced to their text, tags
    dropped), lower-cased, every character but letters, digits, ``_``, ``-`` and spaces dropped,
    spaces made hyphens. Emphasis markers (``*``) go with the punctuation."""
    text = _CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(text: str) -> frozenset[str]:
    """Every heading anchor of a Markdown text; a repeated heading gets ``-1``, ``-2``..."""
    seen: dict[str, int] = {}
    found = set()
    for _, line, block in prose_and_code(text):
        heading = _HEADING.match(line)
        if block is not None or not heading:
            continue
        base = slug(heading.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def links(text: str) -> Iterator[tuple[int, str]]:
    """(line, target) of every link, image and reference definition outside code."""
    for number, line, block in prose_and_code(text):
        if block is not None:
            continue
        prose = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)  # `[a](b)` is not a link
        definition = _REFERENCE_DEFINITION.match(prose)
        if definition:
            yield number, definition.group(1)
        for match in _LINK.finditer(prose):
            yield number, match.group(1)


def code_words(text: str) -> Iterator[tuple[int, str]]:
    """(line, word) of every word inside backticks: inline code spans and shell blocks."""
    for number, line, block in prose_and_code(text):
        if block is None:
            spans = [m.group(2) for m in _CODE_SPAN.finditer(line)]
        else:
            spans = [line.split("#", 1)[0]] if block in SHELL_BLOCKS else []  # comments are prose
        for span in spans:
            for word in span.split():
                yield number, word


# --- judging one reference ----------------------------------------------------------------------


def path_pattern(path: str) -> list[re.Pattern[str]]:
    """Regular expressions over repository paths for a path that may hold placeholders.

    ``<client_id>`` and ``{env}`` stand for one path segment (or part of one); ``{a,b}`` is every
    one of its alternatives (each must exist); ``*``, ``?`` and ``[...]`` are globs; ``...`` or
    ``…`` stands for anything. One pattern per alternative.
    """
    alternatives = re.split(r"(\{[^{}/]*,[^{}/]*\})", path)
    choices = [part[1:-1].split(",") if part.startswith("{") else [part] for part in alternatives]
    patterns = []
    for combination in itertools.product(*choices):
        expanded = "".join(combination)
        regex = ""
        for part in re.split(r"(<[^<>/]+>|\{[^{}/]+\}|\.\.\.|…|\*\*|\*|\?|\[[^\]/]+\])", expanded):
            if not part:
                continue
            if part[0] in "<{":
                regex += r"[^/]+"
            elif part in ("...", "…", "**"):
                regex += r".*"
            elif part == "*":
                regex += r"[^/]*"
            elif part == "?":
                regex += r"[^/]"
            elif part.startswith("[") and len(part) > 2:
                regex += part.replace("[!", "[^")
            else:
                regex += re.escape(part)
        patterns.append(re.compile(regex))
    return patterns


def _placeholder(path: str) -> bool:
    return bool(re.search(r"[<{*?\[]|\.\.\.|…", path))


def exists(repo: Repository, path: str) -> bool:
    """Whether ``path`` (repository-relative, placeholders allowed) names a file or folder."""
    folder = path.endswith("/")
    target = path.rstrip("/")
    if not _placeholder(target):
        return repo.exists(target, folder=folder)
    candidates = repo.folders if folder else repo.folders | repo.files
    return all(any(p.fullmatch(c) for c in candidates) for p in path_pattern(target))


def repository_path(repo: Repository, word: str) -> str | None:
    """The repository path a backticked word names, or None when it is not one (module doc)."""
    if "://" in word:
        return None
    word = word.strip(_STRIP).rstrip(".")
    for suffix in _SUFFIXES:
        word = suffix.sub("", word)
    for alias, real in PACKAGE_ALIASES.items():
        if word.startswith(alias):
            return real + word[len(alias) :]
    if word.startswith("../"):
        return word
    first, slash, _ = word.partition("/")
    return word if slash and first in repo.top_level else None


def check_link(repo: Repository, source: str, target: str, texts: dict[str, str]) -> str | None:
    """What is wrong with one link target of ``source``, or None."""
    scheme = _SCHEME.match(target)
    if scheme:
        return None if scheme.group(1).lower() in WEB_SCHEMES else f"link {target!r}: not a web link"
    path, _, anchor = urllib.parse.unquote(target).partition("#")
    if path.startswith("/"):
        return f"link {target!r} is absolute: write it relative to {source}"
    if path:
        resolved = os.path.normpath(PurePosixPath(source).parent / path).replace(os.sep, "/")
        if resolved == ".." or resolved.startswith("../"):
            return f"link {target!r} points outside the repository"
        if not repo.exists(resolved):
            return f"link {target!r}: {resolved} does not exist"
    else:
        resolved = source
    if not anchor:
        return None
    if not resolved.endswith(".md"):
        return None if _LINE_ANCHOR.match(anchor) else f"link {target!r}: #{anchor} on a non-Markdown file"
    if resolved not in texts:
        return f"link {target!r}: {resolved} is a Markdown file outside the checked set"
    if anchor not in anchors(texts[resolved]):
        return f"link {target!r}: {resolved} has no heading #{anchor}"
    return None


def check_file(repo: Repository, rel: str, texts: dict[str, str]) -> list[Problem]:
    """Every broken link, missing path, path leaving the repository or banned mention of ``rel``."""
    text = texts[rel]
    problems = [
        Problem(rel, number, message)
        for number, target in links(text)
        if (message := check_link(repo, rel, target, texts))
    ]
    for number, word in code_words(text):
        path = repository_path(repo, word)
        if path is None or path in GENERATED:
            continue
        if path.startswith("../"):
            problems.append(Problem(rel, number, f"path `{word}` points outside the repository"))
        elif not exists(repo, path):
            problems.append(Problem(rel, number, f"path `{word}`: {path} does not exist"))
    machine_paths = {str(repo.root), str(REPO_ROOT)}
    for number, line in enumerate(text.splitlines(), start=1):
        problems += [Problem(rel, number, why) for pattern, why in BANNED.items() if pattern.search(line)]
        problems += [
            Problem(rel, number, f"machine path {p}: the repository may be checked out anywhere")
            for p in machine_paths
            if p in line
        ]
    return problems


def check_repository(repo: Repository, files: Iterable[str] | None = None) -> list[Problem]:
    """The problems of ``files`` (default: every Markdown file of ``repo``), in file order."""
    texts = {rel: (repo.root / rel).read_text(encoding="utf-8") for rel in repo.markdown_files()}
    return [
        p for rel in (files if files is not None else sorted(texts)) for p in check_file(repo, rel, texts)
    ]
