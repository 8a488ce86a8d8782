"""Customers, their email domains and contacts, and the resolution of a ticket's requester to a customer."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    ScalarSelect,
    Select,
    bindparam,
    cast,
    exists,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tierline.customers.models import PLANS, Contact, Customer, CustomerEmailDomain
from tierline.customers.profiles import CustomerProfile
from tierline.platform import audit, clock, reference_cache
from tierline.platform.auth.actor import Actor
from tierline.platform.auth.service import normalise_email, validate_timezone
from tierline.platform.db import core_connection, hold
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.platform.schemas import name_or

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
# Addresses at these providers belong to people, not companies: a customer cannot claim them.
PUBLIC_EMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
    "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "mail.com",
    "yandex.ru", "qq.com", "163.com", "zoho.com",
})
MAX_ARR = Decimal("999999999999.99")


def normalise_domain(raw: str, field: str = "email_domains") -> str:
    domain = raw.strip().lower().lstrip("@").rstrip(".")
    if not _DOMAIN.match(domain):
        raise Invalid(field, f"{raw!r} is not a domain name")
    if domain in PUBLIC_EMAIL_DOMAINS:
        raise Invalid(field, f"{domain} is a public email provider; it cannot identify one customer")
    return domain


def _cents(arr: Decimal | int | float | str, field: str = "arr") -> int:
    try:
        value = Decimal(str(arr))
    except ArithmeticError as exc:
        raise Invalid(field, "must be a number") from exc
    if not value.is_finite() or value < 0:
        raise Invalid(field, "must be a number >= 0")
    if value > MAX_ARR:
        raise Invalid(field, f"must be at most {MAX_ARR}")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _flush(session: Session, conflict: str) -> None:
    # The checks before catch duplicates; this catches a concurrent writer that slipped between them.
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


# -- customers -----------------------------------------------------------------------------------------

def get(session: Session, *, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    hold(session, customer)  # triage, SLA and problems each read it again within the transaction
    return customer


def get_by_key(session: Session, *, external_id: str) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.external_id == external_id.strip()))
    if customer is None:
        raise NotFound(f"no customer has external_id {external_id!r}")
    return customer


def list_(session: Session, *, plan: str | None = None, region: str | None = None, q: str | None = None,
          min_arr: Decimal | None = None, email_domain: str | None = None, limit: int | None = None,
          cursor: str | None = None) -> tuple[list[Customer], str | None]:
    stmt = select(Customer)
    if plan:
        stmt = stmt.where(Customer.plan == plan)
    if region:
        stmt = stmt.where(Customer.region == region)
    if min_arr is not None:
        stmt = stmt.where(Customer.arr_cents >= _cents(min_arr, "min_arr"))
    if email_domain:
        stmt = stmt.where(exists().where(CustomerEmailDomain.customer_id == Customer.id,
                                         CustomerEmailDomain.domain == email_domain.strip().lower()))
    if q:
        stmt = stmt.where(Customer.name.icontains(q, autoescape=True)
                          | Customer.external_id.icontains(q, autoescape=True))
    return paginate(session, stmt, keys=[SortKey(Customer.id)], limit=limit, cursor=cursor)


def plans(session: Session, *, customer_ids: Iterable[int]) -> dict[int, str]:
    """customer id -> plan, for reports that group by plan."""
    ids = sorted(set(customer_ids))
    out: dict[int, str] = {}
    for i in range(0, len(ids), 1000):
        rows = session.execute(select(Customer.id, Customer.plan).where(Customer.id.in_(ids[i:i + 1000])))
        out.update({cid: plan for cid, plan in rows})
    return out


def _state(customer: Customer) -> dict[str, Any]:
    """What the audit trail records of a customer: its columns and its email domains."""
    return {**audit.snapshot(customer), "email_domains": sorted(customer.email_domains)}


def _check_domains(session: Session, raw: Iterable[str], *, customer_id: int | None) -> list[str]:
    domains: list[str] = []
    errors = []
    for i, item in enumerate(raw):
        try:
            domain = normalise_domain(item, f"email_domains.{i}")
        except Invalid as exc:
            errors.extend((e["field"], e["message"]) for e in exc.extra["errors"])
            continue
        if domain not in domains:
            domains.append(domain)
    if errors:
        raise Invalid(errors=errors)
    if domains:
        taken = session.execute(
            select(CustomerEmailDomain.domain, CustomerEmailDomain.customer_id)
            .where(CustomerEmailDomain.domain.in_(domains))
        ).all()
        others = [(d, c) for d, c in taken if c != customer_id]
        if others:
            listing = ", ".join(f"{d} (customer {c})" for d, c in others)
            raise Conflict(f"email domain already belongs to another customer: {listing}")
    return domains


def _check_external_id_free(session: Session, external_id: str, *, customer_id: int | None) -> None:
    stmt = select(Customer.id).where(Customer.external_id == external_id)
    if customer_id is not None:
        stmt = stmt.where(Customer.id != customer_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a customer with external_id {external_id!r} already exists")


def _clean(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid(field, "must not be blank")
    return value


def create(session: Session, *, actor: Actor, name: str, external_id: str, plan: str = "free",
           arr: Decimal | int | float = 0, region: str | None = None, timezone: str = "UTC",
           licensed_users: int = 0, email_domains: Iterable[str] = ()) -> Customer:
    name, external_id = _clean(name, "name"), _clean(external_id, "external_id")
    if plan not in PLANS:
        raise Invalid("plan", f"must be one of {', '.join(PLANS)}")
    arr_cents = _cents(arr)
    validate_timezone(timezone)
    if licensed_users < 0:
        raise Invalid("licensed_users", "must be >= 0")
    domains = _check_domains(session, email_domains, customer_id=None)
    _check_external_id_free(session, external_id, customer_id=None)
    now = clock.now()
    customer = Customer(name=name, external_id=external_id, plan=plan, arr_cents=arr_cents,
                        region=(region or "").strip() or None, timezone=timezone,
                        licensed_users=licensed_users, created_at=now, updated_at=now)
    customer.domains = [CustomerEmailDomain(domain=d, created_at=now) for d in sorted(domains)]
    session.add(customer)
    _flush(session, "the external_id or an email domain was taken by a concurrent request")
    audit.record(session, actor, "customers.create", customer,
                 changes={k: [None, v] for k, v in _state(customer).items() if v is not None})
    return customer


_UNSET: Any = object()


def update(session: Session, *, actor: Actor, customer_id: int, name: str | None = None,
           external_id: str | None = None, plan: str | None = None, arr: Decimal | int | float | None = None,
           region: str | None = _UNSET, timezone: str | None = None, licensed_users: int | None = None,
           email_domains: Iterable[str] | None = None) -> Customer:
    """Change the fields given (None keeps a value; `region=None` clears it).

    `email_domains` replaces the list."""
    customer = get(session, customer_id=customer_id)
    name = _clean(name, "name") if name is not None else None
    external_id = _clean(external_id, "external_id") if external_id is not None else None
    if plan is not None and plan not in PLANS:
        raise Invalid("plan", f"must be one of {', '.join(PLANS)}")
    arr_cents = _cents(arr) if arr is not None else None
    if timezone is not None:
        validate_timezone(timezone)
    if licensed_users is not None and licensed_users < 0:
        raise Invalid("licensed_users", "must be >= 0")
    domains = None
    if email_domains is not None:
        domains = _check_domains(session, email_domains, customer_id=customer.id)
    if external_id is not None:
        _check_external_id_free(session, external_id, customer_id=customer.id)

    before = _state(customer)
    for key, value in (("name", name), ("external_id", external_id), ("plan", plan), ("arr_cents", arr_cents),
                       ("timezone", timezone), ("licensed_users", licensed_users)):
        if value is not None:
            setattr(customer, key, value)
    if region is not _UNSET:
        customer.region = (region or "").strip() or None
    if domains is not None:
        now = clock.now()
        kept = [d for d in customer.domains if d.domain in domains]
        current = set(customer.email_domains)
        added = [CustomerEmailDomain(domain=d, created_at=now) for d in domains if d not in current]
        customer.domains = sorted(kept + added, key=lambda d: d.domain)
    changes = {k: v for k, v in audit.diff(before, _state(customer)).items() if k != "updated_at"}
    if changes:
        customer.updated_at = clock.now()
        _flush(session, "the external_id or an email domain was taken by a concurrent request")
        audit.record(session, actor, "customers.update", customer, changes=changes)
    return customer


# -- contacts ------------------------------------------------------------------------------------------

def get_contact(session: Session, *, customer_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.customer_id != customer_id:
        get(session, customer_id=customer_id)  # a missing customer is named as such
        raise NotFound(f"contact {contact_id} does not exist under customer {customer_id}")
    return contact


def get_contact_by_email(session: Session, *, email: str) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.email == normalise_email(email)))


def list_contacts(session: Session, *, customer_id: int, q: str | None = None, limit: int | None = None,
                  cursor: str | None = None) -> tuple[list[Contact], str | None]:
    get(session, customer_id=customer_id)
    stmt = select(Contact).where(Contact.customer_id == customer_id)
    if q:
        stmt = stmt.where(Contact.name.icontains(q, autoescape=True)
                          | Contact.email.icontains(q, autoescape=True))
    return paginate(session, stmt, keys=[SortKey(Contact.id)], limit=limit, cursor=cursor)


def _check_email_free(session: Session, email: str, *, contact_id: int | None) -> None:
    other = get_contact_by_email(session, email=email)
    if other is not None and other.id != contact_id:
        raise Conflict(f"{email} is already a contact of customer {other.customer_id}")


def create_contact(session: Session, *, actor: Actor, customer_id: int, email: str,
                   name: str = "") -> Contact:
    customer = get(session, customer_id=customer_id)
    email = normalise_email(email)
    if "@" not in email:
        raise Invalid("email", "is not an email address")
    _check_email_free(session, email, contact_id=None)
    now = clock.now()
    contact = Contact(customer_id=customer.id, email=email, name=name_or(name, email.rpartition("@")[0]),
                      created_at=now, updated_at=now)
    session.add(contact)
    _flush(session, f"{email} was made a contact by a concurrent request")
    audit.record_create(session, actor, contact)
    return contact


def update_contact(session: Session, *, actor: Actor, customer_id: int, contact_id: int,
                   email: str | None = None, name: str | None = None,
                   new_customer_id: int | None = None) -> Contact:
    contact = get_contact(session, customer_id=customer_id, contact_id=contact_id)
    if email is not None:
        email = normalise_email(email)
        if "@" not in email:
            raise Invalid("email", "is not an email address")
        _check_email_free(session, email, contact_id=contact.id)
    if name is not None:
        name = _clean(name, "name")
    if new_customer_id is not None and session.get(Customer, new_customer_id) is None:
        raise Invalid("customer_id", f"customer {new_customer_id} does not exist")
    before = audit.snapshot(contact)
    if email is not None:
        contact.email = email
    if name is not None:
        contact.name = name
    if new_customer_id is not None:
        contact.customer_id = new_customer_id
    if audit.diff(before, audit.snapshot(contact)):
        contact.updated_at = clock.now()
        _flush(session, f"{contact.email} was made a contact by a concurrent request")
        audit.record_update(session, actor, contact, before)
    return contact


@dataclass(frozen=True)
class Requester:
    """Who a ticket's requester is: their customer (None: unknown), and the contact to create for them when
    only their email domain named the customer (None: they are a contact already, or unknown)."""

    customer_id: int | None
    new_contact: dict[str, Any] | None = None


def resolve_requester(session: Session, *, email: str) -> Requester:
    """The customer a ticket's requester belongs to, read without writing anything.

    An existing contact gives its customer. Otherwise a customer whose email domains include the address's
    domain is the answer, and the requester becomes its contact when the ticket is written (`new_contact`,
    inserted by `insert_contact`). Otherwise the requester is unknown. Known contacts come from the per-process
    directory, so a returning requester costs no query; a contact inserted since is found by its email.
    """
    email = normalise_email(email)
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return Requester(None)
    directory = _directory(session)
    known = directory.contacts.get(email)
    if known is not None:
        return Requester(known)
    found = session.execute(_CONTACT_CUSTOMER, {"email": email}).scalar()
    if found is not None:
        return Requester(directory.remember(email, found))
    owner = directory.domains.get(domain)
    if owner is None:
        return Requester(None)
    now = clock.now()
    return Requester(owner, {"customer_id": owner, "email": email, "name": name_or(None, local),
                             "created_at": now, "updated_at": now})


_CONTACT_CUSTOMER = select(Contact.customer_id).where(Contact.email == bindparam("email"))


def insert_contact(connection: Connection, row: dict[str, Any]) -> int | None:
    """INSERT the requester's contact unless a concurrent intake made it first; its id, or None then."""
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Contact).on_conflict_do_nothing(index_elements=["email"]).returning(Contact.id)
    return connection.execute(stmt, row).scalar_one_or_none()


