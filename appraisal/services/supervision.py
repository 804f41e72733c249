"""What supervision reads, as keyword-only functions: counts over the read model,
the workflows Temporal reports stuck, and the reverse trace of an appraiser (倒查)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import ColumnElement, func, not_
from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from appraisal.db.models import (
    Admission,
    Appraiser,
    Commission,
    CommissionCount,
    Institution,
    IntegrityGrade,
    TrainingCourse,
    TrainingRecord,
)
from appraisal.db.supervision import institution_rates, open_alerts
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.errors import Forbidden, NotFound
from appraisal.domain.roles import Actor, Role
from appraisal.domain.stages import TERMINAL_STAGES, Stage
from appraisal.schemas.commission import (
    AppraiserTrace,
    TraceApplication,
    TraceGrade,
    TraceItem,
    TraceTraining,
)
from appraisal.schemas.supervision import (
    AlertPublic,
    CategoryCounts,
    InstitutionCounts,
    InstitutionRatesPublic,
    OverviewCounts,
    RatePublic,
    StuckWorkflow,
    SupervisionOverview,
)
from appraisal.services import audit
from appraisal.services.commission import scope_filter

STUCK = "TemporalReportedProblems IS NOT NULL"
"""Temporal flags a workflow once several of its workflow tasks in a row (its dynamic config:
two on the dev server the product starts, five by default) failed or timed out, and
clears the flag when one completes: a bug in workflow code, or what its task needs is down."""
STUCK_LISTED_AT_MOST = 100
STUCK_QUERY_TIMEOUT = timedelta(seconds=3)
TEMPORAL_DID_NOT_ANSWER = (RPCError, RuntimeError)
"""What a query of Temporal raises when it is down (a lazy client that never connected: RuntimeError)."""

DUE_WITHIN_DEFAULT = 5
DUE_WITHIN_MAX = 60

Group = tuple[str, str, str]
"""(institution id, category, stage): the finest breakdown the overview needs."""


@dataclass
class _Tally:
    by_stage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Stage, 0))
    overdue: int = 0
    due_soon: int = 0
    escalations_open: int = 0

    def add(self, stage: str, total: int, overdue: int, due_soon: int, escalated: int) -> None:
        self.by_stage[stage] = self.by_stage.get(stage, 0) + total
        self.overdue += overdue
        self.due_soon += due_soon
        self.escalations_open += escalated

    def counts(self) -> dict[str, object]:
        return {
            "total": sum(self.by_stage.values()),
            "open": sum(n for stage, n in self.by_stage.items() if stage not in TERMINAL_STAGES),
            "by_stage": {str(stage): n for stage, n in self.by_stage.items()},
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "escalations_open": self.escalations_open,
        }


async def overview(
    *, session: AsyncSession, principal: Actor, calendar: WorkingCalendar, today: date, due_within: int
) -> SupervisionOverview:
    """Counts of the commissions in the principal's scope by stage, overdue, due
    within `due_within` working days and escalated to the bureau; overall, by
    institution and by category. Nothing here reads every commission: the counts
    come from `commission_count` (a row per court, institution, category, stage,
    overdue and escalated, kept by triggers as commissions change), and "due soon",
    which depends on today, from an index range scan over the running clocks due by
    then; both per (institution, category, stage), then summed up."""
    due_by = calendar.add_working_days(today, due_within).due_on
    overall, institutions, categories = _Tally(), dict[str, _Tally](), dict[str, _Tally]()
    due_soon = await _due_soon(session=session, principal=principal, due_by=due_by)
    for institution_id, category, stage, total, overdue, escalated in await _counted(
        session=session, principal=principal
    ):
        numbers = (total, overdue, due_soon.get((institution_id, category, stage), 0), escalated)
        overall.add(stage, *numbers)
        institutions.setdefault(institution_id, _Tally()).add(stage, *numbers)
        categories.setdefault(category, _Tally()).add(stage, *numbers)
    registered = await _institutions(session=session, principal=principal, seen=set(institutions))
    for institution in registered:
        for registered_category in institution.categories:
            categories.setdefault(registered_category, _Tally())
    names = {i.id: i.name for i in registered}
    rates = await rates_of(session=session, principal=principal) if principal.role == Role.SUPERVISOR else []
    return SupervisionOverview(
        rates=rates,
        today=today,
        due_within=due_within,
        due_by=due_by,
        counts=OverviewCounts.model_validate(overall.counts()),
        by_institution=sorted(
            (
                InstitutionCounts.model_validate(
                    {"institution_id": i, "name": names.get(i, i), **institutions.get(i, _Tally()).counts()}
                )
                for i in set(institutions) | set(names)
            ),
            key=lambda counts: (counts.name, counts.institution_id),
        ),
        by_category=[
            CategoryCounts.model_validate({"category": c, **categories[c].counts()})
            for c in sorted(categories)
        ],
    )


async def rates_of(*, session: AsyncSession, principal: Actor) -> list[InstitutionRatesPublic]:
    """The bureau's institutions' refusal, termination, overdue and complaint rates against the
    province's (SUP-1): from the counts the triggers keep and the complaints, per institution."""
    return [
        InstitutionRatesPublic(
            institution_id=found.institution_id,
            name=found.name,
            commissions=found.commissions,
            rates=[
                RatePublic(
                    metric=r.metric,
                    numerator=r.numerator,
                    denominator=r.denominator,
                    rate=round(r.rate, 4),
                    province_rate=round(r.province_rate, 4),
                    unusual=r.unusual,
                )
                for r in found.rates
            ],
        )
        for found in await institution_rates(session, bureau_id=principal.organisation_id)
    ]


