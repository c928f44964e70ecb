"""Checking a balance: the one path behind `balances()`, `abalances()`,
``balances --accounts``, ``balances --record``, the demo and the exporter, with one
error policy.

A `Target` says what to check: a provider, its credential(s) by the name of the
client constructor's argument (``api_key``, ``access_token`` ...; none: the client
reads the environment, as ``Client()`` does), a base URL and options. `check` and
`acheck` return the `Balance` or the `APIError` that replaced it, never raise for a
provider's failure: an error that is not an `APIError` (a bad base URL, a bug in a
mapping) becomes an `APIError` whose ``__cause__`` is the original. So one provider's
failure of any kind never hides another's result. `acheck_many` runs many checks at
once over one shared connection pool (`shared_pool`: aiohttp's when the extra is
installed), with at most ``concurrency`` in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

import attrs
import httpx

from ._balance import Balance
from ._base import DEFAULT_MAX_RESPONSE_BYTES
from .errors import APIError, APITimeoutError

__all__ = [
    "Result",
    "Target",
    "acheck",
    "acheck_many",
    "as_api_error",
    "check",
    "credential_names",
    "overdue",
]

Result: TypeAlias = Balance[object] | APIError
"""A balance, or the error that replaced it (returned, never raised)."""


@functools.cache
def credential_names(provider: str) -> tuple[str, ...]:
    """The credentials a provider's client takes: the keyword arguments of its
    ``Client`` constructor before ``base_url`` (``("api_key",)``, LLMGenerator's
    ``("api_key", "access_token")``), in the constructor's order; the first is the
    one a bare key means.

    The one place the package asks this; a provider registry can answer it instead."""
    client = importlib.import_module(f"creditwatch.{provider}").Client
    names: list[str] = []
    for name in list(inspect.signature(client.__init__).parameters)[1:]:
        if name == "base_url":
            break
        names.append(name)
    return tuple(names)


@attrs.frozen(kw_only=True)
class Target:
    """One balance to check."""

    provider: str
    """The provider's module name, e.g. ``"flamel"``."""
    credentials: Mapping[str, str] | None = attrs.field(default=None, repr=False, eq=False)
    """Constructor argument -> credential (``{"access_token": ...}``); None: the
    client's own rule (its ``<PROVIDER>_<ARGUMENT>`` environment variables)."""
    base_url: str | None = None
    """None: ``<PROVIDER>_BASE_URL``, else the spec's server."""
    timeout: float | None = None
    """Seconds per request; None: the client's default."""
    max_retries: int | None = None
    """None: the client's default."""
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES
    """The cap on each body, after decompression; None: no cap."""
    deadline: float | None = None
    """Seconds for the whole check, retries included (`acheck`; the sync `balances()`
    bounds its threads instead); None: no bound."""

    def options(self) -> dict[str, Any]:
        """The client constructor's keyword arguments (without ``http_client``)."""
        options: dict[str, Any] = dict(self.credentials or {})
        if self.base_url is not None:
            options["base_url"] = self.base_url
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.max_retries is not None:
            options["max_retries"] = self.max_retries
        options["max_response_bytes"] = self.max_response_bytes
        return options


def overdue(provider: str, deadline: float | None) -> APITimeoutError:
    """The result of a check that had no answer within its deadline."""
    return APITimeoutError(
        f"{provider}: no balance within the deadline of {deadline or 0:g} s", provider=provider
    )


def as_api_error(exc: BaseException, provider: str) -> APIError:
    """The error policy: an `APIError` is itself; anything else (a ``ValueError`` for a
    bad base URL or two credentials at once, a bug) becomes an `APIError` of that
    provider, its message naming the original's class, with the original as
    ``__cause__``."""
    if isinstance(exc, APIError):
        return exc
    text = " ".join(str(exc).split())
    error = APIError(f"{type(exc).__name__}: {text}" if text else type(exc).__name__,
                     provider=provider)  # fmt: skip
    error.__cause__ = exc
    return error


class _SyncBalanceClient(Protocol):
    def balance(self) -> Balance[object]: ...
    def close(self) -> None: ...


class _AsyncBalanceClient(Protocol):
    async def balance(self) -> Balance[object]: ...
    async def aclose(self) -> None: ...


def check(target: Target, *, http: httpx.Client | None = None) -> Result:
    """``target``'s balance, or the error that replaced it; ``http``: a pool to share
    (None: the client's own)."""
    try:
        module = importlib.import_module(f"creditwatch.{target.provider}")
        client: _SyncBalanceClient = module.Client(**target.options(), http_client=http)
    except Exception as exc:
        return as_api_error(exc, target.provider)
    try:
        return client.balance()
    except Exception as exc:
        return as_api_error(exc, target.provider)
    finally:
        with contextlib.suppress(Exception):
            client.close()  # leaves a shared pool open


async def acheck(target: Target, *, http: httpx.AsyncClient | None = None) -> Result:
    """`check` for asyncio; ``http``: an async pool to share."""
    try:
        module = importlib.import_module(f"creditwatch.{target.provider}")
        client: _AsyncBalanceClient = module.AsyncClient(**target.options(), http_client=http)
    except Exception as exc:
        return as_api_error(exc, target.provider)
    try:
        async with asyncio.timeout(target.deadline):
            return await client.balance()
    except TimeoutError as exc:  # the deadline (an attempt's own budget is an APIError)
        return (
            overdue(target.provider, target.deadline)
            if target.deadline is not None
            else as_api_error(exc, target.provider)
        )
    except Exception as exc:
        return as_api_error(exc, target.provider)
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()  # leaves a shared pool open


OnResult = Callable[[int, Result, float], None]
"""``on_result(index, result, seconds)``, called as each check ends; ``seconds`` is
how long the check itself took (retries included, the wait for a slot not)."""


async def acheck_many(
    targets: Sequence[Target | APIError],
    *,
    concurrency: int | None = None,
    http: httpx.AsyncClient | None = None,
    on_result: OnResult | None = None,
    trust_env: bool = True,
) -> list[Result]:
    """Every target's result, in order, with at most ``concurrency`` requests in
    flight (None: no bound but the pool's). An `APIError` in place of a target (an
    account whose key variable is unset) is its own result, at once.

    ``http``: the pool to share (left open); None: a `shared_pool` sized to
    ``concurrency``, closed when done. An LLMGenerator balance is two concurrent
    calls: the pool's limit bounds requests, the semaphore checks."""
    from ._aiohttp import shared_pool  # noqa: PLC0415 - import time

    if concurrency is not None and concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    semaphore = asyncio.Semaphore(concurrency) if concurrency is not None else None

    async def one(index: int, target: Target | APIError, pool: httpx.AsyncClient) -> Result:
        started = time.perf_counter()
        if isinstance(target, APIError):
            result: Result = target
        elif semaphore is None:
            result = await acheck(target, http=pool)
        else:
            async with semaphore:
                started = time.perf_counter()
                result = await acheck(target, http=pool)
        if on_result is not None:
            on_result(index, result, time.perf_counter() - started)
        return result

    if http is not None:
        return list(await asyncio.gather(*(one(i, t, http) for i, t in enumerate(targets))))
    if not any(isinstance(t, Target) for t in targets):
        return [t for t in targets if isinstance(t, APIError)]
    async with shared_pool(concurrency, trust_env=trust_env) as pool:
        return list(await asyncio.gather(*(one(i, t, pool) for i, t in enumerate(targets))))
