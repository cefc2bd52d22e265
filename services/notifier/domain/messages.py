"""What a rendered message is (pure)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EmailMessageText:
    subject: str
    text: str
    html: str | None = None
