"""commission lists in keyset order; counts kept by triggers for the supervision overview

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE_ORDER = "coalesce(next_due_on, 'infinity'::date)"
KEY = "institution_id, court_id, category, stage, overdue, escalated"


def _add(changes: str) -> str:
    """Adds each group's net change (`changes`: the key and a delta per row) to its count,
    groups in key order: two transactions moving commissions between the same groups
    then lock their counts in the same order and never deadlock."""
    return f"""
        insert into commission_count as counted ({KEY}, commissions)
        select {KEY}, sum(delta) from ({changes}) as change
        group by {KEY} having sum(delta) <> 0 order by {KEY}
        on conflict ({KEY}) do update set commissions = counted.commissions + excluded.commissions;"""


# Once per statement, over its transition tables: a projection's upsert costs one
# lookup, a bulk load one GROUP BY.
APPLY = f"""
create function commission_count_apply() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        {_add(f"select {KEY}, 1 as delta from new_rows")}
    elsif tg_op = 'UPDATE' then
        {_add(f"select {KEY}, 1 as delta from new_rows union all select {KEY}, -1 from old_rows")}
    elsif tg_op = 'DELETE' then
        {_add(f"select {KEY}, -1 as delta from old_rows")}
    else
        delete from commission_count;
    end if;
    return null;
end
$$"""

TRIGGERS = {
    "commission_count_insert": "after insert on commission referencing new table as new_rows",
    "commission_count_update": "after update on commission referencing old table as old_rows"
    " new table as new_rows",
    "commission_count_delete": "after delete on commission referencing old table as old_rows",
    "commission_count_truncate": "after truncate on commission",
}


def upgrade() -> None:
    # ADD COLUMN locks the table until the end: nothing changes between the backfills and the triggers.
    op.add_column(
        "commission", sa.Column("escalated", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute(
        "update commission set escalated = true where id in (select commission_id from task"
        " where assignee_role = 'supervisor' and kind = 'overdue_escalation')"
    )
    op.alter_column("commission", "escalated", server_default=None)

    # Replaced by the keyset indexes below; the overview reads commission_count instead.
    for old in (
        "ix_commission_overview",
        "ix_commission_next_due_on",
        "ix_commission_institution_id",
        "ix_commission_court_id",
    ):
        op.drop_index(old, table_name="commission")
    op.create_index("ix_commission_due_order", "commission", [sa.text(DUE_ORDER), "id"])
    op.create_index(
        "ix_commission_institution_due_order", "commission", ["institution_id", sa.text(DUE_ORDER), "id"]
    )
    op.create_index("ix_commission_court_due_order", "commission", ["court_id", sa.text(DUE_ORDER), "id"])
    op.create_index(
        "ix_commission_due_soon",
        "commission",
        ["next_due_on"],
        postgresql_include=["institution_id", "court_id", "category", "stage"],
        postgresql_where=sa.text("not overdue and next_due_on is not null"),
    )

    op.create_table(
        "commission_count",
        sa.Column("institution_id", sa.String(length=36), nullable=False),
        sa.Column("court_id", sa.String(length=36), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("commissions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY.split(", ")),
    )
    op.execute(
        f"insert into commission_count ({KEY}, commissions)"
        f" select {KEY}, count(*) from commission group by {KEY}"
    )
    op.execute(APPLY)
    for name, when in TRIGGERS.items():
        op.execute(f"create trigger {name} {when} for each statement execute function commission_count_apply()")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"drop trigger {name} on commission")
    op.execute("drop function commission_count_apply()")
    op.drop_table("commission_count")
    for new in (
        "ix_commission_due_soon",
        "ix_commission_court_due_order",
        "ix_commission_institution_due_order",
        "ix_commission_due_order",
    ):
        op.drop_index(new, table_name="commission")
    op.create_index("ix_commission_court_id", "commission", ["court_id"])
    op.create_index("ix_commission_institution_id", "commission", ["institution_id"])
    op.create_index("ix_commission_next_due_on", "commission", ["next_due_on"])
    op.create_index(
        "ix_commission_overview",
        "commission",
        ["institution_id", "category", "stage"],
        postgresql_include=["overdue", "next_due_on"],
    )
    op.drop_column("commission", "escalated")
