"""Journey 4: a home with gas whose certificate runs out in 60 days, loaded with
`doorstep import` as the landlord's staff would. The scheduler's daily sweep (run every
few seconds here) offers a check; the tenant confirms by text; the engineer cannot get
in, twice, each time followed by a chaser proposing another morning; the third goes
unanswered and the check is handed to staff; the SLA monitor warns as the expiry nears,
and breaches the statutory gas clock once, at the expiry. The system is started again at
each later moment, on the same folder. And a check done in the two months before the
due date keeps the due date (an earlier one resets it), on the SLA monitor's clocks."""

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

import httpx
import pytest

from shared.calendar import add_months
from shared.topics import Topic
from tests.e2e.journeys import Journey, clocks_of
from tests.e2e.landlord import landlord
from tests.e2e.texts import Mobile, twilio_settings
from tests.e2e.working_days import LONDON, next_working, working
from tests.fakes.twilio_api import serve_fake_twilio

pytestmark = pytest.mark.kafka

# The broker outlives a run, and a check's case id is derived from its home and due
# date: homes of their own each run, so no earlier run's events can answer for this one's.
RUN = uuid4().hex[:6].upper()
HOME = f"P-GAS-{RUN}"
KEEP, RESET = f"P-KEEP-{RUN}", f"P-RESET-{RUN}"
MOBILE = "+447700900462"  # Ofcom's drama range
CHECKED = date(2026, 4, 30)
DUE = date(2027, 4, 30)  # CHECKED + 12 months
START = datetime(2027, 3, 1, 10, 0, tzinfo=LONDON)  # 60 days before the certificate runs out
EXPIRES = datetime.combine(DUE + timedelta(days=1), time(0), LONDON)  # valid through its due date
LEAD = 10  # working days from an offer to the morning it proposes (the scheduler's default)
SWEEP = {
    "SCHEDULER_COMPLIANCE_SWEEP_SECONDS": "3",
    "SCHEDULER_LEADER_RENEW_SECONDS": "2",
}
PROPERTIES = "id,address,postcode,has_gas,year_built,block_id,block_name\n"
CONTRACTORS = (
    "id,name,phone,trades,areas,working_days,capacity_per_slot,emergency_rota,token_sha256\n"
    "c-gas,South London Gas Services,020 7946 0789,heating,SE15,Mon-Fri,1,false,\n"
)


def morning_proposed(offered_on: date) -> datetime:
    """08:00 on the LEAD-th working day after the offer (bank holidays skipped)."""
    day = offered_on
    for _ in range(LEAD):
        day = next_working(day)
    return datetime.combine(day, time(8), LONDON)


def spoken(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B %Y}"


async def offer(journey: Journey, mobile: Mobile, attempt: int, offered_on: date) -> dict:
    """The sweep's offer (or chaser) `attempt`: its event, and its text on the tenant's phone
    proposing the morning the event names, sent."""
    offered = await journey.event(Topic.COMPLIANCE, "compliance.gas_check_offered", property_id=HOME, attempt=attempt)
    assert date.fromisoformat(offered["due_on"]) == DUE
    proposed = datetime.fromisoformat(offered["proposed_starts_at"])
    assert proposed == morning_proposed(offered_on) and working(proposed.astimezone(LONDON).date())
    purpose = "gas_check_offer" if attempt == 1 else "gas_check_chaser"
    await journey.event(Topic.NOTIFICATIONS_OUTCOMES, "notification.sent", case_id=offered["case_id"],
                        purpose=purpose, idempotency_key=f"{offered['case_id']}:offer:{attempt}")
    await mobile.wait_for(lambda body: f"come on {spoken(proposed)}, 8am to 12pm" in body and "Reply CONFIRM" in body)
    return offered


async def confirmed_and_booked(journey: Journey, mobile: Mobile, offered: dict, earlier: set[str]) -> dict:
    mobile.send("CONFIRM")
    booked = await journey.event(Topic.APPOINTMENTS, "appointment.booked", case_id=offered["case_id"],
                                 where=lambda e: e["appointment_id"] not in earlier)
    assert booked["kind"] == "gas_check"
    assert datetime.fromisoformat(booked["starts_at"]) == datetime.fromisoformat(offered["proposed_starts_at"])
    earlier.add(booked["appointment_id"])
    return booked


