"""The web forms: JSON and HTML form posts open the right case with the right event on
the outbox; wrong answers get a 422 that names the field and never repeats what was
typed; every page is plain, labelled HTML posting to itself; a complaint is escalated
to Stage 2 by its reference.

The intake app's lifespan (SMTP and Kafka) is never started: the form routes are added
to a bare FastAPI app over a migrated SQLite intake, and the events are read back from
the outbox table, or relayed to FastStream's in-memory broker.
"""

import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import TestKafkaBroker
from sqlalchemy import select

from shared.events import parse_event
from shared.service import Runtime
from shared.standards.loader import load_all
from shared.topics import Topic
from services.intake.adapters.tables import cases, raw_messages, refused_forms
from services.intake.forms import FORMS, LONG_MAX
from services.intake.web import add_form_routes
from services.sla_monitor.domain.facts import facts_of
from tests.component.conftest import record

BOOK = load_all()

TENANT = {"name": "Jo Tenant", "phone": "07700 900123", "email": "jo.tenant@example.org"}
HOME = {"address": "12 Anerley Road\nPenge", "postcode": "se20 8aa"}

VALID: dict[str, dict[str, str]] = {
    "repair": {**TENANT, **HOME, "location": "Kitchen", "description": "The tap is dripping all day."},
    "enquiry": {**TENANT, "subject": "Parking", "message": "Can I get a parking permit for my estate?"},
    "complaint": {**TENANT, **HOME, "details": "Nobody came to the appointment.", "outcome": "An apology."},
    "home-visit": {**TENANT, **HOME, "reason": "I would like to talk about my tenancy."},
    "feedback": {
        "complaints": "Five working days is too long to wait.",
        "name": "Jo Tenant",
        "email": "jo.tenant@example.org",
    },
}
# form -> (kind, mailbox, the form's own reason)
OPENS = {
    "repair": ("repair_request", "repairs", "form:repair"),
    "enquiry": ("general_enquiry", "customer_desk", "form:enquiry"),
    "complaint": ("complaint", "complaints", "form:complaint"),
    "home-visit": ("home_visit", None, "form:home-visit"),
    "feedback": ("general_enquiry", None, "form:feedback"),
}
REFERENCE = re.compile(r"HX-[A-Z2-9]{8}")


