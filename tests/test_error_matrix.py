"""Every provider x every error class x sync and async, against a local server that
answers in each provider's own error format."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from creditwatch import _base, errors

from _cases import CASES, MODES, PROVIDERS, call
from _faults import FaultServer, Reply, drop_reply, json_reply, slow_reply
from conftest import FAKE_KEY

REQUEST_ID = "123e4567-e89b-12d3-a456-426655440000"

# provider -> (status -> error body in that provider's documented format)
ERROR_BODIES: dict[str, Callable[[int], Any]] = {
    "flamel": lambda s: {"success": False, "code": s, "data": "wrong_api_key"},
    "exorde": lambda s: {
        "error": {"message": "Something failed.", "code": s, "requestId": REQUEST_ID},
        "status": {"cost": 0},
    },
    "generect": lambda s: {"detail": "Something failed."},
    "easyslip": lambda s: {"status": s, "message": "server_error"},
    "llmgenerator": lambda s: {"error": "Something failed."},
}
# What each provider's body decodes to: (.code, text in .message)
DECODED: dict[str, tuple[Callable[[int], str | None], str]] = {
    "flamel": (lambda s: "wrong_api_key", "wrong_api_key"),
    "exorde": (str, "Something failed."),
    "generect": (lambda s: None, "Something failed."),
    "easyslip": (lambda s: "server_error", "server_error"),
    "llmgenerator": (lambda s: None, "Something failed."),
}
STATUS_CLASSES = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.APIStatusError,
    429: errors.RateLimitError,
    500: errors.InternalServerError,
    503: errors.InternalServerError,
}


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_base, "INITIAL_BACKOFF", 0.001)


def options(server: FaultServer, **extra: Any) -> dict[str, Any]:
    return {"api_key": FAKE_KEY, "base_url": server.base_url, "max_retries": 1, **extra}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", STATUS_CLASSES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_status_maps_to_its_class_with_the_providers_reason(
    server: FaultServer, provider: str, status: int, mode: str
) -> None:
    server.script(json_reply(ERROR_BODIES[provider](status), status))
    with pytest.raises(errors.APIStatusError) as caught:
        call(CASES[provider], mode, **options(server))
    error = caught.value
    assert type(error) is STATUS_CLASSES[status]
    assert (error.provider, error.status_code) == (provider, status)
    code, text = DECODED[provider]
    assert error.code == code(status)
    assert text in error.message
    assert error.request_id == (REQUEST_ID if provider == "exorde" else None)
    retried = status in {409, 429} or status >= 500
    assert len(server.requests) == (2 if retried else 1)
    assert FAKE_KEY not in str(error)


INVALID = errors.APIResponseValidationError
BAD: dict[str, tuple[Reply, type[errors.APIError]]] = {
    "html-page": (Reply(200, b"<html><title>Oops</title></html>", {}), INVALID),
    "not-json": (Reply(200, b"{truncated", {"Content-Type": "application/json"}), INVALID),
    "empty-object": (json_reply({}), INVALID),
    "dropped": (drop_reply(), errors.APIConnectionError),
    "slow": (slow_reply(2.0, {}), errors.APITimeoutError),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", BAD)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_faults_map_to_their_class(
    server: FaultServer, provider: str, fault: str, mode: str
) -> None:
    reply, cls = BAD[fault]
    server.script(reply)
    with pytest.raises(cls) as caught:
        call(CASES[provider], mode, **options(server, timeout=0.3, max_retries=0))
    assert caught.value.provider == provider
    if isinstance(caught.value, errors.APIResponseValidationError):
        assert caught.value.body == reply.body.decode()