async def alerts(*, session: AsyncSession, principal: Actor) -> list[AlertPublic]:
    """The bureau's open alerts of unusual rates, oldest first (each also a task in its inbox)."""
    return [
        AlertPublic.model_validate(a, from_attributes=True)
        for a in await open_alerts(session, bureau_id=principal.organisation_id)
    ]


def _counts_scope(principal: Actor) -> ColumnElement[bool]:
    """The counts of what `scope_filter` lets the principal see. An appraiser's commissions
    are not counted apart (no route gives them an overview)."""
    org = principal.organisation_id
    match principal.role:
        case Role.COURT | Role.PROCURATORATE | Role.PUBLIC_SECURITY | Role.INVESTIGATIVE_ORGAN:
            return col(CommissionCount.court_id) == org  # its own (not those handed over to it)
        case Role.INSTITUTION | Role.INSTITUTION_HEAD:
            return col(CommissionCount.institution_id) == org
        case Role.SUPERVISOR:
            return col(CommissionCount.institution_id).in_(
                select(Institution.id).where(Institution.bureau_id == org)
            )
    raise Forbidden(f"no overview is counted for the role {principal.role}")


async def _counted(
    *, session: AsyncSession, principal: Actor
) -> Sequence[tuple[str, str, str, int, int, int]]:
    """Per group: commissions, overdue ones, escalated ones, summed over courts (and
    their flags) from `commission_count`. Six columns: more than sqlmodel's select()
    and exec() type, so SQLAlchemy's own, on the session's connection (its transaction)."""
    group = (
        col(CommissionCount.institution_id),
        col(CommissionCount.category),
        col(CommissionCount.stage),
    )
    commissions = col(CommissionCount.commissions)
    query = (
        select_columns(
            *group,
            func.sum(commissions),
            func.coalesce(func.sum(commissions).filter(col(CommissionCount.overdue)), 0),
            func.coalesce(func.sum(commissions).filter(col(CommissionCount.escalated)), 0),
        )
        .where(_counts_scope(principal))
        .group_by(*group)
        .having(func.sum(commissions) > 0)
    )
    return (await (await session.connection()).execute(query)).all()


async def _due_soon(*, session: AsyncSession, principal: Actor, due_by: date) -> dict[Group, int]:
    """Per group: the commissions not overdue whose next deadline is by `due_by`, read from
    the partial index of running, not overdue clocks by deadline (only those due by then)."""
    group = (col(Commission.institution_id), col(Commission.category), col(Commission.stage))
    rows = (
        await session.exec(
            select(*group, func.count())
            .where(
                scope_filter(principal), not_(col(Commission.overdue)), col(Commission.next_due_on) <= due_by
            )
            .group_by(*group)
        )
    ).all()
    return {(institution_id, category, stage): n for institution_id, category, stage, n in rows}


async def _institutions(*, session: AsyncSession, principal: Actor, seen: set[str]) -> list[Institution]:
    """A supervisor's whole bureau (an institution with nothing entrusted shows as
    zero); for anyone else, the institutions their commissions went to."""
    condition = (
        col(Institution.bureau_id) == principal.organisation_id
        if principal.role == Role.SUPERVISOR
        else col(Institution.id).in_(seen)
    )
    return list((await session.exec(select(Institution).where(condition))).all())


