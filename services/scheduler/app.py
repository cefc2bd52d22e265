"""The scheduler service: books what opened cases need."""

from functools import partial

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import select

from shared.kafka import subscribe
from shared.service import Runtime, http_app
from shared.topics import Topic
from services.scheduler import handlers
from services.scheduler.adapters.tables import bookings_to_make
from services.scheduler.bootstrap import bootstrap


class BookingToMake(BaseModel):
    case_id: str
    reference: str
    priority: str
    status: str


def create_app(runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or bootstrap()
    subscribe(
        runtime.broker,
        Topic.CASES,
        group_id="scheduler",
        dead_letters=Topic.DLQ_SCHEDULER,
        wanted={"case.opened": partial(handlers.case_opened, runtime)},
        attempts=runtime.settings.handler_attempts,
    )
    app = http_app(runtime, "Doorstep scheduler", "Books repairs, visits and safety checks.")

    @app.get("/bookings-to-make", tags=["staff"])
    async def list_bookings_to_make() -> list[BookingToMake]:
        """Repairs that still need an appointment, oldest first."""
        async with runtime.sessions() as session:
            rows = await session.execute(
                select(bookings_to_make).order_by(bookings_to_make.c.received_at)
            )
        return [BookingToMake.model_validate(row._mapping) for row in rows]

    return app
