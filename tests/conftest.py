"""Shared fixtures: one Prism mock per provider spec for the whole session, the
fake credentials every test uses (obviously fake: they must never look real), and
the two async transports every transport guarantee is tested on.

Transports: ``transport_kind`` is ``"httpx"`` (httpx's own pool) or ``"aiohttp"``
(the ``aiohttp`` extra: `creditwatch.DefaultAioHttpClient`). A test that takes it
runs once per transport:

* an async client it makes gets ``http_client=async_http(transport_kind)`` (None for
  httpx: the client's own pool, as users get by default);
* the shared pools (``abalances()``, ``check_accounts`` ...) use that transport for
  the test's duration;
* tests that go through ``_cases.call`` get the same from its mode ``"aiohttp"``
  (``MODES`` is sync, async over httpx, async over aiohttp).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from creditwatch import PROVIDERS as PROVIDERS  # the registry (specs/providers/*.yaml)  # noqa: PLC0414

from _prism import PrismServer, prism_servers

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
FAKE_KEY = "test-key-not-a-real-secret-0000"
FAKE_TOKEN = "test-jwt-not-a-real-secret-0000"


def credentials(provider: str, key: str = FAKE_KEY) -> dict[str, str]:
    """Fake credential arguments for ``creditwatch.<provider>.Client(**...)``: ``api_key``,
    or every credential a provider uses together (Twilio's account SID and auth token;
    the hand-written values are in tests/golden/<provider>.yaml)."""
    golden = ROOT / "tests" / "golden" / f"{provider}.yaml"
    request = yaml.safe_load(golden.read_text(encoding="utf-8"))["request"]
    given: dict[str, str] = request.get("credentials", {"api_key": "<key>"})
    return {name: value.replace("<key>", key) for name, value in given.items()}


def credential_env(provider: str, key: str = FAKE_KEY) -> dict[str, str]:
    """The environment variables that configure the provider with the fake
    `credentials` (``<P>_API_KEY``; Twilio's ``TWILIO_ACCOUNT_SID`` and
    ``TWILIO_AUTH_TOKEN``), in the registry's order."""
    from creditwatch._balance import credential_variables  # noqa: PLC0415

    values = list(credentials(provider, key).values())
    return dict(zip(credential_variables(provider), values, strict=False))


def key_argument(provider: str) -> str:
    """The constructor argument that holds the secret key in `credentials`
    (``api_key``; Twilio's ``auth_token``)."""
    return next(name for name, value in credentials(provider, "<key>").items() if value == "<key>")


def _plain(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def with_credentials(provider: str, options: dict[str, Any]) -> dict[str, Any]:
    """Client options where ``api_key=K`` stands for the provider's credentials with K
    as the secret (`credentials`): unchanged for a provider that takes ``api_key``."""
    if "api_key" not in options:
        return options
    given = credentials(provider, "<key>")
    if "api_key" in given:
        return options
    rest = dict(options)
    key = rest.pop("api_key")
    return {**credentials(provider, key), **rest}


def concrete_path(provider: str, path: str) -> str:
    """A spec path with the parameters a credential fills (Twilio's ``{AccountSid}``)
    filled from the fake `credentials`, as the client sends it."""
    values = {_plain(name): value for name, value in credentials(provider).items()}
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(_plain(m[1]), m[0]), path)


class Clock(NamedTuple):
    """A wall-clock moment in a zone, and what follows from it in UTC (worked out by
    hand, not computed by the code under test)."""

    wall: datetime
    """The frozen moment, with the zone the machine is in (``TZ``) as its tzinfo."""
    utc_date: str
    """The same instant's date in UTC."""
    next_month_utc: datetime
    """The next 1st of a month, 00:00 UTC, after the instant (Exorde's reset)."""


# The year's last minute and the next year's first, in the zones furthest ahead of
# and behind UTC: the local date and the UTC date differ, and December meets January.
# (Etc/GMT-14 is UTC+14; POSIX signs are inverted.)
AHEAD, BEHIND = ZoneInfo("Etc/GMT-14"), ZoneInfo("Etc/GMT+12")
YEAR_END_CLOCKS = {
    "31dec2359-utc+14": Clock(
        datetime(2026, 12, 31, 23, 59, tzinfo=AHEAD), "2026-12-31", datetime(2027, 1, 1, tzinfo=UTC)
    ),
    "1jan0000-utc+14": Clock(
        datetime(2027, 1, 1, 0, 0, tzinfo=AHEAD), "2026-12-31", datetime(2027, 1, 1, tzinfo=UTC)
    ),
    "31dec2359-utc-12": Clock(
        datetime(2026, 12, 31, 23, 59, tzinfo=BEHIND),
        "2027-01-01",
        datetime(2027, 2, 1, tzinfo=UTC),
    ),
    "1jan0000-utc-12": Clock(
        datetime(2027, 1, 1, 0, 0, tzinfo=BEHIND), "2027-01-01", datetime(2027, 2, 1, tzinfo=UTC)
    ),
}


@pytest.fixture(params=list(YEAR_END_CLOCKS.values()), ids=list(YEAR_END_CLOCKS))
def year_end(request: pytest.FixtureRequest) -> Iterator[Clock]:
    """The clock frozen at each of `YEAR_END_CLOCKS`, and the machine's zone (``TZ``)
    set to its zone, for the test's duration (time-machine; monotonic clocks, which
    timeouts use, keep running)."""
    clock: Clock = request.param
    with time_machine.travel(clock.wall, tick=False):
        yield clock


@pytest.fixture(scope="session")
def prism() -> Iterator[dict[str, PrismServer]]:
    """Prism serving each normalized spec (started once, in parallel): name -> server."""
    with prism_servers(*(SPECS / f"{name}.yaml" for name in PROVIDERS)) as servers:
        yield dict(zip(PROVIDERS, servers, strict=True))


TRANSPORTS = ("httpx", "aiohttp")


def async_http(kind: str) -> httpx.AsyncClient | None:
    """The ``http_client`` an async client gets on transport ``kind`` (``"async"``,
    the mode of `_cases.call`, means httpx); made inside the event loop that uses it,
    closed by the caller."""
    if kind in ("httpx", "async"):
        return None
    import creditwatch  # noqa: PLC0415

    return creditwatch.DefaultAioHttpClient()


@pytest.fixture(params=TRANSPORTS)
def transport_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each transport in turn; the package's shared pools use it too. The aiohttp
    extra is part of ``dev``: without it the aiohttp run fails rather than skips."""
    from creditwatch import _aiohttp  # noqa: PLC0415

    kind: str = request.param
    if kind == "aiohttp":
        assert _aiohttp.aiohttp_available(), (
            'the tests need the aiohttp extra: pip install ".[dev]"'
        )
    monkeypatch.setattr(_aiohttp, "aiohttp_available", lambda: kind == "aiohttp")
    return kind


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], None]:
    """Replace the process environment (credentials, base URLs) for the test."""

    def use(env: dict[str, str]) -> None:
        for name in set(os.environ) - set(env):
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    return use