@pytest.fixture
async def client(intake: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    add_form_routes(app, intake, BOOK)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://intake.test") as client:
        yield client


async def outbox(runtime: Runtime, event_type: str | None = None) -> list[dict[str, Any]]:
    table = runtime.outbox.table
    async with runtime.sessions() as session:
        rows = (await session.execute(select(table).order_by(table.c.id))).all()
    return [
        {"topic": row.topic, "key": row.key, **json.loads(row.payload)}
        for row in rows
        if event_type is None or row.event_type == event_type
    ]


async def submit(client: httpx.AsyncClient, form: str, answers: dict[str, Any], how: str) -> httpx.Response:
    if how == "json":
        return await client.post(f"/forms/{form}", json=answers)
    return await client.post(f"/forms/{form}", data=answers)


def clocks_started_by(row: dict[str, Any]) -> set[str]:
    """The clocks the SLA monitor starts for this event, from the standards that ship."""
    event = parse_event(json.dumps({k: v for k, v in row.items() if k not in ("topic", "key")}).encode())
    return {c.clock.id for c in BOOK.started_by(facts_of(event), event.received_at.date())}


def reference_of(response: httpx.Response) -> str:
    if response.headers["content-type"].startswith("application/json"):
        return response.json()["reference"]
    found = REFERENCE.search(response.text)
    assert found, response.text
    return found[0]


# -- each form opens its case ----------------------------------------------------------


@pytest.mark.parametrize("how", ["json", "form"])
@pytest.mark.parametrize("form", sorted(OPENS))
async def test_each_form_opens_a_case_of_its_kind(client, intake, form: str, how: str):
    response = await submit(client, form, VALID[form], how)

    assert response.status_code == 201, response.text
    reference = reference_of(response)
    if how == "form":
        assert response.headers["content-type"].startswith("text/html")
        assert f"Your reference is <strong>{reference}</strong>" in response.text
    [opened] = await outbox(intake, "case.opened")
    kind, mailbox, rule = OPENS[form]
    assert opened["topic"] == Topic.CASES
    assert opened["key"] == opened["case_id"].encode()
    assert opened["reference"] == reference
    assert (opened["channel"], opened["kind"], opened["mailbox"]) == ("web", kind, mailbox)
    assert {"rule": rule, "words": []} in opened["reasons"]
    assert opened["flags"] == []
    [ack] = await outbox(intake, "notification.requested")
    assert ack["recipient"]["email"] == "jo.tenant@example.org"
    assert ack["personalisation"]["reference"] == reference


async def test_the_case_keeps_the_tenants_words_and_the_whole_submission(client, intake):
    response = await client.post("/forms/repair", json=VALID["repair"])
    case_id = response.json()["case_id"]

    async with intake.sessions() as session:
        case = (await session.execute(select(cases).where(cases.c.id == case_id))).one()
        raw = (await session.execute(select(raw_messages).where(raw_messages.c.case_id == case_id))).one()
    assert case.subject == "Repair: Kitchen"
    assert case.body.startswith("The tap is dripping all day.")
    assert case.contact_email == "jo.tenant@example.org"
    kept = json.loads(raw.raw)
    assert raw.recipient == "web:repair"
    assert (kept["phone"], kept["postcode"]) == ("+447700900123", "SE20 8AA")


async def test_a_web_repair_is_prioritised_by_its_words_and_starts_the_24_hour_booking_clock(client, intake):
    answers = {**VALID["repair"], "description": "There is a smell of gas in the kitchen."}
    await client.post("/forms/repair", json=answers)

    [opened] = await outbox(intake, "case.opened")
    assert opened["priority"] == "emergency"
    assert {"rule": "emergency-repair", "words": ["smell of gas"]} in opened["reasons"]
    started = clocks_started_by(opened)
    assert "repair_booking_contact" in started
    assert "email_reply_repairs" not in started  # a form is not an email to the mailbox
    [ack] = await outbox(intake, "notification.requested")
    assert "within 24 hours" in ack["personalisation"]["promise"]


async def test_events_on_the_outbox_reach_the_broker(client, intake):
    recorder = record(intake.broker, Topic.CASES)
    response = await client.post("/forms/complaint", json=VALID["complaint"])

    async with TestKafkaBroker(intake.broker):
        assert await intake.outbox.relay_pending() == 2
    [opened] = recorder.of_type("case.opened")
    assert opened.key == response.json()["case_id"].encode()
    assert json.loads(opened.body)["kind"] == "complaint"


# -- harassment or domestic violence ----------------------------------------------------


@pytest.mark.parametrize(("how", "tick"), [("json", True), ("form", "yes"), ("form", "on")])
async def test_the_harassment_tick_flags_safeguarding_and_starts_the_1_day_visit(client, intake, how, tick):
    answers = {**VALID["home-visit"], "harassment_or_domestic_violence": tick}
    response = await submit(client, "home-visit", answers, how)

    assert response.status_code == 201, response.text
    [opened] = await outbox(intake, "case.opened")
    assert opened["kind"] == "home_visit"
    assert opened["flags"] == ["safeguarding"]
    assert {"rule": "form:harassment-or-domestic-violence", "words": []} in opened["reasons"]
    started = clocks_started_by(opened)
    assert started == {"home_visit_harassment_or_domestic_violence"}


async def test_without_the_tick_a_visit_is_within_5_working_days(client, intake):
    await client.post("/forms/home-visit", data={**VALID["home-visit"]})

    [opened] = await outbox(intake, "case.opened")
    assert opened["flags"] == []
    assert clocks_started_by(opened) == {"home_visit"}


# -- wrong answers ---------------------------------------------------------------------


async def test_a_missing_field_is_named_and_nothing_typed_is_repeated(client, intake):
    answers = {**VALID["repair"], "name": "Zebedee Quartermaine", "address": "99 Secretive Lane"}
    del answers["description"]

    response = await client.post("/forms/repair", json=answers)

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "description"], "msg": "Enter what is wrong", "type": "missing"}
    ]
    for typed in ("Zebedee", "Secretive", "07700", "jo.tenant", "Kitchen", "SE20"):
        assert typed.lower() not in response.text.lower()
    assert await outbox(intake) == []


