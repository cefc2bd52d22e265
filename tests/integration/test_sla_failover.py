"""Two SLA monitors in one consumer group on the real broker, sharing one PostgreSQL
database: they share the partitions; kill one with SIGKILL and the other takes over its
clocks. Every clock is breached, and no clock gets two different breach events."""

import asyncio
import os
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from shared.calendar import Unit
from shared.db import make_engine, migrate
from shared.events import parse_event, utcnow
from shared.events.sla import Obligation, SubjectType
from shared.kafka import ensure_topics
from shared.topics import CASE_PARTITIONS, Topic
from services.cli.processes import start, stop_all, wait_ready
from services.sla_monitor.adapters.clock_store import _row
from services.sla_monitor.adapters.tables import clocks
from services.sla_monitor.bootstrap import MIGRATIONS
from services.sla_monitor.domain.clocks import Clock
from tests.kafka_reader import TopicReader

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CLOCKS = 36
PORTS = {"a": 18191, "b": 18192}


def due_clocks(run: str, first_deadline_in: float) -> list[Clock]:
    now = utcnow()
    return [
        Clock(
            id=f"failover:{run}:{n}",
            definition="letter_reply",
            standard="hexagon@2024-01-01",
            obligation=Obligation.INTERNAL,
            name="Reply to a letter",
            source="000: test",
            subject_type=SubjectType.CASE,
            subject_id=f"{run}-case-{n}",
            reference=f"HX-T{n:04d}",
            instance="",
            unit=Unit.WORKING_DAYS,
            started_at=now - timedelta(days=20),
            deadline=now + timedelta(seconds=first_deadline_in + n * 0.25),
        )
        for n in range(CLOCKS)
    ]


async def seed(url: str, rows: list[Clock]) -> None:
    await migrate(MIGRATIONS, url)
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            insert(clocks),
            [{**_row(c), "topic": str(Topic.CASES), "partition": n % CASE_PARTITIONS} for n, c in enumerate(rows)],
        )
    await engine.dispose()


async def test_a_killed_monitor_hands_its_clocks_to_the_other(
    kafka_bootstrap: str, fresh_postgres_database: str, tmp_path: Path
):
    await ensure_topics(kafka_bootstrap)
    run = os.urandom(4).hex()
    rows = due_clocks(run, first_deadline_in=25)
    await seed(fresh_postgres_database, rows)
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SLA_MONITOR_DATABASE_URL": fresh_postgres_database,
    }
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in PORTS}
    monitors = {
        name: start("sla_monitor", {**env, "SLA_MONITOR_HTTP_PORT": str(port)}, logs[name])
        for name, port in PORTS.items()
    }
    try:
        await asyncio.to_thread(wait_ready, monitors, PORTS, 60)
        await asyncio.sleep(8)  # both have joined the group and split the partitions
        monitors["a"].send_signal(signal.SIGKILL)
        monitors["a"].wait()
        async with TopicReader(kafka_bootstrap, Topic.SLA_BREACHES) as reader:
            async with asyncio.timeout(90):
                while len({b.clock_id for b in ours(reader, run)}) < CLOCKS:
                    await reader.poll()
            breaches = ours(reader, run)
    finally:
        stop_all(monitors)
        for handle in logs.values():
            handle.close()
    ids_per_clock = Counter((b.clock_id, b.event_id) for b in breaches)
    assert {b.clock_id for b in breaches} == {c.id for c in rows}
    assert len({clock for clock, _ in ids_per_clock}) == len(set(ids_per_clock)), "a clock got two breach events"
    late = max((b.occurred_at - b.deadline).total_seconds() for b in breaches)
    assert late < 60, f"slowest breach came {late:.1f} s after its deadline"


def ours(reader: TopicReader, run: str) -> list:  # type: ignore[type-arg]
    events = (parse_event(seen.value) for seen in reader.seen)
    return [e for e in events if e.clock_id.startswith(f"failover:{run}:")]  # type: ignore[union-attr]
