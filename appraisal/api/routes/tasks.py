from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from appraisal.api.deps import SessionDep
from appraisal.api.paging import PAGE_HEADERS, from_cursor, link_next_page, to_cursor
from appraisal.api.policy import AuthorizedDep
from appraisal.api.routes.commissions import ERRORS
from appraisal.api.schemas import InboxTask
from appraisal.services import commission as service
from appraisal.services.commission import InboxPosition

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


def encode_cursor(position: InboxPosition) -> str:
    return to_cursor([position.due_on.isoformat() if position.due_on else None, position.task_id])


def _inbox_position(raw: Any) -> InboxPosition:
    due_on, task_id = raw
    if not isinstance(task_id, int) or isinstance(task_id, bool) or not 0 < task_id < 2**31:
        raise ValueError("a task id is a positive 32-bit integer")
    return InboxPosition(date.fromisoformat(due_on) if due_on is not None else None, task_id)


def decode_cursor(cursor: str) -> InboxPosition:
    return from_cursor(cursor, _inbox_position)


@router.get("", response_model=list[InboxTask], responses={**ERRORS, 200: {"headers": PAGE_HEADERS}})
async def my_tasks(
    request: Request,
    response: Response,
    principal: AuthorizedDep,
    session: SessionDep,
    limit: int = Query(default=50, ge=1, le=200, description="tasks per page"),
    cursor: str | None = Query(
        default=None, max_length=200, description="where to continue: a previous page's X-Next-Cursor"
    ),
) -> list[InboxTask]:
    """The caller's inbox: every step waiting on them, soonest deadline first (tasks without
    a deadline last, then in the order they were opened), one page at a time. The body stays
    a list; the next page's cursor comes in the `X-Next-Cursor` and `Link` headers."""
    after = decode_cursor(cursor) if cursor is not None else None
    page, following = await service.inbox(session=session, principal=principal, limit=limit, after=after)
    if following is not None:
        link_next_page(response, request.url.path, [("limit", limit)], encode_cursor(following))
    return page
