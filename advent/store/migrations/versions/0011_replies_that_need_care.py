"""inbound_message: needs_care and handled_at, for replies that need a human

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 01:00:00
"""

import sqlalchemy as sa
from alembic import op

from advent.store.tables import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        # Every text stored before this needed nothing more than it got.
        batch_op.add_column(sa.Column("needs_care", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("handled_at", UTCDateTime(), nullable=True))
        batch_op.create_index("ix_inbound_message_needs_care", ["needs_care"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_message_needs_care")
        batch_op.drop_column("handled_at")
        batch_op.drop_column("needs_care")
