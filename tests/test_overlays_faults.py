"""The clients against a local server that injects what Prism cannot: retries,
Retry-After, slow answers, HTML and broken bodies, redirects; plus the security
rules (no key in reprs, errors or logs; no credential to another host).

Every transport-level test runs in each of `_cases.MODES`: the sync client, the
async client on httpx's transport and the async client on the aiohttp one. A
resource left open (an unclosed aiohttp session or connector) fails the test."""

from __future__ import annotations

import copy
import logging
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import creditwatch
import httpx
import pytest
from creditwatch import _base, errors
from creditwatch._balance import credential_variables

from _cases import CASES, MODES, PROVIDERS, call
from _faults import (
    FaultServer,
    Reply,
    drop_reply,
    html_reply,
    json_reply,
    malformed_json_reply,
    redirect_reply,
    retry_after_reply,
    slow_reply,
    truncated_json_reply,
)
from _golden import request as golden_request
from _specs import load, operations, resolve
from conftest import FAKE_KEY, credentials

pytestmark = pytest.mark.filterwarnings(
    "error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exponential backoff starts at 0.5 s; the tests need the logic, not the wait."""
    monkeypatch.setattr(_base, "INITIAL_BACKOFF", 0.01)


def ok(provider: str) -> Reply:
    return json_reply(CASES[provider].example())


def opts(server: FaultServer, **extra: Any) -> dict[str, Any]:
    return {"api_key": FAKE_KEY, "base_url": server.base_url, **extra}


# -- auth headers, exactly as each provider documents them --------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_request_carries_auth_quirks_and_user_agent(
    server: FaultServer, provider: str, mode: str
) -> None:
    server.script(ok(provider))
    call(CASES[provider], mode, **opts(server))
    (request,) = server.requests
    assert request.method == "GET"
    path, headers = golden_request(provider, FAKE_KEY)
    assert request.path == path
    for name, value in headers.items():
        assert request.headers[name] == value
    assert request.headers["user-agent"].startswith(f"creditwatch/{creditwatch.__version__}")
    if provider != "flamel":
        assert "x-api-key" not in request.headers


@pytest.mark.parametrize("provider", PROVIDERS)
def test_base_url_replaces_the_server_and_keeps_its_path(
    server: FaultServer, provider: str
) -> None:
    server.script(ok(provider))
    call(CASES[provider], "sync", **opts(server, base_url=server.base_url + "/prefix/v1/"))
    assert server.requests[0].path == "/prefix/v1" + golden_request(provider, FAKE_KEY)[0]


def test_credentials_and_base_url_from_environment(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.script(ok("generect"))
    monkeypatch.setenv("GENERECT_API_KEY", "env-test-key")
    monkeypatch.setenv("GENERECT_BASE_URL", server.base_url)
    with creditwatch.generect.Client() as client:
        client.get_user_me()
    assert server.requests[0].headers["authorization"] == "Token env-test-key"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_missing_credentials_names_argument_and_variable(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = credential_variables(provider)  # the registry's, in declared order
    for name in variables:
        monkeypatch.delenv(name, raising=False)
    arguments = list(credentials(provider))  # api_key, or every joint credential
    with pytest.raises(creditwatch.MissingCredentialsError) as caught:
        CASES[provider].module.Client()
    assert arguments[0] in str(caught.value)
    assert variables[0] in str(caught.value)
    assert isinstance(caught.value, creditwatch.APIError)
    # credentials used together: each missing one is named, with its variable
    for i, (argument, variable) in enumerate(zip(arguments, variables, strict=False)):
        if i == 0:
            continue
        given = {a: v for a, v in credentials(provider).items() if a != argument}
        with pytest.raises(creditwatch.MissingCredentialsError) as caught:
            CASES[provider].module.Client(**given)
        assert argument in str(caught.value) and variable in str(caught.value)


# -- retries --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_retryable_status_then_success(server: FaultServer, status: int, mode: str) -> None:
    server.script(json_reply({"error": "busy"}, status), ok("llmgenerator"))
    raw = call(CASES["llmgenerator"], mode, raw=True, **opts(server))
    assert raw.status_code == 200
    assert raw.retries == 1
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
@pytest.mark.parametrize("mode", MODES)
def test_other_4xx_are_not_retried(server: FaultServer, status: int, mode: str) -> None:
    server.script(json_reply({"error": "no"}, status), ok("llmgenerator"))
    with pytest.raises(errors.APIStatusError) as caught:
        call(CASES["llmgenerator"], mode, **opts(server))
    assert caught.value.status_code == status
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (404, errors.NotFoundError),
        (422, errors.BadRequestError),  # no class of its own: the nearest base
        (418, errors.APIStatusError),  # a status without a class
    ],
)
def test_404_422_and_an_unlisted_418_map_to_their_classes(
    server: FaultServer, mode: str, status: int, error_class: type[errors.APIStatusError]
) -> None:
    server.script(json_reply({"error": "no"}, status))
    with pytest.raises(errors.APIStatusError) as caught:
        call(CASES["llmgenerator"], mode, **opts(server))
    assert type(caught.value) is error_class
    assert caught.value.status_code == status


