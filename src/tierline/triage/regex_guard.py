"""Regular expressions written by administrators, run on customer text without ever hanging intake.

Rules are data: anyone with `triage:write` can type a pattern, and customers choose the text it runs on. A
backtracking engine (Python's `re`) takes exponential time on patterns such as `(a+)+$`, so rule patterns
run on RE2 (google-re2), whose automata run in time linear in the text whatever the pattern. RE2 refuses
the few constructs it cannot run in linear time (backreferences, lookaround); `check` reports them as the
reason a rule is invalid. A catastrophic pattern for `re` is simply an ordinary pattern here.

Many rules test patterns against the same field, so `PatternSet` compiles them into one RE2::Set and scans
the text once for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import re2

MAX_PATTERN_LENGTH = 1000
# The memory RE2 may use for one pattern's (or one set's) automata; past it RE2 falls back to slower but still
# linear matching. 32 MiB keeps a set of a few hundred patterns on the fast path.
MAX_MEMORY = 32 << 20


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is a 422 for the caller, not a line on stderr
    options.max_mem = MAX_MEMORY
    return options


def _reason(exc: Exception) -> str:
    message = exc.args[0] if exc.args else str(exc)
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message)


def check(pattern: object) -> str | None:
    """Why `pattern` cannot be a rule's regex, or None when it can."""
    if not isinstance(pattern, str):
        return "must be a regular expression (a string)"
    if not pattern:
        return "must not be empty"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"must be at most {MAX_PATTERN_LENGTH} characters"
    if not is_text(pattern):
        return "must be valid Unicode text (it holds a lone surrogate)"
    try:
        _compiled(pattern)
    except re2.error as exc:
        reason = _reason(exc)
        hint = " (backreferences and lookaround are not supported)" \
            if "escape sequence" in reason or "perl operator" in reason else ""
        return f"is not a regular expression the linear-time engine (RE2) accepts: {reason}{hint}"
    return None


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re2._Regexp:
    # Compiled from UTF-8 bytes and run on UTF-8 bytes: see `_encode`.
    return re2.compile(pattern.encode("utf-8"), options=_options())


def is_text(value: str) -> bool:
    """Can `value` be written as UTF-8? (A JSON string may hold a lone surrogate, which cannot.)"""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _encode(text: str) -> bytes:
    # A lone surrogate in the text is kept as its (invalid) UTF-8 bytes: it matches nothing a pattern spells,
    # and RE2 reads invalid bytes safely.
    return text.encode("utf-8", "surrogatepass")


def literal(text: str) -> str:
    """A pattern matching `text` itself (every special character escaped); `text` must be valid Unicode."""
    return re2.escape(text)


def search(pattern: str, text: str) -> bool:
    """Does `pattern` (already accepted by `check`) occur anywhere in `text`? Linear time in `text`."""
    return _compiled(pattern).search(_encode(text)) is not None


class PatternSet:
    """Several patterns scanned in one pass: `matching(text)` is the set of indices of those that occur."""

    __slots__ = ("_patterns", "_set")

    def __init__(self, patterns: Sequence[str]) -> None:
        """`patterns` were accepted by `check` or built by `literal`; a ValueError names one that was not."""
        self._patterns = tuple(patterns)
        for i, pattern in enumerate(self._patterns):
            try:
                _compiled(pattern)
            except (re2.error, UnicodeEncodeError) as exc:
                raise ValueError(f"pattern {i} is not valid: {exc}") from exc
        self._set = None
        if patterns:
            built = re2.Set.SearchSet(_options())
            try:
                for pattern in patterns:
                    built.Add(pattern.encode("utf-8"))
                built.Compile()
                self._set = built
            except re2.error:  # too big to combine: scan the patterns one by one (still linear, just slower)
                self._set = None

    def __len__(self) -> int:
        return len(self._patterns)

    def matching(self, text: str) -> frozenset[int]:
        if not self._patterns:
            return frozenset()
        encoded = _encode(text)
        if self._set is None:
            return frozenset(i for i, p in enumerate(self._patterns) if _compiled(p).search(encoded) is not None)
        found = self._set.Match(encoded)
        return frozenset(found) if found else frozenset()
