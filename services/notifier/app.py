"""The notifier service: consumes notification requests, sends, reports outcomes."""

from fastapi import FastAPI

from shared.events.feedback import SurveyAnswered
from shared.events.notifications import (
    NotificationDelivered,
    NotificationFailed,
    NotificationSent,
    ReplyReceived,
    StaffTaskRaised,
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
            "appointment.rescheduled": notifier.appointment_rescheduled,
            "appointment.contractor_en_route": notifier.contractor_en_route,
        },
        attempts=settings.handler_attempts,
    )
    declare_publications(
        runtime.broker, {
            Topic.NOTIFICATIONS_OUTCOMES: NotificationSent
            | NotificationDelivered
            | NotificationFailed
            | ReplyReceived
            | StaffTaskRaised,
            Topic.CASES: SurveyAnswered,
        }
    )
    start_sweep, stop_sweep = every(settings.sweep_seconds, notifier.sweep, "send-held-messages")

    async def stop_sending() -> None:
        await notifier.stop(grace=settings.send_timeout_seconds)

    runtime.on_start.extend([notifier.recover, start_sweep])
    runtime.on_stop.extend([stop_sending, stop_sweep])
    app = http_app(runtime, "Doorstep notifier", "Every promised message reaches the tenant once.")
    app.state.notifier = notifier
    add_twilio_routes(
        app,
        notifier,
        settings.twilio_auth_token.get_secret_value(),
        settings.status_callback_url,
        settings.inbound_sms_url,
    )
    return app
