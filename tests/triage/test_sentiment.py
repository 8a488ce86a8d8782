"""Sentiment: VADER with the support-desk lexicon, the frustration flag and its documented thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment import vaderSentiment as vader

from tierline.triage import sentiment
from tierline.triage.sentiment import FRUSTRATED_COMPOUND, MAX_CHARS, TECHNICAL_WORDS, analyse

DOCS = Path(__file__).resolve().parents[2] / "docs" / "impact.md"


@pytest.mark.parametrize("text", [
    "Export fails with DB-1042",
    "Hi, the nightly export job failed with error DB-1042 and the report is missing. Could you take a look?",
    "Production is down: 502 Bad Gateway on checkout since 09:00. Critical, please help urgently.",
    "Our SSO login is broken, users get AUTH-401 errors. This is a critical problem for us.",
    "We keep getting killed processes and deadlocks in the worker, the queue is blocked.",
    "How do I change the timezone of my business calendar?",
    "Great product, love it! Just one question about the API limits.",
    "",
])
def test_a_customer_reporting_a_fault_is_not_frustrated(text):
    result = analyse(text)
    assert result.frustrated is False, result.reasons
    assert result.compound > FRUSTRATED_COMPOUND


@pytest.mark.parametrize(("text", "reason"), [
    ("Your product is garbage and your support is awful. I hate this.", "compound"),
    ("Still broken. We are very frustrated, this is hurting our business badly.", "compound"),
    ("We are considering cancelling our contract.", "escalation word: cancelling our contract"),
    ("Our lawyer will be in touch.", "escalation word: lawyer"),
    ("This is unacceptable.", "escalation word: unacceptable"),
    ("This is the third time I report it.", "escalation word: third time"),
    ("It is still not fixed after a week.", "escalation word: still not fixed"),
    ("Nobody has responded since Monday.", "escalation word: nobody has responded"),
    ("We demand a full refund.", "escalation word: demand a full refund"),
    ("I want to speak to a manager", "escalation word: speak to a manager"),
])
def test_low_compound_or_escalation_wording_marks_a_customer_frustrated(text, reason):
    result = analyse(text)
    assert result.frustrated is True
    assert any(r.startswith(reason) for r in result.reasons), result.reasons


def test_technical_words_and_statuses_do_not_read_as_anger():
    stock = vader.SentimentIntensityAnalyzer()
    text = ("The export failed with a fatal error, the job was killed and now the gateway shows "
            "502 Bad Gateway.")
    assert stock.polarity_scores(text)["compound"] <= FRUSTRATED_COMPOUND  # what plain VADER would say
    assert analyse(text).compound == 0.0


def test_escalation_wording_counts_anywhere_in_a_long_text():
    text = "We upgraded last week and the sync stopped. " * 60 + "Frankly this is unacceptable."
    assert len(text) > MAX_CHARS
    result = analyse(text)
    assert result.frustrated and "escalation word: unacceptable" in result.reasons


def test_the_analyser_is_loaded_once_per_process():
    assert sentiment.analyser() is sentiment.analyser()


def test_the_thresholds_are_documented():
    doc = DOCS.read_text()
    assert str(FRUSTRATED_COMPOUND) in doc
    assert str(MAX_CHARS) in doc


# The linear-time analyser must score exactly like stock VADER with the same lexicon.
_STOCK = vader.SentimentIntensityAnalyzer()
for _word in TECHNICAL_WORDS:
    _STOCK.lexicon.pop(_word, None)
_VOCABULARY = sorted({
    "good", "great", "bad", "terrible", "love", "hate", "happy", "sad", "awful", "nice", "angry", "fine",
    "ok", "not", "isn't", "never", "without", "doubt", "no", "nor", "or", "least", "at", "very", "extremely",
    "kind", "of", "sort", "so", "this", "but", "the", "it", "is", "was", "we", "product", "support", "error",
    "failed", "export", "users", "cancel", "help", "please", "thanks", "really", "barely", "quite", ":)",
    ":(", "!", "?", "GREAT", "BAD", "NOT", "😀", "😡", "café", "naïve", "—",
    *(w for phrase in vader.SPECIAL_CASES for w in phrase.split()),
    *(w for phrase in vader.BOOSTER_DICT for w in phrase.split()),
})


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.sampled_from(_VOCABULARY), max_size=40),
       punctuation=st.sampled_from(["", "!", "!!!", "??"]))
def test_the_fast_analyser_scores_exactly_like_stock_vader(words, punctuation):
    text = " ".join(words) + punctuation
    assert sentiment.analyser().polarity_scores(text) == _STOCK.polarity_scores(text)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_analyse_never_fails_and_stays_in_range(text):
    result = analyse(text)
    assert -1.0 <= result.compound <= 1.0
    assert result.frustrated == bool(result.reasons)
