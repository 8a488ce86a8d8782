"""The patterns signals.py looks for, as data: error-code families and the phrase groups behind each signal.

Every pattern is an `Rx`: a regex plus what must be in the text before it runs at all (one of its gate
`words`, and its literal prefix or `needs` substring). Intake runs these on every ticket, and a regex costs
something even when it fails at once, while a set lookup costs almost nothing: `Gated` indexes each group's
patterns by their gate words, so a ticket pays only for the few patterns it could match.

Error-code patterns run over the UPPER-CASED text (so `DB-\\d{4}` also finds "db-1042" and the code comes out
canonical); phrase patterns run over the lower-cased text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rx:
    """A regex and its gate: one of `words` (whole lower-case words; empty: none needed) must occur in the
    text, and so must the substring `needs` (by default the pattern's literal prefix: "DB-" for
    `DB-\\d{4}`)."""

    pattern: str
    words: frozenset[str] = frozenset()
    needs: str = ""


def rx(pattern: str, *words: str, needs: str = "") -> Rx:
    return Rx(pattern, frozenset(words), needs)


_META = frozenset("\\.^$*+?{}[]()|")


def literal_prefix(pattern: str) -> str:
    """The plain characters every match of `pattern` starts with ("" when it starts with a group or class)."""
    depth = 0
    for char in pattern:  # a top-level alternative means no common prefix
        depth += char == "("
        depth -= char == ")"
        if char == "|" and depth == 0:
            return ""
    out: list[str] = []
    for char in pattern:
        if char in _META:
            if char in "?*{" and out:
                out.pop()  # the last character was optional or repeated
            break
        out.append(char)
    return "".join(out)


@dataclass(frozen=True, eq=False)
class Entry:
    pattern: re.Pattern[str]
    words: frozenset[str]
    needs: str
    owner: object  # the ErrorFamily, or the signal's name


class Gated:
    """One group's compiled patterns, indexed by gate word."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = tuple(entries)
        self.ungated = tuple(e for e in self.entries if not e.words)
        by_word: dict[str, list[Entry]] = {}
        for entry in self.entries:
            for word in entry.words:
                by_word.setdefault(word, []).append(entry)
        self.by_word = {word: tuple(entries) for word, entries in by_word.items()}
        self.words = frozenset(self.by_word)

    def candidates(self, hits: set[str] | frozenset[str], text: str) -> list[Entry]:
        """The patterns whose gate the text passes. `hits`: the text's words that are some gate word."""
        out = [e for e in self.ungated if e.needs in text]  # "" is in every text
        mine = self.words.intersection(hits)
        if mine:
            for word in mine:
                for entry in self.by_word[word]:
                    if entry.needs in text and entry not in out:
                        out.append(entry)
        return out


# Punctuation splits words, except the hyphen and underscore inside names ("billing-api", "auth_service").
_PUNCTUATION = "!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~"
_PUNCT_TO_SPACE = str.maketrans({c: " " for c in _PUNCTUATION})
_ASCII_PUNCT_TO_SPACE = bytes.maketrans(_PUNCTUATION.encode(), b" " * len(_PUNCTUATION))


def words_of(text: str) -> list[str]:
    """The lower-case text's words, as signals and component names are matched."""
    if text.isascii():  # bytes.translate is a table lookup per byte, several times faster than str.translate
        return text.encode().translate(_ASCII_PUNCT_TO_SPACE).decode().split()
    return text.translate(_PUNCT_TO_SPACE).split()


def compile_group(items: Iterable[tuple[Rx | str, object]], *, suffix: str = "",
                  upper: bool = False) -> Gated:
    entries = []
    for item, owner in items:
        item = item if isinstance(item, Rx) else Rx(item)
        needs = item.needs or literal_prefix(item.pattern)
        entries.append(Entry(re.compile(f"(?:{item.pattern}){suffix}"), item.words,
                             needs.upper() if upper else needs, owner))
    return Gated(entries)


