"""The gas programme's rules: when the window opens, when a check keeps or resets the due
date, and the offer, chasers and escalation."""

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.events.compliance import CertificateKind
from services.scheduler.compliance.periods import period_months
from services.scheduler.compliance.programme import (
    GasProgress,
    GasStep,
    NoticeStep,
    check_case_id,
    check_reference,
    due_after,
    gas_step,
    gas_window_opens,
    notice_step,
    proposed_visit,
)

GAS = CertificateKind.GAS_SAFETY
DUE = date(2026, 9, 30)
CHASE = timedelta(days=14)


def test_a_check_inside_the_two_month_window_keeps_the_due_date():
    assert due_after(GAS, date(2026, 8, 15), DUE, None, 12) == date(2027, 9, 30)
    assert due_after(GAS, date(2026, 7, 30), DUE, None, 12) == date(2027, 9, 30)  # the window's first day


def test_a_check_before_the_window_resets_the_due_date():
    assert due_after(GAS, date(2026, 7, 29), DUE, None, 12) == date(2027, 7, 29)


def test_the_intervals_come_from_the_standards_packs():
    on = date(2026, 12, 1)
    assert period_months(GAS, on) == 12
    assert period_months(CertificateKind.ELECTRICAL_INSTALLATION, on) == 60  # every home, by law
    assert period_months(CertificateKind.FIRE_RISK_ASSESSMENT, on) == 12


def test_electrical_is_five_yearly_and_a_fire_risk_assessment_follows_its_review_date():
    electrical, fire = CertificateKind.ELECTRICAL_INSTALLATION, CertificateKind.FIRE_RISK_ASSESSMENT
    assert due_after(electrical, date(2026, 1, 10), None, None, 60) == date(2031, 1, 10)
    assert due_after(fire, date(2026, 1, 10), None, date(2026, 7, 1), 12) == date(2026, 7, 1)
    assert due_after(fire, date(2026, 1, 10), None, None, 12) == date(2027, 1, 10)


def test_the_window_opens_two_months_before_the_due_date():
    assert gas_window_opens(DUE) == date(2026, 7, 30)
    assert gas_step(date(2026, 7, 29), DUE, GasProgress(), CHASE) is GasStep.NOTHING
    assert gas_step(date(2026, 7, 30), DUE, GasProgress(), CHASE) is GasStep.OFFER


def offered(attempts: int, on: date = date(2026, 8, 1), **visits: int) -> GasProgress:
    return GasProgress(attempts=attempts, last_attempt_on=on, **visits)


def test_an_offer_already_made_is_not_made_again_the_same_day():
    assert gas_step(date(2026, 8, 1), DUE, offered(1), CHASE) is GasStep.NOTHING


def test_no_access_is_chased_with_a_second_and_a_third_offer():
    assert gas_step(date(2026, 8, 5), DUE, offered(1, no_access=1), CHASE) is GasStep.CHASE
    assert gas_step(date(2026, 8, 5), DUE, offered(2, no_access=1), CHASE) is GasStep.NOTHING
    assert gas_step(date(2026, 8, 9), DUE, offered(2, no_access=2), CHASE) is GasStep.CHASE


def test_after_the_third_no_access_staff_take_over():
    assert gas_step(date(2026, 8, 20), DUE, offered(3, no_access=3), CHASE) is GasStep.ESCALATE
    escalated = GasProgress(attempts=3, last_attempt_on=date(2026, 8, 1), escalated=True, no_access=3)
    assert gas_step(date(2026, 8, 21), DUE, escalated, CHASE) is GasStep.NOTHING


def test_an_unanswered_offer_is_chased_after_the_set_days():
    assert gas_step(date(2026, 8, 14), DUE, offered(1), CHASE) is GasStep.NOTHING
    assert gas_step(date(2026, 8, 15), DUE, offered(1), CHASE) is GasStep.CHASE
    assert gas_step(date(2026, 8, 15), DUE, offered(3), CHASE) is GasStep.ESCALATE


def test_a_booked_or_completed_visit_waits():
    assert gas_step(date(2026, 9, 1), DUE, offered(1, visits_open=1), CHASE) is GasStep.NOTHING
    assert gas_step(date(2026, 9, 1), DUE, offered(2, no_access=1, visits_done=1), CHASE) is GasStep.NOTHING


def test_an_overdue_check_with_nothing_done_is_offered():
    assert gas_step(date(2026, 11, 2), DUE, GasProgress(), CHASE) is GasStep.OFFER


def test_one_case_per_property_and_due_date():
    first = check_case_id(GAS, "P1", DUE)
    assert first == check_case_id(GAS, "P1", DUE)
    assert first != check_case_id(GAS, "P1", date(2027, 9, 30))
    assert first != check_case_id(GAS, "P2", DUE)
    assert first.startswith("gas-") and len(first) <= 64
    assert check_reference(GAS, "P000123", DUE) == "GAS-202609-P000123"


def test_the_appointment_offered_is_a_working_morning_after_the_lead_time():
    starts, ends = proposed_visit(date(2026, 12, 18), lead_working_days=3)
    # Friday 18 December: the 21st, 22nd, 23rd are working days; Christmas follows.
    assert (starts, ends) == (datetime(2026, 12, 23, 8, tzinfo=UTC), datetime(2026, 12, 23, 12, tzinfo=UTC))


@pytest.mark.parametrize(
    ("today", "raised", "overdue_raised", "step"),
    [
        (date(2026, 6, 29), False, False, NoticeStep.NOTHING),
        (date(2026, 6, 30), False, False, NoticeStep.DUE),
        (date(2026, 7, 15), True, False, NoticeStep.NOTHING),
        (date(2026, 9, 30), True, False, NoticeStep.NOTHING),
        (date(2026, 10, 1), True, False, NoticeStep.OVERDUE),
        (date(2026, 10, 2), True, True, NoticeStep.NOTHING),
        (date(2026, 10, 2), False, False, NoticeStep.OVERDUE),
    ],
)
def test_staff_led_checks_are_raised_once_at_notice_and_once_when_late(
    today: date, raised: bool, overdue_raised: bool, step: NoticeStep
):
    assert notice_step(today, DUE, 3, raised, overdue_raised) is step
