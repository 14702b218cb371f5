"""Which keys of a client config the pipeline honours, and which it reads past.

The format carries settings of the team's earlier engine (Bedrock domain matching, trimming
policies, delivery by e-mail...) that this pipeline does not implement. They are valid and kept;
``unused_keys`` names the ones a config sets, so a run can say once what it did not apply.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from vectora_core.config.schema import ClientConfig

# Field paths the pipeline reads ("[]": every element of a list).
USED: Final = frozenset(
    {
        *(
            f"client_profile.{k}"
            for k in (
                "name",
                "client_id",
                "version",
                "active",
                "language",
                "tone",
                "voice",
                "target_audience",
            )
        ),
        *(
            f"pipeline.{k}"
            for k in ("newsletter_mode", "default_period_days", "max_items_per_source", "bedrock_concurrency")
        ),
        "bedrock_config.normalization_prompt",
        "bedrock_config.editorial_prompt",
        *(
            f"watch_domains[].{k}"
            for k in (
                "id",
                "technology_scope",
                "company_scope",
                "molecule_scope",
                "trademark_scope",
                "enabled",
            )
        ),
        "source_config.source_bouquets_enabled",
        "source_config.sources_extra_enabled",
        "scoring_config.event_type_weight_overrides",
        "scoring_config.client_specific_bonuses",
        "scoring_config.selection_overrides.min_score",
        "scoring_config.selection_overrides.max_items_total",
        "newsletter_selection.max_items_total",
        "newsletter_selection.min_score_threshold",
        *(
            f"newsletter_layout.sections[].{k}"
            for k in (
                "id",
                "title",
                "source_domains",
                "max_items",
                "filter_event_types",
                "sort_by",
                "priority",
            )
        ),
        *(f"newsletter_delivery.{k}" for k in ("include_tldr", "include_intro", "include_metrics")),
        "newsletter_delivery.metrics_config.include_source_breakdown",
        "newsletter_delivery.metrics_config.include_domain_breakdown",
    }
)
# Descriptive by nature, never reported: the metadata section and free-text notes.
DESCRIPTIVE_SECTIONS: Final = frozenset({"metadata"})
DESCRIPTIVE_KEYS: Final = frozenset({"notes", "description"})


def _is_parent(path: str) -> bool:
    return any(used.startswith((f"{path}.", f"{path}[]")) for used in USED)


def _walk(model: BaseModel, prefix: str, found: list[str]) -> None:
    keys = [*model.model_fields_set, *(model.model_extra or {})]
    ordered = [k for k in [*type(model).model_fields, *(model.model_extra or {})] if k in keys]
    for key in ordered:
        path = f"{prefix}.{key}" if prefix else key
        if path in USED or key in DESCRIPTIVE_KEYS or path in DESCRIPTIVE_SECTIONS:
            continue
        value: Any = getattr(model, key, None)
        if isinstance(value, BaseModel) and _is_parent(path):
            _walk(value, path, found)
        elif isinstance(value, list) and _is_parent(path):
            for item in value:
                if isinstance(item, BaseModel):
                    _walk(item, f"{path}[]", found)
        elif path not in found:
            found.append(path)


def unused_keys(config: ClientConfig) -> list[str]:
    """Paths of the keys ``config`` sets that the pipeline does not use (a whole section when
    none of its keys is used), in the schema's order; ``[]`` stands for every list element."""
    found: list[str] = []
    _walk(config, "", found)
    return found
