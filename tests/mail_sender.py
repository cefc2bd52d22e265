"""A tenant's mail sent to intake over SMTP, as the whole-system tests send it."""

import smtplib
from email.message import EmailMessage


def send_mail(  # noqa: PLR0913
    port: int, sender: str, to: str, subject: str, body: str,
    message_id: str | None = None, host: str = "127.0.0.1",
) -> str:
    """Send one mail; the case reference that intake's 250 reply names."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    if message_id:
        mail["Message-ID"] = message_id
    mail.set_content(body)
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail(sender)
        smtp.rcpt(to)
        code, reply = smtp.data(mail.as_bytes())
    assert code == 250, reply
    return reply.decode().rsplit(" ", 1)[-1]
