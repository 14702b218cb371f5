"""Matching canonical scopes in text, the watch domains an item matches, and its explainable score.

The rules (``canonical/scoring/scoring_rules.yaml``, the config's ``scoring_config`` on top):

- an item matches a watch domain when it names an entry of one of the domain's scopes;
- each scope of the matched domains scores min(max_points_per_scope, its named entries' weights)
  times the scope's ``match_weight``, once per item whatever the number of domains naming it;
- the event type adds its weight (``event_type_weight_overrides`` over the canonical weights);
- each ``client_specific_bonuses`` entry whose scope the item names adds its bonus;
- an item the normalizer judged off-topic keeps ``not_relevant_factor`` of the total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vectora_core.config.loading import ClientBundle
from vectora_core.config.schema import Bonus, Scope, ScopeEntry, WatchDomain


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


@dataclass(frozen=True)
class Score:
    value: float
    domains: list[str]  # the ids of the watch domains the item matches, in the config's order
    details: dict[str, Any]


@dataclass(frozen=True)
class Scorer:
    """Everything a client's scoring needs, compiled once per run (the matchers are regexes)."""

    domains: tuple[tuple[WatchDomain, tuple[str, ...]], ...]  # enabled domains and their scope names
    matchers: dict[str, ScopeMatcher]
    bonuses: tuple[tuple[str, Bonus], ...]
    event_weights: dict[str, float]
    max_points_per_scope: float
    not_relevant_factor: float

    @classmethod
    def of(cls, bundle: ClientBundle) -> Scorer:
        config, rules = bundle.config, bundle.scoring_rules
        return cls(
            domains=tuple((d, tuple(d.scopes().values())) for d in config.enabled_domains()),
            matchers={name: ScopeMatcher.of(scope) for name, scope in bundle.scopes.items()},
            bonuses=tuple(config.scoring_config.client_specific_bonuses.items()),
            event_weights={
                str(k): w
                for weights in (rules.event_type_weights, config.scoring_config.event_type_weight_overrides)
                for k, w in weights.items()
            },
            max_points_per_scope=rules.max_points_per_scope,
            not_relevant_factor=rules.not_relevant_factor,
        )

    def score(self, text: str, event_type: str, relevant: bool) -> Score:
        named = {name: matcher.match(text) for name, matcher in self.matchers.items()}
        domains = [d.id for d, scopes in self.domains if any(named[s] for s in scopes)]
        scoring_scopes = dict.fromkeys(s for d, scopes in self.domains if d.id in domains for s in scopes)
        details: dict[str, Any] = {"domains": domains, "scopes": {}}
        total = 0.0
        for name in scoring_scopes:
            entries = named[name]
            if not entries:
                continue
            scope = self.matchers[name].scope
            points = min(self.max_points_per_scope, sum(e.weight for e in entries)) * scope.match_weight
            details["scopes"][name] = {"matched": [e.name for e in entries], "points": round(points, 2)}
            total += points
        event_points = self.event_weights.get(event_type, 0.0)
        details["event_type"] = {"event_type": event_type, "points": event_points}
        total += event_points
        bonuses = {key: bonus.bonus for key, bonus in self.bonuses if named[bonus.scope]}
        if bonuses:
            details["bonuses"] = bonuses
            total += sum(bonuses.values())
        if not relevant:
            total *= self.not_relevant_factor
            details["not_relevant_factor"] = self.not_relevant_factor
        return Score(round(total, 2), domains, details)


def selection_threshold(bundle: ClientBundle) -> float:
    """The score an item needs to be selected: the config's (overrides first), else the canonical default."""
    config = bundle.config
    overrides = config.scoring_config.selection_overrides
    for value in (
        overrides.min_score if overrides else None,
        config.newsletter_selection.min_score_threshold,
    ):
        if value is not None:
            return value
    return bundle.scoring_rules.default_min_score


def max_items_total(bundle: ClientBundle) -> int | None:
    """The newsletter's cap on items (overrides first); None: only the sections' own caps."""
    config = bundle.config
    overrides = config.scoring_config.selection_overrides
    if overrides and overrides.max_items_total is not None:
        return overrides.max_items_total
    return config.newsletter_selection.max_items_total
