"""Event time decides, on the real broker: a reply that happened before the deadline but
is still queued behind other records when the deadline has passed leaves `sla.met` and
no breach, because the monitor breaches only once its inputs are caught up."""

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from shared.events import parse_event, serialize, utcnow
from shared.events.cases import CaseFlagged, CaseKind, CaseOpened, CaseReplied, Channel
from shared.kafka import ensure_topics
from shared.topics import Topic
from services.cli.processes import start, stop_all, wait_ready
from tests.kafka_reader import TopicReader

pytestmark = pytest.mark.kafka

QUEUED_AHEAD = 3000  # records between the opening and the reply, on the same partition
PORT = 18195


async def test_a_late_arriving_reply_made_in_time_is_met_not_breached(kafka_bootstrap: str, tmp_path: Path):
    await ensure_topics(kafka_bootstrap)
    case_id = f"event-time-{os.urandom(4).hex()}"
    received = utcnow() - timedelta(days=30)
    common = {"correlation_id": case_id, "case_id": case_id, "reference": "HX-EVTIME01"}
    opened = CaseOpened(channel=Channel.LETTER, kind=CaseKind.LETTER, received_at=received, **common)
    noise = [CaseFlagged(flag="noted", flagged_at=received, **common) for _ in range(QUEUED_AHEAD)]
    replied = CaseReplied(replied_at=received + timedelta(days=2), **common)

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
    await producer.start()
    try:
        for event in (opened, *noise, replied):
            await producer.send(Topic.CASES, serialize(event), key=case_id.encode())
        await producer.flush()
    finally:
        await producer.stop()

    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SLA_MONITOR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sla.db'}",
        "SLA_MONITOR_HTTP_PORT": str(PORT),
    }
    with (tmp_path / "sla.log").open("wb") as log:
        monitor = {"sla_monitor": start("sla_monitor", env, log)}
        try:
            await asyncio.to_thread(wait_ready, monitor, {"sla_monitor": PORT}, 60)
            async with TopicReader(kafka_bootstrap, Topic.SLA_OUTCOMES, Topic.SLA_BREACHES) as reader:
                met = await reader.wait_for(
                    lambda s: s.json().get("subject_id") == case_id and s.json()["event_type"] == "sla.met",
                    timeout=120,
                )
                await asyncio.sleep(2)  # anything else the monitor would say about it
                await reader.poll()
        finally:
            stop_all(monitor)
    about_case = [parse_event(s.value) for s in reader.seen if s.json().get("subject_id") == case_id]
    assert [e.event_type for e in about_case] == ["sla.met"]
    assert parse_event(met.value).late_by is None
