"""Rendering a requested notification into a message (pure: templates in, text out)."""

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent.parent / "templates"

# What each mailbox promises, in the customer's own words (Customer Service Standards).
REPLY_PROMISES = {
    "repairs": "We will reply to all repair email requests within 3 working days.",
    "customer_desk": "We will reply to your query within 5 working days.",
    "complaints": "We will acknowledge your complaint within 5 working days.",
}


@dataclass(frozen=True)
class EmailMessageText:
    subject: str
    text: str


class Templates:
    def __init__(self, folder: Path = TEMPLATES) -> None:
        self.env = Environment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
        )

    def email(self, template: str, personalisation: dict[str, str]) -> EmailMessageText:
        values = {"promise": REPLY_PROMISES.get(personalisation.get("mailbox", ""), "")}
        values.update(personalisation)
        subject = self.env.get_template(f"{template}.subject.j2").render(values).strip()
        text = self.env.get_template(f"{template}.txt.j2").render(values)
        return EmailMessageText(subject, text)
