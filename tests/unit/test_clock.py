"""The clock every service reads: the system clock, or the same other moment for every
process of a whole-system test."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from shared.clock import offset_to, utcnow
from shared import events


def clock_in_a_process(offset: str) -> datetime:
    code = "from shared.clock import utcnow; print(utcnow().isoformat())"
    env = {"DOORSTEP_CLOCK_OFFSET_SECONDS": offset, "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return datetime.fromisoformat(out.stdout.strip())


def test_without_an_offset_the_clock_is_the_system_clock():
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=1)
    assert utcnow().tzinfo is UTC


def test_an_offset_moves_every_reading_of_the_process():
    sunday_night = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    moved = clock_in_a_process(str(offset_to(sunday_night)))
    assert abs(moved - sunday_night) < timedelta(seconds=5)


def test_events_are_stamped_by_the_same_clock():
    assert events.utcnow is utcnow
    assert events.Event.model_fields["occurred_at"].default_factory is utcnow
