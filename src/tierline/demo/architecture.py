"""The demo organisation's shape: teams, the component tree of a SaaS product, queues and the staff roster."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TeamSpec:
    name: str
    kind: str  # support | engineering | product
    description: str


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    parent: str | None
    owner_team: str  # engineering
    support_team: str
    # Required to work its tickets at every tier (assignment treats them as hard): one coarse skill per
    # area that every agent of the area's team holds. Specialisms (saml, replication, ...) are agents' extra
    # skills, which the `skills` assignment strategy matches against a ticket's tags.
    skills: tuple[str, ...]
    description: str
    l2_queue: str  # where L1 escalates its tickets
    l3_queue: str = "L3 Platform Engineering"


@dataclass(frozen=True)
class QueueSpec:
    name: str
    tier: str
    team: str
    strategy: str = "round_robin"  # round_robin | least_loaded | skills


@dataclass(frozen=True)
class StaffSpec:
    """A group of staff: `count` people sharing roles, teams and core skills, each with a few specialisms
    drawn from `specialisms` (names come from the generator)."""

    roles: tuple[str, ...]
    teams: tuple[str, ...]
    count: int
    skills: tuple[str, ...] = ()  # everyone in the group holds these (the components' required skills)
    max_open_tickets: int = 20
    title: str = ""
    specialisms: tuple[str, ...] = ()  # each person holds 1 to 3 of these (tags the skills strategy matches)
    extra: dict[str, str] = field(default_factory=dict)


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("Frontline Support", "support", "L1: first response, triage and the common fixes, "
                                             "follow-the-sun."),
    TeamSpec("Data & Database Support", "support", "L2 specialists for the database, storage and data "
                                                   "pipeline."),
    TeamSpec("Identity & Access Support", "support", "L2 specialists for SSO, SAML, SCIM, MFA and API keys."),
    TeamSpec("Integrations & API Support", "support", "L2 specialists for the public API, webhooks and "
                                                      "connectors."),
    TeamSpec("Billing Support", "support", "Payments, invoices and plan changes."),
    TeamSpec("Support Engineering", "support", "L3: code-level investigation, reproductions, hotfix "
                                               "coordination."),
    TeamSpec("Platform Infrastructure", "engineering", "Compute, networking, storage and the edge."),
    TeamSpec("Data Platform", "engineering",
             "The managed database service, replication, backups, pipelines."),
    TeamSpec("Identity", "engineering", "Authentication, federation, provisioning and API credentials."),
    TeamSpec("API & Integrations", "engineering", "The API gateway, public REST/GraphQL APIs, webhooks, "
                                                  "connectors."),
    TeamSpec("Payments Engineering", "engineering", "Billing engine, payment processing and invoicing."),
    TeamSpec("Web & Mobile", "engineering", "The web application, reporting and the mobile apps."),
    TeamSpec("Product Management", "product", "Product managers reading the support burden of their areas."),
)

_DB, _ID, _API, _BILL = ("L2 Database & Data", "L2 Auth & Identity", "L2 Integrations & API", "L2 Billing")

COMPONENTS: tuple[ComponentSpec, ...] = (
    ComponentSpec("Platform", None, "Platform Infrastructure", "Support Engineering", (),
                  "The managed infrastructure every tenant runs on.", _DB),
    ComponentSpec("Database", "Platform", "Data Platform", "Data & Database Support", ("postgres",),
                  "Managed PostgreSQL clusters provisioned per tenant.", _DB),
    ComponentSpec("Replication", "Database", "Data Platform", "Data & Database Support",
                  ("postgres",), "Streaming replicas, failover and read endpoints.", _DB),
    ComponentSpec("Backups & Restore", "Database", "Data Platform", "Data & Database Support",
                  ("postgres",), "Nightly snapshots, WAL archiving and point-in-time restore.",
                  _DB),
    ComponentSpec("Connection Pooling", "Database", "Data Platform", "Data & Database Support",
                  ("postgres",), "The PgBouncer tier in front of every cluster.", _DB),
    ComponentSpec("Query Engine", "Database", "Data Platform", "Data & Database Support",
                  ("postgres",), "Query planning, slow-query insights and index advice.", _DB),
    ComponentSpec("Storage", "Platform", "Platform Infrastructure", "Data & Database Support", ("storage",),
                  "Block and object storage.", _DB),
    ComponentSpec("Object Storage", "Storage", "Platform Infrastructure", "Data & Database Support",
                  ("storage",), "S3-compatible buckets, lifecycle rules and signed URLs.", _DB),
    ComponentSpec("CDN", "Storage", "Platform Infrastructure", "Integrations & API Support",
                  ("networking",), "Edge caching of static assets and uploads.", _API),
    ComponentSpec("Compute", "Platform", "Platform Infrastructure", "Support Engineering", (),
                  "Workers, scheduled jobs and autoscaling.", _API),
    ComponentSpec("Job Scheduler", "Compute", "Platform Infrastructure", "Support Engineering",
                  ("kubernetes",), "Cron-style and queued background jobs.", _API),
    ComponentSpec("Autoscaling", "Compute", "Platform Infrastructure", "Support Engineering",
                  (), "Horizontal scaling of tenant workloads.", _API),
    ComponentSpec("Networking", "Platform", "Platform Infrastructure", "Support Engineering", ("networking",),
                  "Private networking, DNS and load balancing.", _API),
    ComponentSpec("DNS & Custom Domains", "Networking", "Platform Infrastructure", "Integrations & API "
                                                                                   "Support",
                  ("networking",), "Custom domains, certificates and DNS records.", _API),
    ComponentSpec("Load Balancer", "Networking", "Platform Infrastructure", "Support Engineering",
                  ("networking",), "L7 load balancing, health checks and TLS termination.", _API),
    ComponentSpec("API Gateway", None, "API & Integrations", "Integrations & API Support", ("api",),
                  "The edge of every API request: routing, quotas, authentication.", _API),
    ComponentSpec("Rate Limiting", "API Gateway", "API & Integrations", "Integrations & API Support",
                  ("api",), "Per-key and per-tenant quotas (HTTP 429).", _API),
    ComponentSpec("REST API", "API Gateway", "API & Integrations", "Integrations & API Support",
                  ("api",), "The public v2 REST API.", _API),
    ComponentSpec("GraphQL API", "API Gateway", "API & Integrations", "Integrations & API Support",
                  ("api",), "The public GraphQL endpoint and its query-cost limits.", _API),
    ComponentSpec("Auth", None, "Identity", "Identity & Access Support", ("auth",),
                  "Sign-in, sessions and credentials.", _ID),
    ComponentSpec("SSO & SAML", "Auth", "Identity", "Identity & Access Support", ("auth",),
                  "SAML 2.0 and OIDC federation with Okta, Azure AD, Google Workspace, OneLogin.", _ID),
    ComponentSpec("OAuth & API Keys", "Auth", "Identity", "Identity & Access Support",
                  ("auth",), "Personal and service API keys, OAuth apps and token scopes.",
                  _ID),
    ComponentSpec("MFA", "Auth", "Identity", "Identity & Access Support", ("auth",),
                  "TOTP, WebAuthn and recovery codes.", _ID),
    ComponentSpec("User Provisioning (SCIM)", "Auth", "Identity", "Identity & Access Support",
                  ("auth",), "SCIM 2.0 user and group sync from identity providers.", _ID),
    ComponentSpec("Billing", None, "Payments Engineering", "Billing Support", ("billing",),
                  "Plans, usage metering and charges.", _BILL),
    ComponentSpec("Payments", "Billing", "Payments Engineering", "Billing Support", ("billing",),
                  "Card and SEPA payments, 3-D Secure, retries.", _BILL),
    ComponentSpec("Invoicing", "Billing", "Payments Engineering", "Billing Support", ("billing",),
                  "Invoices, credit notes, VAT and tax IDs.", _BILL),
    ComponentSpec("Subscriptions & Plans", "Billing", "Payments Engineering", "Billing Support",
                  ("billing",), "Upgrades, downgrades, seats and proration.", _BILL),
    ComponentSpec("Integrations", None, "API & Integrations", "Integrations & API Support", ("integrations",),
                  "Connections to the tools our customers already use.", _API),
    ComponentSpec("Webhooks", "Integrations", "API & Integrations", "Integrations & API Support",
                  ("integrations",), "Signed event deliveries with retries.", _API),
    ComponentSpec("Slack App", "Integrations", "API & Integrations", "Integrations & API Support",
                  ("integrations",), "Notifications and slash commands in Slack.", _API),
    ComponentSpec("Salesforce Connector", "Integrations", "API & Integrations", "Integrations & API Support",
                  ("integrations",), "Bi-directional sync of accounts and cases.", _API),
    ComponentSpec("Data Warehouse Sync", "Integrations", "Data Platform", "Data & Database Support",
                  ("etl",), "Scheduled exports to Snowflake, BigQuery and Redshift.", _DB),
    ComponentSpec("Web App", None, "Web & Mobile", "Frontline Support", ("frontend",),
                  "The browser application.", _API),
    ComponentSpec("Dashboard", "Web App", "Web & Mobile", "Frontline Support", ("frontend",),
                  "Home dashboards and widgets.", _API),
    ComponentSpec("Reporting & Exports", "Web App", "Web & Mobile", "Data & Database Support",
                  ("frontend",), "Scheduled reports, CSV/XLSX exports.", _DB),
    ComponentSpec("Search", "Web App", "Web & Mobile", "Frontline Support", ("frontend",),
                  "Full-text search across workspace content.", _API),
    ComponentSpec("Email Notifications", "Web App", "Web & Mobile", "Frontline Support",
                  ("frontend",), "Transactional email: invites, alerts, digests.", _API),
    ComponentSpec("Mobile", None, "Web & Mobile", "Frontline Support", ("mobile",),
                  "The native apps.", _API),
    ComponentSpec("iOS App", "Mobile", "Web & Mobile", "Frontline Support", ("mobile",),
                  "iPhone and iPad app.", _API),
    ComponentSpec("Android App", "Mobile", "Web & Mobile", "Frontline Support", ("mobile",),
                  "Android phone and tablet app.", _API),
)

QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("L1 General", "L1", "Frontline Support", "round_robin"),
    QueueSpec("L1 Billing", "L1", "Billing Support", "least_loaded"),
    QueueSpec("L2 Database & Data", "L2", "Data & Database Support", "skills"),
    QueueSpec("L2 Auth & Identity", "L2", "Identity & Access Support", "skills"),
    QueueSpec("L2 Integrations & API", "L2", "Integrations & API Support", "skills"),
    QueueSpec("L2 Billing", "L2", "Billing Support", "least_loaded"),
    QueueSpec("L3 Platform Engineering", "L3", "Support Engineering", "least_loaded"),
)

L1_QUEUE_FOR_BILLING = "L1 Billing"
L1_QUEUE = "L1 General"

STAFF: tuple[StaffSpec, ...] = (
    StaffSpec(("agent_l1",), ("Frontline Support",), 9, ("general", "frontend", "mobile", "api"), 25,
              "Support Engineer I",
              ("graphql", "rate-limit", "ios", "android", "search", "email", "reporting", "dashboard")),
    StaffSpec(("agent_l1",), ("Billing Support",), 2, ("billing",), 25, "Billing Specialist",
              ("payments", "invoices", "plans", "seats", "finance")),
    StaffSpec(("agent_l2",), ("Data & Database Support",), 3, ("postgres", "storage", "etl"), 15,
              "Support Engineer II", ("replication", "backups", "pitr", "performance", "s3", "connections")),
    StaffSpec(("agent_l2",), ("Identity & Access Support",), 2, ("auth",), 15, "Support Engineer II",
              ("sso", "saml", "scim", "mfa", "oauth", "api-keys")),
    StaffSpec(("agent_l2",), ("Integrations & API Support",), 3, ("api", "integrations", "networking"), 15,
              "Support Engineer II",
              ("webhooks", "graphql", "rate-limit", "dns", "tls", "cdn", "slack", "salesforce")),
    StaffSpec(("agent_l2",), ("Billing Support",), 1, ("billing",), 15, "Senior Billing Specialist",
              ("payments", "plans", "invoices", "renewal")),
    StaffSpec(("agent_l3", "sme", "incident_commander"), ("Support Engineering",), 2,
              ("postgres", "storage", "etl", "kubernetes", "networking", "api"), 10, "Staff Support Engineer",
              ("replication", "performance", "cdn", "jobs")),
    StaffSpec(("agent_l3", "sme"), ("Support Engineering",), 2,
              ("auth", "integrations", "billing", "api", "frontend", "mobile", "kubernetes"), 10,
              "Senior Support Engineer", ("saml", "webhooks", "payments", "jobs")),
    StaffSpec(("sme",), ("Data Platform",), 1, ("postgres", "replication", "backups"), 5, "Database SME"),
    StaffSpec(("sme",), ("Identity",), 1, ("auth", "saml", "scim"), 5, "Identity SME"),
    StaffSpec(("sme", "incident_commander"), ("Platform Infrastructure",), 1,
              ("kubernetes", "networking", "cdn"), 5, "Site Reliability Engineer"),
    StaffSpec(("manager",), ("Frontline Support", "Billing Support"), 1, (), 0, "Support Manager, Frontline"),
    StaffSpec(("manager",), ("Data & Database Support", "Identity & Access Support",
                             "Integrations & API Support", "Support Engineering"), 1, (), 0,
              "Director of Support"),
    StaffSpec(("product_manager",), ("Product Management",), 2, (), 0, "Product Manager"),
    StaffSpec(("compliance_officer",), (), 1, (), 0, "Compliance Officer"),
    StaffSpec(("auditor",), (), 1, (), 0, "External Auditor"),
)

ADMIN_EMAIL = "admin@tierline.example"
ADMIN_NAME = "Demo Administrator"
STAFF_DOMAIN = "tierline.example"
