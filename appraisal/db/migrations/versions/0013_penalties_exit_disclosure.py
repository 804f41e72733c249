"""administrative penalty cases and their published decisions, the registry's exit notices
(the outbox of the fan-out to running commissions), supervision alerts, inspection results,
and the inbox rows of penalty cases and alerts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "penalty_case",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("workflow_id", sa.String(length=100), nullable=False, unique=True),
        sa.Column("bureau_id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("institution_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=True),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("snapshot", postgresql.JSONB(), nullable=False),
        sa.Column("last_event_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("bureau_id", "reference"),
    )
    for column in ("bureau_id", "subject_id", "institution_id", "source_id", "stage"):
        op.create_index(f"ix_penalty_case_{column}", "penalty_case", [column])

    op.create_table(
        "penalty_publication",
        sa.Column("case_id", sa.String(length=36), primary_key=True),
        sa.Column("bureau_id", sa.String(length=36), nullable=False),
        sa.Column("decision_number", sa.String(length=200), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("institution_id", sa.String(length=36), nullable=False),
        sa.Column("institution_name", sa.String(length=200), nullable=False),
        sa.Column("penalties", postgresql.ARRAY(sa.String()), nullable=False),
        sa.Column("suspension_months", sa.Integer(), nullable=False),
        sa.Column("suspended_until", sa.Date(), nullable=True),
        sa.Column("fine_yuan", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=1000), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=False),
    )

    op.create_table(
        "registry_exit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("bureau_id", sa.String(length=36), nullable=False),
        sa.Column("entity_kind", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("institution_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=4000), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True, unique=True),
        sa.Column("actor_role", sa.String(length=30), nullable=False),
        sa.Column("actor_organisation_id", sa.String(length=36), nullable=False),
        sa.Column("actor_subject", sa.String(length=200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("signalled", sa.Integer(), nullable=False),
    )
    op.create_index("ix_registry_exit_bureau_id", "registry_exit", ["bureau_id"])
    op.create_index("ix_registry_exit_entity_id", "registry_exit", ["entity_id"])
    op.create_index(
        "ix_registry_exit_unstarted", "registry_exit", ["id"], postgresql_where=sa.text("started_at is null")
    )

    op.create_table(
        "supervision_alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("bureau_id", sa.String(length=36), nullable=False),
        sa.Column("institution_id", sa.String(length=36), nullable=False),
        sa.Column("metric", sa.String(length=30), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("province_rate", sa.Float(), nullable=False),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("closed_reason", sa.String(length=500), nullable=False),
    )
    op.create_index("ix_supervision_alert_bureau_id", "supervision_alert", ["bureau_id"])
    op.create_index(
        "ux_supervision_alert_open",
        "supervision_alert",
        ["institution_id", "metric"],
        unique=True,
        postgresql_where=sa.text("closed_at is null"),
    )

    op.add_column("inspection", sa.Column("closed_at", TIMESTAMP, nullable=True))
    op.add_column("inspection", sa.Column("closed_by", sa.String(length=200), nullable=False, server_default=""))
    op.add_column(
        "inspection",
        sa.Column("results", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
    )

    op.add_column("task", sa.Column("penalty_case_id", sa.String(length=36), nullable=True))
    op.add_column("task", sa.Column("alert_id", sa.Integer(), nullable=True))
    op.create_foreign_key("task_penalty_case_id_fkey", "task", "penalty_case", ["penalty_case_id"], ["id"])
    op.create_foreign_key("task_alert_id_fkey", "task", "supervision_alert", ["alert_id"], ["id"])
    op.create_index("ix_task_penalty_case_id", "task", ["penalty_case_id"])
    op.create_index("ix_task_alert_id", "task", ["alert_id"])
    op.drop_constraint("ck_task_one_source", "task", type_="check")
    op.create_check_constraint(
        "ck_task_one_source",
        "task",
        "num_nonnulls(commission_id, complaint_id, licence_task_id, penalty_case_id, alert_id) = 1",
    )


def downgrade() -> None:
    op.execute("delete from task where penalty_case_id is not null or alert_id is not null")
    op.drop_constraint("ck_task_one_source", "task", type_="check")
    op.create_check_constraint(
        "ck_task_one_source", "task", "num_nonnulls(commission_id, complaint_id, licence_task_id) = 1"
    )
    op.drop_index("ix_task_alert_id", table_name="task")
    op.drop_index("ix_task_penalty_case_id", table_name="task")
    op.drop_constraint("task_alert_id_fkey", "task", type_="foreignkey")
    op.drop_constraint("task_penalty_case_id_fkey", "task", type_="foreignkey")
    op.drop_column("task", "alert_id")
    op.drop_column("task", "penalty_case_id")
    op.drop_column("inspection", "results")
    op.drop_column("inspection", "closed_by")
    op.drop_column("inspection", "closed_at")
    op.drop_table("supervision_alert")
    op.drop_table("registry_exit")
    op.drop_table("penalty_publication")
    op.drop_table("penalty_case")
