"""The local internet belongs to the local AWS, never to the deployed stacks: no synthesized template
of any environment gives a function a proxy, a CA bundle or the proxy's loopback address."""

from __future__ import annotations

import json
from typing import Any

from local_aws import internet
from local_aws.internet.proxy import Internet


def test_no_template_carries_a_proxy_variable_or_a_ca_bundle(assembly: Any) -> None:
    forbidden = {name.upper() for name in internet.VARIABLES} | {Internet.host}
    assert {"HTTPS_PROXY", "REQUESTS_CA_BUNDLE"} <= forbidden
    assert assembly.templates, "the synth produced no template"
    for name, template in assembly.templates.items():
        text = json.dumps(template).upper()
        assert not [word for word in forbidden if word in text], name
