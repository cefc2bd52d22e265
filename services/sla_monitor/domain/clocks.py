"""Clocks: started, paused, resumed, extended, stopped and breached by events, timed by
the standards and the working-day calendar (pure: no I/O)."""

from dataclasses import dataclass
from functools import lru_cache, partial
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

from shared.calendar import Unit, default_calendar as calendar
from shared.compliance import next_due
from shared.events import stable_event_id
from shared.events.compliance import CertificateRecorded
from shared.events.sla import Obligation, SlaBreached, SlaMet, SlaWarning, SubjectType
from shared.standards.models import ApplicableClock, ClockDefinition, Extension
from services.sla_monitor.domain.facts import Subject


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # e.g. the contractor could not get in
    BREACHED = "breached"
    MET = "met"
    CANCELLED = "cancelled"  # ended with no result: the case closed before it mattered


FINAL = frozenset({ClockState.MET, ClockState.CANCELLED})


class WarningPoint(NamedTuple):  # a tuple: made two or three times for every clock started
    label: str  # "50%", "75%", "1 working day before"
    at: datetime
    fraction: float | None = None


@dataclass(frozen=True)
class Clock:
    id: str
    definition: str
    standard: str  # pack id @ effective date of the version in force at the start
    obligation: Obligation
    name: str
    source: str
    subject_type: SubjectType
    subject_id: str
    reference: str
    instance: str  # the appointment or certificate it is about; "" for the whole subject
    unit: Unit
    started_at: datetime
    deadline: datetime
    state: ClockState = ClockState.RUNNING
    warning_fractions: tuple[float, ...] = ()
    warnings: tuple[WarningPoint, ...] = ()  # still to come
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    paused_at: datetime | None = None
    extended_from: datetime | None = None

    @property
    def pack_id(self) -> str:
        return self.standard.split("@")[0]

    @property
    def effective_from(self) -> date:
        return date.fromisoformat(self.standard.split("@")[1])

    @property
    def next_alert_at(self) -> datetime | None:
        """When the timer must next look at this clock: a warning or the deadline."""
        if self.state is not ClockState.RUNNING:
            return None
        # Warnings are kept in time order.
        return min(self.deadline, self.warnings[0].at) if self.warnings else self.deadline

    def concerns(self, instance: str) -> bool:
        """An event about one appointment leaves the clocks of other appointments alone."""
        return not self.instance or not instance or self.instance == instance


# -- starting -------------------------------------------------------------------------


def prepare_calendar(today: date) -> None:
    """List the bank holidays and working days of last year to two years ahead now, at
    start-up, rather than in the middle of the first batch of events (the holiday
    tables take about a second to load)."""
    first, last = date(today.year - 1, 1, 1), date(today.year + 2, 12, 31)
    calendar.working_time_between(calendar.at(first, time(12)), calendar.at(last, time(12)))


def start(
    applicable: ApplicableClock,
    subject: Subject,
    instance: str,
    at: datetime,
    due_reference: datetime,
    due_on: date | None = None,
) -> Clock:
    """A new clock, due on `due_on` when a certificate's rules set the date, else counted
    from `due_reference` (the appointment, for a reminder; the event itself otherwise)."""
    definition = applicable.clock
    deadline = _end_of(due_on) if due_on else definition.target.due(due_reference)
    clock_id = ":".join(
        part for part in (applicable.pack_id, definition.id, subject.id, instance) if part
    )
    return Clock(
        clock_id,
        *_described(applicable),
        subject.type,
        subject.id,
        subject.reference,
        instance,
        definition.target.unit,
        at,
        deadline,
        ClockState.RUNNING,
        definition.warnings,
        warning_points(definition.warnings, definition.target.unit, at, deadline),
    )


_DESCRIBED: dict[tuple[str, date, str], tuple[str, str, Obligation, str, str]] = {}