@pytest.mark.parametrize("mode", MODES)
def test_retries_give_up_after_max_retries(server: FaultServer, mode: str) -> None:
    server.script(html_reply(502))
    with pytest.raises(errors.InternalServerError) as caught:
        call(CASES["easyslip"], mode, **opts(server, max_retries=3))
    assert len(server.requests) == 4
    assert "HTML" in str(caught.value)
    assert "502 Bad Gateway" in caught.value.body


@pytest.mark.parametrize("mode", MODES)
def test_retry_after_seconds_is_honoured(server: FaultServer, mode: str) -> None:
    server.script(retry_after_reply(1, body={"error": "slow down"}), ok("llmgenerator"))
    call(CASES["llmgenerator"], mode, **opts(server))
    first, second = server.requests
    assert second.received_at - first.received_at >= 0.95


def test_retry_after_http_date_is_honoured(server: FaultServer) -> None:
    when = datetime.now(UTC) + timedelta(seconds=2)
    server.script(retry_after_reply(when, status=503), ok("flamel"))
    call(CASES["flamel"], "sync", **opts(server))
    first, second = server.requests
    # HTTP dates have one-second resolution: the wait is between ~1 and ~2 s.
    assert 0.9 <= second.received_at - first.received_at <= 3.0


@pytest.mark.parametrize("mode", MODES)
def test_rate_limit_error_exposes_retry_after(server: FaultServer, mode: str) -> None:
    server.script(retry_after_reply(7, body={"error": "Too many requests"}))
    with pytest.raises(errors.RateLimitError) as caught:
        call(CASES["llmgenerator"], mode, **opts(server, max_retries=0))
    assert caught.value.retry_after == 7.0
    assert caught.value.message.endswith("Too many requests")


def test_long_retry_after_is_capped(monkeypatch: pytest.MonkeyPatch, server: FaultServer) -> None:
    waits: list[float] = []
    monkeypatch.setattr("creditwatch._base.time.sleep", waits.append)
    server.script(retry_after_reply(3600), ok("flamel"))
    call(CASES["flamel"], "sync", **opts(server))
    assert waits == [_base.MAX_RETRY_AFTER]


def test_backoff_grows_exponentially_with_jitter(
    monkeypatch: pytest.MonkeyPatch, server: FaultServer
) -> None:
    monkeypatch.setattr(_base, "INITIAL_BACKOFF", 0.5)
    waits: list[float] = []
    monkeypatch.setattr("creditwatch._base.time.sleep", waits.append)
    server.script(json_reply({}, 500))
    with pytest.raises(errors.InternalServerError):
        call(CASES["flamel"], "sync", **opts(server, max_retries=3))
    assert len(waits) == 3
    for attempt, wait in enumerate(waits):
        assert 0.5 * 2**attempt * 0.75 <= wait <= 0.5 * 2**attempt


@pytest.mark.parametrize("mode", MODES)
def test_dropped_connection_is_retried_then_connection_error(
    server: FaultServer, mode: str
) -> None:
    server.script(drop_reply(), ok("exorde"))
    user = call(CASES["exorde"], mode, **opts(server))
    assert str(user.id) == CASES["exorde"].example()["user"]["id"]
    server.reset()
    server.script(drop_reply())
    with pytest.raises(errors.APIConnectionError) as caught:
        call(CASES["exorde"], mode, **opts(server, max_retries=1))
    assert not isinstance(caught.value, errors.APITimeoutError)
    assert len(server.requests) == 2


@pytest.mark.parametrize("mode", MODES)
def test_refused_connection_is_a_connection_error(mode: str) -> None:
    with FaultServer() as closed:
        url = closed.base_url
    with pytest.raises(errors.APIConnectionError) as caught:
        call(CASES["flamel"], mode, api_key=FAKE_KEY, base_url=url, max_retries=0)
    assert "127.0.0.1" in str(caught.value)
    assert not isinstance(caught.value, errors.APITimeoutError)  # refused, not slow


