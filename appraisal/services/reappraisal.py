"""Re-appraisal (PROC-31, PROC-32, PROC-35) and the lineage of a matter's
commissions, as keyword-only functions."""

from datetime import date

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from appraisal.db.models import Appraiser, Commission
from appraisal.db.registry import eligible
from appraisal.domain.commission import CommissionSnapshot
from appraisal.domain.errors import RuleViolation
from appraisal.domain.reappraisal import REAPPRAISAL_GROUNDS, ReappraisalOrder
from appraisal.domain.roles import Actor
from appraisal.domain.stages import Stage
from appraisal.schemas.commission import Selection
from appraisal.schemas.lifecycle import LineageItem, ReappraisalCreate
from appraisal.services import organs
from appraisal.services.commission import (
    MAX_LINEAGE,
    _choose_institution,
    commission_id_for,
    entrust,
    lineage,
    lineage_appraisers,
    same_matter,
    scope_filter,
)
from appraisal.workflows.commission import CommissionWorkflow

ORDERABLE = (Stage.ISSUED, Stage.IN_TESTIMONY)


async def reappraise(
    *,
    session: AsyncSession,
    client: Client,
    task_queue: str,
    principal: Actor,
    old: Commission,
    body: ReappraisalCreate,
    today: date,
) -> tuple[CommissionSnapshot | Commission, bool]:
    """Marks the original opinion superseded (its workflow checks the step),
    then entrusts the matter, linked, to an institution allowed by PROC-32.
    Both steps are idempotent, so a repeated request completes a half-done one."""
    new_id = commission_id_for(court_id=principal.organisation_id, court_reference=body.court_reference)
    repeated = new_id in old.snapshot.get("reappraisals", [])
    if not repeated:
        if old.stage not in ORDERABLE:
            raise RuleViolation(
                "not_in_stage", f"the commission is {old.stage}; re-appraisal follows an issued report"
            )
        if body.ground not in REAPPRAISAL_GROUNDS:
            raise RuleViolation("unknown_ground", f"{body.ground} is not a PROC-31 ground", rule="PROC-31")
    selection = body.selection.model_copy()
    same_allowed = bool(body.same_institution_reason.strip())
    if selection.mode == "random" and not same_allowed:
        selection.excluded_institution_ids = [*selection.excluded_institution_ids, old.institution_id]
    new_body = same_matter(old, court_reference=body.court_reference, selection=selection, today=today)
    organ = await organs.organ_of_principal(session=session, principal=principal)
    institution, _, _ = await _choose_institution(session=session, body=new_body, today=today, organ=organ)
    if institution.id == old.institution_id and not same_allowed:
        raise RuleViolation(
            "same_institution",
            "a re-appraisal goes to another institution unless a special reason is given",
            rule="PROC-32",
        )
    excluded = await lineage_appraisers(session=session, commission=old)
    seniors = (
        await session.exec(
            select(Appraiser.id).where(
                Appraiser.institution_id == institution.id,
                eligible(Appraiser, today),
                col(Appraiser.categories).contains([old.category]),
                col(Appraiser.senior_title).is_(True),
                col(Appraiser.id).not_in(excluded),
            )
        )
    ).all()
    if not seniors:
        raise RuleViolation(
            "no_senior_appraiser",
            f"{institution.name} has no eligible appraiser with a senior title in {old.category}",
            rule="PROC-32",
        )
    if not repeated:
        await client.get_workflow_handle(old.workflow_id).execute_update(
            CommissionWorkflow.order_reappraisal,
            ReappraisalOrder(
                actor=principal,
                new_commission_id=new_id,
                new_institution_id=institution.id,
                ground=body.ground,
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
        reappraisal_of=old.id,
        excluded_appraiser_ids=excluded,
    )


async def lineage_of(*, session: AsyncSession, principal: Actor, commission: Commission) -> list[LineageItem]:
    """Earlier commissions on the matter (oldest first), this one, then later
    ones (re-entrusted or re-appraised from it, breadth first): only those the
    caller may see."""
    earlier = list(reversed(await lineage(session=session, commission=commission)))
    later: list[tuple[Commission, str]] = []
    frontier = [commission.id]
    while frontier and len(later) < MAX_LINEAGE:
        rows = (
            await session.exec(
                select(Commission).where(
                    or_(
                        Commission.snapshot["reappraisal_of"].astext.in_(frontier),
                        Commission.snapshot["previous_commission_id"].astext.in_(frontier),
                    )
                )
            )
        ).all()
        later += [(r, "reappraisal" if r.snapshot.get("reappraisal_of") else "reentrustment") for r in rows]
        frontier = [r.id for r in rows]
    visible = set(
        (
            await session.exec(
                select(Commission.id).where(
                    col(Commission.id).in_([c.id for c, _ in (*earlier, *later)]), scope_filter(principal)
                )
            )
        ).all()
    )
    items = [_item(c, "earlier", link) for c, link in earlier if c.id in visible]
    items.append(_item(commission, "self", ""))
    items += [_item(c, "later", link) for c, link in later if c.id in visible]
    return items


def _item(commission: Commission, relation: str, link: str) -> LineageItem:
    return LineageItem(
        id=commission.id,
        relation=relation,
        link=link,
        stage=commission.stage,
        court_reference=commission.court_reference,
        institution_id=commission.institution_id,
        appraiser_ids=list(commission.appraiser_ids),
    )
