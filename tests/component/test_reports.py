"""`GET /v1/reports/{period}` over the monitor's database: facts recorded through
`record`, clock rows as the monitor leaves them, every figure checked against numbers
worked out by hand. The app is a bare FastAPI with only the report routes (no lifespan)."""

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from shared.events import Event
from shared.events.appointments import AppointmentCompleted, AppointmentKind
from shared.events.cases import CaseKind, CaseOpened, CaseReplied, Channel, ComplaintEscalated, Priority
from shared.events.compliance import CertificateKind, CertificateRecorded
from shared.events.feedback import Aspect, SurveyAnswered, WorksInspected
from shared.events.finance import CreditReason, RentCreditDue
from shared.service import Runtime
from services.sla_monitor.adapters.tables import clocks
from services.sla_monitor.reporting import facts
from services.sla_monitor.reporting.facts import record
from services.sla_monitor.reporting.http import add_report_routes

HOMES = 500


def at(month: int, day: int, hour: int = 9, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def case(case_id: str, **fields: Any) -> dict[str, Any]:
    return {"correlation_id": case_id, "case_id": case_id, "reference": f"HX-{case_id.upper():0>8}", **fields}


def opened(case_id: str, kind: CaseKind, received_at: datetime, priority: Priority | None = None) -> CaseOpened:
    return CaseOpened(
        channel=Channel.PHONE, kind=kind, priority=priority, received_at=received_at, **case(case_id)
    )


def repaired(case_id: str, appointment_id: str, completed_at: datetime, fixed: bool = True) -> AppointmentCompleted:
    return AppointmentCompleted(
        appointment_id=appointment_id,
        kind=AppointmentKind.REPAIR,
        completed_at=completed_at,
        fixed_first_time=fixed,
        **case(case_id),
    )


def gas_check(property_id: str, checked_on: date, kind: CertificateKind = CertificateKind.GAS_SAFETY) -> CertificateRecorded:
    return CertificateRecorded(
        correlation_id=property_id,
        property_id=property_id,
        property_reference=f"{property_id} Example Road",
        kind=kind,
        checked_on=checked_on,
        recorded_at=datetime.combine(checked_on, datetime.min.time(), UTC),
    )


C1_OPENED = opened("c1", CaseKind.COMPLAINT, at(7, 2))

EVENTS: list[Event] = [
    C1_OPENED,
    C1_OPENED,  # redelivered
    opened("c2", CaseKind.COMPLAINT, at(9, 10)),
    opened("c3", CaseKind.COMPLAINT, datetime(2026, 6, 30, 22, 30, tzinfo=UTC)),  # 23:30 BST 30 June: Q2
    ComplaintEscalated(escalated_at=at(8, 20), **case("c1")),
    opened("a1", CaseKind.ANTI_SOCIAL_BEHAVIOUR, at(7, 3)),
    opened("a2", CaseKind.ANTI_SOCIAL_BEHAVIOUR, at(8, 3)),
    opened("a3", CaseKind.ANTI_SOCIAL_BEHAVIOUR, at(10, 5)),  # Q4
    opened("r1", CaseKind.REPAIR_REQUEST, at(7, 1), Priority.EMERGENCY),
    opened("r2", CaseKind.REPAIR_REQUEST, at(7, 5), Priority.ROUTINE),
    repaired("r1", "ap1", at(7, 2)),  # 1 day, fixed at the first visit
    repaired("r2", "ap2", at(7, 10), fixed=False),
    repaired("r2", "ap3", at(7, 20)),  # 15 days, two visits
    AppointmentCompleted(
        appointment_id="ap4", kind=AppointmentKind.INSPECTION, completed_at=at(7, 8), **case("r2")
    ),  # an inspection visit is not a repair
    gas_check("p1", date(2025, 10, 15)),  # in date on 30 September
    gas_check("p2", date(2025, 9, 29)),  # lapsed on 30 September
    gas_check("p3", date(2026, 1, 10), CertificateKind.ELECTRICAL_INSTALLATION),  # not gas
    RentCreditDue(
        appointment_id="ap2", amount_pence=1000, reason=CreditReason.MISSED_APPOINTMENT, due_at=at(7, 9), **case("r2")
    ),
    RentCreditDue(
        appointment_id="ap9", amount_pence=1000, reason=CreditReason.MISSED_APPOINTMENT, due_at=at(10, 9), **case("r9")
    ),
    WorksInspected(inspected_at=at(7, 25), high_value_or_complex=True, passed=True, **case("r1")),
    SurveyAnswered(
        answered_at=at(7, 3),
        scores={Aspect.OVERALL: 5, Aspect.QUALITY: 4, Aspect.SPEED_OF_REPAIR: 3},
        **case("r1"),
    ),
    SurveyAnswered(answered_at=at(7, 21), scores={Aspect.OVERALL: 2}, **case("r2")),
    CaseReplied(replied_at=at(7, 3), **case("c1")),  # no figure needs it
]


def clock_row(
    pack: str, definition: str, subject: str, deadline: datetime, state: str, **ended: datetime
) -> dict[str, Any]:
    return {
        "id": f"{pack}:{definition}:{subject}",
        "definition": definition,
        "standard": f"{pack}@2024-01-01",
        "obligation": "statutory" if pack == "statutory-england" else "internal",
        "name": definition.replace("_", " ").capitalize(),
        "source": "test",
        "subject_type": "case",
        "subject_id": subject,
        "reference": f"HX-{subject.upper():0>8}",
        "started_at": deadline - timedelta(days=10),
        "deadline": deadline,
        "state": state,
        "stopped_at": ended.get("stopped_at"),
        "breached_at": ended.get("breached_at"),
    }


CLOCKS = [
    clock_row("statutory-england", "complaint_stage1_response", "c1", at(7, 17), "met", stopped_at=at(7, 15)),
    clock_row("statutory-england", "complaint_stage1_response", "c2", at(9, 24, 16), "breached", breached_at=at(9, 24, 16)),
    clock_row("hexagon", "complaint_stage1_response", "c1", at(7, 16), "met", stopped_at=at(7, 20)),  # late
    clock_row("statutory-england", "complaint_stage2_response", "c1", at(9, 30), "met", stopped_at=at(9, 20)),
    clock_row("hexagon", "repair_completion_emergency", "r1", at(7, 2), "met", stopped_at=at(7, 2)),  # to the second
    clock_row("hexagon", "repair_completion_routine", "r2", at(8, 2), "met", stopped_at=at(7, 20)),
    clock_row("hexagon", "letter_reply", "c3", at(7, 14), "cancelled", stopped_at=at(7, 10)),
    clock_row("hexagon", "email_reply_repairs", "r2", at(7, 8), "running"),
]


@pytest.fixture
async def recorded(sla_monitor_runtime: Runtime) -> Runtime:
    for event in EVENTS:
        async with sla_monitor_runtime.sessions.begin() as session:
            await record(session, event)
    async with sla_monitor_runtime.sessions.begin() as session:
        await session.execute(clocks.insert(), CLOCKS)
    return sla_monitor_runtime


@pytest.fixture
async def client(recorded: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    settings = recorded.settings.model_copy(update={"homes": HOMES})
    app = FastAPI()
    add_report_routes(app, dataclasses.replace(recorded, settings=settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://monitor") as client:
        yield client


async def report_of(client: httpx.AsyncClient, period: str) -> dict[str, Any]:
    response = await client.get(f"/v1/reports/{period}")
    assert response.status_code == 200, response.text
    return response.json()


def share(count: int, out_of: int, percent: float | None, tsm: str | None = None) -> dict[str, Any]:
    return {"count": count, "out_of": out_of, "percent": percent, "tsm": tsm}


async def test_every_figure_of_the_quarter(client: httpx.AsyncClient):
    report = await report_of(client, "2026Q3")

    assert report["period"] == {
        "label": "2026Q3",
        "kind": "quarter",
        "first_day": "2026-07-01",
        "last_day": "2026-09-30",
        "starts_at": "2026-06-30T23:00:00Z",
        "ends_at": "2026-09-30T23:00:00Z",
    }
    assert report["homes"] == HOMES
    assert report["complete"] is True
    assert report["complaints"] == {
        "stage_1_received": {"count": 2, "per_1000_homes": 4.0, "tsm": "CH01(1)"},
        "stage_2_received": {"count": 1, "per_1000_homes": 2.0, "tsm": "CH01(2)"},
        "stage_1_responded_in_time": share(1, 1, 100.0, "CH02(1)"),
        "stage_2_responded_in_time": share(1, 1, 100.0, "CH02(2)"),
    }
    assert report["anti_social_behaviour"] == {"count": 2, "per_1000_homes": 4.0, "tsm": "NM01(1)"}
    assert [
        (c["obligation"], c["definition"], c["in_time"], c["late"], c["breached_open"], c["share_in_time"]["percent"])
        for c in report["clocks"]
    ] == [
        ("internal", "complaint_stage1_response", 0, 1, 0, 0.0),
        ("internal", "repair_completion_emergency", 1, 0, 0, 100.0),
        ("internal", "repair_completion_routine", 1, 0, 0, 100.0),
        ("statutory", "complaint_stage1_response", 1, 0, 1, 50.0),
        ("statutory", "complaint_stage2_response", 1, 0, 0, 100.0),
    ]
    assert report["clocks"][0]["name"] == "Complaint stage1 response"
    assert report["repairs"] == {
        "completed": 2,
        "emergency_within_target": share(1, 1, 100.0, "RP02(2)"),
        "non_emergency_within_target": share(1, 1, 100.0, "RP02(1)"),
        "fixed_first_visit": share(1, 2, 50.0),
        "average_end_to_end_days": 8.0,  # (1 + 15) / 2
        "end_to_end_measured": 2,
    }
    assert report["gas_safety"] == share(1, 2, 50.0, "BS01")
    assert report["rent_credits"] == {"count": 1, "total_pence": 1000}
    assert report["inspections"] == {
        "completed_jobs": 2,
        "sample": share(1, 2, 50.0),
        "target_percent": 5.0,
        "target_met": True,
        "high_value_or_complex_inspected": 1,
        "passed": share(1, 1, 100.0),
    }
    satisfaction = report["satisfaction"]
    assert satisfaction["surveys"] == 2
    by_aspect = {a["aspect"]: a["satisfied"] for a in satisfaction["aspects"]}
    assert list(by_aspect) == [a.value for a in Aspect]
    assert by_aspect["overall"] == share(1, 2, 50.0)
    assert by_aspect["quality"] == share(1, 1, 100.0)
    assert by_aspect["speed_of_repair"] == share(0, 1, 0.0)
    assert by_aspect["reminders"] == share(0, 0, None)


async def test_the_year_takes_in_every_quarter(client: httpx.AsyncClient):
    report = await report_of(client, "2026")
    assert report["complaints"]["stage_1_received"]["count"] == 3  # c3 was received in Q2
    assert report["anti_social_behaviour"] == {"count": 3, "per_1000_homes": 6.0, "tsm": "NM01(1)"}  # a3 in Q4
    assert report["rent_credits"] == {"count": 2, "total_pence": 2000}
    assert report["gas_safety"] == share(0, 2, 0.0, "BS01")  # by 31 December both have lapsed


async def test_a_quarter_with_nothing_in_it_reports_zeros_and_n_a(client: httpx.AsyncClient):
    report = await report_of(client, "2025Q1")
    assert report["complaints"]["stage_1_received"] == {"count": 0, "per_1000_homes": 0.0, "tsm": "CH01(1)"}
    assert report["clocks"] == []
    assert report["repairs"]["average_end_to_end_days"] is None
    assert report["gas_safety"] == share(0, 0, None, "BS01")
    assert report["inspections"]["target_met"] is None


async def test_the_report_holds_ids_and_references_only(client: httpx.AsyncClient):
    response = await client.get("/v1/reports/2026Q3")
    assert "Example Road" not in response.text


@pytest.mark.parametrize(
    "period, says",
    [
        ("2026Q5", "quarters 1 to 4"),
        ("last-quarter", "give a quarter such as 2026Q3"),
        ("2026-28", "2026-27"),
    ],
)
async def test_a_bad_period_is_refused_with_a_clear_message(client: httpx.AsyncClient, period: str, says: str):
    response = await client.get(f"/v1/reports/{period}")
    assert response.status_code == 422
    assert says in response.json()["detail"]


async def test_recording_an_event_again_adds_nothing(recorded: Runtime):
    async with recorded.sessions() as session:
        cases = await session.scalar(
            select(func.count()).select_from(facts.cases_opened).where(facts.cases_opened.c.case_id == "c1")
        )
        scores = await session.scalar(select(func.count()).select_from(facts.survey_scores))
    assert cases == 1
    assert scores == 4  # three aspects of r1's survey, one of r2's
    async with recorded.sessions.begin() as session:
        for event in EVENTS:
            await record(session, event)
    async with recorded.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(facts.cases_opened))
    assert total == 8  # c1 (once), c2, c3, a1, a2, a3, r1, r2


async def test_events_no_figure_needs_are_not_recorded(recorded: Runtime):
    async with recorded.sessions() as session:
        visits = await session.scalar(select(func.count()).select_from(facts.repair_visits))
        gas = await session.scalar(select(func.count()).select_from(facts.gas_checks))
    assert visits == 3  # the inspection visit is left out
    assert gas == 2  # the electrical certificate is left out