def no_access(journey_system, token: dict[str, str], booked: dict) -> None:  # type: ignore[no-untyped-def]
    day = datetime.fromisoformat(booked["starts_at"]).astimezone(LONDON).date()
    jobs = httpx.get(journey_system.url("scheduler", "/contractor/jobs"), params={"day": day.isoformat()},
                     headers=token, timeout=15).json()
    assert [j["appointment_id"] for j in jobs] == [booked["appointment_id"]]
    response = httpx.post(journey_system.url("scheduler", f"/contractor/jobs/{booked['appointment_id']}/no-access"),
                          headers=token, timeout=15)
    assert response.status_code == 200, response.text


def at_london(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), LONDON)


async def test_a_gas_check_offered_chased_escalated_and_breached_once_at_expiry(kafka_bootstrap: str, tmp_path):
    with serve_fake_twilio() as fake:
        mobile = Mobile(fake, MOBILE)
        journey = Journey(kafka_bootstrap, tmp_path, {**SWEEP, **twilio_settings(fake)})
        owner = landlord(kafka_bootstrap, tmp_path, at=START)
        owner.load("properties", PROPERTIES + f"{HOME},3 Bird in Bush Road,SE15 6RR,yes,1974,,\n")
        owner.load("tenancies", "id,property_id,tenant_name,mobile,email,preferred_channel\n"
                                f"T-GAS-{RUN},{HOME},Ade Tenant,07700 900462,,sms\n")
        owner.load("contractors", CONTRACTORS)
        owner.load("certificates", f"kind,property_id,block_id,checked_on,review_on,certificate\n"
                                   f"gas_safety,{HOME},,{CHECKED},,GSR-{RUN}\n")
        token = {"Authorization": f"Bearer {owner.contractor_token('c-gas')}"}
        visits: set[str] = set()

        # 1 March: the sweep offers a morning; the tenant texts CONFIRM.
        with journey.at(START) as system:
            first = await offer(journey, mobile, 1, START.date())
            case_id = first["case_id"]
            offer_met = await journey.event(Topic.SLA_OUTCOMES, "sla.met", subject_id=HOME, clock="gas_check_offer")
            assert offer_met["late_by"] is None
            gas = clocks_of(system, HOME)[("gas_safety_check", "statutory")]
            assert (gas["state"], datetime.fromisoformat(gas["deadline"])) == ("running", EXPIRES)
            started = datetime.fromisoformat(gas["started_at"])
            booked = await confirmed_and_booked(journey, mobile, first, visits)

        # 15 March: nobody in. The next sweep chases, proposing another morning.
        visit_day = datetime.fromisoformat(first["proposed_starts_at"]).astimezone(LONDON).date()
        with journey.at(at_london(visit_day, 9)) as system:
            no_access(system, token, booked)
            await journey.event(Topic.APPOINTMENTS, "appointment.no_access", appointment_id=booked["appointment_id"])
            second = await offer(journey, mobile, 2, visit_day)  # past Good Friday and Easter Monday
            assert second["case_id"] == case_id
            booked = await confirmed_and_booked(journey, mobile, second, visits)

        # 31 March: nobody in again: the third offer.
        visit_day = datetime.fromisoformat(second["proposed_starts_at"]).astimezone(LONDON).date()
        with journey.at(at_london(visit_day, 9)) as system:
            no_access(system, token, booked)
            await offer(journey, mobile, 3, visit_day)
            third_sent_on = visit_day

        # Two weeks with no answer to the third: handed to staff, once.
        with journey.at(at_london(third_sent_on + timedelta(days=14), 10)):
            escalated = await journey.event(Topic.COMPLIANCE, "compliance.gas_check_escalated", property_id=HOME)
            assert (escalated["case_id"], escalated["attempts"], escalated["reason"]) == (case_id, 3, "no_access")
            assert date.fromisoformat(escalated["due_on"]) == DUE

        # Late April: the clock's warning points have passed, each said once.
        warned_by = EXPIRES - timedelta(days=4)
        with journey.at(warned_by):
            for point in ("75%", "90%"):
                await journey.event(Topic.SLA_WARNINGS, "sla.warning", subject_id=HOME, clock="gas_safety_check",
                                    obligation="statutory", point=point)
            warnings = await journey.events(Topic.SLA_WARNINGS, "sla.warning", subject_id=HOME,
                                            clock="gas_safety_check", obligation="statutory")
            assert sorted(w["point"] for w in warnings) == ["75%", "90%"]
            at_90 = next(w for w in warnings if w["point"] == "90%")
            assert datetime.fromisoformat(at_90["occurred_at"]) >= started + 0.9 * (EXPIRES - started)

        # The expiry, with nothing done: one statutory breach, at the deadline.
        with journey.at(EXPIRES - timedelta(seconds=2)) as system:
            breach = await journey.event(Topic.SLA_BREACHES, "sla.breached", subject_id=HOME,
                                         clock="gas_safety_check", obligation="statutory", timeout=120)
            assert datetime.fromisoformat(breach["deadline"]) == EXPIRES
            assert datetime.fromisoformat(breach["occurred_at"]) >= EXPIRES
            assert "Gas Safety (Installation and Use) Regulations 1998" in breach["source"]
            breaches = await journey.events(Topic.SLA_BREACHES, "sla.breached", subject_id=HOME,
                                            clock="gas_safety_check", obligation="statutory")
            assert len(breaches) == 1
            assert clocks_of(system, HOME)[("gas_safety_check", "statutory")]["state"] == "breached"
        assert EXPIRES.astimezone(UTC) == datetime(2027, 4, 30, 23, 0, tzinfo=UTC)  # BST: midnight is 23:00 UTC


