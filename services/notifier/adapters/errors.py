"""What a message provider's failure means for the caller: try again later, or never.

    SendError                    code, reason (safe to log: no number, address or body)
    ├── RetryableSendError       no answer in time, connection refused or reset, 408, 429, 5xx
    └── PermanentSendError       any other refusal (4xx): fail at once, do not retry
        └── SenderAuthError      our credentials were refused (401, 403): every message
                                 fails alike until the configuration is fixed

`code` is the provider's own error code when it gave one (Twilio's 21211, 21610, ...),
else the HTTP status, else a word for what happened on the wire ("timeout",
"connection"). `recipient` is True when the refusal is about the number itself
(invalid, unreachable, not a mobile, unsubscribed): the caller may fall back to
another channel and count it towards suppressing the number.
"""


class SendError(Exception):
    retryable: bool = False

    def __init__(self, code: int | str, reason: str, *, recipient: bool = False) -> None:
        super().__init__(f"{reason} (code {code})")
        self.code = code
        self.reason = reason
        self.recipient = recipient


class RetryableSendError(SendError):
    retryable = True


class PermanentSendError(SendError):
    retryable = False


class SenderAuthError(PermanentSendError):
    """The provider refused our credentials; not the recipient's fault."""
