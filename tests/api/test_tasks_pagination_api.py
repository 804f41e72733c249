"""Pages of the read model. GET /v1/tasks one page at a time: soonest deadline first,
tasks without one last, ties by id; the next page's cursor in X-Next-Cursor and Link; no
task lost or repeated while walking the pages. GET /v1/commissions: `has_more`, and a
`total` counted only a bounded way past the page unless `count=exact` asks for all."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Commission, Task
from appraisal.domain.roles import Actor
from appraisal.services import commission as service
from tests.factories import COURT, INSTITUTION, OTHER_INSTITUTION, institution_actor

Auth = Callable[[Actor], dict[str, str]]
MONDAY = date(2026, 11, 30)


def snapshot(cid: str, n: int, institution_id: str) -> dict[str, Any]:
    """The fields a listed commission shows (CommissionPublic), no clock running."""
    return {
        "id": cid,
        "stage": "awaiting_acceptance",
        "court_id": COURT.id,
        "court_reference": f"REF-{n}",
        "case_number": f"CASE-{n}",
        "institution_id": institution_id,
        "category": "forensic_clinical",
        "matters": ["伤残等级评定"],
        "selection_mode": "designated",
        "received_on": MONDAY.isoformat(),
        "appraiser_ids": [],
        "clocks": [],
        "open_tasks": [],
        "workflow_id": f"commission-{cid}",
        "last_event_seq": 1,
    }


async def add_commission(sessions: async_sessionmaker[AsyncSession], n: int, institution_id: str) -> str:
    cid = f"00000000-0000-4000-8000-{n:012d}"
    now = datetime.now(UTC)
    async with sessions() as session:
        session.add(
            Commission(
                id=cid,
                workflow_id=f"commission-{cid}",
                court_id=COURT.id,
                court_reference=f"REF-{n}",
                case_number=f"CASE-{n}",
                institution_id=institution_id,
                category="forensic_clinical",
                stage="awaiting_acceptance",
                snapshot=snapshot(cid, n, institution_id),
                created_at=now,
                updated_at=now,
            )
        )
        await session.commit()
    return cid


async def add_tasks(sessions: async_sessionmaker[AsyncSession], tasks: list[Task]) -> None:
    async with sessions() as session:
        session.add_all(tasks)
        await session.commit()


def task(commission_id: str, due_on: date | None, assignee_id: str = INSTITUTION.id) -> Task:
    return Task(
        commission_id=commission_id,
        kind="decide_acceptance",
        assignee_role="institution",
        assignee_id=assignee_id,
        due_on=due_on,
        rule="PROC-03",
    )


def key(item: dict[str, Any]) -> tuple[str, str]:
    return item["commission_id"], item["due_on"] or "none"


async def walk(api: httpx.AsyncClient, auth: Auth, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every page, following X-Next-Cursor; the tasks in order and how many pages."""
    items: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": limit}
    pages = 0
    while True:
        response = await api.get("/v1/tasks", params=params, headers=auth(institution_actor))
        assert response.status_code == 200, response.text
        pages += 1
        page = response.json()
        assert isinstance(page, list) and len(page) <= limit
        items += page
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            assert "link" not in response.headers
            return items, pages
        assert len(page) == limit
        assert response.headers["link"] == f'</v1/tasks?limit={limit}&cursor={cursor}>; rel="next"'
        params = {"limit": limit, "cursor": cursor}


