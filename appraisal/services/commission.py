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

from appraisal.core.signing import interference_message, signed_message, verify
from appraisal.db.models import (
    Admission,
    Appraiser,
    AppraiserKey,
    AuditEventRow,
    CaseTransfer,
    Commission,
    CommissionParty,
    Complaint,
    EntrustingOrgan,
    Institution,
    IntegrityEvaluation,
    LicenceTask,
    PenaltyCase,
    SupervisionAlert,
    Task,
    TrainingTask,
)
from appraisal.db.registry import eligible
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
from appraisal.domain.organs import case_kind, check_case_number, check_open_to, institution_closed_to
from appraisal.domain.plain import jsonable
from appraisal.domain.roles import ENTRUSTING_ROLES, Actor, Role
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
from appraisal.schemas.penalty import InterferenceCreate
from appraisal.services import organs
from appraisal.services.organs import Organ
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


def handed_over_to(organ_id: str) -> Any:
    """The commissions the cases handed over to an organ brought with them (ENT-4)."""
    return select(func.unnest(col(CaseTransfer.commission_ids))).where(CaseTransfer.to_organ_id == organ_id)


def scope_filter(principal: Actor, *, handed_over: bool = True) -> ColumnElement[bool]:
    """The commissions a principal may see (API.md: courts their own,
    institutions theirs, appraisers where assigned, supervisors their bureau's). An entrusting
    organ sees what it entrusted and what the cases handed over to it brought (ENT-4);
    `handed_over=False` when it is known to have received none (a list then keeps to the
    index of its own commissions)."""
    org = principal.organisation_id
    match principal.role:
        case Role.COURT | Role.PROCURATORATE | Role.PUBLIC_SECURITY | Role.INVESTIGATIVE_ORGAN:
            own = col(Commission.court_id) == org
            return or_(own, col(Commission.id).in_(handed_over_to(org))) if handed_over else own
        case Role.INSTITUTION | Role.INSTITUTION_HEAD:
            return col(Commission.institution_id) == org
        case Role.APPRAISER:
            return col(Commission.appraiser_ids).contains([org])
        case Role.SUPERVISOR:
            return col(Commission.institution_id).in_(_bureau_institutions(org))
        case Role.PARTY:  # a party sees its own commission alone (PTY-1)
            return col(Commission.id).in_(
                select(CommissionParty.commission_id).where(CommissionParty.id == org)
            )
    return false()


async def received_cases(*, session: AsyncSession, organ_id: str) -> bool:
    """Whether any case was handed over to this organ (ENT-4)."""
    query = select(CaseTransfer.id).where(CaseTransfer.to_organ_id == organ_id).limit(1)
    return (await session.exec(query)).first() is not None


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


async def _founders(session: AsyncSession, institutions: list[Institution]) -> dict[str, str]:
    """The kind of the organ that set up each of these institutions, by organ id (ENT-3)."""
    ids = [i.founded_by_organ_id for i in institutions if i.founded_by_organ_id]
    if not ids:
        return {}
    rows = (await session.exec(select(EntrustingOrgan).where(col(EntrustingOrgan.id).in_(ids)))).all()
    return {r.id: r.kind for r in rows}


