"""First classification of inbound contacts, and reading inbound email (intake's pure domain)."""

from email.message import EmailMessage

import pytest

from shared.events.cases import CaseKind, Channel, Flag, Mailbox, Priority, Reason
from services.intake.domain.classification import Contact, classify
from services.intake.domain.mail import UnreadableMail, mailbox_for, read_mail

DOMAIN = "hexagon.org.uk"
TENANT = "jo.tenant@example.org"


def repair(text: str) -> Contact:
    return Contact(Channel.EMAIL, Mailbox.REPAIRS, text)


# -- kind ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "channel, mailbox, kind, rule",
    [
        (Channel.EMAIL, Mailbox.REPAIRS, CaseKind.REPAIR_REQUEST, "mailbox:repairs"),
        (Channel.EMAIL, Mailbox.CUSTOMER_DESK, CaseKind.GENERAL_ENQUIRY, "mailbox:customer_desk"),
        (Channel.EMAIL, Mailbox.COMPLAINTS, CaseKind.COMPLAINT, "mailbox:complaints"),
        (Channel.LETTER, None, CaseKind.LETTER, "channel:letter"),
    ],
)
def test_the_kind_comes_from_the_mailbox_or_the_channel(channel, mailbox, kind, rule):  # type: ignore[no-untyped-def]
    result = classify(Contact(channel, mailbox, "Hello, a question about my tenancy."))
    assert result.kind is kind
    assert result.reasons[0] == Reason(rule=rule)


@pytest.mark.parametrize("mailbox", [Mailbox.CUSTOMER_DESK, Mailbox.COMPLAINTS])
def test_only_repair_requests_get_a_priority(mailbox: Mailbox):
    result = classify(Contact(Channel.EMAIL, mailbox, "There is a smell of gas and nobody came."))
    assert result.priority is None
    assert all(not reason.rule.endswith("-repair") for reason in result.reasons)


def test_a_letter_reporting_a_repair_is_a_repair_request_with_its_priority():
    result = classify(Contact(Channel.LETTER, None, "There is a smell of gas in the hall"))
    assert result.kind is CaseKind.REPAIR_REQUEST
    assert result.priority is Priority.EMERGENCY
    assert result.reasons[0] == Reason(rule="channel:letter:repair", words=("smell of gas",))


# -- priority ------------------------------------------------------------------------------

PRIORITIES = [
    # (text, priority, rule, words)
    ("There is a smell of gas in the kitchen.", Priority.EMERGENCY, "emergency-repair", ("smell of gas",)),
    ("I think there's a GAS LEAK", Priority.EMERGENCY, "emergency-repair", ("gas leak",)),
    ("We have no heating and no hot water", Priority.EMERGENCY, "emergency-repair", ("no heating", "no hot water")),
    ("Water coming through the ceiling!", Priority.EMERGENCY, "emergency-repair", ("water coming through",)),
    ("The socket is sparking", Priority.EMERGENCY, "emergency-repair", ("sparking",)),
    ("My front door can't lock", Priority.EMERGENCY, "emergency-repair", ("can't lock",)),
    ("The bathroom is flooded", Priority.EMERGENCY, "emergency-repair", ("flooded",)),
    ("smell\n   of\tgas upstairs", Priority.EMERGENCY, "emergency-repair", ("smell of gas",)),
    ("There is a leak under the sink", Priority.URGENT, "urgent-repair", ("leak",)),
    ("Blocked toilet since Sunday", Priority.URGENT, "urgent-repair", ("blocked toilet",)),
    ("We have no power in the bedroom", Priority.URGENT, "urgent-repair", ("no power",)),
    ("The garden fence is broken", Priority.ROUTINE, "routine-repair", ()),
    ("The kitchen cupboard door has come off", Priority.ROUTINE, "routine-repair", ()),
]


@pytest.mark.parametrize("text, priority, rule, words", PRIORITIES, ids=[p[0][:30] for p in PRIORITIES])
def test_the_priority_of_a_repair_comes_from_its_words(text: str, priority: Priority, rule: str, words: tuple):  # type: ignore[type-arg]
    result = classify(repair(text))
    assert result.kind is CaseKind.REPAIR_REQUEST
    assert result.priority is priority
    assert Reason(rule=rule, words=words) in result.reasons


def test_an_emergency_phrase_beats_an_urgent_one():
    result = classify(repair("Gas leak, and a leak under the sink"))
    assert result.priority is Priority.EMERGENCY
    assert [r.rule for r in result.reasons] == ["mailbox:repairs", "emergency-repair"]


