"""The scheduler service: books what opened cases need; the staff and contractor APIs."""

from functools import partial

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import select

from shared.events.appointments import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCompleted,
    AppointmentNoAccess,
    AppointmentRescheduled,
    ContractorArrived,
    ContractorEnRoute,
    ContractorMissed,
    WorksInspectionRequested,
    WorksOrderRaised,
)
from shared.events.cases import HazardMadeSafe
from shared.events.finance import RentCreditDue
from shared.events.notifications import NotificationRequested, ReplyReceived
from shared.kafka import declare_publications, subscribe
from shared.service import Runtime, http_app
from shared.topics import Topic
from services.scheduler import handlers
from services.scheduler.adapters.tables import bookings_to_make
from services.scheduler.bootstrap import bootstrap
from services.scheduler.compliance import gas_replies
from services.scheduler.contractor_api import contractor_router
from services.scheduler.staff_api import staff_router


class BookingToMake(BaseModel):
    case_id: str
    reference: str
    priority: str
    status: str


async def tenant_replied(runtime: Runtime, reply: ReplyReceived) -> None:
    """One consumer for the tenant's texts back: booking acts on digits, REARRANGE and
    CANCEL; the gas programme on CONFIRM to a gas check. Each is idempotent by itself."""
    await handlers.reply_received(runtime, reply)
    await gas_replies.gas_check_confirmed(runtime, reply, runtime.settings.gas_offer_lead_working_days)


def create_app(runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or bootstrap()
    subscribe(
        runtime.broker,
        Topic.CASES,
        group_id="scheduler",
        dead_letters=Topic.DLQ_SCHEDULER,
        wanted={
            "case.opened": partial(handlers.case_opened, runtime),
            "case.flagged": partial(handlers.case_flagged, runtime),
        },
        attempts=runtime.settings.handler_attempts,
    )
    subscribe(
        runtime.broker,
        Topic.NOTIFICATIONS_OUTCOMES,
        group_id="scheduler-replies",
        dead_letters=Topic.DLQ_SCHEDULER,
        wanted={"reply.received": partial(tenant_replied, runtime)},
        attempts=runtime.settings.handler_attempts,
    )
    declare_publications(
        runtime.broker,
        {
            Topic.APPOINTMENTS: AppointmentBooked
            | AppointmentRescheduled
            | AppointmentCancelled
            | WorksOrderRaised
            | ContractorEnRoute
            | ContractorArrived
            | AppointmentCompleted
            | AppointmentNoAccess
            | ContractorMissed
            | WorksInspectionRequested
            | HazardMadeSafe,
            Topic.NOTIFICATIONS_REQUESTED: NotificationRequested,
            Topic.FINANCE_RENT_CREDITS: RentCreditDue,
        },
    )
    app = http_app(runtime, "Doorstep scheduler", "Books repairs, visits and safety checks.")
    app.include_router(staff_router(runtime))
    app.include_router(contractor_router(runtime))

    @app.get("/bookings-to-make", tags=["staff"])
    async def list_bookings_to_make() -> list[BookingToMake]:
        """Repairs, inspections and visits the scheduler has heard of, oldest first, with
        where each stands (to_book, offered, booked, to_contact, unbooked, completed)."""
        async with runtime.sessions() as session:
            rows = await session.execute(select(bookings_to_make).order_by(bookings_to_make.c.received_at))
        return [BookingToMake.model_validate(row._mapping, from_attributes=False) for row in rows]

    return app
