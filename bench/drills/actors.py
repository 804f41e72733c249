"""Simulated people taking every commission through the REST happy path, as
clients that survive outages should behave.

One court clerk (COURT_1) entrusts each commission; the intake desk of
INSTITUTION_1 accepts it with two clinical appraisers; the first appraiser
submits the report; both appraisers sign it at the same time; the head
(HEAD_1) issues it; the court closes it. Each actor has its own HTTP client;
all of them together keep at most `concurrency` requests in flight.

How they retry (`Actors.step`):

- 503, a refused or dropped connection, or no answer within the client
  timeout: the step is sent again after a jittered backoff (0.25 s doubling
  to at most 5 s), until the step's own deadline.
- 409 `not_in_stage` (or `already_signed`) once an earlier attempt of the
  same step got no clear answer: that attempt may have gone through, so the
  commission is read back (GET /v1/commissions/{id}) until it shows the
  step done (the read model trails the workflow by one activity), and the
  step is done; it is not sent again. A 409 after nothing but 503s is counted
  as well: a 503 says "nothing was changed" unless it says the step may
  still complete.
- Entrusting again with the same `court_reference` must answer 200 with the
  same commission: never a second one.
- Any other answer (a 404 for a commission that exists, a 500, …) is
  recorded with its body as unexpected, then retried like a 503 until the
  step's deadline, so that one bad answer does not hide whether anything
  was lost.

Signatures are computed in this process with the same functions `appraisal
sign` uses (Ed25519 is deterministic; the first one is checked against the
command's own output), because starting that command 2·N times would cost
more CPU than the drill itself."""

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from appraisal.core.signing import demo_private_key, sign, signed_message
from bench.commissions import clinical_appraisers, demo_signature, entrustment
from bench.drills.stack import PiecesStack, log

STAGES = ["awaiting_acceptance", "examining", "signing", "awaiting_issue", "issued", "closed"]
STEPS = ["entrust", "acceptance", "report", "signature", "signature", "issue", "closure"]
EXPECTED_EVENTS = [
    "commission.entrusted",
    "commission.accepted",
    "report.submitted",
    "report.signed",
    "report.signed",
    "report.issued",
    "commission.closed",
]
"""The happy path's events, in order; beside them, once the report is issued, the seal's."""
SEALED_EVENT = "report.sealed"
# A step is past once the commission's stage is at or beyond this one.
PAST_AT = {
    "acceptance": "examining",
    "report": "signing",
    "signature": "awaiting_issue",
    "issue": "issued",
    "closure": "closed",
}
RETRY_AFTER_409 = {"not_in_stage", "already_signed"}
MIN_BACKOFF, MAX_BACKOFF = 0.25, 5.0


class StepFailed(Exception):
    pass


def clock() -> float:
    return time.monotonic()


@dataclass
class StepRecord:
    commission: int
    step: str
    began: float
    ended: float = 0.0
    ok: bool = False
    attempts: int = 0
    log: list[str] = field(default_factory=list)  # one line per attempt, UTC wall clock

    def note(self, sent: str, outcome: str) -> None:
        self.log.append(f"{self.step} attempt {self.attempts}: sent {sent}, answered {wall()} → {outcome}")


def wall() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]


@dataclass
class Unexpected:
    at: float
    commission: int
    step: str
    status: int
    body: str
    sent: str  # UTC wall clock, to set beside the Temporal history
    answered: str
    attempt: int
    request_id: str  # the API's X-Request-ID: its log lines carry it


@dataclass
class Tally:
    """What the actors saw, for the drill's figures."""

    statuses: Counter[int] = field(default_factory=Counter)
    unavailable: Counter[str] = field(default_factory=Counter)  # 503s by dependency
    unavailable_at: list[float] = field(default_factory=list)
    unavailable_messages: Counter[str] = field(default_factory=Counter)
    transport: Counter[str] = field(default_factory=Counter)
    dropped: list[tuple[str, str, str]] = field(default_factory=list)  # (UTC, error, "#n step")
    retries: int = 0
    resolved_409: list[str] = field(default_factory=list)  # "#12 acceptance after 503, ReadTimeout"
    # 409s that followed nothing but 503s saying "nothing was changed": commission indexes
    after_503_only: list[int] = field(default_factory=list)
    repeats_200: int = 0
    unexpected: list[Unexpected] = field(default_factory=list)
    records: list[StepRecord] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def steps_done(self) -> int:
        return sum(1 for r in self.records if r.ok)


@dataclass
class Commission:
    index: int
    reference: str
    id: str = ""
    workflow_id: str = ""
    stage: str = "not_entrusted"
    done: bool = False
    seq: int = 0
    """The commission's sequence its last step answered: the next step's X-Min-Seq."""


@dataclass
class Actor:
    key: str  # demo principal: COURT_1, INSTITUTION_1, HEAD_1, APPRAISER_n
    client: httpx.AsyncClient
    headers: dict[str, str]


