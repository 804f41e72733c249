"""What the commission routes do, as keyword-only functions: authorise,
build the message, send it to the workflow, or read the read model."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Date,
    String,
    case,
    false,
    func,
    literal,
    literal_column,
    or_,
    tuple_,
)
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from appraisal.core.signing import signed_message, verify
from appraisal.db.models import (
    Admission,
    Appraiser,
    AppraiserKey,
    AuditEventRow,
    Commission,
    Complaint,
    Institution,
    IntegrityEvaluation,
    LicenceTask,
    Task,
    TrainingTask,
)
from appraisal.db.registry import eligible
from appraisal.domain.admission import CLOSED_TO_OUTSIDE_COMMISSIONS
from appraisal.domain.calendar import WorkingCalendar
from appraisal.domain.commission import (
    CommissionInput,
    CommissionSnapshot,
    EligibleAppraiser,
    Material,
    ReassignmentRequest,
    RegistrationRequest,
    random_pick,
)
from appraisal.domain.errors import InvalidInput, NotFound, RuleViolation
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import Actor, Role
from appraisal.domain.stages import TERMINAL_STAGES, Stage
from appraisal.domain.standing import standing
from appraisal.schemas.commission import (
    AuditEventPublic,
    CommissionPublic,
    EntrustmentCreate,
    InboxTask,
    ReentrustmentCreate,
    Selection,
    SignatureCreate,
)
from appraisal.services.starting import start_once
from appraisal.workflows.commission import CommissionWorkflow, workflow_id_for

COMMISSION_NAMESPACE = uuid.UUID("6f1d3c2a-4b7e-5d8f-9a0b-1c2d3e4f5a6b")
MAX_LINEAGE = 20
"""Re-appraisals of re-appraisals: a bound, so a corrupt link cannot loop forever."""


def commission_id_for(*, court_id: str, court_reference: str) -> str:
    """Deterministic, so a repeated court reference finds the same workflow."""
    return str(uuid.uuid5(COMMISSION_NAMESPACE, f"{court_id}\n{court_reference}"))


def _bureau_institutions(bureau_id: str) -> Any:
    return select(Institution.id).where(Institution.bureau_id == bureau_id)


def scope_filter(principal: Actor) -> ColumnElement[bool]:
    """The commissions a principal may see (API.md: courts their own,
    institutions theirs, appraisers where assigned, supervisors their bureau's)."""
    org = principal.organisation_id
    match principal.role:
        case Role.COURT:
            return col(Commission.court_id) == org
        case Role.INSTITUTION | Role.INSTITUTION_HEAD:
            return col(Commission.institution_id) == org
        case Role.APPRAISER:
            return col(Commission.appraiser_ids).contains([org])
        case Role.SUPERVISOR:
            return col(Commission.institution_id).in_(_bureau_institutions(org))
    return false()


async def load_in_scope(*, session: AsyncSession, principal: Actor, commission_id: str) -> Commission:
    row = (
        await session.exec(select(Commission).where(Commission.id == commission_id, scope_filter(principal)))
    ).first()
    if row is None:
        raise NotFound()
    return row


def _received_on(body: EntrustmentCreate, today: date, paper_history_days: int) -> date:
    received = body.received_on or today
    if received > today:
        raise InvalidInput("received_on", f"{received} is in the future")
    if received < today - timedelta(days=paper_history_days):
        raise InvalidInput("received_on", f"{received} is more than {paper_history_days} days ago")
    return received


async def _choose_institution(
    *, session: AsyncSession, body: EntrustmentCreate, today: date
) -> tuple[Institution, str, list[str]]:
    """Only an institution the registry allows today (active, licence valid) is
    drawn or accepted; a random draw also leaves out those the court excludes."""
    selection = body.selection
    if selection.mode == "random":
        if selection.institution_id:
            raise InvalidInput("selection.institution_id", "a random draw names no institution")
        candidates = list(
            (
                await session.exec(
                    select(Institution.id).where(
                        eligible(Institution, today),
                        col(Institution.categories).contains([body.category]),
                        col(Institution.id).not_in(selection.excluded_institution_ids),
                        col(Institution.founding_organ_kind) != CLOSED_TO_OUTSIDE_COMMISSIONS,
                    )
                )
            ).all()
        )
        if not candidates:
            raise RuleViolation(
                "no_candidate_institution",
                f"no active institution is registered for {body.category}",
                rule="SEL-3",
            )
        seed = secrets.token_hex(16)
        institution_id = random_pick(seed, candidates)
    else:
        if not selection.institution_id:
            raise InvalidInput("selection.institution_id", f"required for mode {selection.mode}")
        if selection.excluded_institution_ids:
            raise InvalidInput(
                "selection.excluded_institution_ids", "only a random draw excludes institutions"
            )
        seed, candidates, institution_id = "", [], selection.institution_id
    institution = await session.get(Institution, institution_id)
    if institution is None:
        raise InvalidInput("selection.institution_id", f"no institution {institution_id}")
    if institution.founding_organ_kind == CLOSED_TO_OUTSIDE_COMMISSIONS:
        raise RuleViolation(
            "institution_not_open",
            f"institution {institution.name} was set up by an investigative organ: it takes no "
            "commission from outside",
            rule="REG-11",
        )
    not_allowed = standing(institution, today, kind="institution")
    if not_allowed:
        why, rule = not_allowed
        raise RuleViolation("institution_not_active", f"institution {institution.name} is {why}", rule=rule)
    if body.category not in institution.categories:
        raise RuleViolation(
            "institution_not_qualified",
            f"institution {institution.name} is not registered for {body.category}",
            rule="PROC-05",
        )
    return institution, seed, sorted(candidates)


async def entrust(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    body: EntrustmentCreate,
    today: date,
    paper_history_days: int = 365,
    previous_commission_id: str = "",
    reappraisal_of: str = "",
    excluded_appraiser_ids: list[str] | None = None,
) -> tuple[CommissionSnapshot | Commission, bool]:
    """Starts the commission's workflow, or finds the one this court
    reference already started. Returns the commission and whether it is new."""
    commission_id = commission_id_for(
        court_id=principal.organisation_id, court_reference=body.court_reference
    )
    existing = await session.get(Commission, commission_id)
    if existing is not None:
        return existing, False
    received_on = _received_on(body, today, paper_history_days)
    institution, seed, candidates = await _choose_institution(session=session, body=body, today=today)
    appraisers = (
        await session.exec(
            select(Appraiser)
            .where(
                Appraiser.institution_id == institution.id,
                eligible(Appraiser, today),
                col(Appraiser.categories).contains([body.category]),
            )
            .order_by(col(Appraiser.id))
        )
    ).all()
    inp = CommissionInput(
        commission_id=commission_id,
        court_id=principal.organisation_id,
        court_reference=body.court_reference,
        case_number=body.case_number,
        category=body.category,
        institution_id=institution.id,
        received_on=received_on.isoformat(),
        entrusted_by=principal,
        matters=list(body.matters),
        selection_mode=body.selection.mode,
        court_deadline_working_days=body.court_deadline_working_days,
        materials=[Material(m.name, m.sha256) for m in body.materials],
        eligible_appraisers=[EligibleAppraiser(a.id, a.name, a.senior_title) for a in appraisers],
        selection_seed=seed,
        selection_candidates=candidates,
        bureau_id=institution.bureau_id,
        previous_commission_id=previous_commission_id,
        reappraisal_of=reappraisal_of,
        excluded_appraiser_ids=list(excluded_appraiser_ids or []),
    )
    return await start_once(
        client=client,
        session=session,
        run=CommissionWorkflow.run,
        inp=inp,
        workflow_id=workflow_id_for(commission_id),
        task_queue=task_queue,
        register=CommissionWorkflow.register,
        request=RegistrationRequest(actor=principal),
        stored=Commission,
        row_id=commission_id,
    )


def same_matter(
    old: Commission, *, court_reference: str, selection: Selection, today: date
) -> EntrustmentCreate:
    """The entrustment of a commission's matter again (CRT-5, PROC-31): its case, category,
    matters and the court's deadline, received today under a new court reference."""
    return EntrustmentCreate(
        court_reference=court_reference,
        case_number=old.case_number,
        category=old.category,
        matters=old.snapshot.get("matters", []),
        selection=selection,
        received_on=today,
        court_deadline_working_days=old.snapshot.get("court_deadline_working_days"),
    )


def public_of(
    result: CommissionSnapshot | Commission, *, calendar: WorkingCalendar, today: date
) -> CommissionPublic:
    """What an entrustment answers: the workflow's snapshot, or the read model's row of a
    commission closed long ago."""
    snapshot = result.snapshot if isinstance(result, Commission) else jsonable(result)
    return to_public(snapshot, calendar=calendar, today=today)


async def _reassign(
    *, session: AsyncSession, client: Client, old: Commission, request: ReassignmentRequest
) -> None:
    """Ends the old commission as reassigned to the new one. Its workflow having ended
    already is a repeat of this very re-entrustment (another request won the race: its
    workflow ends only once the reassignment is in the read model), else a 409."""
    ended = RuleViolation(
        "not_in_stage",
        f"the commission is {old.stage}; only an overdue commission still running may be re-entrusted",
        rule="CRT-5",
    )
    if old.stage in TERMINAL_STAGES:
        raise ended
    try:
        await client.get_workflow_handle(old.workflow_id).execute_update(CommissionWorkflow.reassign, request)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        await session.refresh(old)
        if old.snapshot.get("reassigned_to") != request.new_commission_id:
            raise ended from err


async def reentrust(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    old: Commission,
    body: ReentrustmentCreate,
    today: date,
) -> tuple[CommissionSnapshot | Commission, bool]:
    """CRT-5: closes the overdue commission as reassigned (its workflow checks it
    is overdue), then entrusts the same matter, linked, to another institution.
    Both steps are idempotent, so a repeated request completes a half-done one."""
    snapshot = old.snapshot
    new_body = same_matter(old, court_reference=body.court_reference, selection=body.selection, today=today)
    institution, _, _ = await _choose_institution(session=session, body=new_body, today=today)
    new_id = commission_id_for(court_id=principal.organisation_id, court_reference=body.court_reference)
    if snapshot.get("reassigned_to") != new_id:  # else a repeat: the old workflow has ended
        await _reassign(
            session=session,
            client=client,
            old=old,
            request=ReassignmentRequest(
                actor=principal,
                new_commission_id=new_id,
                new_institution_id=institution.id,
                reason=body.reason,
            ),
        )
    new_body.selection = Selection(mode="designated", institution_id=institution.id)
    return await entrust(
        session=session,
        client=client,
        task_queue=task_queue,
        principal=principal,
        body=new_body,
        today=today,
        previous_commission_id=old.id,
        excluded_appraiser_ids=await lineage_appraisers(session=session, commission=old),
    )


async def lineage(*, session: AsyncSession, commission: Commission) -> list[tuple[Commission, str]]:
    """The commission's earlier commissions on the same matter, nearest first,
    each with how it led to the next: reentrustment (CRT-5) or reappraisal (PROC-31)."""
    chain: list[tuple[Commission, str]] = []
    current: Commission | None = commission
    while current is not None and len(chain) < MAX_LINEAGE:
        link = "reappraisal" if current.snapshot.get("reappraisal_of") else "reentrustment"
        earlier_id = current.snapshot.get("reappraisal_of") or current.snapshot.get("previous_commission_id")
        current = await session.get(Commission, earlier_id) if earlier_id else None
        if current is not None:
            chain.append((current, link))
    return chain


async def lineage_appraisers(*, session: AsyncSession, commission: Commission) -> list[str]:
    """Everyone who appraised this matter before (PROC-10): never assigned to it again."""
    earlier = [c for c, _ in await lineage(session=session, commission=commission)]
    return sorted({a for c in (commission, *earlier) for a in c.appraiser_ids})


async def check_signature(
    *, session: AsyncSession, principal: Actor, commission: Commission, body: SignatureCreate, today: date
) -> str:
    """The signature must verify with one of the appraiser's keys valid today;
    returns that key's fingerprint. Without a report yet, the workflow refuses the step."""
    report = commission.snapshot.get("report")
    if not report:
        return ""
    message = signed_message(body.kind, report["content_hash"], body.statement)
    keys = (
        await session.exec(
            select(AppraiserKey).where(
                AppraiserKey.appraiser_id == principal.organisation_id,
                col(AppraiserKey.valid_from) <= today,
                or_(col(AppraiserKey.valid_until).is_(None), col(AppraiserKey.valid_until) >= today),
            )
        )
    ).all()
    for key in keys:
        if verify(key.public_key, message, body.signature):
            return key.fingerprint
    raise InvalidInput(
        "signature",
        f"does not verify against a registered key of this appraiser valid on {today} "
        f"(signed: {'the report hash' if body.kind == 'sign' else 'the dissent bound to the report hash'})",
    )


def to_public(snapshot: dict[str, Any], *, calendar: WorkingCalendar, today: date) -> CommissionPublic:
    clocks: list[dict[str, Any]] = []
    for clock in snapshot["clocks"]:
        left = None
        if clock.get("paused"):
            left = clock["budget_days"] + clock.get("extension_days", 0) - clock.get("used_days", 0)
        elif not clock["stopped"]:
            left = calendar.working_days_between(today, date.fromisoformat(clock["due_on"]))
        clocks.append({**clock, "working_days_left": left})
    return CommissionPublic.model_validate({**snapshot, "clocks": clocks})  # one pass, clocks included


# Soonest deadline first, none last, then by id, for lists and the inbox alike. The same
# expressions key the indexes `commission ([institution_id | court_id,] coalesce(next_due_on,
# 'infinity'::date), id)` and `task (assignee_role, assignee_id, coalesce(due_on, 'infinity'::date),
# id)`, so a page is a short index range scan however deep it is; the constant must stay a
# literal (a bound parameter would not match the indexes' expression).
NO_DEADLINE = literal_column("'infinity'::date", Date)
LIST_ORDER = func.coalesce(col(Commission.next_due_on), NO_DEADLINE)
INBOX_ORDER = func.coalesce(col(Task.due_on), NO_DEADLINE)


def _after(order: ColumnElement[Any], key: Any, due_on: date | None, last_key: object) -> ColumnElement[bool]:
    """Strictly after the row with deadline `due_on` (None: none) and key `last_key` in the
    order (`order`, `key`): the next page's condition, bounding the index range scan."""
    due = NO_DEADLINE if due_on is None else literal(due_on, Date)
    return tuple_(order, key) > tuple_(due, literal(last_key))


COUNT_AHEAD = 1000
"""How far past a page's start a list counts its matches unless asked for the exact total."""


@dataclass(frozen=True)
class ListPosition:
    """Where a page of commissions ended: its last row's next deadline (None: it has
    none) and id, and how many rows came before the next page. The next page starts
    strictly after that row."""

    next_due_on: date | None
    commission_id: str
    offset: int


@dataclass(frozen=True)
class Listing:
    rows: list[Commission]
    offset: int
    """Rows before this page: the offset asked for, or the one its cursor carried."""
    total: int
    """Every match when `total_exact`; otherwise a lower bound (offset + COUNT_AHEAD)."""
    total_exact: bool
    has_more: bool
    following: ListPosition | None
    """Where the next page starts (None: this was the last)."""


async def _count(session: AsyncSession, matches: SelectOfScalar[Any]) -> int:
    return int((await session.exec(select(func.count()).select_from(matches.subquery()))).one())


SEARCHED_APPRAISERS = 50
"""At most this many appraisers whose name matches a search (the registry is small)."""


async def _matching(session: AsyncSession, text: str) -> ColumnElement[bool]:
    """A search: the text in the court reference or the case number, or in the name of an
    appraiser assigned to the commission (case-insensitive; % and _ match themselves)."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    named = (
        await session.exec(
            select(Appraiser.id).where(col(Appraiser.name).ilike(pattern)).limit(SEARCHED_APPRAISERS)
        )
    ).all()
    found = [col(Commission.court_reference).ilike(pattern), col(Commission.case_number).ilike(pattern)]
    if named:
        found.append(col(Commission.appraiser_ids).op("&&")(literal(list(named), ARRAY(String))))
    return or_(*found)


async def list_commissions(
    *,
    session: AsyncSession,
    principal: Actor,
    stage: Stage | None,
    institution_id: str | None,
    court_id: str | None,
    category: str | None,
    overdue: bool | None,
    due_before: date | None,
    limit: int,
    offset: int = 0,
    after: ListPosition | None = None,
    exact_total: bool = False,
    escalated: bool | None = None,
    text: str | None = None,
) -> Listing:
    """One page, soonest deadline first: `offset` rows in, or right after `after` (a keyset
    page, as cheap at row 60,000 as the first; `offset` makes PostgreSQL read every row
    before the page). Counting every match in scope for each page grows with the scope
    (tens of ms at 100,000), so unless `exact_total` asks for it the count stops
    COUNT_AHEAD rows past the page's start, and a last page needs none."""
    conditions: list[ColumnElement[bool]] = [scope_filter(principal)]
    if stage:
        conditions.append(col(Commission.stage) == stage.value)
    if institution_id:
        conditions.append(col(Commission.institution_id) == institution_id)
    if court_id:
        conditions.append(col(Commission.court_id) == court_id)
    if category:
        conditions.append(col(Commission.category) == category)
    if overdue is not None:
        conditions.append(col(Commission.overdue) == overdue)
    if escalated is not None:
        conditions.append(col(Commission.escalated) == escalated)
    if due_before:
        # The order's own expression, so the index bounds it (no deadline sorts after any date).
        conditions.append(literal(due_before, Date) >= LIST_ORDER)
    if text and text.strip():
        conditions.append(await _matching(session, text.strip()))
    page = select(Commission).where(*conditions).order_by(LIST_ORDER, col(Commission.id)).limit(limit + 1)
    if after is None:
        start, page = offset, page.offset(offset)
    else:
        start = after.offset
        page = page.where(_after(LIST_ORDER, col(Commission.id), after.next_due_on, after.commission_id))
    fetched = (await session.exec(page)).all()
    rows, has_more = list(fetched[:limit]), len(fetched) > limit  # one more tells whether a page follows
    following = ListPosition(rows[-1].next_due_on, rows[-1].id, start + len(rows)) if has_more else None

    def listing(total: int, exact: bool) -> Listing:
        return Listing(rows, start, total, total_exact=exact, has_more=has_more, following=following)

    if following is None and (rows or start == 0 or after is not None):
        return listing(start + len(rows), exact=True)  # the last page tells the total itself
    matches: SelectOfScalar[Any] = select(literal_column("1")).where(*conditions)  # index-only countable
    if exact_total:
        return listing(await _count(session, matches), exact=True)
    if following is None:  # an offset past the last match: count from the first
        ceiling = offset + COUNT_AHEAD
        counted = await _count(session, matches.limit(ceiling + 1))
        return listing(min(counted, ceiling), exact=counted <= ceiling)
    # Only the matches after the page's last row, and at most COUNT_AHEAD of them, however deep the page.
    room = max(COUNT_AHEAD - len(rows), 1)
    past_page = _after(LIST_ORDER, col(Commission.id), following.next_due_on, following.commission_id)
    ahead = await _count(session, matches.where(past_page).limit(room + 1))
    return listing(following.offset + min(ahead, room), exact=ahead <= room)


@dataclass(frozen=True)
class InboxPosition:
    """Where a page of the inbox ended: its last task's deadline (None: it has
    none) and id. The next page starts strictly after it."""

    due_on: date | None
    task_id: int


async def inbox(
    *, session: AsyncSession, principal: Actor, limit: int, after: InboxPosition | None = None
) -> tuple[list[InboxTask], InboxPosition | None]:
    """One page of the caller's inbox and where the next one starts (None: this was the last)."""
    conditions: list[ColumnElement[bool]] = [
        col(Task.assignee_role) == principal.role,
        col(Task.assignee_id) == principal.organisation_id,
    ]
    if after is not None:
        conditions.append(_after(INBOX_ORDER, col(Task.id), after.due_on, after.task_id))
    # A task belongs to a commission, a complaint (supervisors), an expiring licence (REG-8),
    # a registration application, an annual evaluation or a training shortfall (TRN-3).
    reference = func.coalesce(
        col(Commission.court_reference),
        col(Complaint.reference),
        col(LicenceTask.entity_kind) + " " + col(LicenceTask.entity_id),
        col(Admission.reference) + " " + col(Admission.subject_name),
        func.concat("integrity ", col(IntegrityEvaluation.year)),
        func.concat("training ", col(TrainingTask.year), " ", col(TrainingTask.appraiser_id)),
    )
    stage = func.coalesce(
        col(Commission.stage),
        col(Complaint.stage),
        col(Admission.stage),
        col(IntegrityEvaluation.stage),
        case((col(Task.training_task_id).is_not(None), "training_short"), else_="licence_expiring"),
    )
    rows = (
        await session.exec(
            select(Task, reference, stage)
            .outerjoin(Commission, col(Commission.id) == col(Task.commission_id))
            .outerjoin(Complaint, col(Complaint.id) == col(Task.complaint_id))
            .outerjoin(LicenceTask, col(LicenceTask.id) == col(Task.licence_task_id))
            .outerjoin(Admission, col(Admission.id) == col(Task.admission_id))
            .outerjoin(IntegrityEvaluation, col(IntegrityEvaluation.id) == col(Task.evaluation_id))
            .outerjoin(TrainingTask, col(TrainingTask.id) == col(Task.training_task_id))
            .where(*conditions)
            .order_by(INBOX_ORDER, col(Task.id))
            .limit(limit + 1)
        )
    ).all()
    page = [
        InboxTask(
            commission_id=task.commission_id,
            complaint_id=task.complaint_id,
            licence_task_id=task.licence_task_id,
            admission_id=task.admission_id,
            evaluation_id=task.evaluation_id,
            training_task_id=task.training_task_id,
            court_reference=reference,
            stage=stage,
            kind=task.kind,
            assignee_role=task.assignee_role,
            assignee_id=task.assignee_id,
            due_on=task.due_on,
            rule=task.rule,
        )
        for task, reference, stage in rows[:limit]
    ]
    if len(rows) <= limit:
        return page, None
    last = rows[limit - 1][0]
    assert last.id is not None  # a stored row
    return page, InboxPosition(last.due_on, last.id)


async def audit_trail(*, session: AsyncSession, commission_id: str) -> list[AuditEventPublic]:
    rows = (
        await session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.commission_id == commission_id)
            .order_by(col(AuditEventRow.seq))
        )
    ).all()
    return [AuditEventPublic.model_validate(r, from_attributes=True) for r in rows]
