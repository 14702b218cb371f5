"""Migrating old client configs to the current format, keeping every other key, value and comment.

Two kinds of old file:

- **old-style identity** (the team's format before versions left the id): ``client_id:
  lai_weekly_v7``, no ``version``, a changelog without versions or none. The version leaves the
  id (``_v7`` -> ``7.0.0``, ``_v7_1`` -> ``7.1.0``, or ``--version``), ``client_profile.version``
  and ``metadata.config_version`` get it, and a changelog entry for it goes on top. These edits
  are made on the text itself at the positions ruamel.yaml's round-trip parser reports, so every
  other line stays byte for byte what it was (comments, quoting, spacing, blank lines);
- **this project's previous format** (``sources``, ``scoring``, ``newsletter``, ``prompts``,
  ``pipeline.period_days``): its sections are mapped onto the team's (``source_config``,
  ``watch_domains``, ``scoring_config``, ``newsletter_selection``, ``newsletter_layout``,
  ``newsletter_delivery``, ``bedrock_config``) in ruamel.yaml's round-trip mode, which keeps the
  other sections and their comments. What the team's format keeps in canonical files (a scope's
  weight, the cap per scope) must already agree with them, else the field is refused.

What cannot be migrated is refused, one line per problem naming the field (``MigrationError``).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from vectora_core.config.schema import EVENT_TYPES, SCOPE_FIELDS, SEMVER, VERSION_SUFFIX
from vectora_core.config.validation import CanonicalIndex, parse_yaml

# The previous project format's event types, in the team's vocabulary.
OLD_EVENT_TYPES: Final[dict[str, str]] = {
    "regulatory": "regulatory",
    "partnership": "partnership",
    "acquisition": "corporate_move",
    "financing": "financial_results",
    "clinical_trial": "clinical_update",
    "product_launch": "corporate_move",
    "corporate": "corporate_move",
    "scientific_publication": "scientific_publication",
    "other": "other",
}
# scope kind -> the watch-domain field naming a scope of that kind
KIND_FIELDS: Final = {kind: name for name, kinds in SCOPE_FIELDS.items() for kind in kinds}
_LINE_END = re.compile(r"\r?\n$")


class MigrationError(ValueError):
    """What cannot be migrated; ``problems`` holds one line per problem, each naming the field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def version_from_suffix(suffix: str) -> str:
    """``"_v7_1"`` / ``"v6.1"`` / ``"6"`` -> ``"7.1.0"`` / ``"6.1.0"`` / ``"6.0.0"``."""
    numbers = [int(n) for n in re.findall(r"\d+", suffix)][:3]
    numbers += [0] * (3 - len(numbers))
    return ".".join(str(n) for n in numbers)


def _semver_or_none(value: object) -> str | None:
    text = str(value).strip().lstrip("v")  # None is "None": no version either
    return version_from_suffix(text) if re.fullmatch(r"\d+(?:\.\d+){0,2}", text) else None


def _round_trip() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(text: str) -> CommentedMap:
    _, problems = parse_yaml(text)
    if problems:
        raise MigrationError(problems)
    try:
        doc = _round_trip().load(text)
    except YAMLError as err:
        raise MigrationError([f"<document>: not valid YAML: {str(err).splitlines()[0]}"]) from None
    if not isinstance(doc, CommentedMap):
        raise MigrationError([f"<document>: must be a mapping of keys, got {type(doc).__name__}"])
    return doc


def _mapping(doc: CommentedMap, key: str, problems: list[str]) -> CommentedMap:
    """``doc[key]``; an empty mapping if it is missing, or not a mapping (then a problem)."""
    value = doc.get(key)
    if value is not None and not isinstance(value, CommentedMap):
        problems.append(f"{key}: must be a mapping of keys, got {type(value).__name__}")
    return value if isinstance(value, CommentedMap) else CommentedMap()


# --- identity ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    old_id: str
    client_id: str  # the stable id: old_id without its version suffix
    version: str

    @property
    def changes(self) -> str:
        """The changelog entry's text."""
        if self.old_id == self.client_id:
            return f"Version {self.version} recorded in client_profile.version and metadata.config_version"
        return (
            f"Migrated from client_id {self.old_id}: stable id {self.client_id}, "
            f"version {self.version} in client_profile"
        )


