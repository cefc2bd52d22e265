"""`doorstep watch`: one readable line per record, personal data shown as keys only."""

from datetime import UTC, datetime

from shared.events import serialize
from shared.events.cases import CaseKind, CaseOpened, Channel, Mailbox, Priority, Reason
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from services.cli.watch import describe

CASE_ID = "5b0f6a3e-8f0e-4c1e-9d43-1c2b3a4d5e6f"
TENANT_EMAIL = "jo.tenant@example.org"
TENANT_PHONE = "07700 900123"
AT_MS = int(datetime(2026, 11, 30, 10, 0, 5, tzinfo=UTC).timestamp() * 1000)


def test_a_case_opened_shows_type_key_and_main_fields():
    case = CaseOpened(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference="HX-ABCD2345",
        channel=Channel.EMAIL,
        mailbox=Mailbox.REPAIRS,
        kind=CaseKind.REPAIR_REQUEST,
        priority=Priority.EMERGENCY,
        reasons=(Reason(rule="emergency-repair", words=("smell of gas",)),),
        received_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )
    line = describe(case.key(), serialize(case), AT_MS)
    assert line.startswith("2026-11-30 10:00:05")
    assert "case.opened" in line
    assert f"key={CASE_ID}" in line
    for shown in ("reference=HX-ABCD2345", "kind=repair_request", "priority=emergency", "mailbox=repairs"):
        assert shown in line
    assert "smell of gas" in line  # the reasons, compactly
    assert "event_id" not in line  # the envelope is left out
    assert "\n" not in line


def test_a_notification_request_shows_recipient_and_personalisation_as_keys_only():
    request = NotificationRequested(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        idempotency_key=f"{CASE_ID}:acknowledgement",
        purpose=Purpose.ACKNOWLEDGEMENT,
        template="acknowledgement",
        recipient=Recipient(email=TENANT_EMAIL, phone=TENANT_PHONE),
        personalisation={"reference": "HX-ABCD2345", "name": "Jo Tenant"},
    )
    line = describe(request.key(), serialize(request), AT_MS)
    assert "notification.requested" in line
    assert "template=acknowledgement" in line
    assert "recipient=…" in line
    assert "personalisation=…" in line
    assert TENANT_EMAIL not in line
    assert TENANT_PHONE not in line
    assert "Jo Tenant" not in line


def test_bytes_that_are_not_json_are_described_without_crashing():
    line = describe(b"k-1", b"{not json \xff\xfe", AT_MS)
    assert "not JSON" in line
    assert "12 bytes" in line
    assert "key=k-1" in line


def test_json_that_is_not_an_event_is_described_without_crashing():
    assert "not an event" in describe(None, b"[1, 2, 3]", AT_MS)
    assert "not an event" in describe(None, b'"just a string"', AT_MS)


def test_a_record_without_a_key_shows_a_dash():
    assert "key=-" in describe(None, b'{"event_type": "case.closed", "case_id": "c"}', AT_MS)


def test_json_nested_past_the_parsers_limit_is_shown_as_not_json():
    line = describe(b"k-2", b"[" * 20000 + b"]" * 20000, AT_MS)
    assert "not JSON, 40000 bytes" in line