@pytest.mark.parametrize("mode", MODES)
def test_slow_answer_times_out(server: FaultServer, mode: str) -> None:
    server.script(slow_reply(1.0, CASES["generect"].example()))
    started = time.perf_counter()
    with pytest.raises(errors.APITimeoutError) as caught:
        call(CASES["generect"], mode, **opts(server, timeout=0.2, max_retries=1))
    assert time.perf_counter() - started < 0.95 * 2
    assert len(server.requests) == 2  # timeouts are retried
    assert "timed out" in str(caught.value)


# -- bodies that are not what the spec says -------------------------------------------

BAD_BODIES = {
    "html-200": (html_reply(200), "HTML"),
    "empty-200": (Reply(200, b"", {"Content-Type": "application/json"}), "empty body"),
    "malformed-json": (malformed_json_reply(), "not JSON"),
    "missing-field": (json_reply({"userId": 1}), "missing"),
    "list": (json_reply([1, 2]), "does not match"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", BAD_BODIES)
def test_bad_success_body_is_a_validation_error(server: FaultServer, name: str, mode: str) -> None:
    reply, words = BAD_BODIES[name]
    server.script(reply)
    with pytest.raises(errors.APIResponseValidationError) as caught:
        call(CASES["flamel"], mode, **opts(server))
    assert words in str(caught.value)
    assert caught.value.body == reply.body.decode()
    assert caught.value.status_code == 200
    assert len(server.requests) == 1  # not retried: the same body would come back


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_missing_required_field_is_a_validation_error(
    server: FaultServer, provider: str
) -> None:
    """Drop each top-level field of the documented example in turn: a field the spec
    requires gives a validation error naming it; an optional one parses as Unset."""
    case = CASES[provider]
    spec = load(provider)
    schema = spec["components"]["schemas"].get(case.model)
    if schema is None:  # an inline response schema (OpenRouter): the operation's 200 body
        op = next(op for _, _, op in operations(spec) if op["operationId"] == case.operation_id)
        schema = resolve(spec, op["responses"]["200"]["content"]["application/json"]["schema"])
    required = set(schema.get("required", []))
    body = case.example()
    assert required <= set(case.unwrap(body)), "the example lacks a required field"
    for field in list(case.unwrap(body)):
        damaged = copy.deepcopy(body)
        del case.unwrap(damaged)[field]
        server.script(json_reply(damaged))
        if field in required:
            with pytest.raises(errors.APIResponseValidationError) as caught:
                call(case, "sync", **opts(server))
            assert repr(field) in str(caught.value)
        else:
            assert field not in call(case, "sync", **opts(server)).to_dict()


@pytest.mark.parametrize("mode", MODES)
def test_truncated_body_is_a_connection_error_after_retries(server: FaultServer, mode: str) -> None:
    server.script(truncated_json_reply(CASES["flamel"].example()))
    with pytest.raises(errors.APIConnectionError):
        call(CASES["flamel"], mode, **opts(server, max_retries=1))
    assert len(server.requests) == 2


@pytest.mark.parametrize("mode", MODES)
def test_error_status_with_unknown_body_keeps_raw_text(server: FaultServer, mode: str) -> None:
    server.script(Reply(401, b"nope, not json", {"Content-Type": "text/plain"}))
    with pytest.raises(errors.AuthenticationError) as caught:
        call(CASES["exorde"], mode, **opts(server))
    assert caught.value.body == "nope, not json"
    assert caught.value.code is None
    assert "nope, not json" in str(caught.value)


# -- envelopes --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_flamel_accepts_the_success_envelope(server: FaultServer, mode: str) -> None:
    user = CASES["flamel"].example()
    server.script(json_reply({"success": True, "code": 200, "data": user}))
    result = call(CASES["flamel"], mode, **opts(server))
    assert result.user_id == user["userId"]
    assert result.email == user["email"]


@pytest.mark.parametrize("mode", MODES)
def test_easyslip_error_in_a_200_body_is_an_error(server: FaultServer, mode: str) -> None:
    server.script(json_reply({"status": 401, "message": "unauthorized"}))
    with pytest.raises(errors.AuthenticationError) as caught:
        call(CASES["easyslip"], mode, **opts(server))
    assert caught.value.status_code == 401
    assert caught.value.response.status_code == 200
    assert caught.value.code == "unauthorized"


def test_exorde_deprecation_notice_warns(server: FaultServer) -> None:
    body = CASES["exorde"].example("200", "userInfoWithDeprecationNotice")
    notice = body["status"]["apiDeprecationNotice"]
    server.script(json_reply(body))
    with pytest.warns(DeprecationWarning) as caught, creditwatch.exorde.Client(**opts(server)) as c:
        full = c.get_user_info_response()
    text = str(caught[0].message)
    assert notice["message"] in text
    assert "2022-02-02" in text
    assert full.status.cost == body["status"]["cost"]


def test_exorde_without_notice_does_not_warn(server: FaultServer) -> None:
    server.script(json_reply(CASES["exorde"].example("200", "userInfo")))
    with warnings.catch_warnings(), creditwatch.exorde.Client(**opts(server)) as client:
        warnings.simplefilter("error")
        client.get_user_info()


# -- forward compatibility ----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_unknown_fields_and_enum_values_are_kept(server: FaultServer, mode: str) -> None:
    body = CASES["llmgenerator"].example()
    body["subscription"]["status"] = "paused"  # not in the spec's enum
    body["subscription"]["seats"] = 5  # not in the spec at all
    body["newTopLevel"] = {"x": 1}
    server.script(json_reply(body))
    result = call(CASES["llmgenerator"], mode, **opts(server))
    assert result.subscription.status == "paused"
    assert result.subscription.status.value == "paused"
    assert not result.subscription.status.is_known
    assert result.to_dict()["newTopLevel"] == {"x": 1}
    assert result.to_dict()["subscription"]["seats"] == 5
    assert result.to_dict()["subscription"]["status"] == "paused"


# -- redirects and credentials ---------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_same_origin_redirect_is_followed_with_credentials(server: FaultServer, mode: str) -> None:
    server.script_path("/api/auth/users/me/", redirect_reply("/v2/users/me/", 301))
    server.script_path("/v2/users/me/", ok("generect"))
    call(CASES["generect"], mode, **opts(server))
    assert server.requests[-1].path == "/v2/users/me/"
    assert server.requests[-1].headers["authorization"] == f"Token {FAKE_KEY}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_redirect_to_another_host_is_refused(server: FaultServer, provider: str, mode: str) -> None:
    with FaultServer() as elsewhere:
        elsewhere.script(ok(provider))
        server.script(redirect_reply(elsewhere.url("/steal"), 302))
        with pytest.raises(errors.APIStatusError) as caught:
            call(CASES[provider], mode, **opts(server))
        assert elsewhere.requests == []
    assert "another host" in str(caught.value)
    assert caught.value.status_code == 302


@pytest.mark.parametrize(
    "url",
    ["http://api.example.com", "http://10.0.0.1:8080", "ftp://127.0.0.1", "not a url"],
)
def test_insecure_base_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        creditwatch.flamel.Client(FAKE_KEY, base_url=url).close()


@pytest.mark.parametrize(
    "url", ["http://localhost:1", "http://127.0.0.1:1", "http://127.5.6.7", "http://[::1]:1"]
)
def test_loopback_http_is_allowed(url: str) -> None:
    with creditwatch.flamel.Client(FAKE_KEY, base_url=url) as client:
        assert client.base_url == url


@pytest.mark.parametrize("provider", PROVIDERS)
def test_key_never_in_repr(provider: str) -> None:
    module = CASES[provider].module
    secrets = credentials(provider).values()
    with module.Client(**credentials(provider)) as client:
        assert not any(s in repr(client) or s in str(client) for s in secrets)
        assert "redacted" in repr(client)
    assert not any(s in repr(module.AsyncClient(**credentials(provider))) for s in secrets)


@pytest.mark.parametrize("mode", MODES)
def test_key_never_in_logs_or_errors(
    server: FaultServer, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    caplog.set_level(logging.DEBUG)
    server.script(json_reply({"error": "x"}, 500), drop_reply(), json_reply({"error": "no"}, 401))
    with pytest.raises(errors.AuthenticationError) as caught:
        call(CASES["llmgenerator"], mode, **opts(server))
    assert "retry 1 of 2" in caplog.text  # the retries were logged...
    assert FAKE_KEY not in caplog.text  # ...without the key
    for text in (str(caught.value), repr(caught.value), repr(caught.value.args)):
        assert FAKE_KEY not in text


def test_header_parameters_are_sent_once_and_replace_a_pool_default(server: FaultServer) -> None:
    """An operation's header parameter (Exorde's version header): its default when not
    given, the caller's value when given, always exactly once, and over a same-named
    default header of a pool the caller passed in (as httpx's merge would)."""
    from creditwatch.exorde.models import ApiVersion  # noqa: PLC0415

    server.script(ok("exorde"))
    with creditwatch.exorde.Client(FAKE_KEY, base_url=server.base_url) as client:
        client.get_user_info()
        client.get_user_info(x_exorde_api_version=ApiVersion("v2"))
    pool = httpx.Client(headers={"x-exorde-api-version": "v0", "X-Other": "kept"})
    with creditwatch.exorde.Client(FAKE_KEY, base_url=server.base_url, http_client=pool) as c:
        c.get_user_info()
    pool.close()
    sent = [r.headers.get_all("X-Exorde-Api-Version") for r in server.requests]
    assert sent == [["v1"], ["v2"], ["v1"]]
    assert server.requests[-1].headers["x-other"] == "kept"
    assert server.requests[-1].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert server.requests[-1].headers.get_all("accept") == ["application/json"]


def test_http_client_passed_in_is_not_closed(server: FaultServer) -> None:
    server.script(ok("flamel"))
    http = httpx.Client()
    with creditwatch.flamel.Client(FAKE_KEY, base_url=server.base_url, http_client=http) as c:
        c.get_my_info()
    assert not http.is_closed
    http.close()
    own = creditwatch.flamel.Client(FAKE_KEY, base_url=server.base_url)
    own.close()
    assert own._transport.http.is_closed


def test_llmgenerator_credential_precedence(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.script(ok("llmgenerator"))
    monkeypatch.setenv("LLMGENERATOR_ACCESS_TOKEN", "env-test-token")
    monkeypatch.delenv("LLMGENERATOR_API_KEY", raising=False)
    with creditwatch.llmgenerator.Client(base_url=server.base_url) as client:
        assert client.uses_access_token
        client.get_current_subscription()
    assert server.requests[-1].path == "/subscriptions/current"
    assert server.requests[-1].headers["authorization"] == "Bearer env-test-token"
    monkeypatch.setenv("LLMGENERATOR_API_KEY", "env-test-key")
    with creditwatch.llmgenerator.Client(base_url=server.base_url) as client:
        assert not client.uses_access_token
        client.get_current_subscription()
    assert server.requests[-1].path == "/subscriptions/current/api"
    assert server.requests[-1].headers["authorization"] == "Bearer env-test-key"
    with pytest.raises(ValueError, match="not both"):
        creditwatch.llmgenerator.Client("k", access_token="t")


def test_exorde_deprecation_warning_points_at_the_caller(server: FaultServer) -> None:
    server.script(json_reply(CASES["exorde"].example("200", "userInfoWithDeprecationNotice")))
    with pytest.warns(DeprecationWarning) as caught, creditwatch.exorde.Client(**opts(server)) as c:
        c.get_user_info()
    assert caught[0].filename == __file__


def test_balances_reports_a_bad_base_url_as_that_providers_error(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.script(ok("generect"))
    monkeypatch.setenv("FLAMEL_API_KEY", FAKE_KEY)
    monkeypatch.setenv("FLAMEL_BASE_URL", "http://flamel.example.com")
    monkeypatch.setenv("GENERECT_API_KEY", FAKE_KEY)
    monkeypatch.setenv("GENERECT_BASE_URL", server.base_url)
    results = creditwatch.balances(["flamel", "generect"])
    assert isinstance(results["flamel"], creditwatch.APIError)
    assert "https" in str(results["flamel"])
    assert isinstance(results["generect"], creditwatch.Balance)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("billingRetryDate", "yesterday", 'billingRetryDate: expected date-time, got string "yes'),
        ("Enterprise", {"monthlyCredit": 1}, "Enterprise: required field 'expiresAt' is missing"),
        ("Enterprise", "not an object", 'Enterprise: expected object, got string "not an object"'),
    ],
)
def test_bad_nested_nullable_value_is_a_validation_error(
    server: FaultServer, field: str, value: Any, words: str
) -> None:
    """A nullable nested value that does not parse is an error, never kept raw."""
    body = CASES["flamel"].example()
    body[field] = value
    server.script(json_reply(body))
    with pytest.raises(errors.APIResponseValidationError) as caught:
        call(CASES["flamel"], "sync", **opts(server))
    assert words in str(caught.value)
