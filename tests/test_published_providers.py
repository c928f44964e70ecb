"""What the declarations of the providers generated from published OpenAPI specs add
beyond their balance (tests/test_golden.py): how the credential is sent, DeepL's Free
server for ``:fx`` keys, OpenRouter's management-key 403 and whole-URL ``base_url``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from creditwatch import PermissionDeniedError, deepl, elevenlabs, openrouter

from _cases import EXAMPLES
from _faults import FaultServer, json_reply
from conftest import FAKE_KEY


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


def test_deepl_free_keys_use_the_free_server() -> None:
    with deepl.Client(api_key=FAKE_KEY + ":fx") as free, deepl.Client(api_key=FAKE_KEY) as pro:
        assert free.base_url == "https://api-free.deepl.com"
        assert pro.base_url == "https://api.deepl.com"
    with deepl.Client(api_key=FAKE_KEY + ":fx", base_url="https://deepl.test") as given:
        assert given.base_url == "https://deepl.test"  # base_url wins


def test_deepl_sends_its_auth_scheme(server: FaultServer) -> None:
    body = EXAMPLES["deepl"]["getUsage"]["responses"]["200"]["free"]
    server.script(json_reply(body))
    with deepl.Client(api_key=FAKE_KEY + ":fx", base_url=server.base_url) as client:
        assert client.balance().remaining == 1250000 - 180118
    (request,) = server.requests
    assert (request.path, request.headers["authorization"]) == (
        "/v2/usage",
        f"DeepL-Auth-Key {FAKE_KEY}:fx",
    )


def test_elevenlabs_sends_the_key_in_its_header(server: FaultServer) -> None:
    body = EXAMPLES["elevenlabs"]["getUserSubscription"]["responses"]["200"]["starter"]
    server.script(json_reply(body))
    with elevenlabs.Client(api_key=FAKE_KEY, base_url=server.base_url) as client:
        assert client.get_user_subscription().tier == "starter"
    (request,) = server.requests
    assert request.path == "/v1/user/subscription"
    assert request.headers["xi-api-key"] == FAKE_KEY
    assert "authorization" not in request.headers


def test_openrouter_ordinary_key_gets_a_clear_403(server: FaultServer) -> None:
    body = EXAMPLES["openrouter"]["getCredits"]["responses"]["403"]["default"]
    server.script(json_reply(body, 403))
    with (
        openrouter.Client(api_key=FAKE_KEY, base_url=server.base_url + "/api/v1") as client,
        pytest.raises(PermissionDeniedError) as caught,
    ):
        client.balance()
    assert "Only management keys can perform this operation" in str(caught.value)
    assert caught.value.code == "403"
    assert [r.path for r in server.requests] == ["/api/v1/credits"]  # base_url + path
    assert server.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_openrouter_key_endpoint_is_generated(server: FaultServer) -> None:
    body = EXAMPLES["openrouter"]["getCurrentKey"]["responses"]["200"]["default"]
    server.script(json_reply(body))
    with openrouter.Client(api_key=FAKE_KEY, base_url=server.base_url) as client:
        key = client.get_current_key()
    assert key.data.is_management_key is False
    assert server.requests[0].path == "/key"
