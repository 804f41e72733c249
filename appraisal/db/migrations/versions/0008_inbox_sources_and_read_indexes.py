"""inbox tasks of complaints and licences; indexes for the inbox, overview, metrics

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("task", "commission_id", existing_type=sa.String(length=36), nullable=True)
    op.add_column("task", sa.Column("complaint_id", sa.String(length=36), nullable=True))
    op.add_column("task", sa.Column("licence_task_id", sa.Integer(), nullable=True))
    op.create_foreign_key("task_complaint_id_fkey", "task", "complaint", ["complaint_id"], ["id"])
    op.create_foreign_key("task_licence_task_id_fkey", "task", "licence_task", ["licence_task_id"], ["id"])
    op.create_index("ix_task_complaint_id", "task", ["complaint_id"])
    op.create_index("ix_task_licence_task_id", "task", ["licence_task_id"])
    op.create_check_constraint(
        "ck_task_one_source", "task", "num_nonnulls(commission_id, complaint_id, licence_task_id) = 1"
    )
    op.drop_index("ix_task_assignee", table_name="task")
    op.create_index(
        "ix_task_inbox",
        "task",
        ["assignee_role", "assignee_id", sa.text("coalesce(due_on, 'infinity'::date)"), "id"],
    )
    op.create_index(
        "ix_commission_overview",
        "commission",
        ["institution_id", "category", "stage"],
        postgresql_include=["overdue", "next_due_on"],
    )
    op.create_index(
        "ix_audit_event_escalation",
        "audit_event",
        [sa.text("(data ->> 'rule')")],
        postgresql_where=sa.text("kind = 'clock.escalation'"),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_event_escalation", table_name="audit_event")
    op.drop_index("ix_commission_overview", table_name="commission")
    op.drop_index("ix_task_inbox", table_name="task")
    op.create_index("ix_task_assignee", "task", ["assignee_role", "assignee_id", "due_on"])
    op.drop_constraint("ck_task_one_source", "task", type_="check")
    op.drop_index("ix_task_licence_task_id", table_name="task")
    op.drop_index("ix_task_complaint_id", table_name="task")
    op.drop_constraint("task_licence_task_id_fkey", "task", type_="foreignkey")
    op.drop_constraint("task_complaint_id_fkey", "task", type_="foreignkey")
    op.execute("delete from task where commission_id is null")
    op.drop_column("task", "licence_task_id")
    op.drop_column("task", "complaint_id")
    op.alter_column("task", "commission_id", existing_type=sa.String(length=36), nullable=False)
