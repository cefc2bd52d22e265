"""Failure reports for one mobile arriving at the same moment, each in its own
transaction, on both databases the notifier runs on: every failure is counted, none is
refused, and staff are asked once to check the tenant's contact details."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.db import migrate
from shared.service import Runtime
from services.notifier import suppression
from services.notifier.adapters.tables import failing_mobiles
from services.notifier.bootstrap import bootstrap
from services.notifier.settings import NotifierSettings

REPORTS = 8
LIMIT = 3


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}"
    return request.getfixturevalue("fresh_postgres_database")


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = NotifierSettings(
        database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1", outbox_dir=tmp_path / "outbox"
    )
    runtime = bootstrap(settings)
    await migrate(runtime.migrations, runtime.settings.database())
    yield runtime
    await runtime.engine.dispose()


async def test_failures_for_one_mobile_at_once_are_all_counted_and_staff_asked_once(runtime: Runtime):
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    start = asyncio.Event()

    async def report() -> None:
        await start.wait()
        async with runtime.sessions.begin() as session:
            await suppression.failed(runtime, session, "+447700900123", "case-1", now, LIMIT)

    reports = [asyncio.create_task(report()) for _ in range(REPORTS)]
    await asyncio.sleep(0)
    start.set()
    await asyncio.gather(*reports)

    outbox = runtime.outbox.table
    async with runtime.sessions() as session:
        row = (await session.execute(select(failing_mobiles))).one()
        tasks = await session.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.event_type == "staff_task.raised")
        )
    assert row.failures == REPORTS
    assert row.suppressed_since is not None
    assert tasks == 1
