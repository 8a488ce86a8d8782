"""The shape of a demo support scenario, the stack traces customers paste, and what agents ask them for:
shared by the scenario lists (`corpus_headline`, `corpus_everyday`) and by `texts`, which writes from them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    component: str
    type: str  # question | incident | problem | bug | task | feature_request
    priority: str  # the usual priority; the generator varies it with the customer and urgency
    feature_area: str
    error_codes: tuple[str, ...]
    subjects: tuple[str, ...]
    descriptions: tuple[str, ...]
    resolutions: tuple[str, ...]
    root_causes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    weight: float = 1.0
    escalation: float = 0.2  # how often L1 hands it to L2 (and sometimes L3)
    asks: tuple[str, ...] = ()


TRACES: dict[str, str] = {
    "psycopg": (
        "Traceback (most recent call last):\n"
        '  File "/app/worker/sync.py", line 214, in flush_batch\n'
        "    cur.executemany(INSERT_EVENTS, rows)\n"
        "psycopg.OperationalError: consuming input failed: server closed the connection unexpectedly\n"
        "\tThis probably means the server terminated abnormally before or while processing the request.\n"
        "({error_code})"
    ),
    "java": (
        "org.postgresql.util.PSQLException: FATAL: remaining connection slots are reserved for "
        "non-replication superuser connections ({error_code})\n\tat "
        "org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(ConnectionFactoryImpl.java:693)\n\tat "
        "com.zaxxer.hikari.pool.HikariPool.createPoolEntry(HikariPool.java:476)\n\tat "
        "com.zaxxer.hikari.pool.HikariPool$PoolEntryCreator.call(HikariPool.java:726)"
    ),
    "node": (
        "Error: Request failed with status code {http_status}\n    at createError "
        "(/srv/app/node_modules/axios/lib/core/createError.js:16:15)\n    at settle "
        "(/srv/app/node_modules/axios/lib/core/settle.js:17:12)\n    at IncomingMessage.handleStreamEnd "
        "(/srv/app/node_modules/axios/lib/adapters/http.js:322:11)\n  code: '{error_code}', requestId: "
        "'{request_id}'"
    ),
    "curl": (
        "$ curl -sS -i https://api.tierline.example/v2/{endpoint} -H 'Authorization: Bearer ***'\n"
        "HTTP/2 {http_status}\n"
        "content-type: application/json\n"
        "x-request-id: {request_id}\n\n"
        '{{"error":{{"code":"{error_code}","message":"{error_message}"}}}}'
    ),
    "saml": (
        "SAMLResponse validation failed: {error_code}\n  Issuer: {idp_issuer}\n  NotOnOrAfter: {time_utc}\n  "
        "Reason: {error_message}"
    ),
    "ruby": (
        "Stripe::CardError: Your card was declined. (Request {request_id})\n  from "
        "/app/lib/billing/charge.rb:88:in `capture!'\n  from /app/app/jobs/renewal_job.rb:31:in `perform'\n  "
        "code: {error_code}"
    ),
}

ASK_IDS = ("the X-Request-ID header of one failing response", "the exact time (with your time zone) of the "
                                                               "last failure")
ASK_DB = ("your cluster ID (it starts with pg-)", "the output of `SELECT * FROM pg_stat_activity` during "
                                                   "the issue")
ASK_SSO = ("a SAML tracer capture of a failed sign-in", "your IdP's metadata XML or entity ID")
