"""Intake under a burst: mails over SMTP on several connections, then web forms over HTTP,
against a running intake process on a local broker.

  .venv/bin/python bench/intake.py [--mails N] [--forms N] [--connections N]
                                   [--bootstrap HOST:PORT] [--figures FILE] [--quick] [--profile FILE]

It starts a broker of its own (127.0.0.1:39392, or BENCH_KAFKA_PORT) in a temp directory
unless --bootstrap names one (bench/run_all.py's convention), then one intake process over
SQLite, and prints:
  - accepted per second: mails (the 250 to DATA) and forms (the 201), each burst timed alone;
  - latency from "accepted" (that reply, as the sender sees it) to the case.opened
    readable on doorstep.cases (a consumer in a thread of its own), p50 / p99 / max;
  - in the same run, raw aiokafka publishing records of the same size (acks=all,
    idempotent, as the services' producers), and intake's rate as a share of it.
Targets: 300 mails/s, 1,000 forms/s, p99 under 250 ms.
"""

import argparse
import asyncio
import json
import logging
import math
import os
import random
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.figures import Figure, add_arguments, write  # noqa: E402
from shared.topics import Topic, partitions_for  # noqa: E402

BENCHMARK = "intake: mails over SMTP and forms over HTTP accepted per second, and accepted to case.opened on Kafka"

HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_KAFKA_PORT", "39392"))
RAW_TOPIC = "bench.intake.raw"
MAILBOXES = ("repairs_reporting", "customer_desk", "complaints")
IDLE_SECONDS = 5.0
TARGETS = {"mails": 300.0, "forms": 1000.0, "p99_ms": 250.0}

# What tenants write, varied enough that classification does real work.
MAIL_TEXTS = (
    "Hello, the kitchen tap has been leaking for two days and there is water under the sink. "
    "Could someone come and look at it? I am in most mornings.",
    "There is a smell of gas in the hallway near the meter cupboard. I have opened the windows.",
    "We have black mould on the bedroom wall and the ceiling above the window. My daughter has "
    "asthma and it is getting worse. We have tried wiping it but it comes back every week.",
    "I would like to make a formal complaint. The contractor did not turn up on Tuesday and "
    "nobody phoned me. This is the third time this has happened.",
    "Can you tell me when my rent statement will be sent? I also want to ask about a parking "
    "permit for the estate.",
    "The neighbours upstairs play loud music every night until 3am and there has been "
    "vandalism in the bin store. I have reported it before.",
)


def say(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values) or [math.nan]
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown cpu")
    load = os.getloadavg()
    return (f"machine: {len(os.sched_getaffinity(0))} cores ({model}), load average "
            f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start, Python {sys.version.split()[0]}, "
            f"SQLite {sqlite3.sqlite_version}")


# -- the broker and the intake process -------------------------------------------------------


def process_cpu(pid: int) -> float:
    """User and system CPU seconds of a running process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_of(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """This process's CPU seconds: the client sending the burst, and the watcher thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Cpu:
    """CPU seconds used during a burst by intake, the client (this process) and the broker
    when this run started it: on 2 cores they compete, so each is shown."""

    def __init__(self, intake: "Intake", broker_pid: int | None) -> None:
        self.intake, self.broker_pid = intake, broker_pid

    def now(self) -> tuple[float, float, float]:
        broker = process_cpu(self.broker_pid) if self.broker_pid else math.nan
        return self.intake.cpu_seconds(), own_cpu(), broker

    @staticmethod
    def used(before: tuple[float, float, float], after: tuple[float, float, float]) -> tuple[float, float, float]:
        return tuple(b - a for a, b in zip(before, after))  # type: ignore[return-value]


def broker_pid(var: Path) -> int | None:
    pidfile = var / f"kafka-{PORT}" / "broker.pid"
    return int(pidfile.read_text()) if pidfile.exists() else None


