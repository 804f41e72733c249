"""The test client reads its own writes, as the workspace does (docs/architecture.md,
"Consistency"): the X-Seq of every step it took is remembered by commission and sent
back as X-Min-Seq on each request (a step finds its commission in the read model too), so
a test reads what its steps wrote."""

from collections import OrderedDict

import httpx
from fastapi import FastAPI

from appraisal.services.consistency import MAX_WAITED_COMMISSIONS, MIN_SEQ_HEADER, SEQ_HEADER


def api_client(app: FastAPI) -> httpx.AsyncClient:
    written: OrderedDict[str, int] = OrderedDict()

    async def remember(response: httpx.Response) -> None:
        if SEQ_HEADER not in response.headers:
            return
        await response.aread()
        commission_id = response.json()["id"]
        written[commission_id] = max(int(response.headers[SEQ_HEADER]), written.get(commission_id, 0))
        written.move_to_end(commission_id)
        while len(written) > MAX_WAITED_COMMISSIONS:
            written.popitem(last=False)

    async def read_after(request: httpx.Request) -> None:
        if written and MIN_SEQ_HEADER not in request.headers:
            request.headers[MIN_SEQ_HEADER] = ",".join(f"{c}:{seq}" for c, seq in written.items())

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api",
        event_hooks={"request": [read_after], "response": [remember]},
    )
