"""Signals extraction: error codes by family, affected users, production-down / data-loss / security /
all-users wording, component hints, and the false positives that must stay out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.triage import signals
from tierline.triage.signal_patterns import FAMILIES, ErrorFamily, compile_families, literal_prefix, rx
from tierline.triage.types import Signals


def extract(text: str, *, subject: str = "", custom_fields: dict | None = None,
            component_index: dict | None = None, with_sentiment: bool = False) -> Signals:
    return signals.extract(subject=subject, description=text, custom_fields=custom_fields or {},
                           component_index=component_index or {}, with_sentiment=with_sentiment)


@pytest.mark.parametrize(("text", "codes", "primary", "family"), [
    ("Save fails with DB-1042", ["DB-1042"], "DB-1042", "DB"),
    ("db-1042 then AUTH-401 then PAY-2001", ["DB-1042", "AUTH-401", "PAY-2001"], "DB-1042", "DB"),
    ("ORA-00942: table or view does not exist", ["ORA-00942"], "ORA-00942", "ORA"),
    ("SSO login fails with auth-403.", ["AUTH-403"], "AUTH-403", "AUTH"),
    ("Card declined (PAY-0042), retried: PAY-0042 again", ["PAY-0042"], "PAY-0042", "PAY"),
    # HTTP 5xx phrasings, all canonical HTTP-5xx
    ("Checkout shows 502 Bad Gateway", ["HTTP-502"], "HTTP-502", "HTTP5XX"),
    ("HTTP 503 from the API", ["HTTP-503"], "HTTP-503", "HTTP5XX"),
    ("HTTP/1.1 504 Gateway Timeout", ["HTTP-504"], "HTTP-504", "HTTP5XX"),
    ("response status code: 500", ["HTTP-500"], "HTTP-500", "HTTP5XX"),
    ("the endpoint returns a 502 when saving", ["HTTP-502"], "HTTP-502", "HTTP5XX"),
    ("We got an HTTP 503 overnight", ["HTTP-503"], "HTTP-503", "HTTP5XX"),
    ("HTTP error 502", ["HTTP-502"], "HTTP-502", "HTTP5XX"),
    ("a 500 error on every page", ["HTTP-500"], "HTTP-500", "HTTP5XX"),
    ("Error: 504 after 30 s", ["HTTP-504"], "HTTP-504", "HTTP5XX"),
    ("500 Internal Server Error", ["HTTP-500"], "HTTP-500", "HTTP5XX"),
    ("Internal Server Error on login", ["HTTP-500"], "HTTP-500", "HTTP5XX"),
    ("service unavailable since noon", ["HTTP-503"], "HTTP-503", "HTTP5XX"),
    # a specific code is primary over a generic HTTP one, whatever the order
    ("HTTP 502 upstream, the log says DB-2001", ["HTTP-502", "DB-2001"], "DB-2001", "DB"),
])
def test_it_finds_error_codes_by_family(text, codes, primary, family):
    found = extract(text)
    assert found.error_codes == codes
    assert (found.error_code, found.error_family) == (primary, family)


@pytest.mark.parametrize("text", [
    "we run version v2.5031 of the agent",  # a version, not a code
    "release 2.503 is installed",
    "XDB-1042 is our internal ticket",  # glued to a word
    "DB-10423 has five digits",  # wrong length for the family
    "DB-1042.5 is a build number",
    "AUTH-4011", "PAY-20011",
    "the query returned 500 rows",  # a count, not a status
    "we see 500 errors per minute in the logs",
    "order 5031 and invoice 502",
    "HTTP 404 not found",  # not a 5xx
    "",
])
def test_it_does_not_take_versions_counts_and_ids_for_error_codes(text):
    found = extract(text)
    assert found.error_codes == [] and found.error_code is None and found.error_family is None


def test_it_reads_error_codes_from_custom_fields_after_the_text():
    found = extract("Export fails with HTTP 503",
                    custom_fields={"error": "db-1042", "other": ["PAY-2001", 7]})
    assert found.error_codes == ["HTTP-503", "DB-1042", "PAY-2001"]
    assert found.error_code == "DB-1042"


def test_error_families_are_data_and_a_new_family_compiles():
    assert {f.name for f in FAMILIES} >= {"DB", "AUTH", "PAY", "HTTP5XX"}
    gated = compile_families([ErrorFamily("SYNC", (r"SYNC-\d{3}", rx(r"E\d{4}", "sync")))])
    assert [e.needs for e in gated.entries] == ["SYNC-", "E"]
    with pytest.raises(ValueError, match="non-capturing"):
        compile_families([ErrorFamily("BAD", (r"(X)-\d",))])


@pytest.mark.parametrize(("pattern", "prefix"), [
    (r"DB-\d{4}", "DB-"), (r"GATEWAY TIME-?OUT", "GATEWAY TIME"), (r"hackers?\b", "hacker"),
    (r"(?:a|b)c", ""), (r"data[ -]loss", "data"), (r"ab|cd", ""), (r"x*y", ""),
])
def test_the_literal_prefix_gate_is_what_every_match_starts_with(pattern, prefix):
    assert literal_prefix(pattern) == prefix


@pytest.mark.parametrize(("text", "users"), [
    ("300 users cannot log in", 300),
    ("about 300 users are affected", 300),
    ("all 1,200 seats are blocked", 1200),
    ("1.2k users see the error", 1200),
    ("2k+ users affected", 2000),
    ("300 of our 2,000 users", 300),
    ("300 out of 1,200 users", 300),
    ("we have 300 concurrent users online", 300),
    ("300 people in finance", 300),
    ("affected users: 40", 40),
    ("Users affected: 40", 40),
    ("Impacted users = ~75", 75),
    ("hundreds of users", 200),
    ("dozens of our customers", 24),
    ("1 user", 1),
    ("300 users now, 4,000 users by Friday", 4000),
    ("v2.5031 users", None),  # a version
    ("$300 users", None),  # an amount
    ("1,20 users", None),
    ("since 2024 customers complain", None),  # a year
    ("at 10:30 users were logged out", None),
    ("the report took 5 minutes, users waited", None),
    ("no numbers here", None),
])
def test_it_extracts_affected_users_from_phrasing(text, users):
    assert extract(text).affected_users == users


def test_an_affected_users_custom_field_wins_over_the_text():
    assert extract("300 users", custom_fields={"affected_users": 42}).affected_users == 42
    assert extract("300 users", custom_fields={"users_affected": "1,200"}).affected_users == 1200
    assert extract("300 users", custom_fields={"affected_users": True}).affected_users == 300


FLAGS = ("production_down", "data_loss", "security", "all_users")


@pytest.mark.parametrize(("text", "flag"), [
    ("Production is down", "production_down"),
    ("prod down since 9am", "production_down"),
    ("our site is down", "production_down"),
    ("the website went down at noon", "production_down"),
    ("complete outage of the platform", "production_down"),
    ("production outage", "production_down"),
    ("outage in production", "production_down"),
    ("the API is unavailable", "production_down"),
    ("nobody can log in", "production_down"),
    ("we lost data", "data_loss"),
    ("data loss after the import", "data_loss"),
    ("records were deleted overnight", "data_loss"),
    ("the backup was corrupted", "data_loss"),
    ("lost all our invoices", "data_loss"),
    ("someone deleted all records", "data_loss"),
    ("possible security breach", "security"),
    ("possible data breach", "security"),
    ("we were hacked", "security"),
    ("CVE-2024-12345 applies to you", "security"),
    ("XSS in the comment field", "security"),
    ("credentials were exposed in logs", "security"),
    ("I can see another customer's data", "security"),
    ("all users are affected", "all_users"),
    ("all of our 300 users", "all_users"),
    ("everyone is locked out", "all_users"),
    ("this affects everyone", "all_users"),
    ("the entire company is blocked", "all_users"),
    ("no one can access the app", "all_users"),
])
def test_it_raises_flags_on_their_wording(text, flag):
    found = extract(text)
    flags = {name for name in FLAGS if getattr(found, name)}
    assert flag in flags


@pytest.mark.parametrize(("text", "flag"), [
    ("download fails", "production_down"),
    ("please slow down the sync", "production_down"),
    ("this is not a production outage", "production_down"),
    ("there is no outage", "production_down"),
    ("production is not down, just slow", "production_down"),
    ("no data loss, just a display bug", "data_loss"),
    ("we did not lose data", "data_loss"),
    ("SLA breach warning", "security"),
    ("question about security settings", "security"),
    ("hi everyone, quick question", "all_users"),
    ("all the reports are late", "all_users"),
])
def test_it_ignores_negated_and_look_alike_wording(text, flag):
    assert getattr(extract(text), flag) is False


COMPONENTS = {"billing": 1, "billing api": 2, "auth service": 3, "sso": 4, "api": 5, "db-cluster": 6}


@pytest.mark.parametrize(("text", "hints"), [
    ("the Billing API fails", [2]),  # the longer name claims its words
    ("billing is wrong, SSO too", [1, 4]),
    ("auth service and billing api", [3, 2]),
    ("the api, then billing", [5, 1]),
    ("db-cluster down", [6]),
    ("sso.", [4]),
    ("ssologin and apis", []),  # whole words only
    ("nothing here", []),
])
def test_it_hints_components_named_as_whole_words_first_mention_first(text, hints):
    assert extract(text, component_index=COMPONENTS).component_hints == hints


def test_component_hints_follow_a_changed_index():
    assert extract("sso broken", component_index={"sso": 4}).component_hints == [4]
    assert extract("sso broken", component_index={"sso": 9}).component_hints == [9]
    assert extract("sso broken", component_index={}).component_hints == []


def test_sentiment_is_included_unless_skipped():
    assert extract("This is unacceptable, third time!", with_sentiment=True).sentiment.frustrated is True
    assert extract("This is unacceptable", with_sentiment=False).sentiment is None


@settings(max_examples=200, deadline=None)
@given(subject=st.text(max_size=80), description=st.text(max_size=600),
       field=st.one_of(st.text(max_size=40), st.integers(), st.lists(st.text(max_size=20), max_size=3)))
def test_extract_never_fails_and_its_signals_are_consistent(subject, description, field):
    found = signals.extract(subject=subject, description=description, custom_fields={"f": field},
                            component_index=COMPONENTS, with_sentiment=False)
    assert len(found.error_codes) == len(set(found.error_codes))
    assert (found.error_code is None) == (not found.error_codes)
    assert found.error_code is None or found.error_code in found.error_codes
    assert found.affected_users is None or 0 <= found.affected_users <= signals.MAX_AFFECTED_USERS
    assert set(found.component_hints) <= set(COMPONENTS.values())


@settings(max_examples=100, deadline=None)
@given(prefix=st.sampled_from(["", "see ", "error ", "(", "code="]), digits=st.integers(0, 9999),
       suffix=st.sampled_from(["", ".", " now", ", then", ")"]))
def test_a_db_code_is_found_wherever_it_stands_alone(prefix, digits, suffix):
    code = f"DB-{digits:04d}"
    assert extract(f"{prefix}{code}{suffix}").error_codes == [code]