class Actors:
    def __init__(
        self,
        stack: PiecesStack,
        *,
        concurrency: int,
        timeout: float,
        step_deadline: float,
        think: float,
    ) -> None:
        self.stack = stack
        self.slots = asyncio.Semaphore(concurrency)
        self.limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.timeout = httpx.Timeout(timeout, connect=5)
        self.step_deadline = step_deadline
        self.think = think
        self.tally = Tally()
        self.actors: dict[str, Actor] = {}
        self.appraisers: list[tuple[str, str]] = []  # (id, demo key)
        self.run = uuid.uuid4().hex[:8]

    def reference(self, index: int) -> str:
        return f"(2026)渝0103民初{self.run}号-鉴{index + 1}"

    async def __aenter__(self) -> "Actors":
        async with httpx.AsyncClient(base_url=self.stack.api_url, timeout=30) as api:
            self.appraisers = await clinical_appraisers(api, self.stack)
        keys = ["COURT_1", "INSTITUTION_1", "HEAD_1", *(key for _, key in self.appraisers)]
        for key in keys:
            client = httpx.AsyncClient(base_url=self.stack.api_url, timeout=self.timeout, limits=self.limits)
            self.actors[key] = Actor(key, client, self.stack.auth(key))
        first_id = self.appraisers[0][0]
        probe = "0" * 64
        from_command = await asyncio.to_thread(demo_signature, first_id, probe)
        if self.signature(first_id, probe) != from_command:
            raise RuntimeError("the in-process signature differs from `appraisal sign`")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for actor in self.actors.values():
            await actor.client.aclose()

    @staticmethod
    def signature(appraiser_id: str, report_hash: str) -> str:
        return sign(demo_private_key(appraiser_id), signed_message("sign", report_hash))

    # ---- one request, one step ----

    async def _send(self, actor: Actor, method: str, path: str, body: Any = None) -> httpx.Response:
        async with self.slots:
            return await actor.client.request(method, path, json=body, headers=actor.headers)

    async def read(self, actor: Actor, path: str, *, within: float = 120) -> Any:
        """A GET, retried on 503 and connection errors until `within` seconds."""
        deadline, backoff = clock() + within, MIN_BACKOFF
        while True:
            try:
                response = await self._send(actor, "GET", path)
                if response.status_code == 200:
                    return response.json()
                problem = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as err:
                problem = type(err).__name__
            if clock() > deadline:
                raise StepFailed(f"GET {path}: {problem}")
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _is_past(self, snapshot: dict[str, Any], step: str, appraiser_id: str) -> bool:
        stage = str(snapshot.get("stage", ""))
        if stage not in STAGES:
            return False
        if step == "signature":
            signed = {s["appraiser_id"] for s in (snapshot.get("report") or {}).get("signatures", [])}
            if appraiser_id in signed:
                return True
        return STAGES.index(stage) >= STAGES.index(PAST_AT[step])

    async def _wait_past(
        self, actor: Actor, c: Commission, step: str, appraiser_id: str, deadline: float
    ) -> dict[str, Any] | None:
        """After a 409 that says the step is no longer possible: reads the
        commission until it shows the step done. The workflow changes its stage
        before the activity that projects the read model has run, so an
        attempt still under way (say, one whose client gave up waiting) makes a
        retry answer 409 a little before GET shows the step done."""
        backoff = MIN_BACKOFF
        while True:
            snapshot = dict(await self.read(actor, f"/v1/commissions/{c.id}"))
            if self._is_past(snapshot, step, appraiser_id):
                return snapshot
            if clock() > deadline:
                return None
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def step(
        self,
        c: Commission,
        step: str,
        actor: Actor,
        method: str,
        path: str,
        body: Any,
        *,
        appraiser_id: str = "",
    ) -> dict[str, Any]:
        record = StepRecord(c.index, step, clock())
        self.tally.records.append(record)
        deadline, backoff = record.began + self.step_deadline, MIN_BACKOFF
        earlier: list[str] = []  # outcomes of earlier attempts
        while True:
            record.attempts += 1
            outcome, detail, sent = "", "", ""

            async def send() -> httpx.Response:
                nonlocal sent
                async with self.slots:  # waiting for a slot is not part of the request
                    sent = wall()
                    after = {"X-Min-Seq": str(c.seq)} if c.seq else {}
                    return await actor.client.request(
                        method, path, json=body, headers={**actor.headers, **after}
                    )

            try:
                response = await send()
            except httpx.TransportError as err:
                outcome = type(err).__name__
                self.tally.transport[outcome] += 1
                self.tally.dropped.append((wall(), outcome, f"#{c.index + 1} {step} sent {sent}"))
            else:
                status = response.status_code
                self.tally.statuses[status] += 1
                answer: dict[str, Any] = {}
                with contextlib.suppress(ValueError):
                    answer = dict(response.json())
                error = answer.get("error") or {}
                if status in (200, 201):
                    if step == "entrust" and status == 200:
                        if earlier:
                            self.tally.repeats_200 += 1
                        else:  # a reference never used before cannot be a repeat
                            self._unexpected(record, response, sent)
                    record.note(sent, str(status))
                    record.ok, record.ended = True, clock()
                    c.seq = max(c.seq, int(answer.get("last_event_seq", 0)))
                    return answer
                if status == 503:
                    # "503" promised that nothing was changed; "503?" said the step may still complete.
                    message = str(error.get("message", ""))
                    outcome = "503" if "nothing was changed" in message else "503?"
                    detail = f"({message[:70]})"
                    dependency = str((error.get("details") or {}).get("dependency", "?"))
                    self.tally.unavailable[dependency] += 1
                    self.tally.unavailable_messages[message] += 1
                    self.tally.unavailable_at.append(clock())
                elif status == 409 and error.get("code") in RETRY_AFTER_409 and step != "entrust":
                    if not earlier:  # nothing of ours can have gone through before
                        self._unexpected(record, response, sent)
                    snapshot = await self._wait_past(actor, c, step, appraiser_id, deadline)
                    if snapshot is not None:
                        note = f"#{c.index + 1} {step} after {', '.join(earlier) or 'no earlier attempt'}"
                        if earlier and all(e == "503" for e in earlier):
                            self.tally.after_503_only.append(c.index)
                        self.tally.resolved_409.append(note)
                        record.note(sent, f"409 {error.get('code')}; the commission is past the step: done")
                        record.ok, record.ended = True, clock()
                        return snapshot
                    outcome = f"409 {error.get('code')}, yet the commission never got past the step"
                    self._unexpected(record, response, sent)
                else:
                    outcome = str(status)
                    self._unexpected(record, response, sent)
            record.note(sent, f"{outcome} {detail}".strip())
            earlier.append(outcome)
            if clock() > deadline:
                record.ended = clock()
                message = f"#{c.index + 1} {step}: gave up after {record.attempts} attempts ({', '.join(earlier[-5:])})"
                self.tally.failed.append(message)
                raise StepFailed(message)
            self.tally.retries += 1
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _unexpected(self, record: StepRecord, response: httpx.Response, sent: str) -> None:
        status = response.status_code
        found = Unexpected(
            clock(),
            record.commission,
            record.step,
            status,
            response.text[:400],
            sent,
            wall(),
            record.attempts,
            response.headers.get("x-request-id", ""),
        )
        self.tally.unexpected.append(found)
        log(
            f"unexpected answer: #{found.commission + 1} {found.step} (attempt {found.attempt}, sent"
            f" {sent} UTC, answered {found.answered} UTC, request id {found.request_id}) → {status}"
            f" {found.body}"
        )

    # ---- one commission ----

    async def _pause(self) -> None:
        if self.think > 0:
            await asyncio.sleep(random.uniform(0, self.think))

    async def drive(self, c: Commission) -> None:
        """Takes one commission from entrustment to closure."""
        court, desk, head = self.actors["COURT_1"], self.actors["INSTITUTION_1"], self.actors["HEAD_1"]
        (first_id, first_key), (second_id, second_key) = self.appraisers
        created = await self.step(
            c, "entrust", court, "POST", "/v1/commissions", entrustment(self.stack, c.reference)
        )
        c.id, c.workflow_id, c.stage = str(created["id"]), str(created["workflow_id"]), str(created["stage"])
        base = f"/v1/commissions/{c.id}"

        async def take(step: str, actor: Actor, path: str, body: Any, appraiser_id: str = "") -> Any:
            await self._pause()
            answer = await self.step(
                c, step, actor, "POST", f"{base}/{path}", body, appraiser_id=appraiser_id
            )
            c.stage = str(answer.get("stage", c.stage))
            return answer

        body = {"decision": "accept", "appraiser_ids": [first_id, second_id]}
        await take("acceptance", desk, "acceptance", body)
        body = {"content": f"检验所见 {c.reference}", "opinion": "被鉴定人之损伤构成十级伤残"}
        submitted = await take("report", self.actors[first_key], "report", body)
        report_hash = str(submitted["report"]["content_hash"])

        async def signs(appraiser_id: str, key: str) -> Any:
            body = {"kind": "sign", "signature": self.signature(appraiser_id, report_hash)}
            return await take("signature", self.actors[key], "signatures", body, appraiser_id)

        await asyncio.gather(signs(first_id, first_key), signs(second_id, second_key))
        await take("issue", head, "issue", {})
        await take("closure", court, "closure", {})
        c.done = True


async def run_all(actors: Actors, commissions: list[Commission], *, ramp: float) -> None:
    """Drives every commission, the i-th starting at i/N of `ramp` seconds. A
    commission whose step gave up stops there (the tally and the checks say so)."""

    async def one(c: Commission) -> None:
        await asyncio.sleep(ramp * c.index / max(len(commissions), 1))
        with contextlib.suppress(StepFailed):  # recorded in the tally
            await actors.drive(c)

    await asyncio.gather(*(one(c) for c in commissions))