async def _choose_institution(
    *, session: AsyncSession, body: EntrustmentCreate, today: date, organ: Organ | None = None
) -> tuple[Institution, str, list[str]]:
    """Only an institution the registry allows today (active, licence valid) is
    drawn or accepted; a random draw also leaves out those the court excludes, and those an
    investigative organ set up for itself, closed to this organ (ENT-3)."""
    selection = body.selection
    if selection.mode == "random":
        if selection.institution_id:
            raise InvalidInput("selection.institution_id", "a random draw names no institution")
        drawable = (
            await session.exec(
                select(Institution).where(
                    eligible(Institution, today),
                    col(Institution.categories).contains([body.category]),
                    col(Institution.id).not_in(selection.excluded_institution_ids),
                )
            )
        ).all()
        founders = await _founders(session, list(drawable))
        candidates = [
            i.id
            for i in drawable
            if not institution_closed_to(
                founded_by_kind=founders.get(i.founded_by_organ_id or ""),
                founded_by_id=i.founded_by_organ_id,
                organ_kind=organ.kind if organ else "court",
                organ_id=organ.id if organ else "",
            )
        ]
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
    if organ is not None:
        check_open_to(
            founded_by_kind=(await _founders(session, [institution])).get(
                institution.founded_by_organ_id or ""
            ),
            founded_by_id=institution.founded_by_organ_id,
            organ_kind=organ.kind,
            organ_id=organ.id,
            name=institution.name,
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
    organ = await organs.organ_of_principal(session=session, principal=principal)
    check_case_number(body.case_number, kind=organ.kind)
    received_on = _received_on(body, today, paper_history_days)
    institution, seed, candidates = await _choose_institution(
        session=session, body=body, today=today, organ=organ
    )
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
        entrusting_kind=organ.kind,
        case_kind=case_kind(body.case_number, kind=organ.kind),
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
    organ = await organs.organ_of_principal(session=session, principal=principal)
    institution, _, _ = await _choose_institution(session=session, body=new_body, today=today, organ=organ)
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


async def check_interference_signature(
    *, session: AsyncSession, principal: Actor, commission: Commission, body: InterferenceCreate, today: date
) -> tuple[str, str]:
    """The record of an attempt to interfere must be signed with one of the appraiser's keys
    valid today; returns (the signed statement hash, that key's fingerprint)."""
    message = interference_message(
        commission_id=commission.id,
        who=body.who,
        occurred_at=body.occurred_at.isoformat(),
        what=body.what,
        hidden=body.hidden_from_institution,
    )
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
            return message.decode(), key.fingerprint
    raise InvalidInput(
        "signature",
        f"does not verify against a registered key of this appraiser valid on {today} (signed: the hex "
        "SHA-256 of the canonical record {commission_id, hidden, occurred_at, what, who})",
    )


HIDDEN_FROM_INSTITUTION = frozenset({Role.INSTITUTION, Role.INSTITUTION_HEAD})


def for_party(snapshot: dict[str, Any], party_id: str) -> dict[str, Any]:
    """What a party may see of its commission (PTY-1): nothing of the staff's deliberation —
    no interference records, recusals, testimonies, answers to objections or others' requests,
    no task but its own — and the report only once the entrusting organ released it."""
    report = snapshot.get("report")
    released = report if report and snapshot.get("report_released", 0) == report.get("version") else None
    return {
        **snapshot,
        "interference": [],
        "recusals": [],
        "testimonies": [],
        "earlier_reports": [],
        "report": released,
        "open_tasks": [
            t
            for t in snapshot.get("open_tasks", [])
            if (t["assignee_role"], t["assignee_id"]) == ("party", party_id)
        ],
        "objections": [
            {**o, "reply": "", "replied_by": "", "resolution_note": ""}
            for o in snapshot.get("objections", [])
            if o.get("party_id") == party_id
        ],
        "party_requests": [r for r in snapshot.get("party_requests", []) if r.get("party_id") == party_id],
    }


def for_viewer(snapshot: dict[str, Any], principal: Actor) -> dict[str, Any]:
    """What of a commission the viewer may see: an attempt to interfere the appraiser asked to
    keep from the institution is left out of what its desk and head see (IND-1); a party sees
    what `for_party` leaves."""
    if principal.role == Role.PARTY:
        return for_party(snapshot, principal.organisation_id)
    if principal.role not in HIDDEN_FROM_INSTITUTION or not snapshot.get("interference"):
        return snapshot
    return {
        **snapshot,
        "interference": [r for r in snapshot["interference"] if not r.get("hidden_from_institution")],
    }


def hidden_event(principal: Actor, kind: str, data: dict[str, Any]) -> bool:
    """An audit event the viewer may not see: a hidden interference record, for the institution."""
    return (
        principal.role in HIDDEN_FROM_INSTITUTION
        and kind.startswith("interference.")
        and bool(data.get("hidden_from_institution"))
    )


def to_public(
    snapshot: dict[str, Any], *, calendar: WorkingCalendar, today: date, viewer: Actor | None = None
) -> CommissionPublic:
    """The commission's public shape; what `viewer` may not see left out (`for_viewer`)."""
    if viewer is not None:
        snapshot = for_viewer(snapshot, viewer)
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
    handed_over = principal.role in ENTRUSTING_ROLES and await received_cases(
        session=session, organ_id=principal.organisation_id
    )
    conditions: list[ColumnElement[bool]] = [scope_filter(principal, handed_over=handed_over)]
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
    # a penalty case, an unusual rate (SUP-1), a registration application, an annual evaluation
    # or a training shortfall (TRN-3).
    reference = func.coalesce(
        col(Commission.court_reference),
        col(Complaint.reference),
        col(PenaltyCase.reference),
        col(LicenceTask.entity_kind) + " " + col(LicenceTask.entity_id),
        col(SupervisionAlert.metric) + " " + col(SupervisionAlert.institution_id),
        col(Admission.reference) + " " + col(Admission.subject_name),
        func.concat("integrity ", col(IntegrityEvaluation.year)),
        func.concat("training ", col(TrainingTask.year), " ", col(TrainingTask.appraiser_id)),
    )
    stage = func.coalesce(
        col(Commission.stage),
        col(Complaint.stage),
        col(PenaltyCase.stage),
        col(Admission.stage),
        col(IntegrityEvaluation.stage),
        case(
            (col(Task.licence_task_id).is_not(None), "licence_expiring"),
            (col(Task.training_task_id).is_not(None), "training_short"),
            else_="unusual_rate",
        ),
    )
    rows = (
        await session.exec(
            select(Task, reference, stage)
            .outerjoin(Commission, col(Commission.id) == col(Task.commission_id))
            .outerjoin(Complaint, col(Complaint.id) == col(Task.complaint_id))
            .outerjoin(PenaltyCase, col(PenaltyCase.id) == col(Task.penalty_case_id))
            .outerjoin(LicenceTask, col(LicenceTask.id) == col(Task.licence_task_id))
            .outerjoin(SupervisionAlert, col(SupervisionAlert.id) == col(Task.alert_id))
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
            penalty_case_id=task.penalty_case_id,
            alert_id=task.alert_id,
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


async def audit_trail(
    *, session: AsyncSession, commission_id: str, viewer: Actor | None = None
) -> list[AuditEventPublic]:
    """The commission's trail in order; for the institution's desk and head, without an
    interference record the appraiser asked to keep from them (IND-1)."""
    rows = (
        await session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.commission_id == commission_id)
            .order_by(col(AuditEventRow.seq))
        )
    ).all()
    return [
        AuditEventPublic.model_validate(r, from_attributes=True)
        for r in rows
        if viewer is None or not hidden_event(viewer, r.kind, r.data)
    ]
