"""The regex guard: administrators' patterns run in linear time on customer text, whatever the pattern."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.triage import regex_guard

# Each of these takes exponential time in a backtracking engine (Python's re) on the text beside it.
CATASTROPHIC = [
    (r"(a+)+$", "a" * 100_000 + "!"),
    (r"(a|aa)*b", "a" * 100_000),
    (r"(x+x+)+y", "x" * 100_000),
    (r"^(\w+\s?)*$", "word " * 20_000 + "!"),
    (r"(.*a){20}", "a" * 19 + "b" * 100_000),
]


@pytest.mark.parametrize(("pattern", "text"), CATASTROPHIC, ids=[p for p, _ in CATASTROPHIC])
def test_a_catastrophic_backtracking_pattern_is_accepted_and_runs_fast(pattern, text):
    assert regex_guard.check(pattern) is None
    started = time.perf_counter()
    assert regex_guard.search(pattern, text) is False
    assert regex_guard.PatternSet([pattern, "zzz"]).matching(text) == frozenset()
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(("pattern", "reason"), [
    (r"(a)\1", "backreferences"),
    (r"foo(?=bar)", "lookaround"),
    (r"(?<!x)y", "lookaround"),
    ("(unclosed", "missing )"),
    ("[z-a]", "invalid character class range"),
    ("", "must not be empty"),
    ("a" * 1001, "at most 1000 characters"),
    ("\ud800", "lone surrogate"),
    (42, "a string"),
])
def test_patterns_the_linear_time_engine_cannot_run_are_refused_with_the_reason(pattern, reason):
    assert reason in (regex_guard.check(pattern) or "")


def test_ordinary_patterns_behave_as_expected():
    assert regex_guard.search(r"DB-\d{4}", "error DB-1234 seen")
    assert not regex_guard.search(r"^DB", "error DB-1234")
    assert regex_guard.search(r"(?i)payment", "PAYMENT failed")
    assert regex_guard.search(r"é+", "café")
    assert regex_guard.search(r"\bvip\b", "a vip customer") and not regex_guard.search(r"\bvip\b", "vipers")


def test_a_lone_surrogate_in_the_text_matches_nothing_but_breaks_nothing():
    assert regex_guard.search("a", "\ud800a")
    assert not regex_guard.search(r"\?", "\ud800")
    assert regex_guard.PatternSet(["x"]).matching("\udc00x") == frozenset({0})


def test_a_literal_matches_its_text_and_nothing_special():
    for text in ["a.b", "[x]", "(a+)+$", "\\E", "😀 ü", "tab\there"]:
        assert regex_guard.search(regex_guard.literal(text), f"--{text}--")
    assert not regex_guard.search(regex_guard.literal("a.b"), "axb")


PATTERNS = [r"DB-\d{4}", r"(?i)^pay", r"(a+)+$", r"\bvip\b", r"^$", r"é+", r"[A-Z]{2,}-\d+",
            regex_guard.literal("a.b"), "^" + regex_guard.literal("[x]")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aDB-1234 PayVIPvipé[x].b\n")), max_size=40))
def test_a_pattern_set_finds_exactly_the_patterns_a_search_finds(text):
    expected = frozenset(i for i, p in enumerate(PATTERNS) if regex_guard.search(p, text))
    combined = regex_guard.PatternSet(PATTERNS)
    assert combined.matching(text) == expected
    combined._set = None  # the one-by-one fallback used when a set is too big to compile
    assert combined.matching(text) == expected


def test_an_empty_pattern_set_matches_nothing():
    assert regex_guard.PatternSet([]).matching("anything") == frozenset()
    with pytest.raises(ValueError):
        regex_guard.PatternSet(["(a)\\1"])