async def test_a_blank_required_answer_counts_as_missing(client):
    response = await client.post("/forms/complaint", json={**VALID["complaint"], "details": "   \n "})

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert (problem["loc"], problem["msg"]) == (["body", "details"], "Enter what happened")


async def test_an_over_long_answer_is_refused(client, intake):
    response = await client.post("/forms/enquiry", json={**VALID["enquiry"], "message": "x" * (LONG_MAX + 1)})

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "message"]
    assert "5,000 characters or fewer" in problem["msg"]
    assert "xxxx" not in response.text
    assert await outbox(intake) == []


@pytest.mark.parametrize(
    "email",
    [
        "jo",
        "jo.example.org",
        "jo@example",
        "jo@@example.org",
        "jo @example.org",
        "jo@exam ple.org",
        "@example.org",
        "jo@.org.",
    ],
)
async def test_an_invalid_email_is_refused_without_repeating_it(client, email: str):
    response = await client.post("/forms/enquiry", json={**VALID["enquiry"], "email": email})

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "email"]
    assert problem["msg"] == "Enter an email address in the right format, like name@example.com"
    assert email not in response.text


@pytest.mark.parametrize("phone", ["12345", "0208 778 669", "call me", "+33 6 12 34 56 78"])
async def test_a_phone_number_must_be_a_uk_one(client, phone: str):
    response = await client.post("/forms/repair", json={**VALID["repair"], "phone": phone})

    assert response.status_code == 422
    assert [p["loc"] for p in response.json()["detail"]] == [["body", "phone"]]


async def test_we_need_a_phone_number_or_an_email_to_reply(client):
    answers = {**VALID["repair"], "phone": "", "email": ""}

    response = await client.post("/forms/repair", json=answers)

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "phone"]
    assert problem["type"] == "contact_needed"


async def test_feedback_needs_a_comment_but_no_name_or_email(client, intake):
    empty = await client.post("/forms/feedback", json={"name": "Jo"})
    anonymous = await client.post("/forms/feedback", json={"repairs": "Saturday slots are welcome."})

    assert empty.status_code == 422
    assert empty.json()["detail"][0]["loc"] == ["body", "telephone"]
    assert anonymous.status_code == 201
    [opened] = await outbox(intake, "case.opened")
    assert opened["kind"] == "general_enquiry"
    assert await outbox(intake, "notification.requested") == []  # nobody to reply to


async def test_an_unknown_json_field_is_refused(client):
    response = await client.post("/forms/enquiry", json={**VALID["enquiry"], "nickname": "JJ"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "nickname"]
    assert "JJ" not in response.text


async def refused(runtime: Runtime) -> list[Any]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(refused_forms).order_by(refused_forms.c.received_at))).all())


# -- what is refused is kept raw, with why -----------------------------------------------


async def test_a_refused_form_is_kept_as_it_arrived_with_its_reason_and_never_logged(client, intake, caplog):
    answers = {**VALID["repair"], "name": "Zebedee Quartermaine", "email": "not-an-email"}
    del answers["description"]
    body = json.dumps(answers).encode()

    with caplog.at_level("INFO"):
        response = await client.post(
            "/forms/repair", content=body, headers={"content-type": "application/json; charset=utf-8"}
        )

    assert response.status_code == 422
    [kept] = await refused(intake)
    assert (kept.form, kept.status, kept.reason) == ("repair", 422, "email,missing")
    assert kept.raw == body
    assert kept.content_type == "application/json; charset=utf-8"
    assert kept.received_at.tzinfo is not None
    [logged] = [r for r in caplog.records if r.getMessage() == "form refused"]
    assert (logged.path, logged.status, logged.reason, logged.raw_id) == ("/forms/repair", 422, "email,missing", kept.id)
    for record in caplog.records:
        said = f"{record.getMessage()} {record.__dict__}".lower()
        for typed in ("zebedee", "not-an-email", "07700", "anerley", "kitchen"):
            assert typed not in said
    assert await outbox(intake) == []


