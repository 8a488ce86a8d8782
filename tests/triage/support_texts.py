"""Generated labelled support tickets for classifier tests: five queues' worth of realistic texts built from
templates, with shared boilerplate, typos and a little label noise, so a good model is well above chance and
short of perfect."""

from __future__ import annotations

import random

GREETINGS = ["Hi team,", "Hello,", "Hi support,", "Good morning,", "Hey,", "", "Dear Tierline support,"]
CLOSINGS = ["Thanks in advance.", "Please advise.", "This is urgent for us.", "Regards, Sam", "Cheers",
            "We are on the Enterprise plan.", "", "Let me know if you need more details."]
SHARED = ["It started this morning.", "Several colleagues see the same.", "We did not change anything on our side.",
          "Screenshot attached.", "Can you please look into it?", "It worked fine last week."]

CLASSES: dict[str, dict[str, list[str]]] = {
    "billing": {
        "subject": ["Invoice {n} charged twice", "Refund for duplicate payment", "Wrong amount on our invoice",
                    "Credit card declined when renewing", "Question about VAT on invoice {n}",
                    "Cancel auto-renewal of subscription"],
        "body": ["Our card was charged twice for invoice {n} this month and we need a refund.",
                 "The invoice shows {n} seats but we only pay for {m} seats on our plan.",
                 "Payment failed with PAY-{code} when we tried to renew the subscription.",
                 "Please send a corrected invoice with our VAT number, the billing address is wrong.",
                 "We were billed for the annual plan although we downgraded to monthly billing."],
    },
    "login": {
        "subject": ["Cannot log in", "Password reset email never arrives", "SSO login fails with AUTH-{code}",
                    "Locked out of my account", "Two-factor code rejected", "SAML login loop"],
        "body": ["Users get AUTH-{code} when they sign in through our SAML identity provider.",
                 "The password reset link expired immediately and now the account is locked.",
                 "After enabling two-factor authentication the code from the authenticator app is rejected.",
                 "About {m} users cannot log in since the SSO certificate was rotated.",
                 "Login redirects back to the sign-in page in a loop, session cookie seems to be dropped."],
    },
    "database": {
        "subject": ["Query fails with DB-{code}", "Replica lag keeps growing", "Backup restore failed",
                    "Deadlock errors on write", "Connection pool exhausted", "Migration stuck on index build"],
        "body": ["Our nightly job fails with DB-{code}: deadlock detected while updating the orders table.",
                 "The read replica is {m} seconds behind the primary and reports are stale.",
                 "Restoring yesterday's backup stops at {n}% with a checksum mismatch on the data file.",
                 "Too many connections: the connection pool is exhausted and queries time out.",
                 "The schema migration has been building an index on the events table for {m} hours."],
    },
    "performance": {
        "subject": ["Dashboard very slow", "Page load takes {m} seconds", "Timeouts on the reports page",
                    "API latency spikes", "Search is sluggish", "Export takes forever"],
        "body": ["The dashboard takes {m} seconds to load and sometimes the browser shows a timeout.",
                 "API latency went from 200 ms to {n} ms at peak hours, p99 is terrible.",
                 "Loading the reports page spins for minutes before anything renders.",
                 "Searching tickets is sluggish, every keystroke freezes the page for a second.",
                 "The CSV export of {n} rows runs for an hour and the page becomes unresponsive."],
    },
    "integrations": {
        "subject": ["Slack notifications stopped", "Webhook returns 502 Bad Gateway", "Jira sync not working",
                    "Salesforce connector error", "Zapier trigger never fires", "API token for integration"],
        "body": ["Our webhook endpoint gets HTTP 502 Bad Gateway and the retries give up after {m} attempts.",
                 "Slack notifications for new tickets stopped arriving in our support channel.",
                 "Issues created in Jira are not synced back, the connector shows the last sync {m} days ago.",
                 "The Salesforce connector fails to map the account field and skips {n} records.",
                 "The Zapier trigger for new tickets never fires although the app is connected."],
    },
}
LABELS = list(CLASSES)


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 10 or rng.random() > 0.3:
        return text
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:] if rng.random() < 0.5 else text[:i] + text[i + 1:]


def ticket(label: str, rng: random.Random) -> tuple[str, str]:
    """One ticket of this class: (subject, description)."""
    spec = CLASSES[label]
    slots = {"n": rng.randint(1000, 99999), "m": rng.randint(2, 400), "code": rng.randint(100, 9999)}
    subject = rng.choice(spec["subject"]).format(**slots)
    parts = [rng.choice(GREETINGS), rng.choice(spec["body"]).format(**slots)]
    parts += rng.sample(SHARED, rng.randint(0, 2))
    if rng.random() < 0.4:
        parts.append(rng.choice(spec["body"]).format(**slots))
    parts.append(rng.choice(CLOSINGS))
    return _typo(subject, rng), _typo(" ".join(p for p in parts if p), rng)


def dataset(n_per_class: int = 60, *, seed: int = 7, label_noise: float = 0.03,
            labels: list[str] | None = None) -> list[tuple[str, str]]:
    """[(text, label)], shuffled; `label_noise` of the rows carry a wrong label, as real history does."""
    rng = random.Random(seed)
    labels = labels or LABELS
    rows = []
    for label in labels:
        for _ in range(n_per_class):
            subject, description = ticket(label, rng)
            shown = rng.choice(labels) if rng.random() < label_noise else label
            rows.append((f"{subject}\n{description}", shown))
    rng.shuffle(rows)
    return rows


def write_csv(path, rows, *, text_col: str = "text", label_col: str = "queue") -> None:  # noqa: ANN001
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([text_col, label_col, "id"])
        for i, (text, label) in enumerate(rows):
            writer.writerow([text, label, i])
