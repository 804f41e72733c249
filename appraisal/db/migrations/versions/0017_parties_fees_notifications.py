"""the parties of a commission as principals, the random draw they watch, the charging
standard of fees, and notifications by e-mail or SMS beside webhooks

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-20 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commission_party",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("commission_id", sa.String(length=36), nullable=True),
        sa.Column("draw_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("side", sa.String(length=30), nullable=False),
        sa.Column("registered_by_role", sa.String(length=30), nullable=False),
        sa.Column("registered_by_organ_id", sa.String(length=36), nullable=False),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("link_hash", sa.String(length=64), nullable=True, unique=True),
        sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_commission_party_commission_id", "commission_party", ["commission_id"])
    op.create_index("ix_commission_party_draw_id", "commission_party", ["draw_id"])
    op.create_index(
        "ix_commission_party_registered_by_organ_id", "commission_party", ["registered_by_organ_id"]
    )
    op.create_table(
        "selection_draw",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("court_id", sa.String(length=36), nullable=False),
        sa.Column("court_role", sa.String(length=30), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("body", postgresql.JSONB(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("status", sa.String(length=20), nullable=False, server_default="scheduled"),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drawn_by", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("commission_id", sa.String(length=36), nullable=True),
        sa.UniqueConstraint("court_id", "reference"),
    )
    op.create_index("ix_selection_draw_court_id", "selection_draw", ["court_id"])
    op.create_table(
        "fee_standard",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("bureau_id", sa.String(length=36), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("matter", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("ceiling_fen", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False, server_default="per_matter"),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_fee_standard_bureau_id", "fee_standard", ["bureau_id"])
    # One standard in force per (bureau, category, matter): what a quote is checked against.
    op.create_index(
        "ux_fee_standard_in_force",
        "fee_standard",
        ["bureau_id", "category", "matter"],
        unique=True,
        postgresql_where=sa.text("superseded_at is null"),
    )
    op.create_table(
        "notification_contact",
        sa.Column("organisation_id", sa.String(length=36), primary_key=True),
        sa.Column("email", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("phone", sa.String(length=30), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Additive: every notification so far went (or waits) to a webhook, or had no endpoint.
    op.add_column("notification", sa.Column("channel", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("notification", "channel")
    op.drop_table("notification_contact")
    op.drop_index("ux_fee_standard_in_force", table_name="fee_standard")
    op.drop_index("ix_fee_standard_bureau_id", table_name="fee_standard")
    op.drop_table("fee_standard")
    op.drop_index("ix_selection_draw_court_id", table_name="selection_draw")
    op.drop_table("selection_draw")
    op.drop_index("ix_commission_party_registered_by_organ_id", table_name="commission_party")
    op.drop_index("ix_commission_party_draw_id", table_name="commission_party")
    op.drop_index("ix_commission_party_commission_id", table_name="commission_party")
    op.drop_table("commission_party")
