"""Two people booking the last place in a slot at the same moment: exactly one succeeds,
the others get a 409 with fresh offers. Concurrent requests through the staff API on both
databases the scheduler runs on; the unique place per contractor and slot decides."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from shared.events.cases import Channel
from shared.service import Runtime
from services.scheduler import handlers
from services.scheduler.adapters.tables import appointments, contractors
from services.scheduler.app import create_app
from tests.scheduler_world import STAFF_TOKEN, opened, scheduler_runtime, seed

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
CALLERS = 12


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}"
    return request.getfixturevalue("fresh_postgres_database")


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[Runtime]:
    runtime = await scheduler_runtime(database_url)
    await seed(runtime)
    async with runtime.sessions.begin() as session:  # taps go to the plumber alone
        await session.execute(
            contractors.update().where(contractors.c.id != "c-plumb").values(trades=["roofing"])
        )
    yield runtime
    await runtime.engine.dispose()


async def callers_offered_the_same_slot(runtime: Runtime, api: httpx.AsyncClient, count: int) -> list[str]:
    cases = [opened(channel=Channel.PHONE) for _ in range(count)]
    for case in cases:
        await handlers.case_opened(runtime, case)
    firsts = set()
    for case in cases:
        listed = await api.get(f"/staff/cases/{case.case_id}/offers", headers=STAFF)
        firsts.add(listed.json()["offers"][0]["starts_at"])
    assert len(firsts) == 1  # every caller was offered the same earliest slot
    return [case.case_id for case in cases]


async def book_all_at_once(api: httpx.AsyncClient, case_ids: list[str]) -> list[httpx.Response]:
    return await asyncio.gather(
        *(
            api.post(f"/staff/cases/{case_id}/appointment", json={"offer": 1}, headers=STAFF)
            for case_id in case_ids
        )
    )


async def places_used(runtime: Runtime) -> Counter:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(appointments.c.contractor_id, appointments.c.starts_at, func.count())
            .where(appointments.c.place.is_not(None))
            .group_by(appointments.c.contractor_id, appointments.c.starts_at)
        )
    return Counter({(cid, starts): n for cid, starts, n in rows})


async def test_the_last_place_goes_to_exactly_one_of_many_simultaneous_callers(runtime: Runtime):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(runtime)), base_url="http://s"
    ) as api:
        case_ids = await callers_offered_the_same_slot(runtime, api, CALLERS)
        responses = await book_all_at_once(api, case_ids)

    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 1, 409: CALLERS - 1}
    won = next(r for r in responses if r.status_code == 201).json()
    for lost in (r for r in responses if r.status_code == 409):
        fresh = lost.json()["offers"]
        assert fresh and won["starts_at"] not in [o["starts_at"] for o in fresh]
    assert max((await places_used(runtime)).values()) == 1


async def test_a_slot_with_two_places_takes_exactly_two(runtime: Runtime):
    async with runtime.sessions.begin() as session:
        await session.execute(
            contractors.update().where(contractors.c.id == "c-plumb").values(capacity_per_slot=2)
        )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(runtime)), base_url="http://s"
    ) as api:
        case_ids = await callers_offered_the_same_slot(runtime, api, CALLERS)
        responses = await book_all_at_once(api, case_ids)

    assert Counter(r.status_code for r in responses) == {201: 2, 409: CALLERS - 2}
    assert list((await places_used(runtime)).values()) == [2]
