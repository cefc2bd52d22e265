"""The notifier as a process of its own for integration tests: its settings, started
and stopped (or killed) by the same launcher as `make run`."""

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from aiokafka import AIOKafkaProducer

from shared.events import Event, serialize
from services.cli.processes import start, wait_ready
from tests.fakes.twilio_api import FakeTwilio
from tests.kafka_reader import Seen


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class NotifierProcess:
    def __init__(self, kafka_bootstrap: str, fake: FakeTwilio, folder: Path, **settings: str) -> None:
        self.port = free_port()
        self.database = folder / "notifier.db"
        self.log_path = folder / "notifier.log"
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "NOTIFIER_HTTP_PORT": str(self.port),
            "NOTIFIER_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
            "NOTIFIER_OUTBOX_DIR": str(folder / "outbox"),
            "NOTIFIER_QUIET_HOURS": "false",  # the texts must go whatever the hour of the run
            "NOTIFIER_TWILIO_ACCOUNT_SID": fake.account_sid,
            "NOTIFIER_TWILIO_AUTH_TOKEN": fake.auth_token,
            "NOTIFIER_TWILIO_BASE_URL": fake.base_url,
            "NOTIFIER_STATUS_CALLBACK_URL": f"http://127.0.0.1:{self.port}/v1/twilio/status",
            "NOTIFIER_INBOUND_SMS_URL": f"http://127.0.0.1:{self.port}/v1/twilio/inbound",
            **settings,
        }
        self.child: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.child = start("notifier", self.env, log)
        await asyncio.to_thread(wait_ready, {"notifier": self.child}, {"notifier": self.port}, 60)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as when a machine dies."""
        assert self.child is not None
        self.child.send_signal(signal.SIGKILL)
        self.child.wait(timeout=10)

    def stop(self) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.child.kill()

    def rows(self, query: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.database, timeout=30) as db:
            return db.execute(query, args).fetchall()

    @contextmanager
    def database_locked(self):  # type: ignore[no-untyped-def]
        """Hold SQLite's write lock: the notifier's next commit waits for it."""
        db = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            db.execute("ROLLBACK")
            db.close()


async def publish(kafka_bootstrap: str, topic: str, events: Iterable[Event]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topic, serialize(event), key=event.key())
    finally:
        await producer.stop()


def fields_of(seen: Seen) -> dict:
    """A record's JSON object; {} for what other tests leave on the shared topics that is
    not one (the poison messages of the bad-input tests)."""
    try:
        value = seen.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
