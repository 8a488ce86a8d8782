"""Triage rules (owned by the rules engineer)

Revision ID: 0009_triage_rules
Revises: 0008_triage_tickets
"""
from alembic import op
import sqlalchemy as sa
import tierline.platform.db

revision = '0009_triage_rules'
down_revision = '0008_triage_tickets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
