"""The scheduler as its own process on the real broker: case.opened on doorstep.cases
becomes an appointment, a works order and notification requests on their topics; a
tenant's texted digit books an offer; the contractor's "on the way" and a missed
appointment reach their topics."""

import asyncio
import os
import socket
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.events import parse_event, serialize, utcnow
from shared.events.cases import Channel, Priority
from shared.events.notifications import Intent, Purpose, ReplyReceived
from shared.kafka import ensure_topics
from shared.topics import Topic
from services.cli.processes import start, stop_all, wait_ready
from tests.kafka_reader import Seen, TopicReader
from tests.scheduler_world import STAFF_TOKEN, TENANT, TOKENS, opened, scheduler_runtime, seed

pytestmark = pytest.mark.kafka


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def send(bootstrap: str, topic: Topic, *events) -> None:  # type: ignore[no-untyped-def]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(str(topic), serialize(event), key=event.key())
    finally:
        await producer.stop()


def of_case(case_id: str, event_type: str, purpose: Purpose | None = None):  # type: ignore[no-untyped-def]
    def match(seen: Seen) -> bool:
        if seen.key != case_id.encode():
            return False  # another test's record, perhaps one left unreadable on purpose
        body = seen.json()
        return (
            body.get("case_id") == case_id
            and body.get("event_type") == event_type
            and (purpose is None or body.get("purpose") == purpose)
        )

    return match


async def test_the_scheduler_process_books_and_reports_on_the_real_broker(
    kafka_bootstrap: str, tmp_path: Path
):
    await ensure_topics(kafka_bootstrap)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}"
    seeded = await scheduler_runtime(database_url)
    await seed(seeded)
    await seeded.engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SCHEDULER_HTTP_PORT": str(port),
        "SCHEDULER_DATABASE_URL": database_url,
        "SCHEDULER_STAFF_TOKENS": STAFF_TOKEN,
    }
    emergency = opened(priority=Priority.EMERGENCY, description="Burst pipe, water everywhere")
    written = opened(priority=Priority.ROUTINE, channel=Channel.EMAIL)
    base = f"http://127.0.0.1:{port}"

    with (tmp_path / "scheduler.log").open("wb") as log:
        scheduler = {"scheduler": start("scheduler", env, log)}
        try:
            await asyncio.to_thread(wait_ready, scheduler, {"scheduler": port}, 60)
            async with TopicReader(
                kafka_bootstrap, Topic.APPOINTMENTS, Topic.NOTIFICATIONS_REQUESTED, Topic.FINANCE_RENT_CREDITS
            ) as reader:
                await send(kafka_bootstrap, Topic.CASES, emergency, written)

                booked = await reader.wait_for(of_case(emergency.case_id, "appointment.booked"), 60)
                order = await reader.wait_for(of_case(emergency.case_id, "works_order.raised"))
                confirmation = await reader.wait_for(
                    of_case(emergency.case_id, "notification.requested", Purpose.WORKS_ORDER_CONFIRMATION)
                )
                offers = await reader.wait_for(
                    of_case(written.case_id, "notification.requested", Purpose.APPOINTMENT_OFFERS)
                )

                appointment_id = booked.json()["appointment_id"]
                async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                    rota = {"Authorization": f"Bearer {TOKENS['c-rota']}"}
                    assert (
                        await http.post(f"/contractor/jobs/{appointment_id}/on-the-way", headers=rota)
                    ).status_code == 200
                    en_route = await reader.wait_for(
                        of_case(emergency.case_id, "appointment.contractor_en_route")
                    )
                    staff = {"Authorization": f"Bearer {STAFF_TOKEN}"}
                    missed = await http.post(
                        f"/staff/appointments/{appointment_id}/missed", headers=staff, json={}
                    )
                    assert missed.status_code == 204
                credit = await reader.wait_for(of_case(emergency.case_id, "rent_credit.due"))

                choice = ReplyReceived(
                    correlation_id=written.case_id,
                    case_id=written.case_id,
                    intent=Intent.CHOOSE_OFFER,
                    offer=1,
                    received_at=utcnow(),
                )
                await send(kafka_bootstrap, Topic.NOTIFICATIONS_OUTCOMES, choice)
                chosen = await reader.wait_for(of_case(written.case_id, "appointment.booked"), 60)
        finally:
            stop_all(scheduler)

    for seen in (booked, order, confirmation, en_route, offers, chosen, credit):
        assert seen.key == seen.json()["case_id"].encode()
    assert (booked.topic, order.topic, en_route.topic) == (Topic.APPOINTMENTS,) * 3
    assert confirmation.topic == offers.topic == Topic.NOTIFICATIONS_REQUESTED
    assert credit.topic == Topic.FINANCE_RENT_CREDITS
    assert parse_event(order.value).contractor_name == "Night Response"
    assert parse_event(confirmation.value).recipient == TENANT
    assert parse_event(credit.value).amount_pence == 1000
    assert "offer_1" in parse_event(offers.value).personalisation
    assert "water everywhere" not in (tmp_path / "scheduler.log").read_text()
    assert TENANT.phone not in (tmp_path / "scheduler.log").read_text()
