"""The client machinery at its boundaries (issue #21): the first and last status of
each range (success, redirect, 5xx), the retry count and backoff the README states,
the size cap at exactly the limit, the 120-character snippet of a body, the forms in
which a credential is redacted, the attempt budget, the constructor's limits.

Every test makes real requests to a loopback `FaultServer` through the public
clients; providers come from the registry, chosen by what their declaration says.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib
import itertools
import json
import logging
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from creditwatch import errors

from _cases import CASES, PROVIDERS
from _faults import FaultServer, Reply, json_reply, redirect_reply
from _golden import request as golden_request
from conftest import FAKE_KEY, credentials, with_credentials

pytestmark = pytest.mark.filterwarnings(
    "error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning"
)


def _profile(provider: str) -> Any:
    """The provider's compiled declaration (its quirks)."""
    return importlib.import_module(f"creditwatch._generated.{provider}._profile").PROFILE


def _plain(provider: str) -> bool:
    p = _profile(provider)
    return not (p.joint or p.servers or p.fills or p.body_status or p.unwrap or p.inspect)


PLAIN = next(p for p in PROVIDERS if _plain(p))
"""A provider without quirks: the machinery's behaviour, not a provider's."""
JOINT = [p for p in PROVIDERS if _profile(p).joint]
SERVERS = [(p, *server) for p in PROVIDERS for server in _profile(p).servers]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


def ok() -> Reply:
    return json_reply(CASES[PLAIN].example())


def make(server: FaultServer, provider: str = PLAIN, **options: Any) -> Any:
    """The provider's sync client on ``server``, with the fake credential."""
    given = {"api_key": FAKE_KEY, "base_url": server.base_url, **options}
    return CASES[provider].module.Client(**with_credentials(provider, given))


def fetch(client: Any, provider: str = PLAIN) -> Any:
    with client:
        return getattr(client, CASES[provider].method)()


def fails(server: FaultServer, **options: Any) -> errors.APIError:
    with pytest.raises(errors.APIError) as caught:
        fetch(make(server, **options))
    return caught.value


# -- which statuses are a success, a redirect, a server error ------------------------------


@pytest.mark.parametrize("status", [200, 299])
def test_both_ends_of_the_2xx_range_are_a_success(server: FaultServer, status: int) -> None:
    server.script(json_reply(CASES[PLAIN].example(), status))
    assert fetch(make(server)) is not None


def test_status_300_without_location_is_an_error_not_a_success(server: FaultServer) -> None:
    server.script(json_reply(CASES[PLAIN].example(), 300))
    error = fails(server, max_retries=0)
    assert isinstance(error, errors.APIStatusError)
    assert error.status_code == 300


def test_a_final_1xx_answer_is_an_error_not_a_success() -> None:
    body = CASES[PLAIN].example()
    mock = httpx.MockTransport(lambda request: httpx.Response(199, json=body))
    with httpx.Client(transport=mock) as http:
        client = CASES[PLAIN].module.Client(
            **credentials(PLAIN), base_url="https://api.example.com", http_client=http
        )
        with pytest.raises(errors.APIStatusError) as caught:
            fetch(client)
    assert caught.value.status_code == 199


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_redirect_status_to_the_same_origin_is_followed(
    server: FaultServer, status: int, mode: str
) -> None:
    case = CASES[PLAIN]
    server.script_path(case.path, redirect_reply("/moved/here", status))
    server.script_path("/moved/here", ok())
    options = with_credentials(PLAIN, {"api_key": FAKE_KEY, "base_url": server.base_url})
    if mode == "sync":
        fetch(case.module.Client(**options))
    else:

        async def run() -> None:
            async with case.module.AsyncClient(**options) as client:
                await getattr(client, case.method)()

        asyncio.run(run())
    assert [r.path for r in server.requests] == [case.path, "/moved/here"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (402, errors.APIStatusError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (405, errors.APIStatusError),
        (422, errors.BadRequestError),
        (421, errors.APIStatusError),
        (428, errors.APIStatusError),
        (429, errors.RateLimitError),
        (430, errors.APIStatusError),
        (499, errors.APIStatusError),
        (500, errors.InternalServerError),
        (599, errors.InternalServerError),
    ],
)
def test_the_error_class_at_the_edges_of_4xx_and_5xx(
    server: FaultServer, status: int, expected: type[errors.APIStatusError]
) -> None:
    server.script(json_reply({"error": "no"}, status))
    error = fails(server, max_retries=0)
    assert type(error) is expected
    assert isinstance(error, errors.APIStatusError)
    assert error.status_code == status