# -- error codes -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorFamily:
    """A family of error codes: its name, the regexes that find its codes, how a match becomes a code."""

    name: str  # "DB"; Signals.error_family
    patterns: tuple[Rx | str, ...]  # over the upper-cased text; non-capturing groups only
    description: str = ""
    generic: bool = False  # a generic family (HTTP 5xx) is primary only when no specific code is present
    canonical: Callable[[str], str] | None = None  # matched text -> code; default: the match itself


_HTTP_REASONS = {
    "INTERNAL SERVER ERROR": "500", "NOT IMPLEMENTED": "501", "BAD GATEWAY": "502",
    "SERVICE UNAVAILABLE": "503", "SERVICE TEMPORARILY UNAVAILABLE": "503", "GATEWAY TIMEOUT": "504",
    "GATEWAY TIME-OUT": "504",
}
_STATUS = re.compile(r"5\d\d")


def http_code(matched: str) -> str:
    """"HTTP/1.1 502", "503 Service Unavailable", "Bad Gateway" -> "HTTP-502", "HTTP-503", "HTTP-502"."""
    status = _STATUS.search(matched)
    if status:
        return f"HTTP-{status.group()}"
    return f"HTTP-{_HTTP_REASONS[' '.join(matched.split())]}"


_REASON = (r"(?:INTERNAL SERVER ERROR|NOT IMPLEMENTED|BAD GATEWAY|SERVICE (?:TEMPORARILY )?UNAVAILABLE|"
           r"GATEWAY TIME-?OUT|HTTP VERSION NOT SUPPORTED|INSUFFICIENT STORAGE|LOOP DETECTED|"
           r"NETWORK AUTHENTICATION REQUIRED|(?:SERVER )?ERROR)")
_VERB = r"(?:RETURN(?:S|ED|ING)?|GOT|GET(?:S|TING)?|RECEIV(?:E|ES|ED|ING)|SEE(?:S|ING)?|THROW(?:S|N|ING)?)"
_VERB_WORDS = ("return", "returns", "returned", "returning", "got", "get", "gets", "getting", "receive",
               "receives", "received", "receiving", "see", "sees", "seeing", "throw", "throws", "thrown",
               "throwing")

FAMILIES: tuple[ErrorFamily, ...] = (
    ErrorFamily("DB", (r"DB-\d{4}",), "database errors"),
    ErrorFamily("AUTH", (r"AUTH-\d{3}",), "authentication and single sign-on errors"),
    ErrorFamily("PAY", (r"PAY-\d{4}",), "payment and billing errors"),
    ErrorFamily("ORA", (r"ORA-\d{5}",), "Oracle database errors"),
    ErrorFamily(
        "HTTP5XX",
        (
            # HTTP 503, HTTP/1.1 502, HTTP status code: 504
            rx(r"HTTP(?:/\d(?:\.\d)?)?(?:[ :#=_]+(?:STATUS|ERROR|CODE|RESPONSE))*[ :#=_]*5\d\d",
               "http", "https"),
            # 502 Bad Gateway, a 500 error (not "500 errors": that is a count)
            rx(r"5\d\d[ -]+" + _REASON, "error", "internal", "implemented", "bad", "service", "gateway",
               "http", "insufficient", "loop", "network"),
            rx(r"STATUS(?: CODE)?[ :#=]*5\d\d", "status"),  # status 503, status code: 504
            rx(r"ERROR(?: CODE)?[ :#=]*5\d\d", "error"),  # error 500
            rx(r"RESPONSE(?: CODE| STATUS)?[ :#=]*5\d\d", "response"),
            # returns a 502, got an HTTP 503 (not "returned 500 rows")
            rx(_VERB + r" (?:AN?|HTTP) 5\d\d", *_VERB_WORDS, needs=" 5"),
            rx(r"INTERNAL SERVER ERROR", "internal"), rx(r"BAD GATEWAY", "gateway"),
            rx(r"SERVICE (?:TEMPORARILY )?UNAVAILABLE", "unavailable"), rx(r"GATEWAY TIME-?OUT", "gateway"),
        ),
        "HTTP 5xx server errors, canonical HTTP-5xx",
        generic=True,
        canonical=http_code,
    ),
)

