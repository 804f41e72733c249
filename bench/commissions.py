"""The REST happy path of a commission, as the README's curl walk-through
and tests/api/test_commissions_api.py take it, for the benchmarks."""

import hashlib
import subprocess
import sys
from typing import Any

import httpx

from bench.stack import ROOT, DevStack

CATEGORY = "forensic_clinical"


def entrustment(stack: DevStack, reference: str) -> dict[str, Any]:
    """A designated entrustment of INSTITUTION_1 for forensic clinical medicine."""
    return {
        "court_reference": reference,
        "case_number": "(2026)渝0103民初1234号",
        "category": CATEGORY,
        "matters": ["伤残等级评定"],
        "selection": {"mode": "designated", "institution_id": stack.tokens()["INSTITUTION_1_ID"]},
        "materials": [{"name": "病历", "sha256": hashlib.sha256("病历".encode()).hexdigest()}],
    }


def acceptance(appraiser_ids: list[str]) -> dict[str, Any]:
    return {"decision": "accept", "appraiser_ids": appraiser_ids}


async def clinical_appraisers(api: httpx.AsyncClient, stack: DevStack) -> list[tuple[str, str]]:
    """Two appraisers of INSTITUTION_1 registered for forensic clinical
    medicine, as (id, demo principal key such as "APPRAISER_1")."""
    tokens = stack.tokens()
    response = await api.get(
        "/v1/registry/appraisers",
        params={"institution_id": tokens["INSTITUTION_1_ID"], "category": CATEGORY},
        headers=stack.auth("COURT_1"),
    )
    response.raise_for_status()
    keys = {value: key.removesuffix("_ID") for key, value in tokens.items() if key.startswith("APPRAISER_")}
    found = [(a["id"], keys[a["id"]]) for a in response.json() if a.get("status", "active") == "active"]
    if len(found) < 2:
        raise RuntimeError(f"fewer than two clinical appraisers in INSTITUTION_1: {response.text}")
    return found[:2]


def demo_signature(appraiser_id: str, report_hash: str) -> str:
    """A demo appraiser's Ed25519 signature of a report hash, computed the way
    the product tells its demo users to: `appraisal sign`."""
    signed = subprocess.run(
        [
            sys.executable,
            "-m",
            "appraisal.cli",
            "sign",
            "--appraiser",
            appraiser_id,
            "--report-hash",
            report_hash,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return signed.stdout.strip()


def expect(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    if response.status_code not in statuses:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.text}")
    return dict(response.json())


async def entrust(api: httpx.AsyncClient, stack: DevStack, reference: str) -> dict[str, Any]:
    response = await api.post(
        "/v1/commissions", json=entrustment(stack, reference), headers=stack.auth("COURT_1")
    )
    return expect(response, 201)
