"""Twilio's status reports: signed, out of order and twice; the furthest status is kept
and delivery or failure is said once."""

from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import TestKafkaBroker
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from shared.events import parse_event, utcnow
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from shared.service import Runtime
from shared.topics import Topic
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.adapters.tables import deliveries
from services.notifier.handlers import Notifier
from services.notifier.webhooks import STATUS_PATH, add_twilio_routes
from tests.component.conftest import record
from tests.privacy import shows_phone


def text(purpose: Purpose, template: str, values: dict[str, str]) -> NotificationRequested:
    """A text to case-1's tenant, as the notifier would have been asked to send it."""
    return NotificationRequested(
        correlation_id="case-1", case_id="case-1", appointment_id="A1",
        idempotency_key=f"case-1:{purpose}", purpose=purpose, template=template,
        recipient=Recipient(phone="07700 900123"), personalisation={"reference": "HX-ABCD2345", **values},
    )

TOKEN = "test-auth-token"
CALLBACK = "https://doorstep.example/v1/twilio/status"
SID = "SM0123456789abcdef0123456789abcdef"


class NoEmail:
    async def send_email(self, key, to, message):  # type: ignore[no-untyped-def]
        raise AssertionError("no email expected")


@pytest.fixture
async def sent_text(notifier_runtime: Runtime) -> Runtime:
    async with notifier_runtime.sessions.begin() as session:
        await session.execute(
            deliveries.insert().values(
                idempotency_key="case-1:appointment_reminder",
                case_id="case-1",
                purpose="appointment_reminder",
                channel="sms",
                status="sent",
                provider_ref=SID,
                created_at=utcnow(),
            )
        )
    return notifier_runtime


def app_for(runtime: Runtime) -> FastAPI:
    app = FastAPI()
    add_twilio_routes(app, Notifier(runtime, Templates(), NoEmail()), TOKEN, CALLBACK)
    return app


