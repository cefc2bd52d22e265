"""Group commit in intake: writes that arrive together share one transaction (one disk
flush), each still lands whole or not at all, and one that fails fails alone."""

import asyncio

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from shared.service import Runtime
from services.intake.adapters import store
from services.intake.adapters.batch_writer import BatchWriter, Writes, writer_for
from services.intake.adapters.tables import raw_messages


def commits_of(writer: BatchWriter) -> list[int]:
    counted: list[int] = []
    event.listen(writer.engine, "commit", lambda _connection: counted.append(1))
    return counted


async def kept(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(raw_messages)) or 0


def keeping(n: int) -> Writes:
    writes = Writes()
    store.keep_raw(writes, store.Raw("web:bench", f"submission {n}".encode()))
    return writes


async def test_writes_that_arrive_together_share_one_commit(intake: Runtime):
    writer = BatchWriter(intake.sessions, intake.outbox)
    commits = commits_of(writer)
    await asyncio.gather(*(writer.write(keeping(n)) for n in range(50)))
    assert await kept(intake) == 50
    assert 1 <= len(commits) <= 3  # the first alone at most, then the rest together


async def test_a_failing_write_fails_alone_and_the_others_land(intake: Runtime):
    writer = BatchWriter(intake.sessions, intake.outbox)
    clash = keeping(99)
    clash.rows[raw_messages].append(dict(clash.rows[raw_messages][0]))  # the same id twice

    results = await asyncio.gather(
        *(writer.write(keeping(n)) for n in range(5)), writer.write(clash), *(writer.write(keeping(n)) for n in range(5, 10)),
        return_exceptions=True,
    )
    assert isinstance(results[5], IntegrityError)
    assert all(r is None for i, r in enumerate(results) if i != 5)
    assert await kept(intake) == 10  # the clashing piece left nothing half-written


async def test_a_batch_is_no_bigger_than_its_limit(intake: Runtime):
    writer = BatchWriter(intake.sessions, intake.outbox, max_batch=4)
    commits = commits_of(writer)
    await asyncio.gather(*(writer.write(keeping(n)) for n in range(12)))
    assert len(commits) >= 3
    assert await kept(intake) == 12


def test_each_database_has_one_writer(intake: Runtime):
    assert writer_for(intake.sessions, intake.outbox) is writer_for(intake.sessions, intake.outbox)


async def test_a_batch_writes_each_table_in_one_statement(intake: Runtime):
    statements: list[str] = []
    writer = BatchWriter(intake.sessions, intake.outbox)
    event.listen(writer.engine, "before_cursor_execute", lambda *a: statements.append(a[2].split()[0]))
    await writer.write(keeping(0))  # the first goes alone
    statements.clear()
    await asyncio.gather(*(writer.write(keeping(n)) for n in range(1, 30)))
    assert statements.count("INSERT") <= 2 and await kept(intake) == 30


async def test_reads_asked_for_together_share_one_hand_off_and_each_gets_its_own_answer(intake: Runtime):
    from shared.database_work import database_work

    reads = database_work(intake.engine)
    await asyncio.gather(*(writer_for(intake.sessions, intake.outbox).write(keeping(n)) for n in range(3)))
    handed: list[int] = []
    event.listen(reads.engine, "checkout", lambda *_: handed.append(1))

    def fails(_connection):  # type: ignore[no-untyped-def]
        raise LookupError("this one")

    count = lambda connection: connection.scalar(select(func.count()).select_from(raw_messages))  # noqa: E731
    results = await asyncio.gather(
        reads.read_together(count), reads.read_together(fails), *(reads.read_together(count) for _ in range(8)),
        return_exceptions=True,
    )
    assert isinstance(results[1], LookupError)
    assert [r for i, r in enumerate(results) if i != 1] == [3] * 9
    assert 1 <= len(handed) <= 2  # the first alone at most, then the rest together
