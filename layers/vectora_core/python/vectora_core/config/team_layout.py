"""The team's canonical layout, read as the team writes it (no migration: the files are published
byte for byte, comments and all, and read here).

- ``scopes/<kind>_scopes.yaml``: several scope names per file, each a list of strings;
- ``sources/source_catalog.yaml``: ``sources:`` (one per ``source_key``) and ``bouquets:`` (named
  lists of source keys); ``sources/html_extractors.yaml``: ``extractors:`` keyed by source key;
- ``prompts/<purpose>/<name>.yaml``: ``metadata`` (``prompt_id``, ``version``...),
  ``system_instructions``, ``user_template``.

Each file becomes the project's own models (``Scope``, ``SourceCatalog`` per bouquet, ``Prompt``),
so the pipeline reads one kind of definition whatever layout it came from. Keys the models below
do not name (``tags``, ``default_language``, comments-as-keys...) are kept in the published file and
ignored here: the team's files carry many descriptive ones.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from vectora_core.config.schema import (
    HtmlExtractor,
    Identifier,
    Prompt,
    PromptPurpose,
    Scope,
    ScopeEntry,
    ScopeKind,
    Source,
    SourceCatalog,
)

# scopes/<file>.yaml -> the kind of every scope list in it (indications and exclusions are
# keyword lists: matched as words, as a technology scope's keywords are).
SCOPE_FILE_KINDS: Final[dict[str, ScopeKind]] = {
    "company_scopes": "companies",
    "molecule_scopes": "molecules",
    "technology_scopes": "technologies",
    "trademark_scopes": "trademarks",
    "indication_scopes": "keywords",
    "exclusion_scopes": "keywords",
}
# Top-level keys of a scope file that describe it rather than name a scope.
SCOPE_FILE_DESCRIPTIVE: Final = frozenset({"metadata", "description", "version", "notes"})
INGESTION_MODES: Final = ("html", "rss", "pubmed")
PROMPT_PURPOSES: Final = ("normalization", "editorial", "matching", "domain_scoring")


class _Team(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class TeamSource(_Team):
    source_key: Identifier
    company_id: str | None = None
    name: str | None = None
    homepage_url: str | None = None
    rss_url: str | None = None
    html_url: str | None = None
    ingestion_mode: str
    enabled: bool = True
    source_type: str | None = None
    date_extraction_patterns: list[str] = Field(default_factory=list)
    # PubMed sources: the search term, and the E-utilities base (the real NCBI by default).
    query: str | None = None
    eutils_base_url: HttpUrl | None = None


class TeamBouquet(_Team):
    bouquet_id: Identifier
    description: str = ""
    source_keys: list[Identifier] = Field(min_length=1)


class TeamCatalog(_Team):
    sources: list[TeamSource] = Field(default_factory=list)
    bouquets: list[TeamBouquet] = Field(default_factory=list)


class TeamExtractors(_Team):
    # Each extractor is validated by HtmlExtractor (strict: a typo in a selector is an error).
    extractors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    global_settings: dict[str, Any] = Field(default_factory=dict)


class TeamPromptMetadata(_Team):
    prompt_id: Identifier
    version: str | int | float
    purpose: PromptPurpose | None = None
    max_tokens: int | None = None
    temperature: float | None = None


class TeamPrompt(_Team):
    metadata: TeamPromptMetadata
    system_instructions: str = Field(min_length=1)
    user_template: str = Field(min_length=1)


def _errors(error: ValidationError, prefix: str) -> list[str]:
    from vectora_core.config.validation import field_path  # a cycle at import time otherwise

    problems = []
    for item in error.errors(include_url=False):
        path = field_path(tuple(item["loc"]))
        where = f"{prefix}.{path}" if prefix and path != "<document>" else prefix or path
        problems.append(f"{where}: {str(item['msg']).removeprefix('Value error, ')}")
    return problems


# --- scopes ---------------------------------------------------------------------------------------


def scope_lists(stem: str, document: Any) -> tuple[list[Scope], list[str]]:
    """The scopes of ``scopes/<stem>.yaml`` (name: [strings]); problems name the key."""
    kind = SCOPE_FILE_KINDS.get(stem)
    if kind is None:
        return [], [
            f"<document>: {stem}.yaml is neither a scope file of the project (scope_id: ...) nor one "
            f"of the team's scope lists ({', '.join(f'{k}.yaml' for k in SCOPE_FILE_KINDS)})"
        ]
    scopes, problems = [], []
    for name, values in document.items():
        if name in SCOPE_FILE_DESCRIPTIVE:
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            problems.append(f"{name}: a scope list is a list of non-empty strings")
            continue
        try:
            scopes.append(
                Scope(
                    scope_id=name,
                    kind=kind,
                    description=f"{name} ({stem}.yaml)",
                    entries=[ScopeEntry(name=v.strip()) for v in values],
                )
            )
        except ValidationError as err:
            problems += _errors(err, str(name))
    return scopes, problems


# --- sources, bouquets, extractors ---------------------------------------------------------------


def _source(team: TeamSource, extractor: HtmlExtractor | None) -> Source:
    fields: dict[str, Any] = {
        "id": team.source_key,
        "name": team.name or team.company_id or team.source_key,
        "type": team.ingestion_mode,
        "company": team.company_id,
        "enabled": team.enabled,
    }
    if team.ingestion_mode == "html":
        fields |= {
            "url": team.html_url,
            "extractor": extractor,
            "date_patterns": team.date_extraction_patterns,
        }
    elif team.ingestion_mode == "rss":
        fields["url"] = team.rss_url
    else:
        fields["query"] = team.query
        if team.eutils_base_url is not None:
            fields["eutils_base_url"] = team.eutils_base_url
    return Source.model_validate(fields)


def _team_sources(
    catalog: TeamCatalog, extractors: dict[str, HtmlExtractor], broken: set[str]
) -> tuple[dict[str, Source], set[str], list[str]]:
    """The catalog's sources, the keys of the invalid ones, and why each is invalid."""
    sources: dict[str, Source] = {}
    invalid: set[str] = set()
    problems = []
    for i, team in enumerate(catalog.sources):
        where = f"sources[{i}] ({team.source_key})"
        if team.source_key in sources or team.source_key in invalid:
            problems.append(f"{where}.source_key: {team.source_key!r} is defined twice in this file")
            invalid.add(team.source_key)
            continue
        if team.ingestion_mode not in INGESTION_MODES:
            if team.enabled:
                invalid.add(team.source_key)
                problems.append(
                    f"{where}.ingestion_mode: {team.ingestion_mode!r} cannot be fetched by this pipeline "
                    f"({', '.join(INGESTION_MODES)}); set enabled: false to keep it listed"
                )
            continue  # a disabled source of another mode stays in the file, unused
        if team.source_key in broken:  # its problem is reported with the extractors' file
            invalid.add(team.source_key)
            continue
        try:
            sources[team.source_key] = _source(team, extractors.get(team.source_key))
        except ValidationError as err:
            invalid.add(team.source_key)
            problems += [p.replace("url:", f"{team.ingestion_mode}_url:", 1) for p in _errors(err, where)]
    return sources, invalid, problems


