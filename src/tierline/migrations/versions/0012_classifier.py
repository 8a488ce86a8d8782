"""Stored classifier models (owned by the classifier engineer)

Revision ID: 0012_classifier
Revises: 0011_problems
"""
from alembic import op
import sqlalchemy as sa
import tierline.platform.db

revision = '0012_classifier'
down_revision = '0011_problems'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
