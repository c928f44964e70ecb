"""`Balance`: one provider's credits in one shape, and `balances()` across providers."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Generic, Literal, Protocol, TypeVar

import attrs

from . import PROVIDERS as PROVIDERS  # noqa: PLC0414 - re-exported for the CLI
from .errors import APIError, MissingCredentialsError

A_co = TypeVar("A_co", covariant=True)

Unit = Literal["credits", "quota", "characters", "USD"]
"""What `Balance.remaining` and `limit` count: a provider's credits or quota, characters
(DeepL, ElevenLabs), or money as an ISO 4217 currency code (OpenRouter's dollars)."""


@attrs.frozen(kw_only=True)
class Balance(Generic[A_co]):
    """How many credits are left at one provider, and until when.

    ``remaining`` and ``limit`` are None when the provider does not say;
    ``unlimited`` is True when the provider reports no limit at all (EasySlip's
    ``maxQuota: null``). Datetimes are timezone-aware. ``account`` is the provider's
    typed model the numbers came from.
    """

    provider: str
    remaining: float | None
    limit: float | None
    unlimited: bool = False
    unit: Unit = "credits"
    plan: str | None = None
    resets_at: datetime | None = None
    expires_at: datetime | None = None
    checked_at: datetime = attrs.field(factory=lambda: datetime.now(UTC))
    account: A_co = attrs.field(repr=False, eq=False)

    @property
    def percent_left(self) -> float | None:
        """remaining / limit as a percentage, or None without both numbers (or when
        they are too large for a float to divide)."""
        if self.remaining is None or not self.limit:
            return None
        try:
            return 100.0 * self.remaining / self.limit
        except OverflowError:
            return None


def from_unix(value: float | None) -> datetime | None:
    """Unix seconds (UTC) as an aware datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


def next_month_start(now: datetime) -> datetime:
    """The 1st of the month after ``now``, 00:00 UTC (monthly credits reset then)."""
    now = now.astimezone(UTC)
    if now.month == 12:
        return datetime(now.year + 1, 1, 1, tzinfo=UTC)
    return datetime(now.year, now.month + 1, 1, tzinfo=UTC)


def aware(value: datetime | None) -> datetime | None:
    """Providers that send zone-less timestamps mean UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class _SyncBalanceClient(Protocol):
    def balance(self) -> Balance[object]: ...
    def close(self) -> None: ...


class _AsyncBalanceClient(Protocol):
    async def balance(self) -> Balance[object]: ...
    async def aclose(self) -> None: ...


def credential_variables(provider: str) -> tuple[str, ...]:
    """The environment variables that can hold a provider's credential."""
    from ._generated._registry import CREDENTIAL_VARIABLES  # noqa: PLC0415

    return CREDENTIAL_VARIABLES[provider]


def configured_providers() -> list[str]:
    """Providers whose credential is set in the environment."""
    return [
        name
        for name in PROVIDERS
        if any(os.environ.get(v, "").strip() for v in credential_variables(name))
    ]


def _selected(providers: Iterable[str] | None) -> list[str]:
    names = configured_providers() if providers is None else list(dict.fromkeys(providers))
    unknown = [n for n in names if n not in PROVIDERS]
    if unknown:
        raise ValueError(f"unknown provider(s) {unknown}; choose from {list(PROVIDERS)}")
    return names


def _client_options(timeout: float | None) -> dict[str, float]:
    return {} if timeout is None else {"timeout": timeout}


def _check_sync(name: str, timeout: float | None) -> Balance[object] | APIError:
    module = importlib.import_module(f"creditwatch.{name}")
    try:
        client: _SyncBalanceClient = module.Client(**_client_options(timeout))
    except MissingCredentialsError as exc:
        return exc
    except ValueError as exc:  # e.g. an insecure <PREFIX>_BASE_URL: this provider's error
        return APIError(str(exc), provider=name)
    try:
        return client.balance()
    except APIError as exc:
        return exc
    finally:
        client.close()


def balances(
    providers: Iterable[str] | None = None, *, timeout: float | None = None
) -> dict[str, Balance[object] | APIError]:
    """Check every configured provider (or the named ones) at once.

    Runs the checks concurrently (one thread each), so five providers take about as
    long as the slowest. A provider that fails is reported as its `APIError`, never
    hiding the others. Credentials and base URLs come from the environment.
    """
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - import time

    names = _selected(providers)
    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = pool.map(lambda n: _check_sync(n, timeout), names)
        return dict(zip(names, results, strict=True))


async def _check_async(name: str, timeout: float | None) -> Balance[object] | APIError:
    module = importlib.import_module(f"creditwatch.{name}")
    try:
        client: _AsyncBalanceClient = module.AsyncClient(**_client_options(timeout))
    except MissingCredentialsError as exc:
        return exc
    except ValueError as exc:
        return APIError(str(exc), provider=name)
    try:
        return await client.balance()
    except APIError as exc:
        return exc
    finally:
        await client.aclose()


async def abalances(
    providers: Iterable[str] | None = None, *, timeout: float | None = None
) -> dict[str, Balance[object] | APIError]:
    """`balances()` for asyncio: the checks run concurrently on the event loop."""
    import asyncio  # noqa: PLC0415 - import time

    names = _selected(providers)
    results = await asyncio.gather(*(_check_async(n, timeout) for n in names))
    return dict(zip(names, results, strict=True))
