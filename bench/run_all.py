"""Every benchmark under bench/ on the local broker, then raw aiokafka produce and consume
of records of the same sizes, and one table: each figure, its target, met or not, and its
ratio to raw aiokafka where it is a rate of records.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME ...] [--raw-records N]

A benchmark is a script in bench/ that declares BENCHMARK (the convention is in
bench/README.md). Each runs on a fresh local broker of its own (started from the repo's
deploy/kafka.sh on BENCH_KAFKA_PORT, default 39292, in a temp directory), so no benchmark
reads another's records; the raw aiokafka figures come from a fresh broker of the same
build in the same run. A benchmark that fails is reported and the others still run.
"""

import argparse
import ast
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: E402
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402

from bench.figures import Figure, read  # noqa: E402

BENCH = REPO / "bench"
HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_KAFKA_PORT", "39292"))
BENCHMARK_TIMEOUT = 1800.0
RAW_PARTITIONS = 6  # as the case-keyed topics


def say(text: str = "") -> None:
    print(text, flush=True)


@dataclass(frozen=True)
class Benchmark:
    name: str
    path: Path
    what: str


def discover() -> tuple[list[Benchmark], list[str]]:
    """Scripts declaring BENCHMARK = "..." at module level, read without importing them;
    and the names of the other scripts, which are not benchmarks of this convention."""
    found, others = [], []
    for path in sorted(BENCH.glob("*.py")):
        if path.name in ("run_all.py", "figures.py", "__init__.py"):
            continue
        what = _declared(path)
        if what is None:
            others.append(path.stem)
        else:
            found.append(Benchmark(path.stem, path, what))
    return found, others


def _declared(path: Path) -> str | None:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "BENCHMARK" for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    return None


# -- the broker ---------------------------------------------------------------------------


def _kafka(action: str, var: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "DOORSTEP_VAR": str(var), "KAFKA_HOST": HOST,
           "KAFKA_PORT": str(PORT), "KAFKA_CONTROLLER_PORT": str(PORT + 1)}
    libs = REPO / "var" / "kafka-libs"  # the jars already fetched, shared
    if libs.exists() and not (var / "kafka-libs").exists():
        (var / "kafka-libs").symlink_to(libs)
    done = subprocess.run(["bash", str(REPO / "deploy" / "kafka.sh"), action], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"kafka.sh {action} failed: {done.stderr.strip()[-1500:]}")


@contextmanager
def fresh_broker() -> Iterator[str]:
    var = Path(tempfile.mkdtemp(prefix="doorstep-bench-all-"))
    try:
        _kafka("up", var)
        try:
            yield f"{HOST}:{PORT}"
        finally:
            _kafka("down", var)
    finally:
        shutil.rmtree(var, ignore_errors=True)


# -- the benchmarks -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    benchmark: Benchmark
    figures: list[Figure]
    seconds: float
    problem: str | None


def run_benchmark(benchmark: Benchmark, quick: bool) -> Outcome:
    say(f"=== {benchmark.name}: {benchmark.what}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="doorstep-figures-") as tmp:
        out = Path(tmp) / "figures.jsonl"
        try:
            with fresh_broker() as bootstrap:
                command = [sys.executable, str(benchmark.path), "--bootstrap", bootstrap, "--figures", str(out)]
                done = subprocess.run(command + (["--quick"] if quick else []), cwd=REPO,
                                      timeout=BENCHMARK_TIMEOUT)
            problem = None if done.returncode == 0 else f"exited with {done.returncode}"
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            problem = f"{type(error).__name__}: {error}"
        figures = read(out)
    if problem is None and not figures:
        problem = "wrote no figures"
    return Outcome(benchmark, figures, time.perf_counter() - started, problem)


# -- raw aiokafka -------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    record_bytes: int
    records: int
    produce: float  # records/s
    consume: float  # records/s


async def raw_rates(bootstrap: str, sizes: list[int], records: int) -> list[Raw]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        measured = []
        for size in sizes:
            topic = f"bench.raw.{size}"
            await admin.create_topics([NewTopic(topic, RAW_PARTITIONS, 1)])
            produced = await _produce(bootstrap, topic, size, records)
            consumed = await _consume(bootstrap, topic, records + RAW_PARTITIONS)
            measured.append(Raw(size, records, records / produced, records / consumed))
        return measured
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, size: int, count: int) -> float:
    """As the services produce: acks=all, idempotent; seconds until the last is acknowledged."""
    body = b"x" * size
    async with AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True) as out:
        # One record to each partition first, untimed: a new topic's leaders settle.
        for partition in range(RAW_PARTITIONS):
            await out.send_and_wait(topic, body, partition=partition)
        started = time.perf_counter()
        pending = [await out.send(topic, body, key=f"key-{i}".encode()) for i in range(count)]
        await asyncio.gather(*pending)
        return time.perf_counter() - started


