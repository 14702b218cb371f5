"""The local Bedrock model: answers a Converse conversation from the request alone, deterministically.

It reads the request as a model would, without knowing the pipeline's code: the task from the JSON
contract the system prompt spells out (``"summary"`` / ``"event_type"``: normalize a news item;
``"intro"`` / ``"sections"``: write a newsletter's editorial), the allowed event types from the
prompt's own ``"event_type": one of a, b, c`` list, the data from the user message (``Title:``,
``Text:``, ``Published:``, ``Source:`` lines and the ``Entities this newsletter follows ...:
companies: A, B; molecules: ...`` line; the sections JSON of an editorial request). Nothing is
random and nothing depends on the clock, so the same request always gets the same answer.

Every text it writes starts with ``LABEL``: a newsletter built on it can never pass for one written
by a real model.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any, Final

LABEL: Final = "[local Bedrock emulator]"
SUMMARY_MAX_CHARS: Final = 400
SECTION_MAX_CHARS: Final = 300
INTRO_MAX_CHARS: Final = 1000

# Words that say what happened, per event type; earlier (more specific) types win. Only the types
# the prompt allows are used; an allowed type missing here is recognised by its own name.
EVENT_KEYWORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("safety_signal", ("safety signal", "adverse event", "boxed warning", "recall", "safety concern")),
    ("regulatory_approval", ("approval", "approves", "approved", "authorisation", "authorization")),
    ("nda_submission", ("nda", "bla", "maa", "submission", "submits", "submitted", "filing")),
    ("pivotal_trial_result", ("pivotal", "topline", "top-line", "primary endpoint", "phase 3 results")),
    ("regulatory", ("fda", "ema", "chmp", "regulatory", "approval", "approved", "nda", "submission")),
    ("acquisition", ("acquire", "acquires", "acquisition", "merger", "takeover", "buyout")),
    ("partnership", ("partnership", "partner", "collaboration", "license", "licensing", "alliance")),
    ("financial_results", ("quarterly results", "revenue", "earnings", "fiscal", "financial results")),
    ("financing", ("raises", "financing", "funding", "offering", "private placement", "series a")),
    ("clinical_update", ("phase 1", "phase 2", "phase 3", "trial", "study", "enrolment", "enrollment")),
    ("clinical_trial", ("phase 1", "phase 2", "phase 3", "trial", "study", "enrolment", "enrollment")),
    ("manufacturing_supply", ("manufacturing", "supply", "facility", "plant", "shortage")),
    ("product_launch", ("launch", "launches", "launched", "now available", "commercial availability")),
    ("scientific_publication", ("published in", "journal", "pubmed", "abstract", "publication")),
    ("corporate_move", ("appoints", "appointed", "ceo", "chief", "board", "restructuring", "layoffs")),
    ("corporate", ("appoints", "appointed", "ceo", "chief", "board", "restructuring", "layoffs")),
)
# Types that say "nothing specific", in order of preference, for an item no type's words match.
FALLBACK_EVENT_TYPES: Final = ("other", "corporate", "corporate_move")
# What makes an item about a long-acting injectable, besides a followed molecule or technology.
LAI_TERMS: Final = (
    "long-acting",
    "long acting",
    "extended-release",
    "extended release",
    "depot",
    "microsphere",
    "implant",
    "once-monthly",
    "once monthly",
    "lai",
)
MONTHS: Final = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE_PATTERNS: Final = (
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "%Y-%m-%d", "{0}-{1}-{2}"),
    (re.compile(rf"\b({MONTHS}) (\d{{1,2}}), (\d{{4}})\b"), "%B %d %Y", "{0} {1} {2}"),
    (re.compile(rf"\b(\d{{1,2}}) ({MONTHS}) (\d{{4}})\b"), "%d %B %Y", "{0} {1} {2}"),
)


def answer(system: str, user_turns: list[str]) -> str:
    """The model's text for a conversation: ``system`` prompt, the user turns' texts in order.

    The task's data is in the first user turn (a later one is a follow-up such as "that answer
    is not valid"), so the answer is built from it.
    """
    first = user_turns[0] if user_turns else ""
    keys = set(re.findall(r'"([A-Za-z_]+)"\s*:', system))
    if {"summary", "event_type"} <= keys:
        return json.dumps(normalization(system, first), ensure_ascii=False)
    if {"intro", "sections"} <= keys:
        return json.dumps(editorial(first), ensure_ascii=False)
    return json.dumps(
        {
            "local_bedrock_emulator": True,
            "answer": f"{LABEL} local answer: the system prompt asks for no task this emulator "
            "knows (a news item's normalization or a newsletter's editorial)",
        }
    )


# --- normalization -------------------------------------------------------------------------------


def allowed_event_types(system: str) -> list[str]:
    """The values of the prompt's ``"event_type": one of a, b, c`` list, in its order."""
    match = re.search(r'"event_type"\s*:\s*one of:?\s+(.+?)(?:;|\.\s|\n\s*"|$)', system, re.DOTALL)
    if not match:
        return []
    words = re.split(r"[,\s]+", match.group(1))
    return [w for w in words if re.fullmatch(r"[a-z][a-z0-9_]*", w) and w not in ("or", "and")]


def field(user: str, name: str) -> str:
    """A one-line ``Name: value`` field of the user message ('' if absent)."""
    match = re.search(rf"^{re.escape(name)}:[ \t]*(.*)$", user, re.MULTILINE)
    return match.group(1).strip() if match else ""


