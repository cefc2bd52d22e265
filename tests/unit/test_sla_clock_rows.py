"""New clocks are written with their timestamps converted by hand on SQLite: exactly as
SQLAlchemy's own conversion would store them, so comparisons in SQL still hold."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from shared.db import UtcDateTime
from services.sla_monitor.adapters.clock_store import sqlite_utc_text

DIALECT = sqlite_dialect()


def sqlalchemys(value: datetime | None) -> object:
    bind = UtcDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    return bind(value)


@pytest.mark.parametrize("value", [
    datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    datetime(2026, 7, 1, 17, 0, 0, 123456, tzinfo=UTC),
    datetime(2027, 3, 28, 1, 30, tzinfo=timezone(timedelta(hours=1))),
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    None,
])
def test_a_timestamp_is_stored_as_sqlalchemy_stores_it(value: datetime | None):
    assert sqlite_utc_text(value) == sqlalchemys(value)


def test_a_timestamp_without_an_offset_is_refused():
    with pytest.raises(ValueError, match="UTC offset"):
        sqlite_utc_text(datetime(2026, 12, 1, 9, 30))
