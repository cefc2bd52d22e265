"""Whether a text shows a phone number in any of the forms it may be written in.

A bare fragment such as "7700" is not a fair test of a serialised event or a log record:
timestamps and counters carry digits of their own and will, now and then, contain it.
"""

import phonenumbers


def shows_phone(text: str, phone: str) -> bool:
    number = phonenumbers.parse(phone, "GB")
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    forms = {
        phone,
        phone.replace(" ", ""),
        str(number.national_number),
        written.lstrip("0"),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
    }
    return any(form in text for form in forms)
