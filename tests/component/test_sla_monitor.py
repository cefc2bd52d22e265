"""The SLA monitor on the in-memory broker: events start, stop, pause, resume, extend and
cancel clocks; warnings and a missed deadline are published once.

`create_app` wires the real subscriber and puts its Monitor on `app.state.monitor`. The
deadline timer it would start is stood in for by calling `monitor.alert_due()`, and time
is driven by giving events times in the past. The in-memory broker never assigns
partitions, so the monitor is told it owns every one (`OwnsEverything`)."""

import asyncio
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import pytest
from faststream.kafka import TestKafkaBroker

from services.sla_monitor.adapters import clock_store
from services.sla_monitor.adapters.ownership import OwnsEverything
from services.sla_monitor.app import create_app
from services.sla_monitor.domain.clocks import Clock, ClockState
from services.sla_monitor.handlers import Monitor
from services.sla_monitor.timer import Alarm
from shared.events import Event, parse_event, serialize
from shared.events.appointments import (
    WorksOrderRaised,
)
from shared.events.cases import (
    CaseClosed,
    CaseKind,
    CaseOpened,
    CaseReplied,
    Channel,
    ComplaintAcknowledged,
    ComplaintStage,
    ExtensionAgreed,
    Flag,
    HazardInvestigated,
    Mailbox,
    Priority,
)
from shared.events.compliance import CertificateKind, CertificateRecorded, GasCheckOffered
from shared.kafka import Origin
from shared.service import Runtime
from shared.standards.loader import load_all
from shared.topics import Topic
from tests.component.conftest import Recorder, record
from tests.sla_events import (
    CASE_ID,
    REFERENCE,
    booked,
    cancelled,
    no_access,
    reminder_sent,
    utc,
)

PROPERTY_ID = "9d2e7c41-0b7a-4f55-8c3e-2a1b0c9d8e7f"
NOW = datetime.now(UTC).replace(microsecond=0)
THIRTY_DAYS_AGO = NOW - timedelta(days=30)



@pytest.fixture(scope="module")
def book():  # type: ignore[no-untyped-def]
    return load_all()


@pytest.fixture
def monitor(sla_monitor_runtime: Runtime, book) -> Monitor:  # type: ignore[no-untyped-def]
    monitor: Monitor = create_app(sla_monitor_runtime, book).state.monitor
    monitor.ownership = OwnsEverything()
    return monitor


@pytest.fixture
def breaches(sla_monitor_runtime: Runtime, monitor: Monitor) -> Recorder:
    return record(sla_monitor_runtime.broker, Topic.SLA_BREACHES)


@pytest.fixture
def warnings(sla_monitor_runtime: Runtime, monitor: Monitor) -> Recorder:
    return record(sla_monitor_runtime.broker, Topic.SLA_WARNINGS)


@pytest.fixture
def outcomes(sla_monitor_runtime: Runtime, monitor: Monitor) -> Recorder:
    return record(sla_monitor_runtime.broker, Topic.SLA_OUTCOMES)


@pytest.fixture
def dead(sla_monitor_runtime: Runtime, monitor: Monitor) -> Recorder:
    return record(sla_monitor_runtime.broker, Topic.DLQ_SLA_MONITOR)