def test_phrases_match_whole_words_only():
    # "leak" inside "bleak" is not a leak
    assert classify(repair("It has been a bleak winter, the fence needs fixing")).priority is Priority.ROUTINE


@pytest.mark.parametrize(
    "text",
    ["My kitchen tap is leaking", "The pipe under the sink leaks", "Water has leaked into the hallway"],
)
def test_everyday_forms_of_an_urgent_word_are_urgent(text: str):
    assert classify(repair(text)).priority is Priority.URGENT


# -- flags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mailbox, text, words",
    [
        (Mailbox.REPAIRS, "Black mould on the bedroom wall", ("mould",)),
        (Mailbox.REPAIRS, "Damp patches and condensation on the windows", ("damp", "condensation")),
        (Mailbox.COMPLAINTS, "You still have not dealt with the MOLD", ("mold",)),
        (Mailbox.CUSTOMER_DESK, "Is damp covered by my tenancy?", ("damp",)),
    ],
)
def test_damp_and_mould_is_flagged_whatever_the_mailbox(mailbox: Mailbox, text: str, words: tuple):  # type: ignore[type-arg]
    result = classify(Contact(Channel.EMAIL, mailbox, text))
    assert result.flags == (Flag.DAMP_AND_MOULD,)
    assert Reason(rule="damp-and-mould", words=words) in result.reasons


def test_a_letter_about_mould_is_flagged():
    assert classify(Contact(Channel.LETTER, None, "There is mould in the baby's room")).flags == (Flag.DAMP_AND_MOULD,)


@pytest.mark.parametrize("text", ["The bedroom walls are mouldy", "There is dampness in the hallway"])
def test_everyday_forms_of_damp_and_mould_are_flagged(text: str):
    """Awaab's Law starts its clock on damp and mould reported 'by any channel', in any words."""
    assert Flag.DAMP_AND_MOULD in classify(repair(text)).flags


def test_no_flag_without_damp_words():
    result = classify(repair("The garden fence is broken"))
    assert result.flags == ()
    assert [r.rule for r in result.reasons] == ["mailbox:repairs", "routine-repair"]


# -- which mailbox ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address, mailbox",
    [
        ("repairs_reporting@hexagon.org.uk", Mailbox.REPAIRS),
        ("customer_desk@hexagon.org.uk", Mailbox.CUSTOMER_DESK),
        ("complaints@hexagon.org.uk", Mailbox.COMPLAINTS),
        ("Repairs_Reporting@HEXAGON.org.uk", Mailbox.REPAIRS),
        ("<complaints@hexagon.org.uk>", Mailbox.COMPLAINTS),
        ("complaints@evil.example", None),
        ("complaints@mail.hexagon.org.uk", None),
        ("complaints@hexagon.org.uk.evil.example", None),
        ("nobody@hexagon.org.uk", None),
        ("repairs@hexagon.org.uk", None),
        ("complaints", None),
        ("", None),
    ],
)
def test_mailbox_for_an_address(address: str, mailbox: Mailbox | None):
    assert mailbox_for(address, DOMAIN) == mailbox


def test_the_domain_is_compared_without_case():
    assert mailbox_for("complaints@hexagon.org.uk", "Hexagon.Org.UK") is Mailbox.COMPLAINTS


# -- reading mail ------------------------------------------------------------------------------


def mail(body: str = "The boiler is broken.", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Jo Tenant <{TENANT}>"
    message["To"] = "repairs_reporting@hexagon.org.uk"
    message["Subject"] = "Boiler"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def test_a_plain_mail_gives_sender_subject_and_text():
    read = read_mail(mail().as_bytes())
    assert read.sender == TENANT
    assert read.subject == "Boiler"
    assert read.text.strip() == "The boiler is broken."
    assert read.automatic is False


def test_a_multipart_alternative_mail_gives_its_plain_text():
    message = mail("Plain words: smell of gas.")
    message.add_alternative("<html><body><p>HTML words</p></body></html>", subtype="html")
    read = read_mail(message.as_bytes())
    assert "Plain words: smell of gas." in read.text
    assert "HTML words" not in read.text


def test_a_mail_with_an_attachment_gives_its_text_not_the_attachment():
    message = mail("See the photo of the mould.")
    message.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="mould.png")
    read = read_mail(message.as_bytes())
    assert read.text.strip() == "See the photo of the mould."


