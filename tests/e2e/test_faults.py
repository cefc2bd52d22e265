"""Faults survived: with the four services as processes on a broker and a PostgreSQL of
their own, cases stream in by SMTP, web form and letters logged by staff (back-dated, so
each must breach) while each service is killed with SIGKILL and started again, the broker
is restarted, and the database is stopped for a while. Afterwards every case, clock,
notification and breach is counted from Kafka, HTTP and the mail the notifier sent; the
counts are printed and asserted."""

import asyncio
import os
import socket
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.topics import Topic
from tests.e2e.faults import MailRecorder, PrivateBroker, PrivateDatabase, Services, services_on
from tests.e2e.system import BASE_PORT, tail_log
from tests.e2e.tenants import Tenants
from tests.kafka_reader import Seen, TopicReader

pytestmark = pytest.mark.kafka

TEST_KAFKA_PORT = int(os.environ.get("DOORSTEP_TEST_KAFKA_PORT", "19092"))
BROKER_PORT = int(os.environ.get("DOORSTEP_FAULTS_KAFKA_PORT", str(TEST_KAFKA_PORT + 20)))
DATABASE_PORT = int(os.environ.get("DOORSTEP_FAULTS_POSTGRES_PORT", str(int(os.environ.get("POSTGRES_PORT", "55432")) + 20)))
MAIL_PORT = BASE_PORT + 30
SETTLE = 240.0  # seconds for everything in flight to be handled after the last fault
DEAD_LETTERS = (Topic.DLQ_INTAKE, Topic.DLQ_SCHEDULER, Topic.DLQ_NOTIFIER, Topic.DLQ_SLA_MONITOR)


def free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


async def fresh_databases(database: PrivateDatabase) -> None:
    connection = await asyncpg.connect(database.admin_url().replace("+asyncpg", ""))
    try:
        for name in ("intake", "scheduler", "notifier", "sla_monitor"):
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.fixture
def world(tmp_path: Path):
    for port in (BROKER_PORT, BROKER_PORT + 1, DATABASE_PORT, MAIL_PORT):
        assert free(port), f"port {port} is taken; set DOORSTEP_FAULTS_KAFKA_PORT / _POSTGRES_PORT"
    broker = PrivateBroker(tmp_path / "var", BROKER_PORT)
    database = PrivateDatabase(tmp_path / "var", DATABASE_PORT)
    broker.up()
    database.up()
    asyncio.run(fresh_databases(database))
    with MailRecorder(MAIL_PORT) as mail:
        services = services_on(broker, database, mail, tmp_path / "system")
        try:
            services.start("intake", "scheduler", "notifier", "sla_monitor")
            yield broker, database, mail, services
        finally:
            services.stop()
            database.up()  # in case the test stopped while it was away
            database.down()
            broker.down()


# Cases sent just before the database is taken away: their acknowledgements may be with the
# mail relay when the notifier cannot yet record them as sent.
IN_FLIGHT_AT_OUTAGE = 4


def the_faults(broker: PrivateBroker, database: PrivateDatabase, services: Services, tenants: Tenants) -> list[str]:
    """The stream, with each fault in the middle of it; what was done, in order."""
    done = []
    tenants.burst(6)
    for name in ("scheduler", "notifier", "sla_monitor"):
        tenants.burst(4)
        services.kill(name)
        tenants.burst(4)
        services.start(name)
        done.append(f"kill -9 {name}, 4 cases while it was down, started again")
    tenants.burst(4)
    services.kill("intake")
    services.start("intake")
    done.append("kill -9 intake straight after a burst, started again")
    tenants.burst(4)
    broker.down()
    tenants.burst(4)
    broker.up()
    done.append("broker stopped, 4 cases taken while it was down, started again")
    tenants.burst(IN_FLIGHT_AT_OUTAGE)
    database.down()
    while_away = threading.Thread(target=tenants.burst, args=(4,))
    while_away.start()
    time.sleep(12)
    database.up()
    while_away.join()
    done.append("PostgreSQL stopped for 12 s while 4 cases were sent, started again")
    tenants.burst(4)
    return done


async def read_all(bootstrap: str, *topics: str) -> list[Seen]:
    """Every record on the topics, from the start, until two quiet seconds."""
    async with TopicReader(bootstrap, *topics) as reader:
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 2:
            if await reader.poll(500):
                quiet_since = time.monotonic()
        return reader.seen


def by_type(records: list[Seen], event_type: str) -> list[dict]:
    out = []
    for record in records:
        try:
            event = record.json()
        except ValueError:
            continue
        if event.get("event_type") == event_type:
            out.append(event)
    return out


def distinct(events: list[dict]) -> list[dict]:
    return list({e["event_id"]: e for e in events}.values())