@dataclass(frozen=True, kw_only=True)
class Migrated(Identity):
    text: str
    notes: tuple[str, ...] = ()


def _identity(doc: CommentedMap, requested: str | None, problems: list[str]) -> Identity | None:
    profile = _mapping(doc, "client_profile", problems)
    metadata = _mapping(doc, "metadata", problems)
    if problems:
        return None
    old_id = profile.get("client_id") or doc.get("client_id")
    if not isinstance(old_id, str) or not old_id:
        problems.append("client_profile.client_id: required field is missing (the id to migrate)")
        return None
    suffix = VERSION_SUFFIX.search(old_id)
    new_id = old_id[: suffix.start()] if suffix else old_id
    if requested is not None:
        return Identity(old_id, new_id, requested)
    found = {
        "client_profile.version": _semver_or_none(profile.get("version")),
        "metadata.config_version": _semver_or_none(metadata.get("config_version")),
    }
    if suffix:
        found[f"the id's suffix {suffix.group(0)!r}"] = version_from_suffix(suffix.group(0))
    versions = {v for v in found.values() if v}
    if len(versions) == 1:
        return Identity(old_id, new_id, versions.pop())
    if versions:
        listed = ", ".join(f"{where}: {v}" for where, v in found.items() if v)
        problems.append(f"client_profile.version: the file gives several versions ({listed}); pass --version")
    else:
        problems.append(
            f"client_profile.version: {old_id!r} has no version suffix and the file no semantic version; "
            "pass --version X.Y.Z"
        )
    return None


def _check_changelog(doc: CommentedMap, problems: list[str]) -> None:
    metadata = doc.get("metadata")
    changelog = metadata.get("changelog") if isinstance(metadata, CommentedMap) else None
    if changelog is not None and not isinstance(changelog, CommentedSeq):
        problems.append(f"metadata.changelog: must be a list of entries, got {type(changelog).__name__}")
        return
    for index, entry in enumerate(changelog or []):
        if not isinstance(entry, CommentedMap):
            problems.append(f"metadata.changelog[{index}]: must be a mapping (version, date, changes)")
            continue
        raw = entry.get("version")
        if raw is not None and _semver_or_none(raw) is None:
            problems.append(f"metadata.changelog[{index}].version: {raw!r} is not a version such as 6.1.0")


def _needs_entry(changelog: CommentedSeq | None, version: str) -> bool:
    return not changelog or _semver_or_none(changelog[0].get("version")) != version


# --- the text edits (old-style identity) ---------------------------------------------------------


