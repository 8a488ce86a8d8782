"""The queueing maths behind capacity-based targets, against textbook values and a brute-force formula."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.capacity import erlang

servers = st.integers(min_value=1, max_value=120)
traffic = st.floats(min_value=0.0, max_value=150.0, allow_nan=False)
aht = st.floats(min_value=0.5, max_value=5_000.0, allow_nan=False)
level = st.floats(min_value=0.01, max_value=0.99, allow_nan=False)
minutes = st.floats(min_value=0.0, max_value=10_000.0, allow_nan=False)


def brute_force_erlang_c(n: int, a: Fraction) -> float:
    """The textbook closed form with factorials and powers, in exact fractions (only for small n)."""
    head = sum(a ** k / math.factorial(k) for k in range(n))
    tail = a ** n / math.factorial(n) * Fraction(n) / (n - a)
    return float(tail / (head + tail))


def brute_force_erlang_b(n: int, a: Fraction) -> float:
    return float((a ** n / math.factorial(n)) / sum(a ** k / math.factorial(k) for k in range(n + 1)))


def test_it_matches_the_textbook_table_for_ten_erlangs():
    # Pw for A = 10 Erlangs and 11..15 agents, as printed in every contact-centre planning text.
    expected = {11: 0.6821, 12: 0.4494, 13: 0.2853, 14: 0.1741, 15: 0.1020}
    for n, pw in expected.items():
        assert erlang.erlang_c(n, 10.0) == pytest.approx(pw, abs=5e-5)


def test_it_matches_a_textbook_service_level():
    # 10 Erlangs on 12 agents with 3-minute calls, answered within 20 s: 1 - 0.4494 * exp(-2 * 20 / 180).
    assert erlang.service_level(12, 10.0, 3.0, 1 / 3) == pytest.approx(0.6402, abs=1e-4)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(min_value=1, max_value=40),
       a=st.fractions(min_value=0, max_value=60, max_denominator=64))
def test_erlang_b_and_c_agree_with_the_closed_form(n, a):
    assert erlang.erlang_b(n, float(a)) == pytest.approx(brute_force_erlang_b(n, a), rel=1e-9, abs=1e-12)
    if a < n:
        assert erlang.erlang_c(n, float(a)) == pytest.approx(brute_force_erlang_c(n, a), rel=1e-9, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(n=servers, a=traffic)
def test_the_probability_of_waiting_is_a_probability(n, a):
    pw = erlang.erlang_c(n, a)
    assert 0.0 <= pw <= 1.0
    assert 0.0 <= erlang.erlang_b(n, a) <= 1.0


@settings(max_examples=200, deadline=None)
@given(n=servers, a=traffic)
def test_more_servers_never_make_waiting_more_likely(n, a):
    assert erlang.erlang_c(n + 1, a) <= erlang.erlang_c(n, a) + 1e-12
    if n > a and erlang.erlang_c(n, a) > 1e-200:  # strictly, while a float can still tell them apart
        assert erlang.erlang_c(n + 1, a) < erlang.erlang_c(n, a)


@settings(max_examples=200, deadline=None)
@given(n=servers, a1=traffic, a2=traffic)
def test_more_load_never_makes_waiting_less_likely(n, a1, a2):
    lo, hi = sorted((a1, a2))
    assert erlang.erlang_c(n, lo) <= erlang.erlang_c(n, hi) + 1e-12


@settings(max_examples=200, deadline=None)
@given(n=servers, a1=traffic, a2=traffic, h=aht, t=minutes)
def test_more_load_never_raises_the_service_level(n, a1, a2, h, t):
    lo, hi = sorted((a1, a2))
    assert erlang.service_level(n, hi, h, t) <= erlang.service_level(n, lo, h, t) + 1e-12


@settings(max_examples=200, deadline=None)
@given(n=servers, a=traffic, h=aht, t=minutes)
def test_more_agents_never_lower_the_service_level(n, a, h, t):
    assert erlang.service_level(n, a, h, t) <= erlang.service_level(n + 1, a, h, t) + 1e-12


@settings(max_examples=100, deadline=None)
@given(n=servers, a=traffic, h=aht, t=minutes)
def test_a_given_probability_of_waiting_changes_nothing(n, a, h, t):
    assert erlang.service_level(n, a, h, t, pw=erlang.erlang_c(n, a)) == erlang.service_level(n, a, h, t)


def test_it_matches_textbook_waiting_probabilities_beyond_ten_erlangs():
    # Pw for 2 Erlangs on 3 agents (4/9) and 20 Erlangs on 25 agents, the textbook closed form's values.
    assert erlang.erlang_c(3, 2.0) == pytest.approx(4 / 9, abs=1e-12)
    assert erlang.erlang_c(25, 20.0) == pytest.approx(brute_force_erlang_c(25, Fraction(20)), rel=1e-12)
    assert erlang.mean_wait(3, 2.0, 6.0) == pytest.approx(4 / 9 * 6.0, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(n=servers, a=traffic, h=aht, t1=minutes, t2=minutes)
def test_the_service_level_grows_with_the_answer_time(n, a, h, t1, t2):
    lo, hi = sorted((t1, t2))
    assert erlang.service_level(n, a, h, lo) <= erlang.service_level(n, a, h, hi) + 1e-12
    assert 0.0 <= erlang.service_level(n, a, h, lo) <= 1.0


@settings(max_examples=200, deadline=None)
@given(n=servers, a=traffic, h=aht)
def test_the_service_level_at_zero_is_the_share_that_never_waits(n, a, h):
    if n > a:
        assert erlang.service_level(n, a, h, 0.0) == pytest.approx(1.0 - erlang.erlang_c(n, a), abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(n=servers, a=traffic, h=aht, q=level)
def test_the_answer_time_is_the_smallest_meeting_the_level(n, a, h, q):
    t = erlang.answer_time(n, a, h, q)
    if not erlang.is_stable(n, a):
        assert t is None
        return
    assert t is not None and t >= 0.0
    assert erlang.service_level(n, a, h, t) >= q - 1e-9
    if t > 1e-9:
        assert erlang.service_level(n, a, h, t * (1 - 1e-6)) < q


@settings(max_examples=100, deadline=None)
@given(n=servers, a=st.floats(min_value=0.1, max_value=100.0), h=aht, q=level)
def test_more_servers_never_lengthen_the_answer_time(n, a, h, q):
    t1, t2 = erlang.answer_time(n, a, h, q), erlang.answer_time(n + 1, a, h, q)
    if t1 is not None:
        assert t2 is not None and t2 <= t1 + 1e-9


@settings(max_examples=150, deadline=None)
@given(a=st.floats(min_value=0.0, max_value=300.0), h=aht, q=level, t=minutes)
def test_servers_needed_is_the_fewest_meeting_the_level(a, h, q, t):
    n = erlang.servers_needed(a, h, q, t)
    assert erlang.service_level(n, a, h, t) >= q
    if n > 1:
        assert erlang.service_level(n - 1, a, h, t) < q
    assert erlang.agents_needed(a, h, q, t) == n


def test_an_unstable_queue_is_named_explicitly():
    for n, a in ((10, 10.0), (5, 12.5), (0, 3.0), (0, 0.0)):
        assert not erlang.is_stable(n, a)
        assert erlang.erlang_c(n, a) == 1.0
        assert erlang.service_level(n, a, 5.0, 1_000.0) == 0.0
        assert erlang.answer_time(n, a, 5.0, 0.8) is None
        assert erlang.mean_wait(n, a, 5.0) is None


def test_no_work_means_nobody_waits():
    assert erlang.erlang_c(3, 0.0) == 0.0
    assert erlang.service_level(3, 0.0, 5.0, 0.0) == 1.0
    assert erlang.answer_time(3, 0.0, 5.0, 0.99) == 0.0
    assert erlang.servers_needed(0.0, 5.0, 0.9, 0.0) == 1


def test_it_stays_finite_for_thousands_of_servers():
    pw = erlang.erlang_c(5_000, 4_900.0)
    assert 0.0 < pw < 1.0 and math.isfinite(pw)
    assert erlang.answer_time(5_000, 4_900.0, 10.0, 0.8) is not None
    assert erlang.servers_needed(4_900.0, 10.0, 0.8, 0.5) > 4_900


@pytest.mark.parametrize(("call", "args"), [
    (erlang.erlang_c, (2.5, 1.0)),
    (erlang.erlang_c, (-1, 1.0)),
    (erlang.erlang_c, (3, -0.1)),
    (erlang.erlang_c, (3, float("nan"))),
    (erlang.service_level, (3, 1.0, 0.0, 1.0)),
    (erlang.service_level, (3, 1.0, 2.0, -1.0)),
    (erlang.answer_time, (3, 1.0, 2.0, 1.0)),
    (erlang.answer_time, (3, 1.0, 2.0, 0.0)),
    (erlang.servers_needed, (1.0, 2.0, 1.5, 1.0)),
])
def test_it_rejects_inputs_that_mean_nothing(call, args):
    with pytest.raises(ValueError):
        call(*args)
