"""`doorstep watch TOPIC`: a live, decoded tail of any topic for operations staff.
`doorstep watch breaches`: breaches and warnings as they happen, one line each, coloured
by severity on a terminal, with the case reference and the clock in words.

Only fields on an allow-list show their values; any other field shows its name only, so
a recipient, a reason typed by staff or a field added later never reaches the screen.
"""

import asyncio
import json
import logging
import os
import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError

from shared.calendar import default_calendar
from shared.events import UnreadableEvent, parse_event
from shared.events.sla import Obligation, SlaBreached, SlaMet, SlaWarning
from shared.topics import Topic

ENVELOPE = {"event_id", "event_type", "schema_version", "occurred_at", "correlation_id"}
SHOWN = frozenset(
    {
        "case_id", "reference", "channel", "mailbox", "kind", "priority", "flags", "reasons",
        "stage", "appointment_id", "works_order_id", "property_id", "purpose", "template",
        "idempotency_key", "channel", "provider_ref", "retryable", "clock", "clock_id",
        "clock_name", "subject_type", "subject_id", "standard", "obligation", "point",
        "at_fraction", "late_by", "working_time_used", "urgent", "fixed_first_time",
        "received_at", "replied_at", "closed_at", "starts_at", "ends_at", "booked_at",
        "cancelled_at", "completed_at", "deadline", "started_at", "stopped_at", "new_deadline",
        "checked_on", "review_on", "amount_pence",
    }
)

# One line per record; None leaves a record out.
Describe = Callable[[bytes | None, bytes, int], str | None]


def describe(key: bytes | None, value: bytes, timestamp_ms: int) -> str:
    at = datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    try:
        event = json.loads(value)
    except (ValueError, RecursionError):  # nesting past the parser's limit is not JSON to us
        return f"{at}  (not JSON, {len(value)} bytes)  key={_text(key)}"
    if not isinstance(event, dict):
        return f"{at}  (JSON but not an event)  key={_text(key)}"
    kind = event.get("event_type", "?")
    shown = {k: _value(v) for k, v in event.items() if k in SHOWN and v not in (None, [], {}, "")}
    hidden = sorted(k for k in event if k not in SHOWN and k not in ENVELOPE)
    body = "  ".join(f"{k}={v}" for k, v in shown.items())
    names = "  " + "  ".join(f"{k}=…" for k in hidden) if hidden else ""
    return f"{at}  {kind:<24} key={_text(key)}  {body}{names}"


def _value(value: object) -> object:
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return value


def _text(key: bytes | None) -> str:
    return key.decode(errors="replace") if key else "-"


# -- the breaches view --------------------------------------------------------------------

BREACH_TOPICS = (Topic.SLA_BREACHES, Topic.SLA_WARNINGS, Topic.SLA_OUTCOMES)

RESET = "\x1b[0m"
RED = "\x1b[31m"
BOLD_RED = "\x1b[1;31m"
YELLOW = "\x1b[33m"
GREEN = "\x1b[32m"

WORDS = {"stage1": "Stage 1", "stage2": "Stage 2", "awaab": "Awaab's Law"}


def clock_in_words(definition: str) -> str:
    """complaint_stage1_response -> "complaint Stage 1 response"."""
    return " ".join(WORDS.get(word, word) for word in definition.split("_"))


def working_days_late(deadline: datetime, moment: datetime) -> int:
    """How many working days have ended (at the office's close) since the deadline."""
    late, day = 0, default_calendar.local_date(deadline)
    while True:
        day = default_calendar.next_working_day(day)
        if default_calendar.close_of(day) > moment:
            return late
        late += 1


def late_by(deadline: datetime, moment: datetime) -> str:
    """ "2 working days late"; under a working day, in hours and minutes."""
    if moment <= deadline:
        return "on time"
    days = working_days_late(deadline, moment)
    if days:
        return f"{days} working day{'s' if days > 1 else ''} late"
    minutes = int((moment - deadline) / timedelta(minutes=1))
    if minutes < 1:
        return "deadline just passed"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min late" if hours else f"{minutes} min late"


def when(instant: datetime) -> str:
    """A deadline on the London wall clock: "17:00 Thu 3 Dec"."""
    local = default_calendar.local(instant)
    return f"{local:%H:%M %a} {local.day} {local:%b}"


