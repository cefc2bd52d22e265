"""The deadline timer: fires when woken, at the next alert, again soon while the inputs
catch up, and keeps going after a failure. Timings are generous: a loaded machine may be slow."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.sla_monitor import timer as timer_module
from services.sla_monitor.timer import CATCH_UP_RETRY, LONGEST_SLEEP, Alarm, DeadlineTimer


class Fake:
    """Stands in for the monitor: records each firing and answers as told."""

    def __init__(self, answers: Callable[[int], bool] = lambda _: True) -> None:
        self.fired: list[float] = []
        self.answers = answers
        self.next_alert_at: Callable[[], datetime | None] = lambda: None
        self.raise_on: set[int] = set()

    async def fire(self) -> bool:
        self.fired.append(time.monotonic())
        number = len(self.fired)
        if number in self.raise_on:
            raise ConnectionError("database went away")
        return self.answers(number)

    async def next_alert(self) -> datetime | None:
        return self.next_alert_at()

    async def fired_at_least(self, count: int, within: float) -> bool:
        deadline = time.monotonic() + within
        while len(self.fired) < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True


@pytest.fixture
def woken() -> Alarm:
    return Alarm()


@pytest.fixture
def fake() -> Fake:
    return Fake()


@pytest.fixture
async def running(fake: Fake, woken: Alarm) -> AsyncIterator[DeadlineTimer]:
    timer = DeadlineTimer(fake.fire, fake.next_alert, woken)
    yield timer
    await timer.stop()


async def test_it_fires_at_start_and_again_at_once_when_woken(
    running: DeadlineTimer, fake: Fake, woken: Alarm
):
    await running.start()
    assert await fake.fired_at_least(1, within=1.0)
    await asyncio.sleep(0.05)
    assert len(fake.fired) == 1  # nothing due: it sleeps (up to LONGEST_SLEEP)

    before = time.monotonic()
    woken.now()
    assert await fake.fired_at_least(2, within=1.0)
    assert fake.fired[1] - before < 0.5


async def test_it_sleeps_until_the_next_alert(running: DeadlineTimer, fake: Fake):
    alert = datetime.now(UTC) + timedelta(seconds=0.2)
    fake.next_alert_at = lambda: alert if datetime.now(UTC) < alert else None
    await running.start()
    assert await fake.fired_at_least(1, within=1.0)
    await asyncio.sleep(0.1)
    assert len(fake.fired) == 1  # not polling while the alert is ahead

    assert await fake.fired_at_least(2, within=1.0)
    late_by = (fake.fired[1] - fake.fired[0]) - 0.2
    assert -0.05 < late_by < 0.3


async def test_it_retries_quickly_while_something_due_waits_for_the_inputs(woken: Alarm):
    fake = Fake(answers=lambda number: number > 3)  # three times "not caught up yet"
    timer = DeadlineTimer(fake.fire, fake.next_alert, woken)
    await timer.start()
    try:
        assert await fake.fired_at_least(4, within=1.0)
        assert fake.fired[3] - fake.fired[0] < 3 * CATCH_UP_RETRY + 0.5
        await asyncio.sleep(0.2)
        assert len(fake.fired) == 4  # caught up and nothing next: back to a long sleep
    finally:
        await timer.stop()


async def test_it_keeps_going_after_fire_fails(running: DeadlineTimer, fake: Fake, woken: Alarm):
    fake.raise_on = {1}
    await running.start()
    assert await fake.fired_at_least(1, within=1.0)
    await asyncio.sleep(0.05)
    assert running._task is not None and not running._task.done()

    woken.now()
    assert await fake.fired_at_least(2, within=1.0)


async def test_after_a_failure_it_tries_again_within_seconds(running: DeadlineTimer, fake: Fake):
    fake.raise_on = {1}
    await running.start()
    assert await fake.fired_at_least(2, within=2.5)  # retried after about a second, not LONGEST_SLEEP


async def test_a_failing_next_alert_does_not_stop_it(woken: Alarm):
    fake = Fake()
    calls = 0

    async def next_alert() -> datetime | None:
        nonlocal calls
        calls += 1
        raise ConnectionError("database went away")

    timer = DeadlineTimer(fake.fire, next_alert, woken)
    await timer.start()
    try:
        assert await fake.fired_at_least(1, within=1.0)
        woken.now()
        assert await fake.fired_at_least(2, within=1.0)
    finally:
        await timer.stop()


async def test_it_stops_cleanly_and_fires_no_more(running: DeadlineTimer, fake: Fake, woken: Alarm):
    await running.start()
    assert await fake.fired_at_least(1, within=1.0)
    task = running._task
    await running.stop()
    assert task is not None and task.done()

    count = len(fake.fired)
    woken.now()
    await asyncio.sleep(0.1)
    assert len(fake.fired) == count


async def test_stop_before_start_does_nothing(fake: Fake, woken: Alarm):
    await DeadlineTimer(fake.fire, fake.next_alert, woken).stop()
    assert fake.fired == []


def test_sleeps_are_bounded():
    now = datetime.now(UTC)
    assert DeadlineTimer._seconds_until(None) == LONGEST_SLEEP
    assert DeadlineTimer._seconds_until(now - timedelta(seconds=5)) == 0.0
    assert DeadlineTimer._seconds_until(now + timedelta(days=1)) == LONGEST_SLEEP
    assert 9 < DeadlineTimer._seconds_until(now + timedelta(seconds=10)) <= 10
    assert timer_module.CATCH_UP_RETRY < 1.0


async def test_an_alert_sooner_than_the_one_it_sleeps_until_wakes_it_and_a_later_one_does_not(
    running: DeadlineTimer, fake: Fake, woken: Alarm
):
    alert = datetime.now(UTC) + timedelta(seconds=10)
    fake.next_alert_at = lambda: alert
    await running.start()
    assert await fake.fired_at_least(1, within=1.0)
    await asyncio.sleep(0.05)
    assert woken.sleeping_until == alert

    woken.by(alert + timedelta(seconds=1))
    woken.by(None)
    await asyncio.sleep(0.1)
    assert len(fake.fired) == 1

    woken.by(alert - timedelta(seconds=1))
    assert await fake.fired_at_least(2, within=1.0)


def test_knowing_of_no_alert_any_alert_wakes_it():
    alarm = Alarm()
    alarm.by(datetime.now(UTC) + timedelta(days=365))
    assert alarm.rung.is_set()
