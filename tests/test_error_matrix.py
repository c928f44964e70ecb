"""Every provider x every error class x sync and async, against a local server that
answers in each provider's own error format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from creditwatch import _base, errors

from _bodies import documented_statuses
from _cases import CASES, MODES, PROVIDERS, call
from _faults import FaultServer, Reply, drop_reply, json_reply, slow_reply
from _golden import error as golden_error
from conftest import FAKE_KEY


def _filled(value: Any, status: int) -> Any:
    """A golden error body with "<status>" replaced by the status (a number)."""
    if value == "<status>":
        return status
    if isinstance(value, dict):
        return {k: _filled(v, status) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, status) for v in value]
    return value


def error_body(provider: str, status: int) -> Any:
    """An error body in the provider's documented format (tests/golden/<p>.yaml)."""
    return _filled(golden_error(provider)["body"], status)


def decoded(provider: str, status: int) -> tuple[str | None, str, str | None]:
    """What that body decodes to, hand-worked in the golden file: (.code, text in
    .message, .request_id)."""
    expected = golden_error(provider)
    code = expected["code"]
    if code == "<status>":
        code = str(status)
    if status not in expected.get("code_statuses", [status]):
        code = None
    return code, expected["message"], expected.get("request_id")


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
    server.script(json_reply(error_body(provider, status), status))
    with pytest.raises(errors.APIStatusError) as caught:
        call(CASES[provider], mode, **options(server))
    error = caught.value
    assert type(error) is STATUS_CLASSES[status]
    assert (error.provider, error.status_code) == (provider, status)
    code, text, request_id = decoded(provider, status)
    assert error.code == code
    assert text in error.message
    assert error.request_id == request_id
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
    schema = documented_statuses(provider, CASES[provider].operation_id)[200] or {}
    if fault == "empty-object" and not schema.get("required"):
        # a spec that requires no field (DeepL's usage, Twilio's balance) allows {}
        result = call(CASES[provider], mode, **options(server, timeout=0.3, max_retries=0))
        assert type(result).__name__ == CASES[provider].model
        return
    with pytest.raises(cls) as caught:
        call(CASES[provider], mode, **options(server, timeout=0.3, max_retries=0))
    assert caught.value.provider == provider
    if isinstance(caught.value, errors.APIResponseValidationError):
        assert caught.value.body == reply.body.decode()
