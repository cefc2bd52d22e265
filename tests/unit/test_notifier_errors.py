"""The documented exception tree of a provider's failures: which are tried again and
which fail at once, as `errors.py` draws it."""

import inspect

import pytest

from services.notifier.adapters import errors
from services.notifier.adapters.errors import PermanentSendError, RetryableSendError, SenderAuthError, SendError
from services.notifier.adapters.twilio_sms import _refusal


def test_the_tree_is_as_drawn():
    assert issubclass(RetryableSendError, SendError) and RetryableSendError.retryable
    assert issubclass(PermanentSendError, SendError) and not PermanentSendError.retryable
    assert issubclass(SenderAuthError, PermanentSendError) and not SenderAuthError.retryable
    assert not issubclass(RetryableSendError, PermanentSendError)


def test_the_module_documents_every_kind_of_failure():
    documented = inspect.getdoc(errors) or ""
    kinds = [obj.__name__ for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, SendError)]
    assert sorted(kinds) == ["PermanentSendError", "RetryableSendError", "SendError", "SenderAuthError"]
    for name in kinds:
        assert name in documented


@pytest.mark.parametrize(
    ("status", "code", "kind", "about_the_number"),
    [
        (429, 20429, RetryableSendError, False),
        (500, 20500, RetryableSendError, False),
        (503, 20503, RetryableSendError, False),
        (408, None, RetryableSendError, False),
        (400, 21211, PermanentSendError, True),
        (400, 21610, PermanentSendError, True),
        (400, 21614, PermanentSendError, True),
        (400, 21617, PermanentSendError, False),
        (401, 20003, SenderAuthError, False),
        (403, None, SenderAuthError, False),
    ],
)
def test_twilio_refusals_fall_where_the_tree_says(status: int, code: int | None, kind: type, about_the_number: bool):
    failure = _refusal(status, code)
    assert type(failure) is kind
    assert failure.recipient is about_the_number
    assert failure.code == (code or status)
