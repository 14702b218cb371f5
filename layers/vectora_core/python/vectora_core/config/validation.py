"""Validation of client configs and canonical files, reporting every violation at once.

Each problem is one line ``<field path>: <what is wrong and what is allowed>``; a file is valid when
the list is empty. Two passes: the schema (types, patterns, unknown keys), then the rules that span
fields or files (version consistency, changelog, references into ``canonical/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from vectora_core.config.schema import (
    SEMVER,
    ClientConfig,
    EventRules,
    Metadata,
    Newsletter,
    Prompt,
    Prompts,
    Scope,
    Scoring,
    SourceCatalog,
    SourceSelection,
)

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A config or canonical file is invalid; ``problems`` holds one line per violation."""

    def __init__(self, subject: str, problems: list[str]) -> None:
        self.subject = subject
        self.problems = problems
        super().__init__(f"{subject}: " + "; ".join(problems))


@dataclass
class CanonicalIndex:
    """What a client config may refer to: the ids present in ``canonical/``."""

    catalogs: dict[str, SourceCatalog] = field(default_factory=dict)
    scopes: dict[str, Scope] = field(default_factory=dict)
    event_rules: dict[str, EventRules] = field(default_factory=dict)
    prompts: dict[str, Prompt] = field(default_factory=dict)


