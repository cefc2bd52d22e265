"""The notifier service: consumes notification requests, sends, reports outcomes."""

from fastapi import FastAPI

from shared.events.feedback import SurveyAnswered
from shared.events.notifications import (
    NotificationDelivered,
    NotificationFailed,
    NotificationSent,
    ReplyReceived,
)
from shared.kafka import declare_publications, subscribe
from shared.service import Runtime, every, http_app
from shared.topics import Topic
from services.notifier.bootstrap import bootstrap
from services.notifier.bootstrap import notifier as build_notifier
from services.notifier.handlers import Notifier
from services.notifier.webhooks import add_twilio_routes
from services.notifier.settings import NotifierSettings


def create_app(runtime: Runtime | None = None, notifier: Notifier | None = None) -> FastAPI:
    runtime = runtime or bootstrap()
    settings: NotifierSettings = runtime.settings  # type: ignore[assignment]
    notifier = notifier or build_notifier(runtime)
    subscribe(
        runtime.broker,
        Topic.NOTIFICATIONS_REQUESTED,
        group_id="notifier",
        dead_letters=Topic.DLQ_NOTIFIER,
        wanted={"notification.requested": notifier.handle_request},
        attempts=settings.handler_attempts,
    )
    subscribe(
        runtime.broker,
        Topic.APPOINTMENTS,
        group_id="notifier-appointments",
        dead_letters=Topic.DLQ_NOTIFIER,
        wanted={
            "appointment.booked": notifier.appointment_booked,
            "appointment.cancelled": notifier.appointment_cancelled,
        },
        attempts=settings.handler_attempts,
    )
    declare_publications(
        runtime.broker, {
            Topic.NOTIFICATIONS_OUTCOMES: NotificationSent | NotificationDelivered | NotificationFailed | ReplyReceived,
            Topic.CASES: SurveyAnswered,
        }
    )
    start_sweep, stop_sweep = every(30, notifier.send_held, "send-held-messages")
    runtime.on_start.append(start_sweep)
    runtime.on_stop.append(stop_sweep)
    app = http_app(runtime, "Doorstep notifier", "Every promised message reaches the tenant once.")
    add_twilio_routes(
        app,
        notifier,
        settings.twilio_auth_token.get_secret_value(),
        settings.status_callback_url,
        settings.inbound_sms_url,
    )
    return app
