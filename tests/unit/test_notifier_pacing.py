"""Pacing per sender (pure): a window that never lets more texts go in any one second
than the sender's rate, and a queue that lets the most pressing text go first."""

import pytest

from shared.events.notifications import Purpose
from services.notifier.domain.pacing import BEAT_MARGIN, Priority, SendingWindow, TurnQueue, priority_of

BEAT = (1 + BEAT_MARGIN) / 10  # at ten a second


def most_in_any_second(sent: list[float]) -> int:
    return max(sum(1 for t in sent if start <= t < start + 1) for start in sent)


def test_ten_a_second_means_one_every_tenth_of_a_second_when_on_time():
    window = SendingWindow(per_second=10)
    assert window.wait(100.0) == 0
    assert window.take(100.0)
    assert not window.take(100.0)
    assert window.wait(100.0) == pytest.approx(BEAT)  # on the beat, a shade under the rate
    sent = [100.0]
    now = 100.0
    while len(sent) < 30:
        now += window.wait(now)
        assert window.take(now)
        sent.append(now)
    assert most_in_any_second(sent) == 10


def test_asking_far_more_often_than_allowed_never_exceeds_the_rate_in_any_second():
    window, now, sent = SendingWindow(per_second=10), 0.0, []
    while now < 30:
        if window.take(now):
            sent.append(now)
        now += 0.003
    assert most_in_any_second(sent) <= 10
    assert 295 <= len(sent) <= 300


def test_sends_found_late_are_made_up_for_within_the_rate():
    """A busy process comes back late for some turns; over the minute the rate holds."""
    window, now, sent = SendingWindow(per_second=10), 0.0, []
    lateness = [0.0, 0.04, 0.0, 0.07, 0.01, 0.0, 0.03]
    n = 0
    while now < 60:
        now += window.wait(now) + lateness[n % len(lateness)]
        if window.take(now):
            sent.append(now)
        n += 1
    assert most_in_any_second(sent) <= 10
    # Only the lateness itself is lost (and the beat's margin), not a tenth of a second
    # per late send as with plain even spacing (which would give under 500).
    assert len(sent) >= 570
    assert min(b - a for a, b in zip(sent, sent[1:])) >= 0.05 - 1e-9


def test_a_send_a_little_late_keeps_the_beat_and_a_pause_starts_it_again():
    window = SendingWindow(per_second=10)
    assert window.take(0.0)
    assert window.take(BEAT + 0.03)  # 30 ms late
    assert window.wait(BEAT + 0.03) == pytest.approx(BEAT - 0.03)  # the next is still due on the beat
    assert window.take(2 * BEAT)
    assert window.take(5.0)  # after a pause
    assert window.wait(5.0) == pytest.approx(BEAT)


def test_a_send_very_late_is_followed_no_sooner_than_half_the_spacing():
    window = SendingWindow(per_second=10)
    assert window.take(0.0)
    assert window.take(BEAT + 0.08)  # 80 ms late
    assert window.wait(BEAT + 0.08) == pytest.approx(BEAT / 2)


def test_a_clock_going_backwards_invents_no_room():
    window = SendingWindow(per_second=10)
    assert window.take(10.0)
    assert not window.take(9.0)
    assert not window.take(10.02)


def test_a_sender_slower_than_one_a_second_waits_its_whole_spacing():
    window = SendingWindow(per_second=0.5)
    assert window.take(0.0)
    assert window.wait(0.5) == pytest.approx(2 * (1 + BEAT_MARGIN) - 0.5)
    assert not window.take(2.0)
    assert window.take(2 * (1 + BEAT_MARGIN))


@pytest.mark.parametrize("rate", [0, -1])
def test_a_sender_that_could_never_send_is_refused(rate: float):
    with pytest.raises(ValueError):
        SendingWindow(per_second=rate)


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