async def test_a_refused_form_post_is_kept_as_posted(client, intake):
    response = await client.post("/forms/enquiry", data={**VALID["enquiry"], "phone": "call me"})

    assert response.status_code == 422
    [kept] = await refused(intake)
    assert (kept.form, kept.reason, kept.content_type) == ("enquiry", "phone", "application/x-www-form-urlencoded")
    assert b"phone=call+me" in kept.raw


async def test_an_escalation_of_an_unknown_reference_is_kept_refused(client, intake):
    answers = {"reference": "HX-ZZZZ2222", "name": "Jo Tenant", "reason": "Still unhappy."}

    response = await client.post("/forms/escalation", json=answers)

    assert response.status_code == 404
    [kept] = await refused(intake)
    assert (kept.form, kept.status, kept.reason) == ("escalation", 404, "not_found")
    assert json.loads(kept.raw) == answers


async def test_an_accepted_form_is_not_kept_as_refused(client, intake):
    assert (await client.post("/forms/repair", json=VALID["repair"])).status_code == 201
    assert await refused(intake) == []


@pytest.mark.parametrize(
    ("content", "content_type", "status", "reason"),
    [
        (b"{not json", "application/json", 422, "json_invalid"),
        (b"[1, 2]", "application/json", 422, "model_type"),
        (b"name=%FF%FE", "application/x-www-form-urlencoded", 422, "unicode_error"),
        (b"anything", "text/plain", 415, "unsupported_media_type"),
        (b"x" * (256 * 1024 + 1), "application/json", 413, "too_large"),
    ],
)
async def test_a_body_that_is_not_a_form_gets_a_clear_error(client, intake, content, content_type, status, reason):
    response = await client.post("/forms/enquiry", content=content, headers={"content-type": content_type})

    assert response.status_code == status
    assert await outbox(intake) == []
    [kept] = await refused(intake)
    assert (kept.form, kept.status, kept.content_type) == ("enquiry", status, content_type)
    assert kept.raw == content[: 256 * 1024]  # kept up to the size limit
    assert kept.reason == reason


async def test_control_characters_and_header_injection_are_folded_away(client, intake):
    answers = {
        **VALID["repair"],
        "location": "Kitchen\r\nBcc: someone@example.org",
        "description": "Tap\x00 drips\x07\r\nall day",
    }

    response = await client.post("/forms/repair", json=answers)

    assert response.status_code == 201
    async with intake.sessions() as session:
        case = (await session.execute(select(cases))).one()
    assert case.subject == "Repair: Kitchen Bcc: someone@example.org"
    assert case.body.startswith("Tap drips\nall day")


async def test_a_form_post_can_ask_for_json(client):
    response = await client.post(
        "/forms/enquiry", data=VALID["enquiry"], headers={"accept": "application/json"}
    )

    assert response.status_code == 201
    assert REFERENCE.fullmatch(response.json()["reference"])


# -- the HTML path ---------------------------------------------------------------------


