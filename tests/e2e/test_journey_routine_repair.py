"""Journey 2: a routine repair reported by web form on the Friday afternoon before the
early May bank holiday (2027), driven through intake's form, the tenant's texts (the real
Twilio SDK to the fake of Twilio's API, and signed texts back) and the contractor API;
checked on Kafka, on the texts and on the SLA monitor. The system is started again at
each later moment of the journey, on the same folder, instead of waiting for it.

Friday 14:00  the form; offers texted: Saturday morning first, nothing on the Sunday or
              the bank holiday Monday, all within 28 days; the tenant texts 1: booked
Friday 16:02  the reminder, on the previous working day, once, in time
Saturday 12:40  the slot ended at 12:00 with nobody there: one £10 credit, an apology,
              appointment.contractor_missed, and fresh offers; the tenant texts 1 again
Tuesday 09:05  the contractor arrives and fixes it first time: the 28-day repair clock
              met, and still only the one credit."""

import re
from datetime import date, datetime, time, timedelta

import httpx
import pytest

from shared.topics import Topic
from tests.e2e.journeys import Journey, clocks_of
from tests.e2e.landlord import landlord
from tests.e2e.system import System
from tests.e2e.texts import Mobile, twilio_settings
from tests.e2e.working_days import BANK_HOLIDAYS, LONDON
from tests.fakes.twilio_api import serve_fake_twilio

pytestmark = pytest.mark.kafka

YEAR = 2027
FRIDAY = datetime(YEAR, 4, 30, 14, 0, tzinfo=LONDON)
BANK_HOLIDAY = date(YEAR, 5, 3)  # the early May bank holiday
SATURDAY = date(YEAR, 5, 1)
TUESDAY = date(YEAR, 5, 4)
REMINDER_TIME = time(16, 0)  # the scheduler's default
MOBILE = "+447700900461"  # Ofcom's drama range: never a real phone
CONTRACTORS = (
    "id,name,phone,trades,areas,working_days,capacity_per_slot,emergency_rota,token_sha256\n"
    "c-joinery,Peckham Joinery,020 7946 0456,carpentry;general,SE15,Mon-Sat,1,false,\n"
)
TIMED_JOBS = {
    "SCHEDULER_REMINDER_CHECK_SECONDS": "2",
    "SCHEDULER_MISSED_CHECK_SECONDS": "2",
    "SCHEDULER_LEADER_RENEW_SECONDS": "2",
}
OFFER = re.compile(r"(?P<weekday>\w+) (?P<day>\d+) (?P<month>\w+), (?P<opens>\d+(?::\d\d)?[ap]m) to (?P<closes>\d+(?::\d\d)?[ap]m)")


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LONDON)


def offered_day(wording: str) -> tuple[date, str]:
    """'Saturday 1 May, 9am to 12pm' -> (that date, '9am')."""
    found = OFFER.fullmatch(wording)
    assert found, wording
    day = datetime.strptime(f"{found['day']} {found['month']} {YEAR}", "%d %B %Y").date()
    assert f"{day:%A}" == found["weekday"], wording
    return day, found["opens"]


def report_repair(system: System) -> str:
    response = httpx.post(system.url("intake", "/forms/repair"), json={
        "name": "Sam Tenant",
        "address": "12 Consort Road, London",
        "postcode": "SE15 2PH",
        "phone": "07700 900461",
        "location": "Kitchen",
        "description": "The kitchen cupboard door has come off its hinge.",
    }, timeout=15)
    assert response.status_code == 201, response.text
    return response.json()["reference"]


async def offers_made(journey: Journey, mobile: Mobile, case_id: str, before: set[str]) -> list[tuple[date, str]]:
    """The next offers the scheduler asked to be texted (one not among `before`, the
    idempotency keys of earlier ones), once the text has gone: what they offer, as days
    and opening times, checked against the text itself."""
    request = await journey.event(Topic.NOTIFICATIONS_REQUESTED, "notification.requested",
                                  where=lambda e: e["idempotency_key"] not in before,
                                  case_id=case_id, purpose="appointment_offers")
    before.add(request["idempotency_key"])
    offered = request["personalisation"]
    wording = [offered[f"offer_{n}"] for n in (1, 2, 3) if f"offer_{n}" in offered]
    await journey.event(Topic.NOTIFICATIONS_OUTCOMES, "notification.sent", case_id=case_id,
                        idempotency_key=request["idempotency_key"])
    lines = [f"{n}) {w}\n" for n, w in enumerate(wording, 1)]
    await mobile.wait_for(lambda body: "choose a time" in body and all(line in body for line in lines))
    return [offered_day(w) for w in wording]


def assert_fair_offers(offers: list[tuple[date, str]], reported: datetime) -> None:
    days = [day for day, _ in offers]
    assert len(offers) == 3
    assert all(reported.date() <= day <= (reported + timedelta(days=28)).date() for day in days), days
    assert not [day for day in days if day.isoweekday() == 7 or day in BANK_HOLIDAYS], days


