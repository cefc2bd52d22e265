"""Wiring: the intake service from its settings."""

from pathlib import Path

from shared.database_work import database_work
from shared.service import Runtime, build_runtime
from services.intake.adapters.tables import metadata
from services.intake.settings import IntakeSettings

MIGRATIONS = Path(__file__).parent / "migrations"

# Woken by a commit, the relay waits this long for the commits behind it: under a burst
# on 8 connections a round then carries more events, and each costs less CPU in intake
# and in the broker (bench/README.md), for at most this much more latency. 20 ms did
# better than 10 ms in each of three paired runs (items a second, CPU per item); the mails'
# p99 to case.opened was 118-170 ms against 124-137 ms.
RELAY_LINGER_SECONDS = 0.02


def bootstrap(settings: IntakeSettings | None = None) -> Runtime:
    runtime = build_runtime(settings or IntakeSettings(), metadata, MIGRATIONS)
    # One intake process relays its outbox (several were tried over one SQLite file
    # and were slower).
    runtime.outbox.relay_alone(database_work(runtime.engine))
    runtime.outbox.linger_seconds = RELAY_LINGER_SECONDS
    return runtime
