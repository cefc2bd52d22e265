"""The monitor's clock store on SQLite and PostgreSQL: which clock the timer waits for
next, per owned partition, and which are due now."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar import Unit
from shared.db import make_engine, migrate, session_factory
from shared.events.sla import Obligation, SubjectType
from shared.kafka import Origin
from services.sla_monitor.adapters import clock_store
from services.sla_monitor.bootstrap import MIGRATIONS
from services.sla_monitor.domain.batch import ClockBatch
from services.sla_monitor.domain.clocks import Clock, ClockState, WarningPoint

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CASES, COMPLIANCE = "doorstep.cases", "doorstep.compliance"


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'sla_monitor.db'}"
    return request.getfixturevalue("fresh_postgres_database")


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    await migrate(MIGRATIONS, database_url)
    engine = make_engine(database_url)
    async with session_factory(engine).begin() as session:
        yield session
    await engine.dispose()


def clock(number: int, deadline: datetime, **changes: object) -> Clock:
    subject = f"case-{number}"
    return replace(
        Clock(
            id=f"hexagon:letter_reply:{subject}",
            definition="letter_reply",
            standard="hexagon@2024-01-01",
            obligation=Obligation.INTERNAL,
            name="reply to a letter",
            source="000 Customer Service Standards: within 10 working days",
            subject_type=SubjectType.CASE,
            subject_id=subject,
            reference=f"HX-{number:06d}",
            instance="",
            unit=Unit.WORKING_DAYS,
            started_at=NOW - timedelta(days=3),
            deadline=deadline,
        ),
        **changes,
    )


async def store(session: AsyncSession, *placed: tuple[Clock, str, int]) -> None:
    for stored, topic, partition in placed:
        batch = ClockBatch([])
        batch.start([stored], Origin(topic, partition, 0))
        await clock_store.write(session, batch)


async def test_the_next_alert_is_the_soonest_running_one_in_the_partitions_owned(session: AsyncSession):
    warned = clock(3, NOW + timedelta(days=9), warnings=(WarningPoint("50%", NOW + timedelta(hours=5), 0.5),))
    await store(
        session,
        (clock(1, NOW + timedelta(hours=2)), CASES, 0),
        (clock(2, NOW + timedelta(hours=1), state=ClockState.MET), CASES, 0),  # no alert: stopped
        (warned, CASES, 1),
        (clock(4, NOW + timedelta(minutes=30)), CASES, 2),
        (clock(5, NOW + timedelta(hours=3)), COMPLIANCE, 1),
    )
    assert await clock_store.next_alert(session, {(CASES, 0)}) == NOW + timedelta(hours=2)
    assert await clock_store.next_alert(session, {(CASES, 1)}) == NOW + timedelta(hours=5)
    assert await clock_store.next_alert(session, {(CASES, 0), (CASES, 1), (COMPLIANCE, 1)}) == NOW + timedelta(hours=2)
    assert await clock_store.next_alert(session, {(CASES, 2), (COMPLIANCE, 1)}) == NOW + timedelta(minutes=30)
    assert await clock_store.next_alert(session, {(COMPLIANCE, 1)}) == NOW + timedelta(hours=3)
    assert await clock_store.next_alert(session, None) == NOW + timedelta(minutes=30)


async def test_no_next_alert_where_nothing_runs_or_nothing_is_owned(session: AsyncSession):
    await store(session, (clock(1, NOW + timedelta(hours=2), state=ClockState.BREACHED), CASES, 0))
    assert await clock_store.next_alert(session, {(CASES, 0)}) is None
    assert await clock_store.next_alert(session, {(CASES, 3)}) is None
    assert await clock_store.next_alert(session, set()) is None


async def test_alerting_returns_only_what_is_due_in_the_partitions_owned(session: AsyncSession):
    await store(
        session,
        (clock(1, NOW - timedelta(minutes=1)), CASES, 0),
        (clock(2, NOW + timedelta(minutes=1)), CASES, 0),
        (clock(3, NOW - timedelta(minutes=2)), CASES, 1),
    )
    due = await clock_store.alerting(session, NOW, {(CASES, 0)})
    assert [(partition, found.id) for partition, found in due] == [((CASES, 0), "hexagon:letter_reply:case-1")]
    due = await clock_store.alerting(session, NOW, {(CASES, 0), (CASES, 1)})
    assert [found.subject_id for _, found in due] == ["case-3", "case-1"]


async def test_a_clock_reads_back_as_written_and_a_change_saves_what_changed(session: AsyncSession):
    from services.sla_monitor.domain.clocks import paused, stopped

    warned = clock(1, NOW + timedelta(days=9), warnings=(WarningPoint("50%", NOW + timedelta(hours=5), 0.5),),
                   warning_fractions=(0.5, 0.75))
    other = clock(2, NOW + timedelta(days=2))
    await store(session, (warned, CASES, 4), (other, CASES, 4))
    [loaded_warned] = await clock_store.for_subjects(session, ["case-1"])
    [loaded_other] = await clock_store.for_subjects(session, ["case-2"])
    assert (loaded_warned, loaded_other) == (warned, other)

    batch = ClockBatch([loaded_warned, loaded_other])
    batch.change([stopped(loaded_warned, NOW), paused(loaded_other, NOW)])
    await clock_store.write(session, batch)
    assert await clock_store.for_subject(session, "case-1") == [stopped(warned, NOW)]
    assert await clock_store.for_subject(session, "case-2") == [paused(other, NOW)]
    assert await clock_store.next_alert(session, {(CASES, 4)}) is None
    assert await clock_store.origin_of_subject(session, "case-1") == (CASES, 4)
