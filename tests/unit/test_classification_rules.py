"""Each classification rule, phrase by phrase, and how the rules combine (intake's pure domain)."""

import pytest

from shared.events.cases import CaseKind, Channel, Flag, Mailbox, Priority, Reason
from services.intake.domain.classification import (
    ANTI_SOCIAL_BEHAVIOUR,
    COMPLAINT_LANGUAGE,
    DAMP_AND_MOULD,
    EMERGENCY,
    HARASSMENT_OR_DOMESTIC_VIOLENCE,
    URGENT,
    Contact,
    classify,
)

ALL_DOORS = [
    (Channel.EMAIL, Mailbox.REPAIRS),
    (Channel.EMAIL, Mailbox.CUSTOMER_DESK),
    (Channel.EMAIL, Mailbox.COMPLAINTS),
    (Channel.WEB, Mailbox.REPAIRS),
    (Channel.LETTER, None),
    (Channel.PHONE, None),
    (Channel.IN_PERSON, None),
]


def reason(result, rule):  # type: ignore[no-untyped-def]
    return next(r for r in result.reasons if r.rule == rule)


# -- every phrase of every table does what its rule says -----------------------------------


@pytest.mark.parametrize("phrase", EMERGENCY.phrases)
def test_every_emergency_phrase_makes_an_emergency_repair_and_an_awaab_hazard(phrase: str):
    result = classify(Contact(Channel.EMAIL, Mailbox.REPAIRS, f"Please help: {phrase.upper()} since last night"))
    assert result.priority is Priority.EMERGENCY
    assert phrase in reason(result, "emergency-repair").words
    assert Flag.EMERGENCY_HAZARD in result.flags


@pytest.mark.parametrize("phrase", URGENT.phrases)
def test_every_urgent_phrase_makes_an_urgent_repair(phrase: str):
    result = classify(Contact(Channel.EMAIL, Mailbox.REPAIRS, f"We have a {phrase} in the flat"))
    assert result.priority is Priority.URGENT
    assert reason(result, "urgent-repair").words == (phrase,)
    assert Flag.EMERGENCY_HAZARD not in result.flags


def test_a_repair_without_emergency_or_urgent_words_is_routine():
    result = classify(Contact(Channel.EMAIL, Mailbox.REPAIRS, "The kitchen cupboard hinge is loose"))
    assert result.priority is Priority.ROUTINE
    assert Reason(rule="routine-repair") in result.reasons
    assert result.flags == ()


@pytest.mark.parametrize("phrase", DAMP_AND_MOULD.phrases)
@pytest.mark.parametrize(("channel", "mailbox"), ALL_DOORS)
def test_damp_and_mould_anywhere_flags_the_case_for_the_awaab_clocks(phrase: str, channel, mailbox):  # type: ignore[no-untyped-def]
    result = classify(Contact(channel, mailbox, f"By the way, there is {phrase} in the bedroom"))
    assert Flag.DAMP_AND_MOULD in result.flags
    assert phrase in reason(result, "damp-and-mould").words


@pytest.mark.parametrize("phrase", ANTI_SOCIAL_BEHAVIOUR.phrases)
def test_every_anti_social_behaviour_phrase_opens_an_asb_case(phrase: str):
    result = classify(Contact(Channel.EMAIL, Mailbox.CUSTOMER_DESK, f"I want to report {phrase} on our estate"))
    assert result.kind is CaseKind.ANTI_SOCIAL_BEHAVIOUR
    assert Flag.ANTI_SOCIAL_BEHAVIOUR in result.flags
    assert phrase in reason(result, "anti-social-behaviour").words


@pytest.mark.parametrize("phrase", HARASSMENT_OR_DOMESTIC_VIOLENCE.phrases)
@pytest.mark.parametrize(("channel", "mailbox"), ALL_DOORS)
def test_harassment_or_domestic_violence_is_a_safeguarded_home_visit(phrase: str, channel, mailbox):  # type: ignore[no-untyped-def]
    result = classify(Contact(channel, mailbox, f"I need to talk to someone about {phrase}"))
    assert result.kind is CaseKind.HOME_VISIT
    assert Flag.SAFEGUARDING in result.flags
    assert phrase in reason(result, "harassment-or-domestic-violence").words


