"""The SLA monitor: every promise's clock, and a breach on Kafka the moment one is missed."""

import logging
from datetime import datetime
from functools import partial

from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from fastapi import FastAPI, Query
from faststream.kafka import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import BaseModel

from shared.events import utcnow
from shared.events.sla import SlaBreached, SlaMet, SlaWarning
from shared.kafka import declare_publications, handle_with_retries, origin_of, parse_or_dead_letter
from shared.service import Runtime, every, http_app, settle_the_collector
from shared.standards.loader import load_all
from shared.standards.models import StandardsBook
from shared.topics import Topic
from services.sla_monitor.adapters import clock_store
from services.sla_monitor.adapters.ownership import PartitionOwnership
from services.sla_monitor.bootstrap import bootstrap
from services.sla_monitor.domain import clocks as rules
from services.sla_monitor.handlers import Monitor
from services.sla_monitor.reporting.http import add_report_routes
from services.sla_monitor.timer import Alarm, DeadlineTimer

log = logging.getLogger(__name__)

INPUTS = (
    Topic.CASES,
    Topic.APPOINTMENTS,
    Topic.NOTIFICATIONS_OUTCOMES,
    Topic.COMPLIANCE,
    Topic.FINANCE_RENT_CREDITS,
)


class ClockOut(BaseModel):
    id: str
    definition: str
    name: str
    standard: str
    obligation: str
    source: str
    subject_id: str
    reference: str
    instance: str
    started_at: datetime
    deadline: datetime
    state: str
    stopped_at: datetime | None
    breached_at: datetime | None
    paused_at: datetime | None
    extended_from: datetime | None


def create_app(runtime: Runtime | None = None, book: StandardsBook | None = None) -> FastAPI:
    runtime = runtime or bootstrap()
    alarm = Alarm()
    ownership = PartitionOwnership(INPUTS, on_change=alarm.now)
    monitor = Monitor(runtime, book or load_all(), ownership, alarm)
    ownership.subscriber = _subscribe(runtime, monitor, ownership)
    declare_publications(
        runtime.broker,
        {Topic.SLA_WARNINGS: SlaWarning, Topic.SLA_BREACHES: SlaBreached, Topic.SLA_OUTCOMES: SlaMet},
    )
    timer = DeadlineTimer(monitor.alert_due, monitor.next_alert, alarm)
    forget_start, forget_stop = every(3600, monitor.forget_old_events, "forget-old-events")
    runtime.on_start += [_warm_up, timer.start, forget_start]
    runtime.on_stop += [timer.stop, forget_stop]
    app = http_app(runtime, "Doorstep SLA monitor", "Every published promise, tracked in working time.")
    app.state.monitor = monitor
    add_report_routes(app, runtime)

    @app.get("/clocks", tags=["staff"])
    async def clocks_of(subject_id: str = Query(description="A case or property id")) -> list[ClockOut]:
        """Every clock of one case or property, soonest deadline first."""
        async with runtime.sessions() as session:
            found = await clock_store.for_subject(session, subject_id)
        return [ClockOut.model_validate(clock, from_attributes=True) for clock in found]

    return app


async def _warm_up() -> None:
    rules.prepare_calendar(utcnow().date())
    settle_the_collector()


async def _raw_records(message: KafkaMessage) -> None:
    return None


FETCH_MIN_BYTES = 64 * 1024


def _subscribe(runtime: Runtime, monitor: Monitor, ownership: PartitionOwnership) -> object:
    """One consumer over every input, so partition p of each co-partitioned topic is
    assigned to the same instance (the range assignor). Records come in batches, applied
    in one transaction; if a batch fails, its records are applied one by one, with
    retries, and what still fails is dead-lettered."""
    broker, attempts = runtime.broker, runtime.settings.handler_attempts

    async def consume(message: KafkaMessage) -> None:
        parsed = []
        for record in message.raw_message:
            event = await parse_or_dead_letter(broker, record, Topic.DLQ_SLA_MONITOR)
            if event is not None:
                parsed.append((record, event))
        try:
            await monitor.apply_many([(event, origin_of(record)) for record, event in parsed])
        except Exception as error:  # noqa: BLE001 - isolate the record that fails
            log.warning("batch failed; applying one by one", extra={"reason": type(error).__name__})
            for record, event in parsed:
                apply = partial(monitor.apply, origin=origin_of(record))
                await handle_with_retries(broker, Topic.DLQ_SLA_MONITOR, record, apply, event, attempts)
        ownership.handled(message.raw_message)

    subscriber = broker.subscriber(
        *(str(t) for t in INPUTS),
        group_id="sla_monitor",
        batch=True,
        max_records=1000,
        # The handler reads the raw records; FastStream need not decode every body first.
        decoder=_raw_records,
        batch_timeout_ms=20,
        # The caught-up check asks for end offsets, which queue behind a waiting fetch.
        fetch_max_wait_ms=100,
        # The broker holds each fetch until 64 KiB have arrived or those 100 ms have passed:
        # under a steady stream the batches are larger (fewer transactions and offset
        # commits for the same events); a lone event waits at most the 100 ms.
        fetch_min_bytes=FETCH_MIN_BYTES,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        partition_assignment_strategy=(RangePartitionAssignor,),
        listener=ownership,
        title="sla_monitor:inputs",
        description="Every event that starts, stops, pauses, resumes or extends a clock",
    )
    subscriber(consume)
    return subscriber
