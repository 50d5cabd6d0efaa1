"""alert keys, delivery kinds (invites are deliveries), one spelling of cancelled, the stamp table

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 16:20:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the submodule the columns below name
from alembic import op

import advent.store.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organiser_alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=240), nullable=True))
        batch_op.add_column(sa.Column("day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", advent.store.tables.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_organiser_alert_key"), ["key"], unique=False)

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False, server_default="post"
            )
        )
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch_op.drop_constraint("uq_delivery_once_a_day", type_="unique")
        batch_op.create_unique_constraint("uq_delivery_once", ["subscriber_id", "campaign", "day", "kind"])

    with op.batch_alter_table("delivery_event", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
            type_=sqlmodel.sql.sqltypes.AutoString(length=32),
            existing_nullable=False,
        )

    # Twilio's "canceled" and our "cancelled" meant the same (never handed over, final).
    op.execute("UPDATE delivery SET status = 'cancelled' WHERE status = 'canceled'")

    op.create_table(
        "stamp",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("set_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("stamp")
    with op.batch_alter_table("delivery_event", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
            type_=sqlmodel.sql.sqltypes.AutoString(length=16),
            existing_nullable=False,
        )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("uq_delivery_once", type_="unique")
        batch_op.create_unique_constraint("uq_delivery_once_a_day", ["subscriber_id", "campaign", "day"])
        batch_op.drop_column("body")
        batch_op.drop_column("kind")
    with op.batch_alter_table("organiser_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organiser_alert_key"))
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("subject")
        batch_op.drop_column("day")
        batch_op.drop_column("key")
