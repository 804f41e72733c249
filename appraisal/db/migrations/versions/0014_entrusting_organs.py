"""every entrusting organ, not only courts: procuratorates and investigative organs,
the institution an investigative organ set up, and the hand-over of a case's record

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entrusting_organ",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("bureau_id", sa.String(length=36), sa.ForeignKey("bureau.id"), nullable=False),
    )
    op.create_index("ix_entrusting_organ_bureau_id", "entrusting_organ", ["bureau_id"])
    # Additive: every institution registered so far was set up by nobody in particular (ENT-3).
    op.add_column(
        "institution",
        sa.Column(
            "founded_by_organ_id", sa.String(length=36), sa.ForeignKey("entrusting_organ.id"), nullable=True
        ),
    )
    op.create_table(
        "case_transfer",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("from_organ_id", sa.String(length=36), nullable=False),
        sa.Column("from_role", sa.String(length=30), nullable=False),
        sa.Column("from_case_number", sa.String(length=200), nullable=False),
        sa.Column("to_organ_id", sa.String(length=36), nullable=False),
        sa.Column("to_role", sa.String(length=30), nullable=False),
        sa.Column("to_case_number", sa.String(length=200), nullable=False),
        sa.Column("transferred_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=4000), nullable=False, server_default=""),
        sa.Column("by_subject", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commission_ids", postgresql.ARRAY(sa.String()), nullable=False),
        sa.UniqueConstraint("from_organ_id", "from_case_number", "to_organ_id"),
    )
    op.create_index("ix_case_transfer_from_organ_id", "case_transfer", ["from_organ_id"])
    op.create_index("ix_case_transfer_to_organ_id", "case_transfer", ["to_organ_id"])
    # A case's commissions at one organ, for the case across organs and its hand-over.
    op.create_index("ix_commission_court_case", "commission", ["court_id", "case_number"])


def downgrade() -> None:
    op.drop_index("ix_commission_court_case", table_name="commission")
    op.drop_index("ix_case_transfer_to_organ_id", table_name="case_transfer")
    op.drop_index("ix_case_transfer_from_organ_id", table_name="case_transfer")
    op.drop_table("case_transfer")
    op.drop_column("institution", "founded_by_organ_id")
    op.drop_index("ix_entrusting_organ_bureau_id", table_name="entrusting_organ")
    op.drop_table("entrusting_organ")
