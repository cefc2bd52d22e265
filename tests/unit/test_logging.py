"""Structured logs carry ids, never a tenant's email address, phone number or message body."""

import json
import logging
import sys
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from shared.logging import SAFE_FIELDS, JsonFormatter, configure_logging

EMAIL = "jo.tenant+repairs@example.org"
PHONES = ["07700 900123", "+44 7700 900123", "020 8778 6699", "07700900123", "+447700900123"]


def render(message: str, *args: object, extra: dict[str, object] | None = None, exc_info=None) -> dict:  # type: ignore[no-untyped-def]
    record = logging.getLogger("doorstep.test").makeRecord(
        "doorstep.test", logging.INFO, __file__, 1, message, args, exc_info, extra=extra
    )
    return json.loads(JsonFormatter().format(record))


def test_an_entry_has_time_level_logger_and_message():
    entry = render("case opened")
    assert entry["msg"] == "case opened"
    assert entry["level"] == "info"
    assert entry["logger"] == "doorstep.test"
    assert datetime.fromisoformat(entry["at"]).tzinfo is not None


def test_allow_listed_extra_fields_are_kept():
    case_id = str(uuid4())
    entry = render("case opened", extra={"case_id": case_id, "reference": "HX-ABCD2345", "kind": "repair_request"})
    assert entry["case_id"] == case_id
    assert entry["reference"] == "HX-ABCD2345"
    assert entry["kind"] == "repair_request"


def test_other_extra_fields_are_dropped():
    entry = render(
        "case opened",
        extra={"email": EMAIL, "body": "There is a smell of gas", "phone": PHONES[0], "case_id": "c-1"},
    )
    assert {"email", "body", "phone"}.isdisjoint(entry)
    assert entry["case_id"] == "c-1"
    assert EMAIL not in json.dumps(entry)
    assert "smell of gas" not in json.dumps(entry)


def test_personal_data_fields_are_not_on_the_allow_list():
    assert {"email", "phone", "body", "text", "recipient", "personalisation", "subject"}.isdisjoint(SAFE_FIELDS)


def test_email_addresses_are_scrubbed_from_the_message():
    entry = render("could not deliver to %s", EMAIL)
    assert EMAIL not in entry["msg"]
    assert "example.org" not in entry["msg"]
    assert entry["msg"] == "could not deliver to [email]"


@pytest.mark.parametrize("phone", PHONES)
def test_uk_phone_numbers_are_scrubbed_from_the_message(phone: str):
    entry = render(f"SMS to {phone} refused")
    assert entry["msg"] == "SMS to [phone] refused"


@pytest.mark.parametrize("value", [EMAIL, *PHONES])
def test_personal_data_is_scrubbed_from_allowed_fields_too(value: str):
    entry = render("notification failed", extra={"reason": f"mailbox {value} is full"})
    assert value not in entry["reason"]
    assert entry["reason"].startswith("mailbox [")


def test_an_exception_is_recorded_by_type_only():
    try:
        raise ValueError(f"bad address {EMAIL}")
    except ValueError:
        entry = render("sending failed", exc_info=sys.exc_info())
    assert entry["error"] == "ValueError"
    assert EMAIL not in json.dumps(entry)
    assert "bad address" not in json.dumps(entry)
    assert "Traceback" not in json.dumps(entry)


def test_no_error_field_without_an_exception():
    assert "error" not in render("fine")


@pytest.mark.parametrize(
    "harmless",
    [
        str(uuid4()),
        "123e4567-e89b-12d3-a456-426614174000",
        "12345678-1234-4abc-8def-123456789012",
        "2026-11-30T10:00:00+00:00",
        datetime(2026, 12, 3, 17, 0, tzinfo=UTC).isoformat(),
        "HX-ABCD2345",
        "HX-23456789",
        "hexagon:email_reply_repairs:5b0f6a3e-8f0e-4c1e-9d43-1c2b3a4d5e6f",
    ],
)
def test_ids_and_iso_timestamps_are_not_mangled(harmless: str):
    assert render(f"clock started {harmless} ok")["msg"] == f"clock started {harmless} ok"
    assert render("clock started", extra={"deadline": harmless})["deadline"] == harmless


@pytest.mark.parametrize(
    "harmless",
    [
        "2026-12-03",  # an ISO 8601 date
        str(datetime(2026, 12, 3, 17, 0, tzinfo=UTC)),  # how f"{deadline}" prints: "2026-12-03 17:00:00+00:00"
    ],
)
def test_dates_and_printed_datetimes_are_not_mistaken_for_phone_numbers(harmless: str):
    assert render(f"due {harmless}.")["msg"] == f"due {harmless}."


def test_large_kafka_offsets_are_not_mistaken_for_phone_numbers():
    entry = render("message dead-lettered", extra={"topic": "doorstep.cases", "partition": 3, "offset": 123456789})
    assert entry["offset"] in (123456789, "123456789")
    assert entry["partition"] in (3, "3")


def test_configure_logging_tags_every_entry_with_the_service(capsys: pytest.CaptureFixture[str]):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("notifier", "INFO")
        logging.getLogger("services.notifier").info("started", extra={"port": 8083, "email": EMAIL})
        logging.getLogger("services.notifier").debug("not shown")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["msg"] for line in lines] == ["started"]
    assert lines[0]["service"] == "notifier"
    assert "email" not in lines[0]


def test_configure_logging_quietens_libraries_that_echo_payloads():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("notifier", "DEBUG")
        for noisy in ("aiokafka", "faststream"):
            assert logging.getLogger(noisy).getEffectiveLevel() >= logging.WARNING
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