async def appraiser_trace(*, session: AsyncSession, principal: Actor, appraiser_id: str) -> AppraiserTrace:
    """Reverse trace (倒查) of one appraiser under the supervisor's bureau (else
    404), in time order, each item saying whether its commission's chain
    verifies through it."""
    found = (
        await session.exec(
            select(Appraiser)
            .join(Institution, col(Institution.id) == col(Appraiser.institution_id))
            .where(Appraiser.id == appraiser_id, Institution.bureau_id == principal.organisation_id)
        )
    ).first()
    if found is None:
        raise NotFound("appraiser")
    verdicts: dict[str, audit.ChainVerdict] = {}
    items: list[TraceItem] = []
    for event, commission in await audit.trace_appraiser(session=session, appraiser_id=appraiser_id):
        verdict = verdicts.get(commission.id)
        if verdict is None:
            verdict = verdicts[commission.id] = await audit.verify_commission(
                session=session, commission=commission
            )
        details = {k: v for k, v in event.data.items() if k not in ("content", "signature")}
        items.append(
            TraceItem(
                at=event.occurred_at,
                kind=event.kind,
                commission_id=commission.id,
                court_reference=commission.court_reference,
                seq=event.seq,
                actor_role=event.actor_role,
                actor_organisation_id=event.actor_organisation_id,
                details=details,
                audit_event=f"/v1/commissions/{commission.id}/audit#seq-{event.seq}",
                verified=verdict.ok or (verdict.broken_at is not None and event.seq < verdict.broken_at),
            )
        )
    grades = (
        await session.exec(
            select(IntegrityGrade)
            .where(IntegrityGrade.subject_kind == "appraiser", IntegrityGrade.subject_id == found.id)
            .order_by(col(IntegrityGrade.year))
        )
    ).all()
    training = (
        await session.exec(
            select(TrainingRecord, TrainingCourse)
            .join(TrainingCourse, col(TrainingCourse.id) == col(TrainingRecord.course_id))
            .where(TrainingRecord.appraiser_id == found.id)
            .order_by(col(TrainingCourse.ends_on).desc())
        )
    ).all()
    applications = (
        await session.exec(
            select(Admission).where(Admission.entity_id == found.id).order_by(col(Admission.created_at))
        )
    ).all()
    return AppraiserTrace(
        appraiser_id=found.id,
        name=found.name,
        institution_id=found.institution_id,
        items=items,
        needs_pre_service_training=found.needs_pre_service_training,
        grades=[
            TraceGrade(
                year=g.year, evaluation_id=g.evaluation_id, score=g.score, grade=g.grade, status=g.status
            )
            for g in grades
        ],
        training=[
            TraceTraining(
                course_id=c.id,
                title=c.title,
                kind=c.kind,
                ends_on=c.ends_on,
                hours=r.hours,
                completed=r.completed,
            )
            for r, c in training
        ],
        applications=[
            TraceApplication(
                admission_id=a.id,
                reference=a.reference,
                kind=a.kind,
                stage=a.stage,
                licence_number=(a.snapshot.get("decision") or {}).get("licence_number"),
            )
            for a in applications
        ],
    )


async def stuck_workflows(
    *, session: AsyncSession, client: Client, principal: Actor
) -> list[StuckWorkflow] | None:
    """The commissions in the principal's scope whose workflow Temporal reports stuck, or
    None when Temporal does not answer."""
    try:
        flagged = {
            execution.id: execution
            async for execution in client.list_workflows(
                STUCK, limit=STUCK_LISTED_AT_MOST, rpc_timeout=STUCK_QUERY_TIMEOUT
            )
        }
    except TEMPORAL_DID_NOT_ANSWER:
        return None
    if not flagged:
        return []
    rows = (
        await session.exec(
            select(Commission)
            .where(col(Commission.workflow_id).in_(flagged), scope_filter(principal))
            .order_by(col(Commission.workflow_id))
        )
    ).all()
    return [
        StuckWorkflow(
            commission_id=row.id,
            workflow_id=row.workflow_id,
            court_reference=row.court_reference,
            institution_id=row.institution_id,
            stage=row.stage,
            problems=[
                str(p) for p in flagged[row.workflow_id].search_attributes.get("TemporalReportedProblems", [])
            ],
        )
        for row in rows
    ]
