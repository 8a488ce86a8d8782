from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tierline.platform.db import Base, BigId, UTCDateTime

PLANS = ("free", "pro", "business", "enterprise")


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("plan IN ('free', 'pro', 'business', 'enterprise')", name="plan"),
        CheckConstraint("arr_cents >= 0", name="arr_non_negative"),
        CheckConstraint("licensed_users >= 0", name="licensed_users_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    plan: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    # Annual recurring revenue in integer cents: exact on both databases, exposed as a number (`arr`).
    arr_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    region: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    licensed_users: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    # A customer has few domains: they always come along.
    domains: Mapped[list[CustomerEmailDomain]] = relationship(
        order_by="CustomerEmailDomain.domain", cascade="all, delete-orphan", lazy="selectin")

    @property
    def arr(self) -> float:
        return self.arr_cents / 100

    @property
    def email_domains(self) -> list[str]:
        return [d.domain for d in self.domains]


class CustomerEmailDomain(Base):
    """An email domain that identifies a customer's requesters; a domain belongs to at most one customer."""

    __tablename__ = "customer_email_domains"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), nullable=False, index=True)
    domain: Mapped[str] = mapped_column(String(253), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Contact(Base):
    """A person at a customer who raises tickets; one email belongs to one contact."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), nullable=False, index=True)
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
