"""A standards pack: every clock a landlord or the law sets, as data.

A pack has versions, each with the date it takes effect. A version either lists all of
its clocks, or `builds_on_previous` and lists only what it adds or replaces (by clock
id) and what it `withdraws`. A case keeps the version that was in force when it opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    model_validator,
)

from shared.calendar import Unit, WorkingCalendar, default_calendar

Loc = tuple[str | int, ...]


class InconsistentPack(ValueError):
    """A rule across fields is broken; `loc` points at the offending field, relative to
    the model that raised it, so the loader can report the exact path and line."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


SnakeCaseId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
PackId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]
EventType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class PackKind(StrEnum):
    INTERNAL = "internal"
    STATUTORY = "statutory"


class Subject(StrEnum):
    CASE = "case"
    PROPERTY = "property"


@dataclass(frozen=True)
class EventFacts:
    """What a clock can see of an event: its type and the attributes clocks match on."""

    event_type: str
    channel: str | None = None
    mailbox: str | None = None
    kind: str | None = None
    priority: str | None = None
    stage: str | None = None
    flags: frozenset[str] = field(default_factory=frozenset)


class EventConditions(_Frozen):
    """Attributes an event must have; an attribute left out matches anything."""

    channel: str | None = None
    mailbox: str | None = None
    kind: str | None = None
    priority: str | None = None
    stage: str | None = None
    flag: str | None = None  # one of the event's flags

    def hold_for(self, facts: EventFacts) -> bool:
        return all(getattr(facts, name) == wanted for name, wanted in self._wanted) and (
            self.flag is None or self.flag in facts.flags
        )

    @cached_property
    def _wanted(self) -> tuple[tuple[str, str], ...]:
        """The attributes this condition names (the others match anything)."""
        names = ("channel", "mailbox", "kind", "priority", "stage")
        return tuple((name, getattr(self, name)) for name in names if getattr(self, name) is not None)

    def is_empty(self) -> bool:
        return all(value is None for value in self.model_dump().values())


class EventMatch(EventConditions):
    """An event type, the conditions it must meet, and exceptions (`unless`) that rule it out."""

    event: EventType
    unless: Annotated[tuple[EventConditions, ...], BeforeValidator(_one_or_many)] = ()

    @model_validator(mode="after")
    def _exceptions_say_something(self) -> EventMatch:
        for index, exception in enumerate(self.unless):
            if exception.is_empty():
                raise InconsistentPack(
                    ("unless", index), "an 'unless' with no condition rules out every event"
                )
        return self

    def matches(self, facts: EventFacts) -> bool:
        return (
            facts.event_type == self.event
            and self.hold_for(facts)
            and not any(exception.hold_for(facts) for exception in self.unless)
        )


Matches = Annotated[tuple[EventMatch, ...], BeforeValidator(_one_or_many)]


class Target(_Frozen):
    amount: NonNegativeInt
    unit: Unit

    @model_validator(mode="after")
    def _amount_fits_unit(self) -> Target:
        counts_back = self.unit is Unit.BEFORE_PREVIOUS_WORKING_DAY
        if counts_back and self.amount != 0:
            raise InconsistentPack(("amount",), f"must be 0 when unit is '{self.unit}'")
        if not counts_back and self.amount == 0:
            raise InconsistentPack(("amount",), f"must be at least 1 when unit is '{self.unit}'")
        return self

    def due(self, reference: datetime, calendar: WorkingCalendar = default_calendar) -> datetime:
        """The deadline counted from `reference`: the starting event's time, or for
        `before_previous_working_day` the appointment's time."""
        return calendar.deadline(reference, self.amount, self.unit)

    def __str__(self) -> str:
        if self.unit is Unit.BEFORE_PREVIOUS_WORKING_DAY:
            return "by the end of the previous working day"
        return f"{self.amount} {self.unit.replace('_', ' ')}"


class Extension(_Frozen):
    """More time that may be agreed; no `amount` means the standard sets no limit."""

    amount: PositiveInt | None = None
    unit: Unit | None = None
    condition: Text

    @model_validator(mode="after")
    def _amount_and_unit_together(self) -> Extension:
        if (self.amount is None) != (self.unit is None):
            missing = "unit" if self.unit is None else "amount"
            raise InconsistentPack((missing,), "amount and unit go together")
        if self.unit is Unit.BEFORE_PREVIOUS_WORKING_DAY:
            raise InconsistentPack(("unit",), f"an extension cannot be '{self.unit}'")
        return self


class Source(_Frozen):
    document: Text
    text: Text  # the sentence the clock comes from
    verbatim: bool = True  # False when `text` summarises a regulation in plain words


