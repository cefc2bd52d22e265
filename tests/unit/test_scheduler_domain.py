"""The scheduler's pure rules: slot patterns, offer search, reminders, sampling, wording."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from shared.calendar import default_calendar as calendar
from shared.events.appointments import AppointmentKind
from shared.events.cases import CaseKind, CaseOpened, Channel, Flag, Priority
from services.scheduler.domain.completion import needs_post_inspection, sample_draw
from services.scheduler.domain.contractors import Contractor, postcode_district
from services.scheduler.domain.offers import Need, find_offers
from services.scheduler.domain.policy import job_for, offers_by_message, trade_for, works_order_number
from services.scheduler.domain.reminders import remind_at
from services.scheduler.domain.slots import Pattern, slots_between
from services.scheduler.domain.wording import spoken_date, spoken_offer, spoken_window


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return calendar.at(day, time(hour, minute))


def contractor(cid: str = "c1", **changes: object) -> Contractor:
    values: dict[str, object] = dict(
        id=cid,
        name="Acme",
        phone="020 7946 0123",
        trades=frozenset({"plumbing"}),
        areas=frozenset({"SE15"}),
        working_days=frozenset({1, 2, 3, 4, 5, 6}),
        capacity_per_slot=1,
        emergency_rota=False,
    )
    values.update(changes)
    return Contractor(**values)  # type: ignore[arg-type]


def local_windows(slots) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [
        (
            f"{calendar.local(s.starts_at):%a %d}",
            f"{calendar.local(s.starts_at):%H:%M}",
            f"{calendar.local(s.ends_at):%H:%M}",
        )
        for s in slots
    ]


# -- slot patterns -----------------------------------------------------------------------


def test_repair_slots_are_weekday_mornings_and_afternoons_and_saturday_mornings():
    monday = date(2026, 11, 30)
    slots = list(slots_between(at(monday, 0), at(monday + timedelta(days=7), 0), Pattern.REPAIR, calendar))
    windows = local_windows(slots)
    assert windows[:2] == [("Mon 30", "08:00", "12:00"), ("Mon 30", "12:00", "17:00")]
    assert ("Sat 05", "09:00", "12:00") in windows
    assert not any(day.startswith("Sun") for day, _, _ in windows)
    assert len(windows) == 5 * 2 + 1


def test_no_repair_slots_on_bank_holidays():
    christmas, boxing_day_substitute = date(2026, 12, 25), date(2026, 12, 28)
    slots = list(
        slots_between(at(christmas, 0), at(christmas + timedelta(days=5), 0), Pattern.REPAIR, calendar)
    )
    days = {calendar.local_date(s.starts_at) for s in slots}
    # Boxing Day falls on the Saturday: no morning slot, and the Monday is its substitute.
    assert christmas not in days and boxing_day_substitute not in days and date(2026, 12, 26) not in days
    assert days == {date(2026, 12, 29)}


def test_office_slots_are_09_to_17_on_working_days_only():
    monday = date(2026, 11, 30)
    slots = list(slots_between(at(monday, 0), at(monday + timedelta(days=7), 0), Pattern.OFFICE, calendar))
    windows = local_windows(slots)
    assert {(start, end) for _, start, end in windows} == {("09:00", "12:00"), ("12:00", "17:00")}
    assert not any(day.startswith(("Sat", "Sun")) for day, _, _ in windows)


def test_office_slots_follow_london_time_in_summer():
    july = date(2026, 7, 14)
    first = next(iter(slots_between(at(july, 0), at(july, 23), Pattern.OFFICE, calendar)))
    assert first.starts_at == datetime(2026, 7, 14, 8, 0, tzinfo=UTC)  # 09:00 BST


def test_emergency_windows_run_through_nights_sundays_and_christmas():
    christmas_night = datetime(2026, 12, 25, 23, 30, tzinfo=UTC)
    slots = list(
        slots_between(christmas_night, christmas_night + timedelta(hours=6), Pattern.EMERGENCY, calendar)
    )
    assert slots[0].starts_at == datetime(2026, 12, 26, 0, 0, tzinfo=UTC)  # 22:00-24:00 has too little left
    assert all(s.ends_at - s.starts_at == timedelta(hours=2) for s in slots)
    assert [s.starts_at.hour for s in slots] == [0, 2, 4]


def test_an_emergency_window_already_running_is_offered_while_an_hour_is_left():
    now = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)  # a Sunday
    first = next(iter(slots_between(now, now + timedelta(hours=24), Pattern.EMERGENCY, calendar)))
    assert first.starts_at == datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


# -- offers ------------------------------------------------------------------------------

MONDAY = date(2026, 11, 30)


def need(
    pattern: Pattern = Pattern.REPAIR, days: int = 28, trade: str = "plumbing", district: str | None = "SE15"
) -> Need:
    return Need(trade, district, pattern, at(MONDAY, 7), at(MONDAY, 7) + timedelta(days=days))


def test_three_offers_in_different_slots_earliest_first():
    offers = find_offers(need(), [contractor()], {}, calendar)
    assert [o.number for o in offers] == [1, 2, 3]
    assert [o.starts_at for o in offers] == [at(MONDAY, 8), at(MONDAY, 12), at(MONDAY + timedelta(days=1), 8)]


def test_a_full_slot_is_not_offered():
    taken = {("c1", at(MONDAY, 8)): 1}
    offers = find_offers(need(), [contractor()], taken, calendar)
    assert at(MONDAY, 8) not in [o.starts_at for o in offers]


def test_capacity_allows_several_jobs_in_one_slot():
    taken = {("c1", at(MONDAY, 8)): 1}
    offers = find_offers(need(), [contractor(capacity_per_slot=2)], taken, calendar)
    assert offers[0].starts_at == at(MONDAY, 8)


def test_the_least_loaded_contractor_gets_the_slot():
    taken = {("c1", at(MONDAY, 8)): 1}
    pair = [contractor("c1", capacity_per_slot=2), contractor("c2", capacity_per_slot=2)]
    assert find_offers(need(), pair, taken, calendar)[0].contractor_id == "c2"


def test_only_contractors_of_the_trade_and_area_are_offered():
    others = [
        contractor("elec", trades=frozenset({"electrical"})),
        contractor("far", areas=frozenset({"N1"})),
    ]
    assert find_offers(need(), others, {}, calendar) == []
    general = contractor("gen", trades=frozenset({"general"}))
    assert find_offers(need(), [*others, general], {}, calendar)[0].contractor_id == "gen"


def test_a_general_contractor_does_not_do_surveys():
    general = contractor("gen", trades=frozenset({"general"}))
    assert find_offers(need(Pattern.OFFICE, trade="surveyor"), [general], {}, calendar) == []


def test_a_contractor_is_offered_only_on_its_working_days():
    weekdays_only = contractor(working_days=frozenset({1, 2, 3, 4, 5}))
    offers = find_offers(need(), [weekdays_only], {}, calendar, limit=30)
    assert all(calendar.local_date(o.starts_at).isoweekday() <= 5 for o in offers)


def test_routine_offers_include_saturday_mornings():
    busy = {("c1", s): 1 for s in (at(MONDAY + timedelta(days=d), h) for d in range(5) for h in (8, 12))}
    offers = find_offers(need(), [contractor()], busy, calendar)
    assert offers[0].starts_at == at(date(2026, 12, 5), 9)


def test_offers_stay_inside_the_target():
    offers = find_offers(need(days=1), [contractor()], {}, calendar, limit=10)
    assert offers and all(o.ends_at <= at(MONDAY, 7) + timedelta(days=1) for o in offers)


def test_the_current_slot_can_be_left_out():
    offers = find_offers(need(), [contractor()], {}, calendar, avoid=(at(MONDAY, 8),))
    assert offers[0].starts_at == at(MONDAY, 12)


def test_emergencies_go_only_to_the_rota_any_day_of_the_week():
    sunday = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    emergency = Need("plumbing", "SE15", Pattern.EMERGENCY, sunday, sunday + timedelta(hours=24))
    rota = contractor("rota", working_days=frozenset({1, 2, 3, 4, 5}), emergency_rota=True)
    offers = find_offers(emergency, [contractor("day"), rota], {}, calendar)
    assert offers[0].contractor_id == "rota"
    assert offers[0].starts_at == datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def test_an_unknown_home_is_served_by_any_area():
    assert find_offers(need(district=None), [contractor(areas=frozenset({"N1"}))], {}, calendar)


def test_postcode_districts():
    assert postcode_district("se15 4ab") == "SE15"
    assert postcode_district("W1A 1AA") == "W1A"
    assert postcode_district("SE15") == "SE15"


# -- what a case needs -------------------------------------------------------------------


def case(
    kind: CaseKind = CaseKind.REPAIR_REQUEST,
    priority: Priority | None = Priority.ROUTINE,
    flags: tuple[Flag, ...] = (),
    description: str = "",
) -> CaseOpened:
    return CaseOpened(
        correlation_id="c",
        case_id="c",
        reference="HX-1",
        channel=Channel.EMAIL,
        kind=kind,
        priority=priority,
        flags=flags,
        received_at=at(MONDAY, 10),
        description=description,
    )


@pytest.mark.parametrize(
    ("opened", "kind", "pattern", "clock"),
    [
        (
            case(priority=Priority.EMERGENCY),
            AppointmentKind.REPAIR,
            Pattern.EMERGENCY,
            "repair_completion_emergency",
        ),
        (case(priority=Priority.URGENT), AppointmentKind.REPAIR, Pattern.REPAIR, "repair_completion_urgent"),
        (case(priority=None), AppointmentKind.REPAIR, Pattern.REPAIR, "repair_completion_routine"),
        (
            case(flags=(Flag.INSPECTION_REQUIRED,)),
            AppointmentKind.INSPECTION,
            Pattern.OFFICE,
            "pre_work_inspection",
        ),
        (case(CaseKind.HOME_VISIT), AppointmentKind.HOME_VISIT, Pattern.OFFICE, "home_visit"),
        (
            case(CaseKind.HOME_VISIT, flags=(Flag.SAFEGUARDING,)),
            AppointmentKind.HOME_VISIT,
            Pattern.OFFICE,
            "home_visit_harassment_or_domestic_violence",
        ),
    ],
)
def test_each_case_gets_its_kind_of_appointment_and_its_standard(opened, kind, pattern, clock):  # type: ignore[no-untyped-def]
    job = job_for(opened)
    assert job is not None
    assert (job.kind, job.pattern, job.clock_id) == (kind, pattern, clock)


def test_an_emergency_is_never_held_for_an_inspection():
    job = job_for(case(priority=Priority.EMERGENCY, flags=(Flag.INSPECTION_REQUIRED,)))
    assert job is not None and job.kind is AppointmentKind.REPAIR


def test_complaints_and_enquiries_need_no_appointment():
    assert job_for(case(CaseKind.COMPLAINT)) is None
    assert job_for(case(CaseKind.GENERAL_ENQUIRY)) is None


def test_the_trade_is_read_from_the_description():
    assert trade_for("Boiler not working, no hot water") == "heating"
    assert trade_for("The kitchen TAP is leaking") == "plumbing"
    assert trade_for("Something is wrong") == "general"


def test_spoken_reports_are_booked_live_and_written_ones_get_offers():
    assert not offers_by_message(Channel.PHONE) and not offers_by_message(Channel.IN_PERSON)
    assert all(offers_by_message(c) for c in (Channel.EMAIL, Channel.LETTER, Channel.WEB))


def test_a_works_order_number_is_the_same_for_the_same_case():
    assert works_order_number("case-1") == works_order_number("case-1")
    assert works_order_number("case-1") != works_order_number("case-2")
    assert works_order_number("case-1").startswith("WO-") and len(works_order_number("case-1")) == 11


# -- reminders -----------------------------------------------------------------------


def test_mondays_appointment_is_reminded_on_friday_afternoon():
    due = remind_at(at(date(2026, 12, 7), 8), at(MONDAY, 9), calendar)
    assert due == at(date(2026, 12, 4), 16)  # the default hour, before the working day ends


def test_the_day_after_a_bank_holiday_is_reminded_on_the_working_day_before_it():
    # Tuesday 29 December 2026 follows Christmas (Fri) and the Boxing Day substitute (Mon 28).
    due = remind_at(at(date(2026, 12, 29), 8), at(MONDAY, 9), calendar)
    assert due == at(date(2026, 12, 24), 16)


def test_the_reminder_hour_is_london_time_and_configurable():
    due = remind_at(at(date(2026, 7, 15), 8), at(date(2026, 7, 1), 9), calendar, time(17, 30))
    assert due == datetime(2026, 7, 14, 16, 30, tzinfo=UTC)


def test_no_reminder_when_its_time_has_passed_at_booking():
    tuesday_8am = at(date(2026, 12, 1), 8)
    assert remind_at(tuesday_8am, at(MONDAY, 19), calendar) is None


# -- sampling for post-inspection --------------------------------------------------


def test_every_high_value_or_complex_job_is_inspected():
    assert all(needs_post_inspection(f"a-{n}", high_value_or_complex=True) for n in range(200))


def test_about_five_percent_of_other_jobs_are_sampled_and_the_draw_is_stable():
    sampled = sum(needs_post_inspection(f"a-{n}", high_value_or_complex=False) for n in range(20_000))
    assert 0.045 < sampled / 20_000 < 0.055
    assert sample_draw("a-1") == sample_draw("a-1")


# -- wording -------------------------------------------------------------------------


def test_dates_and_times_read_as_in_the_templates():
    start, end = at(date(2026, 7, 14), 8), at(date(2026, 7, 14), 12, 30)
    assert spoken_date(start, calendar) == "Tuesday 14 July 2026"
    assert spoken_window(start, end, calendar) == "8am to 12:30pm"
    assert spoken_offer(start, end, calendar) == "Tuesday 14 July, 8am to 12:30pm"
