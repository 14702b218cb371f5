"""``python -m local_aws recordings``: what the local internet serves, one line per recording."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from local_aws.internet import folders, store


def print_recordings(state_dir: Path, out: TextIO) -> int:
    """Print each recording (status, content type, faults, file, URL); 1 if a file is unreadable."""
    recordings, errors = store.load(folders(state_dir))
    for recording in sorted(recordings, key=lambda r: r.url):
        notes = []
        if recording.delay_s:
            notes.append(f"delay {recording.delay_s:g} s")
        if recording.fail_first:
            notes.append("fail-first " + ",".join(map(str, recording.fail_first)))
        shown = f" [{'; '.join(notes)}]" if notes else ""
        out.write(f"{recording.status} {recording.content_type.split(';')[0]:22} {recording.url}{shown}\n")
        out.write(f"    {_where(recording.path)}\n")
    out.write(f"{len(recordings)} recording(s); any other URL answers as an unreachable host\n")
    for error in errors:
        out.write(f"unreadable: {error}\n")
    return 1 if errors else 0


def _where(path: Path) -> str:
    try:
        return path.relative_to(store.REPO_RECORDINGS.parent.parent).as_posix()
    except ValueError:
        return str(path)
