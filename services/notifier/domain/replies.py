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
    # Asked in their own words to stop texts ("please stop texting me"): not one of the
    # carrier's keywords, so texts do not stop by themselves; staff are told.
    OPT_OUT_REQUEST = "opt_out_request"
    OTHER = "other"


KEYWORDS = {
    **dict.fromkeys(STOP_WORDS, Reply.STOP),
    **dict.fromkeys(START_WORDS, Reply.START),
    **dict.fromkeys(HELP_WORDS, Reply.HELP),
    "CONFIRM": Reply.CONFIRM,
    "REARRANGE": Reply.REARRANGE,
}


_NO_MORE_TEXTS = re.compile(
    r"\b(stop|quit|cease)\s+(texting|messaging|sending|contacting)"
    r"|\b(do\s*n[o']?t|never|no\s+more)\s+(text|message|sms|contact)"
    r"|\bno\s+more\s+(texts|messages)"
    r"|\b(unsubscribe|opt\s*me\s*out|take\s+me\s+off)",
    re.IGNORECASE,
)
_OFFER = re.compile(r"\s*(?:option\s*)?([1-3])\s*[.!]?\s*", re.IGNORECASE)


def reply_of(body: str) -> Reply:
    word = body.strip().strip(".!").upper()
    if word in KEYWORDS:
        return KEYWORDS[word]
    if survey_scores(body):
        return Reply.SURVEY
    return Reply.OPT_OUT_REQUEST if _NO_MORE_TEXTS.search(_plain(body)) else Reply.OTHER


def chosen_offer(body: str) -> int | None:
    """The offer a reply of 1, 2 or 3 chooses ("2", "option 3"); None for anything else."""
    found = _OFFER.fullmatch(body)
    return int(found.group(1)) if found else None


def _plain(body: str) -> str:
    return body.replace("\u2019", "'").replace("\u2018", "'")


def survey_scores(body: str) -> dict[Aspect, int] | None:
    """The satisfaction survey's answers, one digit 1-5 per aspect in the order the text
    asked them ("45354445"; spaces and commas allowed; fewer digits answer fewer aspects)."""
    digits = re.sub(r"[\s,]", "", body)
    if not digits or len(digits) > len(SURVEY_ORDER) or not re.fullmatch(r"[1-5]+", digits):
        return None
    return {aspect: int(digit) for aspect, digit in zip(SURVEY_ORDER, digits)}