async def test_a_routine_repair_reported_before_a_bank_holiday_is_missed_once_rebooked_and_fixed(
    kafka_bootstrap: str, tmp_path
):
    assert BANK_HOLIDAY in BANK_HOLIDAYS and FRIDAY.isoweekday() == 5
    with serve_fake_twilio() as fake:
        mobile = Mobile(fake, MOBILE)
        journey = Journey(kafka_bootstrap, tmp_path, {**TIMED_JOBS, **twilio_settings(fake)})
        owner = landlord(kafka_bootstrap, tmp_path, at=FRIDAY)
        owner.load("contractors", CONTRACTORS)
        token = {"Authorization": f"Bearer {owner.contractor_token('c-joinery')}"}

        # Friday afternoon: the form, the offers, the tenant's choice.
        with journey.at(FRIDAY) as system:
            reference = report_repair(system)
            case = await journey.event(Topic.CASES, "case.opened", reference=reference)
            case_id, reported = case["case_id"], datetime.fromisoformat(case["received_at"])
            assert (case["channel"], case["kind"], case["priority"]) == ("web", "repair_request", "routine")
            offers_sent: set[str] = set()
            first_offers = await offers_made(journey, mobile, case_id, offers_sent)
            assert_fair_offers(first_offers, reported)
            assert first_offers[0] == (SATURDAY, "9am")  # Saturday morning, the first slot after Friday's
            assert first_offers[1][0] == TUESDAY  # past the Sunday and the bank holiday

            mobile.send("1")
            booked = await journey.event(Topic.APPOINTMENTS, "appointment.booked", case_id=case_id)
            assert datetime.fromisoformat(booked["starts_at"]) == london(SATURDAY, 9)
            assert datetime.fromisoformat(booked["ends_at"]) == london(SATURDAY, 12)
            await mobile.wait_for(lambda body: "is booked for Saturday 1 May 2027, 9am to 12pm" in body)
            repair_clock = clocks_of(system, case_id)[("repair_completion_routine", "internal")]
            assert datetime.fromisoformat(repair_clock["deadline"]) == reported + timedelta(days=28)

        # Friday evening, the previous working day before Saturday's appointment.
        with journey.at(london(FRIDAY.date(), REMINDER_TIME.hour, 2)):
            await mobile.wait_for(lambda body: body.startswith("Hexagon Housing reminder") and "Saturday 1 May 2027" in body)
            await journey.event(Topic.NOTIFICATIONS_OUTCOMES, "notification.sent", case_id=case_id,
                                purpose="appointment_reminder")
            reminded = await journey.event(Topic.SLA_OUTCOMES, "sla.met", subject_id=case_id,
                                           clock="appointment_reminder")
            assert reminded["clock_id"].endswith(booked["appointment_id"]) and reminded["late_by"] is None

        # Saturday lunchtime: the slot ended at 12:00 and nobody came.
        with journey.at(london(SATURDAY, 12, 40)):
            credit = await journey.event(Topic.FINANCE_RENT_CREDITS, "rent_credit.due", case_id=case_id)
            assert (credit["amount_pence"], credit["appointment_id"]) == (1000, booked["appointment_id"])
            missed = await journey.event(Topic.APPOINTMENTS, "appointment.contractor_missed", case_id=case_id)
            assert missed["appointment_id"] == booked["appointment_id"]
            await mobile.wait_for(lambda body: "sorry our contractor did not come on Saturday 1 May 2027" in body
                                  and "£10" in body)
            second_offers = await offers_made(journey, mobile, case_id, offers_sent)
            assert_fair_offers(second_offers, reported)
            assert second_offers[0] == (TUESDAY, "8am")  # not the Sunday, not the bank holiday

            mobile.send("1")
            rebooked = await journey.event(Topic.APPOINTMENTS, "appointment.booked", case_id=case_id,
                                           where=lambda e: e["appointment_id"] != booked["appointment_id"])
            assert datetime.fromisoformat(rebooked["starts_at"]) == london(TUESDAY, 8)

        # Tuesday morning: the contractor comes and fixes it at the first visit made.
        with journey.at(london(TUESDAY, 9, 5)) as system:
            jobs = httpx.get(system.url("scheduler", "/contractor/jobs"), params={"day": TUESDAY.isoformat()},
                             headers=token, timeout=15).json()
            assert [(j["appointment_id"], j["status"]) for j in jobs] == [(rebooked["appointment_id"], "booked")]
            job = rebooked["appointment_id"]
            for step, body in (("arrived", None), ("completed", {"fixed_first_time": True})):
                response = httpx.post(system.url("scheduler", f"/contractor/jobs/{job}/{step}"), json=body,
                                      headers=token, timeout=15)
                assert response.status_code == 200, response.text
            completed = await journey.event(Topic.APPOINTMENTS, "appointment.completed", case_id=case_id)
            assert completed["fixed_first_time"] is True and completed["appointment_id"] == job
            met = await journey.event(Topic.SLA_OUTCOMES, "sla.met", subject_id=case_id,
                                      clock="repair_completion_routine")
            assert met["late_by"] is None
            assert datetime.fromisoformat(met["deadline"]) == reported + timedelta(days=28)

            credits = await journey.events(Topic.FINANCE_RENT_CREDITS, "rent_credit.due", case_id=case_id)
            assert [c["appointment_id"] for c in credits] == [booked["appointment_id"]]
            assert len(await journey.events(Topic.APPOINTMENTS, "appointment.contractor_missed", case_id=case_id)) == 1
            reminders = [body for body in mobile.received() if body.startswith("Hexagon Housing reminder")]
            assert len(reminders) == 1
