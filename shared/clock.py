"""The time every service reads.

In production it is the system clock. A test of the whole system may set
`DOORSTEP_CLOCK_OFFSET_SECONDS` for every process it starts, so that all of them live at
the same other moment (a Sunday at 02:00, the day a gas certificate expires) without
waiting for it; restarting them with a larger offset moves the whole system forward.
"""

from datetime import UTC, datetime, timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict


class ClockSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_CLOCK_", extra="ignore")

    offset_seconds: float = 0.0


OFFSET = timedelta(seconds=ClockSettings().offset_seconds)


def utcnow() -> datetime:
    return datetime.now(UTC) + OFFSET


def offset_to(moment: datetime) -> float:
    """The offset, in seconds, that makes the clock read `moment` now."""
    return (moment - datetime.now(UTC)).total_seconds()
