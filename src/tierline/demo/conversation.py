"""How support conversations sound: greetings, acknowledgements, questions, replies and internal notes.

Each thread hangs together: the customer answers what the agent asked (`ASK_REPLIES`), a reopen or a follow-up
names what came back (with its error code only if the ticket had one), and times and weekdays are those of the
message they appear in (`texts.TicketWriter` fills `{time_local}`, `{weekday}` and `{have_a_good}` per message).
"""

from __future__ import annotations

CUSTOMER_OPENINGS = ("Hi team,", "Hello,", "Hi support,", "Hi there,", "{greeting},", "Hey folks,",
                     "Hello Tierline support,", "Dear support team,", "")

CUSTOMER_URGENCY = (
    "",
    "",
    "This is affecting production.",
    "Not urgent, but we'd like to understand it before our next release.",
    "Our CTO is asking for an update, so anything you can share quickly helps.",
    "We have a customer demo on {date}, so we'd appreciate a quick look.",
)

CUSTOMER_SIGNOFFS = ("Thanks,", "Best regards,", "Cheers,", "Thanks in advance,", "Kind regards,", "Best,",
                     "Regards,", "Thank you,")

# How the desk writes down a phone call, and how a chat starts (both channels read differently from email).
PHONE_NOTES = (
    "Phone call from {requester} ({company}) at {time_local} their time. Summary: {body}",
    "{requester} called in ({company}): {body}\n\nCaller asked for a call back.",
)
CHAT_OPENINGS = ("hi, quick one:", "hey - ", "hello, ", "hi there! ")

# Acknowledging a report of something broken (incidents, bugs, problems) ...
AGENT_ACKS = (
    "Hi {first_name},\n\nThanks for reaching out, and sorry for the trouble. I'm looking into this now. "
    "Could you send me {ask}? That will let me find the right logs on our side.",
    "Hi {first_name},\n\nThanks for the detailed report. I can see the errors on our side for "
    "{cluster_or_account} and I'm investigating. I'll update you within {update_in}.",
    "Hello {first_name},\n\nI've picked up your ticket. To narrow it down, can you share {ask}?",
    "Hi {first_name},\n\nThank you for contacting support. I'm checking this with our {area} specialists and "
    "will get back to you within {update_in}.",
)

# ... and a question or a request.
AGENT_ACKS_QUESTION = (
    "Hi {first_name},\n\nThanks for your question. I'm checking the details and will get back to you within "
    "{update_in}.",
    "Hello {first_name},\n\nThanks for getting in touch. Before I answer, could you share {ask}?",
    "Hi {first_name},\n\nHappy to help with this. I'm looking into it now.",
)

GENERIC_ASKS = (
    "the X-Request-ID header of one failing response",
    "the exact time (with time zone) you last saw the problem",
    "a screenshot of the error and the browser/app version",
    "the IDs of two or three affected records",
)

# What the customer sends back for each thing an agent asks (corpus.py's asks and GENERIC_ASKS).
ASK_REPLIES: dict[str, tuple[str, ...]] = {
    "the X-Request-ID header of one failing response": (
        "Here's one: {request_id}, from {time_local} our time.",
        "Request id {request_id}. It failed again a minute later with the same error.",
    ),
    "the exact time (with your time zone) of the last failure": (
        "The last one was at {time_local} ({timezone}).",
        "Last failure at {time_local} our time ({timezone}); {count} requests failed in that minute.",
    ),
    "your cluster ID (it starts with pg-)": (
        "It's {cluster}.",
        "The cluster is {cluster} in {region}. Nothing changed in our schema this week.",
    ),
    "the output of `SELECT * FROM pg_stat_activity` during the issue": (
        "Attached: lots of sessions 'idle in transaction' from our workers on {cluster}.",
        "pg_stat_activity output for {cluster} attached, taken at {time_local}.",
    ),
    "a SAML tracer capture of a failed sign-in": (
        "SAML tracer capture attached, taken at {time_local} with {browser}.",
    ),
    "your IdP's metadata XML or entity ID": (
        "Metadata XML attached; our entity ID is {idp_issuer}.",
    ),
    "the exact time (with time zone) you last saw the problem": (
        "Last seen at {time_local} ({timezone}).",
        "It happened again at {time_local} our time ({timezone}).",
    ),
    "a screenshot of the error and the browser/app version": (
        "Screenshot attached. We're on {browser}.",
        "Attached; app version {app_version}.",
    ),
    "the IDs of two or three affected records": (
        "Sure: {request_id} is one of them; I've attached a list of a few more.",
        "Attached a CSV with three of the affected records.",
    ),
}

CUSTOMER_NUDGES = (
    "Any update on this? It's still happening.",
    "Hi, just checking in. Is there an ETA?",
    "This is now blocking {users} of our users. Can we escalate?",
    "Following up: our team is waiting on this to continue.",
)
CUSTOMER_NUDGES_QUESTION = (
    "Hi, just checking in on this one.",
    "Any news? We'd like to plan around the answer.",
    "Following up: our team is waiting on this to continue.",
)

CUSTOMER_CONFIRMS = (
    "That fixed it, thank you!",
    "Confirmed, it works now. Thanks for the quick help.",
    "Looks good on our side. You can close this.",
    "Yes, all green since {time_local}. Much appreciated.",
)
CUSTOMER_CONFIRMS_QUESTION = (
    "Thanks, that's exactly what we needed.",
    "Perfect, that answers it. Thank you!",
    "Great, thanks for sorting this out so quickly.",
)

# A reply to a solved ticket that reopens it: what came back (its code only when the ticket carried one).
CUSTOMER_REOPENS = (
    "Sorry to reopen this: it's happening again since {time_local}{code_in_parens}. Same setup as before.",
    "Unfortunately the fix didn't hold. We saw it again {today} at {time_local}.",
    "Reopening: the same problem came back {today}, {count} failures in the last hour.",
)
# A reply after the ticket was closed, which opens a follow-up ticket: it says what it follows up.
CUSTOMER_FOLLOW_UPS = (
    "Hi, we had this problem a few weeks ago (\"{subject}\") and it's back since {time_local}{code_in_parens}.",
    "The issue from our earlier ticket (\"{subject}\") has come back {today}. Same symptoms as last time.",
)

AGENT_REOPENED = (
    "Sorry it came back, {first_name}. I'm looking at it again and will update you within {update_in}.",
    "Thanks for letting us know. I've reopened the investigation and I'm checking what changed since the fix.",
)

AGENT_WORKING = (
    "Quick update: we've reproduced the problem and are working on a fix. Next update within {update_in}.",
    "Thanks for the details, that helped. The logs show {observation}; I'm checking with engineering.",
    "Update: our engineers have identified the likely cause and are testing a fix.",
)

AGENT_WORKING_QUESTION = (
    "Quick update: I'm still checking this with our {area} specialists; you'll hear from me within {update_in}.",
    "Thanks for your patience. I've asked the {area} team to confirm the details before I answer.",
)

AGENT_PROPOSE = (
    "Hi {first_name},\n\n{resolution}\n\nCould you confirm it works on your side?",
    "Hello {first_name},\n\n{resolution}\n\nLet me know if you still see the issue and I'll reopen the "
    "investigation.",
)

AGENT_SOLVE = (
    "Glad to hear it. I'm marking this as solved; just reply if anything comes back.",
    "Thanks for confirming. Solving this ticket now; a reply within 7 days reopens it.",
    "Great! Closing the loop on our side. Have a good {have_a_good}.",
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
    "Customer asked twice about timing: treat as time-sensitive.",
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
