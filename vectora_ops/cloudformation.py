"""What CloudFormation holds for a stack: its template, read one way for every operation.

The snapshot (verbatim text), the restore's comparison, the promotion's state, the takeover's
inventory and undo and ``diff_summary.py`` all read a deployed template through here, so they agree
on the stage asked for (``Original``: as submitted, before any transform), on how botocore hands the
body back (a JSON body parsed, any other as text) and on what a missing stack answers.
"""

from __future__ import annotations

import json
from typing import Any

from vectora_ops.environment import if_found


def _body(cloudformation: Any, stack: str) -> Any:
    """The template of ``stack`` as submitted, as botocore hands it back (a dict or text)."""
    return cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]


def template_text(cloudformation: Any, stack: str) -> str:
    """The template of ``stack`` as submitted, as text (JSON re-serialized when botocore parsed it)."""
    body = _body(cloudformation, stack)
    return body if isinstance(body, str) else json.dumps(body, indent=1)


def deployed_template(cloudformation: Any, stack: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
    """The template of ``stack`` as submitted, parsed (JSON or YAML); ``None`` for a stack that does
    not exist when ``missing_ok``, else CloudFormation's error."""
    body = if_found(_body, cloudformation, stack) if missing_ok else _body(cloudformation, stack)
    if body is None:
        return None
    return dict(body) if isinstance(body, dict) else parse_template(body)


def parse_template(body: str) -> dict[str, Any]:
    """A template body as text: JSON, or YAML with its short intrinsic functions (``!Ref``,
    ``!GetAtt``...) read into their long JSON form, so the template can be sent back as JSON."""
    try:
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    except ValueError:
        pass
    import yaml  # noqa: PLC0415  # only the team's YAML templates need it

    class _Loader(yaml.SafeLoader):
        pass

    def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        # !Ref and !Condition keep their name, the others are Fn:: functions: the long form, so
        # the template can be sent back to CloudFormation as JSON (an import adds to it).
        key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            return {key: value.split(".", 1) if suffix == "GetAtt" else value}
        if isinstance(node, yaml.SequenceNode):
            return {key: loader.construct_sequence(node, deep=True)}
        return {key: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]

    _Loader.add_multi_constructor("!", _tag)
    loaded = yaml.load(body, Loader=_Loader)  # noqa: S506  # a SafeLoader subclass
    return loaded if isinstance(loaded, dict) else {}
