"""Audit events carry the version of their hash definition; v2 links a body hash precomputed outside the lock

Revision ID: 0016_audit_hash_v2
Revises: 0015_sla_clock_sweep
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0016_audit_hash_v2'
down_revision = '0015_sla_clock_sweep'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
