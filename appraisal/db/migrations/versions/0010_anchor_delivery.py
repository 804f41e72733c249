"""each court's copy of the daily audit anchor, as delivered to its webhook

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anchor_delivery",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("court_id", sa.String(length=36), nullable=False),
        sa.Column("chains", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("day", "court_id"),
    )


def downgrade() -> None:
    op.drop_table("anchor_delivery")
