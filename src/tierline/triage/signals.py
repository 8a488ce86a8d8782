"""Signals: what a ticket's own words say about it, before any model or rule looks at it.

`extract` reads the subject, the description and the custom fields' text and returns `Signals`: the error codes
(by family, in order of appearance), the components named, how many users are affected, whether production is
down, data was lost or security is at stake, and the customer's mood (sentiment.py).

Error-code families are data (`FAMILIES`). Each pattern runs over the UPPER-CASED text, so `DB-\\d{4}` also
finds "db-1042" and the code comes out canonical ("DB-1042"); HTTP 5xx phrasings ("502 Bad Gateway",
"HTTP 503", "status code: 504", "Internal Server Error") all come out as `HTTP-5xx` codes ("HTTP-502"), so a
rule can say `error_code starts_with HTTP-5`. A code glued to a word, a dot or a hyphen ("v2.5031",
"XDB-1042") is not a code.

Speed: intake runs this on every ticket (>= 5,000 tickets/s with 200 rules and the impact score on one core),
so every regex is compiled once at import, patterns start with a literal wherever possible (the regex engine
then skips ahead with a fast substring search), and phrase groups whose patterns cannot start with a literal
run only when one of their cheap literal `hints` occurs in the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tierline.triage import sentiment as sentiment_mod
from tierline.triage.types import Signals

# -- error codes -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rx:
    """A regex and the whole words (lower case) one of which must occur in the text for it to run at all.

    Checking a set of words is almost free; running a regex that cannot start with a literal is not."""

    pattern: str
    words: frozenset[str] = frozenset()  # empty: always run (keep such patterns literal-led)


def rx(pattern: str, *words: str) -> Rx:
    return Rx(pattern, frozenset(words))


@dataclass(frozen=True)
class ErrorFamily:
    """A family of error codes: its name, the regexes that find its codes, how a match becomes a code."""

    name: str  # "DB"; Signals.error_family
    patterns: tuple[Rx | str, ...]  # regexes over the upper-cased text; non-capturing groups only
    description: str = ""
    generic: bool = False  # a generic family (HTTP 5xx) is primary only when no specific code is present
    canonical: Callable[[str], str] | None = None  # matched text -> code; default: the match itself


_HTTP_REASONS = {
    "INTERNAL SERVER ERROR": "500", "NOT IMPLEMENTED": "501", "BAD GATEWAY": "502", "SERVICE UNAVAILABLE": "503",
    "SERVICE TEMPORARILY UNAVAILABLE": "503", "GATEWAY TIMEOUT": "504", "GATEWAY TIME-OUT": "504",
}
_STATUS = re.compile(r"5\d\d")


def _http_code(matched: str) -> str:
    status = _STATUS.search(matched)
    if status:
        return f"HTTP-{status.group()}"
    return f"HTTP-{_HTTP_REASONS[' '.join(matched.split())]}"


_REASON = (r"(?:INTERNAL SERVER ERROR|NOT IMPLEMENTED|BAD GATEWAY|SERVICE (?:TEMPORARILY )?UNAVAILABLE|"
           r"GATEWAY TIME-?OUT|HTTP VERSION NOT SUPPORTED|INSUFFICIENT STORAGE|LOOP DETECTED|"
           r"NETWORK AUTHENTICATION REQUIRED|(?:SERVER )?ERROR)")
_VERB = r"(?:RETURN(?:S|ED|ING)?|GOT|GET(?:S|TING)?|RECEIV(?:E|ES|ED|ING)|SEE(?:S|ING)?|THROW(?:S|N|ING)?)"

FAMILIES: tuple[ErrorFamily, ...] = (
    ErrorFamily("DB", (r"DB-\d{4}",), "database errors"),
    ErrorFamily("AUTH", (r"AUTH-\d{3}",), "authentication and single sign-on errors"),
    ErrorFamily("PAY", (r"PAY-\d{4}",), "payment and billing errors"),
    ErrorFamily("ORA", (r"ORA-\d{5}",), "Oracle database errors"),
    ErrorFamily(
        "HTTP5XX",
        (
            # HTTP 503, HTTP/1.1 502, HTTP status code: 504
            rx(r"HTTP(?:/\d(?:\.\d)?)?(?:[ :#=_]+(?:STATUS|ERROR|CODE|RESPONSE))*[ :#=_]*5\d\d", "http", "https"),
            # 502 Bad Gateway, a 500 error (not "500 errors": that is a count)
            rx(r"5\d\d[ -]+" + _REASON, "error", "internal", "implemented", "bad", "service", "gateway", "http",
               "insufficient", "loop", "network"),
            rx(r"STATUS(?: CODE)?[ :#=]*5\d\d", "status"),  # status 503, status code: 504
            rx(r"ERROR(?: CODE)?[ :#=]*5\d\d", "error"),  # error 500
            rx(r"RESPONSE(?: CODE| STATUS)?[ :#=]*5\d\d", "response"),
            # returns a 502, got an HTTP 503 (but not "returned 500 rows")
            rx(_VERB + r" (?:AN?|HTTP) 5\d\d", "return", "returns", "returned", "returning", "got", "get", "gets",
               "getting", "receive", "receives", "received", "receiving", "see", "sees", "seeing", "throw",
               "throws", "thrown", "throwing"),
            rx(r"INTERNAL SERVER ERROR", "internal"), rx(r"BAD GATEWAY", "gateway"),
            rx(r"SERVICE (?:TEMPORARILY )?UNAVAILABLE", "unavailable"), rx(r"GATEWAY TIME-?OUT", "gateway"),
        ),
        "HTTP 5xx server errors, canonical HTTP-5xx",
        generic=True,
        canonical=_http_code,
    ),
)

# A code ends where no word character, and no ".5" / "-5" continuation, follows.
_CODE_END = r"(?!\w|[.-]\d)"


_Compiled = tuple[tuple[re.Pattern[str], frozenset[str]], ...]


def _compile(patterns: Iterable[Rx | str], suffix: str = "") -> _Compiled:
    out = []
    for item in patterns:
        item = item if isinstance(item, Rx) else Rx(item)
        out.append((re.compile(f"(?:{item.pattern}){suffix}"), item.words))
    return tuple(out)


def _compile_families(families: Iterable[ErrorFamily]) -> tuple[tuple[ErrorFamily, _Compiled], ...]:
    out = []
    for family in families:
        compiled = _compile(family.patterns, _CODE_END)
        if any(pattern.groups for pattern, _ in compiled):
            raise ValueError(f"error family {family.name}: use non-capturing groups only")
        out.append((family, compiled))
    return tuple(out)


_COMPILED_FAMILIES = _compile_families(FAMILIES)


def _glued(text: str, start: int) -> bool:
    """Does the match at `start` continue a word, a number or a version ("v2.5031", "XDB-1", "a-502")?"""
    if start == 0:
        return False
    before = text[start - 1]
    return before.isalnum() or before in "_.-"


def _error_codes(text: str, words: set[str]) -> list[tuple[int, str, ErrorFamily]]:
    upper = text.upper()
    found: dict[str, tuple[int, str, ErrorFamily]] = {}
    for family, patterns in _COMPILED_FAMILIES:
        for pattern, gate in patterns:
            if gate and gate.isdisjoint(words):
                continue
            for m in pattern.finditer(upper):
                if _glued(upper, m.start()):
                    continue
                code = family.canonical(m.group()) if family.canonical else m.group()
                seen = found.get(code)
                if seen is None or m.start() < seen[0]:
                    found[code] = (m.start(), code, family)
    return sorted(found.values(), key=lambda item: item[0])


# -- phrases: production down, data loss, security, all users ------------------------------------------------


@dataclass(frozen=True)
class Phrases:
    """Regexes over the lower-cased text that raise one signal, each gated by its words (see `Rx`). A match
    right after a negation ("no data loss", "not a production outage") does not count."""

    name: str
    patterns: tuple[Rx, ...]


_NOUN = (r"(?:end[- ]?users?|users?|seats?|people|persons|employees?|staff|colleagues|accounts?|members?|"
         r"customers?|clients?|licen[cs]es?|tenants?)")
_DETERMINER = r"(?:our|the|my|their|your|its)"
_APPROX = r"(?:~|about|around|approx\.?|approximately|roughly|over|more than|at least|nearly|almost|some)"
_NOBODY = (r"(?:nobody|no one|no-one|none of " + _DETERMINER + r" (?:users|staff|employees|customers))\s+"
           r"(?:can|could|is able|are able)\b")
_NOBODY_WORDS = ("nobody", "no-one", "one", "none")

PRODUCTION_DOWN = Phrases("production_down", (
    rx(r"(?:production|prod|live site|live system|website|web site|site|app|application|service|server|servers|"
       r"platform|system|systems|portal|dashboard|api|checkout|login|everything|cluster|instance|environment|"
       r"database|db)\s+(?:is\s+|are\s+|went\s+|goes\s+|has\s+gone\s+|have\s+gone\s+|seems\s+|seem\s+to\s+be\s+|"
       r"appears\s+to\s+be\s+|has\s+been\s+|have\s+been\s+)?(?:completely\s+|totally\s+|entirely\s+|fully\s+|"
       r"still\s+)?(?:down|offline|unreachable|inaccessible|hard down)\b",
       "down", "offline", "unreachable", "inaccessible"),
    rx(r"(?:production|prod|site-?wide|system-?wide|platform-?wide|complete|total|full|major|global|widespread|"
       r"massive|ongoing)\s+outage", "outage"),
    rx(r"outage\s+(?:in|on|of|affecting)\s+(?:production|prod|our\s+(?:production|site|app|platform|service))",
       "outage"),
    rx(r"(?:down|outage|unavailable|not working|broken|offline)\s+(?:in|on)\s+(?:production|prod)\b",
       "production", "prod"),
    rx(r"(?:production|prod)\s+(?:is\s+|has\s+)?(?:unavailable|broken|not working|not responding|unresponsive|"
       r"stopped working|crashed|crashing|on fire|dead)", "production", "prod"),
    rx(r"(?:site|website|app|application|service|platform|system|everything|api|checkout|login|portal)\s+is\s+"
       r"(?:completely\s+|totally\s+)?(?:unavailable|not (?:loading|responding|accessible|reachable))",
       "unavailable", "loading", "responding", "accessible", "reachable"),
    rx(_NOBODY, *_NOBODY_WORDS),
))

DATA_LOSS = Phrases("data_loss", (
    rx(r"data[ -]loss", "loss", "data-loss"), rx(r"data corruption", "corruption"), rx(r"lost data", "lost"),
    rx(r"lost\s+(?:(?:all|some|most|many|of|our|my|the|their|its|customer|user|recent)\s+)*(?:data|records|files|"
       r"documents|orders|transactions|emails|messages|changes|entries|history|invoices|payments|backups?)\b",
       "lost"),
    rx(r"(?:data|records|files|documents|orders|transactions|emails|messages|entries|history|invoices|payments|"
       r"backups?|database|tables?)\s+(?:(?:was|were|is|are|has|have|been|got|gets|seems?|appears?|to|be|being|"
       r"all|now|just|completely|permanently)\s+)*(?:lost|deleted|wiped|erased|corrupted|gone|missing|"
       r"disappeared|vanished|destroyed|overwritten|truncated|dropped|purged)\b",
       "lost", "deleted", "wiped", "erased", "corrupted", "gone", "missing", "disappeared", "vanished",
       "destroyed", "overwritten", "truncated", "dropped", "purged"),
    rx(r"corrupt(?:ed)?\s+(?:data|database|records|files|backups?|tables?)", "corrupt", "corrupted"),
    rx(r"(?:deleted|wiped|erased|purged|dropped|overwrote)\s+(?:(?:all|of|our|my|the|their|customer)\s+)*(?:data|"
       r"records|files|database|tables?|documents|history)\b",
       "deleted", "wiped", "erased", "purged", "dropped", "overwrote"),
))

SECURITY = Phrases("security", (
    rx(r"(?:security|data)\s+(?:breach|incident|vulnerability|hole|flaw|issue|problem|concern|risk|leak|exposure)",
       "security", "breach", "leak", "exposure"),
    rx(r"breached\b", "breached"), rx(r"vulnerabilit(?:y|ies)", "vulnerability", "vulnerabilities"),
    rx(r"cve-\d{4}-\d{4,}"), rx(r"exploit(?:s|ed|ing)?\b", "exploit", "exploits", "exploited", "exploiting"),
    rx(r"hacked", "hacked"), rx(r"hackers?\b", "hacker", "hackers"), rx(r"compromised", "compromised"),
    rx(r"unauthori[sz]ed\s+(?:access|login|logins|user|users|charges?|transactions?|changes?|requests?)",
       "unauthorized", "unauthorised"),
    rx(r"leak(?:s|ed|ing)?\s+(?:(?:our|the|my|customer|user|all)\s+)*(?:data|credentials|passwords?|keys?|tokens?|"
       r"secrets?|pii|personal data|emails?)", "leak", "leaks", "leaked", "leaking"),
    rx(r"(?:credentials|passwords?|api keys?|keys|tokens?|secrets?|pii|personal data|customer data)\s+(?:(?:was|"
       r"were|are|is|got|have|has|been|being)\s+)*(?:exposed|leaked|stolen|compromised|visible to)",
       "exposed", "leaked", "stolen", "compromised", "visible"),
    rx(r"xss\b", "xss"), rx(r"cross-site scripting", "cross-site"), rx(r"sql injection", "injection"),
    rx(r"csrf\b", "csrf"), rx(r"phishing", "phishing"), rx(r"malware", "malware"), rx(r"ransomware", "ransomware"),
    rx(r"privilege escalation", "privilege"), rx(r"account takeover", "takeover"),
    rx(r"(?:can|could)\s+see\s+(?:other|another)\s+(?:customer|tenant|account|user|company|organi[sz]ation)s?'?s?"
       r"\s+(?:data|records|tickets|invoices|files)", "see"),
))

ALL_USERS = Phrases("all_users", (
    rx(r"all\s+(?:of\s+)?(?:" + _DETERMINER + r"\s+)?(?:\d[\d,]*\+?\s+)?(?:[a-z]+[\s-]+)?" + _NOUN + r"\b", "all"),
    rx(r"every\s+(?:single\s+)?(?:one of " + _DETERMINER + r" )?(?:user|seat|employee|customer|account|member|"
       r"person)s?\b", "every"),
    rx(r"(?:entire|whole)\s+(?:company|organi[sz]ation|team|staff|workforce|user ?base|office|department)\b",
       "entire", "whole"),
    rx(r"(?:everyone|everybody)\s+(?:is|in|at|on|here|across|can't|cannot|has|gets|sees)\b", "everyone", "everybody"),
    rx(r"(?:affect|impact)(?:s|ed|ing)?\s+(?:all|everyone|everybody)\b", "everyone", "everybody", "all"),
    rx(_NOBODY, *_NOBODY_WORDS),
))

_NEGATED = re.compile(r"(?:\b(?:not|no|never|without|nothing|hardly|zero)|n't)\s+(?:[a-z]+\s+){0,2}$")
_COMPILED_PHRASES = {p.name: _compile(p.patterns) for p in (PRODUCTION_DOWN, DATA_LOSS, SECURITY, ALL_USERS)}


def _says(name: str, low: str, words: set[str]) -> bool:
    for pattern, gate in _COMPILED_PHRASES[name]:
        if gate and gate.isdisjoint(words):
            continue
        for m in pattern.finditer(low):
            start = m.start()
            if start and low[start - 1].isalnum():
                continue  # inside a word: "reprod outage" is not "prod outage"
            if _NEGATED.search(low, max(0, start - 40), start):
                continue
            return True
    return False


# -- affected users ---------------------------------------------------------------------------------------

_COUNT = r"(?P<n>\d[\d,]*(?:\.\d+)?)(?P<k> ?k\b)?\+?"
_USER_COUNT = re.compile(
    _COUNT + r"\s+(?:(?:out\s+)?of\s+(?:(?:" + _DETERMINER + r"|about|around|approximately|roughly)\s+)?"
    r"(?P<m>\d[\d,]*)\+?\s+)?(?:(?:of\s+)?" + _DETERMINER + r"\s+)?(?:[a-z]+[\s-]+)?" + _NOUN + r"\b")
_LABELLED_COUNT = (
    re.compile(r"(?:affected|impacted)\s+" + _NOUN + r"\s*(?:count|number)?\s*(?:[:=]|is|are|was|were)?\s*(?:"
               + _APPROX + r"\s*)?" + _COUNT),
    re.compile(_NOUN + r"\s+(?:affected|impacted)\s*(?:[:=]|is|are|was|were)?\s*(?:" + _APPROX + r"\s*)?" + _COUNT),
)
_LABEL_WORDS = frozenset({"affected", "impacted"})
_MANY = re.compile(r"(?P<w>hundreds of thousands|tens of thousands|dozens|hundreds|thousands|millions)\s+of\s+"
                   r"(?:" + _DETERMINER + r"\s+)?(?:[a-z]+[\s-]+)?" + _NOUN + r"\b")
_MANY_VALUES = {"dozens": 24, "hundreds": 200, "thousands": 2_000, "tens of thousands": 20_000,
                "hundreds of thousands": 200_000, "millions": 2_000_000}
_MANY_WORDS = frozenset({"dozens", "hundreds", "thousands", "millions"})
_NOUN_WORDS = frozenset({
    "user", "users", "end-user", "end-users", "enduser", "endusers", "seat", "seats", "people", "persons",
    "employee", "employees", "staff", "colleagues", "account", "accounts", "member", "members", "customer",
    "customers", "client", "clients", "licence", "licences", "license", "licenses", "tenant", "tenants"})
_PLAIN_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_YEAR_WORDS = re.compile(r"(?:\b(?:in|since|during|from|until|till|by|before|after))\s+$")
MAX_AFFECTED_USERS = 100_000_000  # larger figures are not head counts (ids, byte sizes)
AFFECTED_USER_FIELDS = ("affected_users", "users_affected", "impacted_users", "affected_seats")


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


def _affected_users(low: str, words: set[str]) -> int | None:
    if _NOUN_WORDS.isdisjoint(words):
        return None
    best: int | None = None
    for m in _USER_COUNT.finditer(low):
        start = m.start()
        if start and (low[start - 1].isalnum() or low[start - 1] in "_.,$€£#/:-"):
            continue  # glued to a version, an amount or an id: "v2.5031 users", "$300 users"
        value = _number(m.group("n"), m.group("k"))
        if value is None:
            continue
        if (not m.group("k") and 1900 <= value <= 2100 and "," not in m.group("n")
                and _YEAR_WORDS.search(low, max(0, start - 12), start)):
            continue  # "since 2024 customers ..." is a year
        best = value if best is None else max(best, value)
    if not _LABEL_WORDS.isdisjoint(words):
        for pattern in _LABELLED_COUNT:
            for m in pattern.finditer(low):
                value = _number(m.group("n"), m.group("k"))
                if value is not None:
                    best = value if best is None else max(best, value)
    if not _MANY_WORDS.isdisjoint(words):
        for m in _MANY.finditer(low):
            if m.start() and low[m.start() - 1].isalnum():
                continue
            value = _MANY_VALUES[m.group("w")]
            best = value if best is None else max(best, value)
    return best


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

# Punctuation splits words, except the hyphen and underscore inside names ("billing-api", "auth_service").
_PUNCT_TO_SPACE = str.maketrans({c: " " for c in "!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~\t\r\n\f\v"})


def _words(text: str) -> list[str]:
    return text.translate(_PUNCT_TO_SPACE).split()


class _ComponentMatcher:
    """Names prepared for matching: single words in a dict, multi-word names by their first word."""

    def __init__(self, index: Mapping[str, int]) -> None:
        self.source = dict(index)
        self.single: dict[str, int] = {}
        self.multi: dict[str, list[tuple[str, int]]] = {}
        for name, component_id in index.items():
            words = _words(name.lower())
            if not words:
                continue
            if len(words) == 1:
                self.single.setdefault(words[0], component_id)
            else:
                self.multi.setdefault(words[0], []).append((" " + " ".join(words) + " ", component_id))
        self.single_names = frozenset(self.single)
        self.multi_first = frozenset(self.multi)

    def hints(self, words: list[str], word_set: set[str]) -> list[int]:
        single = self.single_names.intersection(word_set)
        multi = self.multi_first.intersection(word_set)
        if not single and not multi:
            return []
        joined = " " + " ".join(words) + " "
        found: list[tuple[int, int]] = []
        phrase_starts: set[int] = set()
        for first in multi:
            for phrase, component_id in self.multi[first]:
                at = joined.find(phrase)
                if at >= 0:
                    found.append((at, component_id))
                    phrase_starts.add(at)
        for word in single:
            at = joined.find(" " + word + " ")
            if at not in phrase_starts:  # "billing api" names the billing API, not also "billing"
                found.append((at, self.single[word]))
        found.sort()
        out: list[int] = []
        for _, component_id in found:
            if component_id not in out:
                out.append(component_id)
        return out


_matcher: _ComponentMatcher | None = None


def _component_matcher(index: Mapping[str, int]) -> _ComponentMatcher:
    # The pipeline passes a fresh copy of the same index for every ticket: comparing dicts is cheap (C), while
    # preparing the names is not, so the last preparation is kept while the index is unchanged.
    global _matcher
    matcher = _matcher
    if matcher is None or matcher.source != index:
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


def extract(*, subject: str, description: str, custom_fields: dict[str, Any], component_index: dict[str, int],
            with_sentiment: bool = True) -> Signals:
    """Signals from a ticket's subject, description and custom fields.

    `component_index`: lower-case component names and aliases -> component id. `with_sentiment=False` skips
    the (comparatively slow) sentiment analysis, for callers that only need the rest.
    """
    field_texts = _field_texts(custom_fields) if custom_fields else []
    text = "\n".join((subject, description, *field_texts)) if field_texts else f"{subject}\n{description}"
    low = text.lower()
    words = _words(low)
    word_set = set(words)

    codes = _error_codes(text, word_set)
    error_codes = [code for _, code, _ in codes]
    primary = next((item for item in codes if not item[2].generic), codes[0] if codes else None)

    users = _field_users(custom_fields) if custom_fields else None
    if users is None:
        users = _affected_users(low, word_set)

    return Signals(
        error_codes=error_codes,
        error_code=primary[1] if primary else None,
        error_family=primary[2].name if primary else None,
        component_hints=_component_matcher(component_index).hints(words, word_set) if component_index else [],
        affected_users=users,
        production_down=_says("production_down", low, word_set),
        data_loss=_says("data_loss", low, word_set),
        security=_says("security", low, word_set),
        all_users=_says("all_users", low, word_set),
        sentiment=sentiment_mod.analyse(f"{subject}\n{description}") if with_sentiment else None,
    )
