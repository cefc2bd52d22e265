"""When the next safety check is due (shared.compliance.next_due)."""

from datetime import date

import pytest

from shared.compliance import GAS_WINDOW_MONTHS, next_due
from shared.events.compliance import CertificateKind

GAS = CertificateKind.GAS_SAFETY
ELECTRICAL = CertificateKind.ELECTRICAL_INSTALLATION
FIRE = CertificateKind.FIRE_RISK_ASSESSMENT

DUE = date(2026, 3, 10)  # the current certificate's due date; its window opens on 10 January


def test_the_window_is_two_months():
    assert GAS_WINDOW_MONTHS == 2


def test_a_first_gas_check_is_due_12_months_after_it_was_done():
    assert next_due(GAS, date(2025, 3, 10), 12) == date(2026, 3, 10)


@pytest.mark.parametrize(
    "checked_on",
    [
        date(2026, 1, 10),  # the day the window opens
        date(2026, 2, 20),
        date(2026, 3, 10),  # the due date itself
    ],
)
def test_a_gas_check_inside_the_two_month_window_keeps_the_due_date(checked_on: date):
    assert next_due(GAS, checked_on, 12, previous_due=DUE) == date(2027, 3, 10)


@pytest.mark.parametrize(
    "checked_on, due",
    [
        (date(2026, 1, 9), date(2027, 1, 9)),  # the day before the window: reset, a year from the check
        (date(2025, 9, 1), date(2026, 9, 1)),
    ],
)
def test_a_gas_check_before_the_window_resets_the_due_date(checked_on: date, due: date):
    assert next_due(GAS, checked_on, 12, previous_due=DUE) == due


def test_a_late_gas_check_counts_from_the_day_it_was_done():
    assert next_due(GAS, date(2026, 3, 20), 12, previous_due=DUE) == date(2027, 3, 20)


def test_the_window_before_a_month_end_due_date_opens_on_the_shorter_months_last_day():
    # Two months before 30 April is 28 February (2026 is not a leap year).
    assert next_due(GAS, date(2026, 2, 28), 12, previous_due=date(2026, 4, 30)) == date(2027, 4, 30)
    assert next_due(GAS, date(2026, 2, 27), 12, previous_due=date(2026, 4, 30)) == date(2027, 2, 27)


def test_a_check_on_29_february_is_due_on_28_february_the_next_year():
    assert next_due(GAS, date(2028, 2, 29), 12) == date(2029, 2, 28)


def test_an_electrical_check_is_due_60_months_on():
    assert next_due(ELECTRICAL, date(2026, 2, 15), 60) == date(2031, 2, 15)


def test_the_gas_window_does_not_apply_to_electrical_checks():
    previous = date(2031, 3, 1)
    assert next_due(ELECTRICAL, date(2031, 2, 15), 60, previous_due=previous) == date(2036, 2, 15)


def test_a_fire_risk_assessment_is_due_on_the_assessors_review_date():
    assert next_due(FIRE, date(2026, 5, 1), 12, review_on=date(2026, 11, 1)) == date(2026, 11, 1)


def test_a_fire_risk_assessment_without_a_review_date_is_due_a_year_on():
    assert next_due(FIRE, date(2026, 5, 1), 12) == date(2027, 5, 1)
