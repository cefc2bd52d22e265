"""The message templates, one folder of Jinja2 files, rendered with the request's values.

An email template is `NAME.subject.j2` and `NAME.txt.j2`, and optionally `NAME.html.j2`.
The plain-text parts are rendered as they are; the HTML part comes from a separate
environment with autoescaping on, so a personalisation value such as a tenant's own
words can never become markup.
"""

from functools import cached_property
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from shared.events.notifications import NotificationChannel
from services.notifier.domain.messages import EmailMessageText

FOLDER = Path(__file__).parent / "templates"
PLAIN_PUNCTUATION = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."})


class Templates:
    def __init__(self, folder: Path = FOLDER) -> None:
        self.env = Environment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
        )
        self.html_env = Environment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            autoescape=True,
            keep_trailing_newline=True,
        )

    def email(self, template: str, personalisation: dict[str, str]) -> EmailMessageText:
        subject = self.env.get_template(f"{template}.subject.j2").render(personalisation).strip()
        text = self.env.get_template(f"{template}.txt.j2").render(personalisation)
        return EmailMessageText(subject, text, self._html(template, personalisation))

    def sms(self, template: str, personalisation: dict[str, str]) -> str:
        text = self.env.get_template(f"{template}.sms.j2").render(personalisation).strip()
        # Typographic quotes and dashes would turn the whole text into UCS-2 (70 characters
        # a segment instead of 160): send their plain forms.
        return text.translate(PLAIN_PUNCTUATION)

    def has(self, template: str, channel: NotificationChannel) -> bool:
        """Whether a message of this template can go by this channel at all."""
        first_part = "sms" if channel is NotificationChannel.SMS else "txt"
        return f"{template}.{first_part}.j2" in self._names

    @cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(self.env.list_templates())

    def _html(self, template: str, personalisation: dict[str, str]) -> str | None:
        name = f"{template}.html.j2"
        try:
            html = self.html_env.get_template(name)
        except TemplateNotFound as missing:
            if missing.name != name:  # the HTML template exists but includes a missing one
                raise
            return None
        return html.render(personalisation)