def body_text(user: str) -> str:
    """The ``Text:`` field, which may span lines, up to the followed-entities line."""
    match = re.search(
        r"^Text:[ \t]*(.*?)(?=^\s*Entities this newsletter follows|\Z)", user, re.MULTILINE | re.DOTALL
    )
    return match.group(1).strip() if match else ""


def followed_entities(user: str) -> dict[str, list[str]]:
    """``{"companies": [...], "molecules": [...], ...}`` from the followed-entities line."""
    match = re.search(r"^Entities this newsletter follows(.*)$", user, re.MULTILINE)
    if not match:
        return {}
    rest = re.sub(r"\([^)]*\)", "", match.group(1)).split(":", 1)[-1]
    found: dict[str, list[str]] = {}
    for part in rest.split(";"):
        kind, sep, names = part.partition(":")
        if sep and kind.strip():
            found[kind.strip()] = [n.strip() for n in names.split(",") if n.strip()]
    return found


def _mentions(phrase: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE) is not None


def event_type(allowed: list[str], texts: list[str]) -> str:
    """The first allowed type whose words appear, searching each text in turn (the title first)."""
    known = dict(EVENT_KEYWORDS)
    unknown = [(t, (t.replace("_", " "),)) for t in allowed if t not in known and t != "other"]
    table = unknown + [(t, words) for t, words in EVENT_KEYWORDS if t in allowed]
    for text in texts:
        for name, words in table:
            if any(_mentions(w, text) for w in words):
                return name
    fallback = [t for t in FALLBACK_EVENT_TYPES if t in allowed]
    return fallback[0] if fallback else (allowed[-1] if allowed else "other")


def dates_in(text: str) -> list[tuple[date, str]]:
    """Each date the text spells out, with the sentence around it, in the text's order."""
    found: list[tuple[int, date, str]] = []
    for pattern, fmt, joined in DATE_PATTERNS:
        for match in pattern.finditer(text):
            try:
                day = datetime.strptime(joined.format(*match.groups()), fmt).date()
            except ValueError:
                continue
            start = max(text.rfind(". ", 0, match.start()) + 2, 0)
            end = text.find(". ", match.end())
            sentence = text[start : end if end >= 0 else len(text)].strip()
            found.append((match.start(), day, sentence[:120]))
    return [(day, sentence) for _, day, sentence in sorted(found, key=lambda f: f[0])]


def _summary(title: str, text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text) if text else [title]
    body = " ".join(sentences[:2]).strip() or title or "(no text)"
    return f"{LABEL} {body}"[:SUMMARY_MAX_CHARS]


def _published(user: str) -> str | None:
    raw = field(user, "Published")[:10]
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        return None


def normalization(system: str, user: str) -> dict[str, Any]:
    """A normalization answer with the keys the prompt asks for, from the item in ``user``."""
    title, text, source = field(user, "Title"), body_text(user), field(user, "Source")
    whole = f"{title}. {text}"
    matched = {
        kind: [name for name in names if _mentions(name, whole)]
        for kind, names in followed_entities(user).items()
    }
    mentioned = dates_in(whole)
    relevant = any(names for kind, names in matched.items() if kind != "companies") or any(
        _mentions(term, whole) for term in LAI_TERMS
    )
    first_date = mentioned[0][0].isoformat() if mentioned else None
    return {
        "summary": _summary(title, text),
        "companies": matched.get("companies", []),
        "molecules": matched.get("molecules", []),
        "technologies": matched.get("technologies", []),
        **{kind: names for kind, names in matched.items() if f'"{kind}"' in system},
        "event_type": event_type(allowed_event_types(system), [title, text, source]),
        # The event is dated by its publication (a press release's "today"); else the text's first date.
        "event_date": _published(user) or first_date,
        "dates": [{"date": day.isoformat(), "label": sentence} for day, sentence in mentioned],
        "lai_relevant": relevant,
    }


# --- editorial -----------------------------------------------------------------------------------


def sections_in(user: str) -> list[dict[str, Any]]:
    """The sections of an editorial request: the first JSON list of objects with an ``id`` (bare,
    or as the ``sections`` of an object)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", user):
        try:
            value, _ = decoder.raw_decode(user, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            value = value.get("sections")
        if isinstance(value, list) and value and all(isinstance(s, dict) and "id" in s for s in value):
            return value
    return []


def _titles(items: list[Any]) -> str:
    return "; ".join(str(i.get("title", "")).strip() for i in items if isinstance(i, dict)) or "no item"


def editorial(user: str) -> dict[str, Any]:
    """An editorial answer: an intro, and one text per section id given (and no other)."""
    sections = sections_in(user)
    period = re.search(r"^Period:[ \t]*(.+)$", user, re.MULTILINE)
    counts = [(s, len(s.get("items") or [])) for s in sections]
    total = sum(n for _, n in counts)
    overview = ", ".join(f"{s.get('title') or s['id']} ({n})" for s, n in counts) or "no section"
    intro = (
        f"{LABEL} {total} selected item(s)"
        + (f" for {period.group(1).strip()}" if period else "")
        + f" in {len(sections)} section(s): {overview}."
    )
    return {
        "intro": intro[:INTRO_MAX_CHARS],
        "sections": {
            str(s["id"]): f"{LABEL} {n} item(s): {_titles(s.get('items') or [])}."[:SECTION_MAX_CHARS]
            for s, n in counts
        },
    }