def resolve_requester_id(session: Session, *, actor: Actor, email: str) -> int | None:
    """`resolve_requester`, writing the new contact at once (audited): for callers that are already inside a
    write transaction (imports, explain's rolled-back savepoint, tests)."""
    requester = resolve_requester(session, email=email)
    if requester.new_contact is not None:
        contact_id = insert_contact(core_connection(session), requester.new_contact)
        if contact_id is not None:
            audit.record(session, actor, "contacts.create_from_requester", entity_type="contacts",
                         entity_id=contact_id, changes=contact_changes(contact_id, requester.new_contact))
    return requester.customer_id


def contact_changes(contact_id: int, row: dict[str, Any]) -> dict[str, list[Any]]:
    """The audit record of a contact made from a requester: its columns, as a create records them."""
    return {"id": [None, contact_id], **{k: [None, v] for k, v in row.items()}}


# -- profiles, for triage, SLA and problems --------------------------------------------------------------

def profile(session: Session, *, customer_id: int) -> CustomerProfile:
    """What triage needs to know about a ticket's customer, with its ARR percentile among all customers.

    The percentile is the mid-rank (customers below + half of those level) / all customers, so equal ARRs get
    equal percentiles and a lone customer sits at 0.5. From the per-process directory: no query once the
    customer was seen. `open_tickets` is left 0 (the pipeline counts them) and `health` None until customer
    health exists. The caller gets its own copy to fill in.
    """
    found = many_profiles(session, customer_ids=[customer_id]).get(customer_id)
    if found is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return replace(found)


