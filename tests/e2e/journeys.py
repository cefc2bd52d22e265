"""What a tenant journey across days needs: the whole system started at one moment and
then again, on the same folder, at later ones (`Journey.at`), and what the services put
on Kafka, read afresh from the start of the topics each time (a reader held open while
the system restarts could be dropped from its group and read everything twice)."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from shared.topics import Topic
from tests.e2e.system import System, running_system
from tests.kafka_reader import Seen, TopicReader, event_is

EVENT_PATIENCE = 90.0  # seconds: a busy machine, four services, a broker


@dataclass
class Journey:
    kafka: str
    workdir: Path
    settings: dict[str, str] = field(default_factory=dict)

    @contextmanager
    def at(self, moment: datetime) -> Iterator[System]:
        """The system, every process's clock reading `moment` as it starts."""
        with running_system(self.kafka, self.workdir, timeout=120, at=moment, settings=self.settings) as system:
            yield system

    async def event(
        self,
        topic: Topic,
        event_type: str,
        where: Callable[[dict], bool] = lambda _: True,
        timeout: float = EVENT_PATIENCE,
        **fields: object,
    ) -> dict:
        """The first event of that type with those fields on the topic (and for which
        `where` holds), waiting for it."""
        match = event_is(event_type, **fields)
        async with TopicReader(self.kafka, topic) as reader:
            return (await reader.wait_for(lambda s: match(s) and where(s.json()), timeout=timeout)).json()

    async def events(self, topic: Topic, event_type: str, **fields: object) -> list[dict]:
        """Every such event on the topic now, once each (delivery is at least once, so a
        record may be there twice with the same event_id)."""
        match = event_is(event_type, **fields)
        found = {e["event_id"]: e for e in (s.json() for s in await read_all(self.kafka, topic) if match(s))}
        return list(found.values())


async def read_all(kafka: str, *topics: str, quiet_seconds: float = 2.0) -> list[Seen]:
    """Every record on the topics, from the start, until they have been quiet a while."""
    async with TopicReader(kafka, *topics) as reader:
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < quiet_seconds:
            if await reader.poll(500):
                quiet_since = time.monotonic()
        return reader.seen


def clocks_of(system: System, subject_id: str) -> dict[tuple[str, str], dict]:
    """The SLA monitor's clocks of one case or home, by (definition, obligation); the
    newest of each when a certificate has started several."""
    clocks = httpx.get(system.url("sla_monitor", "/clocks"), params={"subject_id": subject_id}, timeout=15).json()
    found: dict[tuple[str, str], dict] = {}
    for clock in sorted(clocks, key=lambda c: c["started_at"]):
        found[(clock["definition"], clock["obligation"])] = clock
    return found