# A code ends where no word character, and no ".5" / "-5" continuation, follows.
CODE_END = r"(?!\w|[.-]\d)"


def compile_families(families: Iterable[ErrorFamily]) -> Gated:
    gated = compile_group(((p, family) for family in families for p in family.patterns), suffix=CODE_END,
                          upper=True)
    for entry in gated.entries:
        if entry.pattern.groups:
            raise ValueError(f"error family {entry.owner.name}: use non-capturing groups only")  # type: ignore[attr-defined]
    return gated


# -- phrases: production down, data loss, security, all users ------------------------------------------------

NOUN = (r"(?:end[- ]?users?|users?|seats?|people|persons|employees?|staff|colleagues|accounts?|members?|"
        r"customers?|clients?|licen[cs]es?|tenants?)")
NOUN_WORDS = frozenset({
    "user", "users", "end-user", "end-users", "enduser", "endusers", "seat", "seats", "people", "persons",
    "employee", "employees", "staff", "colleagues", "account", "accounts", "member", "members", "customer",
    "customers", "client", "clients", "licence", "licences", "license", "licenses", "tenant", "tenants"})
DETERMINER = r"(?:our|the|my|their|your|its)"
APPROX = r"(?:~|about|around|approx\.?|approximately|roughly|over|more than|at least|nearly|almost|some)"
_NOBODY = (r"(?:nobody|no one|no-one|none of " + DETERMINER + r" (?:users|staff|employees|customers))\s+"
           r"(?:can|could|is able|are able)\b")
_NOBODY_WORDS = ("nobody", "no-one", "one", "none")

PRODUCTION_DOWN: tuple[Rx, ...] = (
    rx(r"(?:production|prod|live site|live system|website|web site|site|app|application|service|server|"
       r"servers|platform|system|systems|portal|dashboard|api|checkout|login|everything|cluster|instance|"
       r"environment|database|db)\s+(?:is\s+|are\s+|went\s+|goes\s+|has\s+gone\s+|have\s+gone\s+|seems\s+|seem\s+to\s+be\s+|"
       r"appears\s+to\s+be\s+|has\s+been\s+|have\s+been\s+)?(?:completely\s+|totally\s+|entirely\s+|fully\s+|"
       r"still\s+)?(?:down|offline|unreachable|inaccessible|hard down)\b",
       "down", "offline", "unreachable", "inaccessible"),
    rx(r"(?:production|prod|site-?wide|system-?wide|platform-?wide|complete|total|full|major|global|widespread|"
       r"massive|ongoing)\s+outage", "outage"),
    rx(r"outage\s+(?:in|on|of|affecting)\s+(?:production|prod|our\s+(?:production|site|app|platform|service))",
       "outage"),
    rx(r"(?:down|outage|unavailable|not working|broken|offline)\s+(?:in|on)\s+(?:production|prod)\b",
       "down", "outage", "unavailable", "working", "broken", "offline"),
    rx(r"(?:production|prod)\s+(?:is\s+|has\s+)?(?:unavailable|broken|not working|not responding|"
       r"unresponsive|stopped working|crashed|crashing|on fire|dead)",
       "unavailable", "broken", "working", "responding", "unresponsive", "crashed", "crashing", "fire",
       "dead"),
    rx(r"(?:site|website|app|application|service|platform|system|everything|api|checkout|login|portal)\s+is\s+"
       r"(?:completely\s+|totally\s+)?(?:unavailable|not (?:loading|responding|accessible|reachable))",
       "unavailable", "loading", "responding", "accessible", "reachable"),
    rx(_NOBODY, *_NOBODY_WORDS),
    # A bare "outage" is a full one, unless it says otherwise ("planned outage", "a partial outage").
    rx(r"(?<!planned )(?<!scheduled )(?<!maintenance )(?<!partial )(?<!minor )(?<!brief )(?<!short )"
       r"(?<!previous )(?<!earlier )(?<!last )outage\b", "outage"),
    # Every user of the customer stopped: "all our users are locked out", "everyone is locked out".
    rx(r"all\s+(?:of\s+)?(?:our\s+|the\s+|my\s+|their\s+)?(?:\d[\d,]*\s+)?(?:users|staff|employees|agents|"
       r"seats|people|accounts|members)\s+(?:are\s+|were\s+|have\s+been\s+|got\s+|get\s+)?(?:now\s+)?"
       r"(?:locked out|logged out|blocked|down|offline|unable|cannot|can't|can not)\b", "all"),
    rx(r"(?:everyone|everybody)\s+(?:is\s+|was\s+|has\s+been\s+|got\s+)?(?:locked out|logged out|blocked|"
       r"offline|unable|cannot|can't|can not)\b", "everyone", "everybody"),
)

