"""The clocks of a batch of events, changed in memory and written once (pure)."""

from collections.abc import Iterable
from datetime import datetime

from shared.kafka import Origin
from services.sla_monitor.domain.clocks import Clock


class ClockBatch:
    def __init__(self, loaded: Iterable[Clock]) -> None:
        self._clocks: dict[str, Clock] = {}
        self._by_subject: dict[str, set[str]] = {}
        for clock in loaded:
            self._put(clock)
        self._stored = dict(self._clocks)
        self._origins: dict[str, Origin] = {}
        self._changed: set[str] = set()

    def _put(self, clock: Clock) -> None:
        self._clocks[clock.id] = clock
        self._by_subject.setdefault(clock.subject_id, set()).add(clock.id)

    def clocks_of(self, subject_id: str) -> list[Clock]:
        ids = self._by_subject.get(subject_id, ())
        return sorted((self._clocks[i] for i in ids), key=lambda c: c.deadline)

    def change(self, clocks: Iterable[Clock]) -> None:
        for clock in clocks:
            self._put(clock)
            if clock.id in self._stored:
                self._changed.add(clock.id)

    def start(self, clocks: Iterable[Clock], origin: Origin) -> None:
        """Add new clocks; one already there (a start seen twice) is left as it is."""
        for clock in clocks:
            if clock.id not in self._clocks:
                self._put(clock)
                self._origins[clock.id] = origin

    def new(self) -> list[tuple[Clock, Origin]]:
        return [(self._clocks[clock_id], origin) for clock_id, origin in self._origins.items()]

    def changed(self) -> list[tuple[Clock, Clock]]:
        """Each stored clock that is now different, with what it was when loaded."""
        pairs = [(self._clocks[clock_id], self._stored[clock_id]) for clock_id in sorted(self._changed)]
        return [(clock, was) for clock, was in pairs if clock != was]

    def soonest_alert(self) -> datetime | None:
        """The soonest warning or deadline of the clocks started or changed."""
        touched = [self._clocks[clock_id] for clock_id in (*self._origins, *self._changed)]
        return min((c.next_alert_at for c in touched if c.next_alert_at is not None), default=None)