class Lagging(OwnsEverything):
    """Owns every partition, but has not yet handled every input up to its end until told."""

    def __init__(self) -> None:
        self.behind = True

    async def caught_up(self, partitions: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
        return set() if self.behind else set(partitions)


# -- events ------------------------------------------------------------------------------------


def letter_opened(received_at: datetime = THIRTY_DAYS_AGO, kind: CaseKind = CaseKind.LETTER) -> CaseOpened:
    return CaseOpened(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference=REFERENCE,
        channel=Channel.LETTER,
        kind=kind,
        received_at=received_at,
    )


def repair_opened(received_at: datetime, priority: Priority = Priority.URGENT) -> CaseOpened:
    return CaseOpened(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference=REFERENCE,
        channel=Channel.PHONE,
        kind=CaseKind.REPAIR_REQUEST,
        priority=priority,
        received_at=received_at,
    )


def complaint_opened(received_at: datetime) -> CaseOpened:
    return CaseOpened(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference=REFERENCE,
        channel=Channel.EMAIL,
        mailbox=Mailbox.COMPLAINTS,
        kind=CaseKind.COMPLAINT,
        received_at=received_at,
    )


def replied(at: datetime) -> CaseReplied:
    return CaseReplied(correlation_id=CASE_ID, case_id=CASE_ID, reference=REFERENCE, replied_at=at)


def acknowledged(at: datetime) -> ComplaintAcknowledged:
    return ComplaintAcknowledged(
        correlation_id=CASE_ID, case_id=CASE_ID, reference=REFERENCE, stage=ComplaintStage.STAGE_1, acknowledged_at=at
    )


def extension(clock: str, new_deadline: datetime, agreed_at: datetime) -> ExtensionAgreed:
    return ExtensionAgreed(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference=REFERENCE,
        clock=clock,
        new_deadline=new_deadline,
        reason="complex complaint, agreed with the tenant in writing",
        agreed_at=agreed_at,
    )






def gas_certificate(checked_on: date) -> CertificateRecorded:
    return CertificateRecorded(
        correlation_id=PROPERTY_ID,
        property_id=PROPERTY_ID,
        property_reference="PR-0042",
        kind=CertificateKind.GAS_SAFETY,
        checked_on=checked_on,
        recorded_at=datetime.combine(checked_on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12),
    )


def works_order_raised(at: datetime) -> WorksOrderRaised:
    return WorksOrderRaised(
        correlation_id=CASE_ID, case_id=CASE_ID, reference=REFERENCE, works_order_id="WO-1", raised_at=at
    )


TOPIC_OF_MODULE = {
    "shared.events.cases": Topic.CASES,
    "shared.events.appointments": Topic.APPOINTMENTS,
    "shared.events.notifications": Topic.NOTIFICATIONS_OUTCOMES,
    "shared.events.compliance": Topic.COMPLIANCE,
}


async def publish(broker, event: Event) -> None:  # type: ignore[no-untyped-def]
    topic = TOPIC_OF_MODULE[type(event).__module__]
    await broker.publish(serialize(event), str(topic), key=event.key())


# -- reading back ------------------------------------------------------------------------------


async def clock_states(runtime: Runtime, subject_id: str = CASE_ID) -> dict[str, str]:
    return {c.definition: str(c.state) for c in await clocks_of(runtime, subject_id)}


async def clocks_of(runtime: Runtime, subject_id: str = CASE_ID) -> list[Clock]:
    async with runtime.sessions() as session:
        return await clock_store.for_subject(session, subject_id)


async def clock(runtime: Runtime, clock_id: str, subject_id: str = CASE_ID) -> Clock:
    [found] = [c for c in await clocks_of(runtime, subject_id) if c.id == clock_id]
    return found


def events(recorder: Recorder) -> list:  # type: ignore[type-arg]
    return [parse_event(r.body) for r in recorder.records]


# -- breaching and meeting ---------------------------------------------------------------------


async def test_a_letter_received_30_days_ago_is_breached(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder, dead: Recorder
):
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        assert await clock_states(sla_monitor_runtime) == {"letter_reply": "running"}
        assert await monitor.alert_due()
        await sla_monitor_runtime.outbox.relay_pending()

    [record_] = breaches.records
    breach = parse_event(record_.body)
    assert breach.event_type == "sla.breached"
    assert breach.clock == "letter_reply"
    assert breach.subject_id == CASE_ID
    assert breach.reference == REFERENCE
    assert breach.obligation == "internal"
    assert breach.started_at == THIRTY_DAYS_AGO
    assert breach.deadline < datetime.now(UTC)
    assert record_.key == CASE_ID.encode()
    assert await clock_states(sla_monitor_runtime) == {"letter_reply": "breached"}
    assert dead.records == []


async def test_a_breach_is_published_once_however_often_it_is_looked_for(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder
):
    opened = letter_opened()
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, opened)
        await monitor.alert_due()
        await monitor.alert_due()
        await publish(broker, opened)  # redelivered after a rebalance
        await monitor.alert_due()
        await sla_monitor_runtime.outbox.relay_pending()
        await sla_monitor_runtime.outbox.relay_pending()

    assert len(breaches.records) == 1


async def test_two_monitors_racing_publish_one_breach(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder, book
):  # type: ignore[no-untyped-def]
    other_replica = Monitor(sla_monitor_runtime, book, OwnsEverything(), Alarm())
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        await asyncio.gather(monitor.alert_due(), other_replica.alert_due())
        await sla_monitor_runtime.outbox.relay_pending()

    assert len(breaches.records) == 1


async def test_a_reply_before_the_deadline_is_met_and_never_breached(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder, outcomes: Recorder
):
    reply_at = THIRTY_DAYS_AGO + timedelta(days=1)
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        await publish(broker, replied(reply_at))
        await monitor.alert_due()  # the deadline has long passed: only "met" stops a breach
        await sla_monitor_runtime.outbox.relay_pending()

    [record_] = outcomes.records
    met = parse_event(record_.body)
    assert met.event_type == "sla.met"
    assert met.clock == "letter_reply"
    assert met.stopped_at == reply_at
    assert met.late_by is None
    assert breaches.records == []
    assert await clock_states(sla_monitor_runtime) == {"letter_reply": "met"}


