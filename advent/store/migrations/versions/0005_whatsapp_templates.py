"""whatsapp_template: templates made by `advent templates`, and their approval

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 17:05:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import advent.store.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("friendly_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("approval", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("created_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.Column("checked_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "sid", name="uq_whatsapp_template_sid"),
    )
    with op.batch_alter_table("whatsapp_template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatsapp_template_campaign"), ["campaign"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatsapp_template_campaign"))
    op.drop_table("whatsapp_template")
