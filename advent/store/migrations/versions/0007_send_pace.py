"""send_pace: one shared pace per sender, across every process that sends

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 18:50:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_pace",
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("next_slot", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("sender"),
    )


def downgrade() -> None:
    op.drop_table("send_pace")