@dataclass
class Tally:
    """What came out of the stream, counted."""

    opened: dict[str, set[str]]  # reference -> distinct case ids
    signature: dict[str, tuple]  # case id -> what its case.opened says that decides its clocks
    opened_records: int
    opened_events: int
    acknowledged: dict[str, int]  # tenant email -> distinct notification.sent for it
    failed: int
    emails: Counter[str]  # Message-ID -> copies received by the relay
    email_to: dict[str, str]  # Message-ID -> recipient
    clocks: dict[str, list[dict]]  # case id -> its clocks
    breaches: dict[tuple[str, str, str], set[str]]  # (subject, clock, clock id) -> event ids
    breach_records: int
    dead_letters: int
    bookings: Counter[str]  # case id -> rows in the scheduler's repairs to book

    def repairs(self) -> set[str]:
        return {case_id for case_id, (_, _, kind, _, _) in self.signature.items() if kind == "repair_request"}


def tally(bootstrap: str, system, tenants: Tenants, mail: MailRecorder) -> Tally:  # type: ignore[no-untyped-def]
    cases = asyncio.run(read_all(bootstrap, Topic.CASES))
    requests = asyncio.run(read_all(bootstrap, Topic.NOTIFICATIONS_REQUESTED))
    outcomes = asyncio.run(read_all(bootstrap, Topic.NOTIFICATIONS_OUTCOMES))
    breaches = asyncio.run(read_all(bootstrap, Topic.SLA_BREACHES))
    dead = asyncio.run(read_all(bootstrap, *DEAD_LETTERS))
    opened_all = by_type(cases, "case.opened")
    opened: dict[str, set[str]] = defaultdict(set)
    for event in opened_all:
        opened[event["reference"]].add(event["case_id"])
    recipient_of = {e["idempotency_key"]: e["recipient"].get("email") for e in by_type(requests, "notification.requested")}
    acknowledged: Counter[str] = Counter(recipient_of.get(e["idempotency_key"]) for e in distinct(by_type(outcomes, "notification.sent")))
    with httpx.Client(timeout=10) as client:
        clocks = {
            case_id: client.get(system.url("sla_monitor", "/clocks"), params={"subject_id": case_id}).json()
            for case_id in {c for ids in opened.values() for c in ids}
        }
        bookings = Counter(b["case_id"] for b in client.get(system.url("scheduler", "/bookings-to-make")).json())
    breached: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for event in by_type(breaches, "sla.breached"):
        breached[(event["subject_id"], event["clock"], event["clock_id"])].add(event["event_id"])
    return Tally(
        opened=dict(opened),
        signature={e["case_id"]: (e["channel"], e["mailbox"], e["kind"], e["priority"], tuple(e["flags"])) for e in opened_all},
        opened_records=len(opened_all), opened_events=len(distinct(opened_all)),
        acknowledged=dict(acknowledged), failed=len(distinct(by_type(outcomes, "notification.failed"))),
        emails=Counter(m.message_id for m in mail.received), email_to={m.message_id: m.to[0] for m in mail.received},
        clocks=clocks, breaches=dict(breached), breach_records=len(by_type(breaches, "sla.breached")),
        dead_letters=len(dead), bookings=bookings,
    )


def settled(bootstrap: str, system, tenants: Tenants, mail: MailRecorder) -> Tally:  # type: ignore[no-untyped-def]
    """Counts once everything sent has come out the other end (or SETTLE has passed)."""
    wanted_refs = {s.reference for s in tenants.sent}
    wanted_acks = {s.tenant_email for s in tenants.sent if s.tenant_email}
    letters = {s.reference for s in tenants.sent if s.kind == "letter"}
    deadline = time.monotonic() + SETTLE
    while True:
        counted = tally(bootstrap, system, tenants, mail)
        breached_refs = {ref for ref, ids in counted.opened.items() for k in counted.breaches if k[0] in ids}
        done = (
            wanted_refs <= set(counted.opened)
            and wanted_acks <= set(counted.acknowledged)
            and wanted_acks <= set(counted.email_to.values())
            and letters <= breached_refs
            and all(counted.clocks.values())
            and counted.repairs() <= set(counted.bookings)
        )
        if done or time.monotonic() > deadline:
            return counted
        time.sleep(3)