async def test_a_redelivered_reply_is_met_once(sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder):
    reply = replied(THIRTY_DAYS_AGO + timedelta(days=1))
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        await publish(broker, reply)
        await publish(broker, reply)
        await sla_monitor_runtime.outbox.relay_pending()

    assert len(outcomes.records) == 1


async def test_a_reply_after_a_breach_is_met_late(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder, outcomes: Recorder
):
    reply_at = datetime.now(UTC).replace(microsecond=0)
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        await monitor.alert_due()
        await publish(broker, replied(reply_at))
        await sla_monitor_runtime.outbox.relay_pending()

    assert len(breaches.records) == 1
    [record_] = outcomes.records
    met = parse_event(record_.body)
    assert met.late_by == reply_at - met.deadline
    assert met.late_by > timedelta(days=10)


async def test_a_case_received_now_is_not_breached_yet(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder
):
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened(received_at=datetime.now(UTC)))
        assert await monitor.alert_due()
        await sla_monitor_runtime.outbox.relay_pending()

    assert breaches.records == []
    [letter] = await clocks_of(sla_monitor_runtime)
    assert await monitor.next_alert() == letter.next_alert_at
    assert letter.next_alert_at is not None and letter.next_alert_at > datetime.now(UTC)


async def test_only_a_clock_due_sooner_than_the_timer_sleeps_wakes_it(sla_monitor_runtime: Runtime, book):  # type: ignore[no-untyped-def]
    alarm = Alarm()
    watched = Monitor(sla_monitor_runtime, book, OwnsEverything(), alarm)
    now = datetime.now(UTC)
    alarm.sleeping_until = now + timedelta(days=1)

    await watched.apply(letter_opened(received_at=now), Origin(str(Topic.CASES), 0, 0))
    assert not alarm.rung.is_set()  # its first warning is days away

    other_case = "0c6e1d2a-4b3f-4e8a-9c1d-2e3f4a5b6c7d"
    overdue = letter_opened().model_copy(update={"case_id": other_case, "correlation_id": other_case})
    await watched.apply(overdue, Origin(str(Topic.CASES), 0, 1))
    assert alarm.rung.is_set()  # received thirty days ago: due already
    assert await clock_states(sla_monitor_runtime, other_case) == {"letter_reply": "running"}


async def test_closing_a_complaint_cancels_its_clocks(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder
):
    """Complaint clocks are cancelled by case.closed (cancels_on in both packs): a closed
    complaint must not be reported as a missed acknowledgement weeks later."""
    closed = CaseClosed(
        correlation_id=CASE_ID, case_id=CASE_ID, reference=REFERENCE, closed_at=THIRTY_DAYS_AGO + timedelta(hours=2)
    )
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened(kind=CaseKind.COMPLAINT))
        await publish(broker, closed)
        await monitor.alert_due()
        await sla_monitor_runtime.outbox.relay_pending()

    assert [parse_event(r.body).clock for r in breaches.records] == []
    assert "running" not in (await clock_states(sla_monitor_runtime)).values()


async def test_an_email_to_repairs_replied_in_time_meets_the_reply_clock_only(
    sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder
):
    received = utc(2026, 11, 30, 10, 0)
    email = CaseOpened(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference=REFERENCE,
        channel=Channel.EMAIL,
        mailbox=Mailbox.REPAIRS,
        kind=CaseKind.REPAIR_REQUEST,
        priority=Priority.ROUTINE,
        received_at=received,
    )
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, email)
        await publish(broker, replied(received + timedelta(hours=3)))
        await sla_monitor_runtime.outbox.relay_pending()

    met = sorted(parse_event(r.body).clock for r in outcomes.records)
    # a reply also counts as the contact to book (repair_booking_contact); completion runs on
    assert met == ["email_reply_repairs", "repair_booking_contact"]
    assert (await clock_states(sla_monitor_runtime))["repair_completion_routine"] == "running"


async def test_unreadable_case_events_are_dead_lettered(
    sla_monitor_runtime: Runtime, monitor: Monitor, dead: Recorder
):
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await broker.publish(b"not an event", str(Topic.CASES), key=b"poison")
        await publish(broker, letter_opened())

    [letter] = dead.records
    assert letter.headers["dlq_topic"] == str(Topic.CASES)
    assert await clock_states(sla_monitor_runtime) == {"letter_reply": "running"}