def _described(applicable: ApplicableClock) -> tuple[str, str, Obligation, str, str]:
    """What every clock of one definition says about itself, worked out once: definition,
    standard, obligation, name and source, in the order Clock takes them. (Keyed by ids:
    hashing the definition itself would cost more than building the strings.)"""
    key = (applicable.pack_id, applicable.effective_from, applicable.clock.id)
    described = _DESCRIBED.get(key)
    if described is None:
        definition = applicable.clock
        described = _DESCRIBED[key] = (
            definition.id,
            f"{applicable.pack_id}@{applicable.effective_from.isoformat()}",
            Obligation(applicable.pack_kind),
            definition.name,
            f"{definition.source.document}: {definition.source.text}",
        )
    return described


def certificate_due(
    definition: ClockDefinition, certificate: CertificateRecorded, previous_due: date | None
) -> date | None:
    """The due date a safety certificate sets for the next check, by the compliance rules."""
    if definition.target.unit is not Unit.MONTHS:
        return None
    return next_due(
        certificate.kind,
        certificate.checked_on,
        definition.target.amount,
        previous_due,
        certificate.review_on,
    )


def _end_of(day: date) -> datetime:
    """A certificate is valid through its due date: it lapses at the next London midnight."""
    return calendar.at(day + timedelta(days=1), time(0))


def due_date(clock: Clock) -> date:
    """The last day a property clock's check may be done on."""
    return calendar.local_date(clock.deadline) - timedelta(days=1)


def warning_points(
    fractions: tuple[float, ...], unit: Unit, started: datetime, deadline: datetime
) -> tuple[WarningPoint, ...]:
    """The configured fractions of the target, and for working-day clocks one working day
    before the deadline; only those still ahead of the start."""
    ats = _fractions_of(unit, started, deadline, fractions)
    points = [
        WarningPoint(_percent(f), at, f) for f, at in zip(fractions, ats, strict=True) if started < at < deadline
    ]
    if unit is Unit.WORKING_DAYS:
        day_before = calendar.end_of_previous_working_day(deadline)
        if started < day_before < deadline:
            points.append(WarningPoint("1 working day before", day_before))
    points.sort(key=_when)
    return tuple(points)


@lru_cache(maxsize=64)
def _percent(fraction: float) -> str:
    return f"{round(fraction * 100)}%"


def _when(point: WarningPoint) -> datetime:
    return point.at


def _fractions_of(
    unit: Unit, started: datetime, deadline: datetime, fractions: tuple[float, ...]
) -> list[datetime]:
    if unit is Unit.WORKING_DAYS:
        return calendar.working_time_points(started, deadline, fractions)
    return [started + f * (deadline - started) for f in fractions]


# -- moving a clock -------------------------------------------------------------------


def _with(clock: Clock, **changes: object) -> Clock:
    """dataclasses.replace for a Clock, in a third of the time (every field is an
    ordinary init field, so its __dict__ is its constructor's arguments)."""
    return Clock(**{**clock.__dict__, **changes})  # type: ignore[arg-type]


def stopped(clock: Clock, at: datetime) -> Clock:
    return _with(clock, state=ClockState.MET, stopped_at=at, warnings=())


def cancelled(clock: Clock, at: datetime) -> Clock:
    return _with(clock, state=ClockState.CANCELLED, stopped_at=at, warnings=())


def paused(clock: Clock, at: datetime) -> Clock:
    return _with(clock, state=ClockState.PAUSED, paused_at=at)


def resumed(clock: Clock, at: datetime) -> Clock:
    """Running again with the time it had left when it paused."""
    assert clock.paused_at is not None
    since = max(at, clock.paused_at)
    shift = partial(_carried_over, clock.unit, clock.paused_at, since)
    deadline = shift(clock.deadline)
    points = [w._replace(at=shift(w.at)) for w in clock.warnings if w.fraction is not None]
    if clock.unit is Unit.WORKING_DAYS:
        points.append(WarningPoint("1 working day before", calendar.end_of_previous_working_day(deadline)))
    warnings = tuple(sorted((p for p in points if since < p.at < deadline), key=lambda p: p.at))
    return _with(clock, state=ClockState.RUNNING, paused_at=None, deadline=deadline, warnings=warnings)


