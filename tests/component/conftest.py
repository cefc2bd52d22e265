"""One service at a time on FastStream's in-memory broker (DESIGN §7, component tier).

Each service is built with its own `bootstrap(settings)` over a SQLite file in
`tmp_path` and migrated. Tests wire it with the service's `create_app(runtime)`, which
registers the subscribers on `runtime.broker`. The FastAPI lifespan is never started
(it would connect to a real broker): `TestKafkaBroker(runtime.broker)` takes its place,
and the outbox is relayed by calling `runtime.outbox.relay_pending()` where a running
service's relay task would.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, KafkaMessage
from sqlalchemy import MetaData

from shared.db import make_engine, migrate, session_factory
from shared.outbox import outbox_table
from shared.service import Runtime
from services.intake.bootstrap import bootstrap as intake_bootstrap
from services.intake.settings import IntakeSettings
from services.notifier.bootstrap import bootstrap as notifier_bootstrap
from services.notifier.settings import NotifierSettings
from services.sla_monitor.bootstrap import bootstrap as sla_monitor_bootstrap
from services.sla_monitor.settings import SlaMonitorSettings

# Nothing listens here: TestKafkaBroker never connects, and anything that tried would fail fast.
NO_BROKER = "127.0.0.1:1"
ATTEMPTS = 2


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    body: bytes
    headers: dict[str, str]


@dataclass
class Recorder:
    """Everything published on one topic, captured by a subscriber of its own."""

    topic: str
    records: list[Record] = field(default_factory=list)

    def of_type(self, event_type: str) -> list[Record]:
        return [r for r in self.records if r.headers.get("event_type") == event_type]


def record(broker: KafkaBroker, topic: str) -> Recorder:
    """Subscribe a recorder to `topic`; call it before entering TestKafkaBroker."""
    recorder = Recorder(str(topic))

    @broker.subscriber(str(topic), group_id=f"test-recorder-{topic}")
    async def keep(message: KafkaMessage) -> None:
        raw = message.raw_message
        headers = {name: value.decode() for name, value in raw.headers}
        recorder.records.append(Record(raw.topic, raw.key, message.body, headers))

    return recorder


async def _migrated(runtime: Runtime) -> Runtime:
    await migrate(runtime.migrations, runtime.settings.database())
    return runtime


def _sqlite(tmp_path: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"


@pytest.fixture
def outbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
async def notifier_runtime(tmp_path: Path, outbox_dir: Path) -> AsyncIterator[Runtime]:
    settings = NotifierSettings(
        database_url=_sqlite(tmp_path, "notifier"),
        kafka_bootstrap_servers=NO_BROKER,
        outbox_dir=outbox_dir,
        handler_attempts=ATTEMPTS,
        quiet_hours=False,  # tests run at any hour; quiet hours have tests of their own
    )
    runtime = await _migrated(notifier_bootstrap(settings))
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
async def sla_monitor_runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = SlaMonitorSettings(
        database_url=_sqlite(tmp_path, "sla_monitor"),
        kafka_bootstrap_servers=NO_BROKER,
        handler_attempts=ATTEMPTS,
    )
    runtime = await _migrated(sla_monitor_bootstrap(settings))
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[Runtime]:
    """The intake service's runtime over a fresh SQLite file, no broker."""
    settings = IntakeSettings(database_url=_sqlite(tmp_path, "intake"), kafka_bootstrap_servers=NO_BROKER)
    runtime = await _migrated(intake_bootstrap(settings))
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
async def outbox_parts(tmp_path: Path):  # type: ignore[no-untyped-def]
    """An outbox table in a SQLite file of its own, and sessions on it."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    table = outbox_table(MetaData())
    async with engine.begin() as connection:
        await connection.run_sync(table.metadata.create_all)
    yield table, session_factory(engine)
    await engine.dispose()
