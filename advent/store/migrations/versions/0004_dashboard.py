"""dashboard: organiser accounts, failed sign-ins, replies marked read

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:40:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import advent.store.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organiser",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.Column("password_set_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sign_in_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_failure_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_failure_address"), ["address"], unique=False)
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_at", advent.store.tables.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_column("read_at")
    with op.batch_alter_table("sign_in_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_failure_address"))
        batch_op.drop_index(batch_op.f("ix_sign_in_failure_account"))
    op.drop_table("sign_in_failure")
    op.drop_table("organiser")
