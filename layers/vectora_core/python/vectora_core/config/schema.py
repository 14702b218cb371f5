"""The client-config schema (``clients/<client_id>.yaml``) and the canonical files' schemas.

One pydantic model per file kind, used by the validation script, the publish script and the three
pipeline functions alike: a config the pipeline would refuse never reaches a bucket.

Client configs use the format the Vectora Inbox team writes (``client_profile``, ``watch_domains``,
``source_config``, ``matching_config``, ``scoring_config``, ``newsletter_selection``,
``newsletter_layout``, ``newsletter_delivery``, ``bedrock_config``, ``metadata``). Identity and
versioning are strict; the business sections are typed; a key the schema does not know is kept
(``extra="allow"``) and reported once as a warning (``validation.unknown_keys``), never rejected.
Canonical files are the project's own and stay strict: a typo there is an error.
"""

from __future__ import annotations

import re
import string
from datetime import date
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vectora_core.naming import CLIENT_ID_RULE, is_client_id

# "lai_weekly_v7", "lai_weekly_v7_1", "lai_weekly_v7.1": the old habit of versioning the id itself.
VERSION_SUFFIX = re.compile(r"_v\d+(?:[._]\d+)*$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
PUBMED_EUTILS_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
# Matching scores (matching_config, deduplication) are fractions; the team's own rule keeps them
# away from the extremes, where a threshold matches everything or nothing.
THRESHOLD_RANGE: Final = (0.1, 0.9)

EventType = Literal[
    "partnership",
    "clinical_update",
    "regulatory",
    "regulatory_approval",
    "nda_submission",
    "pivotal_trial_result",
    "corporate_move",
    "financial_results",
    "safety_signal",
    "manufacturing_supply",
    "scientific_publication",
    "other",  # what the normalizer answers when no type fits
]
EVENT_TYPES: Final[tuple[str, ...]] = get_args(EventType)
# A newsletter section's filter_event_types: event types, or the catch-all "*" alone.
EventFilter = Literal[EventType, "*"]
ANY_EVENT: Final[Literal["*"]] = "*"
ScopeKind = Literal["companies", "molecules", "technologies", "keywords", "trademarks"]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Language = Literal["en", "fr", "de", "es", "it"]
LANGUAGE_NAMES: Final[dict[str, str]] = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
}


def check_semver(value: str) -> str:
    if not SEMVER.match(value):
        raise ValueError(f"must be a semantic version MAJOR.MINOR.PATCH such as 7.0.0, got {value!r}")
    return value


def semver_key(version: str) -> tuple[int, ...]:
    """``"7.10.0"`` -> ``(7, 10, 0)``: versions compare as numbers, not as text."""
    match = SEMVER.match(version)
    return tuple(int(g) for g in match.groups()) if match else (-1,)


def _threshold(value: float) -> float:
    low, high = THRESHOLD_RANGE
    if not low <= value <= high:
        raise ValueError(f"a score threshold must lie within {low}-{high}, got {value}")
    return value


SemVer = Annotated[str, AfterValidator(check_semver)]
Threshold = Annotated[float, AfterValidator(_threshold)]


class _Open(BaseModel):
    # The team's configs carry descriptive keys this schema does not model: they are kept (and
    # listed in one warning), so a config goes through publish and back unchanged.
    model_config = ConfigDict(extra="allow", frozen=True)


class _Strict(BaseModel):
    # Canonical files are the project's own: a typo in a key must be an error there.
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- client config ------------------------------------------------------------------------------


class ClientProfile(_Open):
    name: str = Field(min_length=1, description="also the newsletter's title")
    # version is declared before client_id so that the client_id check can quote it.
    version: SemVer
    client_id: str
    active: bool = Field(default=True, description="false: skipped when the pipeline runs for all clients")
    language: Language = "en"
    frequency: Literal["daily", "weekly", "biweekly", "monthly"] = "weekly"
    tone: str | None = Field(default=None, description="for the editorial prompt")
    voice: str | None = None
    target_audience: str | None = None

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
        if not is_client_id(value):
            raise ValueError(f"{value!r} is not allowed: {CLIENT_ID_RULE}")
        return value


class PipelineSettings(_Open):
    """A client config's ``pipeline:`` section (not the state machine: ``naming.Pipeline``)."""

    newsletter_mode: Literal["latest_run_only"] = "latest_run_only"
    default_period_days: int = Field(default=7, ge=1, le=90)
    notes: str | None = None
    # Not in the team's format, needed by this pipeline (defaults apply when absent):
    max_items_per_source: int = Field(default=50, ge=1, le=500, description="RSS entries / PubMed ids")
    bedrock_concurrency: int = Field(default=8, ge=1, le=32, description="model calls in flight")


