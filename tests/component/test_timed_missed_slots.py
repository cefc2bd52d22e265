"""The missed-slot job with booking's own `contractor_missed`: a slot that ended with no
arrival gets one £10 credit and one contractor_missed event, however often the job runs."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.events import utcnow
from shared.service import Runtime
from services.scheduler.adapters.tables import rent_credits
from services.scheduler.timed.missed import report_missed_slots
from services.scheduler.visits import contractor_missed
from tests.component.timed_support import (
    add_appointment,
    add_contractor,
    add_homes,
    outbox_events,
    scheduler_runtime,
    sqlite_url,
)

GRACE = timedelta(minutes=30)


@pytest.fixture
async def runtime(tmp_path: Path) -> Runtime:
    runtime = await scheduler_runtime(sqlite_url(tmp_path))
    await add_homes(runtime, 1)
    await add_contractor(runtime)
    yield runtime
    await runtime.engine.dispose()


async def test_an_unattended_slot_is_reported_once(runtime: Runtime):
    now = utcnow()
    await add_appointment(runtime, "missed", now - timedelta(hours=5), place=1)  # ended an hour ago
    await add_appointment(
        runtime,
        "arrived",
        now - timedelta(hours=5),
        place=2,
        arrived_at=now - timedelta(hours=4),
        status="arrived",
    )
    await add_appointment(
        runtime, "just-ended", now - timedelta(hours=4, minutes=10), place=3
    )  # within the grace
    await add_appointment(runtime, "to-come", now + timedelta(hours=1), place=4)
    assert await report_missed_slots(runtime, GRACE, contractor_missed) == 1
    assert await report_missed_slots(runtime, GRACE, contractor_missed) == 0
    [missed] = await outbox_events(runtime, "appointment.contractor_missed")
    assert missed.appointment_id == "missed"
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(rent_credits)) == 1


async def test_one_failure_does_not_hold_up_the_others(runtime: Runtime):
    now = utcnow()
    await add_appointment(runtime, "first", now - timedelta(hours=6), place=1)
    await add_appointment(runtime, "second", now - timedelta(hours=6), place=2)
    calls: list[str] = []

    async def flaky(rt: Runtime, appointment_id: str, reported_by: str) -> None:
        calls.append(appointment_id)
        if appointment_id == "first":
            raise RuntimeError("database hiccup")
        await contractor_missed(rt, appointment_id, reported_by)

    assert await report_missed_slots(runtime, GRACE, flaky) == 1
    assert sorted(calls) == ["first", "second"]
    assert await report_missed_slots(runtime, GRACE, contractor_missed) == 1
