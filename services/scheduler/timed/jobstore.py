"""APScheduler's job store in the scheduler's own database.

SQLAlchemyJobStore is synchronous, so it gets a synchronous engine on the same database
as the service's async one."""

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url

from services.scheduler.timed.tables import JOBS_TABLE

SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite",
    "postgresql+asyncpg": "postgresql+psycopg",
}
CONNECT_TIMEOUT_SECONDS = 10


def sync_url(async_url: str) -> str:
    """The same database through a synchronous driver."""
    url = make_url(async_url)
    return url.set(drivername=SYNC_DRIVERS.get(url.drivername, url.drivername)).render_as_string(
        hide_password=False
    )


def sync_engine(async_url: str) -> Engine:
    url = make_url(sync_url(async_url))
    if url.get_backend_name() == "sqlite":
        return create_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS})
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})


def job_store(async_url: str) -> SQLAlchemyJobStore:
    return SQLAlchemyJobStore(engine=sync_engine(async_url), tablename=JOBS_TABLE)
