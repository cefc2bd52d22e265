"""A migrated scheduler over a SQLite file for the timed-job tests, and rows to seed it."""

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from shared.db import migrate
from shared.events import AnyEvent, parse_event, utcnow
from shared.service import Runtime
from services.scheduler.adapters.tables import (
    appointments,
    blocks,
    contractors,
    outbox,
    properties,
    tenancies,
)
from services.scheduler.bootstrap import bootstrap
from services.scheduler.settings import SchedulerSettings

NO_BROKER = "127.0.0.1:1"


async def scheduler_runtime(url: str, **settings: object) -> Runtime:
    runtime = bootstrap(
        SchedulerSettings(database_url=url, kafka_bootstrap_servers=NO_BROKER, timed_jobs=False, **settings)
    )
    await migrate(runtime.migrations, url)
    return runtime


def sqlite_url(tmp_path: Path, name: str = "scheduler") -> str:
    return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"


async def add_homes(
    runtime: Runtime,
    count: int,
    *,
    gas: bool = True,
    tenant: bool = True,
    block: str | None = None,
    prefix: str = "P",
) -> list[str]:
    ids = [f"{prefix}{n:06d}" for n in range(count)]
    async with runtime.sessions.begin() as session:
        if block:
            await session.execute(insert(blocks).values(id=block, name="Block"))
        await session.execute(
            insert(properties),
            [
                {
                    "id": i,
                    "address": "1 Test Road",
                    "postcode": "SE15 1AA",
                    "block_id": block,
                    "has_gas": gas,
                    "year_built": 1970,
                }
                for i in ids
            ],
        )
        if tenant:
            await session.execute(
                insert(tenancies),
                [
                    {
                        "id": f"T-{i}",
                        "property_id": i,
                        "tenant_name": "A Tenant",
                        "mobile": "+447700900123",
                        "email": "tenant@example.org",
                        "preferred_channel": "sms",
                        "active": True,
                    }
                    for i in ids
                ],
            )
    return ids


async def add_contractor(runtime: Runtime, contractor_id: str = "C1") -> str:
    async with runtime.sessions.begin() as session:
        await session.execute(
            insert(contractors).values(
                id=contractor_id,
                name="Ace Plumbing",
                phone="02070000000",
                trades=["gas"],
                areas=["SE15"],
                working_days=[1, 2, 3, 4, 5],
                capacity_per_slot=4,
                emergency_rota=False,
            )
        )
    return contractor_id


async def add_appointment(
    runtime: Runtime, appointment_id: str, starts_at: datetime, **values: object
) -> None:
    row = {
        "id": appointment_id,
        "case_id": f"case-{appointment_id}",
        "reference": f"HX-{appointment_id}",
        "kind": "repair",
        "status": "booked",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=4),
        "contractor_id": "C1",
        "property_id": "P000000",
        "tenancy_id": "T-P000000",
        "place": 1,
        "booked_at": utcnow() - timedelta(days=3),
        **values,
    }
    async with runtime.sessions.begin() as session:
        await session.execute(insert(appointments).values(**row))


async def outbox_events(runtime: Runtime, event_type: str | None = None) -> list[AnyEvent]:
    async with runtime.sessions() as session:
        rows = (await session.execute(select(outbox.c.payload, outbox.c.topic).order_by(outbox.c.id))).all()
    events = [parse_event(row.payload) for row in rows]
    return [e for e in events if event_type is None or e.event_type == event_type]
