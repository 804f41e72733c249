"""`appraisal dev` as a user runs it: a subprocess with embedded PostgreSQL
and the Temporal dev server, driven over HTTP with the tokens it prints."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from appraisal.embedded import port_is_free
from tests.conftest import free_port
from tests.factories import signature

pytestmark = pytest.mark.e2e


class DevStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {
            name: free_port() for name in ("API_PORT", "POSTGRES_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT")
        }
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['API_PORT']}"

    def start(self, timeout: float = 120) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
        env.update({k: str(v) for k, v in self.ports.items()}, DATA_DIR=str(self.data_dir))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "appraisal.cli", "dev"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self.process.stdout:
            self.output.append(line)
            if "Ctrl-C stops everything" in line:
                return
            if time.monotonic() > deadline:
                break
        raise AssertionError("appraisal dev did not come up:\n" + "".join(self.output))

    def tokens(self) -> dict[str, str]:
        values = {}
        for line in (self.data_dir / "demo-tokens.env").read_text().splitlines():
            key, value = line.removeprefix("export ").split("=", 1)
            values[key] = value
        return values

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    stack = DevStack(tmp_path / "data")
    yield stack
    if stack.process and stack.process.poll() is None:
        # Ctrl-C first: the dev command stops its children, which run in their own sessions.
        stack.process.send_signal(signal.SIGINT)
        try:
            stack.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stack.process.kill()


def test_dev_command_runs_the_happy_path_and_resumes_after_restart(stack: DevStack) -> None:
    stack.start()
    banner = "".join(stack.output)
    assert f"{stack.base_url}/docs" in banner and "Temporal UI" in banner
    t = stack.tokens()

    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {t[key + '_TOKEN']}"}

    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        assert api.get("/readyz").status_code == 200
        appraisers = api.get(
            "/v1/registry/appraisers",
            params={"institution_id": t["INSTITUTION_1_ID"], "category": "forensic_clinical"},
            headers=auth("COURT_1"),
        ).json()
        ids = [a["id"] for a in appraisers]
        assert len(ids) >= 2
        created = api.post(
            "/v1/commissions",
            headers=auth("COURT_1"),
            json={
                "court_reference": "(2026)渝0103民初1234号-鉴1",
                "case_number": "(2026)渝0103民初1234号",
                "category": "forensic_clinical",
                "selection": {"mode": "designated", "institution_id": t["INSTITUTION_1_ID"]},
            },
        )
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        assert created.json()["clocks"][0]["rule"] == "PROC-03"
        steps = [
            ("INSTITUTION_1", "acceptance", {"decision": "accept", "appraiser_ids": ids[:2]}),
        ]
        keys = {t[f"APPRAISER_{n}_ID"]: f"APPRAISER_{n}" for n in range(1, 10)}
        first, second = keys[ids[0]], keys[ids[1]]
        steps += [(first, "report", {"content": "检验所见", "opinion": "构成十级伤残"})]
        # Each step is taken after the one before it has reached the read model (X-Min-Seq:
        # the sequence the previous step answered), as a client reading its own writes does.
        seq = created.headers["X-Seq"]
        for who, step, body in steps:
            headers = {**auth(who), "X-Min-Seq": seq}
            response = api.post(f"/v1/commissions/{cid}/{step}", json=body, headers=headers)
            assert response.status_code == 200, (step, response.text)
            seq = response.headers["X-Seq"]
        report_hash = response.json()["report"]["content_hash"]
        for who in (first, second):
            # Each appraiser signs with their own key, as `appraisal sign` does for the demo.
            signed = api.post(
                f"/v1/commissions/{cid}/signatures",
                json={"kind": "sign", "signature": signature(t[f"{who}_ID"], report_hash)},
                headers={**auth(who), "X-Min-Seq": seq},
            )
            assert signed.status_code == 200, signed.text
            seq = signed.headers["X-Seq"]
        issued = api.post(
            f"/v1/commissions/{cid}/issue", json={}, headers={**auth("HEAD_1"), "X-Min-Seq": seq}
        )
        assert issued.status_code == 200
        seq = issued.headers["X-Seq"]
        read = api.get(f"/v1/commissions/{cid}", headers={**auth("COURT_1"), "X-Min-Seq": seq})
        assert read.json()["stage"] == "issued"

    assert stack.stop() == 0
    assert all(port_is_free(port) for port in stack.ports.values())

    stack.start()
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        # Same data folder: the commission is still there, and its workflow still answers.
        court = {**auth("COURT_1"), "X-Min-Seq": seq}
        assert api.get(f"/v1/commissions/{cid}", headers=court).json()["stage"] == "issued"
        closed = api.post(f"/v1/commissions/{cid}/closure", json={}, headers=court)
        assert closed.status_code == 200 and closed.json()["stage"] == "closed"
        court["X-Min-Seq"] = closed.headers["X-Seq"]
        # The seal begun at issue, maybe cut short by the stop, is made after the restart:
        # recorded in the trail (before or after the closure), the sealed PDF served.
        deadline = time.monotonic() + 60
        while True:
            kinds = [e["kind"] for e in api.get(f"/v1/commissions/{cid}/audit", headers=court).json()]
            if "report.sealed" in kinds or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert kinds[0] == "commission.entrusted" and "commission.closed" in kinds[-2:]
        assert kinds.index("report.sealed") > kinds.index("report.issued")
        pdf = api.get(f"/v1/commissions/{cid}/report.pdf", headers=court)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-1.7")
    assert stack.stop() == 0


def test_children_end_when_the_dev_command_is_killed(stack: DevStack) -> None:
    """SIGKILL gives `appraisal dev` no chance to stop its children: they end with it."""
    stack.start()
    assert stack.process is not None
    stack.process.kill()
    stack.process.wait(timeout=30)
    deadline = time.monotonic() + 60
    while not all(port_is_free(port) for port in stack.ports.values()):
        assert time.monotonic() < deadline, "a child of the killed dev command still holds its port"
        time.sleep(0.2)
