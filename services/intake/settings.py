from pydantic import SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from services.intake.domain.roles import Role, parse_tokens


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    service_name: str = "intake"
    http_port: int = 8081
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    mail_domain: str = "hexagon.org.uk"
    max_message_bytes: int = 25 * 1024 * 1024
    # Bearer tokens for the staff API with their roles: `token:role,token:role` (roles in
    # domain/roles.py; a bare `token` may do everything). Empty: the staff API refuses all.
    staff_tokens: SecretStr = SecretStr("")
    # Bearer tokens for a mail provider posting raw MIME to /inbound/mime. Empty: refused.
    mime_tokens: SecretStr = SecretStr("")

    @field_validator("staff_tokens")
    @classmethod
    def _roles_are_known(cls, tokens: SecretStr) -> SecretStr:
        parse_tokens(tokens.get_secret_value())  # a bad role stops the service at start-up
        return tokens

    def staff_token_roles(self) -> dict[str, Role]:
        return parse_tokens(self.staff_tokens.get_secret_value())

    def mime_token_set(self) -> frozenset[str]:
        return _tokens(self.mime_tokens)


def _tokens(secret: SecretStr) -> frozenset[str]:
    return frozenset(t.strip() for t in secret.get_secret_value().split(",") if t.strip())