async def test_a_record_that_fails_its_batch_is_dead_lettered_alone_and_the_rest_applied(
    sla_monitor_runtime: Runtime, monitor: Monitor, dead: Recorder, monkeypatch: pytest.MonkeyPatch
):
    from services.sla_monitor.domain.applying import ClockRules

    def letter(case_id: str) -> CaseOpened:
        return letter_opened().model_copy(update={"case_id": case_id, "correlation_id": case_id})

    poisoned = letter("case-poisoned")
    apply = ClockRules.apply

    def failing_for_the_poisoned(self, event, existing):  # type: ignore[no-untyped-def]
        if event.case_id == poisoned.case_id:
            raise RuntimeError("cannot apply")
        return apply(self, event, existing)

    monkeypatch.setattr(ClockRules, "apply", failing_for_the_poisoned)
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await broker.publish_batch(
            *(serialize(e) for e in (letter("case-before"), poisoned, letter("case-after"))), topic=str(Topic.CASES)
        )

    [record_] = dead.records
    assert parse_event(record_.body).event_id == poisoned.event_id
    attempts = sla_monitor_runtime.settings.handler_attempts
    assert record_.headers["dlq_reason"] == f"handler failed {attempts} times: RuntimeError"
    assert await clock_states(sla_monitor_runtime, "case-before") == {"letter_reply": "running"}
    assert await clock_states(sla_monitor_runtime, "case-after") == {"letter_reply": "running"}
    assert await clock_states(sla_monitor_runtime, "case-poisoned") == {}


# -- pausing and resuming ----------------------------------------------------------------------

URGENT = f"hexagon:repair_completion_urgent:{CASE_ID}"


async def test_no_access_pauses_an_urgent_repair_and_a_new_booking_resumes_it_later(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder
):
    # Seven days from the report ran out two hours ago, but the contractor could not get in
    # on day one and the next appointment was booked a day later: one day on hold.
    reported = NOW - timedelta(days=7, hours=2)
    no_access_at, rebooked_at = reported + timedelta(days=1), reported + timedelta(days=2)
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, repair_opened(reported))
        original = (await clock(sla_monitor_runtime, URGENT)).deadline
        assert original < NOW

        await publish(broker, no_access("appt-1", no_access_at))
        on_hold = await clock(sla_monitor_runtime, URGENT)
        assert (on_hold.state, on_hold.paused_at) == (ClockState.PAUSED, no_access_at)

        await publish(broker, booked("appt-2", NOW + timedelta(days=10), rebooked_at))
        await monitor.alert_due()
        await sla_monitor_runtime.outbox.relay_pending()

    running = await clock(sla_monitor_runtime, URGENT)
    assert running.state is ClockState.RUNNING
    assert running.paused_at is None
    assert running.deadline == original + timedelta(days=1)
    assert running.deadline > NOW
    assert [e.clock for e in events(breaches)] == []


async def test_no_access_pauses_only_the_clocks_whose_standard_allows_it(
    sla_monitor_runtime: Runtime, monitor: Monitor
):
    """Only the repairs standard lets a contractor's failed visit stop the clock (002:
    "If our contractor cannot gain access ... we cannot guarantee"); the law gives Awaab's
    investigation no such pause, and answering the tenant does not wait on the visit."""
    reported = NOW - timedelta(days=2)
    damp = CaseOpened(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference=REFERENCE,
        channel=Channel.EMAIL,
        mailbox=Mailbox.REPAIRS,
        kind=CaseKind.REPAIR_REQUEST,
        priority=Priority.URGENT,
        flags=(Flag.DAMP_AND_MOULD,),
        received_at=reported,
    )
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, damp)
        before = {c.id: c.state for c in await clocks_of(sla_monitor_runtime)}
        await publish(broker, no_access("appt-1", reported + timedelta(days=1)))
    after = {c.id: c.state for c in await clocks_of(sla_monitor_runtime)}

    investigation = f"statutory-england:awaab_damp_and_mould_investigation:{CASE_ID}"
    reply = f"hexagon:email_reply_repairs:{CASE_ID}"
    assert {URGENT, investigation, reply} <= set(before)
    assert set(before.values()) == {ClockState.RUNNING}
    assert after[URGENT] == ClockState.PAUSED
    assert {clock_id: state for clock_id, state in after.items() if clock_id != URGENT} == {
        clock_id: ClockState.RUNNING for clock_id in before if clock_id != URGENT
    }


async def test_in_one_batch_a_no_access_read_before_the_case_it_pauses_still_pauses_it(
    sla_monitor_runtime: Runtime, monitor: Monitor
):
    """A batch holds one partition's records after another's: the appointments topic may
    come first. The events are applied in the order they happened."""
    reported = NOW - timedelta(days=2)
    visit = no_access("appt-1", reported + timedelta(hours=3))
    await monitor.apply_many(
        [(visit, Origin(str(Topic.APPOINTMENTS), 0, 7)), (repair_opened(reported), Origin(str(Topic.CASES), 0, 3))]
    )
    paused = await clock(sla_monitor_runtime, URGENT)
    assert (paused.state, paused.paused_at) == (ClockState.PAUSED, visit.at)


