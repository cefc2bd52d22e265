from datetime import UTC, datetime

import pytest

from shared.events.notifications import Purpose
from services.notifier.domain.quiet_hours import QuietHours


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


QUIET = QuietHours()


@pytest.mark.parametrize(
    ("now", "release"),
    [
        (utc(2026, 12, 1, 12, 0), None),  # Tuesday midday: at once
        (utc(2026, 12, 1, 20, 30), utc(2026, 12, 2, 8, 0)),  # Tuesday evening: Wednesday 08:00
        (utc(2026, 12, 2, 6, 0), utc(2026, 12, 2, 8, 0)),  # Wednesday early: 08:00 that day
        (utc(2026, 12, 5, 21, 0), utc(2026, 12, 7, 8, 0)),  # Saturday night: past Sunday
        (utc(2026, 12, 6, 14, 0), utc(2026, 12, 7, 8, 0)),  # Sunday afternoon: Monday 08:00
        (utc(2026, 7, 1, 19, 30), utc(2026, 7, 2, 7, 0)),  # summer: 20:30 London, 08:00 BST
    ],
)
def test_routine_messages_wait_for_a_decent_hour(now: datetime, release: datetime | None):
    assert QUIET.release_at(now, Purpose.APPOINTMENT_REMINDER, urgent=False) == release


def test_on_the_way_and_urgent_messages_never_wait():
    sunday_night = utc(2026, 12, 6, 23, 0)
    assert QUIET.release_at(sunday_night, Purpose.ON_THE_WAY, urgent=False) is None
    assert QUIET.release_at(sunday_night, Purpose.WORKS_ORDER_CONFIRMATION, urgent=True) is None


def test_sundays_can_be_allowed():
    sunday_afternoon = utc(2026, 12, 6, 14, 0)
    assert QuietHours(sundays=False).release_at(sunday_afternoon, Purpose.GAS_CHECK_OFFER, urgent=False) is None


def test_a_survey_goes_by_email_while_texts_wait_and_other_texts_keep_their_order():
    from services.notifier.domain.channels import EMAIL, SMS, Reach, plan

    both = Reach(mobile="+447700900123", email="jo.tenant@example.org")
    every_template = lambda channel: True  # noqa: E731
    assert plan(Purpose.SATISFACTION_SURVEY, both, every_template) == [SMS, EMAIL]
    assert plan(Purpose.SATISFACTION_SURVEY, both, every_template, texts_wait=True) == [EMAIL, SMS]
    assert plan(Purpose.APPOINTMENT_REMINDER, both, every_template, texts_wait=True) == [SMS, EMAIL]
    only_mobile = Reach(mobile="+447700900123", email=None)
    assert plan(Purpose.SATISFACTION_SURVEY, only_mobile, every_template, texts_wait=True) == [SMS]