class ClockDefinition(_Frozen):
    """One clock: what starts, stops, pauses, resumes and cancels it, and its target.

    A clock starts on a matching event (`starts_on`) or when the clock it `chains_from`
    stops. Stopping means the obligation was met; cancelling ends the clock with no
    result (the appointment it reminds of was cancelled, say).
    """

    id: SnakeCaseId
    name: Text
    subject: Subject = Subject.CASE
    starts_on: Matches = ()
    chains_from: SnakeCaseId | None = None
    stops_on: Matches = ()
    pauses_on: Matches = ()
    resumes_on: Matches = ()
    cancels_on: Matches = ()
    target: Target
    warnings: tuple[Fraction, ...] = (0.5, 0.75)
    extension: Extension | None = None
    superseded_by: Text | None = None
    notes: Text | None = None
    source: Source

    @model_validator(mode="after")
    def _consistent(self) -> ClockDefinition:
        if not self.stops_on:
            raise InconsistentPack(("stops_on",), "a clock needs at least one event that stops it")
        if bool(self.starts_on) == bool(self.chains_from):
            raise InconsistentPack(("starts_on",), "a clock needs exactly one of starts_on or chains_from")
        if self.chains_from == self.id:
            raise InconsistentPack(("chains_from",), "a clock cannot chain from itself")
        if list(self.warnings) != sorted(set(self.warnings)):
            raise InconsistentPack(("warnings",), "warning points must be strictly increasing")
        if bool(self.pauses_on) != bool(self.resumes_on):
            missing = "resumes_on" if self.pauses_on else "pauses_on"
            raise InconsistentPack((missing,), "a clock that pauses needs both pauses_on and resumes_on")
        return self

    def is_started_by(self, facts: EventFacts) -> bool:
        return _any_matches(self.starts_on, facts)

    def is_stopped_by(self, facts: EventFacts) -> bool:
        return _any_matches(self.stops_on, facts)

    def is_paused_by(self, facts: EventFacts) -> bool:
        return _any_matches(self.pauses_on, facts)

    def is_resumed_by(self, facts: EventFacts) -> bool:
        return _any_matches(self.resumes_on, facts)

    def is_cancelled_by(self, facts: EventFacts) -> bool:
        return _any_matches(self.cancels_on, facts)


def _any_matches(matches: tuple[EventMatch, ...], facts: EventFacts) -> bool:
    return any(match.matches(facts) for match in matches)


