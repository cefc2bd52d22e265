"""Writes mail/winmail-dat-only.eml: an Outlook-style mail whose only body is a TNEF
winmail.dat (signature, key, then a message-level attBody attribute with its checksum),
as some Exchange set-ups send to outside addresses. Run: python tests/corpus/make_winmail.py"""

import struct
from email.message import EmailMessage
from pathlib import Path

SIGNATURE, LEVEL_MESSAGE, ATT_BODY, ATP_TEXT = 0x223E9F78, 1, 0x800C, 0x0001


def attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
    checksum = sum(data) % 65536
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", checksum)


def winmail(body: str) -> bytes:
    header = struct.pack("<IH", SIGNATURE, 0x1234)
    return header + attribute(LEVEL_MESSAGE, ATT_BODY, ATP_TEXT, body.encode("cp1252"))


message = EmailMessage()
message["From"] = "Jo Tenant <jo.tenant@example.org>"
message["To"] = "repairs_reporting@hexagon.org.uk"
message["Subject"] = "Kitchen"
message["Message-ID"] = "<winmail-1@example.org>"
message.add_attachment(
    winmail("There is water coming through the kitchen ceiling – please come today."),
    maintype="application",
    subtype="ms-tnef",
    filename="winmail.dat",
)
Path(__file__).with_name("mail").joinpath("winmail-dat-only.eml").write_bytes(bytes(message))