class _Text:
    """The file as lines (each with its own line end) and the edits to make, applied bottom-up."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.replaces: list[tuple[int, int, int, str]] = []  # (line, start col, end col, replacement)
        self.inserts: list[tuple[int, list[str]]] = []  # (before line, new lines without line end)

    def scalar(self, node: CommentedMap, key: str, value: str) -> None:
        """Replace the one-line scalar value of ``node[key]`` by ``value``, in its quoting style."""
        line, col = node.lc.value(key)
        text = _LINE_END.sub("", self.lines[line])
        quote = text[col] if text[col] in "'\"" else ""
        if quote:
            end = text.index(quote, col + 1) + 1
        else:  # up to a trailing comment, if any
            end = col + len(re.split(r"\s#", text[col:], maxsplit=1)[0].rstrip())
        new = f"{quote}{value}{quote}"
        rest = text[end:]
        if rest.strip().startswith("#"):
            # Keep a trailing comment in its column: pad a shorter value, eat spaces for a longer one.
            gap = len(rest) - len(rest.lstrip(" "))
            width = max(1, gap + (end - col) - len(new))
            end, new = end + gap, new + " " * width
        self.replaces.append((line, col, end, new))

    def apply(self) -> str:
        lines = list(self.lines)
        for line, start, end, value in sorted(self.replaces, reverse=True):
            lines[line] = lines[line][:start] + value + lines[line][end:]
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += self.newline
        # Bottom-up; two inserts before the same line keep the order they were added in.
        for before, _, new in sorted(((b, i, n) for i, (b, n) in enumerate(self.inserts)), reverse=True):
            lines[before:before] = [f"{n}{self.newline}" for n in new]
        return "".join(lines)


def _entry_lines(indent: int, identity: Identity, today: date) -> list[str]:
    pad = " " * indent
    return [
        f'{pad}- version: "{identity.version}"',
        f"{pad}  date: {today.isoformat()}",
        f"{pad}  changes: {json.dumps(identity.changes, ensure_ascii=False)}",
    ]


def _edit_profile(edits: _Text, profile: CommentedMap, identity: Identity) -> None:
    if identity.old_id != identity.client_id:
        edits.scalar(profile, "client_id", identity.client_id)
    if "version" in profile:
        edits.scalar(profile, "version", identity.version)
    else:
        line, indent = profile.lc.value("client_id")[0], profile.lc.key("client_id")[1]
        edits.inserts.append((line + 1, [f'{" " * indent}version: "{identity.version}"']))


def _edit_changelog(edits: _Text, changelog: CommentedSeq, identity: Identity, today: date) -> None:
    for entry in changelog:
        raw = entry.get("version")
        if raw is not None and str(raw) != _semver_or_none(raw):
            edits.scalar(entry, "version", str(_semver_or_none(raw)))
    if _needs_entry(changelog, identity.version):
        line, col = changelog.lc.item(0)
        dash = edits.lines[line].rindex("-", 0, col)
        edits.inserts.append((line, _entry_lines(dash, identity, today)))


def _edit_metadata(edits: _Text, metadata: CommentedMap, identity: Identity, today: date) -> None:
    """What metadata lacks goes above its first key; no metadata at all: a new block at the end."""
    line, indent = metadata.lc.key(next(iter(metadata))) if metadata else (len(edits.lines), 2)
    top: list[str] = [] if metadata else ["", "metadata:"]
    if "config_version" in metadata:
        edits.scalar(metadata, "config_version", identity.version)
    else:
        top.append(f'{" " * indent}config_version: "{identity.version}"')
    if metadata.get("changelog"):
        _edit_changelog(edits, metadata["changelog"], identity, today)
    else:
        top += [f"{' ' * indent}changelog:", *_entry_lines(indent + 2, identity, today)]
    edits.inserts.append((line, top))


def _editable(doc: CommentedMap) -> bool:
    """Block-style client_profile (and metadata, changelog): the layouts the text edits handle."""
    profile, metadata = doc.get("client_profile"), doc.get("metadata")
    changelog = metadata.get("changelog") if isinstance(metadata, CommentedMap) else None
    return (
        isinstance(profile, CommentedMap)
        and "client_id" in profile
        and not profile.fa.flow_style()
        and (metadata is None or (isinstance(metadata, CommentedMap) and not metadata.fa.flow_style()))
        # "changelog: []" or an empty "changelog:" would need a line rewritten, not only edited
        and (changelog is None if not changelog else not changelog.fa.flow_style())
        and (not isinstance(metadata, CommentedMap) or metadata.get("changelog", 0) is not None)
    )


# --- ruamel.yaml round trip (project format, unusual layouts) --------------------------------------


def _insert_or_set(mapping: CommentedMap, key: str, value: Any, position: int) -> None:
    if key in mapping:
        mapping[key] = value
    else:
        mapping.insert(min(position, len(mapping)), key, value)


def _flow(values: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def _identity_round_trip(doc: CommentedMap, identity: Identity, today: date) -> None:
    profile = doc.get("client_profile")
    if profile is None:
        profile = CommentedMap()
        doc.insert(0, "client_profile", profile)
    # The oldest layout: client_id (and name, language, version) at the top level.
    for key in ("name", "client_id", "language", "version"):
        if key in doc and key not in profile:
            profile[key] = doc.pop(key)
    profile["client_id"] = identity.client_id
    _insert_or_set(
        profile, "version", DoubleQuotedScalarString(identity.version), list(profile).index("client_id") + 1
    )
    metadata = doc.get("metadata")
    if metadata is None:
        metadata = doc["metadata"] = CommentedMap()
    _insert_or_set(metadata, "config_version", DoubleQuotedScalarString(identity.version), 0)
    changelog = metadata.get("changelog")
    if not changelog:
        changelog = CommentedSeq()
        _insert_or_set(metadata, "changelog", changelog, list(metadata).index("config_version") + 1)
    for entry in changelog:
        if entry.get("version") is not None:
            entry["version"] = DoubleQuotedScalarString(str(_semver_or_none(entry["version"])))
    if _needs_entry(changelog, identity.version):
        version = DoubleQuotedScalarString(identity.version)
        changelog.insert(0, CommentedMap(version=version, date=today, changes=identity.changes))


# What a mapper returns: the current format's sections replacing the old one, in order (``MAPPERS``).
NewSections = list[tuple[str, Any]]


def _replace(doc: CommentedMap, old: str, new: NewSections, problems: list[str]) -> None:
    """Put ``new`` keys where ``old`` was (its comments go with it)."""
    clash = [key for key, _ in new if key in doc and key != old]
    if clash:
        problems.append(
            f"{old}: the file also has {', '.join(clash)} (the current format's): keep one of them"
        )
        return
    position = list(doc).index(old)
    del doc[old]
    for offset, (key, value) in enumerate(new):
        doc.insert(position + offset, key, value)


def _required(section: Any, name: str, keys: tuple[str, ...], problems: list[str]) -> bool:
    if not isinstance(section, dict):
        problems.append(f"{name}: must be a mapping of keys")
        return False
    missing = [f"{name}.{k}: required field is missing" for k in keys if k not in section]
    problems += missing
    return not missing


def _map_prompts(doc: CommentedMap, index: CanonicalIndex, problems: list[str]) -> NewSections:
    prompts = doc["prompts"]
    bedrock = CommentedMap(
        normalization_prompt=prompts["normalization"], editorial_prompt=prompts["editorial"]
    )
    return [("bedrock_config", bedrock)]


def _map_sources(doc: CommentedMap, index: CanonicalIndex, problems: list[str]) -> NewSections:
    sources = doc["sources"]
    catalog = index.catalogs.get(str(sources["catalog"]))
    include = [str(s) for s in sources["include"] or []]
    whole = catalog is not None and set(include) == {s.id for s in catalog.sources}
    config = CommentedMap(
        source_bouquets_enabled=_flow([sources["catalog"]] if whole else []),
        # A part of a catalog is a list of extra sources in the current format.
        sources_extra_enabled=_flow([] if whole else include),
    )
    return [("source_config", config)]


def _domains(scopes: Any, index: CanonicalIndex, problems: list[str]) -> list[CommentedMap]:
    domains: list[CommentedMap] = []
    for i, weight in enumerate(scopes if isinstance(scopes, list) else []):
        name = str((weight or {}).get("scope"))
        scope = index.scopes.get(name)
        if scope is None:
            problems.append(
                f"scoring.scopes[{i}].scope: no canonical/scopes/{name}.yaml "
                "(its kind decides the watch-domain field)"
            )
            continue
        if abs(float(weight.get("weight", 1.0)) - scope.match_weight) > 1e-9:
            problems.append(
                f"scoring.scopes[{i}].weight: {weight.get('weight')} differs from canonical/scopes/"
                f"{name}.yaml's match_weight {scope.match_weight}; the current format has no per-client "
                "scope weight: make them equal"
            )
        field = KIND_FIELDS[scope.kind]
        domain = next((d for d in domains if field not in d), None)
        if domain is None:
            domain = CommentedMap([("id", f"watch_domain_{len(domains) + 1}")])
            domains.append(domain)
        domain[field] = name
    if not domains and not problems:
        problems.append("scoring.scopes: at least one scope is needed (it becomes a watch domain)")
    return domains


def _event_weights(weights: Any, problems: list[str]) -> CommentedMap:
    mapped = CommentedMap()
    for old, weight in (weights or {}).items():
        new = OLD_EVENT_TYPES.get(str(old), str(old) if str(old) in EVENT_TYPES else None)
        if new is None:
            problems.append(
                f"scoring.event_type_weights.{old}: not an event type ({', '.join(OLD_EVENT_TYPES)})"
            )
            continue
        # Two old types becoming one new type: the higher weight, so no item loses points.
        mapped[new] = max(float(weight), float(mapped.get(new, weight)))
    return mapped


def _map_scoring(doc: CommentedMap, index: CanonicalIndex, problems: list[str]) -> NewSections:
    scoring = doc["scoring"]
    rules = index.scoring_rules
    cap = scoring.get("max_points_per_scope")
    if cap is not None and rules is not None and float(cap) != rules.max_points_per_scope:
        problems.append(
            f"scoring.max_points_per_scope: {cap} differs from canonical/scoring/scoring_rules.yaml's "
            f"{rules.max_points_per_scope}, which now applies to every client: make them equal"
        )
    scoring_config = CommentedMap(
        event_type_weight_overrides=_event_weights(scoring.get("event_type_weights"), problems),
        client_specific_bonuses=CommentedMap(),
    )
    return [
        ("watch_domains", CommentedSeq(_domains(scoring["scopes"], index, problems))),
        ("scoring_config", scoring_config),
        ("newsletter_selection", CommentedMap(min_score_threshold=scoring["threshold"])),
    ]


def _map_newsletter(doc: CommentedMap, index: CanonicalIndex, problems: list[str]) -> NewSections:
    newsletter = doc["newsletter"]
    name = (doc.get("client_profile") or {}).get("name")
    title = newsletter.get("title")
    if title is not None and title != name:
        problems.append(
            f"newsletter.title: {title!r} differs from client_profile.name {name!r}, which titles the "
            "newsletter in the current format: make them equal"
        )
    sections = CommentedSeq()
    for i, old in enumerate(newsletter["sections"] or []):
        types = [OLD_EVENT_TYPES.get(str(t), str(t)) for t in old.get("event_types") or []]
        section = CommentedMap([(k, old[k]) for k in ("id", "title") if k in old])
        section["filter_event_types"] = _flow(list(dict.fromkeys(types)))
        section["max_items"] = old.get("max_items", 5)  # the previous format's default
        section["sort_by"] = "score_desc"
        section["priority"] = i + 1
        sections.append(section)
    delivery = CommentedMap(include_tldr=False, include_intro=True, include_metrics=False)
    return [("newsletter_layout", CommentedMap(sections=sections)), ("newsletter_delivery", delivery)]


def _map_pipeline(doc: CommentedMap) -> None:
    pipeline = doc.get("pipeline")
    if isinstance(pipeline, CommentedMap) and "period_days" in pipeline:
        position = list(pipeline).index("period_days")
        pipeline.insert(position, "default_period_days", pipeline.pop("period_days"))


# old section -> (its required keys, its mapper), in the order they are mapped
Mapper = Callable[[CommentedMap, CanonicalIndex, list[str]], NewSections]
MAPPERS: Final[dict[str, tuple[tuple[str, ...], Mapper]]] = {
    "prompts": (("normalization", "editorial"), _map_prompts),
    "sources": (("catalog", "include"), _map_sources),
    "scoring": (("scopes", "threshold"), _map_scoring),
    "newsletter": (("sections",), _map_newsletter),
}


def is_project_format(doc: CommentedMap) -> bool:
    pipeline = doc.get("pipeline")
    return any(k in doc for k in MAPPERS) or (isinstance(pipeline, dict) and "period_days" in pipeline)


def _from_project_format(doc: CommentedMap, index: CanonicalIndex, problems: list[str]) -> None:
    for key, (required, mapper) in MAPPERS.items():
        if key in doc and _required(doc[key], key, required, problems):
            _replace(doc, key, mapper(doc, index, problems), problems)
    _map_pipeline(doc)
    doc.pop("event_rules", None)


def migrate_text(
    text: str, *, today: date, version: str | None = None, canonical: CanonicalIndex | None = None
) -> Migrated:
    """The current-format text of the old config ``text`` (not validated here: the caller does).

    ``canonical``: the canonical files, needed for the previous project format (a scope's kind
    decides its watch-domain field). MigrationError lists what cannot be migrated.
    """
    if version is not None and not SEMVER.match(version):
        raise MigrationError([f"--version: {version!r} is not a semantic version MAJOR.MINOR.PATCH"])
    doc = _load(text)
    problems: list[str] = []
    identity = _identity(doc, version, problems)
    project = is_project_format(doc)
    if project:
        _from_project_format(doc, canonical or CanonicalIndex(), problems)
    _check_changelog(doc, problems)
    if problems or identity is None:
        raise MigrationError(problems)
    notes = ("sections of the previous project format mapped to the current format",) if project else ()
    if not project and _editable(doc):
        edits = _Text(text)
        _edit_profile(edits, doc["client_profile"], identity)
        _edit_metadata(edits, doc.get("metadata") or CommentedMap(), identity, today)
        text = edits.apply()
    else:
        _identity_round_trip(doc, identity, today)
        out = io.StringIO()
        _round_trip().dump(doc, out)
        text = out.getvalue()
    return Migrated(identity.old_id, identity.client_id, identity.version, text=text, notes=notes)
