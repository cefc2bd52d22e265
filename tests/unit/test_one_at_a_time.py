"""One holder per key at a time; other keys go on; a key is forgotten once nobody wants it."""

import asyncio

import pytest

from services.intake.one_at_a_time import OneAtATime


async def test_one_holder_per_key_and_other_keys_go_on():
    guard, order = OneAtATime(), []

    async def hold(key: str, name: str, seconds: float) -> None:
        async with guard.holding(key):
            order.append(f"{name} in")
            await asyncio.sleep(seconds)
            order.append(f"{name} out")

    await asyncio.gather(hold("mail-1", "a", 0.05), hold("mail-1", "b", 0), hold("mail-2", "c", 0))
    assert order.index("b in") > order.index("a out")  # b waited for a
    assert order.index("c out") < order.index("a out")  # c did not
    assert len(guard) == 0


async def test_a_key_is_forgotten_even_when_its_holder_fails():
    guard = OneAtATime()
    with pytest.raises(ValueError, match="unreadable"):
        async with guard.holding("mail-1"):
            raise ValueError("unreadable")
    assert len(guard) == 0
    async with asyncio.timeout(1), guard.holding("mail-1"):
        pass