# -- retries: how many, after what, how long --------------------------------------------


def _now(status: int) -> Reply:
    return json_reply({"error": "busy"}, status, {"Retry-After": "0"})


@pytest.mark.parametrize(
    ("statuses", "suffix"),
    [
        ([500, 500], " (after 2 attempts)"),  # the first 5xx is retried
        ([503, 599], " (after 2 attempts)"),
        ([429, 429], " (after 2 attempts)"),
        ([503, 499], ""),  # 499 is not retried: no count of attempts
        ([503, 404], ""),
    ],
)
def test_the_message_counts_the_attempts_only_when_the_last_status_is_retried(
    server: FaultServer, statuses: list[int], suffix: str
) -> None:
    server.script(*(_now(s) for s in statuses))
    error = fails(server, max_retries=1)
    assert len(server.requests) == 2
    assert str(error).endswith(suffix)
    assert ("attempts" in str(error)) == bool(suffix)
    assert error.args == (str(error),)  # the count is in the one message, not beside it


def test_a_client_retries_twice_by_default(server: FaultServer) -> None:
    server.script(_now(503))
    error = fails(server)
    assert len(server.requests) == 3
    assert str(error).endswith("(after 3 attempts)")


def test_backoff_doubles_from_half_a_second_up_to_8_s_minus_up_to_25_percent_jitter(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: 0.5 s, 1 s, 2 s ... up to 8 s, minus up to 25 % jitter. The waits are
    recorded, not slept; 15 capped waits make a cap of 7 s or 9 s show with
    certainty (each wait is above 7 s, and below 8 s, with probability 0.57)."""
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    server.script(json_reply({"error": "busy"}, 503))
    fails(server, max_retries=20)
    assert len(waits) == 20
    for retry, wait in enumerate(waits):
        full = min(0.5 * 2**retry, 8.0)
        assert 0.75 * full <= wait <= full, (retry, wait)
    assert max(waits) > 7.0


@pytest.mark.parametrize(("max_retries", "valid"), [(-1, False), (0, True)])
def test_max_retries_must_not_be_negative(
    server: FaultServer, max_retries: int, valid: bool
) -> None:
    if valid:
        make(server, max_retries=max_retries).close()
    else:
        with pytest.raises(ValueError, match="max_retries"):
            make(server, max_retries=max_retries)


# -- the size cap -------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "valid"), [(0, False), (-1, False), (1, True), (None, True)])
def test_max_response_bytes_is_at_least_one_or_none(
    server: FaultServer, limit: int | None, valid: bool
) -> None:
    if valid:
        make(server, max_response_bytes=limit).close()
    else:
        with pytest.raises(ValueError, match="max_response_bytes"):
            make(server, max_response_bytes=limit)


def test_no_cap_reads_a_body_of_any_size(server: FaultServer) -> None:
    server.script(ok())
    assert fetch(make(server, max_response_bytes=None)) is not None


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("over", [0, 1])
def test_a_body_exactly_at_the_cap_is_read_and_one_byte_more_is_too_large(
    server: FaultServer, encoding: str, over: int
) -> None:
    body = json.dumps(CASES[PLAIN].example()).encode()
    headers = {"Content-Type": "application/json"}
    sent = body
    if encoding == "gzip":
        sent, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    server.script(Reply(200, sent, headers))
    client = make(server, max_response_bytes=len(body) - over)
    if over:
        with pytest.raises(errors.ResponseTooLargeError):
            fetch(client)
    else:
        assert fetch(client) is not None


# -- what an error says about a body that is not JSON -------------------------------------


@pytest.mark.parametrize("length", [119, 120, 121])
def test_a_text_body_is_quoted_up_to_120_characters_then_cut_with_an_ellipsis(
    server: FaultServer, length: int
) -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(length))
    server.script(Reply(400, text.encode(), {"Content-Type": "text/plain"}))
    error = fails(server, max_retries=0)
    shown = text if length <= 120 else text[:120] + "..."
    assert str(error).endswith(f": {shown!r}")


@pytest.mark.parametrize(
    ("content_type", "body", "described"),
    [
        ("text/plain", "<p>down for maintenance</p>", "an HTML page"),
        ("text/html", "down for maintenance", "an HTML page"),
        ("text/plain", "down <b>for</b> maintenance", "'down <b>for</b> maintenance'"),
    ],
)
def test_a_body_is_an_html_page_by_its_content_type_or_its_first_character(
    server: FaultServer, content_type: str, body: str, described: str
) -> None:
    server.script(Reply(400, body.encode(), {"Content-Type": content_type}))
    error = fails(server, max_retries=0)
    assert str(error).endswith(f": {described}")


def test_a_body_of_the_wrong_shape_is_described_by_its_problem_alone(
    server: FaultServer,
) -> None:
    server.script(json_reply([1]))
    error = fails(server)
    assert isinstance(error, errors.APIResponseValidationError)
    assert str(error).endswith(
        "the body does not match the spec: expected object, got array of 1 item"
    )


# -- redaction ----------------------------------------------------------------------------


def test_a_credential_echoed_json_escaped_is_redacted_whole(server: FaultServer) -> None:
    key = 'test-key-not-a-"real"-secret-\\0000'
    server.script(lambda request: json_reply({"key": key}, 400))
    error = fails(server, api_key=key, max_retries=0)
    assert isinstance(error, errors.APIStatusError)
    assert error.body == '{"key":"<redacted>"}'


def _credential_headers(provider: str) -> list[str]:
    """The headers that carry the credential (those that change with the key)."""
    one, other = golden_request(provider, FAKE_KEY)[1], golden_request(provider, "other")[1]
    return [name for name in one if one[name] != other.get(name)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_echoed_credential_header_is_redacted_as_sent_and_after_its_scheme(
    server: FaultServer, provider: str
) -> None:
    """The whole header value (``Bearer K``) is one secret: no scheme word is left
    in front of ``<redacted>``; the value after the scheme (HTTP basic's token) is
    one too; the scheme word alone is not a secret."""
    names = _credential_headers(provider)
    assert names

    def echo(request: Any) -> Reply:
        lines = []
        for name in names:
            value = request.headers[name]
            lines.append(f"full={value} after={value.split(' ', 1)[-1]}")
            if " " in value:
                lines.append(f"scheme={value.split(' ', 1)[0]}")
        return Reply(400, "\n".join(lines).encode(), {"Content-Type": "text/plain"})

    server.script(echo)
    with pytest.raises(errors.APIStatusError) as caught:
        fetch(make(server, provider, max_retries=0), provider)
    expected = []
    for name in names:
        value = server.requests[0].headers[name]
        expected.append("full=<redacted> after=<redacted>")
        if " " in value:
            expected.append(f"scheme={value.split(' ', 1)[0]}")
    assert caught.value.body == "\n".join(expected)


# -- credentials and base URLs ------------------------------------------------------------


@pytest.mark.parametrize(("provider", "argument", "suffix", "url"), SERVERS)
def test_a_credential_with_the_declared_suffix_selects_its_server(
    provider: str, argument: str, suffix: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(f"{_profile(provider).env_prefix}_BASE_URL", raising=False)
    module = CASES[provider].module
    with module.Client(**{argument: FAKE_KEY + suffix}) as client:
        assert client.base_url == url
    with module.Client(**{argument: FAKE_KEY}) as client:
        assert client.base_url != url


@pytest.mark.parametrize("provider", JOINT)
@pytest.mark.parametrize("position", [0, 1])
def test_only_the_first_joint_credential_the_basic_username_refuses_a_colon(
    provider: str, position: int
) -> None:
    given = credentials(provider)
    name = list(given)[position]
    given[name] = "test:" + given[name]
    client = CASES[provider].module.Client
    if position == 0:
        with pytest.raises(errors.InvalidCredentialsError, match=name):
            client(**given)
    else:
        client(**given).close()


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/v1?", "http://127.0.0.1:1/v1#"])
def test_a_base_url_with_an_empty_query_or_fragment_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="must not have"):
        CASES[PLAIN].module.Client(**credentials(PLAIN), base_url=url)


# -- the attempt's budget and timeouts ----------------------------------------------------


def _drip(body: bytes, parts: int, interval: float) -> Reply:
    size = -(-len(body) // parts)
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    return Reply(200, chunks=lambda: pieces, headers=headers, interval=interval)


def test_a_body_dripped_past_the_timeout_is_cut_at_the_attempt_budget(server: FaultServer) -> None:
    """Each chunk comes within the read timeout; the whole answer does not."""
    server.script(_drip(json.dumps(CASES[PLAIN].example()).encode(), 5, 0.04))
    error = fails(server, timeout=0.1, max_retries=0)
    assert isinstance(error, errors.APITimeoutError)


@pytest.mark.parametrize("timeout", [None, httpx.Timeout(None, connect=0.06)])
def test_without_a_read_timeout_an_attempt_has_no_budget(
    server: FaultServer, timeout: httpx.Timeout | None
) -> None:
    server.script(_drip(json.dumps(CASES[PLAIN].example()).encode(), 3, 0.04))
    assert fetch(make(server, timeout=timeout)) is not None


def test_the_clients_timeout_applies_to_a_callers_pool_with_a_longer_one(
    server: FaultServer,
) -> None:
    server.script(ok().with_delay(0.6))
    with httpx.Client(timeout=10.0) as http:
        start = time.monotonic()
        error = fails(server, timeout=0.05, max_retries=0, http_client=http)
        elapsed = time.monotonic() - start
    assert isinstance(error, errors.APITimeoutError)
    assert str(error).endswith("timed out (ReadTimeout)")  # httpx's own, not the budget's
    assert elapsed < 0.45


# -- logging --------------------------------------------------------------------------------


def test_debug_logging_shows_each_attempt_and_its_answer(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(_now(503), ok())
    caplog.set_level(logging.DEBUG, logger="creditwatch")
    fetch(make(server, max_retries=1))
    records = [r for r in caplog.records if r.name == "creditwatch"]
    sent = [r for r in records if getattr(r, "creditwatch_event", None) == "send"]
    assert [r.getMessage().rsplit(" (", 1)[-1] for r in sent] == [
        "attempt 1 of 2)",
        "attempt 2 of 2)",
    ]
    assert [getattr(r, "creditwatch_attempt", None) for r in sent] == [(1, 2), (2, 2)]
    done = [r.getMessage() for r in records if getattr(r, "creditwatch_event", None) == "done"]
    assert [m.split(" -> ", 1)[-1].split(" (")[0] for m in done] == [
        "503 Service Unavailable",
        "200 OK",
    ]
    seconds = [float(m.rsplit(" (", 1)[-1].removesuffix(" s)")) for m in done]
    assert all(0 <= s < 5 for s in seconds), seconds


# -- the error classes ----------------------------------------------------------------------


def test_an_errors_provider_is_a_keyword_argument_only() -> None:
    assert errors.APIError("m", provider="p").provider == "p"
    with pytest.raises(TypeError):
        errors.APIError("m", "p")  # type: ignore[call-arg]


def test_creditwatch_log_adds_its_handler_beside_an_applications_own(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``CREDITWATCH_LOG=debug`` logs to stderr even when the application put a handler
    of its own on the ``creditwatch`` logger first (what importing creditwatch runs)."""
    from creditwatch import _base  # noqa: PLC0415

    logger = logging.getLogger("creditwatch")
    level = logger.level
    monkeypatch.setattr(logger, "handlers", [logging.NullHandler()])
    monkeypatch.setenv("CREDITWATCH_LOG", "debug")
    try:
        _base._log_from_environment()
        server.script(ok())
        fetch(make(server, max_retries=0))
    finally:
        logger.setLevel(level)
    assert "(attempt 1 of 1)" in capsys.readouterr().err


# -- more boundaries: messages, what is retried, Retry-After, a body's own status -----------


@pytest.mark.parametrize(("status", "head"), [(400, "400 Bad Request"), (499, "499")])
def test_the_message_names_the_status_and_its_reason_phrase_when_it_has_one(
    server: FaultServer, status: int, head: str
) -> None:
    server.script(Reply(status, b"plain words", {"Content-Type": "text/plain"}))
    error = fails(server, max_retries=0)
    assert str(error) == f"{_profile(PLAIN).label} {head}: 'plain words'"


@pytest.mark.parametrize(
    ("status", "attempts"),
    [(400, 1), (404, 1), (499, 1), (408, 2), (409, 2), (429, 2), (500, 2), (503, 2)],
)
def test_only_408_409_429_and_5xx_are_retried(
    server: FaultServer, status: int, attempts: int
) -> None:
    server.script(_now(status))
    fails(server, max_retries=1)
    assert len(server.requests) == attempts


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        ("0", 0.0),
        ("-5", 0.0),
        ("59", 59.0),
        ("60", 60.0),
        ("61", 60.0),
        ("3600", 60.0),
        ("Thu, 01 Jan 2015 00:00:00 GMT", 0.0),  # a date in the past: now
    ],
)
def test_retry_after_is_obeyed_up_to_60_seconds(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch, retry_after: str, wait: float
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    server.script(json_reply({"error": "busy"}, 503, {"Retry-After": retry_after}), ok())
    fetch(make(server, max_retries=1))
    assert waits == [wait]


BODY_STATUS = [p for p in PROVIDERS if _profile(p).body_status is not None]


@pytest.mark.parametrize("provider", BODY_STATUS)
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (99, errors.APIResponseValidationError),
        (100, errors.APIStatusError),
        (401, errors.AuthenticationError),
        (599, errors.InternalServerError),
        (600, errors.APIResponseValidationError),
    ],
)
def test_a_status_in_the_body_counts_from_100_to_599(
    server: FaultServer, provider: str, status: int, expected: type[errors.APIError]
) -> None:
    server.script(json_reply({**CASES[provider].example(), "status": status}))
    with pytest.raises(errors.APIError) as caught:
        fetch(make(server, provider, max_retries=0), provider)
    assert type(caught.value) is expected
    if isinstance(caught.value, errors.APIStatusError):
        assert caught.value.status_code == status


