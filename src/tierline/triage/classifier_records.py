"""Stored classifiers: one row per trained version, the pickled scikit-learn pipeline beside its metrics.

At most one classifier per target is active (a partial unique index says so to the database, so two
concurrent activations cannot both win). The pickle is deferred: listing classifiers never reads the bytes.
The table keeps its first name, `triage_models` (and so do its audit entity type and action strings).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, LargeBinary, String, false, text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from tierline.platform.db import Base, BigId, JSONType, UTCDateTime

TARGETS = ("queue", "component", "type", "priority")


class TriageClassifier(Base):
    """A trained ticket classifier for one target field (queue, component, type or priority)."""

    __tablename__ = "triage_models"
    __audit_type__ = "triage_models"
    __table_args__ = (
        CheckConstraint("target IN (" + ", ".join(repr(t) for t in TARGETS) + ")", name="target"),
        Index("ix_triage_models_one_active_per_target", "target", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
        Index("ix_triage_models_target_version", "target", "version"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Numbered across all targets, so `tierline triage activate VERSION` names one classifier.
    version: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    target: Mapped[str] = mapped_column(String(20), nullable=False)
    algorithm: Mapped[str] = mapped_column(String(200), nullable=False)
    labels: Mapped[list[str]] = mapped_column(JSONType, nullable=False)  # the classes, in its order
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)  # holdout: the evaluate shape
    n_samples: Mapped[int] = mapped_column(Integer, nullable=False)
    source: Mapped[str] = mapped_column(String(500), nullable=False)  # "database" or "csv:<file>"
    sklearn_version: Mapped[str] = mapped_column(String(40), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)  # of `pipeline`: checked before unpickling
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    pipeline: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
