"""The walking skeleton again, with every part in a container: Kafka, PostgreSQL and the
mail catcher as the top-level docker-compose.yml runs them, and the four services built from
deploy/Dockerfile. Driven through SMTP and HTTP, checked through Kafka, HTTP and the mail
that reaches the catcher."""

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shared.topics import Topic
from tests.kafka_reader import TopicReader, event_is
from tests.mail_sender import send_mail as send_mail_to

REPO = Path(__file__).resolve().parents[2]
STAFF_TOKEN = "containers-staff-token"
KAFKA = "localhost:9094"  # the broker's EXTERNAL listener in docker-compose.yml
PORTS = {"intake": 8081, "scheduler": 8082, "notifier": 8083, "sla_monitor": 8084}
SMTP_PORT = 2525
MAILPIT = "http://localhost:8025"
TENANT = "tenant.containers@example.org"


def url(service: str, path: str) -> str:
    return f"http://localhost:{PORTS[service]}{path}"


def all_ready(timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    waiting = set(PORTS)
    while waiting and time.monotonic() < deadline:
        for service in sorted(waiting):
            try:
                if httpx.get(url(service, "/readyz"), timeout=3).status_code == 200:
                    waiting.discard(service)
            except httpx.HTTPError:
                pass
        time.sleep(1)
    assert not waiting, f"not ready after {timeout:.0f} s: {', '.join(sorted(waiting))}"


@pytest.fixture(scope="module")
def compose(docker_engine, tmp_path_factory) -> Iterator[None]:
    from testcontainers.compose import DockerCompose

    env_file = tmp_path_factory.mktemp("compose") / "containers.env"
    env_file.write_text(f"INTAKE_STAFF_TOKENS={STAFF_TOKEN}\n")
    with DockerCompose(REPO, compose_file_name="docker-compose.yml", build=True, wait=False,
                       env_file=str(env_file)):
        all_ready()
        yield


def send_mail(to: str, subject: str, body: str) -> str:
    return send_mail_to(SMTP_PORT, TENANT, to, subject, body, host="localhost")


async def eventually(check, timeout: float = 90):  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not (found := await asyncio.to_thread(check)):
            await asyncio.sleep(0.5)
    return found


def acknowledgement_text(reference: str) -> str | None:
    listed = httpx.get(f"{MAILPIT}/api/v1/messages", timeout=10).json().get("messages", [])
    for message in listed:
        if any(to.get("Address") == TENANT for to in message.get("To", [])):
            text = httpx.get(f"{MAILPIT}/api/v1/message/{message['ID']}", timeout=10).json().get("Text", "")
            if reference in text:
                return text
    return None


async def test_an_email_becomes_a_case_an_acknowledgement_by_smtp_and_a_running_clock(compose):
    reference = send_mail("repairs_reporting@hexagon.org.uk", "Kitchen", "There is a smell of gas in the kitchen.")
    async with TopicReader(KAFKA, Topic.CASES) as cases:
        opened = (await cases.wait_for(event_is("case.opened", reference=reference), timeout=90)).json()
    assert (opened["mailbox"], opened["priority"]) == ("repairs", "emergency")

    text = await eventually(lambda: acknowledgement_text(reference))
    assert "within 3 working days" in text

    def reply_clock() -> list[dict]:
        clocks = httpx.get(url("sla_monitor", "/clocks"), params={"subject_id": opened["case_id"]}, timeout=10).json()
        return [c for c in clocks if c["definition"] == "email_reply_repairs" and c["state"] == "running"]

    assert await eventually(reply_clock)

    def booking() -> list[dict]:
        rows = httpx.get(url("scheduler", "/bookings-to-make"), timeout=10).json()
        return [b for b in rows if b["case_id"] == opened["case_id"]]

    assert (await eventually(booking))[0]["priority"] == "emergency"


async def test_a_letter_logged_30_days_late_is_breached(compose):
    received = datetime.now(UTC) - timedelta(days=30)
    response = httpx.post(
        url("intake", "/staff/letters"),
        json={"received_at": received.isoformat(), "text": "Please fix my garden fence."},
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]
    async with TopicReader(KAFKA, Topic.SLA_BREACHES) as breaches:
        breach = (await breaches.wait_for(event_is("sla.breached", subject_id=case_id), timeout=90)).json()
    assert breach["clock"] == "letter_reply"
    assert datetime.fromisoformat(breach["deadline"]) < datetime.now(UTC)
