"""What customers write about: support scenarios per component, with error codes, traces and fixes, and the
vague tickets whose component only an agent can tell.

Texts are `str.format` templates; `texts.TicketWriter.context` supplies every placeholder used here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tierline.demo.corpus_everyday import EVERYDAY
from tierline.demo.corpus_headline import HEADLINE
from tierline.demo.scenario import TRACES, Scenario

__all__ = ["EVERYDAY", "FEATURE_REQUESTS", "HEADLINE", "SCENARIOS", "TRACES", "VAGUE", "Scenario", "Vague"]


SCENARIOS: tuple[Scenario, ...] = (*HEADLINE, *EVERYDAY)


@dataclass(frozen=True)
class Vague:
    """A ticket whose words fit several components: the customer describes a symptom, and which component it
    was is known only once an agent has looked (the ticket arrives without one, and the agent sets it). About
    one ticket in ten reads like this; the classifier cannot tell them apart, as no reader could."""

    subjects: tuple[str, ...]
    descriptions: tuple[str, ...]
    candidates: tuple[tuple[str, str], ...]  # (component, type) of the scenario it turns out to be


VAGUE: tuple[Vague, ...] = (
    Vague(("Requests timing out", "Timeouts since {ago}", "Everything is slow today"),
          ("Since {ago} a lot of our requests time out and the app feels very slow. We haven't changed "
           "anything that we know of. Can you check whether something is wrong on your side?",
           "Our users complain the app is slow and some requests end in a timeout. It started around "
           "{time_local}."),
          (("Load Balancer", "incident"), ("Query Engine", "incident"), ("Connection Pooling", "incident"),
           ("Autoscaling", "incident"), ("CDN", "incident"))),
    Vague(("Users can't sign in", "Login problems for part of our team"),
          ("Some of our users can't log in since {ago}. Others are fine. We don't see a pattern yet.",
           "Several people on our team get bounced back to the login page. Can you look at our workspace?"),
          (("SSO & SAML", "incident"), ("MFA", "bug"), ("Web App", "bug"), ("OAuth & API Keys", "question"))),
    Vague(("Data missing in our reports", "Numbers don't match"),
          ("The numbers in our weekly reporting don't match what we see in the app; some of this week's data "
           "seems to be missing.",
           "Our finance report is missing records from {ago}. Where could they have gone?"),
          (("Reporting & Exports", "bug"), ("Data Warehouse Sync", "incident"), ("Replication", "incident"),
           ("Dashboard", "bug"))),
    Vague(("Sync stopped working", "Our integration stopped syncing"),
          ("Our sync stopped working {ago}. Nothing new has come through since. Can you check what happened?",
           "Records stopped syncing between our systems and Tierline around {time_local}."),
          (("Salesforce Connector", "problem"), ("Data Warehouse Sync", "incident"), ("Webhooks", "incident"),
           ("User Provisioning (SCIM)", "bug"))),
    Vague(("Notifications not arriving", "We're not getting alerts any more"),
          ("We stopped getting notifications {ago}. Our team relies on them to react quickly.",),
          (("Email Notifications", "incident"), ("Slack App", "bug"), ("Webhooks", "incident"),
           ("Android App", "question"))),
    Vague(("Errors in our integration", "Getting errors from your API"),
          ("Our integration has been getting errors since {time_local}. Not every call fails, maybe one in "
           "five.",),
          (("REST API", "bug"), ("Rate Limiting", "incident"), ("OAuth & API Keys", "incident"),
           ("Load Balancer", "incident"))),
    Vague(("Question about our bill", "Unexpected amount on our card"),
          ("We see an amount on our card we didn't expect. Can you explain what it's for?",
           "Our bill this month is different from last month and nobody here changed anything."),
          (("Payments", "bug"), ("Invoicing", "question"), ("Subscriptions & Plans", "question"))),
    Vague(("Files won't download", "Downloads broken"),
          ("Our users can't download files since {ago}; the download starts and fails.",),
          (("Object Storage", "question"), ("CDN", "incident"), ("Reporting & Exports", "question"))),
    Vague(("App keeps crashing", "The app closes by itself"),
          ("The app closes by itself for some of our staff, several times a day.",),
          (("iOS App", "bug"), ("Android App", "bug"), ("Dashboard", "bug"))),
)

# (title, what the customer wants to be able to do)
FEATURE_REQUESTS = (
    ("audit log streaming to our SIEM", "stream the audit log to our SIEM (Splunk) in real time"),
    ("dark mode", "have a dark mode in the web app"),
    ("per-project roles", "assign roles per project instead of per workspace"),
    ("bulk edit in the table view", "bulk-edit rows in the table view"),
    ("scheduled exports to SFTP", "schedule exports directly to an SFTP server"),
    ("webhooks for permission changes", "get webhooks for permission changes"),
    ("custom session timeout", "set a custom session timeout per workspace"),
    ("IP allow-list for sign-in", "restrict sign-in to our office IP ranges"),
)
