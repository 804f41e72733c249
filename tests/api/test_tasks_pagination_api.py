"""Pages of the read model. GET /v1/tasks and GET /v1/commissions one page at a time:
soonest deadline first, those without one last, ties by id; the next page's cursor in
X-Next-Cursor and Link (with the list's filters); no row lost or repeated while walking the
pages; a later page is a range scan of an index, without a sort. GET /v1/commissions also:
`offset` still works (and hands out a cursor too), `has_more`, and a `total` counted only a
bounded way past the page unless `count=exact` asks for all."""

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.db.models import Commission, Task
from appraisal.domain.roles import Actor, Role
from appraisal.seed import BUREAU
from appraisal.services import commission as service
from tests.factories import COURT, INSTITUTION, OTHER_INSTITUTION, institution_actor

Auth = Callable[[Actor], dict[str, str]]
MONDAY = date(2026, 11, 30)


def snapshot(cid: str, n: int, institution_id: str, category: str = "forensic_clinical") -> dict[str, Any]:
    """The fields a listed commission shows (CommissionPublic), no clock running."""
    return {
        "id": cid,
        "stage": "awaiting_acceptance",
        "court_id": COURT.id,
        "court_reference": f"REF-{n}",
        "case_number": f"CASE-{n}",
        "institution_id": institution_id,
        "category": category,
        "matters": ["伤残等级评定"],
        "selection_mode": "designated",
        "received_on": MONDAY.isoformat(),
        "appraiser_ids": [],
        "clocks": [],
        "open_tasks": [],
        "workflow_id": f"commission-{cid}",
        "last_event_seq": 1,
    }


async def add_commission(
    sessions: async_sessionmaker[AsyncSession],
    n: int,
    institution_id: str,
    *,
    next_due_on: date | None = None,
    category: str = "forensic_clinical",
) -> str:
    """Ids grow with `n`, so ties in the order go by `n`."""
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
                category=category,
                stage="awaiting_acceptance",
                next_due_on=next_due_on,
                snapshot=snapshot(cid, n, institution_id, category),
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


async def explain_without_seq_scan_or_sort(
    engine: AsyncEngine, statement: str, parameters: tuple[Any, ...]
) -> str:
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        async with driver.transaction():
            # A handful of rows: make the planner show whether the index can serve the order.
            await driver.execute("set local enable_seqscan = off; set local enable_sort = off")
            return "\n".join(r[0] for r in await driver.fetch("explain " + statement, *parameters))


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
    plan = await explain_without_seq_scan_or_sort(engine, statement, parameters)
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


# ---- GET /v1/commissions by cursor ----

supervisor_actor = Actor(Role.SUPERVISOR, BUREAU.id, "inspector")
court_actor = Actor(Role.COURT, COURT.id, "clerk")
# (n, institution, next deadline in days from MONDAY or none, category): ties on the 1st, none last.
LISTED = [
    (0, INSTITUTION.id, 5, "forensic_clinical"),
    (1, INSTITUTION.id, 1, "forensic_pathology"),
    (2, INSTITUTION.id, 1, "forensic_clinical"),
    (3, OTHER_INSTITUTION.id, 1, "forensic_clinical"),
    (4, INSTITUTION.id, 9, "forensic_pathology"),
    (5, INSTITUTION.id, None, "forensic_clinical"),
    (6, INSTITUTION.id, 1, "forensic_clinical"),
    (7, INSTITUTION.id, 3, "forensic_pathology"),
    (8, INSTITUTION.id, None, "forensic_pathology"),
    (9, INSTITUTION.id, -2, "forensic_clinical"),
]


async def add_listed(sessions: async_sessionmaker[AsyncSession]) -> None:
    for n, institution_id, days, category in LISTED:
        due = MONDAY + timedelta(days=days) if days is not None else None
        await add_commission(sessions, n, institution_id, next_due_on=due, category=category)


def expected_order(keep: Callable[[tuple[int, str, int | None, str]], bool]) -> list[str]:
    kept = [row for row in LISTED if keep(row)]
    return [f"REF-{n}" for n, _, days, _ in sorted(kept, key=lambda r: (r[2] is None, r[2] or 0, r[0]))]


async def walk_commissions(
    api: httpx.AsyncClient, auth: Auth, actor: Actor, limit: int, **filters: str
) -> list[dict[str, Any]]:
    """Every page, following X-Next-Cursor; each page's body."""
    params: dict[str, Any] = {"limit": limit, **filters}
    bodies = []
    while True:
        response = await api.get("/v1/commissions", params=params, headers=auth(actor))
        assert response.status_code == 200, response.text
        body = response.json()
        bodies.append(body)
        cursor = response.headers.get("x-next-cursor")
        assert body["has_more"] == (cursor is not None)
        if cursor is None:
            assert "link" not in response.headers
            return bodies
        assert len(body["items"]) == limit
        link = urlencode({"limit": limit, **filters, "cursor": cursor})
        assert response.headers["link"] == f'</v1/commissions?{link}>; rel="next"'
        params = {"limit": limit, **filters, "cursor": cursor}


