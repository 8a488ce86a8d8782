"""SLA clocks are swept by their warning_at and due_at instants; no timer job rows per clock

Revision ID: 0015_sla_clock_sweep
Revises: 0014_audit_chain_head
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0015_sla_clock_sweep'
down_revision = '0014_audit_chain_head'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
