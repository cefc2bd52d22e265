"""Texts wait their turn per sender: never faster than the configured rate, and an
"on the way" or urgent text goes ahead of the gas programme's bulk."""

import asyncio
import time

from shared.events.notifications import NotificationRequested, Purpose, Recipient
from shared.service import Runtime
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.adapters.pacer import Pacer
from services.notifier.domain.pacing import Priority
from services.notifier.handlers import Notifier
from tests.component.test_notifier import RecordingSender

RATE = 20.0  # a second; fast enough for a short test, slow enough to measure


class TimedSms:
    def __init__(self) -> None:
        self.sent: list[tuple[float, str]] = []

    async def send_sms(self, key: str, to_e164: str, body: str) -> str:
        self.sent.append((time.monotonic(), key))
        return f"SM{len(self.sent)}"


async def test_the_pacer_gives_turns_no_faster_than_its_rate_and_by_priority():
    pacer, order = Pacer(RATE), []

    async def wait(priority: Priority, name: str) -> None:
        await pacer.turn(priority)
        order.append((time.monotonic(), name))

    bulk = [asyncio.create_task(wait(Priority.BULK, f"gas-{n}")) for n in range(30)]
    await asyncio.sleep(0.12)  # a few bulk turns have gone
    gone_before = len(order)
    urgent = asyncio.create_task(wait(Priority.URGENT, "on-the-way"))
    await asyncio.gather(*bulk, urgent)
    await pacer.aclose()

    names = [name for _, name in order]
    assert 0 < gone_before < 10
    assert names.index("on-the-way") <= gone_before + 1  # the next turn after it arrived
    assert_paced([at for at, _ in order])


async def test_a_closed_pacer_cancels_whoever_still_waits():
    pacer = Pacer(1.0)
    await pacer.turn(Priority.BULK)  # the one token
    waiting = asyncio.create_task(pacer.turn(Priority.BULK))
    await asyncio.sleep(0.01)
    await pacer.aclose()
    await asyncio.gather(waiting, return_exceptions=True)
    assert waiting.cancelled()


def assert_paced(times: list[float]) -> None:
    """No one second holds more than RATE, and no two are closer than half the spacing."""
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= RATE
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.5 / RATE * 0.95


def gas_offer(n: int) -> NotificationRequested:
    return NotificationRequested(
        correlation_id=f"case-gas-{n}",
        case_id=f"case-gas-{n}",
        idempotency_key=f"case-gas-{n}:gas_check_offer",
        purpose=Purpose.GAS_CHECK_OFFER,
        template="gas_check_offer",
        recipient=Recipient(phone="07700 900123"),
        personalisation={
            "reference": f"HX-GAS{n:05d}",
            "appointment_date": "Monday 7 December",
            "appointment_time": "8am to 12pm",
            "certificate_expires": "Friday 28 December 2026",
        },
    )


BULK = 60  # gas-check offers queued ahead: three seconds of turns


async def test_an_urgent_request_behind_bulk_offers_goes_at_the_next_turn(notifier_runtime: Runtime):
    sms = TimedSms()
    notifier = Notifier(notifier_runtime, Templates(), RecordingSender(), sms, quiet=None, pacer=Pacer(RATE))
    for n in range(BULK):
        await notifier.handle_request(gas_offer(n))  # the consumer does not wait for them
    urgent = NotificationRequested(
        correlation_id="case-leak",
        case_id="case-leak",
        idempotency_key="case-leak:works_order_confirmation",
        purpose=Purpose.WORKS_ORDER_CONFIRMATION,
        template="acknowledgement",
        recipient=Recipient(phone="07700 900456"),
        personalisation={"reference": "HX-LEAK0001", "promise": "We will attend within 24 hours."},
        urgent=True,
    )
    await notifier.handle_request(urgent)
    sent_before = len(sms.sent)  # the bulk that went while the requests were being claimed
    await notifier.settled()
    await notifier.pacer.aclose()  # type: ignore[union-attr]

    keys = [key for _, key in sms.sent]
    assert len(keys) == BULK + 1
    assert sent_before < BULK - 10  # a queue was still waiting behind it
    # Only the bulk that went while it was claimed and checked goes before it (a few
    # turns on a busy machine), never the queue behind: without priority it would be last.
    assert keys.index("case-leak:works_order_confirmation:sms") <= sent_before + 5
    assert_paced([at for at, _ in sms.sent])


async def test_a_reminder_waiting_its_turn_is_checked_just_before_it_goes(notifier_runtime: Runtime):
    """Cancelled while queued behind others: dropped, not sent with the checks of an hour ago."""
    from datetime import UTC, datetime, timedelta

    from shared.events.appointments import AppointmentBooked, AppointmentCancelled, AppointmentKind

    sms = TimedSms()
    notifier = Notifier(notifier_runtime, Templates(), RecordingSender(), sms, quiet=None, pacer=Pacer(RATE))
    starts = datetime(2026, 12, 7, 9, tzinfo=UTC)
    case = {"correlation_id": "case-r", "case_id": "case-r", "reference": "HX-REMI0001"}
    await notifier.appointment_booked(
        AppointmentBooked(
            appointment_id="A-last", kind=AppointmentKind.REPAIR, starts_at=starts,
            ends_at=starts + timedelta(hours=3), booked_at=starts - timedelta(days=3), **case,
        )
    )
    for n in range(40):
        await notifier.handle_request(gas_offer(n))
    await notifier.handle_request(
        NotificationRequested(
            appointment_id="A-last", appointment_starts_at=starts, idempotency_key="A-last:reminder",
            purpose=Purpose.APPOINTMENT_REMINDER, template="appointment_reminder",
            recipient=Recipient(phone="07700 900777"),
            personalisation={"reference": "HX-REMI0001", "appointment_date": "Monday", "appointment_time": "9am"},
            **{k: v for k, v in case.items() if k != "reference"},
        )
    )
    await notifier.appointment_cancelled(
        AppointmentCancelled(appointment_id="A-last", kind=AppointmentKind.REPAIR, cancelled_at=starts, **case)
    )
    await notifier.settled()
    await notifier.pacer.aclose()  # type: ignore[union-attr]

    assert "A-last:reminder:sms" not in [key for _, key in sms.sent]
    assert len(sms.sent) == 40


async def test_a_text_cancelled_just_as_it_is_handed_a_place_gives_the_place_back():
    """Cancelled after the place was handed over but before it woke: the place passes on."""
    pacer = Pacer(1.0)  # one place
    entered: list[str] = []

    async def hold(name: str) -> None:
        async with pacer.admitted(Priority.ROUTINE):
            entered.append(name)

    first = pacer.admitted(Priority.ROUTINE)
    await first.__aenter__()
    entered.append("first")
    second = asyncio.create_task(hold("second"))
    await asyncio.sleep(0)  # queued for the place
    await first.__aexit__(None, None, None)  # hands the place to the second, not yet awake
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert second.cancelled()

    third = asyncio.create_task(hold("third"))
    done, _ = await asyncio.wait({third}, timeout=1.0)
    await pacer.aclose()
    assert done == {third}
    assert entered == ["first", "third"]
