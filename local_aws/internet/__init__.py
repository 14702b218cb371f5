"""The local internet: while the local AWS runs, the functions' HTTP(S) requests are answered from
recorded responses (``local_aws/recordings/``), never from the network.

The server process starts a forward proxy (``proxy``) on 127.0.0.1 and a certificate authority
(``ca``) in ``<state dir>/internet/``; the Lambda runner gives every function the standard proxy
variables and the CA bundle (``function_env``). The functions keep their code path: ``requests``
honours ``HTTPS_PROXY`` and ``REQUESTS_CA_BUNDLE``. Nothing of it is in the deployed templates.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from local_aws.internet.ca import CertificateAuthority
from local_aws.internet.proxy import Internet
from local_aws.internet.store import REPO_RECORDINGS

STATE_FILE = "internet.json"
# Where the emulator's own recordings go (not in the repository): tests and fault rehearsals.
LOCAL_RECORDINGS = "recordings"
# The emulator itself and anything else on this machine are reached directly, not through the proxy.
NO_PROXY = "localhost,127.0.0.1"

# What a function's environment gets (function_env): the standard variables requests, urllib3 and
# the standard library read, in both cases the tools accept. Never in a deployed template.
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
VARIABLES = PROXY_VARIABLES + NO_PROXY_VARIABLES + CA_VARIABLES

_running: Internet | None = None


def folders(state_dir: Path) -> list[Path]:
    """Recording folders, the overriding one last."""
    return [REPO_RECORDINGS, state_dir / LOCAL_RECORDINGS]


def start(state_dir: Path) -> Internet:
    """Start the proxy of the server process (once) and record its port in ``internet.json``."""
    global _running
    if _running is None:
        ca = CertificateAuthority(state_dir / "internet")
        (state_dir / LOCAL_RECORDINGS).mkdir(parents=True, exist_ok=True)
        _running = Internet(folders(state_dir), ca).start()
        (state_dir / STATE_FILE).write_text(
            json.dumps({"proxy": _running.url, "ca_bundle": str(ca.cert_path)}) + "\n"
        )
        logging.getLogger("local_aws").info(
            "local internet: proxy on %s, recordings in %s",
            _running.url,
            ", ".join(map(str, _running.folders)),
        )
    return _running


def function_env() -> dict[str, str]:
    """What a function's environment gets so that its requests reach the local internet (nothing
    when it is not started: the function then sees the machine's network, as before)."""
    if _running is None:
        return {}
    proxy, bundle = _running.url, str(_running.ca.cert_path)
    return {
        **dict.fromkeys(PROXY_VARIABLES, proxy),
        **dict.fromkeys(NO_PROXY_VARIABLES, NO_PROXY),
        **dict.fromkeys(CA_VARIABLES, bundle),
    }


def state(state_dir: Path) -> dict[str, str] | None:
    """``{"proxy", "ca_bundle"}`` of the emulator running from ``state_dir``, as it recorded them."""
    try:
        recorded = json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return recorded if isinstance(recorded, dict) else None