async def report(client: httpx.AsyncClient, status: str, *, sign_with: str = TOKEN, **extra: str) -> int:
    form = {"MessageSid": SID, "MessageStatus": status, "To": "+447700900123", **extra}
    signature = RequestValidator(sign_with).compute_signature(CALLBACK, form)
    response = await client.post(
        STATUS_PATH,
        content=urlencode(form),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    return response.status_code


async def provider_status(runtime: Runtime) -> str | None:
    async with runtime.sessions() as session:
        return await session.scalar(select(deliveries.c.provider_status))


async def test_reports_out_of_order_and_twice_say_delivered_once(sent_text: Runtime):
    outcomes = record(sent_text.broker, Topic.NOTIFICATIONS_OUTCOMES)
    transport = httpx.ASGITransport(app=app_for(sent_text))
    async with TestKafkaBroker(sent_text.broker), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for status in ("sent", "delivered", "sending", "delivered", "sent"):
            assert await report(client, status) == 204
        await sent_text.outbox.relay_pending()

    assert [parse_event(r.body).event_type for r in outcomes.records] == ["notification.delivered"]
    delivered = parse_event(outcomes.records[0].body)
    assert (delivered.channel, delivered.provider_ref) == ("sms", SID)
    assert await provider_status(sent_text) == "delivered"


async def test_a_failed_text_is_reported_once_and_stays_failed(sent_text: Runtime):
    outcomes = record(sent_text.broker, Topic.NOTIFICATIONS_OUTCOMES)
    transport = httpx.ASGITransport(app=app_for(sent_text))
    async with TestKafkaBroker(sent_text.broker), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert await report(client, "undelivered", ErrorCode="30003") == 204
        assert await report(client, "delivered") == 204  # a late, contradictory report
        await sent_text.outbox.relay_pending()

    [failed] = [parse_event(r.body) for r in outcomes.records]
    assert failed.event_type == "notification.failed"
    assert "30003" in failed.reason
    assert "+44" not in failed.reason
    assert await provider_status(sent_text) == "undelivered"


async def test_a_forged_report_is_refused_and_changes_nothing(sent_text: Runtime, caplog: pytest.LogCaptureFixture):
    transport = httpx.ASGITransport(app=app_for(sent_text))
    with caplog.at_level("WARNING", logger="services.notifier.webhooks"):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert await report(client, "delivered", sign_with="not-our-token") == 403
            unsigned = await client.post(STATUS_PATH, content=urlencode({"MessageSid": SID, "MessageStatus": "failed"}))
            assert unsigned.status_code == 403
    assert await provider_status(sent_text) is None
    refused = [r for r in caplog.records if r.name == "services.notifier.webhooks"]
    assert [(r.getMessage(), r.path) for r in refused] == [("call refused: bad signature", STATUS_PATH)] * 2
    assert not any(shows_phone(str(r.__dict__), "07700 900123") for r in refused)


async def test_a_report_on_an_unknown_message_is_accepted_and_ignored(sent_text: Runtime):
    transport = httpx.ASGITransport(app=app_for(sent_text))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        form = {"MessageSid": "SMunknown", "MessageStatus": "delivered"}
        signature = RequestValidator(TOKEN).compute_signature(CALLBACK, form)
        response = await client.post(
            STATUS_PATH,
            content=urlencode(form),
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 204
    assert await provider_status(sent_text) is None


INBOUND = "https://doorstep.example/v1/twilio/inbound"


def inbound_app(runtime: Runtime, sms) -> FastAPI:  # type: ignore[no-untyped-def]
    app = FastAPI()
    notifier = Notifier(runtime, Templates(), NoEmail(), sms, quiet=None)
    add_twilio_routes(app, notifier, TOKEN, CALLBACK, INBOUND)
    return app


async def text_in(
    client: httpx.AsyncClient, body: str, sign_with: str = TOKEN, message_sid: str = "SMin"
) -> httpx.Response:
    from services.notifier.webhooks import INBOUND_PATH

    form = {"From": "+447700900123", "To": "Hexagon", "Body": body, "MessageSid": message_sid}
    signature = RequestValidator(sign_with).compute_signature(INBOUND, form)
    return await client.post(
        INBOUND_PATH,
        content=urlencode(form),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )


async def test_stop_ends_texts_start_brings_them_back_and_help_is_answered(notifier_runtime: Runtime):
    from shared.events.notifications import NotificationRequested, Purpose, Recipient
    from tests.component.test_notifier import RecordingSms

    sms = RecordingSms()
    app = inbound_app(notifier_runtime, sms)
    notifier = Notifier(notifier_runtime, Templates(), NoEmail(), sms, quiet=None)

    def reminder(n: int) -> NotificationRequested:
        return NotificationRequested(
            correlation_id="case-1", case_id="case-1", idempotency_key=f"case-1:reminder:{n}",
            purpose=Purpose.APPOINTMENT_REMINDER, template="acknowledgement",
            recipient=Recipient(phone="07700 900123"), personalisation={"reference": "HX-ABCD2345", "promise": ""},
        )

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        stopped = await text_in(client, " stop ")
        assert stopped.status_code == 200
        assert "<Message>" not in stopped.text
        await notifier.handle_request(reminder(1))  # no text; no email either: it fails for staff
        await notifier.settled()
        assert sms.sent == []

        assert (await text_in(client, "START")).status_code == 200
        await notifier.handle_request(reminder(2))
        await notifier.settled()
        assert len(sms.sent) == 1

        helped = await text_in(client, "help")
        assert "Reply STOP" in helped.text
        assert (await text_in(client, "STOP", sign_with="forged")).status_code == 403


async def test_replies_to_a_survey_and_a_reminder_become_events(notifier_runtime: Runtime):
    from shared.events.notifications import NotificationRequested, Purpose, Recipient
    from tests.component.test_notifier import RecordingSms

    sms = RecordingSms()
    app = inbound_app(notifier_runtime, sms)
    notifier = Notifier(notifier_runtime, Templates(), NoEmail(), sms, quiet=None)
    cases = record(notifier_runtime.broker, Topic.CASES)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    transport = httpx.ASGITransport(app=app)
    async with TestKafkaBroker(notifier_runtime.broker), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await notifier.handle_request(text(Purpose.SATISFACTION_SURVEY, "satisfaction_survey", {}))
        await notifier.settled()
        assert (await text_in(client, "4 5 3 5 4 4 4 5")).status_code == 200
        await notifier.handle_request(
            text(Purpose.APPOINTMENT_REMINDER, "appointment_reminder",
                 {"appointment_date": "Monday 7 December", "appointment_time": "8am to 12pm"})
        )
        await notifier.settled()
        assert (await text_in(client, "Rearrange")).status_code == 200
        assert (await text_in(client, "hello there")).status_code == 200  # fits nothing: ignored
        await notifier_runtime.outbox.relay_pending()

    [answered] = [parse_event(r.body) for r in cases.records]
    assert answered.event_type == "survey.answered"
    assert answered.reference == "HX-ABCD2345"
    assert len(answered.scores) == 8
    assert answered.scores["overall"] == 5
    replies = [parse_event(r.body) for r in outcomes.records if r.headers.get("event_type") == "reply.received"]
    assert [(r.intent, r.appointment_id) for r in replies] == [("rearrange", "A1")]


async def test_a_request_in_the_tenants_own_words_to_stop_texts_is_flagged_to_staff(
    notifier_runtime: Runtime, caplog: pytest.LogCaptureFixture
):
    from shared.events.notifications import NotificationRequested, Purpose, Recipient
    from tests.component.test_notifier import RecordingSms

    sms = RecordingSms()
    app = inbound_app(notifier_runtime, sms)
    notifier = Notifier(notifier_runtime, Templates(), NoEmail(), sms, quiet=None)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)
    words = "Please stop texting me, my neighbour reads my phone"

    transport = httpx.ASGITransport(app=app)
    async with TestKafkaBroker(notifier_runtime.broker), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await notifier.handle_request(
            NotificationRequested(
                correlation_id="case-1", case_id="case-1", appointment_id="A1", idempotency_key="case-1:reminder",
                purpose=Purpose.APPOINTMENT_REMINDER, template="acknowledgement",
                recipient=Recipient(phone="07700 900123"), personalisation={"reference": "HX-ABCD2345", "promise": ""},
            )
        )
        await notifier.settled()
        with caplog.at_level("DEBUG"):
            answered = await text_in(client, words)
        await notifier_runtime.outbox.relay_pending()

    assert answered.status_code == 200 and "<Message>" not in answered.text
    [task] = [parse_event(r.body) for r in outcomes.of_type("staff_task.raised")]
    assert (task.task, task.case_id, task.appointment_id) == ("opt_out_requested", "case-1", "A1")
    assert "neighbour" not in outcomes.of_type("staff_task.raised")[0].body.decode()
    ours = [r for r in caplog.records if r.name.startswith(("services.", "shared."))]
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    assert "neighbour" not in logged and not shows_phone(logged, "07700 900123")
    assert "opt_out_request" in logged


async def test_a_reply_of_one_two_or_three_after_offers_chooses_that_offer(notifier_runtime: Runtime):
    from shared.events.notifications import NotificationRequested, Purpose, Recipient
    from tests.component.test_notifier import RecordingSms

    sms = RecordingSms()
    app = inbound_app(notifier_runtime, sms)
    notifier = Notifier(notifier_runtime, Templates(), NoEmail(), sms, quiet=None)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)
    cases = record(notifier_runtime.broker, Topic.CASES)

    def offers(key: str, **offered: str) -> NotificationRequested:
        return NotificationRequested(
            correlation_id="case-1", case_id="case-1", appointment_id=None, idempotency_key=key,
            purpose=Purpose.APPOINTMENT_OFFERS, template="appointment_offers",
            recipient=Recipient(phone="07700 900123"), personalisation={"reference": "HX-ABCD2345", **offered},
        )

    transport = httpx.ASGITransport(app=app)
    async with TestKafkaBroker(notifier_runtime.broker), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await notifier.handle_request(offers("case-1:offers:1", offer_1="Mon 8am-1pm", offer_2="Wed 12-5pm"))
        await notifier.settled()
        assert (await text_in(client, "3")).status_code == 200  # only two were offered: nothing
        assert (await text_in(client, " 2 ")).status_code == 200
        await notifier_runtime.outbox.relay_pending()

    replies = [parse_event(r.body) for r in outcomes.of_type("reply.received")]
    assert [(r.intent, r.offer, r.case_id) for r in replies] == [("choose_offer", 2, "case-1")]
    assert cases.records == []  # not taken for a survey answer


