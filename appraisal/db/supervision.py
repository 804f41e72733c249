"""The per-institution counts supervision analytics compare with the province (domain/rates):
from `commission_count` (kept by triggers, so nothing reads every commission) and the
complaints; shared by the overview (services) and the daily alert sweep (activities)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, text
from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Bureau, CommissionCount, Complaint, Institution, SupervisionAlert
from appraisal.domain.rates import METRICS, Rate


@dataclass
class InstitutionRates:
    institution_id: str
    name: str
    commissions: int
    rates: list[Rate] = field(default_factory=list)


async def institution_rates(session: AsyncSession, *, bureau_id: str) -> list[InstitutionRates]:
    """Each institution of the bureau, with its rate of each metric and the province's."""
    institutions = (
        await session.exec(
            select(Institution).where(Institution.bureau_id == bureau_id).order_by(col(Institution.name))
        )
    ).all()
    ids = [i.id for i in institutions]
    commissions = col(CommissionCount.commissions)
    stage = col(CommissionCount.stage)
    counted = (
        await (await session.connection()).execute(
            select_columns(
                col(CommissionCount.institution_id),
                func.sum(commissions),
                func.coalesce(func.sum(commissions).filter(stage == "refused"), 0),
                func.coalesce(func.sum(commissions).filter(stage == "terminated"), 0),
                func.coalesce(func.sum(commissions).filter(col(CommissionCount.overdue)), 0),
            )
            .where(col(CommissionCount.institution_id).in_(ids))
            .group_by(col(CommissionCount.institution_id))
        )
    ).all()
    numbers: dict[str, dict[str, int]] = {
        i: {
            "commissions": int(total),
            "refusal": int(refused),
            "termination": int(terminated),
            "overdue": int(overdue),
        }
        for i, total, refused, terminated, overdue in counted
    }
    complaints = (
        await session.exec(
            select(Complaint.institution_id, func.count())
            .where(col(Complaint.institution_id).in_(ids))
            .group_by(col(Complaint.institution_id))
        )
    ).all()
    for institution_id, count in complaints:
        numbers.setdefault(institution_id, {})["complaint"] = int(count)
    province = {m: sum(n.get(m, 0) for n in numbers.values()) for m in (*METRICS, "commissions")}
    found = []
    for institution in institutions:
        own = numbers.get(institution.id, {})
        total = own.get("commissions", 0)
        found.append(
            InstitutionRates(
                institution_id=institution.id,
                name=institution.name,
                commissions=total,
                rates=[
                    Rate(metric, own.get(metric, 0), total, province[metric], province["commissions"])
                    for metric in METRICS
                ],
            )
        )
    return found


async def sync_alerts(session: AsyncSession, *, bureau_id: str) -> tuple[int, int]:
    """Opens an alert (and a bureau task) for each unusual rate not yet alerted, and closes the
    open alerts whose rate is usual again; idempotent. Returns (opened, closed). The caller commits."""
    now = datetime.now(UTC)
    opened = closed = 0
    unusual: dict[tuple[str, str], Rate] = {}
    for institution in await institution_rates(session, bureau_id=bureau_id):
        for rate in institution.rates:
            if rate.unusual:
                unusual[(institution.institution_id, rate.metric)] = rate
    open_alerts = (
        await session.exec(
            select(SupervisionAlert).where(
                SupervisionAlert.bureau_id == bureau_id, col(SupervisionAlert.closed_at).is_(None)
            )
        )
    ).all()
    for alert in open_alerts:
        key = (alert.institution_id, alert.metric)
        if key in unusual:
            rate = unusual.pop(key)
            alert.rate, alert.province_rate = rate.rate, rate.province_rate
            alert.numerator, alert.denominator = rate.numerator, rate.denominator
        else:
            alert.closed_at, alert.closed_reason = now, "the rate is usual again"
            closed += 1
        session.add(alert)
    for (institution_id, metric), rate in unusual.items():
        session.add(
            SupervisionAlert(
                bureau_id=bureau_id,
                institution_id=institution_id,
                metric=metric,
                rate=rate.rate,
                province_rate=rate.province_rate,
                numerator=rate.numerator,
                denominator=rate.denominator,
                opened_at=now,
            )
        )
        opened += 1
    await session.flush()
    connection = await session.connection()
    await connection.execute(
        text(
            "delete from task where alert_id in (select id from supervision_alert where closed_at is not null)"
        )
    )
    await connection.execute(
        text(
            """
            insert into task (alert_id, kind, assignee_role, assignee_id, due_on, rule)
            select a.id, 'review_unusual_rate', 'supervisor', a.bureau_id, null, 'SUP-1'
            from supervision_alert a
            where a.closed_at is null and not exists (select 1 from task t where t.alert_id = a.id)
            """
        )
    )
    return opened, closed


async def open_alerts(session: AsyncSession, *, bureau_id: str) -> list[SupervisionAlert]:
    return list(
        (
            await session.exec(
                select(SupervisionAlert)
                .where(SupervisionAlert.bureau_id == bureau_id, col(SupervisionAlert.closed_at).is_(None))
                .order_by(col(SupervisionAlert.opened_at), col(SupervisionAlert.id))
            )
        ).all()
    )


async def bureau_ids(session: AsyncSession) -> list[str]:
    return list((await session.exec(select(Bureau.id).order_by(col(Bureau.id)))).all())
