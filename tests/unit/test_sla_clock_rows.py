"""New clocks are written with their timestamps converted by hand on SQLite, and their
warnings encoded by hand: exactly as SQLAlchemy and json.dumps would store them, so
comparisons in SQL still hold and the rows read back the same."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from shared.db import UtcDateTime
from services.sla_monitor.adapters.clock_store import sqlite_utc_text, warnings_json
from services.sla_monitor.domain.clocks import WarningPoint

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


@pytest.mark.parametrize("warnings", [
    (),
    (WarningPoint("50%", datetime(2026, 12, 1, 9, 30, tzinfo=UTC), 0.5),),
    (
        WarningPoint("75%", datetime(2026, 7, 1, 16, 59, 59, 123456, tzinfo=UTC), 0.75),
        WarningPoint("1 working day before", datetime(2026, 7, 2, 16, 0, tzinfo=UTC)),
    ),
    (WarningPoint('a "quoted" label', datetime(2026, 12, 1, tzinfo=UTC), 1 / 3),),
])
def test_warnings_are_encoded_as_json_dumps_encodes_them(warnings: tuple[WarningPoint, ...]):
    as_dicts = [{"label": w.label, "at": w.at.isoformat(), "fraction": w.fraction} for w in warnings]
    assert warnings_json(warnings) == json.dumps(as_dicts)