@dataclass(frozen=True)
class Severity:
    label: str
    colour: str


BREACH = Severity("BREACH", RED)
LEGAL_BREACH = Severity("BREACH", BOLD_RED)
WARNING = Severity("WARNING", YELLOW)
MET = Severity("MET LATE", GREEN)


def describe_clock_event(
    key: bytes | None, value: bytes, timestamp_ms: int, colour: bool = False
) -> str | None:
    """A breach, a warning or a late "met" as one line; a clock met in time is left out."""
    try:
        event = parse_event(value)
    except UnreadableEvent:
        return describe(key, value, timestamp_ms)
    at = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    match event:
        case SlaBreached():
            legal = event.obligation == Obligation.STATUTORY
            severity = LEGAL_BREACH if legal else BREACH
            detail = f"{late_by(event.deadline, at)}, due {when(event.deadline)}"
        case SlaWarning():
            severity, detail = WARNING, f"due {when(event.deadline)} ({event.point})"
        case SlaMet(late_by=late) if late:
            severity, detail = MET, f"met {late_by(event.deadline, event.deadline + late)}"
        case SlaMet():
            return None
        case _:
            return describe(key, value, timestamp_ms)
    line = _clock_line(at, severity, event, detail)
    return f"{severity.colour}{line}{RESET}" if colour else line


def _clock_line(
    at: datetime, severity: Severity, event: SlaBreached | SlaWarning | SlaMet, detail: str
) -> str:
    local = default_calendar.local(at).strftime("%Y-%m-%d %H:%M:%S")
    limit = "legal limit" if event.obligation == Obligation.STATUTORY else "internal target"
    words = clock_in_words(event.clock)
    return f"{local}  {severity.label:<8}  {event.reference:<11}  {words}  {detail}  [{limit}]"


# -- tailing ------------------------------------------------------------------------------


def view(name: str, colour: bool) -> tuple[tuple[str, ...], Describe]:
    """The topics and the line format for a named view, or for one topic."""
    if name == "breaches":
        return tuple(BREACH_TOPICS), once_each(lambda k, v, t: describe_clock_event(k, v, t, colour))
    return (name,), describe


def once_each(line: Describe, remember: int = 100_000) -> Describe:
    """Delivery is at least once: a relay stopped between publishing a record and marking
    it sent publishes it again, with the same event id. Staff see each event once; the
    last `remember` ids are kept."""
    seen: OrderedDict[str, None] = OrderedDict()

    def first_time(key: bytes | None, value: bytes, timestamp_ms: int) -> str | None:
        event_id = _event_id(value)
        if event_id is not None:
            if event_id in seen:
                return None
            seen[event_id] = None
            if len(seen) > remember:
                seen.popitem(last=False)
        return line(key, value, timestamp_ms)

    return first_time


def _event_id(value: bytes) -> str | None:
    try:
        event = json.loads(value)
    except (ValueError, RecursionError):
        return None
    event_id = event.get("event_id") if isinstance(event, dict) else None
    return event_id if isinstance(event_id, str) else None


async def tail(
    topics: tuple[str, ...], from_beginning: bool, servers: str, line: Describe = describe
) -> None:
    # No group: this consumer is given every partition of the topics, and each is
    # positioned before the banner, so nothing published after "watching" is missed.
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    try:
        await consumer.start()
        async with asyncio.timeout(15):
            while not consumer.assignment():
                await asyncio.sleep(0.05)
        for partition in consumer.assignment():
            await consumer.position(partition)
    except BaseException:
        await consumer.stop()
        raise
    print(f"watching {', '.join(topics)} on {servers} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        async for record in consumer:
            text = line(record.key, record.value, record.timestamp)
            if text is not None:
                print(text, flush=True)
    finally:
        await consumer.stop()


def main(topic: str, from_beginning: bool, servers: str | None) -> int:
    servers = servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # this command says it better
    topics, line = view(topic, colour)
    try:
        asyncio.run(tail(topics, from_beginning, servers, line))
    except KeyboardInterrupt:
        pass
    except TimeoutError:
        print(f"doorstep: no partitions for {', '.join(topics)} on {servers}; does it exist?", file=sys.stderr)
        return 1
    except KafkaConnectionError:
        print(f"doorstep: no Kafka broker answers at {servers} (`doorstep kafka up` starts one)", file=sys.stderr)
        return 1
    return 0