async def _consume(bootstrap: str, topic: str, count: int) -> float:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(RAW_PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen, started = 0, time.perf_counter()
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            seen += sum(len(batch) for batch in batches.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


# -- the table ----------------------------------------------------------------------------


def machine() -> str:
    memory_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    return (f"{len(os.sched_getaffinity(0))} cores, {memory_kib / 1024**2:.1f} GB memory, "
            f"Python {sys.version.split()[0]}")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f}"


def ratio(figure: Figure, raw: dict[int, Raw]) -> str:
    if figure.rate is None or figure.compare_with is None or figure.record_bytes not in raw:
        return "-"
    base = getattr(raw[figure.record_bytes], figure.compare_with)
    return f"{figure.rate / base:.1%} of raw {figure.compare_with}"


def table(outcomes: list[Outcome], raw: list[Raw]) -> list[tuple[str, ...]]:
    by_size = {r.record_bytes: r for r in raw}
    rows: list[tuple[str, ...]] = []
    for outcome in outcomes:
        name = outcome.benchmark.name
        if outcome.problem:
            rows.append((name, "did not finish", outcome.problem, "-", "NO", "-"))
        for f in outcome.figures:
            met = "-" if f.met is None else ("yes" if f.met else "NO")
            rows.append((name, f.name, f.value, f.target, met, ratio(f, by_size)))
    for r in raw:
        rows.append(("raw aiokafka", f"produce, {r.record_bytes} B records (acks=all)", f"{r.produce:,.0f}/s", "-", "-", "-"))
        rows.append(("raw aiokafka", f"consume, {r.record_bytes} B records", f"{r.consume:,.0f}/s", "-", "-", "-"))
    return rows


def print_table(rows: list[tuple[str, ...]]) -> None:
    header = ("benchmark", "figure", "value", "target", "met", "vs raw aiokafka")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        say("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's smaller run")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    parser.add_argument("--raw-records", type=int, default=50_000, help="records per raw aiokafka size")
    args = parser.parse_args()
    benchmarks, others = discover()
    if args.only:
        unknown = set(args.only) - {b.name for b in benchmarks}
        if unknown:
            parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")
        benchmarks = [b for b in benchmarks if b.name in args.only]
    began = datetime.now(UTC)
    say(f"run_all {began:%Y-%m-%d %H:%M} UTC on {machine()}; {load()} at the start")
    say(f"benchmarks: {', '.join(b.name for b in benchmarks)}" + (f"; not benchmarks: {', '.join(others)}" if others else ""))
    outcomes = [run_benchmark(b, args.quick) for b in benchmarks]
    sizes = sorted({f.record_bytes for o in outcomes for f in o.figures if f.rate and f.record_bytes})
    raw: list[Raw] = []
    if sizes:
        say(f"=== raw aiokafka: {args.raw_records:,} records of each of {', '.join(f'{s} B' for s in sizes)}")
        with fresh_broker() as bootstrap:
            raw = asyncio.run(raw_rates(bootstrap, sizes, args.raw_records))
    say()
    say(f"run_all, {began:%Y-%m-%d}, {machine()}, {load()} at the end"
        f"{', quick runs' if args.quick else ''}; " + ", ".join(f"{o.benchmark.name} {o.seconds:.0f} s" for o in outcomes))
    print_table(table(outcomes, raw))
    return 1 if any(o.problem for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
