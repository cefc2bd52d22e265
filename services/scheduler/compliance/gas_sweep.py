"""The daily gas sweep: every home with gas, what its check needs today, done in
chunks, each chunk's progress and events committed together through the outbox.

Running it twice in a day does nothing the second time: an offer is recorded with its
attempt number, and the next step is only taken when the rules say so."""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Row, bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar import add_months
from shared.compliance import GAS_WINDOW_MONTHS
from shared.events import Event, stable_event_id, utcnow
from shared.events.compliance import EscalationReason, GasCheckEscalated, GasCheckOffered
from shared.events.notifications import Recipient
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler.adapters.tables import bookings_to_make
from services.scheduler.compliance import store
from services.scheduler.compliance.gas_messages import GAS, booking_to_make, offer_notification, visit_wording
from services.scheduler.compliance.programme import (
    GasProgress,
    GasStep,
    check_case_id,
    gas_step,
    proposed_visit,
)
from services.scheduler.compliance.tables import check_progress

CHUNK = 1000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GasRules:
    chase_after: timedelta
    lead_working_days: int
    booking_link: str


@dataclass
class SweepCounts:
    looked_at: int = 0
    offered: int = 0
    chased: int = 0
    escalated: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def progress_of(row: Row) -> GasProgress:
    return GasProgress(
        attempts=row.attempts or 0,
        last_attempt_on=row.last_attempt_on,
        escalated=row.escalated_on is not None,
        visits_open=row.visits_open or 0,
        visits_done=row.visits_done or 0,
        no_access=row.no_access or 0,
    )


async def sweep_gas(runtime: Runtime, rules: GasRules, today: date) -> SweepCounts:
    async with runtime.sessions.begin() as session:
        await store.add_missing_due(session, GAS, today)
    async with runtime.sessions() as session:
        rows = await store.gas_candidates(session, add_months(today, GAS_WINDOW_MONTHS))
    counts = SweepCounts(looked_at=len(rows))
    steps = [
        (row, step)
        for row in rows
        if (step := gas_step(today, row.due_on, progress_of(row), rules.chase_after)) is not GasStep.NOTHING
    ]
    for chunk in _chunks(steps, CHUNK):
        try:
            await _act_and_commit(runtime, chunk, rules, today, counts)
        except (StaleProgress, IntegrityError):
            # Another sweep (or an earlier one that half-failed) moved some check of this
            # chunk on. The chunk was rolled back; it is redone one home at a time, so only
            # the homes that moved on are left out and every other home is still acted on.
            log.warning("gas sweep chunk conflicted; redone home by home", extra={"homes": len(chunk)})
            await _act_one_by_one(runtime, chunk, rules, today, counts)
    return counts


async def _act_and_commit(
    runtime: Runtime, chunk: Sequence[tuple[Row, GasStep]], rules: GasRules, today: date, counts: SweepCounts
) -> None:
    done = SweepCounts()
    async with runtime.sessions.begin() as session:
        await _act(runtime, session, chunk, rules, today, done)
    runtime.outbox.wake()
    counts.offered += done.offered
    counts.chased += done.chased
    counts.escalated += done.escalated


async def _act_one_by_one(
    runtime: Runtime, chunk: Sequence[tuple[Row, GasStep]], rules: GasRules, today: date, counts: SweepCounts
) -> None:
    for row, step in chunk:
        try:
            await _act_and_commit(runtime, [(row, step)], rules, today, counts)
        except (StaleProgress, IntegrityError) as error:
            log.warning(
                "gas check moved on meanwhile; left for the next sweep",
                extra={
                    "property_id": row.subject_id,
                    "case_id": check_case_id(GAS, row.subject_id, row.due_on),
                    "error": type(error).__name__,
                },
            )


async def _act(
    runtime: Runtime,
    session: AsyncSession,
    chunk: Sequence[tuple[Row, GasStep]],
    rules: GasRules,
    today: date,
    counts: SweepCounts,
) -> None:
    now = utcnow()
    reachable = await store.contacts(session, [row.subject_id for row, _ in chunk])
    plan = _Plan(today, now, proposed_visit(today, rules.lead_working_days))
    for row, step in chunk:
        contact = reachable.get(row.subject_id)
        if step is GasStep.ESCALATE:
            plan.escalate(row, EscalationReason.NO_ACCESS)
        elif contact is None:
            plan.escalate(row, EscalationReason.NO_CONTACT)
        else:
            plan.offer(row, contact, rules)
    await plan.write(session)
    await runtime.outbox.add(session, Topic.COMPLIANCE, *plan.compliance)
    if plan.notifications:
        await runtime.outbox.add(session, Topic.NOTIFICATIONS_REQUESTED, *plan.notifications)
    counts.offered += plan.first_offers
    counts.chased += len(plan.chased)
    counts.escalated += plan.escalations


