"""Hostile file contents: what a config file given on a command line may turn out to hold."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from hypothesis import strategies as st

from tests.fuzz.harness import REPO

VALID_CONFIG: Final = (REPO / "clients" / "lai_weekly.yaml").read_bytes()
# billion laughs: nine levels of ten aliases each, 10**9 'lol's if anything expands them.
BILLION_LAUGHS: Final = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
).encode()
DEEP: Final = b"[" * 50_000 + b"]" * 50_000
DEEP_MAPPING: Final = b"".join(b"  " * i + b"k:\n" for i in range(3000))
NOT_UTF8: Final = "client_profile:\n  name: Caf\xe9\n".encode("latin-1")
PYTHON_TAG: Final = b"client_profile: !!python/object/apply:os.system ['echo pwned']\n"


def binary() -> bytes:
    ls = Path("/bin/ls")
    return ls.read_bytes()[:65536] if ls.is_file() else bytes(range(256)) * 256


# A few lines of YAML that parse, and the pieces that make YAML surprising.
_YAML_PIECES = [
    "client_profile:\n",
    "  client_id: lai_weekly\n",
    "  version: 1.0.0\n",
    "metadata: {config_version: 1.0.0}\n",
    "- a\n",
    "? complex\n: key\n",
    "&anchor x\n",
    "*anchor\n",
    "<<: *anchor\n",
    "!!binary aGVsbG8=\n",
    "!!python/name:os.system\n",
    "%YAML 1.1\n---\n",
    "---\n",
    "...\n",
    "\t\n",
    "key: 'unterminated\n",
    'key: "\\x00"\n',
    "{[\n",
    "0o777: 1e400\n",
    ": :\n",
]


def yaml_documents() -> st.SearchStrategy[bytes]:
    """Generated file contents: raw bytes, any text, YAML-looking fragments, the valid config cut
    or with bytes flipped."""

    def damaged(data: bytes, at: int, byte: int) -> bytes:
        at %= len(data)
        return data[:at] + bytes([byte]) + data[at + 1 :]

    return st.one_of(
        st.binary(max_size=512),
        st.text(max_size=256).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.lists(st.sampled_from(_YAML_PIECES), max_size=12).map(lambda ps: "".join(ps).encode()),
        st.integers(0, len(VALID_CONFIG)).map(lambda n: VALID_CONFIG[:n]),
        st.builds(damaged, st.just(VALID_CONFIG), st.integers(0, 10**6), st.integers(0, 255)),
    )