def report(counted: Tally, tenants: Tenants, services: Services, faults: list[str]) -> str:
    copies = Counter(counted.emails.values())
    clocks = sum(len(c) for c in counted.clocks.values())
    lines = [
        "faults, in the order done: " + "; ".join(faults),
        f"cases sent: {len(tenants.sent)} ({', '.join(f'{n} {k}' for k, n in Counter(s.kind for s in tenants.sent).items())})",
        f"refused and tried again by the sender: {dict(tenants.refusals) or 'none'}",
        f"case.opened: {len(counted.opened)} references, {counted.opened_events} distinct events, "
        f"{counted.opened_records} records (the surplus is redelivery of the same event)",
        f"clocks: {clocks} on {sum(1 for c in counted.clocks.values() if c)} of {len(counted.clocks)} cases",
        f"acknowledgements: {sum(counted.acknowledged.values())} notification.sent for "
        f"{len(counted.acknowledged)} tenants; {counted.failed} notification.failed",
        f"emails at the relay: {sum(counted.emails.values())} for {len(counted.emails)} Message-IDs; "
        f"copies per Message-ID: {dict(sorted(copies.items()))}",
        f"breaches: {len(counted.breaches)} clocks breached, "
        f"{sum(len(ids) for ids in counted.breaches.values())} distinct events, {counted.breach_records} records",
        f"repairs to book at the scheduler: {sum(counted.bookings.values())} for {len(counted.repairs())} repair cases",
        f"dead letters: {counted.dead_letters}",
        f"kills: {services.kills}",
    ]
    return "\n".join(lines)


@pytest.mark.timeout(900)
def test_every_case_clock_notification_and_breach_is_accounted_for_after_the_faults(world, capsys):
    broker, database, mail, services = world
    tenants = Tenants(services)
    try:
        faults = the_faults(broker, database, services, tenants)
        counted = settled(broker.bootstrap, services.system, tenants, mail)
    except Exception:
        print("\n".join(tail_log(services.system, name) for name in services.children))
        raise
    summary = report(counted, tenants, services, faults)
    with capsys.disabled():
        print("\n" + summary)
    assert services.running() == {name: True for name in services.children}, summary

    # Every case opened once: one case id and one distinct event per reference, none unasked for.
    sent = {s.reference: s for s in tenants.sent}
    assert len(sent) == len(tenants.sent), "two submissions were given the same reference"
    assert set(counted.opened) == set(sent), summary
    assert all(len(ids) == 1 for ids in counted.opened.values()), summary
    assert counted.opened_events == len(sent), summary

    # Every case has its clocks, each once, and the same clocks as every case like it (a
    # clock lost to a fault would leave one case short of its peers).
    peers: dict[tuple, set[frozenset]] = defaultdict(set)
    for case_id, clocks in counted.clocks.items():
        assert clocks, f"case {case_id} has no clock\n{summary}"
        kinds = Counter((c["definition"], c["standard"], c["instance"]) for c in clocks)
        assert max(kinds.values()) == 1, f"a clock of {case_id} is there twice: {kinds}"
        peers[counted.signature[case_id]].add(frozenset((c["definition"], c["standard"]) for c in clocks))
    assert all(len(sets) == 1 for sets in peers.values()), peers

    # Every repair is waiting for its booking at the scheduler, once.
    assert set(counted.bookings) == counted.repairs() and set(counted.bookings.values()) == {1}, summary

    # Every acknowledgement sent, to the right tenant, once (the notifier's one window: a
    # message the relay took but the notifier was killed before recording as sent goes
    # again, with the same Message-ID; a database away for 12 s is waited for).
    wanted = {s.tenant_email for s in tenants.sent if s.tenant_email}
    assert set(counted.acknowledged) == wanted and set(counted.acknowledged.values()) == {1}, summary
    assert counted.failed == 0, summary
    assert set(counted.email_to.values()) == wanted, summary
    doubled = sum(n - 1 for n in counted.emails.values())
    assert doubled <= services.kills.get("notifier", 0), summary
    assert max(counted.emails.values()) <= 2, summary

    # Every breach due, and no other, each declared once; every clock past its deadline is breached.
    letters = {next(iter(counted.opened[s.reference])) for s in tenants.sent if s.kind == "letter"}
    assert {subject for subject, _, _ in counted.breaches} == letters, summary
    assert all(len(ids) == 1 for ids in counted.breaches.values()), summary
    assert all(any(k[0] == case and k[1] == "letter_reply" for k in counted.breaches) for case in letters), summary
    now = datetime.now(UTC)
    overdue = [
        (case_id, c["definition"]) for case_id, clocks in counted.clocks.items() for c in clocks
        if c["state"] == "running" and datetime.fromisoformat(c["deadline"]) < now - timedelta(seconds=5)
    ]
    assert not overdue, f"past their deadline and not breached: {overdue}"
    breached_clocks = sum(1 for clocks in counted.clocks.values() for c in clocks if c["state"] == "breached")
    assert breached_clocks == len(counted.breaches), summary

    # Nothing valid was dead-lettered because a service, the broker or the database was away.
    assert counted.dead_letters == 0, summary
