"""Plain JSON values of the domain's dataclasses, as the audit trail, the read model and
the API hold them."""

import dataclasses
import json
from datetime import date, datetime
from typing import Any


def jsonable(value: Any) -> Any:
    """A dataclass as plain JSON values (instants and dates in ISO 8601)."""

    def default(o: Any) -> str:
        if isinstance(o, datetime | date):
            return o.isoformat()
        raise TypeError(f"not JSON serialisable: {type(o)}")

    raw = (
        dataclasses.asdict(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type)
        else value
    )
    return json.loads(json.dumps(raw, default=default, ensure_ascii=False))
