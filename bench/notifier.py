"""The notifier on the local broker: an "on the way" text with the gas programme's bulk
queued ahead of it, and the rate the bulk leaves at.

    .venv/bin/python bench/notifier.py [--bulk 1000] [--samples 100] [--rate 10]
                                       [--bootstrap HOST:PORT] [--quick] [--figures FILE]
                                       (the convention is in bench/README.md)

What it does, in order:
  1. starts a broker of its own on 127.0.0.1 (default port 39692, BENCH_KAFKA_PORT), in a
     temp directory, unless --bootstrap names one, and the fake of Twilio's Messages API
     on a free port, in a process of its own (`python -m tests.fakes.twilio_api`);
  2. starts `python -m services.notifier` against both (SQLite, quiet hours off, texts
     paced at --rate a second);
  3. publishes an appointment confirmation for each of --samples cases (so the notifier
     knows how to reach their tenants) and waits until the fake has them all;
  4. publishes --bulk gas-check offers and waits until the notifier has claimed them all;
  5. while they drain, publishes appointment.contractor_en_route for one case at a time,
     every 0.6 to 1.2 s, and measures from just before the publish to the fake receiving
     that case's "on the way" request;
  6. waits for the last bulk text, then reports the latency p50/p99/max and the rate the
     texts reached the fake at while the bulk drained: the mean, the most in any one
     second, the closest two came (as received: the notifier's own spacing is at least
     half its beat of (1 + BEAT_MARGIN)/rate, and network and scheduling delays move
     arrivals a little). The beat is 2% slower than the rate by design, so the mean
     counts as at the rate within 1% of the beat (9.71-10/s at 10/s).
Every temp file, the broker, the fake and the notifier are removed or stopped at the end.

The fake runs in a process of its own because it stamps each request's arrival only when
it gets to handle it. Served from a thread of this process, it shared the GIL with the
bench's own Kafka client, so a busy moment here could hold requests back and stamp them
together: runs saw two texts 0.7 ms apart, and 11 in one second, from a sender that spaces
them at least 51 ms apart. The bench reads what the fake recorded over HTTP
(`GET /fake/requests?since=N`, only the requests not read yet).
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from aiokafka import AIOKafkaProducer  # noqa: E402

from bench import figures  # noqa: E402
from services.notifier.domain.pacing import BEAT_MARGIN  # noqa: E402
from shared.events import serialize  # noqa: E402
from shared.events.appointments import AppointmentKind, ContractorEnRoute  # noqa: E402
from shared.events.notifications import NotificationRequested, Purpose, Recipient  # noqa: E402
from shared.kafka import ensure_topics  # noqa: E402
from shared.topics import Topic  # noqa: E402
from tests.fakes.twilio_api import (  # noqa: E402
    FakeTwilioProcess,
    RecordedRequest,
    serve_fake_twilio_process,
)

BENCHMARK = "the notifier: on the way with 1,000 gas-check offers queued ahead (p50/p99), and the rate texts leave at"

HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_KAFKA_PORT", "39692"))
KAFKA = f"{HOST}:{PORT}"  # or --bootstrap
STARTS = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)


def say(text: str) -> None:
    print(text, flush=True)


def broker(action: str, var: Path) -> None:
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "DOORSTEP_VAR": str(var),
        "KAFKA_HOST": HOST,
        "KAFKA_PORT": str(PORT),
        "KAFKA_CONTROLLER_PORT": str(PORT + 1),
    }
    libs = REPO / "var" / "kafka-libs"  # share the jars already fetched
    if libs.exists() and not (var / "kafka-libs").exists():
        (var / "kafka-libs").symlink_to(libs)
    subprocess.run(["bash", str(REPO / "deploy" / "kafka.sh"), action], env=env, check=True, capture_output=True)


def refuse_a_taken_port() -> None:
    """Another broker on the port would answer in place of ours: stop instead."""
    for port in (PORT, PORT + 1):
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                raise SystemExit(f"port {port} is taken; set BENCH_KAFKA_PORT to a free pair")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_notifier(workdir: Path, fake: FakeTwilioProcess, rate: float) -> tuple[subprocess.Popen[bytes], Path, int]:
    port, database = free_port(), workdir / "notifier.db"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "NOTIFIER_HTTP_PORT": str(port),
        "NOTIFIER_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "NOTIFIER_OUTBOX_DIR": str(workdir / "outbox"),
        "NOTIFIER_QUIET_HOURS": "false",
        "NOTIFIER_SMS_PER_SECOND": str(rate),
        "NOTIFIER_TWILIO_ACCOUNT_SID": fake.account_sid,
        "NOTIFIER_TWILIO_AUTH_TOKEN": fake.auth_token,
        "NOTIFIER_TWILIO_BASE_URL": fake.base_url,
        "NOTIFIER_STATUS_CALLBACK_URL": f"http://{HOST}:{port}/v1/twilio/status",
        "NOTIFIER_LOG_LEVEL": "WARNING",
    }
    log = (workdir / "notifier.log").open("wb")
    child = subprocess.Popen([sys.executable, "-m", "services.notifier"], env=env, cwd=REPO, stdout=log, stderr=log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the notifier exited; see {workdir / 'notifier.log'}")
        try:
            if httpx.get(f"http://{HOST}:{port}/readyz", timeout=2).status_code == 200:
                return child, database, port
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the notifier did not become ready")


def case_id(n: int) -> str:
    return f"bench-case-{n:04d}"


def confirmation(n: int) -> NotificationRequested:
    return NotificationRequested(
        correlation_id=case_id(n), case_id=case_id(n), appointment_id=f"bench-appt-{n:04d}",
        idempotency_key=f"bench-appt-{n:04d}:appointment_confirmation",
        purpose=Purpose.APPOINTMENT_CONFIRMATION, template="appointment_confirmation",
        recipient=Recipient(phone=f"+4477009{n:05d}"),
        personalisation={"reference": f"HX-B{n:07d}", "appointment_date": "today", "appointment_time": "soon"},
    )


def gas_offer(n: int) -> NotificationRequested:
    return NotificationRequested(
        correlation_id=f"bench-gas-{n:05d}", case_id=f"bench-gas-{n:05d}",
        idempotency_key=f"bench-gas-{n:05d}:gas_check_offer",
        purpose=Purpose.GAS_CHECK_OFFER, template="gas_check_offer",
        recipient=Recipient(phone=f"+4477008{n:05d}"),
        personalisation={
            "reference": f"HX-G{n:07d}", "appointment_date": "Monday 7 December",
            "appointment_time": "8am to 12pm", "certificate_expires": "Friday 28 December 2026",
        },
    )


def en_route(n: int) -> ContractorEnRoute:
    return ContractorEnRoute(
        correlation_id=case_id(n), case_id=case_id(n), reference=f"HX-B{n:07d}",
        appointment_id=f"bench-appt-{n:04d}", kind=AppointmentKind.REPAIR, starts_at=STARTS,
        contractor_name="Sam from Fixit", at=datetime.now(UTC),
    )


class Received:
    """The requests the fake has recorded, as read so far from its process."""

    def __init__(self, fake: FakeTwilioProcess, client: httpx.AsyncClient) -> None:
        self.fake, self.client = fake, client
        self.requests: list[RecordedRequest] = []

    async def catch_up(self) -> None:
        """Read the requests recorded since the last read, and only those."""
        answer = await self.client.get(self.fake.requests_url(since=len(self.requests)))
        answer.raise_for_status()
        self.requests.extend(RecordedRequest.from_json(item) for item in answer.json())


async def wait_until(  # type: ignore[no-untyped-def]
    condition, timeout: float, what: str, every: float = 0.05,
    refresh: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Until condition() holds, checked every `every` s, after `refresh` when given."""
    deadline = time.monotonic() + timeout
    while True:
        if refresh is not None:
            await refresh()
        if condition():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(every)


