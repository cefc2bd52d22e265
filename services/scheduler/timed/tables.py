"""The tables timed jobs keep in the scheduler's database."""

from sqlalchemy import Column, Float, LargeBinary, String, Table, Unicode

from shared.db import UtcDateTime
from services.scheduler.adapters.tables import metadata

# One row per lease: the replica holding it runs the timed jobs until expires_at.
leader_leases = Table(
    "leader_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

JOBS_TABLE = "apscheduler_jobs"

# APScheduler's SQLAlchemyJobStore creates this table itself when it is missing; it is
# declared here, column for column as APScheduler 3.11 defines it, so that migrations
# own it like every other table (191: MySQL's key limit; 25: an 8-byte float).
apscheduler_jobs = Table(
    JOBS_TABLE,
    metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
