"""What a tenant's text back means (pure)."""

import re
from enum import StrEnum

from shared.events.feedback import Aspect
from services.notifier.domain.template_catalogue import SURVEY_ORDER

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
    CONFIRM = "confirm"
    REARRANGE = "rearrange"
    SURVEY = "survey"
    OTHER = "other"


KEYWORDS = {
    **dict.fromkeys(STOP_WORDS, Reply.STOP),
    **dict.fromkeys(START_WORDS, Reply.START),
    **dict.fromkeys(HELP_WORDS, Reply.HELP),
    "CONFIRM": Reply.CONFIRM,
    "REARRANGE": Reply.REARRANGE,
}


def reply_of(body: str) -> Reply:
    word = body.strip().strip(".!").upper()
    if word in KEYWORDS:
        return KEYWORDS[word]
    return Reply.SURVEY if survey_scores(body) else Reply.OTHER


def survey_scores(body: str) -> dict[Aspect, int] | None:
    """The satisfaction survey's answers, one digit 1-5 per aspect in the order the text
    asked them ("45354445"; spaces and commas allowed; fewer digits answer fewer aspects)."""
    digits = re.sub(r"[\s,]", "", body)
    if not digits or len(digits) > len(SURVEY_ORDER) or not re.fullmatch(r"[1-5]+", digits):
        return None
    return {aspect: int(digit) for aspect, digit in zip(SURVEY_ORDER, digits)}
