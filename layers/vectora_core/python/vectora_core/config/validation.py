"""Validation of client configs and canonical files, reporting every violation at once.

Each problem is one line ``<field path>: <what is wrong and what is allowed>``; a file is valid when
the list is empty. Two passes: the schema (types, ranges, patterns), then the rules that span
fields or files (version consistency, changelog, watch-domain ids, references into ``canonical/``,
the runtime version). Keys the schema does not know are not problems: they are listed in one
warning and kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any, Final, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from vectora_core.config.schema import (
    PROMPT_CONFIG_FIELDS,
    SCOPE_FIELDS,
    SCORING_RULES_ID,
    SEMVER,
    ClientConfig,
    Prompt,
    Scope,
    ScoringRules,
    SourceCatalog,
    semver_key,
)

M = TypeVar("M", bound=BaseModel)
# A few anchors are normal YAML; thousands are an alias bomb ("billion laughs").
MAX_ALIASES: Final = 100


class ConfigError(ValueError):
    """A config or canonical file is invalid; ``problems`` holds one line per violation."""

    def __init__(self, subject: str, problems: list[str]) -> None:
        self.subject = subject
        self.problems = problems
        super().__init__(f"{subject}: " + "; ".join(problems))


@dataclass
class CanonicalIndex:
    """What a client config may refer to: the definitions of ``canonical/`` by name (either
    layout: ``vectora_core.config.catalog``), each with where it is defined."""

    catalogs: dict[str, SourceCatalog] = field(default_factory=dict)
    scopes: dict[str, Scope] = field(default_factory=dict)
    prompts: dict[str, Prompt] = field(default_factory=dict)
    scoring_rules: ScoringRules | None = None
    # (kind, name) -> "<file>: <key>" of its definition, for messages.
    origins: dict[tuple[str, str], str] = field(default_factory=dict)
    # (kind, name) -> the problem of a second definition (refused; the first one is indexed).
    duplicates: dict[tuple[str, str], str] = field(default_factory=dict)

    def source_catalogs(self) -> dict[str, list[str]]:
        """Source id -> the catalogs defining it differently (an extra source is named by its id
        alone; the team's bouquets share one definition of each source, which is not ambiguous)."""
        found: dict[str, list[str]] = {}
        first: dict[str, Any] = {}
        for catalog in self.catalogs.values():
            for source in catalog.sources:
                if source.id in first and first[source.id] == source:
                    continue
                first.setdefault(source.id, source)
                found.setdefault(source.id, []).append(catalog.catalog_id)
        return found


@dataclass(frozen=True)
class ClientValidation:
    """The config when valid, every problem (one line each) and the unknown-key warning, if any."""

    config: ClientConfig | None
    problems: list[str]
    warnings: list[str]


def field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "<document>"


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation: ``X``, ``list[X]``, ``X | None``, ``dict[str, X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel], parts: Sequence[Any]) -> type[BaseModel] | None:
    """The model that the field path ``parts`` (list indices skipped) leads to, if any."""
    current: type[BaseModel] | None = model
    for part in parts:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part) if current is not None else None
        if info is None:
            return None
        current = _inner_model(info.annotation)
    return current


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the schema accepts at the parent of ``loc`` (for 'unknown key' messages)."""
    parent = _model_at(model, loc[:-1])
    return list(parent.model_fields) if parent is not None else []


def schema_problems(
    model: type[BaseModel], error: ValidationError, prefix: tuple[Any, ...] = ()
) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        loc = prefix + tuple(item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, tuple(item["loc"]))
            message = "unknown key" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
        elif item["type"] == "missing":
            message = "required field is missing"
        elif item["type"] == "literal_error":
            message = f"{message}, got {item.get('input')!r}"
        problems.append(f"{field_path(loc)}: {message}")
    return problems


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys (the second would silently win) and alias bombs."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (*name): refused as an alias bomb")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                continue
            if key in seen:
                mark = key_node.start_mark
                raise yaml.YAMLError(
                    f"duplicate key {key!r} (line {mark.line + 1}): each key may appear once"
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _one_line(err: object) -> str:
    # PyYAML's messages span lines ('... not allowed\n  in "<unicode string>", position 1'): a
    # problem is one line.
    return " ".join(str(err).split())


def parse_yaml(text: str) -> tuple[Any, list[str]]:
    """The document of ``text``, or one problem line saying why it is not usable YAML."""
    try:
        return yaml.load(text, Loader=_Loader), []  # noqa: S506  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return None, [f"<document>: not valid YAML{where}: {_one_line(err.problem or err)}"]
    except yaml.YAMLError as err:  # e.g. a reader error: a character YAML does not allow
        return None, [f"<document>: not valid YAML: {_one_line(err)}"]
    except RecursionError:
        return None, ["<document>: not valid YAML: nested too deeply"]


def validate_model(model: type[M], data: Any) -> tuple[M | None, list[str]]:
    if not isinstance(data, Mapping):
        return None, [f"<document>: must be a mapping of keys, got {type(data).__name__}"]
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        return None, schema_problems(model, err)
    except RecursionError:
        return None, ["<document>: nested too deeply"]


# --- unknown keys ---------------------------------------------------------------------------------


def _children(value: Any, path: str) -> Iterator[tuple[str, BaseModel]]:
    if isinstance(value, BaseModel):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _children(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _children(item, f"{path}.{key}")


def unknown_keys(model: BaseModel, path: str = "") -> list[str]:
    """Field paths of every key the schema does not know, anywhere in ``model``."""
    found = []
    for key in model.model_extra or {}:
        found.append(f"{path}.{key}" if path else str(key))
    for name in type(model).model_fields:
        for child_path, child in _children(getattr(model, name), f"{path}.{name}" if path else name):
            found += unknown_keys(child, child_path)
    return found


def _suggestion(path: str, model: type[BaseModel]) -> str:
    """``" (did you mean x?)"`` when the last part of ``path`` is close to a known key there."""
    parts = [p.split("[")[0] for p in path.split(".")]
    parent = _model_at(model, parts[:-1])
    close = get_close_matches(parts[-1], list(parent.model_fields), n=1, cutoff=0.8) if parent else []
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_keys_warning(config: ClientConfig) -> str | None:
    """The one warning listing the keys kept but unknown to the schema (None: there are none)."""
    paths = unknown_keys(config)
    if not paths:
        return None
    listed = ", ".join(p + _suggestion(p, ClientConfig) for p in paths)
    return f"{len(paths)} key(s) unknown to the schema, kept as they are: {listed}"


# --- rules spanning fields and files ------------------------------------------------------------

Sections = Mapping[str, Any]


def _identity_rules(sections: Sections, version: str | None) -> list[str]:
    metadata = sections.get("metadata")
    if metadata is None:
        return []
    changelog = metadata.changelog
    problems = []
    if version is not None:
        if metadata.config_version != version:
            problems.append(
                f"metadata.config_version: must equal client_profile.version ({version}), "
                f"got {metadata.config_version}"
            )
        if changelog[0].version != version:
            problems.append(
                f"metadata.changelog[0].version: the newest (first) entry must describe version "
                f"{version}, got {changelog[0].version or 'none'}; add an entry for {version} at the top"
            )
    problems += _changelog_order(changelog)
    return problems


def _changelog_order(changelog: list[Any]) -> list[str]:
    problems = []
    previous_version = None
    for index, entry in enumerate(changelog):
        if index and entry.date > changelog[index - 1].date:
            problems.append(
                f"metadata.changelog[{index}].date: entries go newest first, {entry.date} is later "
                f"than {changelog[index - 1].date}"
            )
        if entry.version is None:
            continue
        if previous_version is not None and semver_key(entry.version) >= semver_key(previous_version):
            problems.append(
                f"metadata.changelog[{index}].version: entries go newest first with strictly "
                f"decreasing versions, {entry.version} follows {previous_version}"
            )
        previous_version = entry.version
    return problems


def _domain_rules(sections: Sections) -> list[str]:
    domains = sections.get("watch_domains")
    if domains is None:
        return []
    ids = [d.id for d in domains]
    problems = [
        f"watch_domains[{index}].id: {domain_id!r} is used by an earlier watch domain; ids are unique"
        for index, domain_id in enumerate(ids)
        if domain_id in ids[:index]
    ]
    layout = sections.get("newsletter_layout")
    for s_index, section in enumerate(layout.sections if layout else []):
        for d_index, name in enumerate(section.source_domains or []):
            if name not in ids:
                problems.append(
                    f"newsletter_layout.sections[{s_index}].source_domains[{d_index}]: {name!r} is not a "
                    f"watch domain of this config (watch_domains ids: {', '.join(ids)})"
                )
    return problems


def _bouquet_override_rules(sections: Sections) -> list[str]:
    source_config = sections.get("source_config")
    if source_config is None:
        return []
    enabled = source_config.source_bouquets_enabled
    return [
        f"source_config.bouquet_ingestion_overrides.{name}: not an enabled bouquet "
        f"(source_bouquets_enabled: {', '.join(enabled) or 'none'})"
        for name in source_config.bouquet_ingestion_overrides
        if name not in enabled
    ]


def _available(names: Mapping[str, Any] | list[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def _source_refs(sections: Sections, index: CanonicalIndex) -> list[str]:
    source_config = sections.get("source_config")
    if source_config is None:
        return []
    problems = [
        f"source_config.source_bouquets_enabled[{i}]: no bouquet {name} (canonical/sources/{name}.yaml "
        f"or a bouquet of a source catalog); available bouquets: {_available(index.catalogs)}"
        for i, name in enumerate(source_config.source_bouquets_enabled)
        if name not in index.catalogs
    ]
    defined = index.source_catalogs()
    for i, source_id in enumerate(source_config.sources_extra_enabled):
        where = defined.get(source_id, [])
        if not where:
            problems.append(
                f"source_config.sources_extra_enabled[{i}]: {source_id!r} is in no canonical source catalog "
                f"(source ids: {_available(list(defined))})"
            )
        elif len(where) > 1:
            problems.append(
                f"source_config.sources_extra_enabled[{i}]: {source_id!r} is defined by several catalogs "
                f"({', '.join(sorted(where))}); enable the one you mean as a bouquet instead"
            )
    return problems


def _scope_ref(path: str, name: str, kinds: tuple[str, ...], index: CanonicalIndex) -> str | None:
    scope = index.scopes.get(name)
    if scope is None:
        return (
            f"{path}: no scope {name} (canonical/scopes/{name}.yaml or a list of a scopes file); "
            f"available scopes: {_available(index.scopes)}"
        )
    if scope.kind not in kinds:
        fits = [s for s, v in index.scopes.items() if v.kind in kinds]
        return (
            f"{path}: {name} is a {scope.kind} scope, this field takes {' or '.join(kinds)} "
            f"(such scopes: {_available(fits)})"
        )
    return None


def _scope_refs(sections: Sections, index: CanonicalIndex) -> list[str]:
    wanted: list[tuple[str, str, tuple[str, ...]]] = []
    for d_index, domain in enumerate(sections.get("watch_domains") or []):
        for name, scope in domain.scopes().items():
            wanted.append((f"watch_domains[{d_index}].{name}", scope, SCOPE_FIELDS[name]))
    matching = sections.get("matching_config")
    for i, scope in enumerate(matching.fallback_company_scopes if matching else []):
        wanted.append((f"matching_config.fallback_company_scopes[{i}]", scope, ("companies",)))
    scoring = sections.get("scoring_config")
    every_kind = ("companies", "molecules", "technologies", "keywords", "trademarks")
    for name, bonus in (scoring.client_specific_bonuses if scoring else {}).items():
        wanted.append((f"scoring_config.client_specific_bonuses.{name}.scope", bonus.scope, every_kind))
    return [p for p in (_scope_ref(path, name, kinds, index) for path, name, kinds in wanted) if p]


def _prompt_refs(sections: Sections, index: CanonicalIndex) -> list[str]:
    bedrock = sections.get("bedrock_config")
    if bedrock is None:
        return []
    problems = []
    for config_field, purpose in PROMPT_CONFIG_FIELDS.items():
        name = getattr(bedrock, config_field)
        if name is None:
            continue
        prompt = index.prompts.get(name)
        if prompt is None:
            problems.append(
                f"bedrock_config.{config_field}: no prompt {name} (canonical/prompts/{name}.yaml "
                f"or a prompt_id of a nested prompt); available prompts: {_available(index.prompts)}"
            )
        elif prompt.purpose != purpose:
            problems.append(
                f"bedrock_config.{config_field}: {name} is a {prompt.purpose} prompt, not a {purpose} one"
            )
    return problems


def _scoring_rules_ref(index: CanonicalIndex) -> list[str]:
    if index.scoring_rules is not None:
        return []
    return [
        f"scoring_config: canonical/scoring/{SCORING_RULES_ID}.yaml is missing "
        "(the default event-type weights and scope scoring every config builds on)"
    ]


def runtime_problems(min_runtime_version: str | None, runtime_version: str, where: str) -> list[str]:
    """The config needs a runtime newer than ``runtime_version`` (the one in ``where``)?"""
    if min_runtime_version is None or semver_key(min_runtime_version) <= semver_key(runtime_version):
        return []
    return [
        f"metadata.min_runtime_version: {min_runtime_version} is newer than the runtime {runtime_version} "
        f"of {where}; deploy a runtime >= {min_runtime_version} first"
    ]


def _runtime_rules(sections: Sections, runtime: tuple[str, str] | None) -> list[str]:
    metadata = sections.get("metadata")
    if runtime is None or metadata is None:
        return []
    return runtime_problems(metadata.min_runtime_version, *runtime)


REFERENCE_RULES: Final[tuple[Callable[[Sections, CanonicalIndex], list[str]], ...]] = (
    _source_refs,
    _scope_refs,
    _prompt_refs,
)


def section_rules(
    sections: Sections,
    canonical: CanonicalIndex | None,
    runtime: tuple[str, str] | None = None,
    version: str | None = None,
) -> list[str]:
    """Every rule over whichever sections are given; ``canonical`` None skips the references.

    ``version``: ``client_profile.version``, also when the rest of client_profile is invalid.
    """
    profile = sections.get("client_profile")
    version = profile.version if profile is not None else version
    problems = (
        _identity_rules(sections, version) + _domain_rules(sections) + _bouquet_override_rules(sections)
    )
    if canonical is not None:
        for rule in REFERENCE_RULES:
            problems += rule(sections, canonical)
        problems += _scoring_rules_ref(canonical)
    return problems + _runtime_rules(sections, runtime)


def valid_sections(data: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level sections of a client config that are valid on their own.

    When the schema fails somewhere, the rules still run on every section that can be read, so
    a user sees every violation at once rather than one round of fixes per rule family.
    """
    found: dict[str, Any] = {}
    for name, info in ClientConfig.model_fields.items():
        if name not in data and info.is_required():
            continue
        try:
            found[name] = (
                TypeAdapter(info.annotation).validate_python(data[name])  # type: ignore[arg-type]  # always set on a model field
                if name in data
                else info.get_default(call_default_factory=True)
            )
        except ValidationError:
            continue
    return found