async def test_pages_cover_the_inbox_in_order_without_gap_or_repeat(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await add_commission(sessions, 1, INSTITUTION.id)
    second = await add_commission(sessions, 2, INSTITUTION.id)
    elsewhere = await add_commission(sessions, 3, OTHER_INSTITUTION.id)
    dues: list[date | None] = [MONDAY + timedelta(days=d) for d in (5, 1, 1, 9, 1, 3)] + [None, None]
    mine = [task(first if i % 2 else second, due) for i, due in enumerate(dues)]
    # Inserted in this order, so ids grow along the list: ties go by id.
    await add_tasks(sessions, mine)
    await add_tasks(sessions, [task(elsewhere, MONDAY, OTHER_INSTITUTION.id)])
    expected = sorted(
        ((t.commission_id, t.due_on.isoformat() if t.due_on else "none", t.id) for t in mine),
        key=lambda k: (k[1] == "none", k[1], k[2]),
    )

    for limit in (1, 3, 8):
        items, pages = await walk(api, auth, limit)
        assert [key(i) for i in items] == [(cid, due) for cid, due, _ in expected]
        assert pages == -(-len(mine) // limit)

    whole = await api.get("/v1/tasks", headers=auth(institution_actor))
    assert [key(i) for i in whole.json()] == [(cid, due) for cid, due, _ in expected]
    assert "x-next-cursor" not in whole.headers
    assert {i["court_reference"] for i in whole.json()} == {"REF-1", "REF-2"}


async def test_default_page_is_50_and_a_page_holds_at_most_200(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    cid = await add_commission(sessions, 1, INSTITUTION.id)
    await add_tasks(sessions, [task(cid, MONDAY + timedelta(days=i % 40)) for i in range(230)])

    first = await api.get("/v1/tasks", headers=auth(institution_actor))
    assert len(first.json()) == 50 and first.headers["x-next-cursor"]
    largest = await api.get("/v1/tasks", params={"limit": 200}, headers=auth(institution_actor))
    assert len(largest.json()) == 200
    rest = await api.get(
        "/v1/tasks",
        params={"limit": 200, "cursor": largest.headers["x-next-cursor"]},
        headers=auth(institution_actor),
    )
    assert len(rest.json()) == 30 and "x-next-cursor" not in rest.headers
    assert rest.json()[0]["due_on"] >= largest.json()[-1]["due_on"]


async def test_bad_limit_or_cursor_is_a_422_naming_the_parameter(api: httpx.AsyncClient, auth: Auth) -> None:
    for params, field in (
        ({"limit": 0}, "query.limit"),
        ({"limit": 201}, "query.limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyIyMDI2LTEzLTQwIiwgMV0"}, "cursor"),  # ["2026-13-40", 1]: no such date
        ({"cursor": "WyIyMDI2LTEyLTAxIiwgIngiXQ"}, "cursor"),  # ["2026-12-01", "x"]: no task id
    ):
        response = await api.get("/v1/tasks", params=params, headers=auth(institution_actor))
        assert response.status_code == 422, params
        error = response.json()["error"]
        assert error["code"] == "invalid_input"
        assert [d["field"] for d in error["details"]] == [field]


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    seen: list[tuple[str, tuple[Any, ...]]] = []

    def record(_c: Connection, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        seen.append((statement, tuple(parameters or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_later_page_is_a_range_scan_of_the_inbox_index_without_a_sort(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    cid = await add_commission(sessions, 1, INSTITUTION.id)
    await add_tasks(sessions, [task(cid, MONDAY + timedelta(days=i)) for i in range(5)] + [task(cid, None)])
    first = await api.get("/v1/tasks", params={"limit": 2}, headers=auth(institution_actor))
    with statements(engine) as seen:
        later = await api.get(
            "/v1/tasks",
            params={"limit": 2, "cursor": first.headers["x-next-cursor"]},
            headers=auth(institution_actor),
        )
    assert later.status_code == 200
    (statement, parameters), *_ = [s for s in seen if "FROM task" in s[0]]
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        async with driver.transaction():
            # A handful of rows: make the planner show whether the index can serve the order.
            await driver.execute("set local enable_seqscan = off; set local enable_sort = off")
            plan = "\n".join(r[0] for r in await driver.fetch("explain " + statement, *parameters))
    assert "Index Scan using ix_task_inbox on task" in plan, plan
    assert "Sort" not in plan, plan
    index_condition = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "ROW(COALESCE(" in index_condition, plan  # the cursor bounds the scan, not a filter


async def test_commission_list_counts_a_bounded_way_ahead_unless_asked_for_every_match(
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "COUNT_AHEAD", 3)
    for n in range(8):
        await add_commission(sessions, n, INSTITUTION.id)
    await add_commission(sessions, 8, OTHER_INSTITUTION.id)

    async def page(**params: Any) -> tuple[list[str], int, bool, bool]:
        response = await api.get("/v1/commissions", params=params, headers=auth(institution_actor))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["limit"] == params["limit"] and body["offset"] == params.get("offset", 0)
        return (
            [i["court_reference"] for i in body["items"]],
            body["total"],
            body["total_exact"],
            body["has_more"],
        )

    # (items, total, total_exact, has_more): counted up to offset + 3 unless count=exact
    assert await page(limit=2) == (["REF-0", "REF-1"], 3, False, True)
    assert await page(limit=2, count="exact") == (["REF-0", "REF-1"], 8, True, True)
    assert await page(limit=2, offset=4) == (["REF-4", "REF-5"], 7, False, True)
    assert await page(limit=2, offset=5) == (["REF-5", "REF-6"], 8, True, True)
    assert await page(limit=2, offset=6) == (["REF-6", "REF-7"], 8, True, False)  # last page: no count
    assert await page(limit=50) == ([f"REF-{n}" for n in range(8)], 8, True, False)
    assert await page(limit=2, offset=10) == ([], 8, True, False)
    assert await page(limit=2, offset=10, count="exact") == ([], 8, True, False)
    other = await api.get("/v1/commissions", params={"count": "roughly"}, headers=auth(institution_actor))
    assert other.status_code == 422 and other.json()["error"]["details"][0]["field"] == "query.count"
