"""The customer's mood: VADER sentiment plus frustration wording, and the frustration flag that raises impact.

`analyse(text)` returns `Sentiment(compound, frustrated, reasons)`:
- `compound` is VADER's compound score (-1 angry .. +1 happy) of the text, read with a support-desk lexicon:
  words that describe what the software did rather than how the customer feels ("error", "failed", "crash",
  "critical", "kill", "deadlock", "security", "help", ...: `TECHNICAL_WORDS`) are removed from VADER's
  lexicon, so "the export failed with error DB-1042" reads as neutral, not angry; so do statuses such as "502
  Bad Gateway" (`_TECHNICAL_PHRASES` are blanked before scoring).
- `frustrated` is true when `compound <= FRUSTRATED_COMPOUND` (-0.5) or the text uses frustration wording
  (`FRUSTRATION_PHRASES`: cancelling the contract, lawyers, "unacceptable", "third time", "still not fixed",
  ...). `reasons` says which (a phrase's reason reads "escalation word: ...", its published text).

Thresholds (also in docs/impact.md): VADER's own convention calls compound <= -0.05 negative; a support ticket
that merely describes a fault lands between -0.5 and 0 once technical words are neutral, so -0.5 marks a
customer who is upset, not one who reports a bug. A text longer than `MAX_CHARS` is read by its head and tail
(where greetings, complaints and threats sit) to bound the cost; frustration wording is looked for everywhere.

VADER is loaded once per process (its lexicon ships with the package: nothing is downloaded). Its stock
implementation lower-cases the whole word list for every sentiment word (quadratic in the text's length);
`_Analyser` gives the same scores (a test compares them) in linear time.
"""

from __future__ import annotations

import re
import threading

from vaderSentiment import vaderSentiment as vader

from tierline.triage.signal_patterns import Rx, compile_group, rx, words_of
from tierline.triage.types import Sentiment

FRUSTRATED_COMPOUND = -0.5
MAX_CHARS = 1000
_HEAD_CHARS = 700

# Technical vocabulary VADER reads as emotion. Removed from the lexicon (the word then counts as neutral and
# no longer shields a booster before it), not set to 0.
TECHNICAL_WORDS = frozenset({
    "error", "errors", "fail", "failed", "failing", "fails", "failure", "problem", "problems", "crash",
    "kill", "killed", "dead", "deadlock", "block", "blocked", "blocking", "reject", "rejected", "denied",
    "deny", "critical", "fatal", "warning", "alert", "lost", "attack", "vulnerable", "vulnerability",
    "exploit", "panic", "fault", "leak", "hacked", "threat", "risk", "damage", "damaged", "loss", "lose",
    "limited", "support", "security", "secure", "protect", "safe", "stop", "stopped", "drop", "trap", "miss",
    "missed", "missing", "empty", "free", "true", "active", "positive", "negative", "severe", "help",
    "resolve", "resolved", "success", "successful", "successfully", "allow", "accept", "accepted", "low",
    "like", "urgent", "emergency", "kindly", "joke", "wrong", "trouble", "alive", "clean", "freeze", "broken",
})

