"""The everyday work of every component: how-to questions, tasks, feature requests, other failures."""

from __future__ import annotations

from tierline.demo.scenario import Scenario, ASK_DB, ASK_IDS, ASK_SSO

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
        (), ("replication",), 0.7, 0.1, ASK_DB,
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
        (), ("connections", "pooling"), 0.6, 0.35, ASK_DB,
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
        (), ("connections",), 0.6, 0.1, ASK_DB,
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
        ("WAL archiving stalled after a bucket permission change.",), ("backups",), 0.5, 0.5, ASK_DB,
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
        (), ("performance",), 0.8, 0.15, ASK_DB,
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
        ("performance", "timeout"), 0.6, 0.55, ASK_DB,
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
        ("storage", "upload"), 0.6, 0.45, ASK_IDS,
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
        (), ("cdn", "cache"), 0.6, 0.1, ASK_IDS,
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
        ("CNAME record lost in a DNS provider migration.",), ("dns",), 0.5, 0.4, ASK_IDS,
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
        (), ("lb",), 0.5, 0.1, ASK_IDS,
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
        ("Quota rollout applied the wrong plan's limits.",), ("rate-limit",), 0.5, 0.5, ASK_IDS,
    ),
    Scenario(
        "REST API", "question", "P4", "public API", (),
        ("How do we get only records changed since our last sync?", "Best way to page through /v2/{endpoint}?"),
        ("Our nightly sync pulls all {endpoint} every time. Is there a way to fetch only what changed since "
         "the last run?",
         "What's the recommended way to page through {count} {endpoint} without missing any?"),
        ("Filter with updated_since and page with the cursor; store the last cursor and resume from it. The "
         "sync guide I linked has an example.",),
        (), ("api",), 0.9, 0.1, ASK_IDS,
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
        ("Resolver regression for projects with archived users.",), ("graphql",), 0.4, 0.5, ASK_IDS,
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
        (), ("sso",), 0.9, 0.1, ASK_SSO,
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
        ("Key cache deployment rejected older keys.",), ("api-keys",), 0.5, 0.55, ASK_IDS,
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
        (), ("webhooks",), 0.7, 0.1, ASK_IDS,
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