async def test_a_check_in_the_two_months_before_the_due_date_keeps_the_due_date(kafka_bootstrap: str, tmp_path):
    today = datetime(2027, 4, 10, 10, 0, tzinfo=LONDON)
    owner = landlord(kafka_bootstrap, tmp_path, at=today)
    owner.load("properties", PROPERTIES + f"{KEEP},5 Asylum Road,SE15 2RL,yes,1968,,\n"
                                          f"{RESET},7 Asylum Road,SE15 2RL,yes,1968,,\n")
    first_due = date(2027, 5, 20)  # from a check on 20 May 2026
    owner.load("certificates", "kind,property_id,block_id,checked_on,review_on,certificate\n"
                               f"gas_safety,{KEEP},,2026-05-20,,GSR-K1-{RUN}\n"
                               f"gas_safety,{KEEP},,2027-04-10,,GSR-K2-{RUN}\n"  # inside the window: 20 March to 20 May
                               f"gas_safety,{RESET},,2026-05-20,,GSR-R1-{RUN}\n"
                               f"gas_safety,{RESET},,2027-03-10,,GSR-R2-{RUN}\n")  # before the window opened
    journey = Journey(kafka_bootstrap, tmp_path)
    with journey.at(today) as system:
        for home in (KEEP, RESET):
            await journey.event(Topic.SLA_OUTCOMES, "sla.met", subject_id=home, clock="gas_safety_check",
                                obligation="statutory")  # the first certificate's clock, ended by the second
        kept = clocks_of(system, KEEP)[("gas_safety_check", "statutory")]
        reset = clocks_of(system, RESET)[("gas_safety_check", "statutory")]

    keeps = add_months(first_due, 12)  # 20 May 2028, not 10 April 2028
    assert kept["state"] == "running" and kept["instance"] == "gas_safety:2027-04-10"
    assert datetime.fromisoformat(kept["deadline"]) == datetime.combine(keeps + timedelta(days=1), time(0), LONDON)
    assert reset["state"] == "running" and reset["instance"] == "gas_safety:2027-03-10"
    resets = date(2028, 3, 10)
    assert datetime.fromisoformat(reset["deadline"]) == datetime.combine(resets + timedelta(days=1), time(0), LONDON)
