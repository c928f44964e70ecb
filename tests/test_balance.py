"""The balance mapping of every provider (the README's table), from the documented
examples. Expected numbers are worked out by hand from those examples."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import creditwatch
import pytest
from creditwatch import exorde
from creditwatch._balance import configured_providers

from _cases import CASES, MODES, call
from _faults import FaultServer, json_reply, slow_reply
from conftest import FAKE_KEY, FAKE_TOKEN, PROVIDERS, Clock
from test_cli import base_env, configured_env, example, operation_paths


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


def balance(provider: str, mode: str, server: FaultServer) -> creditwatch.Balance[Any]:
    result = call(CASES[provider], mode, "balance", api_key=FAKE_KEY, base_url=server.base_url)
    assert isinstance(result, creditwatch.Balance)
    return result


def fields(b: creditwatch.Balance[Any]) -> tuple[Any, ...]:
    return (
        b.provider,
        b.remaining,
        b.limit,
        b.unlimited,
        b.unit,
        b.plan,
        b.resets_at,
        b.expires_at,
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("example", "expected"),
    [
        # 400 + 10 + 200; maxCredit 0 -> no limit; no next plan -> no reset date
        ("FreeAccount", ("flamel", 610, None, False, "credits", "free", None, None)),
        # 1200 + 0 + 2000; maxCredit 5000; next plan 2025-01-01
        (
            "EnterpriseAccount",
            ("flamel", 3200, 5000, False, "credits", "enterprise",
             datetime(2025, 1, 1, tzinfo=UTC), None),
        ),
    ],
)  # fmt: skip
def test_flamel(server: FaultServer, mode: str, example: str, expected: tuple[Any, ...]) -> None:
    server.script(json_reply(CASES["flamel"].example("200", example)))
    result = balance("flamel", mode, server)
    assert fields(result) == expected
    assert result.account.email == CASES["flamel"].example("200", example)["email"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("example", "remaining", "limit", "plan"),
    [
        ("userInfo", 7342 + 1200, 10000 + 5000, "Pro"),
        ("userInfoWithDeprecationNotice", 1000, 1000, "Starter"),  # no additional credits
    ],
)
def test_exorde(
    server: FaultServer,
    mode: str,
    example: str,
    remaining: int,
    limit: int,
    plan: str,
    year_end: Clock,
) -> None:
    server.script(json_reply(CASES["exorde"].example("200", example)))
    expect_warning = "Deprecation" in example
    with pytest.warns(DeprecationWarning) if expect_warning else contextlib.nullcontext():
        result = balance("exorde", mode, server)
    assert (result.remaining, result.limit, result.plan, result.unit) == (
        remaining,
        limit,
        plan,
        "credits",
    )
    # The clock is frozen (`year_end`): the same check every day of the year.
    assert result.checked_at == year_end.wall
    assert result.resets_at == year_end.next_month_utc
    assert result.resets_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("now", "reset"),
    [
        (datetime(2026, 11, 21, 12, 0, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        # 1 Jan 00:30 in UTC+1 is still 31 Dec in UTC: the reset is the next day.
        (
            datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_exorde_resets_on_the_next_first_of_the_month_utc(now: datetime, reset: datetime) -> None:
    assert exorde.next_month_start(now) == reset


@pytest.mark.parametrize("mode", MODES)
def test_generect(server: FaultServer, mode: str) -> None:
    server.script(json_reply(CASES["generect"].example()))
    assert fields(balance("generect", mode, server)) == (
        "generect", 8531, 10000, False, "credits", "Business", None, None,
    )  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("example", "expected"),
    [
        (
            "limitedQuota",
            ("easyslip", 33500, 35000, False, "quota", "My Application", None,
             datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=7)))),
        ),
        # maxQuota null: unlimited
        (
            "unlimitedQuota",
            ("easyslip", None, None, True, "quota", "Example Shop", None,
             datetime(2025, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=7)))),
        ),
    ],
)  # fmt: skip
def test_easyslip(server: FaultServer, mode: str, example: str, expected: tuple[Any, ...]) -> None:
    server.script(json_reply(CASES["easyslip"].example("200", example)))
    result = balance("easyslip", mode, server)
    assert fields(result) == expected
    assert (
        result.percent_left is None
        if expected[3]
        else round(100 * 33500 / 35000, 6) == round(result.percent_left or 0, 6)
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("example", "limit", "plan", "resets"),
    [
        ("activeSubscription", 3000, "professional", datetime(2024, 2, 15, tzinfo=UTC)),
        ("noSubscription", None, None, None),  # subscription and planDetails are null
    ],
)
def test_llmgenerator(
    server: FaultServer,
    mode: str,
    example: str,
    limit: int | None,
    plan: str | None,
    resets: datetime | None,
) -> None:
    case = CASES["llmgenerator"]
    credits = _credit_example()
    server.script_path("/subscriptions/current/api", json_reply(case.example("200", example)))
    server.script_path("/credits/balance/api", json_reply(credits))
    result = balance("llmgenerator", mode, server)
    assert fields(result) == (
        "llmgenerator", credits["balance"], limit, False, "credits", plan, resets, None,
    )  # fmt: skip
    assert sorted(r.path for r in server.requests) == [
        "/credits/balance/api",
        "/subscriptions/current/api",
    ]
    assert result.account.credits.balance == credits["balance"]


def test_llmgenerator_makes_its_two_calls_concurrently(server: FaultServer) -> None:
    case = CASES["llmgenerator"]
    server.script_path("/subscriptions/current/api", json_reply(case.example()).with_delay(0.4))
    server.script_path("/credits/balance/api", json_reply(_credit_example()).with_delay(0.4))
    for mode in MODES:
        started = datetime.now(UTC)
        balance("llmgenerator", mode, server)
        assert datetime.now(UTC) - started < timedelta(seconds=0.75), mode


def _credit_example() -> dict[str, Any]:
    from _cases import EXAMPLES  # noqa: PLC0415

    examples = EXAMPLES["llmgenerator"]["getCreditBalanceWithApiKey"]["responses"]["200"]
    body: dict[str, Any] = next(iter(examples.values()))
    return body


# -- creditwatch.balances / abalances (mutation testing, issue 21) -----------------------


def check_all(mode: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    if mode == "sync":
        return creditwatch.balances(*args, **kwargs)
    return asyncio.run(creditwatch.abalances(*args, **kwargs))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_balances_checks_the_configured_providers_only(
    server: FaultServer, environment: Callable[[dict[str, str]], None], mode: str
) -> None:
    configured = PROVIDERS[1:3]
    environment(configured_env(server, configured))

    results = check_all(mode)

    assert list(results) == [p for p in creditwatch.PROVIDERS if p in configured]
    assert all(isinstance(r, creditwatch.Balance) for r in results.values()), results


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_balances_of_named_providers_in_that_order_once(
    server: FaultServer, environment: Callable[[dict[str, str]], None], mode: str
) -> None:
    environment(configured_env(server))
    named = [PROVIDERS[2], PROVIDERS[0], PROVIDERS[2]]

    results = check_all(mode, named)

    assert list(results) == [PROVIDERS[2], PROVIDERS[0]]
    assert check_all(mode, []) == {}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_balances_refuses_an_unknown_provider(
    environment: Callable[[dict[str, str]], None], mode: str
) -> None:
    environment(base_env())
    with pytest.raises(ValueError, match="nope"):
        check_all(mode, [PROVIDERS[0], "nope"])


def test_an_access_token_alone_configures_llmgenerator(
    environment: Callable[[dict[str, str]], None],
) -> None:
    environment({**base_env(), "LLMGENERATOR_ACCESS_TOKEN": FAKE_TOKEN})
    assert configured_providers() == ["llmgenerator"]
    environment({**base_env(), "FLAMEL_ACCESS_TOKEN": FAKE_TOKEN})
    assert configured_providers() == []


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_balances_passes_the_timeout_to_each_client(
    server: FaultServer, environment: Callable[[dict[str, str]], None], mode: str
) -> None:
    environment(configured_env(server, PROVIDERS[:1]))
    path = operation_paths(PROVIDERS[0])
    for operation, suffix in path.items():
        server.script_path(
            f"/{PROVIDERS[0]}{suffix}", slow_reply(3, example(PROVIDERS[0], operation))
        )

    results = check_all(mode, timeout=0.3, providers=PROVIDERS[:1])

    assert isinstance(results[PROVIDERS[0]], creditwatch.APITimeoutError)


def test_balances_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        creditwatch.balances([], 5)  # type: ignore[call-arg]


def test_a_balance_hides_its_account_from_repr_and_equality() -> None:
    details = "the account: email, plan, billing"
    at = datetime(2026, 1, 1, tzinfo=UTC)
    fields: dict[str, Any] = {"provider": "flamel", "remaining": 1, "limit": 2, "checked_at": at}
    one: creditwatch.Balance[object] = creditwatch.Balance(account=details, **fields)
    other: creditwatch.Balance[object] = creditwatch.Balance(account="another", **fields)
    assert details not in repr(one)
    assert one == other


@pytest.mark.parametrize(
    ("remaining", "limit", "percent"),
    [(None, 100, None), (5, 0, None), (5, None, None), (25, 100, 25.0), (0, 100, 0.0)],
)
def test_percent_left_needs_both_numbers_and_a_limit(
    remaining: float | None, limit: float | None, percent: float | None
) -> None:
    balance = creditwatch.Balance(provider="flamel", remaining=remaining, limit=limit, account=None)
    assert balance.percent_left == percent


# -- the provider mappings' edges (mutation testing, issue 21) ---------------------------


@pytest.mark.parametrize(("status", "ok"), [(199, False), (200, True), (299, True), (300, False)])
def test_easyslip_body_status_2xx_is_success(server: FaultServer, status: int, ok: bool) -> None:
    body = CASES["easyslip"].example()
    body["status"] = status
    server.script(json_reply(body))
    if ok:
        assert balance("easyslip", "sync", server).remaining == body["data"]["remainingQuota"]
    else:
        with pytest.raises(creditwatch.APIStatusError) as caught:
            balance("easyslip", "sync", server)
        assert caught.value.status_code == status


@pytest.mark.parametrize(("max_credit", "limit"), [(0, None), (1, 1), (2, 2)])
def test_flamel_max_credit_is_the_limit_when_above_zero(
    server: FaultServer, max_credit: int, limit: int | None
) -> None:
    body = CASES["flamel"].example()
    body["maxCredit"] = max_credit
    server.script(json_reply(body))
    assert balance("flamel", "sync", server).limit == limit


def test_flamel_global_wrapper_is_unwrapped_with_all_its_keys(server: FaultServer) -> None:
    user = CASES["flamel"].example()
    wrapped = {"success": True, "code": 200, "message": "ok", "data": user}
    server.script(json_reply(wrapped))
    assert balance("flamel", "sync", server).account.email == user["email"]


@pytest.mark.parametrize(
    "wrapper",
    [
        {"success": False, "code": 200, "message": "ok"},  # not a success: not unwrapped
        {"success": True, "code": 200, "extra": 1},  # another key: not the wrapper
    ],
)
def test_flamel_body_that_is_not_a_successful_wrapper_is_not_unwrapped(
    server: FaultServer, wrapper: dict[str, Any]
) -> None:
    server.script(json_reply({**wrapper, "data": CASES["flamel"].example()}))
    with pytest.raises(creditwatch.APIResponseValidationError):
        balance("flamel", "sync", server)


def test_exorde_error_keeps_its_code_and_request_id(server: FaultServer) -> None:
    rejected = CASES["exorde"].example("400")
    server.script(json_reply(rejected, 400))
    with pytest.raises(creditwatch.APIStatusError) as bad:
        balance("exorde", "sync", server)
    assert (bad.value.code, bad.value.request_id) == (
        str(rejected["error"]["code"]),  # codes are kept as text
        rejected["error"]["requestId"],
    )


def test_exorde_internal_error_keeps_its_request_id(server: FaultServer) -> None:
    internal = CASES["exorde"].example("500")  # {"requestId": <uuid>}, no "error"
    server.script(json_reply(internal, 500))
    with pytest.raises(creditwatch.APIStatusError) as caught:
        call(CASES["exorde"], "sync", "balance", api_key=FAKE_KEY, base_url=server.base_url,
             max_retries=0)  # fmt: skip
    assert caught.value.status_code == 500
    assert caught.value.request_id == internal["requestId"]
