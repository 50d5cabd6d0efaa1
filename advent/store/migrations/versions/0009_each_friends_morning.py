"""subscriber: timezone, own hour and when they changed; delivery: when it was due

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 00:40:00
"""

import sqlalchemy as sa
from alembic import op

from advent.store.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("send_time", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("morning_set_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("due_at")
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_column("morning_set_at")
        batch_op.drop_column("send_time")
        batch_op.drop_column("timezone")