def many_profiles(session: Session, *, customer_ids: Iterable[int]) -> dict[int, CustomerProfile]:
    """`profile` of several customers (those that exist), the ones not seen yet read in one query. The values
    are the directory's own: copy one (dataclasses.replace) before changing it."""
    directory = _directory(session)
    wanted = set(customer_ids)
    missing = sorted(wanted - directory.profiles.keys())
    for i in range(0, len(missing), 1000):
        for customer in session.scalars(select(Customer).where(Customer.id.in_(missing[i:i + 1000]))):
            directory.profiles[customer.id] = CustomerProfile(
                id=customer.id, name=customer.name, plan=customer.plan, arr=customer.arr, region=customer.region,
                licensed_users=customer.licensed_users or None,
                arr_percentile=directory.percentile(customer.arr_cents))
    return {cid: directory.profiles[cid] for cid in wanted if cid in directory.profiles}


def arr_cents_of(customer_id: ColumnElement[int] | Any) -> ScalarSelect[int]:
    """A customer's ARR in cents as an SQL expression (NULL for no customer), for queries of other domains that
    add up the ARR of the customers their rows name (a problem's exposure): the figure as it is now, read
    where it is kept, with no copy to keep in step when a customer's ARR changes."""
    return select(Customer.arr_cents).where(Customer.id == customer_id).scalar_subquery()


