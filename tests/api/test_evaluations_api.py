"""The annual integrity evaluation end to end, through the REST API: started by the bureau for
the year just past, each institution's self-assessment, the grades proposed from the year's
record (training shortfalls entered first), one adjusted, published for objection, an
objection decided, the grades confirmed and published; then readable in the integrity record
and weighing the random inspection draw. And training: courses, attendance imported, the year's
hours against the minimum, the task of the year's end closing once they are reached."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment

from appraisal.db.models import Task
from appraisal.domain.roles import Actor, Role
from appraisal.domain.rules import GRADE_INSPECTION_WEIGHTS, UNGRADED_INSPECTION_WEIGHT
from appraisal.domain.training import warning_at
from appraisal.seed import APPRAISERS, BUREAU, INSTITUTIONS, OTHER_BUREAU
from tests.factories import INSTITUTION, appraiser_actor, court_actor
from tests.workflows.test_commission_workflow import eventually

pytestmark = pytest.mark.dated

Auth = Callable[[Actor], dict[str, str]]
supervisor = Actor(Role.SUPERVISOR, BUREAU.id, "evaluator")
other_bureau = Actor(Role.SUPERVISOR, OTHER_BUREAU.id, "evaluator")
MINE = next(a for a in APPRAISERS if a.institution_id == INSTITUTION.id)


def desk(institution_id: str) -> Actor:
    return Actor(Role.INSTITUTION, institution_id, "desk")


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def step(api: httpx.AsyncClient, auth: Auth, eid: str, **body: Any) -> httpx.Response:
    return await api.post(f"/v1/evaluations/{eid}/decision", json=body, headers=auth(supervisor))


async def reach(api: httpx.AsyncClient, auth: Auth, eid: str, stage: str) -> dict[str, Any]:
    async def there() -> dict[str, Any] | None:
        body = (await api.get(f"/v1/evaluations/{eid}", headers=auth(supervisor))).json()
        return dict(body) if body["stage"] == stage else None

    return await eventually(there)


async def test_last_year_is_assessed_objected_to_and_published(
    api: httpx.AsyncClient, auth: Auth, temporal_env: WorkflowEnvironment, today: date
) -> None:
    year = today.year - 1
    started = await api.post("/v1/evaluations", json={"year": year}, headers=auth(supervisor))
    assert started.status_code == 201, started.text
    eid = started.json()["id"]
    assert (
        await api.post("/v1/evaluations", json={"year": year}, headers=auth(supervisor))
    ).status_code == 200
    assert error(
        await api.post("/v1/evaluations", json={"year": today.year + 1}, headers=auth(supervisor))
    ) == (
        422,
        "invalid_input",
    )
    state = await reach(api, auth, eid, "self_assessment")
    assert sorted(state["institutions"]) == sorted(i.id for i in INSTITUTIONS)
    tasks = (await api.get("/v1/tasks", headers=auth(desk(INSTITUTION.id)))).json()
    assert (eid, "submit_self_assessment") in {(t["evaluation_id"], t["kind"]) for t in tasks}
    assert (await api.get(f"/v1/evaluations/{eid}", headers=auth(other_bureau))).status_code == 404
    for institution in INSTITUTIONS:
        done = await api.post(
            f"/v1/evaluations/{eid}/self-assessment",
            json={"score": 90, "summary": "依法执业"},
            headers=auth(desk(institution.id)),
        )
        assert done.status_code == 200, done.text
    state = await reach(api, auth, eid, "reviewing")
    assert state["assessment"]["training_shortfalls"] == len(APPRAISERS)
    grades = (await api.get(f"/v1/evaluations/{eid}/grades", headers=auth(desk(INSTITUTION.id)))).json()
    assert len(grades) == len(INSTITUTIONS) + len(APPRAISERS) and {g["status"] for g in grades} == {
        "proposed"
    }
    mine = next(g for g in grades if g["subject_id"] == MINE.id)
    assert (mine["score"], mine["grade"]) == (95, "A")
    assert mine["deductions"] == [{"item": "training_shortfall", "count": 1, "points_each": 5, "points": 5}]
    assert error(
        await step(
            api,
            auth,
            eid,
            decision="adjust_grade",
            subject_kind="institution",
            subject_id="nobody",
            grade="B",
            reason="x",
        )
    ) == (422, "invalid_input")
    adjusted = await step(
        api,
        auth,
        eid,
        decision="adjust_grade",
        subject_kind="institution",
        subject_id=INSTITUTION.id,
        grade="C",
        reason="抽查发现档案不全",
    )
    assert adjusted.status_code == 200, adjusted.text
    assert error(await step(api, auth, eid, decision="publish_proposed", objection_days=31)) == (
        422,
        "invalid_input",
    )
    proposed = (await step(api, auth, eid, decision="publish_proposed", objection_days=5)).json()
    assert proposed["stage"] == "objection_period"
    # An appraiser objects to their own grade; not to someone else's.
    others = next(a for a in APPRAISERS if a.id != MINE.id)
    wrong = await api.post(
        f"/v1/evaluations/{eid}/objections",
        json={"subject_kind": "appraiser", "subject_id": others.id, "reason": "代为异议"},
        headers=auth(appraiser_actor(MINE.id)),
    )
    assert error(wrong) == (409, "wrong_actor")
    objected = await api.post(
        f"/v1/evaluations/{eid}/objections",
        json={"subject_kind": "institution", "subject_id": INSTITUTION.id, "reason": "档案已补齐"},
        headers=auth(desk(INSTITUTION.id)),
    )
    assert objected.status_code == 200 and objected.json()["objections"][0]["proposed_grade"] == "C"
    period = next(c for c in proposed["clocks"] if c["rule"] == "EVL-4")
    assert period["working_days_left"] == 5 and period["budget_days"] == 5
    await temporal_env.sleep(date.fromisoformat(period["due_on"]) - today + timedelta(days=1))
    await reach(api, auth, eid, "deciding_objections")
    assert error(
        await step(api, auth, eid, decision="decide_objection", objection_id=1, upheld=True, reason="x")
    ) == (
        422,
        "invalid_input",
    )
    decided = await step(
        api, auth, eid, decision="decide_objection", objection_id=1, upheld=True, grade="B", reason="补齐属实"
    )
    assert decided.json()["stage"] == "awaiting_confirmation"
    published = (await step(api, auth, eid, decision="confirm")).json()
    assert published["stage"] == "published"
    grades = (
        await api.get(
            f"/v1/evaluations/{eid}/grades", params={"subject_kind": "institution"}, headers=auth(supervisor)
        )
    ).json()
    assert {g["status"] for g in grades} == {"published"}
    assert next(g for g in grades if g["subject_id"] == INSTITUTION.id)["grade"] == "B"
    public = (await api.get("/v1/public/grades", params={"year": year})).json()  # no token
    shown = next(g for g in public["grades"] if g["institution_id"] == INSTITUTION.id)
    assert shown["grade"] == "B" and shown["confirmed"] is True, "the published grade, not the provisional"
    record = (
        await api.get(
            f"/v1/supervision/integrity/appraisers/{MINE.id}", params={"year": year}, headers=auth(supervisor)
        )
    ).json()
    assert record["counts"]["training_shortfalls"] == 1 and record["grade"]["status"] == "published"
    assert record["training"]["hours"] == 0 and record["training"]["required_hours"] == 40
    assert record["entries"][0]["link"] == f"/v1/evaluations/{eid}"
    trace = (await api.get(f"/v1/supervision/appraisers/{MINE.id}/trace", headers=auth(supervisor))).json()
    assert [(g["year"], g["grade"], g["status"]) for g in trace["grades"]] == [(year, "A", "published")]
    # The published grades weigh the next random inspection draw (EVL-7).
    draw = await api.post(
        "/v1/supervision/inspections",
        json={"institutions": 1, "case_files_per_institution": 1, "inspectors": 1, "seed": 7},
        headers=auth(supervisor),
    )
    weights = draw.json()["candidates"]["weights"]
    assert weights[INSTITUTION.id] == GRADE_INSPECTION_WEIGHTS["B"]
    assert weights[INSTITUTIONS[1].id] == GRADE_INSPECTION_WEIGHTS["A"] != UNGRADED_INSPECTION_WEIGHT
    assert draw.json()["reproduced"] is True


async def test_training_hours_close_the_tasks_of_the_years_end(
    api: httpx.AsyncClient,
    auth: Auth,
    temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    today: date,
) -> None:
    now = await temporal_env.get_current_time()
    started = await api.post("/v1/evaluations", json={"year": today.year}, headers=auth(supervisor))
    assert started.status_code == 201 and started.json()["stage"] == "in_year"
    if now < warning_at(today.year):
        await temporal_env.sleep(warning_at(today.year) - now + timedelta(seconds=5))

    async def warned() -> list[dict[str, Any]] | None:
        tasks = (await api.get("/v1/tasks", headers=auth(appraiser_actor(MINE.id)))).json()
        return [t for t in tasks if t["kind"] == "complete_training_hours"] or None

    (task,) = await eventually(warned)
    assert task["due_on"] == f"{today.year}-12-31" and task["rule"] == "TRN-2"
    course = await api.post(
        "/v1/training/courses",
        json={
            "kind": "in_service",
            "title": "法医临床新标准解读",
            "organiser": "重庆市司法鉴定协会",
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
            "hours": 40,
        },
        headers=auth(supervisor),
    )
    cid = course.json()["id"]
    too_many = await api.post(
        f"/v1/training/courses/{cid}/attendance",
        json={"records": [{"appraiser_id": MINE.id, "hours": 41}]},
        headers=auth(supervisor),
    )
    assert error(too_many) == (409, "hours_out_of_range")
    unknown = await api.post(
        f"/v1/training/courses/{cid}/attendance",
        json={"records": [{"appraiser_id": "nobody"}]},
        headers=auth(supervisor),
    )
    assert (
        error(unknown) == (422, "invalid_input")
        and unknown.json()["error"]["details"][0]["field"] == "records.0.appraiser_id"
    )
    partly = await api.post(
        f"/v1/training/courses/{cid}/attendance",
        json={"records": [{"appraiser_id": MINE.id, "hours": 30}]},
        headers=auth(supervisor),
    )
    assert partly.status_code == 200
    summary = (
        await api.get(f"/v1/training/appraisers/{MINE.id}", headers=auth(appraiser_actor(MINE.id)))
    ).json()
    assert (summary["in_service_hours"], summary["short_by"]) == (30, 10)
    assert await warned() is not None  # 30 of 40: still short
    full = await api.post(
        f"/v1/training/courses/{cid}/attendance",
        json={"records": [{"appraiser_id": MINE.id}]},  # replaces the earlier record: the course's 40 hours
        headers=auth(supervisor),
    )
    assert full.status_code == 200
    assert await warned() is None
    async with sessions() as session:
        left = (await session.exec(select(Task).where(col(Task.training_task_id).is_not(None)))).all()
    assert MINE.id not in {t.assignee_id for t in left} and len(left) == 2 * (len(APPRAISERS) - 1)
    trace = (await api.get(f"/v1/supervision/appraisers/{MINE.id}/trace", headers=auth(supervisor))).json()
    assert [(t["course_id"], t["hours"], t["completed"]) for t in trace["training"]] == [(cid, 40, True)]
    listed = (await api.get("/v1/training/courses", headers=auth(desk(INSTITUTION.id)))).json()
    assert [(c["id"], c["attendees"]) for c in listed] == [(cid, 1)]
    assert (await api.get(f"/v1/training/appraisers/{MINE.id}", headers=auth(court_actor))).status_code == 403
    assert (
        await api.get(f"/v1/training/appraisers/{MINE.id}", headers=auth(desk(INSTITUTIONS[1].id)))
    ).status_code == 404
