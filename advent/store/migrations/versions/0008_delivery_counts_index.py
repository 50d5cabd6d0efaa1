"""delivery: an index the dashboard's counts read instead of the table

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 20:40:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_counts", ["kind", "campaign", "day", "status", "channel"])


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_counts")
