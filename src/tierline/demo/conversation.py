"""How support conversations sound: greetings, acknowledgements, questions, replies and internal notes."""

from __future__ import annotations

CUSTOMER_OPENINGS = ("Hi team,", "Hello,", "Hi support,", "Hi there,", "Good morning,", "Hey folks,",
                     "Hello Tierline support,")

CUSTOMER_URGENCY = (
    "",
    "",
    "This is affecting production.",
    "Not urgent, but we'd like to understand it before our next release.",
    "Our CTO is asking for an update, so anything you can share quickly helps.",
    "We have a customer demo on {date}, so we'd appreciate a quick look.",
)

CUSTOMER_SIGNOFFS = ("Thanks,", "Best regards,", "Cheers,", "Thanks in advance,", "Kind regards,", "Best,")

AGENT_ACKS = (
    "Hi {first_name},\n\nThanks for reaching out, and sorry for the trouble. I'm looking into this now. "
    "Could you send me {ask}? That will let me find the right logs on our side.",
    "Hi {first_name},\n\nThanks for the detailed report. I can see the errors on our side for "
    "{cluster_or_account} and I'm investigating. I'll update you within {update_in}.",
    "Hello {first_name},\n\nI've picked up your ticket. To narrow it down, can you share {ask}?",
    "Hi {first_name},\n\nThank you for contacting support. I'm checking this with our {area} specialists and "
    "will get back to you within {update_in}.",
)

GENERIC_ASKS = (
    "the X-Request-ID header of one failing response",
    "the exact time (with time zone) you last saw the problem",
    "a screenshot of the error and the browser/app version",
    "the IDs of two or three affected records",
)

CUSTOMER_DETAILS = (
    "Sure, here you go: request id {request_id}, last seen at {time_local} our time.",
    "Attached. It happened again at {time_local}; {count} requests failed in that minute.",
    "Here's what we have: {request_id}. It affects about {users} users.",
    "Screenshot and logs attached. Let me know if you need anything else.",
)

CUSTOMER_DETAILS_DB = (
    "The cluster is {cluster}. We also noticed it started right after {time_local}.",
    "Cluster {cluster}. pg_stat_activity output attached: lots of sessions 'idle in transaction' from our "
    "workers.",
    "It's {cluster} in {region}. Nothing changed in our schema this week.",
)

CUSTOMER_NUDGES = (
    "Any update on this? It's still happening.",
    "Hi, just checking in. Is there an ETA?",
    "This is now blocking {users} of our users. Can we escalate?",
    "Following up: our team is waiting on this to continue.",
)

CUSTOMER_CONFIRMS = (
    "That fixed it, thank you!",
    "Confirmed, it works now. Thanks for the quick help.",
    "Looks good on our side. You can close this.",
    "Yes, all green since {time_local}. Much appreciated.",
    "Thanks, that's exactly what we needed.",
)

CUSTOMER_REOPENS = (
    "Hi, this is happening again since this morning ({error_code}). Same setup as before.",
    "Unfortunately the problem is back: {count} failures in the last hour.",
    "We saw the same error again today at {time_local}. Can you take another look?",
)

AGENT_WORKING = (
    "Quick update: we've reproduced the problem and are working on a fix. Next update within {update_in}.",
    "Thanks for the details, that helped. The logs show {observation}; I'm checking with engineering.",
    "Update: our engineers have identified the likely cause and are testing a fix.",
)

AGENT_PROPOSE = (
    "Hi {first_name},\n\n{resolution}\n\nCould you confirm it works on your side?",
    "Hello {first_name},\n\n{resolution}\n\nLet me know if you still see the issue and I'll reopen the "
    "investigation.",
)

AGENT_SOLVE = (
    "Glad to hear it. I'm marking this as solved; just reply if anything comes back.",
    "Thanks for confirming. Solving this ticket now; a reply within 7 days reopens it.",
    "Great! Closing the loop on our side. Have a good {weekday}.",
)

AGENT_SOLVE_NO_REPLY = (
    "Hi {first_name}, we haven't heard back, so I'm marking this ticket as solved. Just reply if the problem "
    "comes back and we'll pick it up again.",
    "Solving this one since the fix is confirmed on our side. Reply any time within 7 days to reopen it.",
)

AGENT_ON_HOLD = (
    "Engineering has confirmed this as a bug (ENG-{eng_number}). I'm putting the ticket on hold until the "
    "fix ships; we expect it in release {version}. I'll update you as soon as it's deployed.",
    "We're waiting on a change from our infrastructure provider. I've put this on hold and will follow up "
    "when they confirm.",
)

AGENT_RESUME = (
    "The fix for ENG-{eng_number} has been deployed ({version}). Could you check again?",
    "Our provider confirmed the change is live. Can you retry on your side?",
)

INTERNAL_TRIAGE = (
    "Customer is {plan} with {arr} ARR; keep updates frequent.",
    "Checked logs in {region}: {observation}.",
    "Similar to T-{similar} from last month; same root cause likely.",
    "Reproduced on staging with {version}.",
    "Customer mentioned a launch on {date}: treat as time-sensitive.",
)

INTERNAL_ESCALATE = (
    "Escalating to {queue}: beyond L1 runbooks. Summary: {summary}",
    "Handing over to {queue}. Customer already sent request IDs; logs point to {observation}.",
    "L1 checks done (status page, known issues, credentials). Moving to {queue} for deeper investigation.",
)

INTERNAL_ENGINEERING = (
    "Opened ENG-{eng_number} for the owning team; linked this ticket.",
    "Paged the {owner_team} on-call: they confirm {observation}.",
    "Root cause per engineering: {root_cause}",
)

OBSERVATIONS = (
    "a spike of connection resets at the pooler",
    "elevated p99 latency on the affected endpoint",
    "repeated {error_code} errors for this tenant only",
    "a config change deployed 10 minutes before the first error",
    "timeouts from a single availability zone",
    "the tenant exceeding its plan quota",
)

# When an agent promises the next update, by priority.
UPDATE_WINDOWS = {"P1": ("30 minutes", "the hour"), "P2": ("the hour", "2 hours"),
                  "P3": ("4 hours", "a few hours"), "P4": ("a day", "24 hours", "two business days")}
