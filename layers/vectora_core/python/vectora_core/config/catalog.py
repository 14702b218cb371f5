"""One index of the named definitions of ``canonical/``, whichever layout defines them.

A client config names scopes, bouquets and prompts; the project's layout keeps one per file
(``scopes/lai_companies.yaml``), the team's several per file (``scopes/company_scopes.yaml``,
``sources/source_catalog.yaml``'s bouquets, ``prompts/normalization/*.yaml``). Both are read
into the same ``CanonicalIndex``, each definition remembering its file and key, so a reference
resolves by name wherever it lives and a name defined twice is refused naming both places.
Files in other folders (the team's ``ingestion/``, ``events/``, ``parsing/``) are published and
kept; they only need to be YAML here, since the pipeline does not read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Final

from pydantic import BaseModel

from vectora_core.config import team_layout
from vectora_core.config.schema import HtmlExtractor, Prompt, Scope, ScoringRules, SourceCatalog
from vectora_core.config.validation import CanonicalIndex, parse_yaml, validate_canonical_text

# What each kind of definition is called in a message.
KINDS: Final[dict[type[BaseModel], str]] = {
    Scope: "scope",
    SourceCatalog: "bouquet",
    Prompt: "prompt",
    ScoringRules: "scoring rules",
}


@dataclass(frozen=True)
class CanonicalText:
    """One file of ``canonical/``: ``path`` below it (``scopes/company_scopes.yaml``), ``where``
    to name it in a message (a repository path, a bucket key), and its text."""

    path: str
    where: str
    text: str

    @property
    def folders(self) -> list[str]:
        return list(PurePosixPath(self.path).parts[:-1])

    @property
    def stem(self) -> str:
        return PurePosixPath(self.path).stem


class _Builder:
    def __init__(self) -> None:
        self.index = CanonicalIndex()
        self.problems: list[str] = []
        self.extractors: dict[str, tuple[HtmlExtractor, str]] = {}
        self.broken_extractors: set[str] = set()
        self.team_sources: set[str] = set()
        self.unreadable_catalog = False

    def report(self, where: str, found: Iterable[str]) -> None:
        self.problems += [f"{where}: {p}" for p in found]

    def define(self, model: BaseModel, origin: str) -> None:
        """Add a definition; a name already defined is refused naming both places."""
        kind = KINDS[type(model)]
        name = _name(model)
        first = self.index.origins.get((kind, name))
        if first is not None:
            line = f"{origin}: {kind} {name!r} is already defined by {first}; a name is defined once"
            self.problems.append(line)
            self.index.duplicates[(kind, name)] = line
            return
        self.index.origins[(kind, name)] = origin
        if isinstance(model, SourceCatalog):
            self.index.catalogs[name] = model
        elif isinstance(model, Scope):
            self.index.scopes[name] = model
        elif isinstance(model, Prompt):
            self.index.prompts[name] = model
        elif isinstance(model, ScoringRules):
            self.index.scoring_rules = model

    def project_file(self, file: CanonicalText, id_field: str) -> None:
        parsed, found = validate_canonical_text(file.folders[0], file.stem, file.text)
        self.report(file.where, found)
        if parsed is not None:
            self.define(parsed, f"{file.where} ({id_field})")

    def team_scopes(self, file: CanonicalText, document: Mapping[str, Any]) -> None:
        scopes, found = team_layout.scope_lists(file.stem, document)
        self.report(file.where, found)
        for scope in scopes:
            self.define(scope, f"{file.where}: {scope.scope_id}")

    def team_extractors(self, file: CanonicalText, document: Any) -> None:
        found_extractors, found = team_layout.extractors(document)
        self.report(file.where, found)
        if isinstance(document.get("extractors"), Mapping):
            self.broken_extractors |= {str(k) for k in document["extractors"]} - set(found_extractors)
        for key, extractor in found_extractors.items():
            if key in self.extractors:
                self.problems.append(
                    f"{file.where}: extractors.{key}: already defined by {self.extractors[key][1]}"
                )
                continue
            self.extractors[key] = (extractor, f"{file.where}: extractors.{key}")

    def team_catalog(self, file: CanonicalText, document: Any) -> None:
        chosen = {key: extractor for key, (extractor, _) in self.extractors.items()}
        catalogs, defined, found = team_layout.bouquets(document, chosen, self.broken_extractors)
        self.report(file.where, found)
        self.unreadable_catalog |= not defined and bool(found)
        self.team_sources |= defined
        for i, catalog in enumerate(catalogs):
            self.define(catalog, f"{file.where}: bouquets ({catalog.catalog_id}, #{i})")

    def team_prompt(self, file: CanonicalText, document: Any) -> None:
        parsed, found = team_layout.prompt(file.folders[1:], document)
        self.report(file.where, found)
        if parsed is not None:
            self.define(parsed, f"{file.where} (metadata.prompt_id)")

    def orphan_extractors(self) -> None:
        for key, (_, origin) in self.extractors.items():
            if key not in self.team_sources:
                self.problems.append(
                    f"{origin}: no source {key!r} in a source catalog (sources[].source_key)"
                )


def _name(model: BaseModel) -> str:
    for field in ("scope_id", "catalog_id", "prompt_id", "rules_id"):
        if hasattr(model, field):
            return str(getattr(model, field))
    raise TypeError(type(model).__name__)  # pragma: no cover  # KINDS lists every model


def _kind(file: CanonicalText, document: Any) -> str:
    """Which reader a file needs: by its folder, then by the keys that tell the layouts apart."""
    folder = file.folders[0] if file.folders else ""
    keys = set(document) if isinstance(document, Mapping) else set()
    if folder == "scopes":
        return "project" if "scope_id" in keys else "team_scopes"
    if folder == "sources":
        if "catalog_id" in keys:
            return "project"
        return "team_extractors" if "extractors" in keys else "team_catalog"
    if folder == "prompts":
        return "project" if "prompt_id" in keys else "team_prompt"
    if folder == "scoring":
        return "project"
    return "carried"


def build_index(files: Iterable[CanonicalText]) -> tuple[CanonicalIndex, list[str]]:
    """Every definition of ``files`` indexed by name, and every problem (``<where>: <key>: why``)."""
    builder = _Builder()
    parsed: list[tuple[CanonicalText, Any, str]] = []
    for file in files:
        document, found = parse_yaml(file.text)
        if found:
            builder.report(file.where, found)
            continue
        kind = _kind(file, document)
        if kind not in ("project", "carried") and not isinstance(document, Mapping):
            builder.report(
                file.where, [f"<document>: must be a mapping of keys, got {type(document).__name__}"]
            )
            continue
        parsed.append((file, document, kind))
    # Extractors first (a catalog's html sources take theirs when it is read), then every file in
    # path order: of two definitions of a name, the second in that order is the one refused.
    parsed.sort(key=lambda entry: (entry[2] != "team_extractors", entry[0].path))
    for file, document, kind in parsed:
        if kind == "project":
            builder.project_file(file, _id_field(file))
        elif kind != "carried":
            getattr(builder, kind)(file, document)
    if not builder.unreadable_catalog:  # else every extractor of it would be reported twice
        builder.orphan_extractors()
    return builder.index, builder.problems


def _id_field(file: CanonicalText) -> str:
    return {"scopes": "scope_id", "sources": "catalog_id", "prompts": "prompt_id"}.get(
        file.folders[0], "rules_id"
    )