def test_an_html_only_mail_gives_its_words():
    message = mail()
    message.set_content("<html><body><p>Black <b>mould</b> in the bathroom</p></body></html>", subtype="html")
    read = read_mail(message.as_bytes())
    assert "mould" in read.text
    assert "bathroom" in read.text


def test_an_html_only_mail_gives_its_words_without_markup_or_entities():
    """Many mail programs write spaces as &nbsp;: "smell of gas" must still be found."""
    message = mail()
    message.set_content("<p>There is a smell&nbsp;of&nbsp;gas &amp; a leak</p>", subtype="html")
    read = read_mail(message.as_bytes())
    assert "<p>" not in read.text
    assert "smell of gas & a leak" in " ".join(read.text.split())


def test_a_latin_1_mail_is_decoded_by_its_charset():
    raw = (
        b"From: jo.tenant@example.org\r\n"
        b"Subject: =?iso-8859-1?q?R=E9paration?=\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"Caf\xe9 ceiling: mould, \xa3200 of damage"
    )
    read = read_mail(raw)
    assert read.subject == "Réparation"
    assert read.text == "Café ceiling: mould, £200 of damage"


def test_an_unknown_charset_falls_back_without_failing():
    raw = (
        b"From: jo.tenant@example.org\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
        b"Water coming through the ceiling"
    )
    assert read_mail(raw).text == "Water coming through the ceiling"


@pytest.mark.parametrize(
    "headers, automatic",
    [
        ({"Auto-Submitted": "auto-replied"}, True),
        ({"Auto-Submitted": "Auto-Generated"}, True),
        ({"Auto-Submitted": "no"}, False),
        ({"Precedence": "bulk"}, True),
        ({"Precedence": "junk"}, True),
        ({"Precedence": "list"}, True),
        ({"Precedence": "auto_reply"}, True),
        ({"Precedence": "first-class"}, False),
        ({}, False),
    ],
)
def test_automatic_replies_are_recognised(headers: dict[str, str], automatic: bool):
    assert read_mail(mail(**headers).as_bytes()).automatic is automatic


@pytest.mark.parametrize(
    "raw",
    [
        b"From: jo.tenant@example.org\r\nSubject: caf\xe9\r\n\r\nbad \xff\xfe bytes",
        b"From: jo.tenant@example.org\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nhello",
        b"From: jo.tenant@example.org\r\nContent-Type: multipart/mixed\r\n\r\nno boundary",
        b"From: jo.tenant@example.org\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64***",
        b"From: <<<>>>@@\r\nSubject: =?utf-8?b?!!!?=\r\n\r\nbroken headers",
    ],
    ids=["8-bit bytes", "unterminated multipart", "no boundary", "bad base64", "broken headers"],
)
def test_malformed_mail_is_read_as_far_as_possible(raw: bytes):
    read = read_mail(raw)
    assert isinstance(read.text, str)
    (read.subject + read.text).encode("utf-8")  # storable and loggable as UTF-8


def test_a_sender_that_is_not_an_address_is_none():
    assert read_mail(b"From: <<<>>>@@\r\nSubject: x\r\n\r\nhello").sender is None


@pytest.mark.parametrize("raw", [b"", b"\x00\x01\x02", b"\xff\xfe\x00garbage", b"not an email at all"])
def test_input_without_headers_is_unreadable(raw: bytes):
    with pytest.raises(UnreadableMail):
        read_mail(raw)


@pytest.mark.parametrize(
    ("channel", "text", "kind", "priority"),
    [
        (Channel.PHONE, "There is water coming through the ceiling", CaseKind.REPAIR_REQUEST, Priority.EMERGENCY),
        (Channel.IN_PERSON, "My kitchen tap is leaking", CaseKind.REPAIR_REQUEST, Priority.URGENT),
        (Channel.PHONE, "When is my rent review?", CaseKind.GENERAL_ENQUIRY, None),
        (Channel.LETTER, "There is water coming through the ceiling", CaseKind.REPAIR_REQUEST, Priority.EMERGENCY),
        (Channel.LETTER, "Please update the name on my tenancy", CaseKind.LETTER, None),
    ],
)
def test_a_call_visit_or_letter_is_a_repair_when_it_names_one(channel, text, kind, priority):  # type: ignore[no-untyped-def]
    result = classify(Contact(channel, None, text))
    assert (result.kind, result.priority) == (kind, priority)
