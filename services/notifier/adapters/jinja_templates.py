"""The message templates, one folder of Jinja2 files, rendered with the request's values."""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.notifier.domain.messages import EmailMessageText

FOLDER = Path(__file__).parent / "templates"


class Templates:
    def __init__(self, folder: Path = FOLDER) -> None:
        self.env = Environment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
        )

    def email(self, template: str, personalisation: dict[str, str]) -> EmailMessageText:
        subject = self.env.get_template(f"{template}.subject.j2").render(personalisation).strip()
        text = self.env.get_template(f"{template}.txt.j2").render(personalisation)
        return EmailMessageText(subject, text)