async def test_in_one_batch_a_partition_keeps_its_order_even_when_a_reply_is_dated_first(
    sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder
):
    """A reply recorded as made before the letter it answers still meets the letter's clock
    (with no time used): within one partition, the order records came in is kept."""
    received = NOW - timedelta(days=1)
    await monitor.apply_many(
        [
            (letter_opened(received), Origin(str(Topic.CASES), 2, 10)),
            (replied(received - timedelta(hours=1)), Origin(str(Topic.CASES), 2, 11)),
        ]
    )
    assert await clock_states(sla_monitor_runtime) == {"letter_reply": "met"}


async def test_a_redelivered_pause_is_applied_once(sla_monitor_runtime: Runtime, monitor: Monitor):
    reported = NOW - timedelta(days=7, hours=2)
    pause = no_access("appt-1", reported + timedelta(days=1))
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, repair_opened(reported))
        original = (await clock(sla_monitor_runtime, URGENT)).deadline
        await publish(broker, pause)
        await publish(broker, booked("appt-2", NOW + timedelta(days=10), reported + timedelta(days=2)))
        await publish(broker, pause)  # the same record again, after a rebalance

    running = await clock(sla_monitor_runtime, URGENT)
    assert running.state is ClockState.RUNNING
    assert running.deadline == original + timedelta(days=1)


# -- Awaab's Law: what runs from the end of the investigation ---------------------------------

DAMP_REPORTED = utc(2026, 11, 2, 10, 0)  # Monday, winter, no bank holiday near
INVESTIGATED = utc(2026, 11, 5, 15, 0)  # Thursday
AWAAB = "statutory-england"


async def test_the_awaab_summary_and_safety_work_run_from_the_end_of_the_investigation(
    sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder
):
    damp = CaseOpened(
        correlation_id=CASE_ID, case_id=CASE_ID, reference=REFERENCE, channel=Channel.PHONE,
        kind=CaseKind.REPAIR_REQUEST, priority=Priority.ROUTINE, flags=(Flag.DAMP_AND_MOULD,),
        received_at=DAMP_REPORTED,
    )
    found = HazardInvestigated(
        correlation_id=CASE_ID, case_id=CASE_ID, reference=REFERENCE, investigated_at=INVESTIGATED,
        flags=("significant_hazard",),
    )
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, damp)
        assert f"{AWAAB}:awaab_written_summary:{CASE_ID}" not in {c.id for c in await clocks_of(sla_monitor_runtime)}
        await publish(broker, found)
        await sla_monitor_runtime.outbox.relay_pending()

    clocks = {c.id: c for c in await clocks_of(sla_monitor_runtime)}
    investigation = clocks[f"{AWAAB}:awaab_damp_and_mould_investigation:{CASE_ID}"]
    assert (investigation.state, investigation.stopped_at) == (ClockState.MET, INVESTIGATED)
    summary = clocks[f"{AWAAB}:awaab_written_summary:{CASE_ID}"]
    safety = clocks[f"{AWAAB}:awaab_safety_work:{CASE_ID}"]
    assert summary.started_at == safety.started_at == INVESTIGATED
    assert summary.deadline == utc(2026, 11, 10, 17, 0)  # 3 working days: Fri, Mon, Tue
    assert safety.deadline == utc(2026, 11, 12, 17, 0)  # 5 working days: to Thursday
    assert summary.state is safety.state is ClockState.RUNNING
    assert [m.clock for m in events(outcomes)] == ["awaab_damp_and_mould_investigation"]


# -- complaints: the statutory chain and extensions --------------------------------------------

RECEIVED = utc(2026, 11, 2, 10, 0)  # Monday; November 2026 is winter and holds no bank holiday
ACKNOWLEDGED = utc(2026, 11, 4, 11, 0)  # Wednesday
STATUTORY_RESPONSE = f"statutory-england:complaint_stage1_response:{CASE_ID}"
INTERNAL_RESPONSE = f"hexagon:complaint_stage1_response:{CASE_ID}"