def broker(action: str, var: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "DOORSTEP_VAR": str(var), "KAFKA_HOST": HOST,
           "KAFKA_PORT": str(PORT), "KAFKA_CONTROLLER_PORT": str(PORT + 1)}
    libs = REPO / "var" / "kafka-libs"  # share the jars already fetched
    if libs.exists() and not (var / "kafka-libs").exists():
        var.mkdir(parents=True, exist_ok=True)
        (var / "kafka-libs").symlink_to(libs)
    subprocess.run(["bash", str(REPO / "deploy" / "kafka.sh"), action], env=env, check=True, capture_output=True)


class Intake:
    def __init__(self, workdir: Path, kafka: str) -> None:
        self.http_port, self.smtp_port = free_port(), free_port()
        self.log = workdir / "intake.log"
        self.env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka, "INTAKE_LOG_LEVEL": "WARNING",
                    "INTAKE_HTTP_PORT": str(self.http_port), "INTAKE_SMTP_PORT": str(self.smtp_port),
                    "INTAKE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'intake.db'}"}

    def start(self) -> None:
        self.child = subprocess.Popen([sys.executable, "-m", "services.intake"], cwd=REPO, env=self.env,
                                      stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.child.poll() is not None:
                raise SystemExit(f"intake exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://{HOST}:{self.http_port}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit("intake did not become ready")

    def cpu_seconds(self) -> float:
        return process_cpu(self.child.pid)

    def stop(self) -> None:
        self.child.terminate()
        self.child.wait(timeout=30)


# -- the consumer that sees each case open ---------------------------------------------------


class Watcher(threading.Thread):
    """Reads doorstep.cases from its end when started, noting when each case.opened arrives."""

    def __init__(self, kafka: str) -> None:
        super().__init__(daemon=True)
        self.kafka = kafka
        self.opened: dict[str, float] = {}
        self.sizes: list[int] = []
        self.ready = threading.Event()
        self.halt = threading.Event()

    def run(self) -> None:
        try:
            asyncio.run(self._read())
        finally:
            self.ready.set()  # a watcher that failed must not be waited for

    async def _read(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.kafka, fetch_max_wait_ms=500, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(str(Topic.CASES), p) for p in range(partitions_for(Topic.CASES))]
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for tp in partitions:
                await consumer.position(tp)
            self.ready.set()
            while not self.halt.is_set():
                for records in (await consumer.getmany(timeout_ms=50)).values():
                    now = time.perf_counter()
                    for record in records:
                        event = json.loads(record.value)
                        if event["event_type"] == "case.opened":
                            self.opened.setdefault(event["reference"], now)
                            self.sizes.append(len(record.value))
        finally:
            await consumer.stop()


# -- the bursts ----------------------------------------------------------------------------------


def a_mail(n: int) -> tuple[str, bytes]:
    mail = EmailMessage()
    mailbox = MAILBOXES[n % len(MAILBOXES)]
    mail["From"] = f"Tenant {n} <tenant.{n}@example.org>"
    mail["To"] = f"{mailbox}@hexagon.org.uk"
    mail["Subject"] = random.choice(("Repair needed", "Question", "Problem at my flat", "Please help"))
    mail["Message-ID"] = f"<bench-{n}-{time.time_ns()}@example.org>"
    text = random.choice(MAIL_TEXTS)
    mail.set_content(f"{text}\n\nThanks,\nTenant {n}\nFlat {n % 90 + 1}, Anerley Road, SE20 8AA\n")
    if n % 3 == 0:
        mail.add_alternative(f"<html><body><p>{text}</p><p>Thanks,<br>Tenant {n}</p></body></html>", subtype="html")
    return mail["To"], mail.as_bytes()


async def mail_burst(intake: Intake, count: int, connections: int) -> tuple[dict[str, float], float]:
    accepted: dict[str, float] = {}
    mails = [a_mail(n) for n in range(count)]

    async def connection(share: list[tuple[str, bytes]]) -> None:
        async with aiosmtplib.SMTP(hostname=HOST, port=intake.smtp_port, timeout=60) as smtp:
            for n, (to, raw) in enumerate(share):
                _, reply = await smtp.sendmail(f"tenant.{n}@example.org", [to], raw)
                accepted[reply.rsplit(" ", 1)[-1]] = time.perf_counter()

    started = time.perf_counter()
    await asyncio.gather(*(connection(mails[i::connections]) for i in range(connections)))
    return accepted, time.perf_counter() - started


def a_form(n: int) -> tuple[str, dict[str, str]]:
    tenant = {"name": f"Tenant {n}", "email": f"tenant.{n}@example.org", "phone": "07700 900123"}
    home = {"address": f"Flat {n % 90 + 1}, Anerley Road", "postcode": "SE20 8AA"}
    text = random.choice(MAIL_TEXTS)
    return random.choice((
        ("repair", {**tenant, **home, "location": "Kitchen", "description": text}),
        ("enquiry", {**tenant, "subject": "A question", "message": text}),
        ("complaint", {**tenant, "details": text, "outcome": "An apology and a date"}),
    ))


async def form_burst(intake: Intake, count: int, connections: int) -> tuple[dict[str, float], float]:
    accepted: dict[str, float] = {}
    forms = [a_form(n) for n in range(count)]
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async with httpx.AsyncClient(base_url=f"http://{HOST}:{intake.http_port}", limits=limits, timeout=60) as client:

        async def worker(share: list[tuple[str, dict[str, str]]]) -> None:
            for name, answers in share:
                response = await client.post(f"/forms/{name}", json=answers)
                response.raise_for_status()
                accepted[response.json()["reference"]] = time.perf_counter()

        started = time.perf_counter()
        await asyncio.gather(*(worker(forms[i::connections]) for i in range(connections)))
        return accepted, time.perf_counter() - started


async def raw_publish_rate(kafka: str, count: int, size: int) -> float:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        if RAW_TOPIC not in await admin.list_topics():
            await admin.create_topics([NewTopic(RAW_TOPIC, partitions_for(Topic.CASES), 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        payload = b"x" * size
        # Every partition has its leader before the clock starts.
        await asyncio.gather(*[await producer.send(RAW_TOPIC, payload, partition=p) for p in range(partitions_for(Topic.CASES))])
        started = time.perf_counter()
        sent = [await producer.send(RAW_TOPIC, payload, key=str(n % 64).encode()) for n in range(count)]
        await asyncio.gather(*sent)
        return count / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def wait_for(watcher: Watcher, references: set[str], cap: float = 120) -> None:
    deadline = time.monotonic() + cap
    while not references <= watcher.opened.keys() and time.monotonic() < deadline and watcher.is_alive():
        await asyncio.sleep(0.05)


# -- the run ---------------------------------------------------------------------------------------


def latencies(accepted: dict[str, float], opened: dict[str, float]) -> list[float]:
    return [max(0.0, opened[r] - at) * 1000 for r, at in accepted.items() if r in opened]


async def run(args: argparse.Namespace, kafka: str, workdir: Path) -> list[Figure]:
    intake = Intake(workdir, kafka)
    intake.start()
    cpu = Cpu(intake, None if args.bootstrap else broker_pid(workdir / "var"))
    watcher = Watcher(kafka)
    watcher.start()
    watcher.ready.wait(60)
    try:
        before = cpu.now()
        await asyncio.sleep(IDLE_SECONDS)
        idle = cpu.used(before, cpu.now())
        say(f"idle for {IDLE_SECONDS:.0f} s before the bursts (watcher reading): CPU seconds intake {idle[0]:.2f}, "
            f"client {idle[1]:.2f}, broker {idle[2]:.2f}")
        before = cpu.now()
        if args.profile:
            spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw", *os.environ.get("BENCH_PYSPY", "").split(),
                                    "-o", str(args.profile), "-p", str(intake.child.pid)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        mails, mail_seconds = await mail_burst(intake, args.mails, args.connections)
        mail_cpu = cpu.used(before, cpu.now())
        await wait_for(watcher, set(mails))
        before = cpu.now()
        forms, form_seconds = await form_burst(intake, args.forms, args.connections)
        form_cpu = cpu.used(before, cpu.now())
        await wait_for(watcher, set(forms))
    finally:
        watcher.halt.set()
        if os.environ.get("BENCH_THREADS"):
            for task in sorted(Path(f"/proc/{intake.child.pid}/task").iterdir()):
                say(f"thread {task.name}: {process_cpu_of(task / 'stat'):.1f} s")
        intake.stop()
        if args.profile:
            spy.wait(30)
    watcher.join(10)
    size = round(sum(watcher.sizes) / max(1, len(watcher.sizes)))
    raw = await raw_publish_rate(kafka, args.mails + args.forms, size)

    figures = []
    for label, accepted, seconds, (intake_cpu, client_cpu, broker_cpu), target in (
        ("mails", mails, mail_seconds, mail_cpu, TARGETS["mails"]),
        ("forms", forms, form_seconds, form_cpu, TARGETS["forms"]),
    ):
        rate = len(accepted) / max(seconds, 1e-9)
        waits = latencies(accepted, watcher.opened)
        missing = len(accepted) - len(waits)
        say(f"{label}: {len(accepted)} accepted in {seconds:.2f} s on {args.connections} connections "
            f"(CPU seconds: intake {intake_cpu:.1f}, client {client_cpu:.1f}, broker {broker_cpu:.1f}); "
            f"{missing} never seen on Kafka")
        p99 = percentile(waits, 99)
        per_item = 1000 / max(1, len(accepted))
        figures += [
            Figure(f"{label} accepted per second", f"{rate:,.0f}/s", f">= {target:,.0f}/s", rate >= target,
                   rate=rate, record_bytes=size, compare_with="produce"),
            Figure(f"{label}: accepted to case.opened p50 / p99 / max",
                   f"{percentile(waits, 50):.0f} / {p99:.0f} / {percentile(waits, 100):.0f} ms",
                   f"p99 < {TARGETS['p99_ms']:.0f} ms", p99 < TARGETS["p99_ms"] and not missing),
            Figure(f"{label} intake CPU per item", f"{intake_cpu * per_item:.1f} ms"),
            Figure(f"{label} client / broker CPU per item",
                   f"{client_cpu * per_item:.1f} / {broker_cpu * per_item:.1f} ms"),
            Figure(f"{label} rate / raw aiokafka publish (same run)", f"{rate / raw:.1%}"),
        ]
    figures.append(Figure(f"raw aiokafka publish, {size} B records (same run)", f"{raw:,.0f}/s"))
    return figures


def _met(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "NO"


def main() -> None:
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # leaders settling on new topics, retried
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=3000)
    parser.add_argument("--forms", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--profile", type=Path, help="record intake with py-spy (if installed) into this file")
    add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.mails, args.forms = min(args.mails, 300), min(args.forms, 500)
    say(machine())
    with tempfile.TemporaryDirectory(prefix="doorstep-bench-intake-") as tmp:
        workdir = Path(tmp)
        kafka = args.bootstrap or f"{HOST}:{PORT}"
        if not args.bootstrap:
            broker("up", workdir / "var")
        try:
            say(f"broker: {kafka}; intake: one process over SQLite in {workdir}")
            figures = asyncio.run(run(args, kafka, workdir))
        finally:
            if not args.bootstrap:
                broker("down", workdir / "var")
    say(f"\nintake, one process, {args.mails} mails and {args.forms} forms, {args.connections} connections each")
    say(f"  {'figure':<52}{'value':>22}{'target':>16}  met")
    for figure in figures:
        say(f"  {figure.name:<52}{figure.value:>22}{figure.target:>16}  {_met(figure.met)}")
    write(args.figures, figures)


if __name__ == "__main__":
    main()