DATA_LOSS: tuple[Rx, ...] = (
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
)

SECURITY: tuple[Rx, ...] = (
    rx(r"(?:security|data)\s+(?:breach|incident|vulnerability|hole|flaw|issue|problem|concern|risk|leak|exposure)",
       "security", "breach", "leak", "exposure"),
    rx(r"breached\b", "breached"), rx(r"vulnerabilit(?:y|ies)", "vulnerability", "vulnerabilities"),
    rx(r"cve-\d{4}-\d{4,}"), rx(r"exploit(?:s|ed|ing)?\b", "exploit", "exploits", "exploited", "exploiting"),
    rx(r"hacked", "hacked"), rx(r"hackers?\b", "hacker", "hackers"), rx(r"compromised", "compromised"),
    rx(r"unauthori[sz]ed\s+(?:access|login|logins|user|users|charges?|transactions?|changes?|requests?)",
       "unauthorized", "unauthorised"),
    rx(r"leak(?:s|ed|ing)?\s+(?:(?:our|the|my|customer|user|all)\s+)*(?:data|credentials|passwords?|keys?|tokens?|"
       r"secrets?|pii|personal data|emails?)", "leak", "leaks", "leaked", "leaking"),
    rx(r"(?:credentials|passwords?|api keys?|keys|tokens?|secrets?|pii|personal data|customer data)\s+"
       r"(?:(?:was|were|are|is|got|have|has|been|being)\s+)*(?:exposed|leaked|stolen|compromised|visible to)",
       "exposed", "leaked", "stolen", "compromised", "visible"),
    rx(r"xss\b", "xss"), rx(r"cross-site scripting", "cross-site"), rx(r"sql injection", "injection"),
    rx(r"csrf\b", "csrf"), rx(r"phishing", "phishing"), rx(r"malware", "malware"),
    rx(r"ransomware", "ransomware"),
    rx(r"privilege escalation", "privilege"), rx(r"account takeover", "takeover"),
    rx(r"(?:can|could)\s+see\s+(?:other|another)\s+(?:customer|tenant|account|user|company|organi[sz]ation)s?'?s?"
       r"\s+(?:data|records|tickets|invoices|files)", "other", "another"),
)

ALL_USERS: tuple[Rx, ...] = (
    rx(r"all\s+(?:of\s+)?(?:" + DETERMINER + r"\s+)?(?:\d[\d,]*\+?\s+)?(?:[a-z]+[\s-]+)?" + NOUN + r"\b",
       "all"),
    rx(r"every\s+(?:single\s+)?(?:one of " + DETERMINER + r" )?(?:user|seat|employee|customer|account|member|"
       r"person)s?\b", "every"),
    rx(r"(?:entire|whole)\s+(?:company|organi[sz]ation|team|staff|workforce|user ?base|office|department)\b",
       "entire", "whole"),
    rx(r"(?:everyone|everybody)\s+(?:is|in|at|on|here|across|can't|cannot|has|gets|sees)\b",
       "everyone", "everybody"),
    rx(r"affect(?:s|ed|ing)?\s+(?:all|everyone|everybody)\b"),
    rx(r"impact(?:s|ed|ing)?\s+(?:all|everyone|everybody)\b"),
    rx(_NOBODY, *_NOBODY_WORDS),
)

PHRASES: dict[str, tuple[Rx, ...]] = {
    "production_down": PRODUCTION_DOWN, "data_loss": DATA_LOSS, "security": SECURITY, "all_users": ALL_USERS,
}
