"""The staff booking API: offers during a call, booking one of them, moving, cancelling,
and reporting a contractor who did not attend. Bearer tokens (SCHEDULER_STAFF_TOKENS)."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.service import Runtime
from services.scheduler import booking, visits
from services.scheduler.domain.appointments import ActionRefused
from services.scheduler.schemas import AppointmentOut, Choice, Conflict, MissedReport, OfferOut, Offers

bearer = HTTPBearer(auto_error=False)


def staff_router(runtime: Runtime) -> APIRouter:
    tokens = runtime.settings.staff_token_set()  # type: ignore[attr-defined]

    async def staff(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        if credentials is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a staff bearer token is required")
        if not any(secrets.compare_digest(credentials.credentials, t) for t in tokens):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this token may not use the staff API")

    router = APIRouter(prefix="/staff", tags=["staff"], dependencies=[Depends(staff)])

    @router.get("/cases/{case_id}/offers")
    async def list_offers(case_id: str) -> Offers:
        """Fresh offers (numbered 1..3) to read to the tenant on the telephone."""
        try:
            made = await booking.offers_now(runtime, case_id)
        except booking.UnknownCase:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no booking is waiting for this case") from None
        return Offers(case_id=case_id, offers=[OfferOut.of(o) for o in made])

    @router.post("/cases/{case_id}/appointment", status_code=201, responses={409: {"model": Conflict}})
    async def accept(case_id: str, choice: Choice) -> AppointmentOut:
        """Book the offer the tenant chose (or move the case's appointment to it). 409 with
        fresh offers when someone else took the last place first."""
        try:
            booked = await booking.accept_offer(runtime, case_id, choice.offer)
        except booking.SlotFull as full:
            return _conflict(str(full), full)  # type: ignore[return-value]
        except (booking.UnknownCase, booking.UnknownOffer) as missing:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing) or "no such case") from None
        except ActionRefused as refused:
            raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
        return AppointmentOut.of(booked.appointment)

    @router.post("/appointments/{appointment_id}/cancel")
    async def cancel(appointment_id: str) -> AppointmentOut:
        return AppointmentOut.of(await _act(booking.cancel(runtime, appointment_id)))

    @router.post("/appointments/{appointment_id}/missed", status_code=204)
    async def missed(appointment_id: str, report: MissedReport) -> None:
        """The contractor did not attend: £10 to the tenant's rent account and an apology."""
        await _act(visits.contractor_missed(runtime, appointment_id, report.reported_by))

    return router


async def _act(action):  # type: ignore[no-untyped-def]
    try:
        return await action
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such appointment") from None
    except ActionRefused as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None


def _conflict(detail: str, full: booking.SlotFull) -> JSONResponse:
    body = Conflict(detail=detail, offers=[OfferOut.of(o) for o in full.offers])
    return JSONResponse(status_code=409, content=body.model_dump(mode="json"))
