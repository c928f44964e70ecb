"""The five clients against Prism serving the normalized specs.

Prism checks every request against the spec, the auth header included (a wrong or
missing credential gets 401), and answers with the documented examples; so a
passing call proves the client sends what the provider documents.
"""

from __future__ import annotations

from typing import Any

import creditwatch
import httpx
import pytest
from creditwatch import errors

from _cases import CASES, MODES, PROVIDERS, Case, call, normalized
from _prism import PrismServer
from _specs import load, op_security, operations
from conftest import FAKE_KEY, FAKE_TOKEN, with_credentials


def _options(prism: dict[str, PrismServer], case: Case, **extra: Any) -> dict[str, Any]:
    options = {"api_key": FAKE_KEY, "base_url": prism[case.provider].base_url, **extra}
    return with_credentials(case.provider, options)


def _prefer(value: str, mode: str) -> httpx.Client | httpx.AsyncClient:
    """An http_client that asks Prism for a given documented response."""
    headers = {"Prefer": value}
    return httpx.Client(headers=headers) if mode == "sync" else httpx.AsyncClient(headers=headers)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_method_returns_the_typed_documented_example(
    prism: dict[str, PrismServer], provider: str, mode: str
) -> None:
    case = CASES[provider]
    result = call(case, mode, **_options(prism, case))
    model = getattr(case.module.models, case.model)
    assert type(result) is model
    # The documented example, unwrapped, is what the typed model holds.
    assert normalized(result.to_dict()) == normalized(case.unwrap(case.example()))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_raw_response_carries_status_headers_and_body(
    prism: dict[str, PrismServer], provider: str, mode: str
) -> None:
    case = CASES[provider]
    raw = call(case, mode, raw=True, **_options(prism, case))
    assert isinstance(raw, creditwatch.APIResponse)
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert httpx.Response(200, content=raw.content).json() == case.example()
    assert raw.text == raw.content.decode()
    assert raw.retries == 0


@pytest.mark.parametrize("mode", MODES)
def test_llmgenerator_access_token_uses_the_session_endpoints(
    prism: dict[str, PrismServer], mode: str
) -> None:
    case = CASES["llmgenerator"]
    options = {"access_token": FAKE_TOKEN, "base_url": prism["llmgenerator"].base_url}
    sub = call(case, mode, raw=True, **options)
    assert sub.http_response.request.url.path == "/subscriptions/current"
    credits = call(case, mode, "get_credit_balance", raw=True, **options)
    assert credits.http_response.request.url.path == "/credits/balance"
    with_key = call(case, mode, "get_credit_balance", raw=True, **_options(prism, case))
    assert with_key.http_response.request.url.path == "/credits/balance/api"


# (provider, HTTP status Prism serves, expected class, expected .code, expected request id?)
ERROR_CASES = [
    ("flamel", 401, errors.AuthenticationError, "wrong_api_key"),
    ("flamel", 403, errors.PermissionDeniedError, "not_logged_in"),
    ("exorde", 400, errors.BadRequestError, "400"),
    ("exorde", 401, errors.AuthenticationError, "401"),
    ("exorde", 403, errors.PermissionDeniedError, "403"),
    ("exorde", 429, errors.RateLimitError, "429"),
    ("exorde", 500, errors.InternalServerError, None),
    ("exorde", 503, errors.InternalServerError, None),
    ("generect", 401, errors.AuthenticationError, None),
    ("generect", 403, errors.PermissionDeniedError, None),
    ("easyslip", 401, errors.AuthenticationError, "unauthorized"),
    ("easyslip", 403, errors.PermissionDeniedError, "access_denied"),
    ("easyslip", 500, errors.InternalServerError, "server_error"),
    ("llmgenerator", 401, errors.AuthenticationError, None),
    ("llmgenerator", 429, errors.RateLimitError, None),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("provider", "status", "cls", "code"),
    ERROR_CASES,
    ids=[f"{p}-{s}" for p, s, _, _ in ERROR_CASES],
)
def test_documented_errors_become_typed_errors(
    prism: dict[str, PrismServer],
    provider: str,
    status: int,
    cls: type[errors.APIStatusError],
    code: str | None,
    mode: str,
) -> None:
    case = CASES[provider]
    http = _prefer(f"code={status}", mode)
    with pytest.raises(cls) as caught:
        call(case, mode, **_options(prism, case, http_client=http, max_retries=0))
    error = caught.value
    assert error.status_code == status
    assert error.provider == provider
    assert error.code == code
    body = case.example(str(status)) if status != 503 else None
    if isinstance(body, dict):
        assert httpx.Response(status, content=error.body).json() == body
    # Each provider's documented reason reaches the message.
    reason = _documented_reason(provider, body)
    if reason:
        assert reason in str(error)
    if provider == "exorde" and isinstance(body, dict):
        request_id = body.get("requestId") or body["error"]["requestId"]
        assert error.request_id == request_id
        assert request_id in str(error)
    assert FAKE_KEY not in str(error)
    assert FAKE_KEY not in repr(error.args)


def _documented_reason(provider: str, body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if provider == "flamel":
        return str(body["data"])
    if provider == "easyslip":
        return str(body["message"])
    if provider == "exorde":
        return str(body["error"]["message"]) if "error" in body else None
    if provider == "generect":
        return str(body["detail"])
    return str(body["error"])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_prism_rejects_a_wrong_credential_header(
    prism: dict[str, PrismServer], provider: str
) -> None:
    """Control: Prism really checks auth, so the passing tests above mean something
    (where the spec requires a credential: ElevenLabs' published spec lets the key
    header be left out, and Prism then answers)."""
    case = CASES[provider]
    with httpx.Client() as http:
        response = http.get(prism[provider].base_url + case.path, headers={"X-Nothing": "1"})
    spec = load(provider)
    operation = next(op for _, _, op in operations(spec) if op["operationId"] == case.operation_id)
    assert response.status_code == (200 if {} in op_security(spec, operation) else 401)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_balance_from_prism(prism: dict[str, PrismServer], provider: str) -> None:
    case = CASES[provider]
    with case.module.Client(**_options(prism, case)) as client:
        balance = client.balance()
    assert isinstance(balance, creditwatch.Balance)
    assert balance.provider == provider
    assert balance.checked_at.tzinfo is not None