def claimed(database: Path, purpose: str) -> int:
    with sqlite3.connect(database, timeout=30) as db:
        return db.execute("SELECT count(*) FROM deliveries WHERE purpose = ?", (purpose,)).fetchone()[0]


def on_the_way(received: Received, reference: str, since: int) -> float | None:
    """When the fake received the on-the-way text naming `reference`, if it has."""
    for request in received.requests[since:]:
        if reference in (request.body or "") and "on the way" in (request.body or ""):
            return request.at
    return None


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def run(args: argparse.Namespace, workdir: Path, fake: FakeTwilioProcess) -> None:
    await ensure_topics(KAFKA)
    async with httpx.AsyncClient(timeout=10) as client:
        received = Received(fake, client)
        latencies = await measure(args, workdir, received)
        await received.catch_up()  # anything that came after the last wait
    log_summary(workdir / "notifier.log")
    figures.write(args.figures, report(args, received.requests, latencies))


async def measure(args: argparse.Namespace, workdir: Path, received: Received) -> list[float]:
    """Steps 2 to 6 of the docstring: the latencies of the on-the-way texts, in ms."""
    notifier, database, _ = start_notifier(workdir, received.fake, args.rate)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True, linger_ms=0)
    await producer.start()
    try:
        for n in range(args.samples):
            event = confirmation(n)
            await producer.send(str(Topic.NOTIFICATIONS_REQUESTED), serialize(event), key=event.key())
        await producer.flush()
        await wait_until(
            lambda: len(received.requests) >= args.samples, 120, "the confirmations", refresh=received.catch_up,
        )
        say(f"confirmations: {args.samples} sent (each case's tenant is now known to the notifier)")

        bulk_published = time.time()
        for n in range(args.bulk):
            event = gas_offer(n)
            await producer.send(str(Topic.NOTIFICATIONS_REQUESTED), serialize(event), key=event.key())
        await producer.flush()
        await wait_until(lambda: claimed(database, "gas_check_offer") >= args.bulk, 300, "the bulk to be claimed", 0.5)
        await received.catch_up()
        waiting = args.bulk - sum(1 for r in received.requests if r.at >= bulk_published)
        say(f"bulk: {args.bulk} gas-check offers claimed {time.time() - bulk_published:.1f} s after publishing; "
            f"{waiting} still waiting their turn")

        latencies = []
        for n in range(args.samples):
            await received.catch_up()
            event, seen = en_route(n), len(received.requests)
            published = time.time()
            await producer.send_and_wait(str(Topic.APPOINTMENTS), serialize(event), key=event.key())
            await wait_until(
                lambda ref=event.reference, since=seen: on_the_way(received, ref, since), 30, f"on the way {n}",
                refresh=received.catch_up,
            )
            latencies.append((on_the_way(received, event.reference, seen) - published) * 1000)  # type: ignore[operator]
            await asyncio.sleep(random.uniform(0.6, 1.2))
        await received.catch_up()
        bulk_left = args.bulk - sum(1 for r in received.requests if "HX-G" in (r.body or ""))
        say(f"on the way: {args.samples} measured; {bulk_left} bulk texts still queued after the last one")

        await wait_until(
            lambda: sum(1 for r in received.requests if r.at >= bulk_published) >= args.bulk + args.samples,
            args.bulk / args.rate * 2 + 120, "the last bulk text", 0.5, refresh=received.catch_up,
        )
    finally:
        await producer.stop()
        notifier.send_signal(signal.SIGTERM)
        try:
            notifier.wait(timeout=30)
        except subprocess.TimeoutExpired:
            notifier.kill()
    return latencies


