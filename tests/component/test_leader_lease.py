"""The leader lease over a real SQLite file, and APScheduler's jobs kept in the same
database: one holder at a time, a takeover once the holder stops renewing, and a job
that survives a restart with its next run time."""

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from shared.service import Runtime
from services.scheduler.timed.jobstore import job_store, sync_url
from services.scheduler.timed.lease import LeaderLease
from services.scheduler.timed.runner import TimedJob, TimedJobs
from services.scheduler.timed.tables import apscheduler_jobs, leader_leases
from tests.component.timed_support import scheduler_runtime, sqlite_url


@pytest.fixture
async def runtime(tmp_path: Path) -> Runtime:
    runtime = await scheduler_runtime(sqlite_url(tmp_path))
    yield runtime
    await runtime.engine.dispose()


def test_the_job_store_speaks_to_the_same_database_synchronously():
    assert sync_url("sqlite+aiosqlite:///var/scheduler.db") == "sqlite:///var/scheduler.db"
    assert (
        sync_url("postgresql+asyncpg://u:p@db:5432/scheduler") == "postgresql+psycopg://u:p@db:5432/scheduler"
    )


async def test_one_holder_at_a_time_and_a_takeover_when_it_stops_renewing(runtime: Runtime):
    a = LeaderLease(runtime.sessions, timedelta(seconds=0.6), holder="a")
    b = LeaderLease(runtime.sessions, timedelta(seconds=0.6), holder="b")
    assert await a.claim() and a.held()
    assert not await b.claim() and not b.held()
    assert await a.claim()  # renewed
    await asyncio.sleep(0.7)
    assert not a.held()  # a cannot rely on a lease it has not renewed
    assert await b.claim() and b.held()
    assert not await a.claim()
    async with runtime.sessions() as session:
        assert await session.scalar(select(leader_leases.c.holder)) == "b"


async def test_a_released_lease_is_taken_at_once(runtime: Runtime):
    a = LeaderLease(runtime.sessions, timedelta(minutes=5), holder="a")
    b = LeaderLease(runtime.sessions, timedelta(minutes=5), holder="b")
    assert await a.claim()
    await a.release()
    assert await b.claim()


async def test_the_leader_runs_its_jobs_and_a_restart_keeps_them(runtime: Runtime):
    url = runtime.settings.database()
    ran: list[str] = []

    async def job() -> int:
        ran.append("ran")
        return 1

    def jobs() -> TimedJobs:
        return TimedJobs(
            lease=LeaderLease(runtime.sessions, timedelta(seconds=5)),
            jobs=[TimedJob("tick", job, IntervalTrigger(seconds=0.3))],
            renew_seconds=0.2,
            make_store=lambda: job_store(url),
        )

    first = jobs()
    await first.start()
    await asyncio.sleep(1.2)
    assert first.leading and ran
    await first.stop()
    async with runtime.sessions() as session:
        stored = (
            await session.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time))
        ).all()
    assert [row.id for row in stored] == ["tick"] and stored[0].next_run_time is not None
    ran.clear()
    second = jobs()
    await second.start()
    await asyncio.sleep(1.2)
    await second.stop()
    assert ran, "the stored job did not run after the restart"
