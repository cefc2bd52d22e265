"""The body of every service's Alembic env.py: online migrations over an async engine."""

import asyncio

from alembic import context
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from shared.db import UtcDateTime, make_engine


def run_migrations(metadata: MetaData) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_online(url, metadata))


async def _online(url: str, metadata: MetaData) -> None:
    engine = make_engine(url)
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together migrate one at a time; held until commit.
            await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('doorstep-migrations'))"))
        await connection.run_sync(_configure_and_run, metadata)
        await connection.commit()
    await engine.dispose()


def _render_item(kind: str, item: object, autogen_context: object) -> str | bool:
    """Write our UtcDateTime as the plain timestamp it stores, so migrations need no imports."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure_and_run(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
