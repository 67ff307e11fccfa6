"""handled_requests: ids of requests already handled, so a replayed signed command does nothing

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled_requests",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handled_requests_handled_at", "handled_requests", ["handled_at"])


def downgrade() -> None:
    op.drop_index("ix_handled_requests_handled_at", table_name="handled_requests")
    op.drop_table("handled_requests")
