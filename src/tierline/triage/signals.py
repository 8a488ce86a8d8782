"""Signals: what a ticket's own words say about it, before any model or rule looks at it.

`extract` reads the subject, the description and the custom fields' text and returns `Signals`: the error
codes (by family, in order of appearance), the components named, how many users are affected, whether
production is down, data was lost or security is at stake, and the customer's mood (sentiment.py). The
patterns are data, in signal_patterns.py.

- Error codes: each family's patterns (`FAMILIES`) find codes, canonical and upper case ("db-1042" ->
  "DB-1042"); every HTTP 5xx phrasing ("502 Bad Gateway", "HTTP 503", "status code: 504", "Internal Server
  Error") becomes an `HTTP-5xx` code ("HTTP-502"), so a rule can say `error_code starts_with HTTP-5`. A code
  glued to a word, a dot or a hyphen ("v2.5031", "XDB-1042") is not a code. The primary code is the first
  specific one; a generic HTTP code is primary only when there is no other.
- Affected users: "300 users", "all 1,200 seats", "1.2k users", "300 of our 2,000 users" (300), "affected
  users: 40", "hundreds of users" (200; dozens 24, thousands 2,000); a custom field `affected_users` (or
  `users_affected`, `impacted_users`, `affected_seats`) wins over the text. A number glued to a version or an
  amount ("v2.5031 users", "$300 users") or a year after "in/since/..." is not a count. The largest count
  wins.
- Flags (production down, data loss, security, all users): phrase patterns; a phrase right after a negation
  ("no data loss", "not a production outage") does not count.
- Component hints: components whose name (or alias) appears in the text as whole words, first mention first;
  "billing api" names the billing API, not also "billing".

Speed: intake runs this on every ticket (signals + 200 rules + impact >= 5,000 tickets/s on one core). The
text is split into words once; every pattern has a gate (words or a literal it needs) checked with set and
substring operations before any regex runs, so a ticket pays only for the few regexes it could match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from tierline.triage import sentiment as sentiment_mod
from tierline.triage.signal_patterns import (
    APPROX,
    CODE_END,
    DETERMINER,
    FAMILIES,
    NOUN,
    NOUN_WORDS,
    PHRASES,
    ErrorFamily,
    Gated,
    compile_families,
    compile_group,
    words_of,
)
from tierline.triage.types import Signals

_CODES: Gated = compile_families(FAMILIES)
_PHRASES: dict[str, Gated] = {name: compile_group((p, name) for p in patterns)
                               for name, patterns in PHRASES.items()}
_NEGATED = re.compile(r"(?:\b(?:not|no|never|without|nothing|hardly|zero)|n't)\s+(?:[a-z]+\s+){0,2}$")

# -- affected users ---------------------------------------------------------------------------------------

_COUNT = r"(?P<n>\d[\d,]*(?:\.\d+)?)(?P<k> ?k\b)?\+?"
_USER_COUNT = re.compile(
    _COUNT + r"\s+(?:(?:out\s+)?of\s+(?:(?:" + DETERMINER + r"|about|around|approximately|roughly)\s+)?"
    r"(?P<m>\d[\d,]*)\+?\s+)?(?:(?:of\s+)?" + DETERMINER + r"\s+)?(?:[a-z]+[\s-]+)?" + NOUN + r"\b")
_LABELLED_COUNT = (
    re.compile(r"(?:affected|impacted)\s+" + NOUN + r"\s*(?:count|number)?\s*(?:[:=]|is|are|was|were)?\s*(?:"
               + APPROX + r"\s*)?" + _COUNT),
    re.compile(NOUN + r"\s+(?:affected|impacted)\s*(?:[:=]|is|are|was|were)?\s*(?:" + APPROX + r"\s*)?"
               + _COUNT),
)
_LABEL_WORDS = frozenset({"affected", "impacted"})
_MANY = re.compile(r"(?P<w>hundreds of thousands|tens of thousands|dozens|hundreds|thousands|millions)"
                   r"\s+of\s+(?:" + DETERMINER + r"\s+)?(?:[a-z]+[\s-]+)?" + NOUN + r"\b")
_MANY_VALUES = {"dozens": 24, "hundreds": 200, "thousands": 2_000, "tens of thousands": 20_000,
                "hundreds of thousands": 200_000, "millions": 2_000_000}
_MANY_WORDS = frozenset({"dozens", "hundreds", "thousands", "millions"})
_PLAIN_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_YEAR_WORDS = re.compile(r"\b(?:in|since|during|from|until|till|by|before|after)\s+$")
_WINDOW = 80  # characters a count may sit before its noun ("300 of our 1,200 licensed users")
MAX_AFFECTED_USERS = 100_000_000  # larger figures are not head counts (ids, byte sizes)
AFFECTED_USER_FIELDS = ("affected_users", "users_affected", "impacted_users", "affected_seats")

# Every word some gate looks for: one set intersection per ticket finds the few that matter.
_GATE_WORDS = frozenset().union(_CODES.words, *(g.words for g in _PHRASES.values()), NOUN_WORDS, _LABEL_WORDS,
                                _MANY_WORDS)

# -- error codes -------------------------------------------------------------------------------------------


def _glued(text: str, start: int) -> bool:
    """Does the match at `start` continue a word, a number or a version ("v2.5031", "XDB-1", "a-502")?"""
    if start == 0:
        return False
    before = text[start - 1]
    return before.isalnum() or before in "_.-"


def _error_codes(text: str, hits: frozenset[str]) -> list[tuple[int, str, ErrorFamily]]:
    upper = text.upper()
    found: dict[str, tuple[int, str, ErrorFamily]] = {}
    for entry in _CODES.candidates(hits, upper):
        family: ErrorFamily = entry.owner  # type: ignore[assignment]
        for m in entry.pattern.finditer(upper):
            if _glued(upper, m.start()):
                continue
            code = family.canonical(m.group()) if family.canonical else m.group()
            seen = found.get(code)
            if seen is None or m.start() < seen[0]:
                found[code] = (m.start(), code, family)
    return sorted(found.values(), key=lambda item: item[0])


# -- flags ---------------------------------------------------------------------------------------------------


def _says(name: str, low: str, hits: frozenset[str]) -> bool:
    for entry in _PHRASES[name].candidates(hits, low):
        for m in entry.pattern.finditer(low):
            start = m.start()
            if start and low[start - 1].isalnum():
                continue  # inside a word: "reprod outage" is not "prod outage"
            if _NEGATED.search(low, max(0, start - 40), start):
                continue
            return True
    return False


# -- affected users ---------------------------------------------------------------------------------------


def _occurrences(low: str, words: Iterable[str]) -> Iterator[int]:
    """Where each of `words` starts in the text as a whole word."""
    for word in words:
        at = low.find(word)
        while at >= 0:
            end = at + len(word)
            if (at == 0 or not low[at - 1].isalnum()) and (end == len(low) or not low[end].isalnum()):
                yield at
            at = low.find(word, end)


def _number(raw: str, k: str | None) -> int | None:
    if k:
        try:
            value = float(raw.replace(",", "")) * 1000
        except ValueError:
            return None
        return int(value) if value <= MAX_AFFECTED_USERS else None
    if not _PLAIN_NUMBER.fullmatch(raw):
        return None  # "2.5", "1,20": a version or a decimal, not a head count
    value = int(raw.replace(",", ""))
    return value if value <= MAX_AFFECTED_USERS else None


def _affected_users(low: str, hits: frozenset[str]) -> int | None:
    nouns = NOUN_WORDS.intersection(hits)
    if not nouns:
        return None
    counts: set[tuple[int, int]] = set()  # (start, value): one phrase seen from two of its nouns counts once
    # A count sits a few words before its noun: search a short window ending at each noun, not the whole text;
    # a labelled count ("users affected: 40", "affected users: 40") starts at its noun or label word.
    _, labelled_after_noun = _LABELLED_COUNT
    for at in _occurrences(low, nouns):
        end = low.find(" ", at)
        for m in _USER_COUNT.finditer(low, max(0, at - _WINDOW), len(low) if end < 0 else end):
            start = m.start()
            if start and (low[start - 1].isalnum() or low[start - 1] in "_.,$€£#/:-"):
                continue  # glued to a version, an amount or an id: "v2.5031 users", "$300 users"
            value = _number(m.group("n"), m.group("k"))
            if value is None:
                continue
            if (not m.group("k") and 1900 <= value <= 2100 and "," not in m.group("n")
                    and _YEAR_WORDS.search(low, max(0, start - 12), start)):
                continue  # "since 2024 customers ..." is a year
            counts.add((start, value))
        m = labelled_after_noun.match(low, at)
        if m and (value := _number(m.group("n"), m.group("k"))) is not None:
            counts.add((m.start("n"), value))
    labels = _LABEL_WORDS.intersection(hits)
    if labels:
        label_first, _ = _LABELLED_COUNT
        for at in _occurrences(low, labels):
            m = label_first.match(low, at)
            if m and (value := _number(m.group("n"), m.group("k"))) is not None:
                counts.add((m.start("n"), value))
    if not _MANY_WORDS.isdisjoint(hits):
        for m in _MANY.finditer(low):
            if not (m.start() and low[m.start() - 1].isalnum()):
                counts.add((m.start(), _MANY_VALUES[m.group("w")]))
    return max((value for _, value in counts), default=None)


def _field_users(custom_fields: Mapping[str, Any]) -> int | None:
    for name in AFFECTED_USER_FIELDS:
        value = custom_fields.get(name)
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and 0 <= value <= MAX_AFFECTED_USERS:
            return value
        if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
            number = _number(value.strip(), None)
            if number is not None:
                return number
    return None


# -- component hints --------------------------------------------------------------------------------------


class _ComponentMatcher:
    """Component names prepared for matching: as word lists, by their first word, longest name first."""

    def __init__(self, index: Mapping[str, int]) -> None:
        # A read-only mapping (the cached tree's) is kept as is, so the next ticket's is found by identity.
        self.source = index if isinstance(index, MappingProxyType) else dict(index)
        by_first: dict[str, list[tuple[list[str], int]]] = {}
        for name, component_id in index.items():
            words = words_of(name.lower())
            if words:
                by_first.setdefault(words[0], []).append((words, component_id))
        for entries in by_first.values():
            entries.sort(key=lambda e: -len(e[0]))  # "billing api" claims its words before "billing"
        self.by_first = by_first
        self.first_words = frozenset(by_first)

    def hints(self, words: list[str], word_set: set[str]) -> list[int]:
        firsts = self.first_words.intersection(word_set)
        if not firsts:
            return []
        found: list[tuple[int, int, int]] = []  # (word position, -length, component id) of every mention
        for first in firsts:
            at = words.index(first)
            while True:
                for name_words, component_id in self.by_first[first]:
                    if len(name_words) == 1 or words[at:at + len(name_words)] == name_words:
                        found.append((at, -len(name_words), component_id))
                        break  # the longest name starting here
                try:
                    at = words.index(first, at + 1)
                except ValueError:
                    break
        found.sort()
        out: list[int] = []
        claimed_until = 0  # words of a longer name already matched: "billing api" is not also "api"
        for at, negative_length, component_id in found:
            if at < claimed_until:
                continue
            claimed_until = at - negative_length
            if component_id not in out:
                out.append(component_id)
        return out


_matcher: _ComponentMatcher | None = None


def _component_matcher(index: Mapping[str, int]) -> _ComponentMatcher:
    # The pipeline passes the cached tree's own index (the same object until the tree changes); other callers
    # may pass an equal copy. Preparing the names is what costs, so the last preparation is kept while the
    # index is unchanged.
    global _matcher
    matcher = _matcher
    if matcher is None or (matcher.source is not index and matcher.source != index):
        matcher = _matcher = _ComponentMatcher(index)
    return matcher


# -- extract ------------------------------------------------------------------------------------------------


def _field_texts(custom_fields: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for value in custom_fields.values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list | tuple):
            out.extend(v for v in value if isinstance(v, str))
    return out


def extract(*, subject: str, description: str, custom_fields: dict[str, Any],
            component_index: Mapping[str, int], with_sentiment: bool = True) -> Signals:
    """Signals from a ticket's subject, description and custom fields.

    `component_index`: lower-case component names and aliases -> component id. `with_sentiment=False` skips
    the (comparatively slow) sentiment analysis, for callers that only need the rest.
    """
    field_texts = _field_texts(custom_fields) if custom_fields else None
    text = "\n".join((subject, description, *field_texts)) if field_texts else f"{subject}\n{description}"
    low = text.lower()
    words = words_of(low)
    word_set = set(words)
    hits = _GATE_WORDS.intersection(word_set)

    codes = _error_codes(text, hits)
    primary = next((item for item in codes if not item[2].generic), codes[0] if codes else None)
    users = _field_users(custom_fields) if custom_fields else None
    return Signals(
        error_codes=[code for _, code, _ in codes],
        error_code=primary[1] if primary else None,
        error_family=primary[2].name if primary else None,
        component_hints=_component_matcher(component_index).hints(words, word_set) if component_index else [],
        affected_users=users if users is not None else _affected_users(low, hits),
        production_down=_says("production_down", low, hits),
        data_loss=_says("data_loss", low, hits),
        security=_says("security", low, hits),
        all_users=_says("all_users", low, hits),
        sentiment=sentiment_mod.analyse(f"{subject}\n{description}") if with_sentiment else None,
    )


__all__ = ["AFFECTED_USER_FIELDS", "CODE_END", "FAMILIES", "extract", "words_of"]
