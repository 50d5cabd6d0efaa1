"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 13:56:56.340746
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the submodule the columns below name
from alembic import op

import advent.store.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "day_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("due_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.Column("started_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.Column("finished_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign", "day", name="uq_day_run"),
    )
    op.create_table(
        "organiser_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.Column("seen_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("beat_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.Column("expires_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("profile_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("created_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.Column("joined_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.Column("stopped_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.Column("invited_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.Column("last_inbound_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone", "channel", "campaign", name="uq_subscriber_number"),
    )
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriber_campaign"), ["campaign"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriber_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriber_status"), ["status"], unique=False)

    op.create_table(
        "consent_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("text_received", sa.Text(), nullable=True),
        sa.Column("message_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("confirmation_sent", sa.Text(), nullable=True),
        sa.Column("created_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_event_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_event_subscriber_id"), ["subscriber_id"], unique=False)

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("claimed_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.Column("provider_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("error_reason", sa.Text(), nullable=True),
        sa.Column("used_template", sa.Boolean(), nullable=False),
        sa.Column("created_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.Column("updated_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.Column("handed_over_at", advent.store.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_sid"),
        sa.UniqueConstraint("subscriber_id", "campaign", "day", name="uq_delivery_once_a_day"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_campaign_day_status", ["campaign", "day", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_subscriber_id"), ["subscriber_id"], unique=False)

    op.create_table(
        "inbound_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("to", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("num_media", sa.Integer(), nullable=False),
        sa.Column("profile_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("campaign", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("in_reply_to_day", sa.Date(), nullable=True),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("received_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_sid"),
    )
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_message_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_message_subscriber_id"), ["subscriber_id"], unique=False)

    op.create_table(
        "delivery_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("provider_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("idempotency_token", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("received_at", advent.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["delivery.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_token"),
    )
    with op.batch_alter_table("delivery_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_event_delivery_id"), ["delivery_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_event_provider_sid"), ["provider_sid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_event_provider_sid"))
        batch_op.drop_index(batch_op.f("ix_delivery_event_delivery_id"))

    op.drop_table("delivery_event")
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_message_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_inbound_message_phone"))

    op.drop_table("inbound_message")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_subscriber_id"))
        batch_op.drop_index("ix_delivery_campaign_day_status")

    op.drop_table("delivery")
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_event_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_consent_event_phone"))

    op.drop_table("consent_event")
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriber_status"))
        batch_op.drop_index(batch_op.f("ix_subscriber_phone"))
        batch_op.drop_index(batch_op.f("ix_subscriber_campaign"))

    op.drop_table("subscriber")
    op.drop_table("scheduler_lease")
    op.drop_table("organiser_alert")
    op.drop_table("day_run")
