"""Matching canonical scopes in text, and the explainable score of a normalized item."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vectora_core.config.schema import Scope, ScopeEntry, Scoring


def _pattern(alias: str) -> re.Pattern[str]:
    # Short all-caps acronyms (LAI, SC, IM) only match in capitals: "lai" or "im" are other words.
    flags = 0 if (alias.isupper() and len(alias) <= 5) else re.IGNORECASE
    return re.compile(r"(?<![\w-])" + re.escape(alias) + r"(?![\w-])", flags)


@dataclass(frozen=True)
class ScopeMatcher:
    scope: Scope
    patterns: tuple[tuple[ScopeEntry, tuple[re.Pattern[str], ...]], ...]

    @classmethod
    def of(cls, scope: Scope) -> ScopeMatcher:
        return cls(
            scope,
            tuple((e, tuple(_pattern(a) for a in (e.name, *e.aliases))) for e in scope.entries),
        )

    def match(self, text: str) -> list[ScopeEntry]:
        """Entries named (by name or alias) in ``text``, each once, in the scope's order."""
        return [entry for entry, patterns in self.patterns if any(p.search(text) for p in patterns)]


def score_item(
    text: str,
    event_type: str,
    lai_relevant: bool,
    matchers: list[tuple[ScopeMatcher, float]],
    scoring: Scoring,
) -> tuple[float, dict[str, Any]]:
    """Σ per scope min(cap, Σ matched entry weights) x scope weight, + the event type's weight.

    An item the normalizer judged not about LAI keeps half its score: it can still pass the
    threshold on strong entity matches, but never on the event type alone.
    """
    details: dict[str, Any] = {"scopes": {}}
    total = 0.0
    for matcher, weight in matchers:
        matched = matcher.match(text)
        points = min(scoring.max_points_per_scope, sum(e.weight for e in matched)) * weight
        if matched:
            details["scopes"][matcher.scope.scope_id] = {
                "matched": [e.name for e in matched],
                "points": round(points, 2),
            }
        total += points
    event_points = scoring.event_type_weights.get(event_type, 0.0)  # type: ignore[call-overload]  # Literal keys
    details["event_type"] = {"event_type": event_type, "points": event_points}
    total += event_points
    if not lai_relevant:
        total *= 0.5
        details["not_lai_relevant_factor"] = 0.5
    return round(total, 2), details
