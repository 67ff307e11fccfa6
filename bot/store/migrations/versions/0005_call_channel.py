"""breakouts.call_channel_id: the call's voice channel, kept so a restarted bot still moves people back

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("breakouts") as batch:
        batch.add_column(sa.Column("call_channel_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("breakouts") as batch:
        batch.drop_column("call_channel_id")
