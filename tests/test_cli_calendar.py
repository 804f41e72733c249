"""`appraisal calendar` loads a year's official schedule from a file, the same
way `PUT /v1/calendar/{year}` does."""

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from appraisal.cli import main
from appraisal.db.models import CalendarYear
from appraisal.embedded import EmbeddedPostgres


async def test_calendar_load_from_a_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres: EmbeddedPostgres,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    schedule = tmp_path / "2027.json"
    schedule.write_text(
        json.dumps(
            {
                "year": 2027,
                "rest_days": ["2027-01-01", "2027-02-05", "2027-02-08"],
                "makeup_workdays": ["2027-02-20"],
                "source": "国务院办公厅关于2027年部分节假日安排的通知",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("DATABASE_URL", postgres.url("appraisal"))
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_env.client.service_client.config.target_host)
    monkeypatch.setenv("TASK_QUEUE", task_queue)
    assert await asyncio.to_thread(main, ["calendar", "load", str(schedule), "--by", "王处长"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["official"] is True and printed["reload_workflow_id"].startswith("calendar-2027-")
    async with sessions() as session:
        row = await session.get(CalendarYear, 2027)
    assert row is not None and row.loaded_by == "operator:王处长" and len(row.rest_days) == 3

    assert await asyncio.to_thread(main, ["calendar", "show", "2027"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["makeup_workdays"] == ["2027-02-20"] and shown["official"] is True
