"""Queue assignment strategies, required skills, round-robin cursors (owned by the assignment engineer)

Revision ID: 0010_assignment
Revises: 0009_triage_rules
"""
from alembic import op
import sqlalchemy as sa
import tierline.platform.db

revision = '0010_assignment'
down_revision = '0009_triage_rules'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