def arr_cents_sum(customer_ids: Select) -> ScalarSelect[int]:
    """The ARR in cents of the customers `customer_ids` (a SELECT of ids) names, each once, as an SQL expression
    (0 for none): `arr_cents_of` for a set. An integer on both databases (PostgreSQL sums bigints into a
    numeric)."""
    return (select(cast(func.coalesce(func.sum(Customer.arr_cents), 0), BigInteger))
            .where(Customer.id.in_(customer_ids)).scalar_subquery())


# -- the directory, cached per process ------------------------------------------------------------------
#
# Intake resolves every requester and weighs every customer's ARR against all the others. Both answers come
# from one copy per process kept in the reference cache (platform/reference_cache.py): renewed whenever a
# customer or email domain changes anywhere, or a contact changes or goes; filled on demand in between. A new
# contact does not renew it (intake makes them all the time): the copy remembers only contacts it has read,
# never that an address is unknown, so a contact inserted since is simply found by the next query.

_MAX_REMEMBERED = 100_000  # contacts remembered per copy; past that it starts over


@dataclass
class _Directory:
    arr_cents: list[int]  # every customer's ARR, sorted
    domains: dict[str, int]  # email domain -> customer id
    contacts: dict[str, int] = field(default_factory=dict)  # email -> customer id, of contacts read
    profiles: dict[int, CustomerProfile] = field(default_factory=dict)

    def percentile(self, arr_cents: int) -> float | None:
        if not self.arr_cents:
            return None
        below = bisect_left(self.arr_cents, arr_cents)
        level = bisect_right(self.arr_cents, arr_cents) - below
        return (below + level / 2) / len(self.arr_cents)

    def remember(self, email: str, customer_id: int) -> int:
        if len(self.contacts) >= _MAX_REMEMBERED:
            self.contacts.clear()
        self.contacts[email] = customer_id
        return customer_id


def _build_directory(session: Session) -> _Directory:
    arr = sorted(session.scalars(select(Customer.arr_cents)))
    domains = {d: c for d, c in session.execute(select(CustomerEmailDomain.domain,
                                                       CustomerEmailDomain.customer_id))}
    return _Directory(arr_cents=arr, domains=domains)


def _directory(session: Session) -> _Directory:
    return reference_cache.cached(session, "customers", "customers.directory", _build_directory)
