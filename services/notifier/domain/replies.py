"""What a tenant's text back means (pure)."""

from enum import StrEnum

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})

HELP_TEXT = (
    "Hexagon Housing: texts about your repairs and appointments. Reply STOP to stop them, "
    "START to have them again. Call us on 0800 393 338, 24 hours a day for emergencies."
)


class Reply(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    OTHER = "other"


def reply_of(body: str) -> Reply:
    word = body.strip().strip(".!").upper()
    if word in STOP_WORDS:
        return Reply.STOP
    if word in START_WORDS:
        return Reply.START
    if word in HELP_WORDS:
        return Reply.HELP
    return Reply.OTHER