async def test_a_stage_1_acknowledgement_starts_the_statutory_response_clock_from_itself(
    sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder
):
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, complaint_opened(RECEIVED))
        assert STATUTORY_RESPONSE not in {c.id for c in await clocks_of(sla_monitor_runtime)}
        await publish(broker, acknowledged(ACKNOWLEDGED))
        await sla_monitor_runtime.outbox.relay_pending()

    met = {(m.standard.split("@")[0], m.clock): m for m in events(outcomes)}
    assert set(met) == {
        ("statutory-england", "complaint_stage1_acknowledgement"),
        ("hexagon", "complaint_acknowledgement"),
        ("hexagon", "email_reply_complaints"),
    }
    assert all(m.stopped_at == ACKNOWLEDGED and m.late_by is None for m in met.values())

    response = await clock(sla_monitor_runtime, STATUTORY_RESPONSE)
    assert response.state is ClockState.RUNNING
    assert response.started_at == ACKNOWLEDGED
    assert response.deadline == utc(2026, 11, 18, 17, 0)  # 10 working days after Wednesday 4 November
    assert response.standard == "statutory-england@2025-12-01"
    # the internal Stage 1 response runs from receipt, as Hexagon's document is read
    assert (await clock(sla_monitor_runtime, INTERNAL_RESPONSE)).deadline == utc(2026, 11, 16, 17, 0)


async def test_an_agreed_extension_moves_both_packs_clocks_the_statutory_one_no_further_than_the_law_allows(
    sla_monitor_runtime: Runtime, monitor: Monitor
):
    agreed = extension("complaint_stage1_response", utc(2026, 12, 11, 17, 0), utc(2026, 11, 13, 10, 0))
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, complaint_opened(RECEIVED))
        await publish(broker, acknowledged(ACKNOWLEDGED))
        await publish(broker, agreed)

    internal = await clock(sla_monitor_runtime, INTERNAL_RESPONSE)
    assert internal.deadline == utc(2026, 12, 11, 17, 0)  # Hexagon's document sets no maximum
    assert internal.extended_from == utc(2026, 11, 16, 17, 0)

    statutory = await clock(sla_monitor_runtime, STATUTORY_RESPONSE)
    assert statutory.deadline == utc(2026, 12, 2, 17, 0)  # 18 November + 10 working days
    assert statutory.extended_from == utc(2026, 11, 18, 17, 0)
    assert statutory.state is ClockState.RUNNING

    others = [c for c in await clocks_of(sla_monitor_runtime) if c.definition != "complaint_stage1_response"]
    assert all(c.extended_from is None for c in others)


# -- appointment reminders ---------------------------------------------------------------------

MONDAY_APPOINTMENT = utc(2026, 3, 16, 10, 0)
TUESDAY_APPOINTMENT = utc(2026, 3, 17, 10, 0)
BOOKED_AT = utc(2026, 3, 9, 10, 0)
REMINDER_A = f"hexagon:appointment_reminder:{CASE_ID}:appt-A"
REMINDER_B = f"hexagon:appointment_reminder:{CASE_ID}:appt-B"


async def test_a_reminder_is_due_by_17_00_on_the_working_day_before_and_met_by_its_notification(
    sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder
):
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, booked("appt-A", MONDAY_APPOINTMENT, BOOKED_AT))
        await publish(broker, booked("appt-B", TUESDAY_APPOINTMENT, BOOKED_AT))
        assert (await clock(sla_monitor_runtime, REMINDER_A)).deadline == utc(2026, 3, 13, 17, 0)  # Friday
        assert (await clock(sla_monitor_runtime, REMINDER_B)).deadline == utc(2026, 3, 16, 17, 0)  # Monday

        await publish(broker, reminder_sent("appt-A", utc(2026, 3, 13, 12, 0)))
        await sla_monitor_runtime.outbox.relay_pending()

    [met] = events(outcomes)
    assert (met.clock_id, met.stopped_at, met.late_by) == (REMINDER_A, utc(2026, 3, 13, 12, 0), None)
    assert (await clock(sla_monitor_runtime, REMINDER_A)).state is ClockState.MET
    assert (await clock(sla_monitor_runtime, REMINDER_B)).state is ClockState.RUNNING  # another appointment


async def test_an_appointment_booked_after_its_reminder_day_owes_no_reminder(
    sla_monitor_runtime: Runtime, monitor: Monitor
):
    """Booked on Saturday for Monday: Friday, the reminder's day, has gone. The booking's
    confirmation tells the tenant; no reminder clock starts, so none can be breached."""
    saturday = utc(2026, 3, 14, 10, 0)
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, booked("appt-A", MONDAY_APPOINTMENT, saturday))
        await publish(broker, booked("appt-B", TUESDAY_APPOINTMENT, saturday))
    ids = {c.id for c in await clocks_of(sla_monitor_runtime, CASE_ID)}
    assert REMINDER_A not in ids
    assert REMINDER_B in ids  # Monday, the day before Tuesday, is still ahead


