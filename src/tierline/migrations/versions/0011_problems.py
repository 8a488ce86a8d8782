"""Problems, their ticket links and signature counters (owned by the problems engineer)

Revision ID: 0011_problems
Revises: 0010_assignment
"""
from alembic import op
import sqlalchemy as sa
import tierline.platform.db

revision = '0011_problems'
down_revision = '0010_assignment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
