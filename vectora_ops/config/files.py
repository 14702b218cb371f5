"""Reading a config file given on a command line, whatever it turns out to be.

A path may name a directory, a device, a binary, an empty or a huge file, one that is not UTF-8
or that the user may not read: each gets one line saying so (``ConfigFileError``), never a
traceback, and nothing is parsed past the size cap.
"""

from __future__ import annotations

import stat
from pathlib import Path

from vectora_core.config.loading import MAX_CONFIG_BYTES, ConfigFileError, decode_config


def read_config_bytes(path: Path) -> bytes:
    """The exact bytes of ``path``; ConfigFileError if it is not a readable file within the cap."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigFileError(f"{path}: file not found") from None
    except OSError as err:
        raise ConfigFileError(f"{path}: cannot be read ({err.strerror or err})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigFileError(f"{path}: a directory, not a file; give the path of a .yaml file")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigFileError(f"{path}: not a regular file (a device, socket or pipe)")
    if info.st_size > MAX_CONFIG_BYTES:
        raise ConfigFileError(
            f"{path}: {info.st_size} bytes, larger than the {MAX_CONFIG_BYTES} bytes a config file may have"
        )
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise ConfigFileError(f"{path}: cannot be read ({err.strerror or err})") from None


def read_config_text(path: Path) -> str:
    """``read_config_bytes`` decoded: UTF-8, not empty, not binary (ConfigFileError otherwise)."""
    return decode_config(read_config_bytes(path), str(path))
