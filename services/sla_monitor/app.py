"""The SLA monitor: every promise's clock, and a breach on Kafka the moment one is missed."""

import asyncio
from datetime import datetime

from fastapi import FastAPI, Query
from pydantic import BaseModel

from shared.kafka import subscribe
from shared.service import Runtime, http_app
from shared.standards.loader import load_all
from shared.standards.models import StandardsBook
from shared.topics import Topic
from services.sla_monitor.adapters import clock_store
from services.sla_monitor.bootstrap import bootstrap
from services.sla_monitor.handlers import Monitor
from services.sla_monitor.timer import DeadlineTimer


class ClockOut(BaseModel):
    id: str
    definition: str
    name: str
    standard: str
    obligation: str
    source: str
    subject_id: str
    reference: str
    started_at: datetime
    deadline: datetime
    state: str
    stopped_at: datetime | None
    breached_at: datetime | None


def create_app(runtime: Runtime | None = None, book: StandardsBook | None = None) -> FastAPI:
    runtime = runtime or bootstrap()
    monitor = Monitor(runtime, book or load_all(), asyncio.Event())
    progressed = monitor.case_progressed
    subscribe(
        runtime.broker,
        Topic.CASES,
        group_id="sla_monitor",
        dead_letters=Topic.DLQ_SLA_MONITOR,
        wanted={"case.opened": monitor.case_opened, "case.replied": progressed, "case.closed": progressed},
        attempts=runtime.settings.handler_attempts,
    )
    timer = DeadlineTimer(monitor.breach_due, monitor.next_deadline, monitor.deadlines_changed)
    runtime.on_start.append(timer.start)
    runtime.on_stop.append(timer.stop)
    app = http_app(runtime, "Doorstep SLA monitor", "Every published promise, tracked in working time.")

    @app.get("/clocks", tags=["staff"])
    async def clocks_of(subject_id: str = Query(description="A case or property id")) -> list[ClockOut]:
        """Every clock of one case or property, soonest deadline first."""
        async with runtime.sessions() as session:
            found = await clock_store.for_subject(session, subject_id)
        return [ClockOut.model_validate(clock, from_attributes=True) for clock in found]

    return app