class StaleProgress(RuntimeError):
    """Another sweep moved a check on meanwhile; this chunk is rolled back and redone one
    home at a time, leaving out the homes that moved on."""


class _Plan:
    """What one chunk writes: progress rows and their events."""

    def __init__(self, today: date, now: datetime, slot: tuple[datetime, datetime]) -> None:
        self.today = today
        self.now = now
        self.slot = slot  # the same proposal for every home offered today
        self.when = visit_wording(slot)
        self.new: list[dict[str, object]] = []
        self.chased: list[dict[str, object]] = []
        self.escalated: list[dict[str, object]] = []
        self.first_offers = 0
        self.escalations = 0
        self.bookings: list[dict[str, object]] = []
        self.compliance: list[Event] = []
        self.notifications: list[Event] = []

    def offer(self, row: Row, contact: Row, rules: GasRules) -> None:
        attempt = (row.attempts or 0) + 1
        case_id = check_case_id(GAS, row.subject_id, row.due_on)
        recipient = Recipient(email=contact.email, phone=contact.mobile)
        self._progress(row, case_id, attempt)
        if attempt == 1:
            self.bookings.append(booking_to_make(row, case_id, contact, self.now))
        self.compliance.append(
            GasCheckOffered(
                event_id=stable_event_id("gas_check_offered", case_id, str(attempt)),
                correlation_id=case_id,
                property_id=row.subject_id,
                case_id=case_id,
                due_on=row.due_on,
                attempt=attempt,
                proposed_starts_at=self.slot[0],
                offered_at=self.now,
            )
        )
        self.notifications.append(
            offer_notification(row, case_id, attempt, recipient, self.when, rules.booking_link)
        )

    def _progress(self, row: Row, case_id: str, attempt: int) -> None:
        if attempt == 1:
            self.first_offers += 1
            self.new.append(
                {
                    "case_id": case_id,
                    "subject_id": row.subject_id,
                    "kind": GAS,
                    "due_on": row.due_on,
                    "attempts": 1,
                    "last_attempt_on": self.today,
                    "raised_on": self.today,
                }
            )
        else:
            self.chased.append(
                {"b_case": case_id, "b_was": row.attempts, "b_attempts": attempt, "b_on": self.today}
            )

    def escalate(self, row: Row, reason: EscalationReason) -> None:
        case_id = check_case_id(GAS, row.subject_id, row.due_on)
        attempts = row.attempts or 0
        if attempts == 0:
            self.new.append(
                {
                    "case_id": case_id,
                    "subject_id": row.subject_id,
                    "kind": GAS,
                    "due_on": row.due_on,
                    "attempts": 0,
                    "raised_on": self.today,
                    "escalated_on": self.today,
                }
            )
        else:
            self.escalated.append({"b_case": case_id, "b_on": self.today})
        self.escalations += 1
        self.compliance.append(
            GasCheckEscalated(
                event_id=stable_event_id("gas_check_escalated", case_id),
                correlation_id=case_id,
                property_id=row.subject_id,
                case_id=case_id,
                due_on=row.due_on,
                attempts=attempts,
                reason=reason,
                escalated_at=self.now,
            )
        )

    async def write(self, session: AsyncSession) -> None:
        if self.new:
            await session.execute(insert(check_progress), [_full_row(r) for r in self.new])
        if self.bookings:
            await session.execute(insert(bookings_to_make), self.bookings)
        p = check_progress.c
        if self.chased:
            moved = await session.execute(
                update(check_progress)
                .where(p.case_id == bindparam("b_case"), p.attempts == bindparam("b_was"))
                .values(attempts=bindparam("b_attempts"), last_attempt_on=bindparam("b_on")),
                self.chased,
            )
            _all_moved(moved.rowcount, len(self.chased))
        if self.escalated:
            moved = await session.execute(
                update(check_progress)
                .where(p.case_id == bindparam("b_case"), p.escalated_on.is_(None))
                .values(escalated_on=bindparam("b_on")),
                self.escalated,
            )
            _all_moved(moved.rowcount, len(self.escalated))


def _full_row(values: dict[str, object]) -> dict[str, object]:
    return {"last_attempt_on": None, "escalated_on": None, **values}


def _all_moved(rowcount: int, expected: int) -> None:
    if rowcount not in (expected, -1):
        raise StaleProgress(f"{expected - rowcount} of {expected} checks moved on meanwhile")


def _chunks(items: Sequence[tuple[Row, GasStep]], size: int) -> Iterator[Sequence[tuple[Row, GasStep]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