class PackVersion(_Frozen):
    effective_from: date
    summary: Text | None = None
    builds_on_previous: bool = False
    withdraws: tuple[SnakeCaseId, ...] = ()
    clocks: tuple[ClockDefinition, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> PackVersion:
        seen: set[str] = set()
        for index, clock in enumerate(self.clocks):
            if clock.id in seen:
                raise InconsistentPack(
                    ("clocks", index, "id"), f"clock id '{clock.id}' is used twice in this version"
                )
            seen.add(clock.id)
        if self.withdraws and not self.builds_on_previous:
            raise InconsistentPack(
                ("withdraws",), "only a version that builds_on_previous can withdraw clocks"
            )
        return self


@dataclass(frozen=True)
class StandardInForce:
    """The clocks one pack sets from one effective date, inherited clocks resolved."""

    pack_id: str
    pack_title: str
    pack_kind: PackKind
    effective_from: date
    clocks: tuple[ClockDefinition, ...]

    def clock(self, clock_id: str) -> ClockDefinition:
        try:
            return self._by_id[clock_id]
        except KeyError:
            raise KeyError(f"{self.pack_id} ({self.effective_from}) has no clock '{clock_id}'") from None

    def started_on(self, event_type: str) -> tuple[ClockDefinition, ...]:
        """The clocks that some event of this type may start (its conditions still apply)."""
        return self._by_starting_event.get(event_type, ())

    # Looked up for every event the monitor applies: indexed once.
    @cached_property
    def _by_id(self) -> dict[str, ClockDefinition]:
        return {clock.id: clock for clock in self.clocks}

    @cached_property
    def _by_starting_event(self) -> dict[str, tuple[ClockDefinition, ...]]:
        index: dict[str, list[ClockDefinition]] = {}
        for clock in self.clocks:
            for event_type in dict.fromkeys(match.event for match in clock.starts_on):
                index.setdefault(event_type, []).append(clock)
        return {event_type: tuple(clocks) for event_type, clocks in index.items()}

    def chained_from(self, clock_id: str) -> tuple[ClockDefinition, ...]:
        """The clocks that start when `clock_id` stops."""
        return tuple(clock for clock in self.clocks if clock.chains_from == clock_id)


class StandardsPack(_Frozen):
    id: PackId
    title: Text
    kind: PackKind
    versions: tuple[PackVersion, ...]

    @model_validator(mode="after")
    def _consistent(self) -> StandardsPack:
        if not self.versions:
            raise InconsistentPack(("versions",), "a pack needs at least one version")
        for index, (earlier, later) in enumerate(zip(self.versions, self.versions[1:]), start=1):
            if later.effective_from <= earlier.effective_from:
                raise InconsistentPack(
                    ("versions", index, "effective_from"),
                    f"{later.effective_from} is not after the previous version's {earlier.effective_from}",
                )
        if self.versions[0].builds_on_previous:
            raise InconsistentPack(
                ("versions", 0, "builds_on_previous"), "the first version has nothing to build on"
            )
        self._check_versions_resolve()
        return self

    def _check_versions_resolve(self) -> None:
        inherited: dict[str, ClockDefinition] = {}
        for version_index, version in enumerate(self.versions):
            for withdrawn_index, clock_id in enumerate(version.withdraws):
                if clock_id not in inherited:
                    raise InconsistentPack(
                        ("versions", version_index, "withdraws", withdrawn_index),
                        f"withdraws '{clock_id}', which the previous version does not have",
                    )
            in_force = _resolve(version, inherited)
            for clock_index, clock in enumerate(version.clocks):
                if clock.chains_from is not None and clock.chains_from not in in_force:
                    raise InconsistentPack(
                        ("versions", version_index, "clocks", clock_index, "chains_from"),
                        f"chains from '{clock.chains_from}', which is not a clock in this version",
                    )
            inherited = in_force

    def standards_in_force(self) -> tuple[StandardInForce, ...]:
        """Every version with its inherited clocks resolved, oldest first."""
        return self._resolved

    @cached_property
    def _resolved(self) -> tuple[StandardInForce, ...]:
        # Worked out once: every event the monitor applies looks clocks up here.
        resolved: list[StandardInForce] = []
        inherited: dict[str, ClockDefinition] = {}
        for version in self.versions:
            inherited = _resolve(version, inherited)
            clocks = tuple(inherited.values())
            resolved.append(StandardInForce(self.id, self.title, self.kind, version.effective_from, clocks))
        return tuple(resolved)

    def standard_on(self, day: date) -> StandardInForce | None:
        """The version in force on `day`, or None before the first one takes effect."""
        in_force = [standard for standard in self.standards_in_force() if standard.effective_from <= day]
        return in_force[-1] if in_force else None


def _resolve(version: PackVersion, inherited: dict[str, ClockDefinition]) -> dict[str, ClockDefinition]:
    clocks = dict(inherited) if version.builds_on_previous else {}
    for clock_id in version.withdraws:
        clocks.pop(clock_id, None)
    clocks.update((clock.id, clock) for clock in version.clocks)
    return clocks


@dataclass(frozen=True)
class ApplicableClock:
    """A clock together with the pack and version it comes from."""

    pack_id: str
    pack_kind: PackKind
    effective_from: date
    clock: ClockDefinition


class StandardsBook(_Frozen):
    """Every pack that ships, looked up together."""

    packs: tuple[StandardsPack, ...]

    @model_validator(mode="after")
    def _unique_pack_ids(self) -> StandardsBook:
        seen: set[str] = set()
        for index, pack in enumerate(self.packs):
            if pack.id in seen:
                raise InconsistentPack(("packs", index, "id"), f"pack id '{pack.id}' is used twice")
            seen.add(pack.id)
        return self

    def pack(self, pack_id: str) -> StandardsPack:
        for pack in self.packs:
            if pack.id == pack_id:
                return pack
        raise KeyError(f"no standards pack '{pack_id}'")

    def standards_on(self, day: date) -> tuple[StandardInForce, ...]:
        found = (pack.standard_on(day) for pack in self.packs)
        return tuple(standard for standard in found if standard is not None)

    def started_by(
        self, facts: EventFacts, on: date, include_superseded: bool = True
    ) -> tuple[ApplicableClock, ...]:
        """The clocks, across every pack in force on `on`, that an event with `facts` starts
        (superseded ones too, unless told not to). Remembered: many events share their
        facts and day."""
        key = (facts, on, include_superseded)
        known = self._started.get(key)
        if known is None:
            known = self._started[key] = tuple(
                ApplicableClock(standard.pack_id, standard.pack_kind, standard.effective_from, clock)
                for standard in self.standards_on(on)
                for clock in standard.started_on(facts.event_type)
                if clock.is_started_by(facts) and (include_superseded or clock.superseded_by is None)
            )
        return known

    @cached_property
    def _started(self) -> dict[tuple[EventFacts, date, bool], tuple[ApplicableClock, ...]]:
        return {}
