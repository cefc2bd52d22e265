"""The contractor API: today's jobs and the buttons of the contractor's day.

Each contractor has its own bearer token; only its SHA-256 is stored. A contractor sees
and changes only its own jobs: 401 without a known token, 403 for another's job, 404
for no such job.
"""

import hashlib
from datetime import date, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from shared.calendar import default_calendar as calendar
from shared.events import utcnow
from shared.service import Runtime
from services.scheduler import visits
from services.scheduler.adapters import store
from services.scheduler.adapters.tables import properties
from services.scheduler.domain.appointments import ActionRefused
from services.scheduler.schemas import AppointmentOut, Completion, Job

bearer = HTTPBearer(auto_error=False)
MIDNIGHT = time(0)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def contractor_router(runtime: Runtime) -> APIRouter:
    async def contractor_id(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        found = None
        if credentials is not None:
            async with runtime.sessions() as session:
                found = await store.contractor_id_for_token(session, token_digest(credentials.credentials))
        if found is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a contractor's bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return found

    Me = Annotated[str, Depends(contractor_id)]

    async def own_job(appointment_id: str, me: Me) -> str:
        async with runtime.sessions() as session:
            job = await store.appointment(session, appointment_id)
        if job is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job")
        if job.contractor_id != me:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this job is another contractor's")
        return appointment_id

    Own = Annotated[str, Depends(own_job)]
    router = APIRouter(prefix="/contractor", tags=["contractor"])

    @router.get("/jobs")
    async def jobs(
        me: Me, day: Annotated[date | None, Query(description="London date; today if left out")] = None
    ) -> list[Job]:
        """The contractor's jobs on one day, in time order (cancelled ones left out)."""
        day = day or calendar.local_date(utcnow())
        start, end = calendar.at(day, MIDNIGHT), calendar.at(day + timedelta(days=1), MIDNIGHT)
        async with runtime.sessions() as session:
            rows = await store.contractors_day(session, me, start, end)
            homes = {
                p.id: p
                for p in await session.execute(
                    select(properties).where(
                        properties.c.id.in_([r.property_id for r in rows if r.property_id])
                    )
                )
            }
        return [_job(row, homes.get(row.property_id)) for row in rows]

    @router.post("/jobs/{appointment_id}/on-the-way")
    async def on_the_way(appointment_id: Own) -> AppointmentOut:
        """Finished the previous job and setting off: the tenant is texted."""
        return AppointmentOut.of(await _act(visits.on_the_way(runtime, appointment_id)))

    @router.post("/jobs/{appointment_id}/arrived")
    async def arrived(appointment_id: Own) -> AppointmentOut:
        return AppointmentOut.of(await _act(visits.arrived(runtime, appointment_id)))

    @router.post("/jobs/{appointment_id}/completed")
    async def completed(appointment_id: Own, outcome: Completion) -> AppointmentOut:
        return AppointmentOut.of(
            await _act(
                visits.completed(
                    runtime, appointment_id, outcome.fixed_first_time, outcome.high_value_or_complex
                )
            )
        )

    @router.post("/jobs/{appointment_id}/no-access")
    async def no_access(appointment_id: Own) -> AppointmentOut:
        """Nobody in: an abortive call, the repair clock paused, a card to the tenant."""
        return AppointmentOut.of(await _act(visits.no_access(runtime, appointment_id)))

    return router


def _job(row, home) -> Job:  # type: ignore[no-untyped-def]
    base = AppointmentOut.of(store.appointment_from(row))
    return Job(
        **base.model_dump(), address=home.address if home else None, postcode=home.postcode if home else None
    )


async def _act(action):  # type: ignore[no-untyped-def]
    try:
        return await action
    except ActionRefused as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
