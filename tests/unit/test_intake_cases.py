"""A new case and its acknowledgement (pure)."""

from datetime import UTC, datetime

import pytest

from shared.events.cases import Channel, Mailbox
from shared.standards.loader import load_all
from services.intake.domain.cases import ReceivedContact, acknowledgement, open_case, reply_promise

RECEIVED = datetime(2026, 11, 30, 10, tzinfo=UTC)


def opened(channel: Channel, mailbox: Mailbox | None, text: str = "Hello"):  # type: ignore[no-untyped-def]
    return open_case("c1", "HX-ABCD2345", ReceivedContact(channel, mailbox, text, RECEIVED))


@pytest.mark.parametrize(
    ("mailbox", "words"),
    [
        (Mailbox.REPAIRS, "within 3 working days"),
        (Mailbox.CUSTOMER_DESK, "within 5 working days"),
        (Mailbox.COMPLAINTS, "within 5 working days"),
    ],
)
def test_the_acknowledgement_quotes_the_standard_in_force(mailbox: Mailbox, words: str):
    promise = reply_promise(load_all(), opened(Channel.EMAIL, mailbox))
    assert words in promise


def test_a_letter_has_no_mailbox_promise():
    assert reply_promise(load_all(), opened(Channel.LETTER, None)) == ""


def test_the_acknowledgement_is_keyed_once_per_case():
    case = opened(Channel.EMAIL, Mailbox.REPAIRS, "smell of gas")
    request = acknowledgement(case, "jo@example.org", "We will reply.")
    assert request.idempotency_key == "c1:acknowledgement"
    assert request.personalisation == {"reference": "HX-ABCD2345", "promise": "We will reply."}
    assert request.key() == b"c1"


def test_an_acknowledgement_for_a_safeguarding_case_is_marked_so():
    from shared.events.cases import Flag

    case = opened(Channel.EMAIL, Mailbox.CUSTOMER_DESK).model_copy(update={"flags": (Flag.SAFEGUARDING,)})
    assert acknowledgement(case, "jo@example.org", "").safeguarding is True
    assert acknowledgement(opened(Channel.EMAIL, Mailbox.CUSTOMER_DESK), "jo@example.org", "").safeguarding is False


# -- what case.opened carries for booking and the works order ------------------------------


def test_a_case_carries_how_to_reach_the_tenant_and_what_they_said():
    contact = ReceivedContact(
        Channel.WEB, Mailbox.REPAIRS, "The boiler is leaking", RECEIVED, subject="Repair: kitchen",
        sender_email="jo@example.org", sender_phone="+447700900123", property_id="P-1", tenancy_id="T-9",
    )
    case = open_case("c1", "HX-ABCD2345", contact)
    assert case.contact is not None
    assert (case.contact.email, case.contact.phone) == ("jo@example.org", "+447700900123")
    assert (case.property_id, case.tenancy_id) == ("P-1", "T-9")
    assert case.description == "Repair: kitchen\nThe boiler is leaking"


def test_a_case_with_no_way_to_reach_the_tenant_has_no_contact():
    case = opened(Channel.LETTER, None, "Please call")
    assert case.contact is None
    assert case.description == "Please call"


def test_a_long_description_is_trimmed_to_what_the_event_allows():
    case = opened(Channel.EMAIL, Mailbox.REPAIRS, "word " * 1000)
    assert len(case.description) == 2000
    assert case.description.endswith("…")
    assert case.description.startswith("word word")


def test_a_stated_kind_is_kept_and_its_words_still_flag():
    from shared.events.cases import CaseKind, Flag

    contact = ReceivedContact(
        Channel.WEB, None, "Comments on effective handling of complaints; mould in my flat", RECEIVED,
        kind=CaseKind.GENERAL_ENQUIRY,
    )
    case = open_case("c1", "HX-ABCD2345", contact)
    assert case.kind is CaseKind.GENERAL_ENQUIRY
    assert Flag.DAMP_AND_MOULD in case.flags
