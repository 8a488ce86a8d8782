"""Signatures: near-duplicate tickets collide, unrelated tickets do not, and masked details never matter."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from tierline.tickets.signature import (
    EMPTY_FINGERPRINT,
    fingerprint,
    fingerprint_tokens,
    is_recurrence_signature,
    normalise_error_code,
    signature_for,
)

# The same problem written up by different customers: other ids, numbers, emails, URLs, greetings, sign-offs,
# case, punctuation and word forms.
NEAR_DUPLICATES: dict[str, list[tuple[str, str]]] = {
    "csv export timeout": [
        ("CSV export times out", "Hi team,\nWhen I export the usage report to CSV it times out after 30 "
                                 "seconds. Request id 7f3a9c2e1b44.\nThanks,\nBob Miller\nbob@acme.com"),
        ("csv export timing out!!", "Hello, exporting our monthly report as CSV keeps timing out (took 45s). "
                                    "See https://app.tierline.example/reports/88123. Regards, Ana"),
        ("CSV exports timed out", "Since this morning every CSV export ends in a time-out after ~60 seconds. "
                                  "Trace id 3e1f8c90-4b2a-4c5e-9d7a-1f2e3d4c5b6a"),
    ],
    "sso login": [
        ("Cannot log in with SSO", "Our users get 'invalid SAML response' when signing in via Okta since "
                                   "09:14 UTC. Tenant acme-prod-01."),
        ("Can't login with SSO", "Hi, nobody at globex.com can sign in through SSO, Azure AD shows "
                                 "AADSTS50011. Please help!"),
        ("unable to log in via SSO", "URGENT: all 300 of our agents are locked out, SSO login loops back to "
                                     "the start page. -- Priya, priya.n@initech.io"),
    ],
    "webhooks failing": [
        ("Webhooks failing", "Webhook deliveries to https://hooks.initech.io/tierline return 502 Bad Gateway "
                             "since 14:02."),
        ("Webhooks are failing again", "Hello, none of our webhooks arrived in the last 2 hours (event ids "
                                       "evt_91f2a, evt_77c01)."),
        ("Webhook errors since 10:40", "We see failed webhook calls in the delivery log, about 1,200 so "
                                       "far."),
    ],
    "invoice pdf download": [
        ("Invoice PDF download broken", "The download button on invoice INV-2024-12345 returns a blank "
                                        "page."),
        ("invoice pdf downloads not working", "Hi! I cannot download the PDF of my last invoice (INV-2025-"
                                              "00017), the link does nothing. Thanks, Jo"),
        ("Error downloading invoice PDF", "Downloading the invoice as PDF gives error 500. Regards"),
    ],
    "slow dashboard": [
        ("Dashboards slow to load", "The main dashboard takes 25s to load for everyone in our eu-west "
                                    "workspace."),
        ("Slow dashboard load times", "Since yesterday dashboards need 9 seconds or more to load."),
        ("Dashboard very slow to load", "hi, dashboard is really slow to load (12s) for 40 users. thx"),
    ],
    # A vague subject: the description decides.
    "mobile app crash": [
        ("Urgent help needed", "Hi, the mobile app crashes on startup after the 6.2 update on Android 14. "
                               "Thanks, Maria"),
        ("Help please!!", "Hello team, mobile app crashes at startup since updating to 6.3 on Android 13. "
                          "Best, Ken"),
        ("Problem", "Mobile app crashed at startup right after the update (Android 12, build 6.2.1-rc4)."),
    ],
    "api rate limit": [
        ("API rate limit (429)", "We are getting HTTP 429 Too Many Requests from /v2/orders at ~200 rps."),
        ("API rate-limited", "Our integration is rate limited by the API since 10:00, request req_8f3k2j9."),
        ("api rate limits", "hitting the API rate limit at 50 req/s, is there a way to raise it?"),
    ],
}

# Different problems that share words with the groups above.
UNRELATED: list[tuple[str, str]] = [
    ("CSV import fails", "Importing contacts from a CSV file fails on row 12."),
    ("Cannot log in with password", "Password login says invalid credentials after the reset."),
    ("Invoice amount wrong", "Our last invoice charges 12 seats, we have 10."),
    ("Dashboard shows wrong totals", "Revenue widget totals do not match the export."),
    ("Mobile app login fails", "On iOS 17 the mobile app rejects my password."),
    ("Webhook signature mismatch", "The X-Signature header does not verify with our secret."),
    ("How do I add a user?", "Where can an admin invite a new teammate?"),
    ("Feature request: dark mode", "It would be great to have a dark theme for the agent console."),
]


def test_near_duplicates_in_a_realistic_corpus_share_one_fingerprint():
    for name, tickets in NEAR_DUPLICATES.items():
        prints = {fingerprint(subject=s, description=d) for s, d in tickets}
        tokens = [fingerprint_tokens(subject=s, description=d) for s, d in tickets]
        assert len(prints) == 1, f"{name}: {tokens}"
        assert EMPTY_FINGERPRINT not in prints


def test_unrelated_tickets_never_collide_even_when_they_share_words():
    texts = [tickets[0] for tickets in NEAR_DUPLICATES.values()] + UNRELATED
    prints = [fingerprint(subject=s, description=d) for s, d in texts]
    collisions = [(texts[i][0], texts[j][0]) for i, j in itertools.combinations(range(len(texts)), 2)
                  if prints[i] == prints[j]]
    assert collisions == []


def test_the_fingerprint_is_built_from_sorted_content_tokens():
    tokens = fingerprint_tokens(subject="CSV export times out", description="Please help, thanks!")
    assert tokens == ["csv", "export", "timeout"]
    assert fingerprint(subject="CSV export times out", description="").startswith("fp:")


_SEPARATOR = st.sampled_from([" ", "  ", "\n", " - "])
_EMAIL = st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8})?@[a-z]{2,10}\.(com|io|de)", fullmatch=True)
_URL = st.from_regex(r"https://[a-z]{2,10}\.example/[a-z0-9/_-]{0,20}(\?id=[0-9]{1,6})?", fullmatch=True)
# Generated ids hold a digit, as real ones (hex of random bits) do; an all-letter "id" reads as a word.
_HEX = st.from_regex(r"[0-9a-f]{8,16}", fullmatch=True).filter(lambda s: any(c.isdigit() for c in s))


@given(number=st.integers(min_value=0, max_value=10**9), email=_EMAIL, url=_URL, hex_id=_HEX,
       uuid=st.uuids(), separator=_SEPARATOR)
def test_numbers_ids_emails_and_urls_never_change_the_fingerprint(number, email, url, hex_id, uuid,
                                                                   separator):
    subject = f"Export {number} failed"
    description = (f"Hi,{separator}the export job failed for {email} after {number} rows.{separator}"
                   f"Details: {url} (request {hex_id}, trace {uuid}).")
    plain = fingerprint(subject="Export failed", description="Hi, the export job failed for after rows. "
                                                             "Details: (request , trace ).")
    assert fingerprint(subject=subject, description=description) == plain


def test_an_error_code_is_the_signature_normalised_with_the_component():
    text = {"subject": "x", "description": "y"}
    assert signature_for(error_code=" db_1042 ", component_id=12, **text) == "DB-1042|c:12"
    assert signature_for(error_code="HTTP 503", component_id=None, **text) == "HTTP-503|c:-"
    assert normalise_error_code("--") is None


def test_without_an_error_code_the_text_fingerprint_and_the_component_make_the_signature():
    sig = signature_for(error_code=None, subject="CSV export times out", description="", component_id=None)
    assert sig.startswith("fp:") and sig.endswith("|c:-") and len(sig) == len("fp:") + 16 + len("|c:-")
    other = signature_for(error_code=None, subject="CSV export times out", description="", component_id=4)
    assert other != sig and other.endswith("|c:4")


def test_a_ticket_without_content_gets_a_signature_that_never_makes_a_problem():
    sig = signature_for(error_code=None, subject="Hi!!", description="Please help, thanks. 12345",
                        component_id=1)
    assert sig == "fp:none|c:1"
    assert not is_recurrence_signature(sig)
    assert is_recurrence_signature("DB-1042|c:-")


@given(st.text(max_size=300), st.text(max_size=2000), st.one_of(st.none(), st.text(max_size=100)),
       st.one_of(st.none(), st.integers(min_value=1, max_value=2**62)))
def test_any_text_gets_a_signature_that_fits_its_column(subject, description, code, component_id):
    sig = signature_for(error_code=code, subject=subject, description=description, component_id=component_id)
    assert 0 < len(sig) <= 200
    assert sig == signature_for(error_code=code, subject=subject, description=description,
                                component_id=component_id)
