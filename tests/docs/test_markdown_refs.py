"""Every Markdown file of the repository points only at what is there, and stands alone.

The checker (``tests/docs/markdown_refs.py``) runs on the checkout, then on small temporary trees
that prove it fails on each kind of breakage: a test of a checker that always passes would not
protect the documents.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.docs.markdown_refs import (
    BANNED,
    GENERATED,
    REPO_ROOT,
    Repository,
    anchors,
    check_repository,
    slug,
)

# Built so that this file does not hold the very strings it forbids.
_OUTSIDE_MENTIONS = re.compile("ARCHITECTURE" + r"\.md|\.\./" + "shared", re.IGNORECASE)


@pytest.fixture(scope="module")
def repo() -> Repository:
    return Repository.from_git()


def test_every_markdown_link_and_path_of_the_repository_exists(repo: Repository) -> None:
    problems = check_repository(repo)
    assert not problems, "\n".join(map(str, problems))


def test_the_checked_set_holds_the_docs_and_every_readme(repo: Repository) -> None:
    files = set(repo.markdown_files())
    assert {"README.md", "docs/README.md", "local_aws/README.md"} <= files
    assert files >= {f"docs/{p.name}" for p in (REPO_ROOT / "docs").glob("*.md")}


def test_no_python_or_markdown_file_mentions_what_is_outside_the_repository(repo: Repository) -> None:
    offenders = []
    for rel in sorted(f for f in repo.files if f.endswith((".py", ".md"))):
        for number, line in enumerate((repo.root / rel).read_text(encoding="utf-8").splitlines(), 1):
            if _OUTSIDE_MENTIONS.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_generated_paths_are_still_mentioned_and_still_not_in_the_repository(repo: Repository) -> None:
    texts = "\n".join((repo.root / f).read_text(encoding="utf-8") for f in repo.markdown_files())
    for path in GENERATED:
        assert path not in repo.files, f"{path} is in the repository now: drop it from GENERATED"
        assert path in texts, f"{path} is no longer mentioned: drop it from GENERATED"


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Retention, cleanup and archive", "retention-cleanup-and-archive"),
        ("S0-core: buckets (`stacks/core_stack.py`)", "s0-core-buckets-stackscore_stackpy"),
        ("📸 Snapshots et rollback", "-snapshots-et-rollback"),
        ("✅ Checklist Q Developer - environnements", "-checklist-q-developer---environnements"),
        ("Règles d'exécution scripts", "règles-dexécution-scripts"),
    ],
)
def test_slugs_follow_github(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_repeated_headings_get_numbered_anchors_and_code_blocks_hold_none() -> None:
    text = "# A\n## Notes\n```bash\n# not a heading\n```\n## Notes\n"
    assert anchors(text) == {"a", "notes", "notes-1"}


# --- the checker on temporary trees: each breakage is reported, and only it -----------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Repository:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return Repository.from_tree(tmp_path)


_GOOD = {
    "README.md": "# Top\nSee [the docs](docs/guide.md#how-it-works) and `scripts/run.py --env dev`.\n",
    "docs/guide.md": "# Guide\n## How it works\nBack to [the top](../README.md#top), [here](#guide).\n"
    "```bash\n.venv/bin/python scripts/run.py --env dev   # see stacks/\n```\n"
    "```text\nstacks/not-a-repository-path.json\n```\n",
    "scripts/run.py": "",
    "stacks/core.py": "",
}


def test_a_sound_tree_has_no_problem(tmp_path: Path) -> None:
    assert check_repository(_tree(tmp_path, _GOOD)) == []


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        ("README.md", "[x](docs/missing.md)\n", "docs/missing.md does not exist"),
        ("README.md", "[x](docs/guide.md#nowhere)\n", "has no heading #nowhere"),
        ("docs/guide.md", "[x](#how-it-work)\n", "has no heading #how-it-work"),
        ("docs/guide.md", "[x](../../outside.md)\n", "points outside the repository"),
        ("README.md", "[x](/docs/guide.md)\n", "is absolute"),
        ("README.md", "[x]: docs/gone.md\n", "docs/gone.md does not exist"),
        ("README.md", "run `scripts/gone.py`\n", "scripts/gone.py does not exist"),
        ("README.md", "```bash\npython scripts/gone.py --env dev\n```\n", "scripts/gone.py does not exist"),
        ("README.md", "`stacks/{core,iam}.py`\n", "stacks/{core,iam}.py does not exist"),
        ("README.md", "see `../other/notes.md`\n", "points outside the repository"),
        ("README.md", "the notes in ../" + "shared/x\n", "the shared folder is not in the repository"),
        ("README.md", "see ARCHITECTURE" + ".md\n", "the architecture notes are not"),
        ("README.md", "as in the spec.\n", "'the spec' is not in the repository"),
    ],
)
def test_each_breakage_is_reported_with_its_file_and_line(
    tmp_path: Path, file: str, text: str, expected: str
) -> None:
    files = dict(_GOOD)
    files[file] = files[file] + "\n" + text
    # The line of the appended text that holds the mistake (after an opening fence, if any).
    line = files[file].count("\n", 0, len(files[file]) - len(text)) + 1 + text.startswith("```")
    problems = check_repository(_tree(tmp_path, files))
    assert [(p.file, p.line) for p in problems] == [(file, line)], problems
    assert expected in problems[0].message


def test_a_deleted_target_breaks_every_link_to_it(tmp_path: Path) -> None:
    repo = _tree(tmp_path, _GOOD)
    (tmp_path / "docs/guide.md").unlink()
    problems = check_repository(Repository.from_tree(tmp_path))
    assert [str(p) for p in problems] == [
        "README.md:2: link 'docs/guide.md#how-it-works': docs/guide.md does not exist"
    ], problems
    assert repo.exists("docs/guide.md")  # the first listing had it: the break is the deletion


def test_git_listing_ignores_generated_output_and_sees_new_files(tmp_path: Path) -> None:
    files = dict(_GOOD, **{".gitignore": "cdk.out/\n", "cdk.out/x.md": "[x](nowhere.md)\n"})
    _tree(tmp_path, files)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    repo = Repository.from_git(tmp_path)
    assert "cdk.out/x.md" not in repo.files and "docs/guide.md" in repo.files
    assert check_repository(repo) == []


def test_the_banned_mentions_allow_a_function_spec() -> None:
    allowed = "the spec of each function lives in `vectora_core/functions.py`; its spec, a function spec"
    assert not [p for p in BANNED if p.search(allowed)]
