"""Boundaries of the one check-a-balance path (`creditwatch._checks`): a target's
options (its timeout, its credentials kept out of sight), the deadline (0 is a
deadline, not "none"), ``concurrency`` exactly 1 and below, a shared pool given or
not, the proxy from the environment, ``on_result``'s arguments and the order of
the results.

Every request goes over loopback to a `FaultServer`; the keys are fake.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import creditwatch
import httpx
import pytest
from creditwatch import _checks, errors

from _cases import CASES
from _faults import FaultServer, json_reply, slow_reply
from conftest import FAKE_KEY

pytestmark = pytest.mark.filterwarnings(
    "error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning"
)

PROVIDER = "flamel"  # one provider with one balance call and an api_key (as test_transports)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        s.script(json_reply(CASES[PROVIDER].example()))
        yield s


@pytest.fixture
def slow_server() -> Iterator[FaultServer]:
    """Answers after a second: well past every timeout and deadline used here."""
    with FaultServer() as s:
        s.script(slow_reply(1.0, CASES[PROVIDER].example()))
        yield s


def target(base_url: str, **options: Any) -> _checks.Target:
    return _checks.Target(
        provider=PROVIDER, credentials={"api_key": FAKE_KEY}, base_url=base_url, **options
    )


# -- the Target --------------------------------------------------------------------------


def test_a_targets_repr_never_shows_its_credentials() -> None:
    shown = repr(target("http://127.0.0.1:1"))
    assert FAKE_KEY not in shown
    assert PROVIDER in shown


def test_a_target_with_credentials_is_hashable() -> None:
    """A frozen value: targets go in sets and dict keys, whatever their credentials."""
    one, same = target("http://127.0.0.1:1"), target("http://127.0.0.1:1")
    assert len({one, same}) == 1
    assert {one: "x"}[same] == "x"


def _positional_target() -> object:
    return _checks.Target(PROVIDER)  # type: ignore[call-arg]


def _positional_check() -> object:
    return _checks.check(target("http://127.0.0.1:1"), None)  # type: ignore[call-arg]


def _positional_acheck() -> object:
    return _checks.acheck(target("http://127.0.0.1:1"), None)  # type: ignore[call-arg]


def _positional_acheck_many() -> object:
    return _checks.acheck_many([], 1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "call",
    [_positional_target, _positional_check, _positional_acheck, _positional_acheck_many],
    ids=["Target", "check", "acheck", "acheck_many"],
)
def test_options_are_keyword_only(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_targets_timeout_bounds_each_request(slow_server: FaultServer, mode: str) -> None:
    """``timeout=0.1`` with no retries: an `APITimeoutError` long before the server's
    answer after a second (the client's default timeout would wait for it)."""
    one = target(slow_server.base_url, timeout=0.1, max_retries=0)
    started = time.monotonic()
    result = _checks.check(one) if mode == "sync" else asyncio.run(_checks.acheck(one))
    assert isinstance(result, errors.APITimeoutError), result
    assert time.monotonic() - started < 0.9


# -- the deadline ------------------------------------------------------------------------


@pytest.mark.parametrize("deadline", [0.05])
def test_acheck_past_its_deadline_is_a_timeout_naming_the_deadline(
    slow_server: FaultServer, deadline: float
) -> None:
    result = asyncio.run(_checks.acheck(target(slow_server.base_url, deadline=deadline)))
    assert isinstance(result, errors.APITimeoutError), result
    assert result.provider == PROVIDER
    assert f"deadline of {deadline:g} s" in str(result)


def test_acheck_with_a_zero_deadline_is_a_timeout_at_once(slow_server: FaultServer) -> None:
    """0 is a deadline (already past), not "no bound": as `balances(deadline=0)`."""
    result = asyncio.run(_checks.acheck(target(slow_server.base_url, deadline=0)))
    assert isinstance(result, errors.APITimeoutError), result
    assert "deadline of 0 s" in str(result)


@pytest.mark.parametrize("deadline", [0, 0.05])
def test_balances_past_its_deadline_names_the_deadline(
    slow_server: FaultServer, monkeypatch: pytest.MonkeyPatch, deadline: float
) -> None:
    monkeypatch.setenv(f"{PROVIDER.upper()}_API_KEY", FAKE_KEY)
    monkeypatch.setenv(f"{PROVIDER.upper()}_BASE_URL", slow_server.base_url)
    result = creditwatch.balances([PROVIDER], deadline=deadline)[PROVIDER]
    assert isinstance(result, errors.APITimeoutError), result
    assert f"deadline of {deadline:g} s" in str(result)


# -- acheck_many -------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [0, -1])
def test_concurrency_below_one_is_refused(concurrency: int) -> None:
    """Refused at once (no slot would ever free up: the checks would wait forever)."""

    async def run() -> list[_checks.Result]:
        async with asyncio.timeout(0.5):
            return await _checks.acheck_many(
                [target("http://127.0.0.1:1")], concurrency=concurrency
            )

    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(run())


@pytest.mark.parametrize("concurrency", [1, 2, None])
def test_every_result_comes_in_the_targets_order(
    server: FaultServer, concurrency: int | None
) -> None:
    """Balances and errors (an `APIError` in place of a target is its own result) in
    the targets' order, at any concurrency, exactly 1 included."""
    unset = errors.APIError("ACCT_KEY is not set", provider=PROVIDER)
    bad = target("not a url")
    targets: list[_checks.Target | errors.APIError] = [
        target(server.base_url), unset, bad, target(server.base_url)
    ]  # fmt: skip
    results = asyncio.run(_checks.acheck_many(targets, concurrency=concurrency))
    assert isinstance(results[0], creditwatch.Balance)
    assert results[1] is unset
    assert isinstance(results[2], errors.APIError)
    assert results[2].provider == PROVIDER
    assert isinstance(results[3], creditwatch.Balance)
    assert len(server.requests) == 2


def test_on_result_gets_each_index_its_result_and_the_seconds_it_took(
    server: FaultServer,
) -> None:
    unset = errors.APIError("ACCT_KEY is not set", provider=PROVIDER)
    targets: list[_checks.Target | errors.APIError] = [target(server.base_url), unset]
    calls: list[tuple[int, _checks.Result, float]] = []
    started = time.perf_counter()
    results = asyncio.run(
        _checks.acheck_many(targets, concurrency=1, on_result=lambda *args: calls.append(args))
    )
    elapsed = time.perf_counter() - started
    assert sorted(index for index, _, _ in calls) == [0, 1]
    for index, result, seconds in calls:
        assert result is results[index]
        assert 0 <= seconds <= elapsed
    assert {index: seconds for index, _, seconds in calls}[1] < 0.05  # an error at once


def test_a_given_pool_carries_every_request_and_stays_open(server: FaultServer) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(str(request.url))

    async def run() -> tuple[list[_checks.Result], bool]:
        async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
            results = await _checks.acheck_many(
                [target(server.base_url), target(server.base_url)], http=http
            )
            return results, http.is_closed

    results, closed = asyncio.run(run())
    assert all(isinstance(r, creditwatch.Balance) for r in results), results
    assert not closed
    assert len(seen) == 2
    assert all(url.startswith(server.base_url) for url in seen)


def test_the_shared_pool_takes_its_proxy_from_the_environment(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default (as httpx's ``trust_env``) ``HTTP_PROXY`` is honoured: the server
    here is the proxy, the target's own address has nothing listening."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.base_url)
    nowhere = "http://127.0.0.1:9"  # discard: refused
    results = asyncio.run(_checks.acheck_many([target(nowhere)]))
    assert isinstance(results[0], creditwatch.Balance), results
    assert server.requests[0].target.startswith(nowhere)