async def test_cancelling_an_appointment_cancels_its_reminder_only(
    sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder
):
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, booked("appt-A", MONDAY_APPOINTMENT, BOOKED_AT))
        await publish(broker, booked("appt-B", TUESDAY_APPOINTMENT, BOOKED_AT))
        await publish(broker, cancelled("appt-B", utc(2026, 3, 10, 9, 0)))
        await sla_monitor_runtime.outbox.relay_pending()

    assert (await clock(sla_monitor_runtime, REMINDER_B)).state is ClockState.CANCELLED
    assert (await clock(sla_monitor_runtime, REMINDER_A)).state is ClockState.RUNNING
    assert outcomes.records == []  # a cancelled clock is neither met nor breached


# -- gas certificates --------------------------------------------------------------------------


async def test_gas_certificates_keep_the_due_date_when_checked_inside_the_window(
    sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder
):
    first, second = gas_certificate(date(2025, 3, 10)), gas_certificate(date(2026, 2, 20))
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, first)
        started = await clocks_of(sla_monitor_runtime, PROPERTY_ID)
        assert {(c.pack_id, c.definition) for c in started} == {
            ("hexagon", "gas_safety_check"),
            ("hexagon", "gas_check_offer"),
            ("statutory-england", "gas_safety_check"),
        }
        # due 10 March 2026: the certificate lapses at the London midnight after it (GMT)
        assert {c.deadline for c in started} == {utc(2026, 3, 11, 0, 0)}
        assert all(c.subject_type == "property" and c.reference == "PR-0042" for c in started)

        await publish(broker, second)  # inside the two months before 10 March
        await sla_monitor_runtime.outbox.relay_pending()

    met = events(outcomes)
    assert sorted(m.clock_id for m in met) == sorted(c.id for c in started)
    assert all(m.stopped_at == second.recorded_at and m.late_by is None for m in met)

    now = {c.id: c for c in await clocks_of(sla_monitor_runtime, PROPERTY_ID)}
    assert all(now[c.id].state is ClockState.MET for c in started)
    following = [c for c in now.values() if c.id not in {s.id for s in started}]
    assert len(following) == 3
    assert {c.deadline for c in following} == {utc(2027, 3, 11, 0, 0)}  # 10 March 2027 kept, not 20 February
    assert all(c.state is ClockState.RUNNING for c in following)


def gas_check_offered(attempt: int, at: datetime) -> GasCheckOffered:
    return GasCheckOffered(
        correlation_id=f"gas-case-{PROPERTY_ID}",
        property_id=PROPERTY_ID,
        case_id=f"gas-case-{PROPERTY_ID}",
        due_on=date(2026, 3, 10),
        attempt=attempt,
        proposed_starts_at=at + timedelta(days=10),
        offered_at=at,
    )


async def test_the_gas_programmes_first_offer_meets_the_offer_clock_and_nothing_else(
    sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder, dead: Recorder
):
    offered_at = utc(2026, 1, 12, 9, 0)
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, gas_certificate(date(2025, 3, 10)))
        await publish(broker, gas_check_offered(1, offered_at))
        await publish(broker, gas_check_offered(2, offered_at + timedelta(days=7)))  # a chase
        await sla_monitor_runtime.outbox.relay_pending()

    [met] = events(outcomes)
    assert (met.clock, met.subject_id, met.stopped_at, met.late_by) == (
        "gas_check_offer", PROPERTY_ID, offered_at, None,
    )
    states = {(c.pack_id, c.definition): c.state for c in await clocks_of(sla_monitor_runtime, PROPERTY_ID)}
    assert states == {
        ("hexagon", "gas_check_offer"): ClockState.MET,
        ("hexagon", "gas_safety_check"): ClockState.RUNNING,
        ("statutory-england", "gas_safety_check"): ClockState.RUNNING,
    }
    assert dead.records == []


# -- warnings ----------------------------------------------------------------------------------


async def test_a_passed_warning_point_is_published_once_however_often_alerts_are_looked_for(
    sla_monitor_runtime: Runtime, monitor: Monitor, warnings: Recorder, breaches: Recorder
):
    raised = NOW - timedelta(hours=13)  # 24 hours to confirm: 50% passed an hour ago, 75% is 5 hours off
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, works_order_raised(raised))
        await monitor.alert_due()
        await monitor.alert_due()
        await sla_monitor_runtime.outbox.relay_pending()
        await monitor.alert_due()
        await sla_monitor_runtime.outbox.relay_pending()

    [record_] = warnings.records
    warning = parse_event(record_.body)
    assert warning.event_type == "sla.warning"
    assert (warning.clock, warning.point, warning.at_fraction) == ("works_order_confirmation", "50%", 0.5)
    assert warning.deadline == raised + timedelta(hours=24)
    assert record_.key == CASE_ID.encode()
    assert breaches.records == []
    assert await monitor.next_alert() == raised + timedelta(hours=18)


