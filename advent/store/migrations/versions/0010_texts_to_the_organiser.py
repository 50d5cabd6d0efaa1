"""delivery: ref, so the organiser's own texts (one per alert) share the delivery engine

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref", sa.String(length=80), nullable=False, server_default=""))
        batch_op.drop_constraint("uq_delivery_once", type_="unique")
        batch_op.create_unique_constraint(
            "uq_delivery_once", ["subscriber_id", "campaign", "day", "kind", "ref"]
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("uq_delivery_once", type_="unique")
        batch_op.create_unique_constraint("uq_delivery_once", ["subscriber_id", "campaign", "day", "kind"])
        batch_op.drop_column("ref")
