"""A phone number typed the usual UK way is read without phonenumbers.parse: it must be
the very number parse gives, or a form would keep (and text) a different one."""

import random

import phonenumbers
import pytest
from phonenumbers import NumberParseException, PhoneNumberFormat

from services.intake.forms.answers import gb_number


def parsed(value: str) -> tuple[int, int, bool, str] | None:
    try:
        number = phonenumbers.parse(value, "GB")
    except NumberParseException:
        return None
    return (number.country_code, number.national_number, phonenumbers.is_valid_number(number),
            phonenumbers.format_number(number, PhoneNumberFormat.E164))


def read(value: str) -> tuple[int, int, bool, str] | None:
    try:
        number = gb_number(value)
    except NumberParseException:
        return None
    return (number.country_code, number.national_number, phonenumbers.is_valid_number(number),
            phonenumbers.format_number(number, PhoneNumberFormat.E164))


def typed(seed: int) -> list[str]:
    """Eleven digits starting 0 (mobiles, London, freephone, the 0180020 prefix...), some
    spaced as people type them, and forms that go to parse."""
    rng = random.Random(seed)
    prefixes = ("07", "020", "01", "0180020", "03", "0800", "0845", "09", "00", "07700 900")
    numbers = []
    for _ in range(400):
        prefix = rng.choice(prefixes).replace(" ", "")
        digits = prefix + "".join(rng.choice("0123456789") for _ in range(11 - len(prefix)))
        numbers += [digits, f"{digits[:5]} {digits[5:]}", f"{digits[:3]} {digits[3:7]} {digits[7:]}"]
    return numbers + ["+44 7700 900123", "0044 20 8778 6699", "(020) 8778 6699", "020-8778-6699", "0770090012"]


@pytest.mark.parametrize("seed", range(3))
def test_the_usual_uk_form_reads_as_phonenumbers_parses_it(seed: int):
    for value in typed(seed):
        assert read(value) == parsed(value), value
