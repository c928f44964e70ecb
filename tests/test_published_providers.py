"""What the declarations of the providers generated from published OpenAPI specs add
beyond their balance (tests/test_golden.py): how the credential is sent, DeepL's Free
server for ``:fx`` keys, OpenRouter's management-key 403 and whole-URL ``base_url``,
Twilio's two credentials used together (HTTP basic, the account SID in the path), its
decimal-text balance and its child accounts."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import creditwatch
import pytest
from creditwatch import PermissionDeniedError, deepl, elevenlabs, openrouter, twilio

from _cases import EXAMPLES
from _faults import FaultServer, json_reply
from conftest import FAKE_KEY, credentials


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


SID = credentials("twilio")["account_sid"]
TOKEN = credentials("twilio")["auth_token"]
BALANCE = EXAMPLES["twilio"]["FetchBalance"]["responses"]["200"]["fetch"]


def test_twilio_sends_basic_auth_and_fills_the_path(server: FaultServer) -> None:
    server.script(json_reply(BALANCE))
    with twilio.Client(SID, TOKEN, base_url=server.base_url) as client:
        result = client.fetch_balance()  # no account_sid argument: the credential fills it
    assert (result.balance, result.currency) == ("0.05", "USD")  # the exact decimal text
    (request,) = server.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Balance.json"
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"


def test_twilio_credentials_from_the_environment(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    with pytest.raises(creditwatch.MissingCredentialsError, match="TWILIO_AUTH_TOKEN"):
        twilio.Client()
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("TWILIO_BASE_URL", server.base_url)
    server.script(json_reply(BALANCE))
    balance = twilio.Client().balance()
    assert (balance.remaining, balance.limit, balance.unit) == (0.05, None, "USD")
    assert balance.account.balance == "0.05"


@pytest.mark.parametrize(
    ("body", "remaining", "unit"),
    [
        ({"account_sid": "AC" + "1" * 32, "balance": None, "currency": "USD"}, None, "USD"),
        ({"account_sid": "AC" + "1" * 32, "balance": None, "currency": None}, None, "unknown"),
        ({"account_sid": "AC" + "1" * 32}, None, "unknown"),
        ({"balance": "-12.3400", "currency": "EUR"}, -12.34, "EUR"),
    ],
    ids=["child-account", "child-no-currency", "child-absent-fields", "negative-eur"],
)
def test_twilio_child_accounts_have_no_balance(
    server: FaultServer, body: object, remaining: float | None, unit: str
) -> None:
    """The spec: child accounts carry no balance. Documented result: remaining None,
    limit None, unit the currency if any (else "unknown")."""
    server.script(json_reply(body))
    with twilio.Client(SID, TOKEN, base_url=server.base_url) as client:
        balance = client.balance()
    assert (balance.remaining, balance.limit, balance.unit) == (remaining, None, unit)


def test_twilio_balance_that_is_not_decimal_text_is_a_validation_error(
    server: FaultServer,
) -> None:
    server.script(json_reply({"balance": "lots", "currency": "USD"}))
    with (
        twilio.Client(SID, TOKEN, base_url=server.base_url, max_retries=0) as client,
        pytest.raises(creditwatch.APIResponseValidationError, match="decimal"),
    ):
        client.balance()


def test_twilio_echoed_credentials_are_scrubbed(server: FaultServer) -> None:
    """A server echoing the request (the Authorization header's base64 form, the SID
    of the path, the token) leaks neither credential into the error."""
    basic = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    echo = {"message": f"Basic {basic} for {SID} with {TOKEN}", "code": 20003, "status": 401}
    server.script(json_reply(echo, 401))
    with (
        twilio.Client(SID, TOKEN, base_url=server.base_url) as client,
        pytest.raises(creditwatch.AuthenticationError) as caught,
    ):
        client.balance()
    error = caught.value
    for text in (str(error), repr(error), repr(error.args), error.body or "", repr(client)):
        for secret in (basic, SID, TOKEN):
            assert secret not in text
    assert "<redacted>" in (error.body or "")
    assert json.loads(error.body or "{}")["code"] == 20003
    assert basic not in repr(error.response.request.headers)


def test_twilio_username_with_a_colon_is_refused() -> None:
    with pytest.raises(creditwatch.InvalidCredentialsError) as caught:
        twilio.Client("AC:" + "1" * 31, TOKEN)
    assert "AC:" not in str(caught.value)
