"""A scheduler over a real database, seeded with homes, tenancies and contractors, for the
scheduler's component and integration tests. Events are read back from its outbox."""

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import select

from shared.db import migrate
from shared.events import AnyEvent, parse_event
from shared.events.cases import CaseKind, CaseOpened, Channel, Flag, Priority
from shared.events.notifications import Recipient
from shared.service import Runtime
from services.scheduler.adapters.tables import contractors, outbox, properties, tenancies
from services.scheduler.bootstrap import bootstrap
from services.scheduler.contractor_api import token_digest
from services.scheduler.settings import SchedulerSettings

NO_BROKER = "127.0.0.1:1"
STAFF_TOKEN = "staff-token-for-tests"
TOKENS = {
    "c-plumb": "plumb-secret",
    "c-general": "general-secret",
    "c-rota": "rota-secret",
    "c-survey": "survey-secret",
}
TENANT = Recipient(email="tenant@example.org", phone="+447700900123")

CONTRACTORS = [
    # id, name, trades, areas, days, capacity, emergency rota
    ("c-plumb", "Acme Plumbing", ["plumbing"], ["SE15"], [1, 2, 3, 4, 5, 6], 1, False),
    ("c-general", "Hexagon Repairs Team", ["general"], ["SE15", "SE22"], [1, 2, 3, 4, 5], 2, False),
    ("c-rota", "Night Response", ["general"], ["SE15"], [1, 2, 3, 4, 5], 1, True),
    ("c-survey", "Hexagon Surveyors", ["surveyor", "housing_officer"], ["SE15"], [1, 2, 3, 4, 5], 1, False),
]


async def scheduler_runtime(
    database_url: str, bootstrap_servers: str = NO_BROKER, **settings: object
) -> Runtime:
    runtime = bootstrap(
        SchedulerSettings(
            database_url=database_url,
            kafka_bootstrap_servers=bootstrap_servers,
            staff_tokens=STAFF_TOKEN,
            handler_attempts=2,
            **settings,
        )
    )
    await migrate(runtime.migrations, database_url)
    return runtime


async def seed(runtime: Runtime) -> None:
    async with runtime.sessions.begin() as session:
        await session.execute(
            properties.insert().values(
                id="p-1",
                address="1 Rye Lane",
                postcode="SE15 4AB",
                block_id=None,
                has_gas=True,
                year_built=1965,
            )
        )
        await session.execute(
            tenancies.insert().values(
                id="t-1",
                property_id="p-1",
                tenant_name="A Tenant",
                mobile="+447700900555",
                email=None,
                preferred_channel="sms",
                active=True,
            )
        )
        for cid, name, trades, areas, days, capacity, rota in CONTRACTORS:
            await session.execute(
                contractors.insert().values(
                    id=cid,
                    name=name,
                    phone="020 7946 0123",
                    trades=trades,
                    areas=areas,
                    working_days=days,
                    capacity_per_slot=capacity,
                    emergency_rota=rota,
                    token_sha256=token_digest(TOKENS[cid]),
                )
            )


def opened(
    priority: Priority | None = Priority.ROUTINE,
    channel: Channel = Channel.WEB,
    kind: CaseKind = CaseKind.REPAIR_REQUEST,
    flags: tuple[Flag, ...] = (),
    description: str = "The kitchen tap is leaking",
    contact: Recipient | None = TENANT,
    received_at: datetime | None = None,
) -> CaseOpened:
    case_id = f"case-{uuid4().hex[:12]}"
    return CaseOpened(
        correlation_id=case_id,
        case_id=case_id,
        reference=f"HX-{case_id[-8:].upper()}",
        channel=channel,
        kind=kind,
        priority=priority,
        flags=flags,
        received_at=received_at or datetime.now(UTC),
        property_id="p-1",
        tenancy_id="t-1",
        contact=contact,
        description=description,
    )


async def emitted(
    runtime: Runtime, event_type: str | None = None, case_id: str | None = None
) -> list[AnyEvent]:
    """What the scheduler has put in its outbox, oldest first."""
    async with runtime.sessions() as session:
        rows = await session.execute(select(outbox.c.payload).order_by(outbox.c.id))
        events = [parse_event(payload) for (payload,) in rows]
    return [
        e
        for e in events
        if (event_type is None or e.event_type == event_type)
        and (case_id is None or getattr(e, "case_id", None) == case_id)
    ]


async def topics_of(runtime: Runtime, event_type: str) -> set[str]:
    async with runtime.sessions() as session:
        return set(await session.scalars(select(outbox.c.topic).where(outbox.c.event_type == event_type)))
