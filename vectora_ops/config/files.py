"""Reading a config file given on a command line, whatever it turns out to be.

A path may name a directory, a device, a binary, an empty or a huge file, one that is not UTF-8
or that the user may not read: each gets one line saying so (``ConfigFileError``), never a
traceback, and nothing is parsed past the size cap.
"""

from __future__ import annotations

import stat
from pathlib import Path

from vectora_core.config.loading import MAX_CONFIG_BYTES, ConfigFileError


def read_config_bytes(path: Path) -> bytes:
    """The exact bytes of ``path``; ConfigFileError if it is not a readable file within the cap."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ConfigFileError(f"{path}: a directory, not a file; give the path of a .yaml file")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigFileError(f"{path}: not a regular file (a device, socket or pipe)")
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigFileError(
                f"{path}: {info.st_size} bytes, larger than the {MAX_CONFIG_BYTES} bytes a config file "
                "may have"
            )
        with path.open("rb") as handle:
            return handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigFileError(f"{path}: file not found") from None
    except OSError as err:  # ConfigFileError is no OSError: the refusals above pass through
        raise ConfigFileError(f"{path}: cannot be read ({err.strerror or err})") from None
