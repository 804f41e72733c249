from datetime import date

from fastapi import APIRouter
from sqlmodel import select

from appraisal.activities.anchor import heads_hash
from appraisal.api.deps import SessionDep
from appraisal.api.errors import not_found
from appraisal.api.policy import AuthorizedDep
from appraisal.api.routes.commissions import ERRORS
from appraisal.api.schemas import AnchorCheck, AppraiserTrace, TraceItem
from appraisal.db.models import Appraiser, AuditAnchor, Institution
from appraisal.services import audit

router = APIRouter(prefix="/v1/supervision", tags=["supervision"])


@router.get("/anchors/{day}", response_model=AnchorCheck, responses=ERRORS)
async def check_anchor(day: date, _: AuthorizedDep, session: SessionDep) -> AnchorCheck:
    """A day's stored audit anchor against the one recomputed from the trail now:
    any event edited, deleted or added since that day's end shows as a mismatch."""
    stored = await session.get(AuditAnchor, day)
    if stored is None:
        raise not_found("anchor")
    recomputed, chains = await heads_hash(session, day)
    return AnchorCheck(
        day=day,
        ok=recomputed == stored.heads_hash and chains == stored.chains,
        stored=stored.heads_hash,
        recomputed=recomputed,
        chains=stored.chains,
        computed_at=stored.computed_at,
    )


@router.get("/appraisers/{appraiser_id}/trace", response_model=AppraiserTrace, responses=ERRORS)
async def trace_appraiser(appraiser_id: str, principal: AuthorizedDep, session: SessionDep) -> AppraiserTrace:
    """Reverse trace (倒查) of one appraiser, in time order: every commission, report,
    signature, dissent, pause, extension, missed deadline and escalation, each pointing
    at its audit event and saying whether that commission's chain verifies through it."""
    found = (
        await session.exec(
            select(Appraiser)
            .join(Institution, Institution.id == Appraiser.institution_id)  # type: ignore[arg-type]
            .where(Appraiser.id == appraiser_id, Institution.bureau_id == principal.organisation_id)
        )
    ).first()
    if found is None:
        raise not_found("appraiser")
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
    return AppraiserTrace(
        appraiser_id=found.id, name=found.name, institution_id=found.institution_id, items=items
    )
