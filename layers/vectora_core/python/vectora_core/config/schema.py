"""The client-config schema (``clients/<client_id>.yaml``) and the canonical files' schemas.

One pydantic model per file kind, used by the validation script, the publish script and the three
pipeline functions alike: a config the pipeline would refuse never reaches a bucket.
"""

from __future__ import annotations

import re
import string
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationInfo, field_validator, model_validator

CLIENT_ID_PATTERN = r"^[a-z][a-z0-9_]*[a-z0-9]$"
# "lai_weekly_v7", "lai_weekly_v7_1", "lai_weekly_v7.1": the old habit of versioning the id itself.
VERSION_SUFFIX = re.compile(r"_v\d+(?:[._]\d+)*$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
PUBMED_EUTILS_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"

EventType = Literal[
    "partnership",
    "acquisition",
    "financing",
    "clinical_trial",
    "regulatory",
    "product_launch",
    "scientific_publication",
    "corporate",
    "other",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]  # Literal keeps its values there
ScopeKind = Literal["companies", "molecules", "technologies", "keywords"]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class _Strict(BaseModel):
    # A typo in a key must be an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_semver(value: str) -> str:
    if not SEMVER.match(value):
        raise ValueError(f"must be a semantic version MAJOR.MINOR.PATCH such as 7.0.0, got {value!r}")
    return value


class ClientProfile(_Strict):
    # version is declared first so that the client_id check can quote it in its message.
    version: str
    client_id: str
    name: str = Field(min_length=1)
    language: Literal["en", "fr"] = "en"

    @field_validator("client_id")
    @classmethod
    def _stable_id(cls, value: str, info: ValidationInfo) -> str:
        suffix = VERSION_SUFFIX.search(value)
        if suffix:
            version = info.data.get("version") or "the semantic version (e.g. 7.0.0)"
            raise ValueError(
                f"must not carry a version suffix ({suffix.group(0)!r}); "
                f"put {version} in client_profile.version"
            )
        if not re.match(CLIENT_ID_PATTERN, value):
            raise ValueError(
                f"{value!r} is not allowed: lowercase letters, digits and underscores, starting with a letter"
            )
        return value

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        return check_semver(value)


class ChangelogEntry(_Strict):
    version: str
    date: date
    changes: str = Field(min_length=1)

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        return check_semver(value)


class Metadata(_Strict):
    config_version: str
    changelog: list[ChangelogEntry] = Field(min_length=1)
    owner: str | None = None


class SourceSelection(_Strict):
    catalog: Identifier = Field(description="canonical/sources/<catalog>.yaml")
    include: list[Identifier] = Field(min_length=1, description="source ids of that catalog")


class ScopeWeight(_Strict):
    scope: Identifier = Field(description="canonical/scopes/<scope>.yaml")
    weight: float = Field(gt=0, le=10)


class Scoring(_Strict):
    event_rules: Identifier = Field(
        description="canonical/scopes/<name>.yaml, used by the offline normalizer"
    )
    scopes: list[ScopeWeight] = Field(min_length=1)
    event_type_weights: dict[EventType, float] = Field(default_factory=dict)
    threshold: float = Field(ge=0)
    # A matched entity counts once per item, whatever the number of mentions.
    max_points_per_scope: float = Field(default=10.0, gt=0)


class Section(_Strict):
    id: Identifier
    title: str = Field(min_length=1)
    event_types: list[EventType] = Field(min_length=1)
    max_items: int = Field(default=5, ge=1, le=50)


class Newsletter(_Strict):
    title: str = Field(min_length=1)
    sections: list[Section] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_sections(self) -> Newsletter:
        ids = [s.id for s in self.sections]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"section ids must be unique, repeated: {', '.join(duplicated)}")
        return self


class Prompts(_Strict):
    normalization: Identifier = Field(description="canonical/prompts/<name>.yaml")
    editorial: Identifier


class Pipeline(_Strict):
    period_days: int = Field(ge=1, le=31)
    max_items_per_source: int = Field(default=50, ge=1, le=500)
    bedrock_concurrency: int = Field(default=8, ge=1, le=32)


class ClientConfig(_Strict):
    client_profile: ClientProfile
    metadata: Metadata
    sources: SourceSelection
    scoring: Scoring
    newsletter: Newsletter
    prompts: Prompts
    pipeline: Pipeline

    @property
    def client_id(self) -> str:
        return self.client_profile.client_id


# --- canonical files -------------------------------------------------------------------------------


class ScopeEntry(_Strict):
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0, le=10)
    note: str | None = None


class Scope(_Strict):
    scope_id: Identifier
    kind: ScopeKind
    description: str = Field(min_length=1)
    entries: list[ScopeEntry] = Field(min_length=1)


class EventRule(_Strict):
    event_type: EventType
    keywords: list[str] = Field(min_length=1)


class EventRules(_Strict):
    """Keywords that the offline normalizer uses to guess an event type (first match wins)."""

    rules_id: Identifier
    description: str
    rules: list[EventRule] = Field(min_length=1)


class Source(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    type: Literal["rss", "pubmed"]
    url: HttpUrl | None = Field(default=None, description="RSS/Atom feed URL (type rss)")
    query: str | None = Field(default=None, description="PubMed search term (type pubmed)")
    eutils_base_url: HttpUrl = Field(default=HttpUrl(PUBMED_EUTILS_BASE_URL))
    company: str | None = None

    @model_validator(mode="after")
    def _fields_of_type(self) -> Source:
        if self.type == "rss" and self.url is None:
            raise ValueError("an rss source needs url")
        if self.type == "pubmed" and not self.query:
            raise ValueError("a pubmed source needs query")
        return self


class SourceCatalog(_Strict):
    catalog_id: Identifier
    description: str
    # A fixture catalog points at a local test server; the label travels into every output.
    fixture: bool = False
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> SourceCatalog:
        ids = [s.id for s in self.sources]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"source ids must be unique, repeated: {', '.join(duplicated)}")
        return self

    def by_id(self) -> dict[str, Source]:
        return {s.id: s for s in self.sources}


LANGUAGE_NAMES = {"en": "English", "fr": "French"}
# The placeholders each prompt may use (str.format fields), filled by the pipeline.
PROMPT_FIELDS: dict[str, dict[str, frozenset[str]]] = {
    "normalization": {
        "system": frozenset({"language"}),
        "user_template": frozenset({"source_name", "published_at", "url", "title", "text", "known_entities"}),
    },
    "editorial": {
        "system": frozenset({"newsletter_title", "language"}),
        "user_template": frozenset({"period_start", "period_end", "sections_json"}),
    },
}


class Prompt(_Strict):
    prompt_id: Identifier
    purpose: Literal["normalization", "editorial"]
    version: str
    system: str = Field(min_length=1)
    user_template: str = Field(min_length=1, description="str.format template")
    max_tokens: int = Field(default=1024, ge=64, le=8192)
    temperature: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _known_placeholders(self) -> Prompt:
        # A typo in a placeholder would fail every item at run time: catch it when publishing.
        problems = []
        for part, allowed in PROMPT_FIELDS[self.purpose].items():
            try:
                used = {
                    name
                    for _, name, _, _ in string.Formatter().parse(getattr(self, part))
                    if name is not None
                }
            except ValueError as err:
                problems.append(
                    f"{part}: not a valid template ({err}); write literal braces as {{{{ and }}}}"
                )
                continue
            unknown = sorted(used - allowed)
            if unknown:
                problems.append(
                    f"{part}: unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; "
                    f"allowed: {', '.join('{' + a + '}' for a in sorted(allowed))}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self