class BedrockConfig(_Open):
    normalization_prompt: Identifier = Field(description="canonical/prompts/<name>.yaml")
    editorial_prompt: Identifier
    matching_prompt: Identifier | None = None
    domain_scoring_prompt: Identifier | None = None
    enable_domain_scoring: bool = False


# watch-domain field -> the scope kinds it may name
SCOPE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "technology_scope": ("technologies", "keywords"),
    "company_scope": ("companies",),
    "molecule_scope": ("molecules",),
    "trademark_scope": ("trademarks",),
}


class WatchDomain(_Open):
    id: Identifier
    type: Identifier | None = Field(default=None, description="e.g. technology, regulatory")
    priority: Literal["high", "medium", "low"] | None = None
    technology_scope: Identifier | None = Field(default=None, description="canonical/scopes/<name>.yaml")
    company_scope: Identifier | None = None
    molecule_scope: Identifier | None = None
    trademark_scope: Identifier | None = None
    technology_profile: str | None = None
    matching_profile: str | None = None
    enabled: bool = True
    notes: str | None = None

    @model_validator(mode="after")
    def _some_scope(self) -> WatchDomain:
        if not self.scopes():
            raise ValueError(f"a watch domain names at least one of {', '.join(SCOPE_FIELDS)}")
        return self

    def scopes(self) -> dict[str, str]:
        """``{field: scope name}`` for the scope fields this domain sets."""
        return {name: getattr(self, name) for name in SCOPE_FIELDS if getattr(self, name)}


class ContentFilters(_Open):
    min_word_count: int | None = Field(default=None, ge=0)
    exclude_patterns: list[str] = Field(default_factory=list)


class SourceConfig(_Open):
    source_bouquets_enabled: list[Identifier] = Field(
        default_factory=list, description="canonical/sources/<bouquet>.yaml, every source in it"
    )
    sources_extra_enabled: list[Identifier] = Field(
        default_factory=list, description="source ids of any canonical catalog"
    )
    bouquet_ingestion_overrides: dict[Identifier, dict[str, Any]] = Field(default_factory=dict)
    content_filters: ContentFilters | None = None

    @model_validator(mode="after")
    def _some_source(self) -> SourceConfig:
        if not self.source_bouquets_enabled and not self.sources_extra_enabled:
            raise ValueError("enable at least one bouquet (source_bouquets_enabled) or source")
        return self


class TrademarkPrivileges(_Open):
    enabled: bool = False
    auto_match_threshold: Threshold | None = None
    boost_factor: float | None = Field(default=None, gt=0, le=10)


class MatchingConfig(_Open):
    min_domain_score: Threshold | None = None
    min_confidence_level: Literal["low", "medium", "high"] | None = None
    domain_type_thresholds: dict[Identifier, Threshold] = Field(default_factory=dict)
    enable_fallback_mode: bool = False
    fallback_min_score: Threshold | None = None
    fallback_max_domains: int | None = Field(default=None, ge=1)
    fallback_company_scopes: list[Identifier] = Field(default_factory=list)
    max_domains_per_item: int | None = Field(default=None, ge=1)
    default_matching_mode: Literal["strict", "balanced", "broad"] | None = None
    domain_type_overrides: dict[Identifier, dict[str, Any]] = Field(default_factory=dict)
    trademark_privileges: TrademarkPrivileges | None = None


class Bonus(_Open):
    scope: Identifier = Field(description="canonical/scopes/<name>.yaml: added when the item mentions it")
    bonus: float = Field(ge=-50, le=50)
    description: str | None = None


class SelectionOverrides(_Open):
    min_score: float | None = Field(default=None, ge=0)
    min_items_per_section: int | None = Field(default=None, ge=0)
    max_items_total: int | None = Field(default=None, ge=1, le=200)


class ScoringConfig(_Open):
    event_type_weight_overrides: dict[EventType, float] = Field(default_factory=dict)
    client_specific_bonuses: dict[Identifier, Bonus] = Field(default_factory=dict)
    selection_overrides: SelectionOverrides | None = None

    @field_validator("event_type_weight_overrides")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [f"{k}: {w}" for k, w in value.items() if not 0 <= w <= 100]
        if bad:
            raise ValueError(f"event-type weights lie within 0-100, got {', '.join(bad)}")
        return value


class Deduplication(_Open):
    enabled: bool = True
    similarity_threshold: Threshold | None = None


class NewsletterSelection(_Open):
    max_items_total: int | None = Field(default=None, ge=1, le=200)
    min_score_threshold: float | None = Field(default=None, ge=0)
    critical_event_types: list[EventType] = Field(default_factory=list)
    trimming_policy: dict[str, Any] = Field(default_factory=dict)
    deduplication: Deduplication | None = None