# Frustration wording, each phrase gated (see signal_patterns.Rx) so a calm text costs a few set lookups.
FRUSTRATION_PHRASES: tuple[Rx, ...] = (
    rx(r"cancel(?:l?ing|l?ed)?\s+(?:our|my|the|this)\s+(?:subscription|contract|account|plan|licen[cs]es?|"
       r"renewal|service|order)"),
    rx(r"(?:going|want|plan|planning|considering|about|ready|forced)\s+to\s+cancel", "cancel"),
    rx(r"(?:will|would|shall|may)\s+(?:have\s+to\s+)?cancel\b", "cancel"),
    rx(r"lawyers?\b"), rx(r"attorneys?\b"), rx(r"legal\s+(?:action|team|department|counsel|steps)"),
    rx(r"\bsue\b", "sue"), rx(r"lawsuit"), rx(r"unacceptable"),
    rx(r"\b(?:third|fourth|fifth|sixth|3rd|4th|5th|6th|\d+th)\s+time\b", needs="time"),
    rx(r"again\s+and\s+again"), rx(r"over\s+and\s+over"),
    rx(r"still\s+(?:not\s+(?:fixed|resolved|working|solved)|broken|waiting|"
       r"no\s+(?:answer|response|reply|update|fix))"),
    rx(r"no\s*(?:one|body)\s+(?:has\s+)?(?:responded|replied|answered|got(?:ten)?\s+back|called)",
       "responded", "replied", "answered", "back", "called"),
    rx(r"how\s+many\s+(?:more\s+)?times", "many"),
    rx(r"how\s+long\s+(?:do|must|will|should)\s+(?:we|i)\s+(?:wait|have)", "long"),
    rx(r"ridiculous"), rx(r"absurd"), rx(r"outrageous"), rx(r"pathetic"), rx(r"appalling"),
    rx(r"disgraceful"), rx(r"useless"), rx(r"\bworst\b", "worst"), rx(r"furious"), rx(r"fed\s+up"),
    rx(r"sick\s+(?:of|and\s+tired)"),
    rx(r"waste\s+of\s+(?:my\s+|our\s+)?time"), rx(r"this\s+is\s+a\s+joke", "joke"),
    rx(r"(?:demand|want|expect|request)(?:ing|ed)?\s+(?:a\s+|our\s+|my\s+)?(?:full\s+)?refund", "refund"),
    rx(r"(?:switch|switching|move|moving|migrate|migrating|go|going)\s+to\s+(?:a\s+)?(?:competitor|"
       r"another\s+(?:vendor|provider|tool|product|solution))",
       "competitor", "vendor", "provider", "tool", "product", "solution"),
    rx(r"speak\s+(?:to|with)\s+(?:a\s+|your\s+)?(?:manager|supervisor)", "manager", "supervisor"),
    rx(r"escalat(?:e|ing)\s+(?:this\s+)?to\s+(?:your\s+)?(?:management|ceo|leadership)"),
    rx(r"breach\s+of\s+contract"),
    rx(r"terminat(?:e|ing)\s+(?:our|the|this)\s+(?:contract|agreement|subscription)"),
)
_FRUSTRATION = compile_group((phrase, "frustration") for phrase in FRUSTRATION_PHRASES)
_FRUSTRATION_WORDS = _FRUSTRATION.words
# Technical phrases with a mood word in them: "502 Bad Gateway" is a status, not the customer's mood.
_TECHNICAL_PHRASES = re.compile(
    r"bad (?:gateway|request|certificate|credentials|password|token|response|data|input|file|format|argument|"
    r"parameter|header|signature)s?",
    re.IGNORECASE)


class _Words(list):  # type: ignore[type-arg]
    """VADER's word list carrying its lower-cased copy, made once per text (not once per sentiment word)."""

    __slots__ = ("lowered",)


