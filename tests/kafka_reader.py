"""Reading what services put on Kafka, in tests: wait until a matching record appears."""

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from uuid import uuid4

from aiokafka import AIOKafkaConsumer


@dataclass(frozen=True)
class Seen:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    def json(self) -> dict:
        """The record as a JSON object; {} for one that is not (the bad-input tests leave
        such poison on every topic a service consumes)."""
        try:
            value = json.loads(self.value)
        except (ValueError, RecursionError):
            return {}
        return value if isinstance(value, dict) else {}


class TopicReader:
    """Reads topics from the beginning under a group of its own, keeping what it saw."""

    def __init__(self, bootstrap: str, *topics: str) -> None:
        self.consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=f"test-reader-{uuid4().hex}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.seen: list[Seen] = []

    async def __aenter__(self) -> "TopicReader":
        await self.consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.consumer.stop()

    async def wait_for(self, match: Callable[[Seen], bool], timeout: float = 30) -> Seen:
        for seen in self.seen:
            if match(seen):
                return seen
        async with asyncio.timeout(timeout):
            while True:
                for seen in await self.poll():
                    if match(seen):
                        return seen

    async def poll(self, timeout_ms: int = 200) -> list[Seen]:
        """Read what has arrived (waiting up to `timeout_ms`), keep it, and return it."""
        batches = await self.consumer.getmany(timeout_ms=timeout_ms)
        new = [
            Seen(record.topic, record.key, record.value, {k: v.decode() for k, v in record.headers})
            for records in batches.values()
            for record in records
        ]
        self.seen.extend(new)
        return new


def event_is(event_type: str, **fields: object) -> Callable[[Seen], bool]:
    def match(seen: Seen) -> bool:
        event = seen.json()
        return event.get("event_type") == event_type and all(
            event.get(k) == v for k, v in fields.items()
        )

    return match
