"""The relay, once woken, waits `linger_seconds` for the commits behind the first: they
go out in the same round, and none waits for the next poll. A round that was full goes
again at once."""

import asyncio

from sqlalchemy import Table

from shared.outbox import ROUND_LIMIT, Outbox
from tests.component.test_outbox_producer_reset import add_events, settle


class Rounds:
    """Stands in for the producer, counting the records of each relay round."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def publish(self, topic: str, payload: bytes, key: bytes, headers: dict[str, str]) -> None:
        self.sent.append(headers["event_id"])


async def relay_rounds(outbox: Outbox, table: Table, producer: Rounds, commits: int) -> tuple[list[str], int]:
    """Commit `commits` times 2 events, a few milliseconds apart, and count the rounds."""
    rounds = 0
    relay_pending = outbox.relay_pending

    async def counted(limit: int = 500) -> int:
        nonlocal rounds
        relayed = await relay_pending(limit)
        rounds += relayed > 0
        return relayed

    outbox.relay_pending = counted  # type: ignore[method-assign]
    outbox.start()
    await asyncio.sleep(0.1)  # its first round, on an empty outbox, is done
    try:
        ids = []
        for _ in range(commits):
            ids += await add_events(outbox, 2)
            await asyncio.sleep(0.002)
        await settle(outbox, table)
    finally:
        await outbox.stop()
    return ids, rounds


async def test_commits_during_the_linger_go_out_in_one_round(outbox_parts: tuple[Table, object]) -> None:
    table, sessions = outbox_parts
    producer = Rounds()
    outbox = Outbox(table, sessions, producer.publish, poll_seconds=30, linger_seconds=0.5)
    ids, rounds = await relay_rounds(outbox, table, producer, commits=5)
    assert producer.sent == ids
    assert rounds == 1


async def test_without_a_linger_each_commit_is_relayed_as_it_comes(outbox_parts: tuple[Table, object]) -> None:
    table, sessions = outbox_parts
    producer = Rounds()
    outbox = Outbox(table, sessions, producer.publish, poll_seconds=30)
    ids, rounds = await relay_rounds(outbox, table, producer, commits=5)
    assert producer.sent == ids
    assert rounds > 1


async def test_after_a_full_round_the_next_goes_at_once_without_waiting_to_be_woken(
    outbox_parts: tuple[Table, object],
) -> None:
    table, sessions = outbox_parts
    producer = Rounds()
    outbox = Outbox(table, sessions, producer.publish, poll_seconds=30, linger_seconds=0.5)
    ids = await add_events(outbox, 2 * ROUND_LIMIT + 10)  # three rounds' worth, committed at once
    outbox.start()
    try:
        await settle(outbox, table, timeout=5)  # well before the poll or a second wake
    finally:
        await outbox.stop()
    assert producer.sent == ids