# -- event time decides ------------------------------------------------------------------------


async def test_no_breach_is_declared_until_the_inputs_are_caught_up(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder, warnings: Recorder
):
    lagging = Lagging()
    monitor.ownership = lagging
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        assert not await monitor.alert_due()  # due, but an event that happened in time may be queued
        await sla_monitor_runtime.outbox.relay_pending()
        assert breaches.records == [] and warnings.records == []
        assert await clock_states(sla_monitor_runtime) == {"letter_reply": "running"}

        lagging.behind = False
        assert await monitor.alert_due()
        assert await monitor.alert_due()
        await sla_monitor_runtime.outbox.relay_pending()

    [breach] = events(breaches)
    assert breach.clock == "letter_reply"
    assert await clock_states(sla_monitor_runtime) == {"letter_reply": "breached"}


async def test_a_stop_that_happened_in_time_but_arrives_late_leaves_no_false_breach(
    sla_monitor_runtime: Runtime,
    monitor: Monitor,
    breaches: Recorder,
    warnings: Recorder,
    outcomes: Recorder,
):
    lagging = Lagging()
    monitor.ownership = lagging
    reply_at = THIRTY_DAYS_AGO + timedelta(days=1)  # long before the deadline, and before any warning
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        assert not await monitor.alert_due()  # the deadline has passed; the reply is still queued

        await publish(broker, replied(reply_at))  # delivered after the deadline
        lagging.behind = False
        assert await monitor.alert_due()
        await sla_monitor_runtime.outbox.relay_pending()

    assert breaches.records == []
    assert warnings.records == []
    [met] = events(outcomes)
    assert (met.event_type, met.clock, met.stopped_at, met.late_by) == ("sla.met", "letter_reply", reply_at, None)
    assert await clock_states(sla_monitor_runtime) == {"letter_reply": "met"}


async def test_events_applied_long_ago_are_forgotten(sla_monitor_runtime: Runtime, monitor: Monitor):
    from services.sla_monitor.adapters.tables import processed_events
    from services.sla_monitor.handlers import REMEMBER_EVENTS_FOR

    now = datetime.now(UTC)
    async with sla_monitor_runtime.sessions.begin() as session:
        await session.execute(
            processed_events.insert(),
            [
                {"event_id": "old", "processed_at": now - REMEMBER_EVENTS_FOR - timedelta(hours=1)},
                {"event_id": "recent", "processed_at": now - timedelta(days=1)},
            ],
        )
    await monitor.forget_old_events()
    async with sla_monitor_runtime.sessions() as session:
        assert await clock_store.not_yet_applied(session, ["recent", "old"]) == {"old"}


# -- a clock changed between a batch's read and its write ------------------------------------


async def test_a_batch_does_not_overwrite_a_clock_changed_after_it_read_it(
    sla_monitor_runtime: Runtime, monitor: Monitor
):
    """The batch reads, works out, then writes; another replica (in the moment a partition
    moves) or the timer may change a clock in between. The write then fails, whole, and
    the batch is applied again from what is stored."""
    from services.sla_monitor.adapters.tables import clocks as clocks_table
    from services.sla_monitor.domain import clocks as rules
    from services.sla_monitor.domain.batch import ClockBatch
    from sqlalchemy import update

    await monitor.apply(letter_opened(datetime.now(UTC) - timedelta(days=1)), Origin(str(Topic.CASES), 0, 0))
    async with sla_monitor_runtime.sessions() as session:
        [read] = await clock_store.for_subjects(session, [CASE_ID])
    batch = ClockBatch([read])
    batch.change([rules.stopped(read, datetime.now(UTC))])

    async with sla_monitor_runtime.sessions.begin() as session:
        await session.execute(
            update(clocks_table).where(clocks_table.c.id == read.id).values(deadline=read.deadline + timedelta(days=3))
        )
    with pytest.raises(clock_store.StaleClocks):
        async with sla_monitor_runtime.sessions.begin() as session:
            await clock_store.write(session, batch)

    async with sla_monitor_runtime.sessions() as session:
        [stored] = await clock_store.for_subjects(session, [CASE_ID])
    assert stored.state is ClockState.RUNNING and stored.deadline == read.deadline + timedelta(days=3)

    async with sla_monitor_runtime.sessions() as session:
        [fresh] = await clock_store.for_subjects(session, [CASE_ID])
    batch = ClockBatch([fresh])
    batch.change([rules.stopped(fresh, datetime.now(UTC))])
    async with sla_monitor_runtime.sessions.begin() as session:
        await clock_store.write(session, batch)
    async with sla_monitor_runtime.sessions() as session:
        assert [c.state for c in await clock_store.for_subjects(session, [CASE_ID])] == [ClockState.MET]
