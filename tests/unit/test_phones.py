"""Mobile numbers are normalised to E.164 or refused without echoing them; SMS length is
counted in the parts the message is sent and billed as."""

import pytest

from services.notifier.domain.phones import (
    InvalidPhoneNumber,
    normalise_mobile,
    sms_segments,
)


@pytest.mark.parametrize(
    "raw",
    [
        "07700 900123",
        "07700900123",
        "+44 7700 900123",
        "+447700900123",
        "0044 7700 900123",
        "00447700900123",
        "+44 (0) 7700 900123",
        "(07700) 900123",
        "07700-900-123",
        "+44-7700-900-123",
        "  07700 900 123  ",
        "07700.900.123",
    ],
)
def test_a_uk_mobile_written_any_usual_way_becomes_e164(raw: str) -> None:
    assert normalise_mobile(raw) == "+447700900123"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("07911 123456", "+447911123456"),  # an allocated range, not only Ofcom's drama one
        ("+44 7400 123456", "+447400123456"),
        ("+33 6 12 34 56 78", "+33612345678"),  # a French mobile written internationally
    ],
)
def test_other_valid_mobiles(raw: str, e164: str) -> None:
    assert normalise_mobile(raw) == e164


def test_a_national_number_is_read_in_the_region_given() -> None:
    assert normalise_mobile("06 12 34 56 78", region="FR") == "+33612345678"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "07700 9001",  # too short
        "07911 1234567",  # too long
        "07911 12345a",  # letters
        "call me",
        "0791I 123456",  # a capital i for a one
        "020 8778 6699",  # a London landline: no SMS
        "+44 20 8778 6699",
        "0800 123 4567",  # freephone
        "07624 12",
        "+",
        "0",
    ],
)
def test_what_is_not_a_mobile_is_refused_without_repeating_it(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as refused:
        normalise_mobile(raw)
    message = str(refused.value)
    assert message
    assert not any(char.isdigit() for char in message)
    assert isinstance(refused.value, ValueError)


def test_a_landline_is_refused_as_not_a_mobile() -> None:
    with pytest.raises(InvalidPhoneNumber, match="not a mobile"):
        normalise_mobile("020 8778 6699")


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 459, 3),
        ("a" * 460, 4),
        ("£@àÄ\n" * 32, 1),  # 160 characters of the GSM-7 default alphabet
    ],
)
def test_gsm7_segments(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


@pytest.mark.parametrize("extension", ["€", "^", "{", "}", "[", "]", "~", "|", "\\"])
def test_a_gsm7_extension_character_counts_as_two(extension: str) -> None:
    assert sms_segments(extension + "a" * 158) == 1  # 160 septets
    assert sms_segments(extension + "a" * 159) == 2  # 161 septets
    assert sms_segments(extension * 80) == 1


def test_an_extension_character_is_not_split_across_parts() -> None:
    # 152 septets, then "€" (2) would straddle the first 153-septet part: it starts the second.
    assert sms_segments("a" * 152 + "€" + "a" * 152) == 3
    assert sms_segments("a" * 151 + "€" + "a" * 153) == 2


@pytest.mark.parametrize(
    ("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_one_emoji_switches_to_ucs2(length: int, segments: int) -> None:
    # The emoji takes two UTF-16 units, so `length` is counted in units.
    text = "🙂" + "a" * (length - 2)
    assert sms_segments(text) == segments


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_a_non_gsm_letter_switches_to_ucs2(length: int, segments: int) -> None:
    text = "ł" + "a" * (length - 1)  # Polish, outside the GSM alphabet, one UTF-16 unit
    assert sms_segments(text) == segments


def test_gsm7_extension_characters_are_single_units_in_ucs2() -> None:
    assert sms_segments("ł" + "€" * 69) == 1
