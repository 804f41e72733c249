"""the sealed report: licence numbers, seal certificates, document numbers, sealed PDFs

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTITUTION_TEXT = {"licence_number": 40, "short_name": 40, "address": 200, "phone": 40}


def upgrade() -> None:
    for name, length in INSTITUTION_TEXT.items():
        op.add_column(
            "institution", sa.Column(name, sa.String(length=length), nullable=False, server_default="")
        )
    op.add_column(
        "appraiser", sa.Column("licence_number", sa.String(length=40), nullable=False, server_default="")
    )
    op.create_table(
        "seal_certificate",
        sa.Column("serial", sa.String(length=40), primary_key=True),
        sa.Column("institution_id", sa.String(length=36), sa.ForeignKey("institution.id"), nullable=False),
        sa.Column("subject", sa.String(length=400), nullable=False),
        sa.Column("certificate_pem", sa.String(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=30), nullable=False),
    )
    op.create_index("ix_seal_certificate_institution_id", "seal_certificate", ["institution_id"])
    op.create_table(
        "report_number",
        sa.Column("commission_id", sa.String(length=36), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("institution_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("document_number", sa.String(length=120), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("institution_id", "year", "serial"),
    )
    op.create_table(
        "sealed_report",
        sa.Column("commission_id", sa.String(length=36), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("document_number", sa.String(length=120), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("seal_serial", sa.String(length=40), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sealed_report")
    op.drop_table("report_number")
    op.drop_index("ix_seal_certificate_institution_id", table_name="seal_certificate")
    op.drop_table("seal_certificate")
    op.drop_column("appraiser", "licence_number")
    for name in INSTITUTION_TEXT:
        op.drop_column("institution", name)