def validate_client_text(
    text: str,
    canonical: CanonicalIndex | None,
    *,
    expected_id: str | None = None,
    runtime: tuple[str, str] | None = None,
) -> ClientValidation:
    """Parse and validate a client config.

    ``expected_id``: the id its file name implies; ``runtime``: ``(version, where)`` of the runtime
    that must be able to run it (``metadata.min_runtime_version`` is checked against it).
    """
    data, problems = parse_yaml(text)
    if problems:
        return ClientValidation(None, problems, [])
    config, problems = validate_model(ClientConfig, data)
    if config is None:
        if isinstance(data, Mapping):  # every violation at once: the rules of the readable sections too
            profile = data.get("client_profile")
            version = profile.get("version") if isinstance(profile, Mapping) else None
            version = version if isinstance(version, str) and SEMVER.match(version) else None
            more = section_rules(valid_sections(data), canonical, runtime, version)
            problems += [p for p in more if p not in problems]
        return ClientValidation(None, problems, [])
    problems = section_rules({n: getattr(config, n) for n in ClientConfig.model_fields}, canonical, runtime)
    if expected_id is not None and config.client_id != expected_id:
        problems.append(
            f"client_profile.client_id: {config.client_id!r} does not match the file name "
            f"({expected_id}.yaml); the file must be clients/<client_id>.yaml"
        )
    warning = unknown_keys_warning(config)
    return ClientValidation(config if not problems else None, problems, [warning] if warning else [])


CANONICAL_MODELS: Final[dict[str, type[BaseModel]]] = {
    "sources": SourceCatalog,
    "scopes": Scope,
    "prompts": Prompt,
    "scoring": ScoringRules,
}
ID_FIELDS: Final[dict[type[BaseModel], str]] = {
    SourceCatalog: "catalog_id",
    Scope: "scope_id",
    Prompt: "prompt_id",
    ScoringRules: "rules_id",
}


def validate_canonical_text(folder: str, stem: str, text: str) -> tuple[BaseModel | None, list[str]]:
    """A file of ``canonical/<folder>/``; its id key must equal its file name."""
    data, problems = parse_yaml(text)
    if problems:
        return None, problems
    model = CANONICAL_MODELS.get(folder)
    if model is None:
        return None, [
            f"<document>: canonical/{folder}/ is not a canonical folder ({', '.join(CANONICAL_MODELS)})"
        ]
    parsed, problems = validate_model(model, data)
    if parsed is not None and getattr(parsed, ID_FIELDS[model]) != stem:
        problems.append(
            f"{ID_FIELDS[model]}: {getattr(parsed, ID_FIELDS[model])!r} must equal the file name ({stem})"
        )
        parsed = None
    return parsed, problems
