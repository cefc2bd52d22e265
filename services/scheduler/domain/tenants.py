"""Who a case is from and how to reach them (pure).

A case carries what the tenant gave with it (an email's sender, a form's phone) and, when
intake or staff knew it, the tenancy. A case that came with only the sender's address is
linked to the tenancy whose email or mobile is exactly that sender's, when exactly one is:
its home tells the scheduler which contractors cover it, and its mobile lets the texts
go. What the case itself says still wins: a number given with the case is the one used.
"""

from collections.abc import Iterable
from typing import Protocol, TypeVar

import phonenumbers

from shared.events.notifications import Recipient


class TenancyContact(Protocol):
    """A tenancy's record as the scheduler keeps it (a table row will do)."""

    @property
    def mobile(self) -> str | None: ...

    @property
    def email(self) -> str | None: ...

    @property
    def preferred_channel(self) -> str: ...


T = TypeVar("T", bound=TenancyContact)


def normal_email(value: str | None) -> str | None:
    return value.strip().casefold() if value and value.strip() else None


def normal_mobile(value: str | None) -> str | None:
    """A UK number as E.164 ('07700 900123' -> '+447700900123'); None if it is not one."""
    if not value or not value.strip():
        return None
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_theirs(tenancy: TenancyContact, email: str | None, phone: str | None) -> bool:
    """The case's email or phone is exactly the tenancy's own."""
    email, mobile = normal_email(email), normal_mobile(phone)
    return bool(
        (email and email == normal_email(tenancy.email))
        or (mobile and mobile == normal_mobile(tenancy.mobile))
    )


def the_one_tenancy(email: str | None, phone: str | None, tenancies: Iterable[T]) -> T | None:
    """The tenancy the sender's contact details belong to; None unless exactly one does
    (two tenancies sharing an address, say joint tenants, are left for staff)."""
    found = [t for t in tenancies if is_theirs(t, email, phone)]
    return found[0] if len(found) == 1 else None


def own_recipient(tenancy: TenancyContact | None) -> Recipient | None:
    """How the tenancy's record says to reach the tenant, by their preferred channel."""
    if tenancy is None or not (tenancy.mobile or tenancy.email):
        return None
    if tenancy.preferred_channel == "email":
        return Recipient(email=tenancy.email, phone=None if tenancy.email else tenancy.mobile)
    return Recipient(email=tenancy.email, phone=tenancy.mobile)


def recipient_of(
    contact_email: str | None, contact_phone: str | None, tenancy: TenancyContact | None
) -> Recipient | None:
    """How to reach the tenant: what the case said (a safe number, an advocate), else the
    tenancy's own record. When what the case said is the tenancy's own (the tenant wrote
    from the address on their tenancy), what it lacks is taken from the record."""
    if not (contact_email or contact_phone):
        return own_recipient(tenancy)
    given = Recipient(email=contact_email, phone=contact_phone)
    own = own_recipient(tenancy)
    if own is None or tenancy is None or not is_theirs(tenancy, contact_email, contact_phone):
        return given
    return Recipient(email=contact_email or own.email, phone=contact_phone or own.phone)
