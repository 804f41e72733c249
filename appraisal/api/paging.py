"""Keyset pages: an opaque cursor naming where the previous page ended, handed
out in `X-Next-Cursor` and as the `Link` to the next page (RFC 8288)."""

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Response

from appraisal.domain.errors import InvalidInput
from appraisal.services.commission import InboxPosition, ListPosition

T = TypeVar("T")

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


def to_cursor(position: list[Any]) -> str:
    """A page's end as URL-safe text: JSON in base64, padding dropped."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def from_cursor(cursor: str, parse: Callable[[Any], T]) -> T:
    """The position `parse` makes of a cursor's JSON; anything it refuses
    (raising TypeError or ValueError) is a 422 naming `cursor`."""
    try:
        return parse(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))))
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as err:
        # ValueError covers bad JSON, a wrong shape and a bad date.
        raise InvalidInput(
            "cursor", "not a cursor this API handed out: pass the X-Next-Cursor of the previous page"
        ) from err


def link_next_page(response: Response, path: str, params: Iterable[tuple[str, Any]], cursor: str) -> None:
    """Sets `X-Next-Cursor` and a `Link` to `path` with `params` and the cursor."""
    response.headers[NEXT_CURSOR] = cursor
    query = urlencode([*params, ("cursor", cursor)])
    response.headers["Link"] = f'<{path}?{query}>; rel="next"'


def encode_inbox_cursor(position: InboxPosition) -> str:
    return to_cursor([position.due_on.isoformat() if position.due_on else None, position.task_id])


def _inbox_position(raw: Any) -> InboxPosition:
    due_on, task_id = raw
    if not isinstance(task_id, int) or isinstance(task_id, bool) or not 0 < task_id < 2**31:
        raise ValueError("a task id is a positive 32-bit integer")
    return InboxPosition(date.fromisoformat(due_on) if due_on is not None else None, task_id)


def decode_inbox_cursor(cursor: str) -> InboxPosition:
    return from_cursor(cursor, _inbox_position)


def encode_list_cursor(position: ListPosition) -> str:
    due_on = position.next_due_on.isoformat() if position.next_due_on else None
    return to_cursor([due_on, position.commission_id, position.offset])


def _list_position(raw: Any) -> ListPosition:
    """What `encode_list_cursor` encoded; TypeError or ValueError for anything else."""
    due_on, commission_id, offset = raw
    if not isinstance(commission_id, str) or not 0 < len(commission_id) <= 36:
        raise ValueError("a commission id is a string of at most 36 characters")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 2**31:
        raise ValueError("an offset is a non-negative 32-bit integer")
    return ListPosition(date.fromisoformat(due_on) if due_on is not None else None, commission_id, offset)


def decode_list_cursor(cursor: str) -> ListPosition:
    return from_cursor(cursor, _list_position)