@pytest.mark.parametrize("phrase", COMPLAINT_LANGUAGE.phrases)
@pytest.mark.parametrize(
    ("channel", "mailbox"),
    [(Channel.EMAIL, Mailbox.REPAIRS), (Channel.EMAIL, Mailbox.CUSTOMER_DESK), (Channel.LETTER, None), (Channel.PHONE, None)],
)
def test_complaint_language_at_the_wrong_door_is_a_complaint(phrase: str, channel, mailbox):  # type: ignore[no-untyped-def]
    result = classify(Contact(channel, mailbox, f"This is a {phrase}: nobody has called me back"))
    assert result.kind is CaseKind.COMPLAINT
    assert result.priority is None
    assert phrase in reason(result, "complaint-language").words


# -- how they combine ----------------------------------------------------------------------


def test_a_complaint_at_the_complaints_mailbox_needs_no_complaint_language_rule():
    result = classify(Contact(Channel.EMAIL, Mailbox.COMPLAINTS, "I wish to complain about the delay"))
    assert result.kind is CaseKind.COMPLAINT
    assert [r.rule for r in result.reasons] == ["mailbox:complaints"]


def test_a_letter_is_a_general_letter_unless_it_complains_or_reports_a_repair():
    assert classify(Contact(Channel.LETTER, None, "Please send me a rent statement")).kind is CaseKind.LETTER
    assert classify(Contact(Channel.LETTER, None, "I am writing to make a formal complaint")).kind is CaseKind.COMPLAINT
    written_repair = classify(Contact(Channel.LETTER, None, "The bathroom tap is broken"))
    assert (written_repair.kind, written_repair.priority) == (CaseKind.REPAIR_REQUEST, Priority.ROUTINE)


def test_anti_social_behaviour_reported_to_repairs_stays_a_repair_with_the_flag():
    result = classify(Contact(Channel.EMAIL, Mailbox.REPAIRS, "Vandalism: they smashed the window"))
    assert (result.kind, result.priority) == (CaseKind.REPAIR_REQUEST, Priority.EMERGENCY)
    assert Flag.ANTI_SOCIAL_BEHAVIOUR in result.flags


def test_a_complaint_about_anti_social_behaviour_stays_a_complaint_with_the_flag():
    result = classify(Contact(Channel.EMAIL, Mailbox.COMPLAINTS, "Nothing was done about the drug dealing"))
    assert result.kind is CaseKind.COMPLAINT
    assert Flag.ANTI_SOCIAL_BEHAVIOUR in result.flags


def test_domestic_violence_with_a_broken_door_keeps_the_awaab_hazard_on_the_visit():
    text = "Domestic abuse: my ex kicked the front door in and the door won't lock"
    result = classify(Contact(Channel.EMAIL, Mailbox.REPAIRS, text))
    assert result.kind is CaseKind.HOME_VISIT
    assert {Flag.SAFEGUARDING, Flag.EMERGENCY_HAZARD} <= set(result.flags)


def test_harassment_beats_complaint_language():
    result = classify(Contact(Channel.EMAIL, Mailbox.CUSTOMER_DESK, "A complaint: my neighbour keeps harassing me"))
    assert result.kind is CaseKind.HOME_VISIT
    assert "complaint-language" not in [r.rule for r in result.reasons]


def test_a_stated_kind_stays_but_the_words_still_raise_their_flags():
    text = "Effective handling of complaints: my neighbour's harassment was never dealt with; mould too"
    result = classify(Contact(Channel.WEB, None, text, stated_kind=CaseKind.GENERAL_ENQUIRY))
    assert result.kind is CaseKind.GENERAL_ENQUIRY
    assert {Flag.SAFEGUARDING, Flag.DAMP_AND_MOULD} <= set(result.flags)


def test_a_quiet_enquiry_raises_nothing():
    result = classify(Contact(Channel.EMAIL, Mailbox.CUSTOMER_DESK, "When is the next residents' meeting?"))
    assert (result.kind, result.priority, result.flags) == (CaseKind.GENERAL_ENQUIRY, None, ())
    assert result.reasons == (Reason(rule="mailbox:customer_desk"),)


@pytest.mark.parametrize(
    "text",
    ["The asbestos survey is due", "I complimented the contractor", "My harp is out of tune", "Thank you for the quick visit"],
)
def test_near_misses_are_not_matched(text: str):
    result = classify(Contact(Channel.EMAIL, Mailbox.CUSTOMER_DESK, text))
    assert result.kind is CaseKind.GENERAL_ENQUIRY
    assert Flag.SAFEGUARDING not in result.flags
    assert Flag.ANTI_SOCIAL_BEHAVIOUR not in result.flags