def _carried_over(unit: Unit, paused_at: datetime, since: datetime, instant: datetime) -> datetime:
    """Where an instant still ahead at the pause lands once the clock runs again."""
    if unit is Unit.WORKING_DAYS:
        return calendar.add_working_time(since, calendar.working_time_between(paused_at, max(instant, paused_at)))
    return instant + (since - paused_at)


def extended(clock: Clock, extension: Extension | None, to: datetime, agreed_at: datetime) -> tuple[Clock, bool]:
    """The clock with its deadline moved to the agreed date, capped at the most the
    standard allows; the flag says whether the agreed date went past that limit.

    An extension must be agreed before the deadline, under a standard that allows one.
    """
    if extension is None or agreed_at > clock.deadline or clock.state in FINAL:
        return clock, False
    original = clock.extended_from or clock.deadline
    limit = _extension_limit(original, extension)
    deadline = min(to, limit) if limit else to
    moved = _moved(_with(clock, extended_from=original), deadline, agreed_at)
    return moved, limit is not None and to > limit


def _extension_limit(original: datetime, extension: Extension) -> datetime | None:
    if extension.amount is None or extension.unit is None:
        return None  # the standard lets more time be agreed without a set maximum
    if extension.unit is Unit.WORKING_DAYS:
        return calendar.close_of(calendar.add_working_days(calendar.local_date(original), extension.amount))
    return calendar.deadline(original, extension.amount, extension.unit)


def _moved(clock: Clock, deadline: datetime, not_before: datetime) -> Clock:
    """The clock with a new deadline and its warning points recounted to it."""
    points = warning_points(clock.warning_fractions, clock.unit, clock.started_at, deadline)
    return _with(clock, deadline=deadline, warnings=tuple(p for p in points if p.at > not_before))


def due_alerts(clock: Clock, now: datetime) -> tuple[Clock, list[WarningPoint], bool]:
    """What is due on a running clock at `now`: warnings passed, and whether it breached."""
    if clock.state is not ClockState.RUNNING:
        return clock, [], False
    passed = [w for w in clock.warnings if w.at <= now]
    if clock.deadline <= now:
        return _with(clock, state=ClockState.BREACHED, breached_at=now, warnings=()), passed, True
    later = tuple(w for w in clock.warnings if w.at > now)
    return _with(clock, warnings=later), passed, False


# -- what the monitor says ------------------------------------------------------------


def breach_event(clock: Clock) -> SlaBreached:
    return SlaBreached(
        event_id=stable_event_id(clock.id, "breached"),
        correlation_id=clock.subject_id,
        **_clock_fields(clock),
    )


def warning_event(clock: Clock, point: WarningPoint) -> SlaWarning:
    return SlaWarning(
        event_id=stable_event_id(clock.id, "warning", point.label, clock.deadline.isoformat()),
        correlation_id=clock.subject_id,
        point=point.label,
        at_fraction=point.fraction,
        **_clock_fields(clock),
    )


def met_event(clock: Clock, stopped_at: datetime) -> SlaMet:
    late_by = stopped_at - clock.deadline if stopped_at > clock.deadline else None
    return SlaMet(
        event_id=stable_event_id(clock.id, "met"),
        correlation_id=clock.subject_id,
        stopped_at=stopped_at,
        # A stop recorded before the start (a reply dated before the letter) used no time.
        working_time_used=calendar.working_time_between(
            clock.started_at, max(clock.started_at, stopped_at)
        ),
        late_by=late_by,
        **_clock_fields(clock),
    )


def _clock_fields(clock: Clock) -> dict[str, object]:
    return {
        "clock_id": clock.id,
        "clock": clock.definition,
        "clock_name": clock.name,
        "subject_type": clock.subject_type,
        "subject_id": clock.subject_id,
        "reference": clock.reference,
        "standard": clock.standard,
        "obligation": clock.obligation,
        "source": clock.source,
        "started_at": clock.started_at,
        "deadline": clock.deadline,
    }