def field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "<document>"


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the schema accepts at the parent of ``loc`` (for 'unknown key' messages)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return []
        annotation = info.annotation
        # list[X] / X | None -> X
        for arg in getattr(annotation, "__args__", ()) or ():
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                annotation = arg
                break
        current = annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def schema_problems(model: type[BaseModel], error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            message = "unknown key" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
        elif item["type"] == "missing":
            message = "required field is missing"
        elif item["type"] == "literal_error":
            message = f"{message}, got {item.get('input')!r}"
        problems.append(f"{field_path(loc)}: {message}")
    return problems


def parse_yaml(text: str) -> tuple[Any, list[str]]:
    try:
        return yaml.safe_load(text), []
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return None, [f"<document>: not valid YAML{where}: {getattr(err, 'problem', err)}"]


def validate_model(model: type[M], data: Any) -> tuple[M | None, list[str]]:
    if not isinstance(data, Mapping):
        return None, [f"<document>: must be a mapping of keys, got {type(data).__name__}"]
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        return None, schema_problems(model, err)


def _semver_key(version: str) -> tuple[int, ...]:
    match = SEMVER.match(version)
    return tuple(int(g) for g in match.groups()) if match else (-1,)


def client_rules(config: ClientConfig, canonical: CanonicalIndex | None) -> list[str]:
    """Rules spanning fields (versions, changelog) and files (references into canonical/)."""
    sections = {name: getattr(config, name) for name in ClientConfig.model_fields}
    return section_rules(config.client_profile.version, sections, canonical)


def valid_sections(data: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level sections of a client config that are valid on their own.

    When the schema fails somewhere, the rules still run on every section that can be read, so
    a user sees every violation at once rather than one round of fixes per rule family.
    """
    found: dict[str, Any] = {}
    for name, info in ClientConfig.model_fields.items():
        model = info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(data.get(name), Mapping):
            try:
                found[name] = model.model_validate(data[name])
            except ValidationError:
                continue
    return found


def section_rules(
    version: str | None, sections: Mapping[str, Any], canonical: CanonicalIndex | None
) -> list[str]:
    """``client_rules`` over whichever sections are given (``version``: client_profile.version)."""
    problems: list[str] = []
    metadata: Metadata | None = sections.get("metadata")
    if metadata is not None:
        changelog = metadata.changelog
        if version is not None:
            if metadata.config_version != version:
                problems.append(
                    f"metadata.config_version: must equal client_profile.version ({version}), "
                    f"got {metadata.config_version}"
                )
            newest = changelog[0]
            if newest.version != version:
                problems.append(
                    f"metadata.changelog[0].version: the newest (first) entry must describe version "
                    f"{version}, got {newest.version}; add an entry for {version} at the top"
                )
        for index in range(1, len(changelog)):
            previous, current = changelog[index - 1], changelog[index]
            if _semver_key(current.version) >= _semver_key(previous.version):
                problems.append(
                    f"metadata.changelog[{index}].version: entries go newest first with strictly "
                    f"decreasing versions, {current.version} follows {previous.version}"
                )
            if current.date > previous.date:
                problems.append(
                    f"metadata.changelog[{index}].date: entries go newest first, {current.date} is later "
                    f"than {previous.date}"
                )
    scoring: Scoring | None = sections.get("scoring")
    newsletter: Newsletter | None = sections.get("newsletter")
    sources: SourceSelection | None = sections.get("sources")
    prompts: Prompts | None = sections.get("prompts")
    if scoring is not None:
        weighted = [s.scope for s in scoring.scopes]
        if len(set(weighted)) != len(weighted):
            problems.append("scoring.scopes: each scope may appear once")
    if newsletter is not None:
        section_types = [t for s in newsletter.sections for t in s.event_types]
        if len(set(section_types)) != len(section_types):
            problems.append("newsletter.sections: an event type may belong to one section only")
    if canonical is None:
        return problems
    if sources is not None:
        catalog = canonical.catalogs.get(sources.catalog)
        if catalog is None:
            problems.append(
                f"sources.catalog: no canonical/sources/{sources.catalog}.yaml; "
                f"available: {', '.join(sorted(canonical.catalogs)) or 'none'}"
            )
        else:
            known = catalog.by_id()
            for index, source_id in enumerate(sources.include):
                if source_id not in known:
                    problems.append(
                        f"sources.include[{index}]: {source_id!r} is not in catalog {catalog.catalog_id} "
                        f"(ids: {', '.join(sorted(known))})"
                    )
    if scoring is not None:
        for index, weight in enumerate(scoring.scopes):
            if weight.scope not in canonical.scopes:
                problems.append(
                    f"scoring.scopes[{index}].scope: no canonical/scopes/{weight.scope}.yaml; "
                    f"available: {', '.join(sorted(canonical.scopes)) or 'none'}"
                )
        if scoring.event_rules not in canonical.event_rules:
            problems.append(
                f"scoring.event_rules: no canonical/scopes/{scoring.event_rules}.yaml with event rules; "
                f"available: {', '.join(sorted(canonical.event_rules)) or 'none'}"
            )
    if prompts is not None:
        for purpose in ("normalization", "editorial"):
            name = getattr(prompts, purpose)
            prompt = canonical.prompts.get(name)
            if prompt is None:
                problems.append(
                    f"prompts.{purpose}: no canonical/prompts/{name}.yaml; "
                    f"available: {', '.join(sorted(canonical.prompts)) or 'none'}"
                )
            elif prompt.purpose != purpose:
                problems.append(
                    f"prompts.{purpose}: {name} is a {prompt.purpose} prompt, not a {purpose} one"
                )
    return problems


def validate_client_text(
    text: str, canonical: CanonicalIndex | None, *, expected_id: str | None = None
) -> tuple[ClientConfig | None, list[str]]:
    """Parse and validate a client config; ``expected_id`` is the id its file name implies."""
    data, problems = parse_yaml(text)
    if problems:
        return None, problems
    config, problems = validate_model(ClientConfig, data)
    if config is None:
        if isinstance(data, Mapping):  # every violation at once: the rules of the readable sections too
            profile = data.get("client_profile")
            version = profile.get("version") if isinstance(profile, Mapping) else None
            version = version if isinstance(version, str) else None
            more = section_rules(version, valid_sections(data), canonical)
            problems += [p for p in more if p not in problems]
        return None, problems
    problems = client_rules(config, canonical)
    if expected_id is not None and config.client_id != expected_id:
        problems.append(
            f"client_profile.client_id: {config.client_id!r} does not match the file name "
            f"({expected_id}.yaml); the file must be clients/<client_id>.yaml"
        )
    return (config if not problems else None), problems


CANONICAL_MODELS: dict[str, tuple[type[BaseModel], ...]] = {
    "sources": (SourceCatalog,),
    "scopes": (Scope, EventRules),
    "prompts": (Prompt,),
}
ID_FIELDS = {SourceCatalog: "catalog_id", Scope: "scope_id", EventRules: "rules_id", Prompt: "prompt_id"}


def validate_canonical_text(folder: str, stem: str, text: str) -> tuple[BaseModel | None, list[str]]:
    """A file of ``canonical/<folder>/``; scopes hold either a scope or event rules (by its id key)."""
    data, problems = parse_yaml(text)
    if problems:
        return None, problems
    models = CANONICAL_MODELS.get(folder)
    if models is None:
        return None, [f"<document>: canonical/{folder}/ is not a canonical folder (sources, scopes, prompts)"]
    model = models[0]
    if isinstance(data, Mapping):
        model = next((m for m in models if ID_FIELDS[m] in data), models[0])
    parsed, problems = validate_model(model, data)
    if parsed is not None and getattr(parsed, ID_FIELDS[model]) != stem:
        problems.append(
            f"{ID_FIELDS[model]}: {getattr(parsed, ID_FIELDS[model])!r} must equal the file name ({stem})"
        )
        parsed = None
    return parsed, problems


def add_to_index(index: CanonicalIndex, parsed: BaseModel) -> None:
    if isinstance(parsed, SourceCatalog):
        index.catalogs[parsed.catalog_id] = parsed
    elif isinstance(parsed, Scope):
        index.scopes[parsed.scope_id] = parsed
    elif isinstance(parsed, EventRules):
        index.event_rules[parsed.rules_id] = parsed
    elif isinstance(parsed, Prompt):
        index.prompts[parsed.prompt_id] = parsed
