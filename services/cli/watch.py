"""`doorstep watch TOPIC`: a live, decoded tail of any topic for operations staff.

Personal data (recipients, personalisation) is shown as keys only.
"""

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from uuid import uuid4

from aiokafka import AIOKafkaConsumer

HIDDEN = {"recipient", "personalisation"}
ENVELOPE = {"event_id", "event_type", "schema_version", "occurred_at", "correlation_id"}


def describe(key: bytes | None, value: bytes, timestamp_ms: int) -> str:
    at = datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    try:
        event = json.loads(value)
    except ValueError:
        return f"{at}  (not JSON, {len(value)} bytes)  key={_text(key)}"
    if not isinstance(event, dict):
        return f"{at}  (JSON but not an event)  key={_text(key)}"
    kind = event.get("event_type", "?")
    fields = {k: _shown(k, v) for k, v in event.items() if k not in ENVELOPE}
    body = "  ".join(f"{k}={v}" for k, v in fields.items() if v not in (None, [], {}, ""))
    return f"{at}  {kind:<24} key={_text(key)}  {body}"


def _shown(name: str, value: object) -> object:
    if name in HIDDEN and isinstance(value, dict):
        return "{" + ",".join(sorted(value)) + "}"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return value


def _text(key: bytes | None) -> str:
    return key.decode(errors="replace") if key else "-"


async def tail(topic: str, from_beginning: bool, servers: str) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers,
        group_id=f"doorstep-watch-{uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    print(f"watching {topic} on {servers} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        async for record in consumer:
            print(describe(record.key, record.value, record.timestamp), flush=True)
    finally:
        await consumer.stop()


def main(topic: str, from_beginning: bool, servers: str | None) -> int:
    servers = servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    try:
        asyncio.run(tail(topic, from_beginning, servers))
    except KeyboardInterrupt:
        pass
    return 0
