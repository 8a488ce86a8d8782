"""What customers write about: support scenarios per component, with error codes, traces and fixes, and the
vague tickets whose component only an agent can tell.

Texts are `str.format` templates; `texts.TicketWriter.context` supplies every placeholder used here.
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

_ASK_IDS = ("the X-Request-ID header of one failing response", "the exact time (with your time zone) of the "
                                                               "last failure")
_ASK_DB = ("your cluster ID (it starts with pg-)", "the output of `SELECT * FROM pg_stat_activity` during "
                                                   "the issue")
_ASK_SSO = ("a SAML tracer capture of a failed sign-in", "your IdP's metadata XML or entity ID")

# The headline scenarios: each component's best-known failure, with its error code and trace.
HEADLINE: tuple[Scenario, ...] = (
    Scenario(
        "Replication", "incident", "P2", "read replicas", ("DB-1042", "DB-1045"),
        ("Read replica lagging {lag} behind primary ({error_code})",
         "Replica lag alerts firing on {cluster} since {ago}",
         "Stale reads from read endpoint in {region}"),
        ("Our dashboards started showing stale data around {time_local}. The console shows replication lag "
         "of {lag} on {cluster} and the alert {error_code} keeps firing. Writes on the primary look normal. "
         "We moved reporting traffic back to the primary for now, but that's not sustainable during peak "
         "hours.",
         "Since {ago} the read replica in {region} is behind the primary by {lag}. Our app reads from the "
         "replica after writes, so {users} users see orders that 'disappear' for a few minutes. Error shown "
         "in the console: {error_code} replica_lag_threshold_exceeded."),
        ("The replica was replaying a long-running vacuum on a {table_size} table; we raised its I/O budget "
         "and it caught up at {time_local}. I've also enabled hot_standby_feedback so long reports don't get "
         "cancelled.",
         "We found the replica's WAL receiver stuck after a network blip in {region} and restarted it; lag "
         "is back under one second. Engineering is adding an automatic restart (ENG-{eng_number})."),
        ("Replay throttled by I/O budget during vacuum of a large table.",
         "Replica WAL receiver stalled after a network partition; no automatic restart."),
        ("replication", "lag"), 1.4, 0.55, _ASK_DB,
    ),
    Scenario(
        "Connection Pooling", "incident", "P1", "connection pooling", ("DB-1017",),
        ("Production down: too many connections ({error_code})",
         "Connection errors after deploy, pool exhausted",
         "All app servers failing with 'remaining connection slots are reserved'"),
        ("Our production API is returning 500s. Every app server logs this:\n\n{trace_java}\n\nWe did not "
         "change the pool size. Started at {time_local}. This is a full outage for us, please call back "
         "asap.",
         "After our deploy at {time_local} our workers cannot connect to {cluster}:\n\n{trace_psycopg}\n\nWe "
         "rolled back the deploy but the errors continue. About {count} failed jobs so far."),
        ("The pooler on {cluster} was running in session mode, so each of your {count} workers pinned a "
         "server connection. I switched it to transaction mode and raised default_pool_size; connections "
         "recovered at {time_local}. Please make sure your app doesn't rely on session-level prepared "
         "statements.",
         "One PgBouncer node in {region} had hung after an OOM and the remaining node hit max_client_conn. "
         "We replaced the node and doubled the limit for your cluster."),
        ("Pooler in session mode exhausted server connections under worker fan-out.",
         "PgBouncer node OOM in one zone; surviving node hit max_client_conn."),
        ("outage", "connections"), 0.5, 0.6, _ASK_DB,
    ),
    Scenario(
        "Backups & Restore", "question", "P3", "point-in-time restore", ("DB-1103",),
        ("How do I restore a single table from last night's backup?",
         "Point-in-time restore failed with {error_code}",
         "Need to recover data deleted at {time_local}"),
        ("One of our engineers accidentally ran a DELETE without WHERE on the `{table}` table at about "
         "{time_local}. Can we restore just that table to a point before that? The cluster is {cluster}.",
         "I tried a point-in-time restore of {cluster} to {time_utc} and it failed after 40 minutes with "
         "{error_code}: 'requested recovery stop point is before consistent recovery point'. What are we "
         "doing wrong?"),
        ("PITR restores the whole cluster, so the safe route is: restore to a new cluster at {time_utc}, "
         "then `pg_dump -t {table}` from it and load that into production. I've started the restore for you "
         "as {cluster}-restore; it will be ready in about 25 minutes.",
         "The stop point you chose was before the end of the base backup used for the restore. Any time "
         "after 02:15 UTC on that day works; I re-ran it with {time_utc} and it completed."),
        ("Requested recovery target earlier than the base backup's consistency point.",),
        ("backups", "pitr"), 0.9, 0.4, _ASK_DB,
    ),
    Scenario(
        "Query Engine", "problem", "P3", "query performance", ("DB-1210",),
        ("Queries on `{table}` suddenly 10x slower",
         "Slow query insights shows seq scans after upgrade",
         "Timeouts on reporting queries since {ago}"),
        ("Since {ago}, queries against `{table}` take {latency} instead of ~200ms. Nothing changed on our "
         "side that we know of. The slow query log shows a sequential scan on a {table_size} table. "
         "Example:\n\n  SELECT * FROM {table} WHERE account_id = $1 AND created_at > now() - interval '7 "
         "days';",
         "After the minor version upgrade last weekend our reporting queries time out (statement_timeout "
         "30s). EXPLAIN shows the planner no longer uses idx_{table}_account_created."),
        ("An index on `{table}` lost validity after a failed concurrent rebuild. I rebuilt it with REINDEX "
         "CONCURRENTLY; the query is back to {latency_ok}.",
         "The statistics on `{table}` were stale after the upgrade, so the planner picked a sequential "
         "scan. An ANALYZE fixed the plan; we've also turned on automatic analyze after upgrades for your "
         "clusters."),
        ("Invalid index left by a failed concurrent rebuild.",
         "Stale planner statistics after a version upgrade."),
        ("performance", "slow-query"), 1.0, 0.45, _ASK_DB,
    ),
    Scenario(
        "Object Storage", "question", "P3", "signed URLs", ("STO-2201", "HTTP 403"),
        ("Signed URLs expire immediately ({error_code})",
         "Lifecycle rule deleted files we still need",
         "Download links for bucket {bucket} fail with 403"),
        ("Presigned download links we generate return 403 SignatureDoesNotMatch right away, even with a 1 "
         "hour expiry. Bucket: {bucket}, region {region}. Error code in the body: {error_code}.",
         "Our lifecycle rule on {bucket} was supposed to move objects to cold storage after 30 days but it "
         "looks like {count} objects were deleted instead. Can you check whether they can be recovered?"),
        ("Your servers' clocks were {count} seconds ahead, so the signature's start time was in the future. "
         "Enabling NTP on the signing hosts fixes it; I've also shared how to set X-Amz-Date explicitly.",
         "The rule used Expiration instead of Transition. Versioning was on, so I restored the {count} "
         "objects from their previous versions."),
        ("Clock skew on the customer's signing hosts.",), ("storage", "s3"), 0.7, 0.3, _ASK_IDS,
    ),
    Scenario(
        "CDN", "incident", "P2", "edge caching", ("HTTP 503", "HTTP 502"),
        ("Static assets returning {http_status} from the CDN in {region}",
         "Images not loading for customers in {region}"),
        ("Our storefront's images and JS bundles return {http_status} from the CDN for users in {region} "
         "since {time_local}. Other regions look fine. Example:\n\n{trace_curl}",),
        ("One edge location in {region} was failing health checks but still receiving traffic. It was "
         "drained at {time_local} and the CDN provider has opened an incident on their side.",),
        ("Unhealthy edge location not removed from rotation.",), ("cdn", "edge"), 0.6, 0.5, _ASK_IDS,
    ),
    Scenario(
        "Job Scheduler", "bug", "P3", "scheduled jobs", ("JOB-0408",),
        ("Cron job ran twice at {time_local}", "Scheduled job {job} stuck in 'queued' for hours"),
        ("Our nightly job `{job}` ran twice last night (both runs started at {time_local}), which sent "
         "duplicate invoices to {count} of our customers. This is the second time this month.",
         "The job `{job}` has been in state queued since {ago}, error {error_code} in the run log: 'no "
         "worker available for pool default'."),
        ("A scheduler failover during the run's start window let both scheduler replicas fire the job. The "
         "fix (a lease on the schedule) is rolling out this week; meanwhile I've marked `{job}` as "
         "at-most-once.",
         "Your worker pool was scaled to zero by an old autoscaling rule. I removed the rule and the job "
         "ran."),
        ("Scheduler failover fired the job on two replicas.",
         "Worker pool scaled to zero by a stale autoscaling rule."),
        ("jobs", "duplicate-run"), 0.6, 0.5, _ASK_IDS,
    ),
    Scenario(
        "Autoscaling", "question", "P4", "autoscaling", (),
        ("How do autoscaling limits work on the {plan} plan?", "Can we scale beyond {count} workers?"),
        ("We expect a traffic spike for a launch on {date}. How far will autoscaling take us on the {plan} "
         "plan, and can we pre-warm capacity the day before?",),
        ("On {plan} the ceiling is {count} workers per service; for your launch I've raised it temporarily "
         "and scheduled a pre-warm at 08:00 your time on {date}.",),
        (), ("capacity",), 0.5, 0.2,
    ),
    Scenario(
        "DNS & Custom Domains", "question", "P3", "custom domains", ("DNS-0042", "TLS-0013"),
        ("Custom domain stuck on 'verifying'", "TLS certificate not issued for {domain} ({error_code})"),
        ("We added {domain} as a custom domain two days ago and it's still 'verifying'. The CNAME points to "
         "edge.tierline.example. Did we miss something?",
         "The certificate for {domain} was not renewed and browsers now show NET::ERR_CERT_DATE_INVALID. "
         "Error in the console: {error_code}."),
        ("The CNAME was set on www.{domain} but the domain registered was the apex. I've switched the "
         "registration to www; verification passed.",
         "Your domain has a CAA record that only allows another CA, so renewal failed. Adding `0 issue "
         "\"letsencrypt.org\"` to the CAA record fixed it; the certificate was issued at {time_local}."),
        ("Custom domain registered for the apex while the CNAME is on www.",
         "CAA record blocked certificate issuance."), ("dns", "tls"), 0.7, 0.3,
    ),
    Scenario(
        "Load Balancer", "incident", "P1", "load balancing", ("HTTP 502", "HTTP 504"),
        ("Intermittent {http_status} errors on all endpoints",
         "Health checks failing, site down in {region}"),
        ("About {percent}% of requests to our API fail with {http_status} since {time_local}. Our own "
         "servers show no errors and low CPU. Example from our client logs:\n\n{trace_node}",),
        ("A load balancer config push at {time_local} lowered the idle timeout below your keep-alive "
         "timeout, so reused connections were cut. It has been reverted; error rate is back to zero. Sorry "
         "for the impact.",),
        ("Load balancer idle timeout shorter than upstream keep-alive after a config push.",),
        ("outage", "5xx"), 0.4, 0.6, _ASK_IDS,
    ),
    Scenario(
        "Rate Limiting", "question", "P3", "API quotas", ("API-429",),
        ("Getting 429 Too Many Requests below documented limits", "Rate limit raised for batch import?"),
        ("Our integration gets HTTP 429 ({error_code}) at about {count} requests per minute, while the docs "
         "say the {plan} plan allows more. Response headers show X-RateLimit-Remaining: 0.\n\n{trace_curl}",
         "We're importing {count} records next week. Could you raise our rate limit temporarily for the key "
         "ending in ...{key_suffix}?"),
        ("Limits apply per API key and per endpoint family; your import used one key for search and write "
         "calls. Splitting them (or using the bulk endpoint) keeps you well inside the quota.",
         "I've raised the limit on that key for 7 days; it reverts automatically on {date}."),
        (), ("api", "rate-limit"), 1.1, 0.25, _ASK_IDS,
    ),
    Scenario(
        "REST API", "bug", "P3", "public API", ("API-5001", "HTTP 500"),
        ("POST /v2/{endpoint} returns 500 with unicode in name", "Pagination skips records on /v2/{endpoint}",
         "API returns {http_status} intermittently ({error_code})"),
        ("When the `name` field contains an emoji, POST /v2/{endpoint} returns 500 ({error_code}). Without "
         "the emoji it works.\n\n{trace_curl}",
         "Paging through /v2/{endpoint} with cursor we get {count} fewer records than the total count says. "
         "It looks like records created during paging are skipped or duplicated."),
        ("Confirmed bug: 4-byte UTF-8 characters were rejected by a legacy validation layer. Fixed in API "
         "release {version}, deployed at {time_local}.",
         "The endpoint sorted by updated_at, which isn't unique. The fix (tie-break on id) shipped in "
         "{version}."),
        ("Legacy validation rejected 4-byte UTF-8.", "Non-unique sort key in cursor pagination."),
        ("api", "bug"), 1.0, 0.5, _ASK_IDS,
    ),
    Scenario(
        "GraphQL API", "question", "P4", "GraphQL", ("GQL-0301",),
        ("Query cost limit exceeded ({error_code})", "How to paginate nested connections in GraphQL?"),
        ("Our dashboard query returns {error_code} 'query cost 12040 exceeds limit 10000'. We only ask for "
         "50 projects with their members. How is cost calculated?",),
        ("Cost is first × nested first for each connection; asking members(first: 100) inside "
         "projects(first: 50) costs 5,000 before fields. Fetch members lazily or lower `first`; examples are "
         "in the docs link I've attached.",),
        (), ("graphql",), 0.5, 0.15,
    ),
    Scenario(
        "SSO & SAML", "incident", "P2", "single sign-on", ("AUTH-422", "AUTH-401"),
        ("SSO login broken for all users after IdP certificate rotation",
         "Users redirected back to login page in a loop ({idp})",
         "SAML error {error_code}: signature validation failed"),
        ("Since {time_local} nobody in our org can sign in through {idp}. We rotated the signing certificate "
         "this morning and uploaded the new one. The error page shows:\n\n{trace_saml}\n\n{users} users are "
         "locked out.",
         "Some users get into an endless redirect loop between {idp} and the login page, others sign in "
         "fine. Browser is {browser}. Error code after the loop: {error_code}."),
        ("The new certificate was uploaded but the old one was removed before {idp} started signing with the "
         "new key. I re-added both certificates so either validates; sign-in works again.",
         "Your IdP sends NameID in a different format for users created via SCIM. I enabled the "
         "email-attribute fallback for your workspace; the loop is gone."),
        ("IdP certificate rotated without overlap.", "NameID format mismatch for provisioned users."),
        ("sso", "saml", "login"), 1.3, 0.5, _ASK_SSO,
    ),
    Scenario(
        "OAuth & API Keys", "question", "P3", "API keys", ("AUTH-401", "AUTH-403"),
        ("API key suddenly returns 401 ({error_code})", "Which scopes does a read-only integration need?",
         "Service key revoked without warning ({error_code})"),
        ("Our service key ending ...{key_suffix} started returning {error_code} Unauthorized at "
         "{time_local}. Nobody rotated it as far as we know.\n\n{trace_curl}",
         "We're building a read-only integration for our BI team. Which scopes should the key have so it can "
         "read projects and usage but not change anything?"),
        ("The key belonged to a user who was deprovisioned by SCIM this morning, which revokes their keys. "
         "Create a service account for integrations so keys outlive people.",
         "Use projects:read and usage:read; the key can't write anything with those."),
        ("Key owner deprovisioned by SCIM; keys revoked with the user.",), ("api-keys", "oauth"), 1.0, 0.25,
        _ASK_IDS,
    ),
    Scenario(
        "MFA", "question", "P3", "multi-factor auth", ("AUTH-429",),
        ("User lost phone, locked out by MFA", "Enforce WebAuthn for admins only?"),
        ("One of our admins, {contact_other}, lost their phone and has no recovery codes. Can you reset MFA "
         "for them? I'm the account owner.",
         "Can we require hardware keys (WebAuthn) for admins while letting other users keep TOTP?"),
        ("After verifying the request with your account owner, I reset MFA for the user; they'll be asked to "
         "enrol a new factor at next sign-in.",
         "Yes: Settings > Security > MFA policy lets you require WebAuthn per role. I've linked the guide."),
        (), ("mfa",), 0.8, 0.1,
    ),
    Scenario(
        "User Provisioning (SCIM)", "bug", "P3", "SCIM provisioning", ("SCIM-409",),
        ("SCIM push fails with {error_code} conflict for existing users",
         "Deprovisioned users still active after SCIM sync"),
        ("{idp} shows 'Error 409 {error_code}: userName already exists' for {count} users when pushing "
         "groups. These users were created manually before we enabled SCIM.",
         "Users we removed in {idp} on {date} can still sign in. The SCIM log shows PATCH active=false "
         "returning 200 though."),
        ("Manually created users have no externalId, so SCIM can't match them. I linked the {count} accounts "
         "by email; the next push succeeds.",
         "A bug ignored PATCH operations with a capitalised 'Active' attribute from {idp}. Fixed in "
         "{version}; I re-ran the sync for you."),
        ("Users created before SCIM was enabled have no externalId to match.",
         "Case-sensitive attribute matching in SCIM PATCH."), ("scim", "provisioning"), 0.8, 0.45,
    ),
    Scenario(
        "Payments", "incident", "P2", "card payments", ("PAY-3003", "PAY-3011"),
        ("Renewal payment failed ({error_code}) but card is valid", "3-D Secure challenge never completes"),
        ("Our annual renewal failed with {error_code} 'authentication_required' and the account shows a "
         "warning banner. The card works everywhere else. Invoice {invoice}, amount {amount}.\n\n"
         "{trace_ruby}",
         "When our finance team tries to pay invoice {invoice} the 3-D Secure window opens and closes "
         "without completing. Browser: {browser}."),
        ("Your bank required 3-D Secure for the renewal, which an off-session charge can't complete. I sent "
         "a payment link for {invoice}; once paid the banner clears automatically.",
         "The 3DS pop-up was blocked by a browser extension; paying from a private window worked."),
        ("Off-session renewal charge needed 3-D Secure authentication.",
         "A browser extension blocked the 3-D Secure challenge window."), ("payments", "renewal"), 1.0, 0.3,
    ),
    Scenario(
        "Invoicing", "task", "P4", "invoices", ("PAY-3017",),
        ("Please add our VAT ID to invoice {invoice}", "Need invoice reissued with new company address",
         "Invoice {invoice} shows the wrong currency"),
        ("Could you reissue invoice {invoice} with our VAT ID {vat_id}? Our accounts payable team can't "
         "process it without.",
         "We moved offices. Please reissue {invoice} with our new billing address (sent separately by our "
         "finance team) and make sure future invoices use it.",
         "Invoice {invoice} was issued in USD, but our contract is in EUR. Could you reissue it in EUR?"),
        ("Done: invoice {invoice} was voided and reissued with the tax ID; the credit note and new invoice "
         "are attached. Future invoices will carry it.",
         "Done: {invoice} was reissued with the new billing address, and the account now uses it for future "
         "invoices.",
         "You're right, the currency was taken from an old price list. {invoice} was voided and reissued in "
         "EUR; the credit note is attached."),
        (), ("invoices", "finance"), 1.0, 0.05,
    ),
    Scenario(
        "Subscriptions & Plans", "question", "P4", "plans and seats", (),
        ("Upgrade from {plan} to {new_plan} mid-cycle: how is it prorated?", "Reduce seats from {count}",
         "Prorated price for moving to {new_plan}?"),
        ("We want to move from {plan} to {new_plan} this month. Will we be charged the full price or "
         "prorated? We also need {seats} more seats.",
         "We over-bought seats at renewal. Can we reduce from {count} to {seats} without waiting for the end "
         "of the term?"),
        ("Upgrades are prorated to the day; I've attached a quote. Seat reductions apply at renewal, but "
         "I've added a credit for the unused seats this once.",),
        (), ("plans", "seats"), 1.0, 0.05,
    ),
    Scenario(
        "Webhooks", "incident", "P2", "webhooks", ("WH-5003", "WH-4010"),
        ("Webhooks not delivered since {ago}", "Webhook signature verification failing ({error_code})",
         "Webhook deliveries timing out ({error_code})"),
        ("We stopped receiving `order.updated` webhooks around {time_local}. The delivery log shows "
         "{error_code} 'endpoint timed out after 10s' for our URL, but our endpoint answers in <200ms when "
         "we curl it.",
         "Since {ago} our signature check fails for every webhook (HMAC mismatch, {error_code}). We didn't "
         "rotate the secret. Sample delivery id: {request_id}."),
        ("Your endpoint's WAF started blocking our new egress IPs ({region}). After you allow-listed the "
         "ranges I replayed the {count} failed deliveries.",
         "A proxy on your side re-encodes the JSON body before verification; sign the raw bytes instead. The "
         "docs snippet I linked shows how."),
        ("Customer WAF blocked new egress IP range.", "Body re-serialised before HMAC verification."),
        ("webhooks", "delivery"), 1.3, 0.4, _ASK_IDS,
    ),
    Scenario(
        "Slack App", "bug", "P4", "Slack notifications", ("INT-1102",),
        ("Slack notifications stopped after workspace migration",
         "Slack app reinstall fails with {error_code}"),
        ("After our Slack Enterprise Grid migration, no notifications arrive in #ops-alerts. Reinstalling "
         "the app gives error {error_code}.",),
        ("Enterprise Grid migrations change the workspace id, orphaning the old installation. I removed the "
         "stale installation; reinstalling worked.",),
        ("Enterprise Grid migration orphaned the Slack installation.",), ("slack",), 0.6, 0.3,
    ),
    Scenario(
        "Salesforce Connector", "problem", "P3", "CRM sync", ("SYNC-2207",),
        ("Salesforce sync failing with {error_code} for {count} records",
         "Accounts duplicated in Salesforce"),
        ("The Salesforce sync has failed every run since {ago}: {error_code} "
         "FIELD_CUSTOM_VALIDATION_EXCEPTION on {count} Account records. Our admin added a validation rule "
         "last week, could that be it?",
         "Every sync creates new Account records instead of updating existing ones; we now have {count} "
         "duplicates."),
        ("Yes: the new validation rule requires Industry, which the connector doesn't map. Map it in "
         "Settings > Salesforce > Field mapping or relax the rule for the integration user.",
         "The external-id field lost its 'unique' flag in Salesforce, so upserts matched nothing. Restoring "
         "the flag and re-running the sync merged the duplicates."),
        ("Customer-side validation rule rejected synced records.",
         "External-id field lost its unique flag, so upserts matched nothing."),
        ("salesforce", "sync"), 0.8, 0.4,
    ),
    Scenario(
        "Data Warehouse Sync", "incident", "P3", "warehouse export", ("ETL-0612",),
        ("Snowflake export stuck since {ago}", "Warehouse export failing with {error_code}"),
        ("Our nightly export to Snowflake hasn't completed since {ago}. Run log: {error_code} 'COPY INTO "
         "failed: file format mismatch'. Our finance reports depend on it.",),
        ("A schema change added a column with a reserved name; the export now quotes identifiers. I re-ran "
         "the missed exports; data is complete through yesterday.",),
        ("Unquoted reserved identifier after a schema change.",), ("etl", "export"), 0.8, 0.5,
    ),
    Scenario(
        "Dashboard", "bug", "P4", "dashboards", ("WEB-0117",),
        ("Dashboard widgets blank in {browser}", "Chart shows wrong totals after timezone change"),
        ("Since the last release, the dashboard widgets are blank for several of us on {browser}. The "
         "console shows: TypeError: Cannot read properties of undefined (reading 'series') at "
         "widget.js:1:48211.",
         "We changed our workspace time zone to {timezone} and now daily totals on the dashboard don't match "
         "the export."),
        ("Confirmed front-end regression in {version} for {browser}; a fix was deployed at {time_local}. "
         "Please hard-refresh.",
         "Totals were bucketed in UTC while the export used your time zone. Dashboards now follow the "
         "workspace time zone (release {version})."),
        ("Front-end regression in the charting bundle.",
         "Dashboard totals bucketed in UTC instead of the workspace time zone."),
        ("dashboard", "ui"), 1.0, 0.3,
    ),
    Scenario(
        "Reporting & Exports", "question", "P4", "CSV exports", ("EXP-0044",),
        ("CSV export times out for large date range", "Scheduled report not sent"),
        ("Exporting the last 12 months as CSV fails after a few minutes with {error_code}. Smaller ranges "
         "work. We need the full year for our audit.",
         "Our weekly scheduled report to finance@ wasn't sent on {date}."),
        ("Large exports run as background jobs: use 'Export in background' and you'll get an email link. I "
         "ran this one for you and attached the link.",
         "The recipient address bounced once and was suppressed. I removed the suppression; next week's "
         "report will go out."),
        (), ("export", "reporting"), 1.0, 0.2,
    ),
    Scenario(
        "Search", "bug", "P4", "search", ("SRCH-0102",),
        ("Search doesn't find documents with hyphenated names", "Search results missing recent items"),
        ("Searching for 'ACME-4471' returns nothing, although the document is there. Searching '4471' finds "
         "it.",
         "Items created in the last {count} minutes don't show up in search, and the search page shows a "
         "banner with {error_code} 'index behind'."),
        ("The tokenizer split on hyphens; exact-phrase matching for codes shipped in {version}.",
         "The indexer in {region} was lagging; it caught up and we added an alert on indexing delay."),
        ("The tokenizer split error codes on hyphens.", "Search indexer lagging in one region."),
        ("search",), 0.6, 0.3,
    ),
    Scenario(
        "Email Notifications", "question", "P4", "email delivery", ("MAIL-0550",),
        ("Invitation emails not arriving", "Password reset emails go to spam"),
        ("New users don't receive their invitation emails. We checked spam. Our domain is {domain}.",
         "Password reset emails to our users land in spam at {domain}. Can you sign them with DKIM for our "
         "domain?"),
        ("Your mail gateway rejected our messages with 550 ({error_code}). Allow-list our sending domain or "
         "add the SPF include I've sent, then I'll resend the invitations.",
         "We've set up DKIM signing for {domain}: once you add the two CNAME records I've sent, reset emails "
         "will be signed with your domain and stop landing in spam."),
        (), ("email",), 0.9, 0.1,
    ),
    Scenario(
        "iOS App", "bug", "P3", "iOS app", ("MOB-0231",),
        ("iOS app crashes on launch after update to {app_version}",
         "iOS app closes right after the splash screen"),
        ("Since updating to {app_version} on iOS 17.4 the app crashes right after the splash screen for "
         "{users} of our field staff. Reinstalling doesn't help.",),
        ("A migration of the offline cache crashed for accounts with more than 10k cached items. Hotfix "
         "{app_version}.1 is live in the App Store.",),
        ("Offline cache migration crash for large caches.",), ("mobile", "ios", "crash"), 0.7, 0.5,
    ),
    Scenario(
        "Android App", "bug", "P4", "Android app", ("MOB-0318",),
        ("Android app can't sign in with SSO", "SSO sign-in on Android never returns to the app"),
        ("On Android 14 the SSO sign-in opens the browser and never returns to the app. App version "
         "{app_version}.",),
        ("The app link verification file was missing for your custom domain; I added it and sign-in returns "
         "to the app.",),
        ("App-link verification file missing for the custom domain.",), ("mobile", "android"), 0.5, 0.4,
    ),
    Scenario(
        "Web App", "feature_request", "P4", "workspace settings", (),
        ("Feature request: {feature_title}", "Request: {feature_title}",
         "Would love to see: {feature_title}"),
        ("It would help us a lot to {feature}. Today we work around it manually and it takes our team hours "
         "every week. Happy to jump on a call with your product team.",),
        ("Thanks for the detailed request. I've logged it with our product team (FR-{eng_number}) and linked "
         "your account so you'll hear when it moves.",),
        (), ("feature-request",), 1.2, 0.0,
    ),
    Scenario(
        "Platform", "question", "P4", "security & compliance", (),
        ("Request for SOC 2 report and pen-test summary", "Annual vendor security review: documents needed",
         "Security review: SOC 2 report and data residency"),
        ("Our security team is doing the annual vendor review. Could you send the latest SOC 2 Type II "
         "report, the pen-test summary and confirm which region our data is stored in ({region})?",),
        ("I've shared the SOC 2 Type II report and the pen-test letter via the trust portal (NDA already on "
         "file). Your data lives in {region} with backups in the same jurisdiction.",),
        (), ("security", "compliance"), 0.8, 0.05,
    ),
)

# The everyday work beside the headline scenarios above: every component also gets how-to questions, tasks,
# feature requests and its other failure modes, in the words customers use for all of them ("timing out",
# "stopped working", "since this morning", "sync"), so the vocabulary overlaps across components as it does in
# a real queue. Questions and tasks carry an error code only when their text quotes one.
EVERYDAY: tuple[Scenario, ...] = (
    Scenario(
        "Replication", "question", "P4", "read replicas", (),
        ("Adding a read replica in {region}", "How does failover to the replica work?",
         "Can reporting queries run on the replica?"),
        ("We'd like a second read replica in {region} for our reporting jobs. Is there any downtime when it's "
         "added, and how long does the initial sync take for a {table_size} database?",
         "If the primary of {cluster} goes down, how long until the replica takes over, and do our connection "
         "strings change? We're writing the runbook for our on-call team.",
         "Our analysts run heavy reports on {cluster} and it slows the app down. Can we point them at the read "
         "replica instead, and will long reports get cancelled there?"),
        ("Adding a replica is online: the initial sync for {table_size} takes roughly an hour and the primary "
         "keeps serving meanwhile. I've linked the guide to the read endpoint.",
         "Failover is automatic after 30 seconds of failed health checks; the cluster endpoint follows the new "
         "primary, so connection strings stay the same. Only in-flight transactions are lost.",
         "Yes: use the read endpoint for reports. Long queries on a replica can be cancelled by replay "
         "conflicts, so I've enabled hot_standby_feedback on {cluster}."),
        (), ("replication",), 0.7, 0.1, _ASK_DB,
    ),
    Scenario(
        "Connection Pooling", "bug", "P3", "connection pooling", ("DB-1019",),
        ("Prepared statement errors since enabling the pooler ({error_code})",
         "'prepared statement does not exist' errors through PgBouncer"),
        ("Since we switched our app to the pooled endpoint we get random errors: {error_code} prepared "
         "statement \"S_12\" does not exist. It happens on maybe 1 in {count} requests, more under load.",
         "Our ORM fails with {error_code} 'prepared statement already exists' when we connect through the "
         "pooler of {cluster}. Direct connections work fine."),
        ("Transaction-mode pooling doesn't keep session state, so server-side prepared statements break. Set "
         "prepareThreshold=0 (or use the session-mode port I've enabled on {cluster}) and the errors stop.",
         "The pooler of {cluster} ran a version without protocol-level prepared statements. It was upgraded at "
         "{time_local}; named statements now work in transaction mode."),
        (), ("connections", "pooling"), 0.6, 0.35, _ASK_DB,
    ),
    Scenario(
        "Connection Pooling", "question", "P4", "connection pooling", (),
        ("What pool size should we use for {count} workers?", "Session or transaction pooling for our app?"),
        ("We're scaling our workers to {count} processes. What default_pool_size and max_client_conn do you "
         "recommend for {cluster}, and will we hit the connection limit?",
         "Our framework keeps connections open for the whole request. Should we use session or transaction "
         "mode on the pooler, and what breaks in transaction mode?"),
        ("With {count} workers, transaction mode and a pool of 40 server connections keeps you well under the "
         "limit. I've applied that to {cluster}; watch the pool's wait time in the console.",
         "Transaction mode is the better default; it breaks session state (SET, advisory locks, prepared "
         "statements). If you rely on those, keep session mode for that service only."),
        (), ("connections",), 0.6, 0.1, _ASK_DB,
    ),
    Scenario(
        "Backups & Restore", "incident", "P2", "nightly backups", ("DB-1107",),
        ("Nightly backup failed on {cluster} ({error_code})", "Backup status red since {ago}"),
        ("The console shows last night's backup of {cluster} as failed with {error_code} 'WAL archive "
         "incomplete'. We need a valid backup before our migration on {date}.",
         "Our backup status has been red since {ago}. Error {error_code}. We're audited on backup coverage, so "
         "we need to know whether we have a gap."),
        ("WAL archiving on {cluster} stalled when the archive bucket hit a permissions change on our side. It "
         "was fixed at {time_local}, a fresh base backup completed and there is no gap in point-in-time "
         "coverage.",),
        ("WAL archiving stalled after a bucket permission change.",), ("backups",), 0.5, 0.5, _ASK_DB,
    ),
    Scenario(
        "Query Engine", "question", "P4", "query performance", (),
        ("How do I read the slow query insights?", "Index advice for `{table}`?",
         "Why is this query slow?"),
        ("The slow query page lists a query on `{table}` with a high 'rows examined' number. What should we "
         "look at first, and does the index advisor apply its suggestions automatically?",
         "This query on `{table}` takes {latency} in production but 50ms on staging. Same schema, more data. "
         "What would you look at?"),
        ("The advisor only suggests: create the index it proposes with CREATE INDEX CONCURRENTLY. 'Rows "
         "examined' far above 'rows returned' is the sign of a missing index, as here.",
         "Production has {table_size} in `{table}` and the planner picks a sequential scan for that range. A "
         "composite index on (account_id, created_at) fixes it; I tested it on a clone of {cluster}."),
        (), ("performance",), 0.8, 0.15, _ASK_DB,
    ),
    Scenario(
        "Query Engine", "incident", "P2", "query performance", ("DB-1210",),
        ("Queries timing out across the whole cluster ({error_code})", "Database very slow since {ago}"),
        ("Since {time_local} almost every query on {cluster} times out ({error_code} statement timeout). CPU "
         "on the database is at 100% and our app is timing out for {users} users.",
         "Our database has been very slow since {ago}: requests that took 100ms now take {latency}, and the "
         "API is timing out. We haven't deployed anything."),
        ("A runaway analytics query held locks on `{table}` and every writer queued behind it. I cancelled it "
         "at {time_local}, latency recovered, and I've set a statement_timeout for the analytics role.",
         "Autovacuum had fallen behind on `{table}` and the table bloated to three times its size. A manual "
         "VACUUM and tuned autovacuum settings brought latency back; details are in the attached report."),
        ("A long analytics query blocked writers on a hot table.", "Autovacuum fell behind; table bloat."),
        ("performance", "timeout"), 0.6, 0.55, _ASK_DB,
    ),
    Scenario(
        "Object Storage", "incident", "P2", "object storage", ("STO-2503",),
        ("Uploads failing with 503 SlowDown ({error_code})", "File uploads timing out in {region}"),
        ("Since {time_local} about {percent}% of our uploads to {bucket} fail with 503 SlowDown "
         "({error_code}). Our users are retrying and it's getting worse.",
         "Uploads to {bucket} in {region} time out after 30 seconds since {ago}. Downloads work. Error in our "
         "logs: {error_code}."),
        ("Your uploads all used one key prefix, which concentrates load on one partition. I've pre-split the "
         "prefix for {bucket}; spreading keys (a hash prefix) avoids it for good.",
         "A storage node in {region} was degraded and throttling writes. It was replaced at {time_local}; "
         "upload latency is back to normal."),
        ("Hot key prefix concentrated writes on one partition.", "Degraded storage node throttled writes."),
        ("storage", "upload"), 0.6, 0.45, _ASK_IDS,
    ),
    Scenario(
        "CDN", "question", "P4", "edge caching", (),
        ("How do we purge the CDN cache after a deploy?", "Old version of our site still showing"),
        ("After each deploy some users see the old CSS for hours. How can we purge the CDN cache from our CI "
         "pipeline?",
         "We deployed at {time_local} but visitors in {region} still get the old JavaScript bundle. Is the CDN "
         "caching it?"),
        ("Use the purge API with a surrogate key per deploy; I've attached the CI snippet. Fingerprinted file "
         "names avoid the problem altogether.",
         "Your bundle was served with max-age=86400 and no fingerprint, so edges kept it. I purged it for "
         "{domain}; fingerprinted names fix it for good."),
        (), ("cdn", "cache"), 0.6, 0.1, _ASK_IDS,
    ),
    Scenario(
        "Job Scheduler", "question", "P4", "scheduled jobs", (),
        ("Which time zone do cron schedules use?", "Job `{job}` runs an hour late since the clock change"),
        ("Our job `{job}` is scheduled at 02:00 but runs at 03:00 since the clocks changed. Which time zone do "
         "schedules use, and can we set ours ({timezone})?",
         "Can a scheduled job run on the last business day of the month? Cron syntax doesn't seem to allow it."),
        ("Schedules run in UTC unless you set a time zone on the job; I set {timezone} on `{job}`, so it "
         "follows your clock changes.",
         "Cron can't express it; use the 'business days' schedule type with 'last' as the day. I converted "
         "`{job}` for you."),
        (), ("jobs",), 0.6, 0.1,
    ),
    Scenario(
        "Autoscaling", "incident", "P2", "autoscaling", ("CMP-0310",),
        ("Workers not scaling up, requests timing out", "Autoscaling stuck at {count} workers ({error_code})"),
        ("During our traffic peak at {time_local} the service stayed at the minimum number of workers and "
         "requests started timing out. The autoscaler log shows {error_code} 'scale-up blocked'.",
         "Our workers have been stuck at {count} since {ago} even though CPU is at 95%. Our queue is backing up "
         "and users see timeouts."),
        ("Your project hit its vCPU quota, so scale-up was blocked. I raised the quota; the autoscaler added "
         "workers at {time_local} and the backlog drained.",
         "The scaling policy referenced a metric that was renamed in {version}, so it read zero. I pointed it "
         "at the new metric and the service scaled out."),
        ("Project vCPU quota blocked scale-up.", "Scaling policy read a renamed metric."),
        ("capacity", "timeout"), 0.5, 0.45,
    ),
    Scenario(
        "DNS & Custom Domains", "incident", "P2", "custom domains", ("DNS-0042",),
        ("Our site is unreachable after a DNS change", "Custom domain {domain} returns NXDOMAIN"),
        ("Since {time_local} {domain} doesn't resolve for most visitors (NXDOMAIN). We moved our DNS provider "
         "yesterday and the console now shows {error_code}.",
         "Half our customers can't reach {domain} since {ago}; the custom domain page shows {error_code} "
         "'CNAME target mismatch'."),
        ("The new DNS zone was missing the CNAME for {domain}. After you added it, resolution recovered as "
         "caches expired; the domain verified again at {time_local}.",),
        ("CNAME record lost in a DNS provider migration.",), ("dns",), 0.5, 0.4, _ASK_IDS,
    ),
    Scenario(
        "Load Balancer", "question", "P4", "load balancing", (),
        ("Do you support sticky sessions?", "WebSocket connections dropped after 60 seconds"),
        ("Our app keeps some session state in memory. Can the load balancer pin a user to one instance?",
         "WebSocket connections from our clients drop after exactly 60 seconds of silence. Is there an idle "
         "timeout we can change?"),
        ("Yes: enable cookie-based affinity on the service; I've linked the setting. Keeping state in Redis "
         "would be more robust when instances are replaced.",
         "The idle timeout is 60 s by default; I raised it to 10 minutes for your service. Sending a ping "
         "every 30 s keeps connections alive whatever the setting."),
        (), ("lb",), 0.5, 0.1, _ASK_IDS,
    ),
    Scenario(
        "Rate Limiting", "incident", "P2", "API quotas", ("API-429",),
        ("Every API call returns 429 since {time_local}", "Rate limited although traffic is normal"),
        ("Since {time_local} every request from our backend gets 429 ({error_code}), including health checks. "
         "Our traffic is normal. Our integration is down for {users} users.",
         "We're being rate limited ({error_code}) at a tenth of our usual traffic since {ago}. Nothing changed "
         "on our side."),
        ("A quota rollout at {time_local} applied the free plan's limits to some paid workspaces, yours "
         "included. It was rolled back and your limits are restored.",),
        ("Quota rollout applied the wrong plan's limits.",), ("rate-limit",), 0.5, 0.5, _ASK_IDS,
    ),
    Scenario(
        "REST API", "question", "P4", "public API", (),
        ("How do we get only records changed since our last sync?", "Best way to page through /v2/{endpoint}?"),
        ("Our nightly sync pulls all {endpoint} every time. Is there a way to fetch only what changed since "
         "the last run?",
         "What's the recommended way to page through {count} {endpoint} without missing any?"),
        ("Filter with updated_since and page with the cursor; store the last cursor and resume from it. The "
         "sync guide I linked has an example.",),
        (), ("api",), 0.9, 0.1, _ASK_IDS,
    ),
    Scenario(
        "REST API", "feature_request", "P4", "public API", (),
        ("Bulk endpoint for {endpoint}", "API: filter {endpoint} by custom fields"),
        ("We create {count} {endpoint} a day through the API one by one and hit rate limits. A bulk endpoint "
         "would save us a lot of retries.",
         "We'd like to filter /v2/{endpoint} by our custom fields. Today we fetch everything and filter on our "
         "side."),
        ("Thanks, that's a clear case. I've logged it with the API team (FR-{eng_number}) and linked your "
         "workspace.",),
        (), ("api", "feature-request"), 0.5, 0.0,
    ),
    Scenario(
        "GraphQL API", "bug", "P3", "GraphQL", ("GQL-0500",),
        ("GraphQL returns null for `members` after release", "GraphQL error {error_code} on nested query"),
        ("Since the release on {ago}, `project.members` comes back null in GraphQL with {error_code} in the "
         "errors array, while REST returns the members fine.",),
        ("A resolver change in {version} broke `members` for projects with archived users. The fix was "
         "deployed at {time_local}.",),
        ("Resolver regression for projects with archived users.",), ("graphql",), 0.4, 0.5, _ASK_IDS,
    ),
    Scenario(
        "SSO & SAML", "question", "P4", "single sign-on", (),
        ("How do we set up SAML with {idp}?", "Can we enforce SSO for all users?",
         "Just-in-time provisioning with SAML?"),
        ("We're rolling out {idp} company-wide. What do we need to configure for SAML sign-in, and can "
         "existing users keep their accounts?",
         "Can we make SSO mandatory so nobody signs in with a password any more? What happens to API keys?"),
        ("I've sent the {idp} setup guide with your ACS URL and entity ID. Existing users are matched by email "
         "at their first SSO sign-in.",
         "Yes: Settings > Security > Require SSO. Passwords stop working at once; API keys keep working, so "
         "review them first."),
        (), ("sso",), 0.9, 0.1, _ASK_SSO,
    ),
    Scenario(
        "OAuth & API Keys", "incident", "P2", "API keys", ("AUTH-401",),
        ("All our API keys return 401 since {time_local}", "Integration down: API authentication failing"),
        ("Since {time_local} every call with any of our API keys fails with {error_code} Unauthorized. Our "
         "integration is down for {users} users. Nobody changed our keys.\n\n{trace_node}",
         "Our integration stopped working at {time_local}: authentication fails ({error_code}) for every "
         "service key."),
        ("A key-cache deployment in {region} rejected keys created before {date}. It was rolled back at "
         "{time_local}; your keys work again.",),
        ("Key cache deployment rejected older keys.",), ("api-keys",), 0.5, 0.55, _ASK_IDS,
    ),
    Scenario(
        "MFA", "bug", "P3", "multi-factor auth", ("AUTH-429",),
        ("Authenticator codes rejected ({error_code})", "Locked out after entering valid MFA codes"),
        ("Several of our users get 'invalid code' for codes that are correct, then {error_code} 'too many MFA "
         "attempts'. Their phones' clocks are fine.",),
        ("One of our MFA verifiers had a clock drift of 90 seconds, so valid codes failed and users were "
         "locked out. It was fixed at {time_local} and the lockouts cleared.",),
        ("Clock drift on an MFA verification node.",), ("mfa",), 0.5, 0.45,
    ),
    Scenario(
        "User Provisioning (SCIM)", "question", "P4", "SCIM provisioning", (),
        ("Map {idp} groups to roles with SCIM?", "What happens to content of deprovisioned users?"),
        ("Can we map our {idp} groups to roles in Tierline so admins are set by group membership?",
         "When {idp} deprovisions a user through SCIM, what happens to the projects and API keys they own?"),
        ("Yes: role mapping by group is under Settings > Provisioning; I've set up the admin group for you.",
         "Their content stays and moves to the workspace owner; their API keys are revoked. Use service "
         "accounts for integrations."),
        (), ("scim",), 0.6, 0.1,
    ),
    Scenario(
        "Payments", "bug", "P2", "card payments", ("PAY-3020",),
        ("We were charged twice for our renewal", "Duplicate charge on our card ({error_code})"),
        ("Our card was charged twice for the renewal (invoice {invoice}, {amount} each). Please refund the "
         "duplicate.",
         "Our finance team sees two charges of {amount} on {date}; the billing page shows {error_code} "
         "'duplicate capture'."),
        ("A retry after a gateway timeout captured the payment twice. I refunded the duplicate; it shows on "
         "your statement in 5-10 days.",),
        ("A retried capture after a gateway timeout.",), ("payments", "refund"), 0.6, 0.3,
    ),
    Scenario(
        "Payments", "question", "P4", "card payments", (),
        ("Can we pay by bank transfer?", "Switch our payment method to SEPA"),
        ("Our finance team would rather pay by bank transfer than by card. Is that possible on the {plan} "
         "plan?",
         "Could you switch us from card to SEPA direct debit from the next invoice?"),
        ("Bank transfer is available from the business plan up; I've switched your account to invoice "
         "payment with 30-day terms.",
         "Done: add the mandate under Billing > Payment method and the next invoice will be collected by "
         "SEPA."),
        (), ("payments",), 0.7, 0.05,
    ),
    Scenario(
        "Invoicing", "question", "P4", "invoices", (),
        ("Where can I download our past invoices?", "Can invoices go to our AP mailbox?"),
        ("Our auditors need every invoice from last year. Where can I download them all at once?",
         "Could invoices be emailed to our accounts payable mailbox instead of the account owner?"),
        ("Billing > Invoices has a 'download all' for any year. I've attached last year's as a zip.",
         "Yes: add the address under Billing > Invoice recipients; I've added it for you."),
        (), ("invoices",), 0.8, 0.05,
    ),
    Scenario(
        "Subscriptions & Plans", "task", "P4", "plans and seats", (),
        ("Please downgrade us to {plan} at renewal", "Cancel our subscription at the end of the term"),
        ("We'd like to move to the {plan} plan at our renewal on {date}. Nothing should change before then.",
         "Please cancel our subscription at the end of the current term. We'll export our data before."),
        ("Done: the change is scheduled for your renewal date and confirmed by email.",),
        (), ("plans",), 0.6, 0.05,
    ),
    Scenario(
        "Webhooks", "question", "P4", "webhooks", (),
        ("What's the retry policy for webhooks?", "Can we replay webhooks from last week?"),
        ("If our endpoint is down for an hour, do we lose webhooks? How often and how long do you retry?",
         "We had an outage on our side on {ago}. Can you replay the webhooks we missed?"),
        ("We retry with exponential backoff for 72 hours; nothing is lost in an hour-long outage. The delivery "
         "log shows each attempt.",
         "Yes: the delivery log has a replay button per endpoint and time range; I replayed {count} deliveries "
         "for you."),
        (), ("webhooks",), 0.7, 0.1, _ASK_IDS,
    ),
    Scenario(
        "Webhooks", "feature_request", "P4", "webhooks", (),
        ("Webhook for {endpoint} deletions", "Filter webhook events by project"),
        ("We'd like a webhook when {endpoint} are deleted; today we poll to find out.",
         "We only care about events of a few projects. Could webhook subscriptions filter by project?"),
        ("Good idea; I've logged it with the integrations team (FR-{eng_number}).",),
        (), ("webhooks", "feature-request"), 0.4, 0.0,
    ),
    Scenario(
        "Slack App", "question", "P4", "Slack notifications", (),
        ("Send alerts to different Slack channels per project?", "Slack app permissions explained?"),
        ("Can we route notifications of each project to its own Slack channel?",
         "Our security team asks why the Slack app needs the chat:write and users:read scopes."),
        ("Yes: each project's notification settings take a channel; I've set up two as examples.",
         "chat:write posts the notifications and users:read matches Slack users to Tierline users for "
         "mentions; the app reads no messages."),
        (), ("slack",), 0.5, 0.05,
    ),
    Scenario(
        "Salesforce Connector", "question", "P4", "CRM sync", (),
        ("Which Salesforce fields does the sync use?", "How often does the Salesforce sync run?"),
        ("Before we connect our production org: which Salesforce objects and fields does the connector read "
         "and write?",
         "Updates in Salesforce take hours to show up in Tierline. How often does the sync run?"),
        ("The connector reads Accounts and Contacts and writes Cases; the field list is in the attached "
         "mapping. You can restrict it per object.",
         "Every 15 minutes for changes, nightly in full. Yours was set to nightly only; I switched it back."),
        (), ("salesforce",), 0.5, 0.05,
    ),
    Scenario(
        "Data Warehouse Sync", "question", "P4", "warehouse export", (),
        ("Can we export to BigQuery as well?", "Warehouse sync: which tables are included?"),
        ("We already export to Snowflake. Can we add BigQuery as a second destination?",
         "Which tables does the warehouse sync include, and can we add our custom fields?"),
        ("Yes, several destinations are allowed; I've added a BigQuery destination in draft for you to "
         "authorise.",
         "All core tables plus custom fields as a JSON column; the schema doc is attached."),
        (), ("etl",), 0.5, 0.1,
    ),
    Scenario(
        "Dashboard", "feature_request", "P4", "dashboards", (),
        ("Custom date ranges on dashboard widgets", "Share a dashboard with people outside our workspace"),
        ("It would help to pick a custom date range per widget instead of the dashboard's global range.",
         "We'd like to share a read-only dashboard with our board members who have no account."),
        ("Thanks! Logged with the product team as FR-{eng_number}; you'll hear when it moves.",),
        (), ("dashboard", "feature-request"), 0.6, 0.0,
    ),
    Scenario(
        "Reporting & Exports", "bug", "P3", "CSV exports", ("EXP-0044",),
        ("Scheduled report arrives empty", "CSV export cuts off at {count} rows ({error_code})"),
        ("Our weekly report on {ago} arrived with headers only, although the dashboard shows data for the "
         "week. The run log says {error_code}.",
         "Exports of {endpoint} stop at {count} rows; the file ends mid-line and the export page shows "
         "{error_code}."),
        ("The report query timed out against a replica that was lagging, and an empty result was sent "
         "instead of an error. Fixed in {version}; I re-sent the report.",
         "Exports were cut when a worker restarted mid-stream. They now resume; I re-ran yours."),
        ("An export timeout produced an empty file instead of an error.",
         "Exports did not resume after a worker restart."),
        ("export", "reporting"), 0.6, 0.4,
    ),
    Scenario(
        "Search", "question", "P4", "search", (),
        ("How do I search for an exact phrase?", "Can search include archived projects?"),
        ("What's the syntax to search for an exact phrase or exclude a word?",
         "Search doesn't show anything from archived projects. Is there a way to include them?"),
        ("Quotes give an exact phrase, a minus sign excludes a word; the cheat sheet is attached.",
         "Add 'include:archived' to the query, or tick the filter on the results page."),
        (), ("search",), 0.4, 0.05,
    ),
    Scenario(
        "Email Notifications", "incident", "P3", "email delivery", ("MAIL-0421",),
        ("Notification emails delayed by hours", "Password reset emails arriving hours late ({error_code})"),
        ("Since {time_local} our users get notification emails two or three hours late. Password resets "
         "expire before they arrive.",
         "Password reset emails reach {domain} hours late since {ago}; the delivery log shows {error_code} "
         "'deferred'."),
        ("Our mail provider throttled one of our sending IPs; traffic moved to healthy IPs at {time_local} "
         "and the backlog was delivered within the hour.",),
        ("Mail provider throttled a sending IP.",), ("email", "delay"), 0.5, 0.4,
    ),
    Scenario(
        "iOS App", "question", "P4", "iOS app", (),
        ("Deploying the iOS app through our MDM", "Does the iOS app work offline?"),
        ("We manage our iPhones with an MDM. Can we push the app with a preconfigured workspace URL?",
         "Our field staff often have no signal. What can they do in the iOS app offline?"),
        ("Yes: the app reads the managed app config key 'workspace_url'; I've sent the plist.",
         "They can read cached projects and create items offline; changes sync when the app is back online."),
        (), ("mobile", "ios"), 0.4, 0.05,
    ),
    Scenario(
        "Android App", "question", "P4", "Android app", (),
        ("Android app on managed work profiles?", "Push notifications not shown on Android"),
        ("Can we deploy the Android app into our users' work profiles via managed Google Play?",
         "Some of our Android users get no push notifications although they're enabled in the app."),
        ("Yes, it's available in managed Google Play; I've shared the listing.",
         "Battery optimisation on some phones blocks background notifications; excluding the app fixes it. "
         "I've sent steps for the common models."),
        (), ("mobile", "android"), 0.4, 0.05,
    ),
    Scenario(
        "Web App", "bug", "P3", "sessions", ("WEB-0401",),
        ("Web app logs us out every few minutes", "Sessions expire right after login ({error_code})"),
        ("Since {ago} our users are logged out of the web app every few minutes and have to sign in again. It "
         "happens in {browser}.",
         "After signing in, the first click sends us back to the login page with {error_code} 'session "
         "expired'. Started at {time_local}."),
        ("A cookie change in {version} broke sessions for workspaces on a custom domain in {browser}. The fix "
         "was deployed at {time_local}.",),
        ("Session cookie scope broke on custom domains.",), ("web", "login"), 0.6, 0.45,
    ),
    Scenario(
        "Web App", "task", "P4", "workspace settings", (),
        ("Transfer workspace ownership to {contact_other}", "Please rename our workspace"),
        ("I'm leaving the company. Please transfer ownership of our workspace to {contact_other}.",
         "We rebranded; could you rename our workspace and change its URL to match {domain}?"),
        ("Done, after confirming with {contact_other}: they are the workspace owner now.",
         "Done: the workspace is renamed and the old URL redirects to the new one."),
        (), ("workspace",), 0.6, 0.05,
    ),
    Scenario(
        "Platform", "task", "P4", "security & compliance", (),
        ("Please countersign our DPA", "Need a signed data processing agreement"),
        ("Our legal team needs a signed data processing agreement before we roll out to more teams. Our "
         "version is attached.",),
        ("Our legal team reviewed your DPA; the countersigned copy is attached.",),
        (), ("compliance",), 0.4, 0.05,
    ),
)

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
