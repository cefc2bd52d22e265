"""Mobile numbers and SMS lengths (pure).

`normalise_mobile` turns whatever a tenant or a member of staff typed into the E.164
form Twilio wants, or refuses it before any call is made. `sms_segments` says how many
billed parts a text goes out as, so every template can be held to a limit.

Error messages never repeat the number: they end up in logs and outcome events.
"""

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

_SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

# Ofcom reserves 07700 900000-900999 for drama and examples: never allocated, so no
# real person is texted by a test, a seed or a preview. libphonenumber calls the range
# invalid; it is accepted here on purpose, and Twilio refuses it in production (21211).
_OFCOM_DRAMA_MOBILES = range(7700900000, 7700901000)


class InvalidPhoneNumber(ValueError):
    """The text is not a mobile number an SMS can go to. The message names no digits."""


def normalise_mobile(raw: str, region: str = "GB") -> str:
    """The E.164 form (+447700900123) of a mobile number written in any usual way.

    `region` is where a number written without its country code is assumed to be.
    Letters are refused rather than read as a keypad would (a typo must not become
    somebody else's number), and so are landlines, pagers, freephone and the like.
    """
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("no phone number given")
    if any(char.isalpha() for char in text):
        raise InvalidPhoneNumber("a phone number cannot contain letters")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        raise InvalidPhoneNumber("not a phone number") from None
    if number.country_code == 44 and number.national_number in _OFCOM_DRAMA_MOBILES:
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("not a valid phone number (wrong length or an unused range)")
    if phonenumbers.number_type(number) not in _SMS_TYPES:
        raise InvalidPhoneNumber("not a mobile number, so it cannot receive a text message")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


# GSM 03.38: the default alphabet (one septet each) and its extension table (an escape
# septet plus one, so two each).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    return all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text)


def sms_segments(text: str) -> int:
    """How many parts `text` is sent and billed as; 0 for an empty text.

    GSM-7 when every character is in the GSM alphabet: 160 septets in one part, 153
    per part once split (extension characters such as € ^ { } take two). Otherwise
    UCS-2: 70 UTF-16 units in one part, 67 per part (a character outside the Basic
    Multilingual Plane, such as most emoji, takes two). A character is never split
    across two parts, as the phones that reassemble them expect.
    """
    if not text:
        return 0
    if is_gsm7(text):
        sizes = [2 if char in _GSM7_EXTENSION else 1 for char in text]
        single, part = GSM7_SINGLE, GSM7_PART
    else:
        sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
        single, part = UCS2_SINGLE, UCS2_PART
    if sum(sizes) <= single:
        return 1
    parts, used = 1, 0
    for size in sizes:
        if used + size > part:
            parts, used = parts + 1, 0
        used += size
    return parts
