from fastapi import APIRouter, Query, Request, Response

from appraisal.api.deps import READ_YOUR_WRITES, SessionDep
from appraisal.api.errors import ERRORS
from appraisal.api.limits import Utf8BodyRoute
from appraisal.api.paging import PAGE_HEADERS, decode_inbox_cursor, encode_inbox_cursor, link_next_page
from appraisal.api.policy import AuthorizedDep
from appraisal.schemas.commission import InboxTask
from appraisal.services import commission as service

router = APIRouter(
    prefix="/v1/tasks", tags=["tasks"], dependencies=[READ_YOUR_WRITES], route_class=Utf8BodyRoute
)


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
    after = decode_inbox_cursor(cursor) if cursor is not None else None
    page, following = await service.inbox(session=session, principal=principal, limit=limit, after=after)
    if following is not None:
        link_next_page(response, request.url.path, [("limit", limit)], encode_inbox_cursor(following))
    return page
