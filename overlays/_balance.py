"""`Balance`: one provider's credits in one shape, and `balances()` across providers."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar

import attrs

from . import PROVIDERS as PROVIDERS  # noqa: PLC0414 - re-exported for the CLI
from .errors import APIError

A_co = TypeVar("A_co", covariant=True)

Unit = Literal["credits", "quota"]


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


def aware(value: datetime | None) -> datetime | None:
    """Providers that send zone-less timestamps mean UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def credential_variables(provider: str) -> tuple[str, ...]:
    """The environment variables that can hold a provider's credential: one per
    credential argument of its client (``<PROVIDER>_API_KEY`` ...)."""
    from ._checks import credential_names  # noqa: PLC0415 - imports the provider

    return tuple(f"{provider.upper()}_{name.upper()}" for name in credential_names(provider))


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


def balances(
    providers: Iterable[str] | None = None, *, timeout: float | None = None
) -> dict[str, Balance[object] | APIError]:
    """Check every configured provider (or the named ones) at once.

    Runs the checks concurrently (one thread each), so five providers take about as
    long as the slowest. A provider that fails is reported as its `APIError`, never
    hiding the others. Credentials and base URLs come from the environment.
    """
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - import time

    import httpx  # noqa: PLC0415

    from ._checks import Target, check  # noqa: PLC0415

    names = _selected(providers)
    if not names:
        return {}
    # One pool for all: a pool of its own per provider cost ~20 ms of CPU each (httpx
    # builds an SSL context per client).
    with httpx.Client() as http, ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = pool.map(lambda n: check(Target(provider=n, timeout=timeout), http=http), names)
        return dict(zip(names, results, strict=True))


async def abalances(
    providers: Iterable[str] | None = None, *, timeout: float | None = None
) -> dict[str, Balance[object] | APIError]:
    """`balances()` for asyncio: the checks run concurrently on the event loop, over
    one connection pool (aiohttp's with the ``aiohttp`` extra)."""
    from ._checks import Target, acheck_many  # noqa: PLC0415 - import time

    names = _selected(providers)
    results = await acheck_many([Target(provider=n, timeout=timeout) for n in names])
    return dict(zip(names, results, strict=True))
