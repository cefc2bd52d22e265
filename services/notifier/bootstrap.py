"""Wiring: the notifier service from its settings, with real transports where they are
configured and the outbox folder where they are not."""

from datetime import timedelta
from pathlib import Path

from shared.service import Runtime, build_runtime
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.adapters.outbox_folder import OutboxFolderSender
from services.notifier.adapters.pacer import Pacer
from services.notifier.adapters.smtp_email import SmtpEmailSender
from services.notifier.adapters.tables import metadata
from services.notifier.adapters.twilio_sms import TwilioSmsSender
from services.notifier.domain.quiet_hours import QuietHours
from services.notifier.handlers import EmailSender, Notifier, SmsSender
from services.notifier.settings import NotifierSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def bootstrap(settings: NotifierSettings | None = None) -> Runtime:
    return build_runtime(settings or NotifierSettings(), metadata, MIGRATIONS)


def notifier(runtime: Runtime) -> Notifier:
    settings: NotifierSettings = runtime.settings  # type: ignore[assignment]
    folder = OutboxFolderSender(settings.outbox_dir, settings.email_from)
    quiet = QuietHours(settings.quiet_starts, settings.quiet_ends, settings.quiet_sundays)
    return Notifier(
        runtime,
        Templates(),
        _email(settings) or folder,
        _sms(settings) or folder,
        quiet=quiet if settings.quiet_hours else None,
        pacer=Pacer(settings.sms_per_second),
        suppress_after=settings.suppress_after_failures,
        sending_lease=sending_lease(settings),
    )


def sending_lease(settings: NotifierSettings) -> timedelta:
    """Longer than one request can spend sending: a text and then an email, each up to
    the timeout."""
    return timedelta(seconds=3 * settings.send_timeout_seconds + 5)


def _email(settings: NotifierSettings) -> EmailSender | None:
    if not settings.smtp_host:
        return None
    return SmtpEmailSender(
        settings.smtp_host,
        settings.smtp_port,
        settings.email_from,
        username=settings.smtp_username or None,
        password=settings.smtp_password.get_secret_value() or None,
        starttls=settings.smtp_starttls,
        timeout=settings.send_timeout_seconds,
    )


def _sms(settings: NotifierSettings) -> SmsSender | None:
    if not settings.twilio_account_sid:
        return None
    return TwilioSmsSender(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        settings.twilio_from,
        settings.status_callback_url,
        base_url=settings.twilio_base_url or None,
        timeout=settings.send_timeout_seconds,
    )
