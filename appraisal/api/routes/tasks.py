import base64
import binascii
import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from appraisal.api.deps import SessionDep
from appraisal.api.policy import AuthorizedDep
from appraisal.api.routes.commissions import ERRORS
from appraisal.api.schemas import InboxTask
from appraisal.domain.errors import InvalidInput
from appraisal.services import commission as service
from appraisal.services.commission import InboxPosition

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

NEXT_CURSOR = "X-Next-Cursor"
PAGE_HEADERS: dict[str, Any] = {
    NEXT_CURSOR: {
        "description": "the `cursor` of the next page; absent on the last page",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'the next page, `<…>; rel="next"` (RFC 8288); absent on the last page',
        "schema": {"type": "string"},
    },
}


def encode_cursor(position: InboxPosition) -> str:
    raw = json.dumps([position.due_on.isoformat() if position.due_on else None, position.task_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> InboxPosition:
    try:
        due_on, task_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(task_id, int) or isinstance(task_id, bool) or not 0 < task_id < 2**31:
            raise ValueError("a task id is a positive 32-bit integer")
        return InboxPosition(date.fromisoformat(due_on) if due_on is not None else None, task_id)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as err:
        # ValueError covers bad JSON, a wrong shape and a bad date.
        raise InvalidInput(
            "cursor", "not a cursor this API handed out: pass the X-Next-Cursor of the previous page"
        ) from err


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
        next_cursor = encode_cursor(following)
        response.headers[NEXT_CURSOR] = next_cursor
        query = urlencode({"limit": limit, "cursor": next_cursor})
        response.headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
    return page
