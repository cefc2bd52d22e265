"""Reporting periods: "2026Q3" (a calendar quarter), "2026" (a calendar year) and
"2026-27" (a financial year, April to March, as the regulator's measures are reported).

A period is whole London days; its bounds are the UTC instants of London midnight at
its start and just after its last day, so a clock change inside it is counted right.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from shared.calendar import default_calendar

FIRST_YEAR, LAST_YEAR = 2000, 2999
_LONGEST_ECHO = 24  # a bad period is quoted back, cut short

_QUARTER = re.compile(r"(\d{4})[Qq](\d)")
_YEAR = re.compile(r"(\d{4})")
_FINANCIAL_YEAR = re.compile(r"(\d{4})[-/](\d{2})")


class PeriodError(ValueError):
    """Text that names no reporting period."""


class PeriodKind(StrEnum):
    QUARTER = "quarter"
    YEAR = "year"
    FINANCIAL_YEAR = "financial_year"


@dataclass(frozen=True)
class Period:
    label: str
    kind: PeriodKind
    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        """London midnight at the start of the first day, in UTC (inclusive)."""
        return default_calendar.at(self.first_day, time(0))

    @property
    def end(self) -> datetime:
        """London midnight after the last day, in UTC (exclusive)."""
        return default_calendar.at(self.last_day + timedelta(days=1), time(0))

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def quarter(year: int, number: int) -> Period:
    _check_year(year)
    if not 1 <= number <= 4:
        raise PeriodError(f"a year has quarters 1 to 4, not {number}")
    first = date(year, 3 * number - 2, 1)
    after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(f"{year}Q{number}", PeriodKind.QUARTER, first, after - timedelta(days=1))


def calendar_year(year: int) -> Period:
    _check_year(year)
    return Period(str(year), PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))


def financial_year(year: int) -> Period:
    """1 April `year` to 31 March the year after."""
    _check_year(year)
    label = f"{year}-{(year + 1) % 100:02d}"
    return Period(label, PeriodKind.FINANCIAL_YEAR, date(year, 4, 1), date(year + 1, 3, 31))


def parse_period(text: str) -> Period:
    """"2026Q3", "2026" or "2026-27"; a PeriodError saying what is wrong otherwise."""
    given = text.strip()
    if match := _QUARTER.fullmatch(given):
        return quarter(int(match[1]), int(match[2]))
    if match := _YEAR.fullmatch(given):
        return calendar_year(int(match[1]))
    if match := _FINANCIAL_YEAR.fullmatch(given):
        return _financial_year_of(int(match[1]), match[2])
    raise PeriodError(
        f"{_quoted(given)} is not a reporting period: give a quarter such as 2026Q3, "
        "a calendar year such as 2026, or a financial year such as 2026-27"
    )


def _financial_year_of(year: int, second: str) -> Period:
    expected = f"{(year + 1) % 100:02d}"
    if second != expected:
        raise PeriodError(
            f"a financial year runs from April to the next March: {year}-{expected}, "
            f"not {year}-{second}"
        )
    return financial_year(year)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}, not {year}")


def _quoted(text: str) -> str:
    shown = text if len(text) <= _LONGEST_ECHO else text[:_LONGEST_ECHO] + "..."
    return repr(shown)
