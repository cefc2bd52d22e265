"""The development transport: every message written to a folder, an email as a readable
.eml file and a text as a .sms.txt file."""

import asyncio
from email.message import EmailMessage
from pathlib import Path

from services.notifier.domain.messages import EmailMessageText


class OutboxFolderSender:
    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    async def send_email(self, key: str, to: str, message: EmailMessageText) -> str:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = message.subject
        mail["X-Doorstep-Key"] = key
        mail.set_content(message.text)
        path = self.folder / f"{_safe(key)}.eml"
        await asyncio.to_thread(self._write, path, mail.as_bytes())
        return f"file:{path.name}"

    async def send_sms(self, key: str, to_e164: str, body: str) -> str:
        text = f"To: {to_e164}\nX-Doorstep-Key: {key}\n\n{body}\n"
        path = self.folder / f"{_safe(key)}.sms.txt"
        await asyncio.to_thread(self._write, path, text.encode())
        return f"file:{path.name}"

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_bytes(data)
        partial.replace(path)


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in key)
