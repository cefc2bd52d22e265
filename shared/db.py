"""Each service's own database: SQLite by default, PostgreSQL by URL; Alembic migrations."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Dialect, Engine, TypeDecorator, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


SQLITE_POOL_SIZE = 16


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)
    if database := sqlite_file(parsed):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # Enough pooled connections for a service's concurrent requests: past the pool, each
    # checkout opened a new connection (a thread of its own, the pragmas) and closed it
    # again on return, as intake's mail lookups did on 8 SMTP connections.
    engine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=SQLITE_POOL_SIZE, max_overflow=32)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def sqlite_file(url: str | URL) -> str | None:
    """The file of a SQLite database; None for any other database, or SQLite in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def sqlite_file_engine(engine: AsyncEngine) -> Engine | None:
    """A synchronous engine on the same SQLite file as `engine` (None for any other
    database, or SQLite in memory), for work done whole in a thread of its own."""
    url = engine.url
    if sqlite_file(url) is None:
        return None
    sync = create_engine(url.set(drivername="sqlite"), connect_args={"timeout": 30}, pool_size=2, max_overflow=0)
    event.listen(sync, "connect", _sqlite_pragmas)
    return sync


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(migrations: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def migrate(migrations: Path, url: str) -> None:
    """Bring the schema to the newest revision (Alembic runs its own loop in a thread)."""
    await asyncio.to_thread(command.upgrade, alembic_config(migrations, url), "heads")


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back aware (SQLite forgets the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("refusing to store a timestamp without a UTC offset")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
