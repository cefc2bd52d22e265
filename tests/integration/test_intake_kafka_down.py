"""Kafka down: intake keeps accepting mail over SMTP and forms over HTTP; the outbox holds
their events, and relays them when the broker is back, so every accepted message opens
its case on Kafka.

The broker here is a private one (deploy/kafka.sh on ports of its own, its data in the
test's tmp dir), so stopping it leaves the session's shared test broker alone. Intake
runs as its own process, started as `doorstep run` starts it.
"""

import asyncio
import json
import os
import re
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from shared.topics import Topic
from tests.fixtures.servers import unavailable

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
BASE = int(os.environ.get("DOORSTEP_E2E_BASE_PORT", "18080"))
KAFKA_PORT, HTTP_PORT, SMTP_PORT = BASE + 40, BASE + 42, BASE + 43
BOOTSTRAP = f"127.0.0.1:{KAFKA_PORT}"
ACCEPTED_AS = re.compile(rb"Accepted as (HX-[A-Z0-9]{8})")
EACH_WAY = 10  # mails and forms before the outage, during it, and after


class PrivateBroker:
    def __init__(self, var: Path) -> None:
        self.env = {
            **os.environ,
            "PYTHON": sys.executable,
            "KAFKA_PORT": str(KAFKA_PORT),
            "KAFKA_CONTROLLER_PORT": str(KAFKA_PORT + 1),
            "DOORSTEP_VAR": str(var),
        }
        shared_libs = REPO / "var" / "kafka-libs"
        if shared_libs.is_dir() and not (var / "kafka-libs").exists():
            var.mkdir(parents=True, exist_ok=True)
            (var / "kafka-libs").symlink_to(shared_libs)  # the jars once, not per test

    def run(self, action: str) -> None:
        done = subprocess.run(
            ["bash", str(REPO / "deploy" / "kafka.sh"), action],
            env=self.env, capture_output=True, text=True, timeout=600,
        )
        if done.returncode != 0:
            unavailable(f"the private broker did not {action}: {done.stderr.strip()[-2000:]}")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    private = PrivateBroker(tmp_path / "var")
    private.run("up")
    yield private
    private.run("down")


@pytest.fixture
def intake(broker: PrivateBroker, tmp_path: Path) -> Iterator[None]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "INTAKE_HTTP_PORT": str(HTTP_PORT),
        "INTAKE_SMTP_PORT": str(SMTP_PORT),
        "INTAKE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}",
    }
    log = (tmp_path / "intake.log").open("wb")
    child = subprocess.Popen([sys.executable, "-m", "services.intake"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not _answers("/readyz"):
            assert child.poll() is None, (tmp_path / "intake.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "intake did not become ready"
            time.sleep(0.3)
        yield
    finally:
        child.terminate()
        child.wait(timeout=30)
        log.close()


def _answers(path: str) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{HTTP_PORT}{path}", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def send_mails(label: str) -> list[str]:
    references = []
    with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=30) as smtp:
        smtp.ehlo()
        for n in range(EACH_WAY):
            mail = EmailMessage()
            mail["From"] = f"tenant.{label}.{n}@example.org"
            mail["To"] = "repairs_reporting@hexagon.org.uk"
            mail["Subject"] = f"Repair {label} {n}"
            mail["Message-ID"] = f"<{label}-{n}-{time.time_ns()}@example.org>"
            mail.set_content("The kitchen tap is leaking under the sink.")
            smtp.mail(mail["From"])
            smtp.rcpt(mail["To"])
            code, reply = smtp.data(mail.as_bytes())
            found = ACCEPTED_AS.search(reply)  # the 250 to DATA names the case
            assert code == 250 and found, reply
            references.append(found[1].decode())
    return references


def send_forms(label: str) -> list[str]:
    references = []
    with httpx.Client(base_url=f"http://127.0.0.1:{HTTP_PORT}", timeout=30) as client:
        for n in range(EACH_WAY):
            answers = {"name": f"Jo {label} {n}", "email": "jo@example.org", "message": "When is the next meeting?"}
            response = client.post("/forms/enquiry", json=answers)
            assert response.status_code == 201, response.text
            references.append(response.json()["reference"])
    return references


async def opened_on_kafka(expected: set[str], timeout: float) -> dict[str, int]:
    """How many times each expected reference's case.opened is on the topic."""
    seen: dict[str, int] = {}
    consumer = AIOKafkaConsumer(str(Topic.CASES), bootstrap_servers=BOOTSTRAP, auto_offset_reset="earliest")
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while not expected <= seen.keys() and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    event = json.loads(record.value)
                    if event["event_type"] == "case.opened":
                        seen[event["reference"]] = seen.get(event["reference"], 0) + 1
    finally:
        await consumer.stop()
    return seen


async def test_intake_accepts_everything_while_kafka_is_down_and_relays_it_when_back(
    broker: PrivateBroker, intake: None
):
    before = send_mails("before") + send_forms("before")
    assert before == [r for r in before if r]

    await asyncio.to_thread(broker.run, "down")
    during = await asyncio.to_thread(send_mails, "during") + await asyncio.to_thread(send_forms, "during")
    assert len(set(during)) == 2 * EACH_WAY
    assert not _answers("/readyz")  # not ready without its broker, yet still accepting

    await asyncio.to_thread(broker.run, "up")
    after = await asyncio.to_thread(send_mails, "after") + await asyncio.to_thread(send_forms, "after")

    accepted = set(before + during + after)
    seen = await opened_on_kafka(accepted, timeout=120)
    assert accepted - seen.keys() == set(), "accepted but never on Kafka"
    assert len(accepted) == 6 * EACH_WAY