class _Analyser(vader.SentimentIntensityAnalyzer):
    """VADER with the support-desk lexicon, scoring in linear time. No state between calls: thread-safe."""

    def __init__(self) -> None:
        super().__init__()
        for word in TECHNICAL_WORDS:
            self.lexicon.pop(word, None)

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not text.isascii():  # emoji descriptions: the stock path (it only ever adds text)
            text = _no_emoji(self, text)
        text = text.strip()
        sentitext = vader.SentiText(text)
        words = _Words(sentitext.words_and_emoticons)
        words.lowered = [w.lower() for w in words]
        sentitext.words_and_emoticons = words
        lowered = words.lowered
        last = len(words) - 1
        sentiments: list[float] = []
        for i, item in enumerate(words):
            low = lowered[i]
            if low in vader.BOOSTER_DICT or (i < last and low == "kind" and lowered[i + 1] == "of"):
                sentiments.append(0)
                continue
            sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words, sentiments)
        return self.score_valence(sentiments, text)

    # The two stock checks below rebuild the lower-cased word list on every call; these read the prepared copy
    # and are otherwise line for line the same (same indices, including Python's negative wrap-around).

    @staticmethod
    def _negation_check(valence: float, words_and_emoticons: list[str], start_i: int, i: int) -> float:
        w = _lowered(words_and_emoticons)
        if start_i == 0 and vader.negated([w[i - (start_i + 1)]]):
            valence = valence * vader.N_SCALAR
        if start_i == 1:
            if w[i - 2] == "never" and (w[i - 1] == "so" or w[i - 1] == "this"):
                valence = valence * 1.25
            elif w[i - 2] == "without" and w[i - 1] == "doubt":
                pass
            elif vader.negated([w[i - (start_i + 1)]]):
                valence = valence * vader.N_SCALAR
        if start_i == 2:
            if (w[i - 3] == "never" and (w[i - 2] == "so" or w[i - 2] == "this")
                    or (w[i - 1] == "so" or w[i - 1] == "this")):
                valence = valence * 1.25
            elif w[i - 3] == "without" and (w[i - 2] == "doubt" or w[i - 1] == "doubt"):
                pass
            elif vader.negated([w[i - (start_i + 1)]]):
                valence = valence * vader.N_SCALAR
        return valence

    @staticmethod
    def _special_idioms_check(valence: float, words_and_emoticons: list[str], i: int) -> float:
        w = _lowered(words_and_emoticons)
        special, booster = vader.SPECIAL_CASES, vader.BOOSTER_DICT
        onezero = f"{w[i - 1]} {w[i]}"
        twoonezero = f"{w[i - 2]} {w[i - 1]} {w[i]}"
        twoone = f"{w[i - 2]} {w[i - 1]}"
        threetwoone = f"{w[i - 3]} {w[i - 2]} {w[i - 1]}"
        threetwo = f"{w[i - 3]} {w[i - 2]}"
        for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if seq in special:
                valence = special[seq]
                break
        if len(w) - 1 > i:
            zeroone = f"{w[i]} {w[i + 1]}"
            if zeroone in special:
                valence = special[zeroone]
        if len(w) - 1 > i + 1:
            zeroonetwo = f"{w[i]} {w[i + 1]} {w[i + 2]}"
            if zeroonetwo in special:
                valence = special[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in booster:
                valence = valence + booster[n_gram]
        return valence


def _lowered(words: list[str]) -> list[str]:
    lowered = getattr(words, "lowered", None)
    return lowered if lowered is not None else [str(w).lower() for w in words]


def _no_emoji(analyser: vader.SentimentIntensityAnalyzer, text: str) -> str:
    """VADER's emoji step: each emoji becomes its description (as the stock polarity_scores does)."""
    emojis = analyser.emojis
    parts: list[str] = []
    prev_space = True
    for char in text:
        description = emojis.get(char)
        if description is not None:
            if not prev_space:
                parts.append(" ")
            parts.append(description)
            prev_space = False
        else:
            parts.append(char)
            prev_space = char == " "
    return "".join(parts)


_analyser: _Analyser | None = None
_lock = threading.Lock()


def analyser() -> _Analyser:
    """The process's analyser, loaded on first use (about 50 ms)."""
    global _analyser
    if _analyser is None:
        with _lock:
            if _analyser is None:
                _analyser = _Analyser()
    return _analyser


def _excerpt(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    head = text[:_HEAD_CHARS].rsplit(None, 1)[0]
    tail = text[-(MAX_CHARS - _HEAD_CHARS):].split(None, 1)[-1]
    return f"{head}\n{tail}"


def analyse(text: str) -> Sentiment:
    """Sentiment of a customer's words (a ticket's subject and description, or a reply)."""
    excerpt = _TECHNICAL_PHRASES.sub(" ", _excerpt(text)) if "bad" in text.lower() else _excerpt(text)
    compound = float(analyser().polarity_scores(excerpt)["compound"]) if excerpt.strip() else 0.0
    reasons: list[str] = []
    if compound <= FRUSTRATED_COMPOUND:
        reasons.append(f"compound {compound:.2f} <= {FRUSTRATED_COMPOUND}")
    low = text.lower()
    hits = _FRUSTRATION_WORDS.intersection(words_of(low))
    phrases: list[tuple[int, str]] = []
    for entry in _FRUSTRATION.candidates(hits, low):
        phrases.extend((m.start(), " ".join(m.group().split())) for m in entry.pattern.finditer(low))
    for _, phrase in sorted(phrases):
        reason = f"escalation word: {phrase}"  # the published text of the reason (API, stored triage)
        if reason not in reasons:
            reasons.append(reason)
    return Sentiment(compound=compound, frustrated=bool(reasons), reasons=reasons)
