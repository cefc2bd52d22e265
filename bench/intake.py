"""Intake under a burst: mails over SMTP on several connections, then web forms over HTTP,
against a running intake process on a local broker.

  .venv/bin/python bench/intake.py [--mails N] [--forms N] [--connections N] [--form-connections N] [--form-rate N]
                                   [--bootstrap HOST:PORT] [--figures FILE] [--quick] [--profile FILE]

Mails come on 8 connections and forms on 64 unless told otherwise. A mail relay brings a
few connections; a thousand forms a second come from as many tenants' browsers, each its
own connection, so 64 at once is a modest number of them. More connections mean larger
group commits and relay batches, so less CPU per item (bench/README.md has figures from 8
to 128 connections). With --form-rate N the forms are sent at N a second whatever
the replies, as many tenants' browsers would send them, on as many connections as that
needs; each form's time from when it was due to its reply is reported too, and it, not
the accepted rate (which cannot pass the sending rate), says whether intake kept up: met
when N is at least the target's 1,000 and the p99 is under 250 ms.

It starts a broker of its own (127.0.0.1:39392, or BENCH_KAFKA_PORT) in a temp directory
unless --bootstrap names one (bench/run_all.py's convention), then one intake process over
SQLite, and prints:
  - accepted per second: mails (the 250 to DATA) and forms (the 201), each burst timed alone;
  - latency from "accepted" (that reply, as the sender sees it) to the case.opened
    readable on doorstep.cases (a consumer in a thread of its own), p50 / p99 / max;
  - the CPU seconds per item of intake, of this client and of the broker, which share the
    machine's cores (and the broker's CPU over 5 idle seconds before the bursts);
  - in the same run, raw aiokafka publishing records of the same size (acks=all,
    idempotent, as the services' producers), and intake's rate as a share of it.
The clients speak SMTP and HTTP/1.1 over asyncio streams themselves, with every mail and
request encoded before the clock starts, so they cost intake's cores little.
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

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.figures import Figure, add_arguments, write  # noqa: E402
from services.cli import processes  # noqa: E402
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
    """Intake started as `doorstep run` starts it (services.cli.processes)."""

    def __init__(self, workdir: Path, kafka: str) -> None:
        self.http_port, self.smtp_port = free_port(), free_port()
        self.log = workdir / "intake.log"
        self.env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka, "INTAKE_LOG_LEVEL": "WARNING",
                    "INTAKE_HTTP_PORT": str(self.http_port), "INTAKE_SMTP_PORT": str(self.smtp_port),
                    "INTAKE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'intake.db'}"}

    def start(self) -> None:
        self.child = processes.start("intake", self.env, self.log.open("wb"))
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
        processes.stop_all({"intake": self.child}, grace=30)


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


# The clients below speak SMTP and HTTP/1.1 themselves over asyncio streams, with every
# command and request encoded before the clock starts: on 2 cores shared with intake and
# the broker, aiosmtplib and httpx cost about as much CPU per item as intake itself.


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    """One SMTP reply, all its lines; the last starts with the code and a space."""
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("the SMTP server closed the connection")
        lines.append(line)
        if line[3:4] != b"-":
            return b"".join(lines)


def smtp_commands(n: int, to: str, raw: bytes) -> tuple[bytes, bytes, bytes]:
    """MAIL and RCPT, DATA, and the message with CRLF line ends, dot-stuffed, ended."""
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    body = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines)
    envelope = f"MAIL FROM:<tenant.{n}@example.org>\r\nRCPT TO:<{to}>\r\n".encode()
    return envelope, b"DATA\r\n", body.rstrip(b"\r\n") + b"\r\n.\r\n"


def expect(reply: bytes, code: bytes) -> bytes:
    if not reply.startswith(code):
        raise RuntimeError(f"SMTP: expected {code.decode()}, got {reply[:80]!r}")
    return reply


async def mail_burst(
    intake: Intake, mails: list[tuple[bytes, bytes, bytes]], connections: int
) -> tuple[dict[str, float], float]:
    accepted: dict[str, float] = {}

    async def connection(share: list[tuple[bytes, bytes, bytes]]) -> None:
        reader, writer = await asyncio.open_connection(HOST, intake.smtp_port)
        expect(await read_reply(reader), b"220")
        writer.write(b"EHLO bench.example.org\r\n")
        expect(await read_reply(reader), b"250")
        for envelope, data, message in share:
            writer.write(envelope)
            expect(await read_reply(reader), b"250")
            expect(await read_reply(reader), b"250")
            writer.write(data)
            expect(await read_reply(reader), b"354")
            writer.write(message)
            reply = expect(await read_reply(reader), b"250")
            accepted[reply.rstrip().rsplit(b" ", 1)[-1].decode()] = time.perf_counter()
        writer.write(b"QUIT\r\n")
        await read_reply(reader)
        writer.close()

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


def form_request(name: str, answers: dict[str, str]) -> bytes:
    body = json.dumps(answers).encode()
    head = (f"POST /forms/{name} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """An HTTP/1.1 response with a Content-Length (uvicorn's JSON responses have one)."""
    status = int((await reader.readline()).split(b" ", 2)[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def form_burst(intake: Intake, forms: list[bytes], connections: int) -> tuple[dict[str, float], float]:
    accepted: dict[str, float] = {}

    async def connection(share: list[bytes]) -> None:
        reader, writer = await asyncio.open_connection(HOST, intake.http_port)
        for request in share:
            writer.write(request)
            status, body = await read_response(reader)
            if status != 201:
                raise RuntimeError(f"form refused: {status} {body[:200]!r}")
            accepted[json.loads(body)["reference"]] = time.perf_counter()
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection(forms[i::connections]) for i in range(connections)))
    return accepted, time.perf_counter() - started


async def form_stream(intake: Intake, forms: list[bytes], rate: int) -> tuple[dict[str, float], float, list[float]]:
    """Forms sent at `rate` a second whatever the replies, as many tenants' browsers send
    them: each goes at its time on an idle connection, or a new one if none is idle.
    Returns when each was accepted, the seconds from the first sent to the last accepted,
    and each form's time from when it was due to be sent to its reply (a reply that keeps
    the next form waiting counts against both)."""
    accepted: dict[str, float] = {}
    answered: list[float] = []
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened: list[asyncio.StreamWriter] = []

    async def send(request: bytes, due: float) -> None:
        if idle:
            reader, writer = idle.pop()
        else:
            reader, writer = await asyncio.open_connection(HOST, intake.http_port)
            opened.append(writer)
        writer.write(request)
        status, body = await read_response(reader)
        if status != 201:
            raise RuntimeError(f"form refused: {status} {body[:200]!r}")
        now = time.perf_counter()
        accepted[json.loads(body)["reference"]] = now
        answered.append(now - due)
        idle.append((reader, writer))

    started = time.perf_counter()
    sending = []
    for n, request in enumerate(forms):
        due = started + n / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        sending.append(asyncio.create_task(send(request, due)))
    await asyncio.gather(*sending)
    seconds = time.perf_counter() - started
    for writer in opened:
        writer.close()
    say(f"forms at {rate}/s: {len(opened)} connections opened")
    return accepted, seconds, answered


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
        mails = [smtp_commands(n, *a_mail(n)) for n in range(args.mails)]
        forms = [form_request(*a_form(n)) for n in range(args.forms)]
        before = cpu.now()
        if args.profile:
            # BENCH_PYSPY adds py-spy options, e.g. "--native" for the C frames too.
            spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
                                    *os.environ.get("BENCH_PYSPY", "").split(),
                                    "-o", str(args.profile), "-p", str(intake.child.pid)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        mails, mail_seconds = await mail_burst(intake, mails, args.connections)
        mail_cpu = cpu.used(before, cpu.now())
        await wait_for(watcher, set(mails))
        before = cpu.now()
        if args.form_rate:
            forms, form_seconds, answered = await form_stream(intake, forms, args.form_rate)
        else:
            forms, form_seconds = await form_burst(intake, forms, args.form_connections)
        form_cpu = cpu.used(before, cpu.now())
        await wait_for(watcher, set(forms))
    finally:
        watcher.halt.set()
        intake.stop()
        if args.profile:
            spy.wait(30)
    watcher.join(10)
    size = round(sum(watcher.sizes) / max(1, len(watcher.sizes)))
    raw = await raw_publish_rate(kafka, args.mails + args.forms, size)

    figures = []
    for label, accepted, seconds, (intake_cpu, client_cpu, broker_cpu), target, load in (
        ("mails", mails, mail_seconds, mail_cpu, TARGETS["mails"], f"on {args.connections} connections"),
        ("forms", forms, form_seconds, form_cpu, TARGETS["forms"], form_load(args)),
    ):
        rate = len(accepted) / max(seconds, 1e-9)
        waits = latencies(accepted, watcher.opened)
        missing = len(accepted) - len(waits)
        say(f"{label}: {len(accepted)} accepted in {seconds:.2f} s {load} "
            f"(CPU seconds: intake {intake_cpu:.1f}, client {client_cpu:.1f}, broker {broker_cpu:.1f}); "
            f"{missing} never seen on Kafka")
        p99 = percentile(waits, 99)
        per_item = 1000 / max(1, len(accepted))
        # Forms sent at a fixed rate can be accepted no faster than they are sent: whether
        # intake kept up is judged by the time from each form's due moment to its reply.
        judged = not (label == "forms" and args.form_rate)
        figures += [
            Figure(f"{label} accepted per second", f"{rate:,.0f}/s", f">= {target:,.0f}/s" if judged else "-",
                   rate >= target if judged else None, rate=rate, record_bytes=size, compare_with="produce"),
            Figure(f"{label}: accepted to case.opened p50 / p99 / max",
                   f"{percentile(waits, 50):.0f} / {p99:.0f} / {percentile(waits, 100):.0f} ms",
                   f"p99 < {TARGETS['p99_ms']:.0f} ms", p99 < TARGETS["p99_ms"] and not missing),
            Figure(f"{label} intake CPU per item", f"{intake_cpu * per_item:.1f} ms"),
            Figure(f"{label} client / broker CPU per item",
                   # The broker's is not known when it is not this run's own (--bootstrap).
                   f"{client_cpu * per_item:.1f} / "
                   f"{'-' if math.isnan(broker_cpu) else f'{broker_cpu * per_item:.1f}'} ms"),
            Figure(f"{label} rate / raw aiokafka publish (same run)", f"{rate / raw:.1%}"),
        ]
    if args.form_rate:
        answered_p99 = percentile(answered, 99) * 1000
        fast_enough = args.form_rate >= TARGETS["forms"]
        figures.append(Figure(f"forms sent at {args.form_rate:,}/s: due to answered p50 / p99",
                              f"{percentile(answered, 50) * 1000:.0f} / {answered_p99:.0f} ms",
                              f"p99 < {TARGETS['p99_ms']:.0f} ms" if fast_enough else f">= {TARGETS['forms']:,.0f}/s",
                              fast_enough and answered_p99 < TARGETS["p99_ms"]))
    figures.append(Figure(f"raw aiokafka publish, {size} B records (same run)", f"{raw:,.0f}/s"))
    return figures


def form_load(args: argparse.Namespace) -> str:
    return f"sent at {args.form_rate:,}/s" if args.form_rate else f"on {args.form_connections} connections"


def _met(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "NO"


def main() -> None:
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # leaders settling on new topics, retried
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=3000)
    parser.add_argument("--forms", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8, help="SMTP connections for the mails")
    parser.add_argument("--form-connections", type=int, default=64, help="HTTP connections for the forms")
    parser.add_argument("--form-rate", type=int, default=0,
                        help="send the forms at this many a second, on as many connections as that needs")
    parser.add_argument("--profile", type=Path, help="record intake with py-spy (if installed) into this file")
    add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.mails, args.forms = min(args.mails, 300), min(args.forms, 500)
    if args.profile and not (Path(sys.executable).parent / "py-spy").exists():
        parser.error("--profile needs py-spy in this virtualenv (.venv/bin/pip install py-spy)")
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
    say(f"\nintake, one process, {args.mails} mails on {args.connections} connections, "
        f"{args.forms} forms {form_load(args)}")
    say(f"  {'figure':<52}{'value':>22}{'target':>16}  met")
    for figure in figures:
        say(f"  {figure.name:<52}{figure.value:>22}{figure.target:>16}  {_met(figure.met)}")
    write(args.figures, figures)


if __name__ == "__main__":
    main()
