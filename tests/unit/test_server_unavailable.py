"""Which handler failures mean "the database is away" (the message comes back later)
rather than "this message cannot be handled" (the dead-letter topic)."""

import socket

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from shared.kafka import server_unavailable


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def failure_of(url: str) -> BaseException:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("select 1"))
    except Exception as error:  # noqa: BLE001 - the failure is what is examined
        return error
    finally:
        await engine.dispose()
    raise AssertionError("the query should have failed")


async def test_a_refused_postgresql_connection_means_the_database_is_away():
    error = await failure_of(f"postgresql+asyncpg://doorstep:doorstep@127.0.0.1:{closed_port()}/none")
    assert server_unavailable(error), type(error)


async def test_a_sqlite_file_that_cannot_be_opened_means_the_database_is_away(tmp_path):
    error = await failure_of(f"sqlite+aiosqlite:///{tmp_path}/no/such/folder/x.db")
    assert isinstance(error, OperationalError)
    assert server_unavailable(error)


def test_a_refused_connection_elsewhere_is_the_handlers_own_failure():
    # e.g. a mail relay refusing: the notifier's business, dead-lettered after its attempts
    try:
        raise ConnectionRefusedError("relay refused")
    except ConnectionRefusedError as error:
        assert not server_unavailable(error)


@pytest.mark.parametrize("error", [IntegrityError("insert", {}, Exception("duplicate key")), ValueError("bad")])
def test_a_broken_row_or_a_bug_is_not_an_outage(error):
    assert not server_unavailable(error)
