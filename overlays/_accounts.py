"""Many accounts: the ``--accounts`` TOML file, and checking every account with at
most N requests in flight (an asyncio semaphore, and one shared ``httpx.AsyncClient``
whose connection pool is sized to N).

The file names the environment variable that holds each key, never the key::

    [[account]]
    name = "team-a"
    provider = "flamel"
    key_env = "TEAM_A_FLAMEL_KEY"
    base_url = "https://beta.flamel.app"   # optional
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import attrs
import httpx

from . import PROVIDERS
from ._balance import Balance
from ._base import DEFAULT_MAX_RESPONSE_BYTES, load_profile, resolve_base_url
from .errors import APITimeoutError, MissingCredentialsError

__all__ = [
    "Account",
    "AccountsFileError",
    "account_pool",
    "check_account",
    "check_accounts",
    "check_key",
    "load_accounts",
]

Result: TypeAlias = Balance[object] | Exception
"""A balance, or the error that replaced it (returned, never raised)."""

_FIELDS = ("name", "provider", "key_env", "base_url")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SECRET_WORDS = ("key", "token", "secret", "password")


class AccountsFileError(ValueError):
    """The accounts file cannot be read or is not valid; the message says where."""


@attrs.frozen(kw_only=True)
class Account:
    """One ``[[account]]`` table."""

    name: str
    provider: str
    key_env: str
    """The name of the environment variable that holds the key."""
    base_url: str | None = None


# -- the file -------------------------------------------------------------------------


def load_accounts(path: Path) -> list[Account]:
    """The accounts of a TOML file, in file order; `AccountsFileError` if it is bad."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise AccountsFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise AccountsFileError(
            f"{path}: not UTF-8 text (byte {exc.start}); a TOML file must be UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise AccountsFileError(f"{path}: not valid TOML: {exc}") from None
    return parse_accounts(data, source=str(path))


def parse_accounts(data: Mapping[str, Any], *, source: str = "accounts") -> list[Account]:
    """Validate decoded TOML. Error messages quote key names, never values that could
    be a credential."""
    extra = sorted(set(data) - {"account"})
    if extra:
        raise AccountsFileError(
            f"{source}: unexpected top-level {_names(extra)}; list accounts as [[account]] tables"
        )
    tables = data.get("account")
    if not tables:
        raise AccountsFileError(f"{source}: no [[account]] tables")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise AccountsFileError(f"{source}: `account` must be [[account]] tables")
    accounts: list[Account] = []
    seen: set[str] = set()
    for index, table in enumerate(tables, 1):
        account = _account(table, f"{source}: account #{index}")
        if account.name in seen:
            raise AccountsFileError(
                f"{source}: account #{index}: the name {account.name!r} is used twice"
            )
        seen.add(account.name)
        accounts.append(account)
    return accounts


def _account(table: Mapping[str, Any], where: str) -> Account:
    name = table.get("name")
    if isinstance(name, str) and name.strip():
        where += f" ({name.strip()!r})"
    for field in table:
        if field in _FIELDS:
            continue
        if any(word in field.lower() for word in _SECRET_WORDS):
            raise AccountsFileError(
                f"{where}: {field!r} is not allowed: keys never live in the file; put the "
                "key in an environment variable and set key_env to that variable's name"
            )
        raise AccountsFileError(f"{where}: unknown field {field!r} (expected {', '.join(_FIELDS)})")
    for field in ("name", "provider", "key_env"):
        value = table.get(field)
        if not isinstance(value, str) or not value.strip():
            raise AccountsFileError(f"{where}: {field!r} is required (a non-empty string)")
    provider = table["provider"].strip()
    if provider not in PROVIDERS:
        raise AccountsFileError(
            f"{where}: unknown provider {provider!r}; choose from {', '.join(PROVIDERS)}"
        )
    key_env = table["key_env"].strip()
    if not _ENV_NAME.match(key_env):  # perhaps the key itself: do not echo it
        raise AccountsFileError(
            f"{where}: key_env must be the NAME of an environment variable (letters, "
            "digits and _), not the key itself"
        )
    base_url = table.get("base_url")
    if base_url is not None:
        if not isinstance(base_url, str) or not base_url.strip():
            raise AccountsFileError(f"{where}: 'base_url' must be a non-empty string")
        try:
            resolve_base_url(load_profile(provider), base_url.strip())
        except ValueError as exc:
            raise AccountsFileError(f"{where}: {exc}") from None
        base_url = base_url.strip()
    return Account(
        name=table["name"].strip(), provider=provider, key_env=key_env, base_url=base_url
    )