async def test_commission_pages_by_cursor_cover_the_list_in_order_without_gap_or_repeat(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_listed(sessions)
    for actor, filters, keep in (
        (supervisor_actor, {}, lambda r: True),
        (institution_actor, {}, lambda r: r[1] == INSTITUTION.id),
        (court_actor, {"category": "forensic_pathology"}, lambda r: r[3] == "forensic_pathology"),
        (
            institution_actor,
            {"due_before": str(MONDAY + timedelta(days=3))},
            lambda r: r[1] == INSTITUTION.id and r[2] is not None and r[2] <= 3,
        ),
    ):
        expected = expected_order(keep)
        for limit in (1, 3, len(expected)):
            bodies = await walk_commissions(api, auth, actor, limit, **filters)
            assert [i["court_reference"] for b in bodies for i in b["items"]] == expected, (actor, filters)
            assert len(bodies) == max(1, -(-len(expected) // limit))
            # Each page says where it starts and, counted from there, how many match.
            assert [b["offset"] for b in bodies] == [limit * p for p in range(len(bodies))]
            assert {(b["total"], b["total_exact"]) for b in bodies} == {(len(expected), True)}


async def test_an_offset_page_hands_out_the_cursor_of_the_next(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_listed(sessions)
    expected = expected_order(lambda r: True)
    first = await api.get("/v1/commissions", params={"limit": 3, "offset": 2}, headers=auth(supervisor_actor))
    assert [i["court_reference"] for i in first.json()["items"]] == expected[2:5]
    assert (
        first.headers["link"]
        == f'</v1/commissions?limit=3&cursor={first.headers["x-next-cursor"]}>; rel="next"'
    )
    following = await api.get(
        "/v1/commissions",
        params={"limit": 3, "cursor": first.headers["x-next-cursor"]},
        headers=auth(supervisor_actor),
    )
    body = following.json()
    assert [i["court_reference"] for i in body["items"]] == expected[5:8]
    assert (body["offset"], body["total"], body["total_exact"], body["has_more"]) == (5, 10, True, True)


async def test_cursor_pages_count_a_bounded_way_ahead_too(
    api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "COUNT_AHEAD", 3)
    for n in range(8):
        await add_commission(sessions, n, INSTITUTION.id)
    bodies = await walk_commissions(api, auth, institution_actor, 2)
    # (offset, total, total_exact) of each page: counted up to 3 past its start, the last page exact.
    assert [(b["offset"], b["total"], b["total_exact"]) for b in bodies] == [
        (0, 3, False),
        (2, 5, False),
        (4, 7, False),
        (6, 8, True),
    ]
    last = await api.get("/v1/commissions", params={"limit": 2, "offset": 4}, headers=auth(institution_actor))
    exact = await api.get(
        "/v1/commissions",
        params={"limit": 2, "cursor": last.headers["x-next-cursor"], "count": "exact"},
        headers=auth(institution_actor),
    )
    assert (exact.json()["offset"], exact.json()["total"], exact.json()["total_exact"]) == (6, 8, True)


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def test_a_bad_commission_cursor_or_one_with_an_offset_is_a_422(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for n in range(3):
        await add_commission(sessions, n, INSTITUTION.id)
    first = await api.get("/v1/commissions", params={"limit": 1}, headers=auth(institution_actor))
    good = first.headers["x-next-cursor"]
    for params, field in (
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": cursor_of('["2026-13-40", "x", 1]')}, "cursor"),  # no such date
        ({"cursor": cursor_of("[null, 7, 1]")}, "cursor"),  # an id is text
        ({"cursor": cursor_of('[null, "' + "x" * 37 + '", 1]')}, "cursor"),
        ({"cursor": cursor_of('[null, "x", -1]')}, "cursor"),
        ({"cursor": cursor_of('[null, "x"]')}, "cursor"),  # a task's cursor
        ({"cursor": good, "offset": "5"}, "offset"),
    ):
        response = await api.get("/v1/commissions", params=params, headers=auth(institution_actor))
        assert response.status_code == 422, params
        error = response.json()["error"]
        assert error["code"] == "invalid_input"
        assert [d["field"] for d in error["details"]] == [field]


async def test_a_later_commission_page_is_a_range_scan_of_its_scope_s_index_without_a_sort(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await add_listed(sessions)
    for actor, index in (
        (supervisor_actor, "ix_commission_due_order"),
        (institution_actor, "ix_commission_institution_due_order"),
        (court_actor, "ix_commission_court_due_order"),
    ):
        first = await api.get("/v1/commissions", params={"limit": 2}, headers=auth(actor))
        with statements(engine) as seen:
            later = await api.get(
                "/v1/commissions",
                params={"limit": 2, "cursor": first.headers["x-next-cursor"]},
                headers=auth(actor),
            )
        assert later.status_code == 200
        (statement, parameters), *_ = [s for s in seen if s[0].startswith("SELECT commission.id")]
        plan = await explain_without_seq_scan_or_sort(engine, statement, parameters)
        # On a handful of rows the planner may take the unscoped due-order index with the scope
        # as a filter (the costs are a hair apart); either is a range scan bounded by the cursor.
        assert any(
            f"Index Scan using {name} on commission" in plan for name in (index, "ix_commission_due_order")
        ), plan
        assert "Sort" not in plan, plan
        index_condition = next(line for line in plan.splitlines() if "Index Cond" in line)
        assert "ROW(COALESCE(" in index_condition, plan  # the cursor bounds the scan, not a filter
