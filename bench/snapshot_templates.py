"""Captures real read-model snapshots, one per stage, for bench/supervisor_reads.py to copy.

Starts `appraisal dev` and drives two commissions over HTTP: one along the
happy path (awaiting_acceptance → examining → signing → awaiting_issue →
issued → closed), one through a request for materials (awaiting_materials),
the court's supply, then a refusal (refused). After each step it fetches
the commission from the API (GET /v1/commissions/{id}, to confirm the
stage) and takes the JSONB snapshot the read model stored for it from the
stack's PostgreSQL (`commission.snapshot`, exactly what the list endpoints
read back), together with the ids it mentions. The first snapshot of each
stage is written to bench/snapshot_templates.json.

    .venv/bin/python -m bench.snapshot_templates
"""

import argparse
import asyncio
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench import report
from bench.commissions import demo_signature, expect
from bench.lifecycle_throughput import REPORT, Parties, all_parties, entrustment_for
from bench.stack import HOST, DevStack

TEMPLATES = Path(__file__).with_name("snapshot_templates.json")


class Capture:
    def __init__(self, api: httpx.AsyncClient, stack: DevStack, engine: AsyncEngine) -> None:
        self.api, self.stack, self.engine = api, stack, engine
        self.templates: dict[str, dict[str, Any]] = {}

    async def take(self, cid: str, parties: Parties) -> str:
        """Confirms the stage through the API, then keeps the stored snapshot
        if it is the first of its stage."""
        public = expect(
            await self.api.get(f"/v1/commissions/{cid}", headers=self.stack.auth(parties.court)), 200
        )
        async with self.engine.connect() as conn:
            stored = (
                await conn.execute(text("select stage, snapshot from commission where id = :id"), {"id": cid})
            ).one()
        stage, snapshot = str(stored.stage), dict(stored.snapshot)
        if stage != public["stage"]:
            raise RuntimeError(f"the API says {public['stage']}, the read model {stage}")
        if stage not in self.templates:
            self.templates[stage] = {
                "ids": {
                    "commission_id": snapshot["id"],
                    "workflow_id": snapshot["workflow_id"],
                    "court_id": snapshot["court_id"],
                    "court_reference": snapshot["court_reference"],
                    "institution_id": snapshot["institution_id"],
                    "appraiser_ids": [a for a, _ in parties.appraisers],
                },
                "snapshot": snapshot,
            }
            size = len(json.dumps(snapshot, ensure_ascii=False).encode())
            print(f"[bench] captured {stage}: {size} bytes of JSON", flush=True)
        return stage

    async def post(self, cid: str, who: str, path: str, body: dict[str, Any]) -> None:
        response = await self.api.post(
            f"/v1/commissions/{cid}/{path}", json=body, headers=self.stack.auth(who)
        )
        expect(response, 200)


async def capture(stack: DevStack) -> dict[str, dict[str, Any]]:
    run = uuid.uuid4().hex[:8]
    engine = create_async_engine(
        f"postgresql+asyncpg://postgres@{HOST}:{stack.ports['POSTGRES_PORT']}/appraisal"
    )
    try:
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as api:
            parties = (await all_parties(api, stack))[0]
            cap = Capture(api, stack, engine)
            (first_id, first), (second_id, second) = parties.appraisers

            # The happy path, one stage after another.
            created = expect(
                await api.post(
                    "/v1/commissions",
                    json=entrustment_for(parties, f"(2026)渝0103民初{run}号-鉴1"),
                    headers=stack.auth(parties.court),
                ),
                201,
            )
            cid = created["id"]
            await cap.take(cid, parties)
            await cap.post(
                cid,
                parties.institution,
                "acceptance",
                {"decision": "accept", "appraiser_ids": [first_id, second_id]},
            )
            await cap.take(cid, parties)
            report_hash = expect(
                await api.post(f"/v1/commissions/{cid}/report", json=REPORT, headers=stack.auth(first)), 200
            )["report"]["content_hash"]
            await cap.take(cid, parties)
            for appraiser_id, key in ((first_id, first), (second_id, second)):
                signature = await asyncio.to_thread(demo_signature, appraiser_id, report_hash)
                await cap.post(cid, key, "signatures", {"kind": "sign", "signature": signature})
            await cap.take(cid, parties)
            await cap.post(cid, parties.head, "issue", {})
            await cap.take(cid, parties)
            await cap.post(cid, parties.court, "closure", {})
            await cap.take(cid, parties)

            # Materials asked for and supplied, then a refusal.
            created = expect(
                await api.post(
                    "/v1/commissions",
                    json=entrustment_for(parties, f"(2026)渝0103民初{run}号-鉴2"),
                    headers=stack.auth(parties.court),
                ),
                201,
            )
            cid = created["id"]
            await cap.post(
                cid, parties.institution, "material-requests", {"description": "请补充伤后影像资料"}
            )
            await cap.take(cid, parties)
            supplied = {"materials": [{"name": "CT片", "sha256": hashlib.sha256(b"CT").hexdigest()}]}
            await cap.post(cid, parties.court, "materials", supplied)
            refusal = {"decision": "refuse", "ground": "PROC-05-1", "reason": "委托事项超出本机构业务范围"}
            await cap.post(cid, parties.institution, "acceptance", refusal)
            await cap.take(cid, parties)
            return cap.templates
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=300, help="seconds for the whole capture")
    args = parser.parse_args()
    run = report.Run.now("bench.snapshot_templates")
    with DevStack() as stack:
        templates = asyncio.run(asyncio.wait_for(capture(stack), timeout=args.timeout))
    document = {
        "captured": f"{run.began}, {run.revision}, by `{run.command}`",
        "templates": templates,
    }
    TEMPLATES.write_text(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    print(f"snapshot templates: {len(templates)} stages ({', '.join(templates)}) in bench/{TEMPLATES.name}")


if __name__ == "__main__":
    main()
