"""Demo-registry principals and messages shared by the tests."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from appraisal.core.signing import demo_private_key, sign, signed_message
from appraisal.domain.commission import CommissionInput, EligibleAppraiser, Material
from appraisal.domain.roles import Actor, Role
from appraisal.seed import APPRAISERS, COURTS, INSTITUTIONS

COURT = COURTS[0]
OTHER_COURT = COURTS[1]
INSTITUTION = INSTITUTIONS[0]  # forensic_clinical, forensic_pathology
OTHER_INSTITUTION = INSTITUTIONS[1]
ELIGIBLE_APPRAISERS = [
    a for a in APPRAISERS if a.institution_id == INSTITUTION.id and "forensic_clinical" in a.categories
]
CLINICAL_APPRAISERS = ELIGIBLE_APPRAISERS[:2]
"""The usual team of two; the third eligible appraiser stands in after a recusal."""
RESERVE_APPRAISER = ELIGIBLE_APPRAISERS[2]
SENIOR_ELSEWHERE = next(a for a in APPRAISERS if a.institution_id == OTHER_INSTITUTION.id and a.senior_title)
PATHOLOGY_ONLY = next(
    a for a in APPRAISERS if a.institution_id == INSTITUTION.id and "forensic_clinical" not in a.categories
)
ELSEWHERE = next(a for a in APPRAISERS if a.institution_id == OTHER_INSTITUTION.id)

court_actor = Actor(Role.COURT, COURT.id, "clerk")
institution_actor = Actor(Role.INSTITUTION, INSTITUTION.id, "desk")
head_actor = Actor(Role.INSTITUTION_HEAD, INSTITUTION.id, "head")


def appraiser_actor(appraiser_id: str) -> Actor:
    return Actor(Role.APPRAISER, appraiser_id, f"appraiser {appraiser_id[:8]}")


def commission_input(received_on: str, **overrides: object) -> CommissionInput:
    values: dict[str, object] = {
        "commission_id": str(uuid.uuid4()),
        "court_id": COURT.id,
        "court_reference": f"(2026)渝0103民初{uuid.uuid4().hex[:6]}号-鉴1",
        "case_number": "(2026)渝0103民初1234号",
        "category": "forensic_clinical",
        "institution_id": INSTITUTION.id,
        "received_on": received_on,
        "entrusted_by": court_actor,
        "matters": ["伤残等级评定"],
        "materials": [Material("病历", "a" * 64)],
        "eligible_appraisers": [EligibleAppraiser(a.id, a.name, a.senior_title) for a in ELIGIBLE_APPRAISERS],
    }
    values.update(overrides)
    return CommissionInput(**values)  # type: ignore[arg-type]


def signature(appraiser_id: str, report_hash: str, kind: str = "sign", statement: str = "") -> str:
    """What a demo appraiser's own key produces (`appraisal sign` does the same)."""
    return sign(demo_private_key(appraiser_id), signed_message(kind, report_hash, statement))


async def past_catch_up(env: WorkflowEnvironment, *answers: dict[str, Any]) -> None:
    """Skips the test server's clock past the catch-up window that the rungs of these
    commissions or complaints (as the API answered them) wait for, having been brought in
    from paper already past their instants: then those rungs fire."""
    waiting = [
        datetime.fromisoformat(rung["fires_at"])
        for answer in answers
        for clock in answer["clocks"]
        for rung in clock["next_rungs"]
        if rung["fires_at"] != rung["at"]
    ]
    assert waiting, "no rung waits for the catch-up window"
    await env.sleep(max(waiting) - await env.get_current_time() + timedelta(minutes=1))