def _names(names: Sequence[str]) -> str:
    return ("key " if len(names) == 1 else "keys ") + ", ".join(map(repr, names))


# -- checking -------------------------------------------------------------------------


class _AsyncBalanceClient(Protocol):
    async def balance(self) -> Balance[object]: ...
    async def aclose(self) -> None: ...


async def check_key(
    provider: str,
    api_key: str,
    *,
    http: httpx.AsyncClient,
    base_url: str | None = None,
    timeout: float | None = None,
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
) -> Result:
    """One provider's balance with an explicit key, over a shared connection pool.

    Errors are returned, never raised: one account never hides the others."""
    module = importlib.import_module(f"creditwatch.{provider}")
    options: dict[str, Any] = {
        "base_url": base_url,
        "http_client": http,
        "max_response_bytes": max_response_bytes,
    }
    if timeout is not None:
        options["timeout"] = timeout
    try:
        client: _AsyncBalanceClient = module.AsyncClient(api_key, **options)
    except Exception as exc:  # ValueError: a bad base URL
        return exc
    try:
        return await client.balance()
    except Exception as exc:  # APIError; anything else is reported as itself
        return exc
    finally:
        await client.aclose()  # leaves the shared pool open


async def check_account(
    account: Account,
    *,
    http: httpx.AsyncClient,
    semaphore: asyncio.Semaphore,
    timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    deadline: float | None = None,
) -> Result:
    """One account's balance, its request made while holding ``semaphore``. A key
    variable that is unset or empty is that account's `MissingCredentialsError`;
    there is no fallback to ``<PROVIDER>_API_KEY``. A check that has no answer
    ``deadline`` seconds after its turn came is an `APITimeoutError`."""
    env = os.environ if environ is None else environ
    key = env.get(account.key_env, "").strip()
    if not key:
        return MissingCredentialsError(
            f"account {account.name!r}: the environment variable "
            f"{account.key_env} (its key_env) is not set",
            provider=account.provider,
        )
    async with semaphore:
        try:
            async with asyncio.timeout(deadline):
                return await check_key(
                    account.provider,
                    key,
                    http=http,
                    base_url=account.base_url,
                    timeout=timeout,
                    max_response_bytes=max_response_bytes,
                )
        except TimeoutError:
            return APITimeoutError(
                f"account {account.name!r}: no balance within the deadline of {deadline:g} s",
                provider=account.provider,
            )


def account_pool(concurrency: int) -> httpx.AsyncClient:
    """A shared client whose pool bounds requests too: an LLMGenerator balance is two
    concurrent calls."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits)


async def check_accounts(
    accounts: Sequence[Account],
    *,
    concurrency: int = 10,
    timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
    on_done: Callable[[], None] | None = None,
    deadline: float | None = None,
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
) -> list[Result]:
    """Every account's balance (`check_account`), in order, with at most
    ``concurrency`` requests in flight; ``deadline`` as in `check_account`."""
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    semaphore = asyncio.Semaphore(concurrency)

    async with account_pool(concurrency) as http:

        async def one(account: Account) -> Result:
            try:
                return await check_account(
                    account,
                    http=http,
                    semaphore=semaphore,
                    timeout=timeout,
                    environ=environ,
                    max_response_bytes=max_response_bytes,
                    deadline=deadline,
                )
            finally:
                if on_done is not None:
                    on_done()

        return list(await asyncio.gather(*(one(a) for a in accounts)))