def _any_event() -> list[EventFilter]:
    return [ANY_EVENT]


class LayoutSection(_Open):
    id: Identifier
    title: str = Field(min_length=1)
    source_domains: list[Identifier] | None = Field(
        default=None, description="watch-domain ids; absent: any item"
    )
    max_items: int = Field(ge=1, le=50)
    filter_event_types: list[EventFilter] = Field(default_factory=_any_event, min_length=1)
    sort_by: Literal["score_desc", "date_desc"] = "score_desc"
    priority: int | None = Field(default=None, description="lower first; absent: after the numbered ones")

    @field_validator("filter_event_types")
    @classmethod
    def _catch_all_alone(cls, value: list[str]) -> list[str]:
        if ANY_EVENT in value and len(value) > 1:
            raise ValueError(f"{ANY_EVENT!r} (any event type) stands alone, got {value}")
        return value

    def accepts(self, event_type: str) -> bool:
        return ANY_EVENT in self.filter_event_types or event_type in self.filter_event_types


class NewsletterLayout(_Open):
    distribution_strategy: str | None = None
    sections: list[LayoutSection] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_sections(self) -> NewsletterLayout:
        ids = [s.id for s in self.sections]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"section ids must be unique, repeated: {', '.join(duplicated)}")
        return self

    def ordered(self) -> list[LayoutSection]:
        """By ``priority`` (lower first; ties and unnumbered sections keep the file's order)."""
        indexed = list(enumerate(self.sections))
        indexed.sort(key=lambda pair: (pair[1].priority is None, pair[1].priority or 0, pair[0]))
        return [section for _, section in indexed]


class MetricsConfig(_Open):
    include_source_breakdown: bool = False
    include_domain_breakdown: bool = False
    include_trend_analysis: bool = False


class NewsletterDelivery(_Open):
    format: Literal["markdown", "html", "both"] = "markdown"
    include_tldr: bool = False
    include_intro: bool = True
    include_metrics: bool = False
    delivery_method: str | None = None
    notification_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    metrics_config: MetricsConfig | None = None


class ChangelogEntry(_Open):
    # Entries written before versions moved out of the client id may have none; the newest one
    # must name the config's version (a rule of validation.py).
    version: SemVer | None = None
    date: date
    changes: str | list[str]
    notes: str | None = None


class Metadata(_Open):
    config_version: SemVer
    changelog: list[ChangelogEntry] = Field(min_length=1)
    created_date: date | None = None
    last_modified: date | None = None
    min_runtime_version: SemVer | None = Field(default=None, description="oldest runtime able to run it")
    canonical_version: str | None = None
    vertical: str | None = None
    target_market: str | None = None
    coverage_scope: str | None = None
    owner: str | None = None


class ClientConfig(_Open):
    client_profile: ClientProfile
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    bedrock_config: BedrockConfig
    watch_domains: list[WatchDomain] = Field(min_length=1)
    source_config: SourceConfig
    matching_config: MatchingConfig = Field(default_factory=MatchingConfig)
    scoring_config: ScoringConfig
    newsletter_selection: NewsletterSelection = Field(default_factory=NewsletterSelection)
    newsletter_layout: NewsletterLayout
    newsletter_delivery: NewsletterDelivery = Field(default_factory=NewsletterDelivery)
    metadata: Metadata

    @property
    def client_id(self) -> str:
        return self.client_profile.client_id

    @property
    def version(self) -> str:
        return self.client_profile.version

    def enabled_domains(self) -> list[WatchDomain]:
        return [d for d in self.watch_domains if d.enabled]

    def scope_names(self) -> list[str]:
        """Every canonical scope the config names (domains, fallback, bonuses), each once."""
        names = [s for d in self.watch_domains for s in d.scopes().values()]
        names += self.matching_config.fallback_company_scopes
        names += [b.scope for b in self.scoring_config.client_specific_bonuses.values()]
        return list(dict.fromkeys(names))

    def prompt_names(self) -> list[str]:
        bedrock = self.bedrock_config
        names = [bedrock.normalization_prompt, bedrock.editorial_prompt]
        names += [n for n in (bedrock.matching_prompt, bedrock.domain_scoring_prompt) if n]
        return list(dict.fromkeys(names))


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
    # What a match of this scope is worth: its matched entries' weights (capped by the scoring
    # rules' max_points_per_scope) times this factor.
    match_weight: float = Field(default=1.0, gt=0, le=10)
    entries: list[ScopeEntry] = Field(min_length=1)


SCORING_RULES_ID: Final = "scoring_rules"