def bouquets(
    document: Any, extractors: dict[str, HtmlExtractor], broken: set[str]
) -> tuple[list[SourceCatalog], set[str], list[str]]:
    """``sources/source_catalog.yaml``: one SourceCatalog per bouquet, the source keys it defines,
    and its problems (each naming the key). ``broken``: source keys whose extractor is invalid.

    A bouquet holding an invalid source is left out whole (a reference to it then fails, with
    these problems), never run without the source: a silently smaller bouquet is a quiet week.
    """
    try:
        catalog = TeamCatalog.model_validate(document)
    except ValidationError as err:
        return [], set(), _errors(err, "")
    sources, invalid, problems = _team_sources(catalog, extractors, broken)
    defined = {s.source_key for s in catalog.sources}
    found = []
    for b_index, bouquet in enumerate(catalog.bouquets):
        where = f"bouquets[{b_index}] ({bouquet.bouquet_id})"
        unknown = [k for k in bouquet.source_keys if k not in defined]
        if unknown:
            problems.append(f"{where}.source_keys: not sources of this catalog: {', '.join(unknown)}")
            continue
        bad = [k for k in dict.fromkeys(bouquet.source_keys) if k in invalid]
        if bad:
            problems.append(f"{where}.source_keys: left out, invalid source(s): {', '.join(bad)}")
            continue
        chosen = [sources[k] for k in dict.fromkeys(bouquet.source_keys) if k in sources]
        if not chosen:
            problems.append(f"{where}.source_keys: none of them is a source this pipeline can fetch")
            continue
        found.append(
            SourceCatalog(
                catalog_id=bouquet.bouquet_id,
                description=bouquet.description or bouquet.bouquet_id,
                sources=chosen,
            )
        )
    return found, defined, problems


def extractors(document: Any) -> tuple[dict[str, HtmlExtractor], list[str]]:
    """``sources/html_extractors.yaml``: the extractor of each source key; problems name the key."""
    try:
        parsed = TeamExtractors.model_validate(document)
    except ValidationError as err:
        return {}, _errors(err, "")
    found, problems = {}, []
    for key, body in parsed.extractors.items():
        if not isinstance(body, dict):
            problems.append(f"extractors.{key}: an extractor is a mapping (selectors, date_format...)")
            continue
        try:
            found[key] = HtmlExtractor.model_validate(body)
        except ValidationError as err:
            problems += _errors(err, f"extractors.{key}")
    return found, problems


# --- prompts --------------------------------------------------------------------------------------


def prompt(folders: list[str], document: Any) -> tuple[Prompt | None, list[str]]:
    """A nested prompt (``prompts/<purpose>/<name>.yaml``): its purpose is its metadata's, else
    its folder's."""
    try:
        team = TeamPrompt.model_validate(document)
    except ValidationError as err:
        return None, _errors(err, "")
    purpose: str | None = team.metadata.purpose or next((f for f in folders if f in PROMPT_PURPOSES), None)
    if purpose is None:
        return None, [
            f"metadata.purpose: required outside the folders {', '.join(PROMPT_PURPOSES)} "
            f"(one of {', '.join(PROMPT_PURPOSES)})"
        ]
    fields: dict[str, Any] = {
        "prompt_id": team.metadata.prompt_id,
        "purpose": purpose,
        "version": str(team.metadata.version),
        "system": team.system_instructions,
        "user_template": team.user_template,
    }
    for name in ("max_tokens", "temperature"):
        if getattr(team.metadata, name) is not None:
            fields[name] = getattr(team.metadata, name)
    try:
        return Prompt.model_validate(fields), []
    except ValidationError as err:
        return None, [_team_field_names(p) for p in _errors(err, "")]


def _team_field_names(problem: str) -> str:
    """A Prompt problem in the team's words: its ``system`` is their ``system_instructions``."""
    return re.sub(r"(^|<document>: |; )system:", r"\1system_instructions:", problem)