async def test_the_same_inbound_text_posted_twice_gives_events_with_the_same_event_id(notifier_runtime: Runtime):
    """Twilio posts a webhook again when it got no answer in time: consumers drop the copy by event_id."""
    from shared.events.notifications import NotificationRequested, Purpose, Recipient
    from tests.component.test_notifier import RecordingSms

    sms = RecordingSms()
    app = inbound_app(notifier_runtime, sms)
    notifier = Notifier(notifier_runtime, Templates(), NoEmail(), sms, quiet=None)
    cases = record(notifier_runtime.broker, Topic.CASES)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    transport = httpx.ASGITransport(app=app)
    async with TestKafkaBroker(notifier_runtime.broker), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await notifier.handle_request(text(Purpose.SATISFACTION_SURVEY, "satisfaction_survey", {}))
        await notifier.settled()
        for _ in range(2):
            assert (await text_in(client, "4 5 3 5 4 4 4 5", message_sid="SMsurvey")).status_code == 200
        await notifier.handle_request(
            text(Purpose.APPOINTMENT_REMINDER, "appointment_reminder",
                 {"appointment_date": "Monday 7 December", "appointment_time": "8am to 12pm"})
        )
        await notifier.settled()
        for sid in ("SMreply", "SMreply", "SManother"):
            assert (await text_in(client, "Rearrange", message_sid=sid)).status_code == 200
        await notifier_runtime.outbox.relay_pending()

    answered = [parse_event(r.body) for r in cases.of_type("survey.answered")]
    assert len(answered) == 2 and answered[0].event_id == answered[1].event_id
    replies = [parse_event(r.body) for r in outcomes.of_type("reply.received")]
    assert len(replies) == 3
    assert replies[0].event_id == replies[1].event_id != replies[2].event_id
    assert answered[0].event_id != replies[0].event_id