def test_a_body_dripped_past_the_timeout_on_a_callers_pool_is_cut_too(
    server: FaultServer,
) -> None:
    server.script(_drip(json.dumps(CASES[PLAIN].example()).encode(), 5, 0.04))
    with httpx.Client(timeout=10.0) as http:
        error = fails(server, timeout=0.1, max_retries=0, http_client=http)
    assert isinstance(error, errors.APITimeoutError)


def test_the_command_lines_help_states_the_default_timeout_and_size_cap(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from creditwatch import _cli  # noqa: PLC0415

    assert _cli.parse_args(["balances", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default 30)" in text
    assert "(default 1048576; 0: no limit)" in text


@pytest.mark.parametrize(
    "cls",
    [
        errors.APIStatusError,
        errors.RateLimitError,
        errors.APIResponseValidationError,
        errors.ResponseTooLargeError,
    ],
)
def test_an_http_errors_fields_are_keyword_arguments_only(cls: type[errors.APIError]) -> None:
    response = httpx.Response(429, request=httpx.Request("GET", "https://api.example.com"))
    fields: dict[str, Any] = {"provider": "p", "response": response, "body": "b"}
    if cls is errors.ResponseTooLargeError:
        fields["limit"] = 1
    error: Any = cls("m", **fields)
    assert (error.provider, error.body) == ("p", "b")
    with pytest.raises(TypeError):
        cls("m", *fields.values())  # type: ignore[call-arg]


# -- credentials that cannot be sent, and the messages that say why --------------------------

CONTROL = "contains a control character"
UNSENDABLE = "contains a character an HTTP header cannot carry"


@pytest.mark.parametrize(
    ("inside", "problem"),
    [
        ("\x1f", CONTROL),  # the last C0 control
        ("\x7f", CONTROL),  # DEL
        ("\x80", CONTROL),  # the first C1 control
        ("\x9f", CONTROL),  # the last C1 control
        ("\xa0", UNSENDABLE),  # no-break space: printable, not ASCII
        ("~\xa0", UNSENDABLE),  # "~" (0x7e) is the last printable ASCII character
        (" \xa0", UNSENDABLE),  # a space inside a key is printable ASCII
    ],
    ids=["0x1f", "0x7f", "0x80", "0x9f", "0xa0", "tilde", "space"],
)
def test_an_unsendable_credential_is_refused_saying_which_kind_of_character(
    inside: str, problem: str
) -> None:
    with pytest.raises(errors.InvalidCredentialsError) as caught:
        CASES[PLAIN].module.Client(api_key=f"test-key{inside}-0000")
    assert problem in str(caught.value)


ALTERNATIVES = [p for p in PROVIDERS if not _profile(p).joint and len(_profile(p).credentials) > 1]


@pytest.mark.parametrize("provider", ALTERNATIVES)
def test_missing_alternative_credentials_name_every_argument_and_variable(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    arguments, variables = zip(*_profile(provider).credentials, strict=True)
    for variable in variables:
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(errors.MissingCredentialsError) as caught:
        CASES[provider].module.Client()
    args = arguments[0] + "".join(f" (or {a})" for a in arguments[1:])
    names = variables[0] + "".join(f" (or {v})" for v in variables[1:])
    assert f"Pass {args}=... or set the {names} environment variable." in str(caught.value)


def test_a_refused_base_url_is_shown_with_its_port_and_without_its_user_info() -> None:
    with pytest.raises(ValueError, match="user info") as caught:
        CASES[PLAIN].module.Client(
            **credentials(PLAIN), base_url="http://user:hunter2@127.0.0.1:8080/v1"
        )
    assert "(got http://127.0.0.1:8080/v1)" in str(caught.value)
    assert "hunter2" not in str(caught.value)


# -- redirects: how many, and the message of one refused -------------------------------------


@pytest.mark.parametrize(("hops", "followed"), [(5, True), (6, False)])
def test_at_most_five_redirects_are_followed(
    server: FaultServer, hops: int, followed: bool
) -> None:
    case = CASES[PLAIN]
    chain = [case.path] + [f"/hop/{n}" for n in range(1, hops + 1)]
    for here, there in itertools.pairwise(chain):
        server.script_path(here, redirect_reply(there, 302))
    server.script_path(chain[-1], ok())
    if followed:
        assert fetch(make(server)) is not None
    else:
        error = fails(server, max_retries=0)
        assert isinstance(error, errors.APIStatusError)
        assert error.status_code == 302
    assert len(server.requests) == min(hops, 5) + 1


def test_a_refused_redirect_names_the_other_host_and_port(server: FaultServer) -> None:
    with FaultServer() as elsewhere:
        target = elsewhere.url("/steal")
        server.script(redirect_reply(target, 302))
        error = fails(server, max_retries=0)
    assert f"redirected to another host ({target})" in str(error)


# -- what reprs and messages show ----------------------------------------------------------


def test_a_requests_headers_repr_hides_sensitive_ones_and_shows_the_others(
    server: FaultServer,
) -> None:
    server.script(json_reply({"error": "no"}, 400))
    with httpx.Client(headers={"Cookie": "session=not-a-secret-cookie"}) as http:
        error = fails(server, max_retries=0, http_client=http)
    assert isinstance(error, errors.APIStatusError)
    shown = repr(error.response.request.headers)
    assert "not-a-secret-cookie" not in shown
    assert FAKE_KEY not in shown
    assert "('Cookie', '[secure]')" in shown or "('cookie', '[secure]')" in shown
    assert error.response.request.headers["user-agent"] in shown


@pytest.mark.parametrize(
    ("title", "shown"),
    [("  Down  ", "Down"), ("x" * 80, "x" * 80), ("y" * 81, "y" * 80)],
    ids=["stripped", "80", "81"],
)
def test_an_html_pages_title_is_shown_up_to_80_characters(
    server: FaultServer, title: str, shown: str
) -> None:
    page = f"<html><head><title>{title}</title></head><body>x</body></html>"
    server.script(Reply(502, page.encode(), {"Content-Type": "text/html"}))
    error = fails(server, max_retries=0)
    assert str(error).endswith(f": an HTML page ({shown})")


def test_a_body_that_is_not_what_its_encoding_says_names_the_encoding(
    server: FaultServer,
) -> None:
    server.script(Reply(200, b"not gzip at all", {"Content-Encoding": "gzip"}))
    error = fails(server, max_retries=0)
    assert isinstance(error, errors.APIResponseValidationError)
    assert "(Content-Encoding: gzip)" in str(error)


# -- with_options ---------------------------------------------------------------------------


def test_with_options_refuses_a_negative_retry_count(server: FaultServer) -> None:
    with make(server) as client:
        assert client.with_options(max_retries=0).max_retries == 0
        with pytest.raises(ValueError, match="max_retries"):
            client.with_options(max_retries=-1)


def test_closing_a_copy_from_with_options_leaves_the_shared_pool_open(
    server: FaultServer,
) -> None:
    server.script(ok())
    with make(server) as client:
        client.with_options(timeout=5.0).close()
        assert getattr(client, CASES[PLAIN].method)() is not None


# -- Retry-After as an HTTP date without a zone ------------------------------------------------


def test_a_retry_after_date_in_minus_0000_is_utc_whatever_the_machines_zone(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 5322's ``-0000`` (no zone information) is read as UTC, not local time: on
    a machine 14 hours ahead, a date 30 s ahead is still 30 s ahead."""
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    monkeypatch.setenv("TZ", "Etc/GMT-14")
    time.tzset()
    try:
        when = time.strftime("%a, %d %b %Y %H:%M:%S -0000", time.gmtime(time.time() + 30))
        server.script(json_reply({"error": "busy"}, 503, {"Retry-After": when}), ok())
        fetch(make(server, max_retries=1))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert len(waits) == 1
    assert 25 < waits[0] <= 30


# -- the cause of a failed balance, quoted --------------------------------------------------


def _decimal_text_fields() -> list[tuple[str, str]]:
    from codegen.providers import PROVIDERS as DECLARED  # noqa: PLC0415

    found = []
    for provider in DECLARED:
        remaining = provider.declaration.balance.remaining
        if remaining is not None and remaining.text == "decimal" and "." not in remaining.value:
            found.append((provider.name, remaining.value))
    return found


@pytest.mark.parametrize(("provider", "field"), _decimal_text_fields())
def test_the_cause_of_a_balance_that_cannot_be_computed_is_quoted_up_to_200_characters(
    server: FaultServer, provider: str, field: str
) -> None:
    body = CASES[provider].example()
    body[field] = "1" + "x" * 300  # decimal text that is not decimal
    server.script(json_reply(body))
    client = make(server, provider, max_retries=0)
    with pytest.raises(errors.APIResponseValidationError) as caught, client:
        client.balance()
    cause = caught.value.__cause__
    assert cause is not None
    said = str(caught.value).split("no balance can be computed from the answer: ", 1)[1]
    assert said == f"{type(cause).__name__}: {str(cause)[:200]}"
    assert len(str(cause)) > 200


def test_a_compression_bomb_after_a_body_at_the_cap_is_never_expanded_in_memory(
    server: FaultServer,
) -> None:
    """A gzip body that reaches the cap exactly, then goes on with 16 MiB of zeros in
    a later chunk: reading stops one byte past the cap, so the zeros are never held
    in memory (traced: the peak stays near the cap, not near 16 MiB)."""
    limit = 256 * 1024
    packer = zlib.compressobj(wbits=31)
    first = packer.compress(b"0" * limit) + packer.flush(zlib.Z_FULL_FLUSH)
    bomb = packer.compress(b"0" * (16 << 20)) + packer.flush()
    headers = {"Content-Encoding": "gzip", "Content-Length": str(len(first) + len(bomb))}
    server.script(Reply(200, chunks=lambda: [first, bomb], headers=headers, interval=0.02))
    client = make(server, max_response_bytes=limit, max_retries=0)
    tracemalloc.start()
    try:
        with pytest.raises(errors.ResponseTooLargeError):
            fetch(client)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * limit, peak
