"""Tests of the test infrastructure: tests/_faults.py and tests/_prism.py.

Everything goes over loopback with real httpx clients, sync and async.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import _prism
from _faults import (
    FaultServer,
    FaultServerError,
    RecordedRequest,
    Reply,
    drop_reply,
    html_reply,
    json_reply,
    malformed_json_reply,
    redirect_reply,
    reset_reply,
    retry_after_reply,
    slow_reply,
    truncated_json_reply,
)
from _prism import (
    PrismNotInstalledError,
    PrismServer,
    PrismStartError,
    prism_servers,
    violations,
)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


@pytest.fixture
def client(server: FaultServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5) as c:
        yield c


# -- FaultServer ------------------------------------------------------------------------


def test_replies_in_order_and_last_repeats(server: FaultServer, client: httpx.Client) -> None:
    server.script(json_reply({"n": 1}), html_reply(502), json_reply({"n": 3}, 201))

    got = [client.get("/x") for _ in range(5)]

    assert [r.status_code for r in got] == [200, 502, 201, 201, 201]
    assert got[0].json() == {"n": 1}
    assert got[0].headers["content-type"] == "application/json"
    assert got[1].headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in got[1].text
    assert [r.json() for r in got[2:]] == [{"n": 3}] * 3


def test_script_replaces_previous_script(server: FaultServer, client: httpx.Client) -> None:
    server.script(json_reply(1), json_reply(2))
    assert client.get("/").json() == 1
    server.script(json_reply(10), json_reply(20))
    assert [client.get("/").json() for _ in range(3)] == [10, 20, 20]


def test_script_path_and_method_take_precedence(server: FaultServer, client: httpx.Client) -> None:
    server.script(json_reply("default"))
    server.script_path("/me", json_reply("me-1"), json_reply("me-2"))
    server.script_path("/me", json_reply("me-post"), method="post")

    assert client.get("/me?x=1").json() == "me-1"  # the query is ignored
    assert client.post("/me").json() == "me-post"
    assert client.get("/me").json() == "me-2"
    assert client.get("/other").json() == "default"
    assert [r.path for r in server.requests_to("/me")] == ["/me"] * 3


def test_unscripted_request_gets_501_naming_it(server: FaultServer, client: httpx.Client) -> None:
    response = client.delete("/nothing/here")
    assert response.status_code == 501
    assert response.text == "FaultServer: no reply scripted for DELETE /nothing/here"


def test_requests_are_recorded_with_headers_query_and_body(
    server: FaultServer, client: httpx.Client
) -> None:
    server.script(json_reply({}))
    client.post(
        "/v1/items?cursor=abc&limit=5&empty=",
        json={"name": "x"},
        headers={"Authorization": "Bearer tok", "X-Multi": "a"},
    )
    client.get("/second")

    first, second = server.requests
    assert isinstance(first, RecordedRequest)
    assert first.method == "POST"
    assert first.path == "/v1/items"
    assert first.target == "/v1/items?cursor=abc&limit=5&empty="
    assert first.query == {"cursor": ["abc"], "limit": ["5"], "empty": [""]}
    assert first.headers["authorization"] == "Bearer tok"  # case-insensitive
    assert first.headers["AUTHORIZATION"] == "Bearer tok"
    assert "x-multi" in first.headers
    assert first.headers.get_all("X-Multi") == ["a"]
    assert first.headers["content-type"] == "application/json"
    assert first.json() == {"name": "x"}
    assert first.body == json.dumps({"name": "x"}, separators=(",", ":")).encode()
    assert second.method == "GET"
    assert second.body == b""
    assert second.received_at >= first.received_at


def test_chunked_request_body_is_recorded(server: FaultServer, client: httpx.Client) -> None:
    server.script(Reply(204))

    def chunks() -> Iterator[bytes]:
        yield b"hello "
        yield b"world"

    assert client.post("/upload", content=chunks()).status_code == 204
    (request,) = server.requests
    assert request.headers["transfer-encoding"] == "chunked"
    assert request.body == b"hello world"


def test_keep_alive_reuses_one_connection(server: FaultServer, client: httpx.Client) -> None:
    server.script(json_reply({"ok": True}), Reply(204), html_reply(500))
    for _ in range(20):
        client.get("/ping")
    assert len({r.client_port for r in server.requests}) == 1


def test_close_connection_forces_a_new_connection(
    server: FaultServer, client: httpx.Client
) -> None:
    server.script(Reply(200, b"one", close_connection=True), Reply(200, b"two"))
    first = client.get("/")
    second = client.get("/")
    assert (first.text, second.text) == ("one", "two")
    assert first.headers["connection"] == "close"
    ports = [r.client_port for r in server.requests]
    assert ports[0] != ports[1]


def test_head_has_content_length_but_no_body(server: FaultServer, client: httpx.Client) -> None:
    server.script(json_reply({"a": 1}))
    response = client.head("/")
    assert response.headers["content-length"] == "7"
    assert response.content == b""
    assert client.get("/").json() == {"a": 1}  # connection still in sync


def test_retry_after_seconds_and_http_date(server: FaultServer, client: httpx.Client) -> None:
    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    server.script(
        retry_after_reply(3),
        retry_after_reply(when, status=503),
        retry_after_reply("soon"),
        json_reply({"ok": True}),
    )
    first, second, third, fourth = (client.get("/limited") for _ in range(4))
    assert first.status_code == 429
    assert first.headers["retry-after"] == "3"
    assert first.json() == {"error": "rate_limited"}
    assert second.status_code == 503
    assert second.headers["retry-after"] == "Wed, 02 Jan 2030 03:04:05 GMT"
    assert third.headers["retry-after"] == "soon"
    assert fourth.status_code == 200
    assert "retry-after" not in fourth.headers


def test_truncated_body_raises_remote_protocol_error(
    server: FaultServer, client: httpx.Client
) -> None:
    server.script(truncated_json_reply({"credits": 12345, "name": "x" * 40}))
    with pytest.raises(httpx.RemoteProtocolError, match=r"without sending complete message body"):
        client.get("/me")

    # Streaming shows that only part of the announced body arrives.
    with client.stream("GET", "/me") as response:
        assert response.status_code == 200
        announced = int(response.headers["content-length"])
        received = b""
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in response.iter_bytes():
                received += chunk
    assert 0 < len(received) < announced


def test_malformed_json_is_a_complete_response_with_broken_json(
    server: FaultServer, client: httpx.Client
) -> None:
    server.script(malformed_json_reply())
    response = client.get("/me")
    assert response.status_code == 200
    assert len(response.content) == int(response.headers["content-length"])
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_redirect_location_and_following_it(server: FaultServer, client: httpx.Client) -> None:
    server.script_path("/old", redirect_reply("/new"))
    server.script_path("/new", json_reply({"moved": True}))
    server.script_path("/away", redirect_reply("https://example.invalid/x", 301))

    response = client.get("/old")
    assert response.status_code == 302
    assert response.headers["location"] == "/new"
    assert response.is_redirect
    assert client.get("/away").headers["location"] == "https://example.invalid/x"

    followed = client.get("/old", follow_redirects=True)
    assert followed.json() == {"moved": True}
    assert [r.path for r in server.requests][-2:] == ["/old", "/new"]


def test_delay_is_honoured_and_triggers_read_timeout(
    server: FaultServer, client: httpx.Client
) -> None:
    server.script(slow_reply(0.2, {"slow": True}))
    start = time.monotonic()
    response = client.get("/slow")
    elapsed = time.monotonic() - start
    assert response.json() == {"slow": True}
    assert 0.19 <= elapsed < 2.0

    server.script(json_reply({}).with_delay(1.0))
    start = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.get("/slow", timeout=httpx.Timeout(5, read=0.1))
    assert time.monotonic() - start < 0.9


def test_drop_closes_without_response(server: FaultServer, client: httpx.Client) -> None:
    server.script(drop_reply(), json_reply("after"))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.get("/")
    assert client.get("/").json() == "after"  # the client recovers on a new connection


def test_reset_aborts_the_connection(server: FaultServer, client: httpx.Client) -> None:
    server.script(reset_reply(), json_reply("after"))
    with pytest.raises(httpx.ReadError):
        client.get("/")
    assert client.get("/").json() == "after"


def test_callable_responder_sees_the_request(server: FaultServer, client: httpx.Client) -> None:
    def page(request: RecordedRequest) -> Reply:
        cursor = request.query.get("cursor", ["0"])[0]
        nxt = None if cursor == "2" else str(int(cursor) + 1)
        return json_reply({"page": cursor, "next": nxt})

    server.script_path("/items", page)
    pages = []
    cursor: str | None = "0"
    while cursor is not None:
        body = client.get("/items", params={"cursor": cursor}).json()
        pages.append(body["page"])
        cursor = body["next"]
    assert pages == ["0", "1", "2"]


def test_raising_responder_gives_500_and_fails_the_test() -> None:
    def broken(request: RecordedRequest) -> Reply:
        raise KeyError("oops")

    with pytest.raises(FaultServerError, match="oops"), FaultServer() as srv:
        srv.script(broken)
        response = httpx.get(srv.url("/"))
        assert response.status_code == 500
        assert "KeyError" in response.text


def test_concurrent_delays_do_not_serialize_sync(server: FaultServer) -> None:
    server.script(slow_reply(0.3, {"ok": True}))
    with httpx.Client(base_url=server.base_url) as c, ThreadPoolExecutor(10) as pool:
        start = time.monotonic()
        results = list(pool.map(lambda _: c.get("/slow").status_code, range(10)))
        elapsed = time.monotonic() - start
    assert results == [200] * 10
    assert 0.29 <= elapsed < 1.5, elapsed  # serialized would be >= 3 s


@pytest.mark.asyncio
async def test_concurrent_delays_do_not_serialize_async(server: FaultServer) -> None:
    server.script(slow_reply(0.3, {"ok": True}))
    async with httpx.AsyncClient(base_url=server.base_url) as c:
        start = time.monotonic()
        responses = await asyncio.gather(*(c.get("/slow") for _ in range(10)))
        elapsed = time.monotonic() - start
    assert [r.json() for r in responses] == [{"ok": True}] * 10
    assert 0.29 <= elapsed < 1.5, elapsed
    assert len(server.requests) == 10


@pytest.mark.asyncio
async def test_async_client_sees_faults(server: FaultServer) -> None:
    server.script(retry_after_reply(1), truncated_json_reply(), drop_reply(), json_reply("ok"))
    async with httpx.AsyncClient(base_url=server.base_url) as c:
        first = await c.get("/")
        assert (first.status_code, first.headers["retry-after"]) == (429, "1")
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get("/")
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get("/")
        assert (await c.get("/")).json() == "ok"


def test_stop_does_not_wait_for_pending_delays() -> None:
    srv = FaultServer()
    srv.start()
    srv.script(slow_reply(30))
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(httpx.get, srv.url("/"), timeout=10)
        deadline = time.monotonic() + 5
        while not srv.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        start = time.monotonic()
        srv.stop()
        assert time.monotonic() - start < 2
        with pytest.raises(httpx.TransportError):
            future.result(timeout=5)


# -- Prism ----------------------------------------------------------------------------

TINY_SPEC = textwrap.dedent(
    """\
    openapi: 3.0.3
    info: {title: tiny, version: "1.0"}
    servers: [{url: "https://api.example.com/v1"}]
    components:
      securitySchemes:
        bearer: {type: http, scheme: bearer}
      schemas:
        Error:
          type: object
          required: [message]
          properties: {message: {type: string}}
    security: [{bearer: []}]
    paths:
      /me:
        get:
          parameters:
            - {name: X-Request-Id, in: header, required: true, schema: {type: string}}
          responses:
            "200":
              description: ok
              content:
                application/json:
                  schema:
                    type: object
                    required: [id, name]
                    properties:
                      id: {type: integer}
                      name: {type: string}
                  examples:
                    alice: {value: {id: 1, name: alice}}
                    bob: {value: {id: 2, name: bob}}
            "401":
              description: unauthorized
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
                  example: {message: bad token}
            "429":
              description: slow down
              headers:
                Retry-After: {schema: {type: integer}, example: 7}
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
                  example: {message: rate limited}
      /items:
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [name]
                  properties: {name: {type: string, maxLength: 5}}
          responses:
            "201":
              description: created
              content:
                application/json:
                  schema: {type: object, properties: {id: {type: integer}}}
                  example: {id: 9}
            "422":
              description: invalid
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
                  example: {message: invalid}
      /public:
        get:
          security: []
          responses:
            "200":
              description: ok
              content:
                application/json:
                  schema: {type: object, properties: {n: {type: integer}}}
                  example: {n: "not an integer"}
    """
)

AUTH = {"Authorization": "Bearer any-token", "X-Request-Id": "r1"}


@pytest.fixture(scope="module")
def tiny_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prism") / "tiny.yaml"
    path.write_text(TINY_SPEC)
    return path


@pytest.fixture(scope="module")
def prism(tiny_spec: Path) -> Iterator[PrismServer]:
    with PrismServer(tiny_spec) as srv:
        yield srv


@pytest.fixture
def prism_client(prism: PrismServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=prism.base_url, timeout=10) as c:
        yield c


def test_prism_base_url_and_default_example(prism: PrismServer, prism_client: httpx.Client) -> None:
    assert prism.base_url == f"http://127.0.0.1:{prism.port}"
    response = prism_client.get("/me", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"id": 1, "name": "alice"}
    assert violations(response.headers) == []
    # servers[0].url's path is not served: paths live at the root.
    assert prism_client.get("/v1/me", headers=AUTH).status_code == 404


def test_prism_prefer_example_code_and_dynamic(prism_client: httpx.Client) -> None:
    bob = prism_client.get("/me", headers={**AUTH, "Prefer": "example=bob"})
    assert bob.json() == {"id": 2, "name": "bob"}

    limited = prism_client.get("/me", headers={**AUTH, "Prefer": "code=429"})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert limited.json() == {"message": "rate limited"}

    undefined = prism_client.get("/me", headers={**AUTH, "Prefer": "code=418"})
    assert undefined.status_code == 404
    assert "418 is not defined" in undefined.json()["detail"]

    dynamic = prism_client.get("/me", headers={**AUTH, "Prefer": "dynamic=true"})
    assert dynamic.status_code == 200
    assert isinstance(dynamic.json()["id"], int)
    assert isinstance(dynamic.json()["name"], str)


def test_prism_security_violation_is_401_with_sl_violations(
    prism_client: httpx.Client,
) -> None:
    for headers in (
        {"X-Request-Id": "r1"},  # no Authorization
        {"X-Request-Id": "r1", "Authorization": "Basic dTpw"},  # wrong scheme
        {"X-Request-Id": "r1", "Authorization": "bearer t"},  # scheme is case-sensitive
        {"X-Request-Id": "r1", "Prefer": "code=200"},  # security beats Prefer
    ):
        response = prism_client.get("/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json() == {"message": "bad token"}  # the spec's 401 example
        assert violations(response.headers) == [
            {
                "location": ["request"],
                "severity": "Error",
                "code": 401,
                "message": "Invalid security scheme used",
            }
        ]


def test_prism_missing_required_header_is_a_made_up_422(
    prism_client: httpx.Client,
) -> None:
    response = prism_client.get("/me", headers={"Authorization": "Bearer t"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "sl-violations" not in response.headers  # only in the body here
    problem = response.json()
    assert problem["type"].endswith("#UNPROCESSABLE_ENTITY")
    assert problem["validation"][0]["location"] == ["header"]
    assert "x-request-id" in problem["validation"][0]["message"]


def test_prism_invalid_body_uses_the_spec_422_with_sl_violations(
    prism_client: httpx.Client,
) -> None:
    auth = {"Authorization": "Bearer t"}
    ok = prism_client.post("/items", json={"name": "abc"}, headers=auth)
    assert (ok.status_code, ok.json()) == (201, {"id": 9})

    bad = prism_client.post("/items", json={"name": "far too long"}, headers=auth)
    assert bad.status_code == 422
    assert bad.json() == {"message": "invalid"}
    (violation,) = violations(bad.headers)
    assert violation["location"] == ["request", "body", "name"]
    assert violation["code"] == "maxLength"


def test_prism_errors_flag_turns_a_bad_example_into_500(
    prism_client: httpx.Client,
) -> None:
    response = prism_client.get("/public")
    assert response.status_code == 500
    assert response.json()["type"].endswith("#VIOLATIONS")
    (violation,) = violations(response.headers)
    assert violation["location"] == ["response", "body", "n"]


@pytest.mark.asyncio
async def test_prism_with_async_client(prism: PrismServer) -> None:
    async with httpx.AsyncClient(base_url=prism.base_url, timeout=10) as c:
        responses = await asyncio.gather(*(c.get("/me", headers=AUTH) for _ in range(5)))
    assert {r.json()["name"] for r in responses} == {"alice"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_prism_servers_start_in_parallel_and_leave_no_process(tiny_spec: Path) -> None:
    with prism_servers(tiny_spec, tiny_spec, errors=False) as servers:
        assert len({s.port for s in servers}) == 2
        pids = [s.pid for s in servers]
        for srv in servers:
            assert httpx.get(f"{srv.base_url}/public").status_code == 200  # no --errors
            assert srv.startup_seconds is not None
    assert all(pid is not None and not _alive(pid) for pid in pids)
    with pytest.raises(RuntimeError, match="not running"):
        servers[0].base_url  # noqa: B018


def test_prism_start_error_includes_prism_output(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n")
    with (
        pytest.raises(PrismStartError, match=r"(?s)status 1.*No operations found"),
        PrismServer(spec),
    ):
        pass


def test_missing_prism_install_explains_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_prism, "PRISM_DIR", tmp_path)
    with pytest.raises(PrismNotInstalledError, match="npm ci --prefix tests/prism"):
        _prism.prism_executable()