class ScoringRules(_Strict):
    """``canonical/scoring/scoring_rules.yaml``: how every client's items are scored by default."""

    rules_id: Literal["scoring_rules"]
    description: str = Field(min_length=1)
    # Points of an item's event type; a client's scoring_config.event_type_weight_overrides wins.
    event_type_weights: dict[EventType, float]
    max_points_per_scope: float = Field(gt=0, le=100)
    # An item the normalizer judged off-topic keeps this fraction of its score.
    not_relevant_factor: float = Field(ge=0, le=1)
    # The selection threshold when the client sets none (newsletter_selection.min_score_threshold).
    default_min_score: float = Field(ge=0)

    @field_validator("event_type_weights")
    @classmethod
    def _every_type(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [t for t in EVENT_TYPES if t not in value]
        if missing:
            raise ValueError(f"give a weight to every event type, missing: {', '.join(missing)}")
        return value


class HtmlSelectors(_Strict):
    """CSS selectors of an HTML news page (soupsieve's syntax). ``item`` is searched within
    ``container`` (the whole page without one); the others within each item. No ``url``: the
    item's first link; no ``title``: that link's text."""

    container: str | None = None
    item: str = Field(min_length=1)
    title: str | None = None
    url: str | None = None
    date: str | None = None
    description: str | None = None


class HtmlExtractor(_Strict):
    """How one HTML source's page is read (the team's ``html_extractors.yaml``, one per source)."""

    selectors: HtmlSelectors
    date_format: str | None = Field(default=None, description="strftime format of the date's text")
    base_url: HttpUrl | None = Field(default=None, description="relative links resolve against it")
    max_items: int | None = Field(default=None, ge=1, le=500)
    # False only for a site whose certificate chain does not verify; applies to that source alone.
    ssl_verify: bool = True


class Source(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    type: Literal["rss", "pubmed", "html"]
    url: HttpUrl | None = Field(default=None, description="feed URL (rss) or news page URL (html)")
    query: str | None = Field(default=None, description="PubMed search term (type pubmed)")
    eutils_base_url: HttpUrl = Field(default=HttpUrl(PUBMED_EUTILS_BASE_URL))
    company: str | None = None
    # false: listed but not fetched (the team's catalog keeps retired sources this way).
    enabled: bool = True
    # html: the page's extractor; none means the generic parser (articles, list items, table rows).
    extractor: HtmlExtractor | None = None
    # html: regexes finding an item's date in its text when the date selector/format do not.
    date_patterns: list[str] = Field(default_factory=list)

    @field_validator("date_patterns")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"{pattern!r} is not a regular expression: {err}") from None
        return value

    @property
    def ssl_verify(self) -> bool:
        return self.extractor.ssl_verify if self.extractor is not None else True

    @model_validator(mode="after")
    def _fields_of_type(self) -> Source:
        if self.type in ("rss", "html") and self.url is None:
            raise ValueError(f"an {self.type} source needs url")
        if self.type == "pubmed" and not self.query:
            raise ValueError("a pubmed source needs query")
        return self


class SourceCatalog(_Strict):
    """A source bouquet: ``canonical/sources/<catalog_id>.yaml``."""

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


PromptPurpose = Literal["normalization", "editorial", "matching", "domain_scoring"]
# The placeholders each prompt may use (str.format fields), filled by the pipeline. Matching and
# domain-scoring prompts may be named by a config, but the pipeline does not send them.
PROMPT_FIELDS: Final[dict[str, dict[str, frozenset[str]]]] = {
    "normalization": {
        "system": frozenset({"language", "event_types"}),
        "user_template": frozenset({"source_name", "published_at", "url", "title", "text", "known_entities"}),
    },
    "editorial": {
        "system": frozenset({"newsletter_title", "language", "tone", "voice", "target_audience"}),
        "user_template": frozenset({"period_start", "period_end", "sections_json"}),
    },
}
# What the bedrock_config field of each purpose is called.
PROMPT_CONFIG_FIELDS: Final[dict[str, str]] = {
    "normalization_prompt": "normalization",
    "editorial_prompt": "editorial",
    "matching_prompt": "matching",
    "domain_scoring_prompt": "domain_scoring",
}


class Prompt(_Strict):
    prompt_id: Identifier
    purpose: PromptPurpose
    version: str
    system: str = Field(min_length=1)
    user_template: str = Field(min_length=1, description="str.format template")
    max_tokens: int = Field(default=1024, ge=64, le=8192)
    temperature: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _known_placeholders(self) -> Prompt:
        # A typo in a placeholder would fail every item at run time: catch it when publishing.
        problems = []
        for part, allowed in PROMPT_FIELDS.get(self.purpose, {}).items():
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
