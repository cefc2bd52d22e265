"""The SLA monitor's state survives a crash, on the real broker: clocks started, paused
and met before a SIGKILL are found as they were by the next process, which goes on from
them; nothing applied before the crash is applied or announced again."""

import asyncio
import os
import signal
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.events import Event, parse_event, serialize, utcnow
from shared.events.cases import CaseKind, CaseOpened, CaseReplied, Channel, Priority
from shared.kafka import ensure_topics
from shared.topics import Topic
from services.cli.processes import start, stop_all, wait_ready
from tests.kafka_reader import TopicReader
from tests.sla_events import booked, no_access

pytestmark = pytest.mark.kafka

PORT = int(os.environ.get("DOORSTEP_E2E_BASE_PORT", "18080")) + 17


def case(run: str, name: str) -> dict[str, str]:
    case_id = f"restart-{run}-{name}"
    return {"correlation_id": case_id, "case_id": case_id, "reference": f"HX-R{name.upper()}"}


async def produce(bootstrap: str, *events: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for event in events:
            await producer.send(str(_topic_of(event)), serialize(event), key=event.key())
        await producer.flush()
    finally:
        await producer.stop()


def _topic_of(event: Event) -> Topic:
    return Topic.APPOINTMENTS if event.event_type.startswith("appointment.") else Topic.CASES


def clocks_of(subject_id: str) -> list[dict]:  # type: ignore[type-arg]
    reply = httpx.get(f"http://127.0.0.1:{PORT}/clocks", params={"subject_id": subject_id}, timeout=5)
    reply.raise_for_status()
    return reply.json()


async def wait_for_state(subject_id: str, definition: str, state: str) -> dict:  # type: ignore[type-arg]
    async with asyncio.timeout(150):
        while True:
            found = [c for c in await asyncio.to_thread(clocks_of, subject_id) if c["definition"] == definition]
            if found and found[0]["state"] == state:
                return found[0]
            await asyncio.sleep(0.3)


async def test_clocks_started_paused_and_met_before_a_crash_go_on_after_it(kafka_bootstrap: str, tmp_path: Path):
    await ensure_topics(kafka_bootstrap)
    run = os.urandom(4).hex()
    repair, letter, answered = case(run, "a"), case(run, "b"), case(run, "c")
    now = utcnow()
    reported = now - timedelta(days=2)
    await produce(
        kafka_bootstrap,
        CaseOpened(channel=Channel.PHONE, kind=CaseKind.REPAIR_REQUEST, priority=Priority.ROUTINE,
                   received_at=reported, **repair),
        CaseOpened(channel=Channel.LETTER, kind=CaseKind.LETTER, received_at=now, **letter),
        CaseOpened(channel=Channel.LETTER, kind=CaseKind.LETTER, received_at=now, **answered),
        CaseReplied(replied_at=now + timedelta(minutes=1), **answered),
    )
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SLA_MONITOR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sla.db'}",
        "SLA_MONITOR_HTTP_PORT": str(PORT),
    }
    with (tmp_path / "sla.log").open("wb") as log, (tmp_path / "sla-again.log").open("wb") as log_again:
        first = {"sla_monitor": start("sla_monitor", env, log)}
        try:
            await asyncio.to_thread(wait_ready, first, {"sla_monitor": PORT}, 60)
            await wait_for_state(repair["case_id"], "repair_completion_routine", "running")
            await produce(kafka_bootstrap, no_access(f"appt-{run}", reported + timedelta(hours=3)).model_copy(update=repair))
            paused = await wait_for_state(repair["case_id"], "repair_completion_routine", "paused")
            await wait_for_state(answered["case_id"], "letter_reply", "met")
            await wait_for_state(letter["case_id"], "letter_reply", "running")
        finally:
            first["sla_monitor"].send_signal(signal.SIGKILL)
            first["sla_monitor"].wait()

        again = {"sla_monitor": start("sla_monitor", env, log_again)}
        try:
            await asyncio.to_thread(wait_ready, again, {"sla_monitor": PORT}, 60)
            rebooked_at = utcnow()
            await produce(
                kafka_bootstrap,
                booked(f"appt2-{run}", rebooked_at + timedelta(days=3), rebooked_at).model_copy(update=repair),
                CaseReplied(replied_at=rebooked_at, **letter),
            )
            await wait_for_state(letter["case_id"], "letter_reply", "met")
            resumed = await wait_for_state(repair["case_id"], "repair_completion_routine", "running")
            async with TopicReader(kafka_bootstrap, Topic.SLA_OUTCOMES) as reader:
                await reader.wait_for(lambda seen: seen.json().get("subject_id") == letter["case_id"], timeout=60)
                await asyncio.sleep(2)  # anything more the monitor would say
                for _ in range(5):
                    await reader.poll()
        finally:
            stop_all(again)

    # The pause was there to carry over: the deadline moved by the time on hold.
    assert datetime.fromisoformat(resumed["deadline"]) > datetime.fromisoformat(paused["deadline"])
    met = [parse_event(seen.value) for seen in reader.seen]
    ours = sorted(m.subject_id for m in met if m.subject_id.startswith(f"restart-{run}-"))  # type: ignore[union-attr]
    assert ours == sorted([answered["case_id"], letter["case_id"]])  # each met once, none again after the crash
