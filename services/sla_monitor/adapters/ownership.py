"""Which clocks this instance watches, and whether it has read all it must first.

Instances of the monitor share one consumer group. Each clock lives in the partition of
the record that started it; the instance that is assigned that partition watches it, and
when an instance dies the group gives its partitions, and so its clocks, to another.
Case-keyed topics are co-partitioned, so partition p of each is assigned together (the
range assignor), and a clock may be breached only once every input's partition p has
been handled up to its end: an event that happened in time cannot still be queued.
"""

from collections.abc import Callable, Iterable
from typing import Protocol

from aiokafka import ConsumerRebalanceListener, TopicPartition

from shared.topics import CASE_KEYED, Topic

Partition = tuple[str, int]


class Ownership(Protocol):
    def partitions(self) -> set[Partition] | None:
        """The partitions owned; None means every one (a single instance without Kafka)."""

    async def caught_up(self, partitions: Iterable[Partition]) -> set[Partition]:
        """Those of `partitions` whose inputs have all been handled to their end."""


class OwnsEverything:
    """For one instance driven directly, as in component tests."""

    def partitions(self) -> None:
        return None

    async def caught_up(self, partitions: Iterable[Partition]) -> set[Partition]:
        return set(partitions)


class PartitionOwnership(ConsumerRebalanceListener):
    def __init__(self, inputs: Iterable[Topic], on_change: Callable[[], None]) -> None:
        self.inputs = tuple(str(t) for t in inputs)
        self.on_change = on_change
        self.assigned: set[Partition] = set()
        self.subscriber: object | None = None  # set once the subscriber exists
        # The next offset to handle, per partition: known here without asking the broker.
        self._next: dict[TopicPartition, int] = {}

    def handled(self, records: Iterable[object]) -> None:
        """Called once a batch's records are applied and stored."""
        for record in records:
            tp = TopicPartition(record.topic, record.partition)  # type: ignore[attr-defined]
            self._next[tp] = max(self._next.get(tp, 0), record.offset + 1)  # type: ignore[attr-defined]

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.assigned -= {(tp.topic, tp.partition) for tp in revoked}
        for tp in revoked:
            self._next.pop(TopicPartition(tp.topic, tp.partition), None)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.assigned = {(tp.topic, tp.partition) for tp in assigned}
        self.on_change()

    def partitions(self) -> set[Partition]:
        return set(self.assigned)

    async def caught_up(self, partitions: Iterable[Partition]) -> set[Partition]:
        consumer = getattr(self.subscriber, "consumer", None)
        if consumer is None:
            return set()
        wanted = {p: self._inputs_of(p) for p in partitions}
        every = sorted({tp for tps in wanted.values() for tp in tps})
        if not every:
            return set()
        ends = await consumer.end_offsets(every)
        for tp in every:
            if tp not in self._next:  # nothing handled here since it was assigned
                self._next[tp] = await consumer.committed(tp) or 0
        return {p for p, tps in wanted.items() if tps and all(self._next[tp] >= ends[tp] for tp in tps)}

    def _inputs_of(self, partition: Partition) -> list[TopicPartition]:
        topic, number = partition
        topics = [t for t in self.inputs if t in CASE_KEYED] if topic in CASE_KEYED else [topic]
        tps = [TopicPartition(t, number) for t in topics]
        # A partition not (or no longer) assigned here is someone else's to watch.
        return tps if all((tp.topic, tp.partition) in self.assigned for tp in tps) else []
