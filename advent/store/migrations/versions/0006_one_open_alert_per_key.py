"""organiser_alert: at most one open alert per key, kept by a partial unique index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 18:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Two processes could each raise the same alert before this index existed: keep the oldest
    # open one of each key and close the others at the moment the newer one was raised.
    op.execute(
        """
        UPDATE organiser_alert SET resolved_at = created_at
        WHERE resolved_at IS NULL AND key IS NOT NULL AND id NOT IN (
            SELECT MIN(id) FROM organiser_alert WHERE resolved_at IS NULL AND key IS NOT NULL GROUP BY key
        )
        """
    )
    with op.batch_alter_table("organiser_alert", schema=None) as batch_op:
        batch_op.create_index(
            "uq_organiser_alert_open_key",
            ["key"],
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("organiser_alert", schema=None) as batch_op:
        batch_op.drop_index("uq_organiser_alert_open_key")