def log_summary(path: Path) -> None:
    """The notifier's log lines above info (it runs at WARNING), counted by message."""
    counts = Counter()
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            counts[line[:100]] += 1
            continue
        counts[f"{entry.get('level', '?')}: {entry.get('msg', '?')} {entry.get('reason', '')}".rstrip()] += 1
    say("notifier log, lines above info:" if counts else "notifier log: nothing above info")
    for message, count in counts.most_common(10):
        say(f"  {count:6d} x {message}")


def report(
    args: argparse.Namespace, requests: list[RecordedRequest], latencies: list[float]
) -> list[figures.Figure]:
    bulk = sorted(r.at for r in requests if "HX-G" in (r.body or ""))
    # Every text from the sender while the bulk drained, "on the way" included.
    times = sorted(r.at for r in requests if bulk[0] <= r.at <= bulk[-1])
    gaps = [b - a for a, b in zip(times, times[1:])]
    most_in_a_second = max(sum(1 for t in times[i:] if t < start + 1) for i, start in enumerate(times))
    mean_rate = (len(times) - 1) / (times[-1] - times[0])
    # The sender's beat is BEAT_MARGIN slower than the rate by design (so that delays on
    # the way cannot put one text too many into one of the provider's seconds): at the
    # rate means within 1% of that beat, and never above the rate.
    lowest = args.rate / (1 + BEAT_MARGIN) * 0.99
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    rows = [
        ("on the way, publish to fake Twilio, p50", f"{p50:.0f} ms", "-", "-"),
        ("on the way, publish to fake Twilio, p99", f"{p99:.0f} ms", "< 300 ms", "yes" if p99 < 300 else "NO"),
        ("on the way, max", f"{max(latencies):.0f} ms", "-", "-"),
        ("texts from the sender while the bulk drained", f"{len(times)} in {times[-1] - times[0]:.1f} s", "-", "-"),
        ("mean send rate over the drain", f"{mean_rate:.2f}/s", f"{lowest:.2f}-{args.rate:g}/s",
         "yes" if lowest <= mean_rate <= args.rate else "NO"),
        ("most texts in any one second", f"{most_in_a_second}", f"<= {args.rate:g}",
         "yes" if most_in_a_second <= args.rate else "NO"),
        ("closest two texts (sender: >= half the spacing)", f"{min(gaps) * 1000:.1f} ms", "-", "-"),
        ("texts received closer than half the spacing", f"{sum(1 for g in gaps if g < 0.5 / args.rate)}", "-", "-"),
    ]
    say("")
    say(f"notifier, {args.bulk} bulk gas-check offers queued, {args.samples} on-the-way texts, "
        f"sender paced at {args.rate:g}/s, broker on {KAFKA}")
    say(f"  {'figure':<48}{'value':>16}{'target':>12}  met")
    for name, value, target, met in rows:
        say(f"  {name:<48}{value:>16}{target:>12}  {met}")
    return [figures.Figure(name, value, target, figures.met_from(met)) for name, value, target, met in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0)
    figures.add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.bulk, args.samples = min(args.bulk, 200), min(args.samples, 20)
    global KAFKA
    own_broker = args.bootstrap is None
    KAFKA = args.bootstrap or KAFKA
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-bench-notifier-"))
    say(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; workdir {workdir}")
    if own_broker:
        refuse_a_taken_port()
    try:
        if own_broker:
            broker("up", workdir)
        with (workdir / "fake_twilio.log").open("wb") as log, serve_fake_twilio_process(log) as fake:
            asyncio.run(run(args, workdir, fake))
    finally:
        if own_broker:
            broker("down", workdir)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
