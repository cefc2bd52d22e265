"""The `doorstep` command against the real broker: the broker script and `watch`."""

import asyncio
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from shared.kafka import ensure_topics
from shared.topics import Topic

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]


async def test_watch_prints_each_event_decoded_without_personal_data(kafka_bootstrap: str):
    await ensure_topics(kafka_bootstrap)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "watch", Topic.NOTIFICATIONS_REQUESTED,
         "--bootstrap-servers", kafka_bootstrap],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "watching" in await asyncio.to_thread(watcher.stderr.readline)
        marker = uuid4().hex
        payload = (
            b'{"event_id":"' + str(uuid4()).encode() + b'","event_type":"notification.requested",'
            b'"schema_version":1,"occurred_at":"2026-11-30T10:00:00Z","correlation_id":"c",'
            b'"case_id":"' + marker.encode() + b'","idempotency_key":"k","purpose":"acknowledgement",'
            b'"template":"acknowledgement","recipient":{"email":"jo.tenant@example.org"},'
            b'"personalisation":{"reference":"HX-1"},"urgent":false}'
        )
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        await producer.send_and_wait(Topic.NOTIFICATIONS_REQUESTED, payload, key=marker.encode())
        await producer.stop()
        line = ""
        async with asyncio.timeout(20):
            while marker not in line:
                line = await asyncio.to_thread(watcher.stdout.readline)
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
    assert "notification.requested" in line
    assert f"key={marker}" in line
    assert "recipient=…" in line
    assert "jo.tenant@example.org" not in line


def _broker_script(
    *args: str, port: int = 19999, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "deploy/kafka.sh", *args],
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "KAFKA_PORT": str(port), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_broker_script_says_when_no_broker_runs():
    result = _broker_script("status")
    assert result.returncode == 1
    assert "not running on 127.0.0.1:19999" in result.stderr


def test_the_broker_script_explains_its_usage():
    result = _broker_script("start")
    assert result.returncode == 2
    assert "usage" in result.stderr


def test_the_broker_formats_its_storage_whatever_its_random_cluster_id_begins_with(
    kafka_bootstrap: str, tmp_path: Path
):
    """A random cluster id begins with "-" once in 64: the storage tool once took it for an
    option and refused to format, and the broker did not start."""
    (tmp_path / "kafka-libs").symlink_to(REPO / "var" / "kafka-libs")  # fetched for kafka_bootstrap
    env = {"DOORSTEP_VAR": str(tmp_path), "KAFKA_CLUSTER_ID": "-bcdefghijklmnopqrstuv",
           "KAFKA_CONTROLLER_PORT": "19998"}
    try:
        started = _broker_script("up", env=env)
        assert started.returncode == 0, started.stderr
        assert "Formatting" in (tmp_path / "kafka-19999" / "broker.log").read_text()
    finally:
        _broker_script("down", env=env)
