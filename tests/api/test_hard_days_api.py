"""The hard-day run itself: on a hard day the test server, the worker's workflows and the
API all take that day as today, so a date-sensitive test run there means what it says."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from appraisal.domain.calendar import WorkingCalendar, local_today
from appraisal.domain.roles import Actor
from tests.api.test_commissions_api import entrust
from tests.hard_days import HardDay

pytestmark = pytest.mark.dated

Auth = Callable[[Actor], dict[str, str]]


async def test_the_server_the_workflows_and_the_api_share_the_day(
    api: httpx.AsyncClient,
    auth: Auth,
    temporal_env: WorkflowEnvironment,
    hard_day: HardDay | None,
    today: date,
) -> None:
    now = await temporal_env.get_current_time()
    if hard_day is None:
        assert abs(now - datetime.now(UTC)) < timedelta(minutes=5)
    else:
        assert hard_day.at <= now < hard_day.at + timedelta(minutes=5)
        assert today == hard_day.at.date()
    assert local_today(now) == today

    commission = await entrust(api, auth)
    assert commission["received_on"] == today.isoformat()  # the API's today
    acceptance = next(c for c in commission["clocks"] if c["rule"] == "PROC-03")
    # Planned by the worker from the same day, on the same calendar.
    assert acceptance["due_on"] == WorkingCalendar().add_working_days(today, 7).due_on.isoformat()


async def test_a_makeup_saturday_is_a_working_day_for_the_product(
    api: httpx.AsyncClient, auth: Auth, hard_day: HardDay | None, today: date
) -> None:
    if hard_day is None or hard_day.kind != "makeup_saturday":
        pytest.skip("only on the make-up Saturday")
    calendar = WorkingCalendar()
    assert today.weekday() == 5 and calendar.is_working_day(today)
    friday = today - timedelta(days=1)
    assert calendar.add_working_days(friday, 1).due_on == today  # the Saturday is day 1
    commission = await entrust(api, auth, received_on=friday.isoformat())
    acceptance = next(c for c in commission["clocks"] if c["rule"] == "PROC-03")
    assert acceptance["due_on"] == calendar.add_working_days(friday, 7).due_on.isoformat()
