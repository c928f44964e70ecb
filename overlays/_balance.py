"""`Balance`: one provider's credits in one shape, and `balances()` across providers."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from . import PROVIDERS as PROVIDERS  # noqa: PLC0414 - re-exported for the CLI
from ._base import DEFAULT_MAX_RESPONSE_BYTES
from .errors import APIError

A_co = TypeVar("A_co", covariant=True)

Unit = str
"""What `Balance.remaining` and `limit` count: one of `UNITS` (a provider's
``"credits"`` or ``"quota"``, DeepL's and ElevenLabs' ``"characters"``), or money as an
ISO 4217 currency code (``"USD"``: OpenRouter's dollars, Twilio's account currency);
``"unknown"`` when the provider's answer names no unit (a Twilio child account, which
carries no balance). A plain ``str`` since 0.3 (it was a ``Literal`` of the words)."""

UNITS: tuple[str, ...] = ("credits", "quota", "characters")
"""The unit words besides currency codes (and ``"unknown"``)."""


def decimal_amount(text: str | None) -> float | None:
    """Decimal text (Twilio's ``"0.05"``) as the amount a `Balance` holds; None for
    None. ValueError for text that is not a finite decimal number (the typed model
    keeps the exact text)."""
    if text is None:
        return None
    try:
        number = Decimal(text.strip())
    except ArithmeticError:
        raise ValueError(f"{text!r} is not decimal text") from None
    if not number.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return float(number)


def _holdable(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    """A number a Balance can hold: None, or finite within a float's range (an
    integer beyond it, ``inf`` and ``nan`` are refused, naming the field)."""
    if value is None:
        return
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{attribute.name}: a number beyond the range of a float") from None
    if not math.isfinite(number):
        raise ValueError(f"{attribute.name}: {number} is not a finite number")


@attrs.frozen(kw_only=True)
class Balance(Generic[A_co]):
    """How many credits are left at one provider, and until when.

    ``remaining`` and ``limit`` are None when the provider does not say;
    ``unlimited`` is True when the provider reports no limit at all (EasySlip's
    ``maxQuota: null``). Datetimes are timezone-aware. ``account`` is the provider's
    typed model the numbers came from.
    """

    provider: str
    remaining: float | None = attrs.field(validator=_holdable)
    limit: float | None = attrs.field(validator=_holdable)
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
            percent = 100.0 * self.remaining / self.limit
        except OverflowError:
            return None
        return percent if math.isfinite(percent) else None


def from_unix(value: float | None, field: str = "time") -> datetime | None:
    """Unix seconds (UTC) as an aware datetime; ValueError naming ``field`` for a number
    no datetime can hold (out of range, NaN)."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{field}: not a Unix time a datetime can hold") from None


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


def balances(
    providers: Iterable[str] | None = None,
    *,
    timeout: float | None = None,
    deadline: float | None = None,
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
) -> dict[str, Balance[object] | APIError]:
    """Check every configured provider (or the named ones) at once.

    Runs the checks concurrently (one thread each), so five providers take about as
    long as the slowest. A provider that fails is reported as its `APIError`, never
    hiding the others. Credentials and base URLs come from the environment.

    ``timeout`` bounds each attempt of each request (retries add to it); ``deadline``
    bounds the whole check, in seconds: a provider without an answer by then is an
    `APITimeoutError` (its thread is left to finish in the background).
    ``max_response_bytes`` caps each body (after decompression; None: no cap).
    """
    import threading  # noqa: PLC0415 - import time
    import time  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    from ._checks import Target, check, overdue  # noqa: PLC0415

    names = _selected(providers)
    if not names:
        return {}
    # One pool for all: a pool of its own per provider cost ~20 ms of CPU each (httpx
    # builds an SSL context per client). Threads past the deadline are left to finish
    # in the background; the pool they share is closed under them.
    results: dict[str, Balance[object] | APIError] = {}
    http = httpx.Client()

    def run(name: str) -> None:
        target = Target(provider=name, timeout=timeout, max_response_bytes=max_response_bytes)
        results[name] = check(target, http=http)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in names]
    for thread in threads:
        thread.start()
    end = None if deadline is None else time.monotonic() + deadline
    for thread in threads:
        thread.join(None if end is None else max(0.0, end - time.monotonic()))
    http.close()
    return {name: results[name] if name in results else overdue(name, deadline) for name in names}


async def abalances(
    providers: Iterable[str] | None = None,
    *,
    timeout: float | None = None,
    deadline: float | None = None,
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
) -> dict[str, Balance[object] | APIError]:
    """`balances()` for asyncio: the checks run concurrently on the event loop, over
    one connection pool (aiohttp's with the ``aiohttp`` extra); a check past
    ``deadline`` is cancelled and reported as `APITimeoutError`."""
    from ._checks import Target, acheck_many  # noqa: PLC0415 - import time

    names = _selected(providers)
    targets = [
        Target(
            provider=n, timeout=timeout, deadline=deadline, max_response_bytes=max_response_bytes
        )
        for n in names
    ]
    results = await acheck_many(targets)
    return dict(zip(names, results, strict=True))
