"""Two scheduler processes on one database and the real broker: only the lease holder
runs the timed jobs; kill it with SIGKILL and the other takes over within a minute, sends
the reminders that fall due after the kill and keeps the gas sweep's offers single.
Run on a SQLite file shared by both processes and on PostgreSQL."""

import asyncio
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from shared.calendar import add_months, local_date
from shared.events import utcnow
from shared.events.compliance import CertificateKind
from shared.kafka import ensure_topics
from shared.service import Runtime
from shared.topics import Topic
from services.cli.processes import start, stop_all, wait_ready
from services.scheduler.adapters.tables import appointments
from services.scheduler.compliance.recording import Certificate, record_certificate
from services.scheduler.timed.tables import leader_leases
from tests.component.timed_support import add_appointment, add_contractor, add_homes, scheduler_runtime
from tests.kafka_reader import Seen, TopicReader

pytestmark = [pytest.mark.kafka]

BASE = int(os.environ.get("DOORSTEP_E2E_BASE_PORT", "18080")) + 20
PORTS = {"a": BASE, "b": BASE + 1}
LEASE_SECONDS = 6


async def holder(runtime: Runtime) -> str | None:
    async with runtime.sessions() as session:
        return await session.scalar(
            select(leader_leases.c.holder).where(leader_leases.c.expires_at > utcnow())
        )


async def reminded(runtime: Runtime, appointment_id: str) -> bool:
    async with runtime.sessions() as session:
        return (
            await session.scalar(
                select(appointments.c.reminded_at).where(appointments.c.id == appointment_id)
            )
            is not None
        )


async def until(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.25)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def pid_of(lease_holder: str | None) -> int | None:
    return int(lease_holder.split(":")[-2]) if lease_holder else None


async def test_a_killed_leader_hands_the_timed_jobs_to_the_other_on_sqlite(
    kafka_bootstrap: str, tmp_path: Path
):
    await failover(kafka_bootstrap, f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}", tmp_path)


@pytest.mark.postgres
async def test_a_killed_leader_hands_the_timed_jobs_to_the_other_on_postgresql(
    kafka_bootstrap: str, fresh_postgres_database: str, tmp_path: Path
):
    await failover(kafka_bootstrap, fresh_postgres_database, tmp_path)


async def failover(kafka_bootstrap: str, database: str, tmp_path: Path) -> None:
    await ensure_topics(kafka_bootstrap)
    runtime = await scheduler_runtime(database)
    run = os.urandom(4).hex()  # the topics outlive the test: only this run's records count
    [home] = await add_homes(runtime, 1, prefix=f"{run}-P")
    await add_contractor(runtime)
    today = local_date(utcnow())
    await record_certificate(runtime, Certificate(CertificateKind.GAS_SAFETY, home, add_months(today, -11)))
    now = utcnow()
    # Reminded by whoever leads first, and one that falls due well after the kill.
    early, late = f"{run}-early", f"{run}-late"
    visit = {"property_id": home, "tenancy_id": f"T-{home}"}
    await add_appointment(runtime, early, now + timedelta(days=2), remind_at=now, place=1, **visit)
    await add_appointment(
        runtime, late, now + timedelta(days=2), remind_at=now + timedelta(seconds=40), place=2, **visit
    )
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SCHEDULER_DATABASE_URL": database,
        "SCHEDULER_LEADER_LEASE_SECONDS": str(LEASE_SECONDS),
        "SCHEDULER_LEADER_RENEW_SECONDS": "1",
        "SCHEDULER_REMINDER_CHECK_SECONDS": "1",
        "SCHEDULER_COMPLIANCE_SWEEP_SECONDS": "2",
    }
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in PORTS}
    schedulers = {"a": start("scheduler", {**env, "SCHEDULER_HTTP_PORT": str(PORTS["a"])}, logs["a"])}
    try:
        await asyncio.to_thread(wait_ready, schedulers, PORTS, 90)
        leader = await until(lambda: holder(runtime), 30, "the first scheduler leads")
        assert pid_of(leader) == schedulers["a"].pid
        await until(lambda: reminded(runtime, early), 30, "the leader sends the due reminder")
        schedulers["b"] = start("scheduler", {**env, "SCHEDULER_HTTP_PORT": str(PORTS["b"])}, logs["b"])
        await asyncio.to_thread(wait_ready, {"b": schedulers["b"]}, PORTS, 90)
        await asyncio.sleep(2 * LEASE_SECONDS)
        assert pid_of(await holder(runtime)) == schedulers["a"].pid, (
            "the second took the lease from a live leader"
        )

        schedulers["a"].send_signal(signal.SIGKILL)
        schedulers["a"].wait()
        killed = time.monotonic()
        taken = await until(
            lambda: _held_by(runtime, schedulers["b"].pid), 60, "the second scheduler takes the lease"
        )
        takeover = time.monotonic() - killed
        await until(
            lambda: reminded(runtime, late), 60, "the new leader sends the reminder due after the kill"
        )
        assert taken and takeover < 60
        print(f"lease taken over {takeover:.1f} s after the kill (lease {LEASE_SECONDS} s)")

        async with TopicReader(
            kafka_bootstrap, str(Topic.NOTIFICATIONS_REQUESTED), str(Topic.COMPLIANCE)
        ) as reader:
            reminder = await reader.wait_for(lambda s: decoded(s).get("appointment_id") == late, timeout=30)
            await asyncio.sleep(3 * 2)  # several more sweeps, by the new leader
            await reader.poll()
        seen = [(s.topic, decoded(s)) for s in reader.seen]
        ours = [
            e for _, e in seen if e.get("property_id") == home or e.get("appointment_id") in {early, late}
        ]
    finally:
        stop_all(schedulers)
        for handle in logs.values():
            handle.close()
        await runtime.engine.dispose()
    assert reminder.json()["purpose"] == "appointment_reminder"
    reminders = [
        e["appointment_id"]
        for e in ours
        if e["event_type"] == "notification.requested" and e["purpose"] == "appointment_reminder"
    ]
    assert sorted(reminders) == [early, late]
    offers = [e for e in ours if e["event_type"] == "compliance.gas_check_offered"]
    assert len(offers) == 1 and offers[0]["attempt"] == 1, "the gas check was offered more than once"
    gas_requests = [
        e
        for topic, e in seen
        if topic == str(Topic.NOTIFICATIONS_REQUESTED) and e.get("case_id") == offers[0]["case_id"]
    ]
    assert [e["purpose"] for e in gas_requests] == ["gas_check_offer"]
    assert any(e["event_type"] == "compliance.certificate_recorded" for e in ours)


def decoded(seen: Seen) -> dict[str, object]:
    """The record as JSON; {} for anything else (other tests put poison on these topics)."""
    try:
        value = seen.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def _held_by(runtime: Runtime, pid: int) -> bool:
    return pid_of(await holder(runtime)) == pid
