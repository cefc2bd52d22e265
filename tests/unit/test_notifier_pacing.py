"""Pacing per sender (pure): a token bucket that never lets texts go faster than the
sender's rate, and a queue that lets the most pressing text go first."""

import pytest

from shared.events.notifications import Purpose
from services.notifier.domain.pacing import Priority, TokenBucket, TurnQueue, priority_of


def test_a_full_bucket_gives_one_token_then_waits_a_tenth_of_a_second_at_ten_a_second():
    bucket = TokenBucket(rate=10)
    assert bucket.wait(100.0) == 0
    assert bucket.take(100.0)
    assert not bucket.take(100.0)
    assert bucket.wait(100.0) == pytest.approx(0.1)
    assert bucket.wait(100.05) == pytest.approx(0.05)
    assert bucket.take(100.1)


def test_taking_as_fast_as_allowed_never_exceeds_the_rate_in_any_second():
    bucket, now, sent = TokenBucket(rate=10), 0.0, []
    while now < 30:
        if bucket.take(now):
            sent.append(now)
        now += 0.003  # ask far more often than the rate allows
    for start in sent:
        assert sum(1 for t in sent if start <= t < start + 1) <= 10
    assert 290 <= len(sent) <= 300  # a token found a little late is not made up for


def test_an_idle_bucket_saves_no_more_than_its_capacity():
    bucket = TokenBucket(rate=10, capacity=3)
    bucket.wait(0.0)
    assert [bucket.take(60.0) for _ in range(4)] == [True, True, True, False]


def test_a_clock_going_backwards_invents_no_tokens():
    bucket = TokenBucket(rate=10)
    assert bucket.take(10.0)
    assert not bucket.take(9.0)
    assert not bucket.take(10.05)


@pytest.mark.parametrize(("rate", "capacity"), [(0, 1), (-1, 1), (10, 0.5)])
def test_a_bucket_that_could_never_give_a_token_is_refused(rate: float, capacity: float):
    with pytest.raises(ValueError):
        TokenBucket(rate=rate, capacity=capacity)


def test_on_the_way_and_urgent_go_first_routine_next_and_the_gas_programme_last():
    assert priority_of(Purpose.ON_THE_WAY, urgent=False) is Priority.URGENT
    assert priority_of(Purpose.APPOINTMENT_REMINDER, urgent=True) is Priority.URGENT
    assert priority_of(Purpose.GAS_CHECK_OFFER, urgent=True) is Priority.URGENT
    assert priority_of(Purpose.APPOINTMENT_REMINDER, urgent=False) is Priority.ROUTINE
    assert priority_of(Purpose.GAS_CHECK_OFFER, urgent=False) is Priority.BULK
    assert priority_of(Purpose.GAS_CHECK_CHASER, urgent=False) is Priority.BULK


def test_the_queue_gives_turns_by_priority_then_in_order_of_arrival():
    queue: TurnQueue[str] = TurnQueue()
    for n in range(3):
        queue.push(Priority.BULK, f"gas-{n}")
    queue.push(Priority.ROUTINE, "reminder")
    queue.push(Priority.URGENT, "on-the-way-1")
    queue.push(Priority.URGENT, "on-the-way-2")

    order = [queue.pop() for _ in range(len(queue))]

    assert order == ["on-the-way-1", "on-the-way-2", "reminder", "gas-0", "gas-1", "gas-2"]