@pytest.mark.parametrize(("words", "offer"), [("2.", 2), ("option 1", 1), ("Option 2!", 2)])
async def test_a_choice_written_out_after_offers_chooses_that_offer(notifier_runtime: Runtime, words: str, offer: int):
    from shared.events.notifications import NotificationRequested, Purpose, Recipient
    from tests.component.test_notifier import RecordingSms

    sms = RecordingSms()
    app = inbound_app(notifier_runtime, sms)
    notifier = Notifier(notifier_runtime, Templates(), NoEmail(), sms, quiet=None)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    transport = httpx.ASGITransport(app=app)
    async with TestKafkaBroker(notifier_runtime.broker), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await notifier.handle_request(
            NotificationRequested(
                correlation_id="case-1", case_id="case-1", idempotency_key="case-1:offers:1",
                purpose=Purpose.APPOINTMENT_OFFERS, template="appointment_offers",
                recipient=Recipient(phone="07700 900123"),
                personalisation={"reference": "HX-ABCD2345", "offer_1": "Mon 8am-1pm", "offer_2": "Wed 12-5pm"},
            )
        )
        await notifier.settled()
        assert (await text_in(client, words)).status_code == 200
        await notifier_runtime.outbox.relay_pending()

    replies = [parse_event(r.body) for r in outcomes.of_type("reply.received")]
    assert [(r.intent, r.offer) for r in replies] == [("choose_offer", offer)]


async def test_a_text_reported_undelivered_goes_once_by_email_and_the_mobile_is_kept(notifier_runtime: Runtime):
    from services.notifier.contacts import contact_of
    from tests.component.test_notifier import RecordingSender, RecordingSms

    email, sms = RecordingSender(), RecordingSms()
    notifier = Notifier(notifier_runtime, Templates(), email, sms, quiet=None)
    app = FastAPI()
    add_twilio_routes(app, notifier, TOKEN, CALLBACK)
    reminder = text(Purpose.APPOINTMENT_REMINDER, "appointment_reminder", {
        "appointment_date": "Tuesday 8 December", "appointment_time": "8am to 12pm",
    }).model_copy(update={"recipient": Recipient(phone="07700 900123", email="tenant@example.org")})
    await notifier.handle_request(reminder)
    await notifier.settled()
    assert len(sms.sent) == 1 and email.sent == []
    async with notifier_runtime.sessions.begin() as session:
        await session.execute(deliveries.update().values(provider_ref=SID))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for status in ("sent", "undelivered", "failed", "undelivered"):
            assert await report(client, status, ErrorCode="30003") == 204
    await notifier.settled()

    assert email.sent == [("case-1:appointment_reminder:email", "tenant@example.org")]
    assert len(sms.sent) == 1
    recipient, _ = await contact_of(notifier_runtime, "case-1")
    assert recipient.phone == "07700 900123"  # one undelivered text does not forget the mobile


async def test_a_text_reported_undelivered_without_an_email_is_only_reported(sent_text: Runtime):
    """The request kept with the row has no email: nothing else is sent (NoEmail would fail)."""
    async with sent_text.sessions.begin() as session:
        await session.execute(deliveries.update().values(request=text(
            Purpose.APPOINTMENT_REMINDER, "appointment_reminder", {}).model_dump_json()))
    transport = httpx.ASGITransport(app=app_for(sent_text))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert await report(client, "undelivered") == 204
    assert await provider_status(sent_text) == "undelivered"


async def test_confirm_after_a_gas_check_chaser_confirms_the_morning_it_proposed(notifier_runtime: Runtime):
    from tests.component.test_notifier import RecordingSms

    sms = RecordingSms()
    app = inbound_app(notifier_runtime, sms)
    notifier = Notifier(notifier_runtime, Templates(), NoEmail(), sms, quiet=None)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    transport = httpx.ASGITransport(app=app)
    async with TestKafkaBroker(notifier_runtime.broker), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await notifier.handle_request(
            text(Purpose.GAS_CHECK_CHASER, "gas_check_chaser",
                 {"certificate_expires": "Friday 30 April 2027", "appointment_date": "Wednesday 31 March 2027",
                  "appointment_time": "8am to 12pm"})
        )
        await notifier.settled()
        assert len(sms.sent) == 1
        assert (await text_in(client, "confirm")).status_code == 200
        await notifier_runtime.outbox.relay_pending()

    replies = [parse_event(r.body) for r in outcomes.records if r.headers.get("event_type") == "reply.received"]
    assert [(r.intent, r.case_id) for r in replies] == [("confirm", "case-1")]
