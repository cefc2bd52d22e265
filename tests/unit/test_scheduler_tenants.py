"""Who a case is from: the tenancy the sender's email or phone belongs to, and how to reach
the tenant when the case says only part of it."""

from dataclasses import dataclass

from shared.events.notifications import Recipient
from services.scheduler.domain.tenants import is_theirs, recipient_of, the_one_tenancy


@dataclass(frozen=True)
class Tenancy:
    id: str
    mobile: str | None
    email: str | None
    preferred_channel: str = "sms"


JO = Tenancy("t-jo", "+447700900123", "jo.tenant@example.org")
SAM = Tenancy("t-sam", "+447700900456", "sam@example.org", "email")
NO_MOBILE = Tenancy("t-kim", None, "kim@example.org", "email")


def test_the_sender_s_email_finds_their_tenancy_whatever_its_case_or_spaces():
    assert the_one_tenancy("Jo.Tenant@Example.org ", None, [SAM, JO]) is JO
    assert the_one_tenancy("someone.else@example.org", None, [SAM, JO]) is None


def test_a_phone_matches_in_any_spelling_of_the_same_number():
    assert the_one_tenancy(None, "07700 900456", [JO, SAM]) is SAM
    assert is_theirs(JO, None, "+44 7700 900123")
    assert not is_theirs(JO, None, "not a number")


def test_an_address_shared_by_two_tenancies_links_neither():
    joint = Tenancy("t-jo-2", "+447700900789", "jo.tenant@example.org")
    assert the_one_tenancy("jo.tenant@example.org", None, [JO, joint]) is None


def test_nothing_given_matches_nothing():
    blank = Tenancy("t-blank", None, None)
    assert the_one_tenancy(None, None, [JO, blank]) is None
    assert the_one_tenancy("", "", [blank]) is None


def test_a_tenant_writing_from_their_own_address_is_texted_on_their_mobile_too():
    assert recipient_of("jo.tenant@example.org", None, JO) == Recipient(
        email="jo.tenant@example.org", phone="+447700900123"
    )


def test_a_number_given_with_the_case_wins_over_the_record():
    # The sender is the tenant (same email), but gave another number (a safe one, a work phone).
    assert recipient_of("jo.tenant@example.org", "07700 900999", JO) == Recipient(
        email="jo.tenant@example.org", phone="07700 900999"
    )


def test_someone_else_s_contact_is_never_filled_from_the_tenancy():
    # An advocate writing about the tenancy: the record's mobile is not theirs to use.
    assert recipient_of("advocate@example.org", None, JO) == Recipient(email="advocate@example.org")


def test_a_tenant_who_prefers_email_gets_no_mobile_added():
    assert recipient_of("sam@example.org", None, SAM) == Recipient(email="sam@example.org")
    assert recipient_of(None, "07700 900456", SAM) == Recipient(email="sam@example.org", phone="07700 900456")


def test_with_no_contact_on_the_case_the_record_says_how():
    assert recipient_of(None, None, JO) == Recipient(email=JO.email, phone=JO.mobile)
    assert recipient_of(None, None, NO_MOBILE) == Recipient(email=NO_MOBILE.email)
    assert recipient_of(None, None, None) is None
    assert recipient_of("jo.tenant@example.org", None, None) == Recipient(email="jo.tenant@example.org")
