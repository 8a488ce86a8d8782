"""Each component's best-known failure, with its error code and trace: the demo's headline scenarios."""

from __future__ import annotations

from tierline.demo.scenario import Scenario, ASK_DB, ASK_IDS, ASK_SSO

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
        ("replication", "lag"), 1.4, 0.55, ASK_DB,
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
        ("outage", "connections"), 0.5, 0.6, ASK_DB,
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
        ("backups", "pitr"), 0.9, 0.4, ASK_DB,
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
        ("performance", "slow-query"), 1.0, 0.45, ASK_DB,
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
        ("Clock skew on the customer's signing hosts.",), ("storage", "s3"), 0.7, 0.3, ASK_IDS,
    ),
    Scenario(
        "CDN", "incident", "P2", "edge caching", ("HTTP 503", "HTTP 502"),
        ("Static assets returning {http_status} from the CDN in {region}",
         "Images not loading for customers in {region}"),
        ("Our storefront's images and JS bundles return {http_status} from the CDN for users in {region} "
         "since {time_local}. Other regions look fine. Example:\n\n{trace_curl}",),
        ("One edge location in {region} was failing health checks but still receiving traffic. It was "
         "drained at {time_local} and the CDN provider has opened an incident on their side.",),
        ("Unhealthy edge location not removed from rotation.",), ("cdn", "edge"), 0.6, 0.5, ASK_IDS,
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
        ("jobs", "duplicate-run"), 0.6, 0.5, ASK_IDS,
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
        ("outage", "5xx"), 0.4, 0.6, ASK_IDS,
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
        (), ("api", "rate-limit"), 1.1, 0.25, ASK_IDS,
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
        ("api", "bug"), 1.0, 0.5, ASK_IDS,
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
        ("sso", "saml", "login"), 1.3, 0.5, ASK_SSO,
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
        ASK_IDS,
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
        ("webhooks", "delivery"), 1.3, 0.4, ASK_IDS,
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
