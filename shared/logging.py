"""Structured JSON logs that never carry a tenant's personal data.

Log calls pass ids in `extra=`; only keys on the allow-list reach the output,
and every message string is scrubbed of anything shaped like an email address
or a phone number, in case one slips into an exception text.
"""

import json
import logging
import re
import sys
from datetime import UTC, datetime

SAFE_FIELDS = frozenset(
    {
        "service",
        "event_id",
        "event_type",
        "correlation_id",
        "case_id",
        "reference",
        "clock_id",
        "clock",
        "topic",
        "partition",
        "offset",
        "idempotency_key",
        "notification_id",
        "raw_id",
        "purpose",
        "channel",
        "mailbox",
        "kind",
        "priority",
        "template",
        "status",
        "reason",
        "attempt",
        "port",
        "host",
        "path",
        "deadline",
        "count",
        "duration_ms",
        "appointment_id",
        "contractor_id",
    }
)

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
# A national number (leading 0) or an international one (leading +), 10 to 13 digits,
# spaced or not; dates, times, ids and Kafka offsets do not start that way.
_PHONE = re.compile(
    r"(?<![\w+-])(?:(?:\+\d{1,3}[\s-]?(?:\(0\)\s?)?|0)\d|\(0\d{2,4}\)\s?\d)(?:[\s-]?\d){5,11}(?![\w-])"
)


def scrub(text: str) -> str:
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key in SAFE_FIELDS & record.__dict__.keys():
            value = record.__dict__[key]
            entry[key] = value if isinstance(value, int | float) else scrub(str(value))
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_ServiceTag(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library loggers echo message payloads at DEBUG; keep them at WARNING.
    for noisy in ("aiokafka", "faststream", "mail.log", "uvicorn.access", "twilio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _ServiceTag(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        return True
