"""What a web form's answers may be: cleaned, checked, and limited.

Single-line answers have their line breaks and control characters folded away, so
nothing a tenant types can reach a mail header; long answers keep their lines. Messages
never repeat what was typed.
"""

import re
import unicodedata
from typing import Annotated

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat
from pydantic import AfterValidator, BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

NAME_MAX = 100
ADDRESS_MAX = 300
SHORT_MAX = 200
LONG_MAX = 5000
EMAIL_MAX = 254
PHONE_MAX = 30
POSTCODE_MAX = 10


# -- cleaning --------------------------------------------------------------------------


def _controls_but(keep: str) -> re.Pattern[str]:
    """Unicode's control characters (category Cc: C0, DEL and C1, all below U+00A0) but `keep`."""
    controls = (chr(c) for c in range(0xA0) if unicodedata.category(chr(c)) == "Cc" and chr(c) not in keep)
    return re.compile(f"[{''.join(map(re.escape, controls))}]")


# One regex substitution in C, not a Python test of every character.
_NOT_KEPT = {keep: _controls_but(keep) for keep in ("\t\n\r", "\t\n")}


def _printable(text: str, keep: str) -> str:
    text = text.encode("utf-8", errors="replace").decode("utf-8")  # lone surrogates from JSON
    return _NOT_KEPT[keep].sub("", text)


def _one_line(value: object) -> object:
    if isinstance(value, str):
        return " ".join(_printable(value, "\t\n\r").split())
    return value


def _lines(value: object) -> object:
    if isinstance(value, str):
        return _printable(value.replace("\r\n", "\n").replace("\r", "\n"), "\t\n").strip()
    return value


def blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


# -- checks (messages never repeat what was typed) -------------------------------------

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})")
_REFERENCE = re.compile(r"(?:HX)?-?([A-HJ-NP-Z2-9]{8})")
# Ofcom's drama range of mobiles (07700 900xxx): never allocated, and
# called invalid by libphonenumber, but what examples, tests and trainees type.
_OFCOM_DRAMA = range(7700900000, 7700901000)


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise PydanticCustomError(
            "email", "Enter an email address in the right format, like name@example.com"
        )
    return value


# How most UK numbers are typed: 0, then ten digits not starting 0 (00 dials abroad).
_NATIONAL = re.compile(r"0[1-9][0-9]{9}")


def gb_number(value: str) -> PhoneNumber:
    """phonenumbers.parse(value, "GB"), with the usual national form read directly: the
    same number for a tenth of the CPU (parse is generic, for every country's formats)."""
    digits = value.replace(" ", "")
    if _NATIONAL.fullmatch(digits):
        return PhoneNumber(country_code=44, national_number=int(digits[1:]))
    return phonenumbers.parse(value, "GB")


def _uk_phone(value: str) -> str:
    message = "Enter a UK phone number, like 07700 900123 or 020 8778 6699"
    if any(c.isalpha() for c in value):
        raise PydanticCustomError("phone", message)
    try:
        number = gb_number(value)
    except NumberParseException:
        raise PydanticCustomError("phone", message) from None
    fictional = number.national_number in _OFCOM_DRAMA
    if number.country_code != 44 or not (fictional or phonenumbers.is_valid_number(number)):
        raise PydanticCustomError("phone", message)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _postcode(value: str) -> str:
    found = _POSTCODE.fullmatch(value.upper())
    if not found:
        raise PydanticCustomError("postcode", "Enter a full UK postcode, like SE19 2AB")
    return f"{found[1]} {found[2]}"


def _reference(value: str) -> str:
    found = _REFERENCE.fullmatch(value.upper().replace(" ", ""))
    if not found:
        raise PydanticCustomError("reference", "Enter the reference in the right format, like HX-7KQ2M9PZ")
    return f"HX-{found[1]}"


def _line(max_length: int) -> type[str]:
    return Annotated[  # type: ignore[return-value]
        str, BeforeValidator(_one_line), StringConstraints(min_length=1, max_length=max_length)
    ]


def _text(max_length: int) -> type[str]:
    return Annotated[  # type: ignore[return-value]
        str, BeforeValidator(_lines), StringConstraints(min_length=1, max_length=max_length)
    ]


Name = _line(NAME_MAX)
Address = _text(ADDRESS_MAX)
Postcode = Annotated[_line(POSTCODE_MAX), AfterValidator(_postcode)]
Words = _text(LONG_MAX)
Reference = Annotated[_line(SHORT_MAX), AfterValidator(_reference)]
OptionalLine = Annotated[_line(SHORT_MAX) | None, BeforeValidator(blank_to_none)]
OptionalWords = Annotated[_text(LONG_MAX) | None, BeforeValidator(blank_to_none)]
OptionalName = Annotated[Name | None, BeforeValidator(blank_to_none)]
OptionalPostcode = Annotated[Postcode | None, BeforeValidator(blank_to_none)]
OptionalEmail = Annotated[
    Annotated[_line(EMAIL_MAX), AfterValidator(_email)] | None, BeforeValidator(blank_to_none)
]
OptionalPhone = Annotated[
    Annotated[_line(PHONE_MAX), AfterValidator(_uk_phone)] | None, BeforeValidator(blank_to_none)
]
Tick = Annotated[bool, BeforeValidator(lambda v: False if blank_to_none(v) is None else v)]


def needs_a_way_to_reply(phone: str | None, email: str | None) -> None:
    if not (phone or email):
        raise PydanticCustomError(
            "contact_needed",
            "Enter a phone number or an email address, so we can contact you",
            {"field": "phone"},
        )