class Page(HTMLParser):
    """The parts of a page the checks look at."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.mark.parametrize("form", sorted(FORMS))
async def test_each_page_is_plain_labelled_html_that_posts_to_itself(client, form: str):
    response = await client.get(f"/forms/{form}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = Page(response.text)
    assert page.all("html") == [{"lang": "en-GB"}]
    [form_tag] = page.all("form")
    assert form_tag["method"] == "post"
    assert form_tag["action"] == f"/forms/{form}"
    fields = page.all("input") + page.all("textarea") + page.all("select")
    labels = {label["for"] for label in page.all("label")}
    assert fields
    for field in fields:
        assert field["id"] in labels, field
        assert field["name"] in FORMS[form].model.model_fields
    assert {f["name"] for f in fields} == set(FORMS[form].model.model_fields)
    assert len(page.all("fieldset")) == len(page.all("legend")) >= 1
    assert not page.all("script") and not page.all("link") and not page.all("img")
    assert "http://" not in response.text and "https://" not in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_a_refused_form_post_shows_the_page_again_with_messages_and_the_answers_kept(client, intake):
    answers = {
        **VALID["repair"],
        "email": "jo-at-example",
        "description": "",
        "location": "<script>alert(1)</script>",
    }

    response = await client.post("/forms/repair", data=answers)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Error: Report a repair" in response.text
    page = Page(response.text)
    summary_links = [a["href"] for a in page.all("a") if a.get("href", "").startswith("#f-")]
    assert summary_links == ["#f-email", "#f-description"]
    [email] = [i for i in page.all("input") if i["name"] == "email"]
    assert email["value"] == "jo-at-example"
    assert email["aria-invalid"] == "true"
    assert "f-email-error" in email["aria-describedby"]
    assert 'id="f-description-error"' in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>" not in response.text
    assert await outbox(intake) == []


async def test_the_forms_index_links_every_form(client):
    page = Page((await client.get("/forms")).text)

    assert {a["href"] for a in page.all("a")} >= {f"/forms/{name}" for name in FORMS}


# -- escalation to Stage 2 --------------------------------------------------------------


async def test_a_known_complaint_is_escalated_once(client, intake):
    complaint = (await client.post("/forms/complaint", json=VALID["complaint"])).json()
    typed = complaint["reference"].lower().replace("-", " ")
    answers = {
        "reference": typed,
        "name": "Jo Tenant",
        "reason": "The response did not deal with the missed visit.",
    }

    first = await client.post("/forms/escalation", json=answers)
    again = await client.post("/forms/escalation", data=answers)

    assert first.status_code == 201
    assert first.json() == complaint
    assert again.status_code == 200
    assert "already at Stage 2" in again.text
    [escalated] = await outbox(intake, "complaint.escalated")
    assert escalated["topic"] == Topic.CASES
    assert (escalated["case_id"], escalated["reference"]) == (complaint["case_id"], complaint["reference"])
    assert escalated["key"] == complaint["case_id"].encode()
    async with intake.sessions() as session:
        kept = (
            await session.execute(select(raw_messages).where(raw_messages.c.recipient == "web:escalation"))
        ).all()
    assert len(kept) == 2 and {row.case_id for row in kept} == {complaint["case_id"]}


async def test_an_escalation_by_form_post_thanks_the_tenant_with_the_stage_2_promise(client, intake):
    complaint = (await client.post("/forms/complaint", json=VALID["complaint"])).json()
    answers = {"reference": complaint["reference"], "name": "Jo Tenant", "reason": "Still not fixed."}

    response = await client.post("/forms/escalation", data=answers)

    assert response.status_code == 201
    assert complaint["reference"] in response.text
    assert "within 20 working days" in response.text
    assert len(await outbox(intake, "complaint.escalated")) == 1


@pytest.mark.parametrize("how", ["json", "form"])
async def test_an_unknown_reference_is_not_found(client, intake, how: str):
    answers = {"reference": "HX-ZZZZ2222", "name": "Jo Tenant", "reason": "Still unhappy."}

    response = await submit(client, "escalation", answers, how)

    assert response.status_code == 404
    assert "cannot find a complaint with that reference" in response.text
    if how == "form":
        assert 'href="#f-reference"' in response.text
        assert 'value="HX-ZZZZ2222"' in response.text
    assert await outbox(intake, "complaint.escalated") == []


async def test_only_a_complaint_can_be_escalated(client, intake):
    repair = (await client.post("/forms/repair", json=VALID["repair"])).json()
    answers = {"reference": repair["reference"], "name": "Jo Tenant", "reason": "Escalate my repair."}

    response = await client.post("/forms/escalation", json=answers)

    assert response.status_code == 404
    assert await outbox(intake, "complaint.escalated") == []


async def test_a_malformed_reference_is_refused(client):
    response = await client.post("/forms/escalation", json={"reference": "12", "name": "Jo", "reason": "x"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reference"]
