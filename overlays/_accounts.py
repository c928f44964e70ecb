"""Many accounts: the ``--accounts`` TOML file, and checking every account with at
most N requests in flight (`creditwatch._checks.acheck_many`: an asyncio semaphore,
and one shared connection pool sized to N, aiohttp's with the ``aiohttp`` extra).

The file names the environment variable that holds each key, never the key::

    [[account]]
    name = "team-a"
    provider = "flamel"
    key_env = "TEAM_A_FLAMEL_KEY"
    base_url = "https://beta.flamel.app"   # optional

``key_env`` is the variable of the provider's first credential (``api_key``). Any
credential the provider's client takes can be named instead, as ``<argument>_env``:
``access_token_env = "TEAM_A_JWT"`` for LLMGenerator's ``access_token``, or one such
field per credential for a provider that needs two.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from . import PROVIDERS
from ._base import DEFAULT_MAX_RESPONSE_BYTES, load_profile, resolve_base_url
from ._checks import Result, Target, acheck_many, credential_names
from .errors import APIError, MissingCredentialsError

__all__ = [
    "MANY_ACCOUNTS",
    "Account",
    "AccountsFileError",
    "Result",
    "check_accounts",
    "load_accounts",
    "target_of",
]

MANY_ACCOUNTS = 100
"""From this many accounts on, the CLI suggests the aiohttp extra when it is missing."""

_FIELDS = ("name", "provider", "key_env", "base_url")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CREDENTIAL_FIELD = re.compile(r"[a-z][a-z0-9_]*_env\Z")
_SECRET_WORDS = ("key", "token", "secret", "password")


class AccountsFileError(ValueError):
    """The accounts file cannot be read or is not valid; the message says where."""


@attrs.frozen(kw_only=True)
class Account:
    """One ``[[account]]`` table."""

    name: str
    provider: str
    key_env: str | None = None
    """The name of the environment variable that holds the key (the provider's first
    credential)."""
    base_url: str | None = None
    credential_env: tuple[tuple[str, str], ...] = ()
    """``(argument, variable)`` for each credential named as ``<argument>_env``."""

    def variables(self) -> dict[str, str]:
        """Credential argument -> the environment variable that holds it."""
        found = dict(self.credential_env)
        if self.key_env is not None:
            found = {credential_names(self.provider)[0]: self.key_env, **found}
        return found


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
        if field in _FIELDS or _CREDENTIAL_FIELD.match(field):
            continue  # a credential's *_env: checked against the provider's below
        if any(word in field.lower() for word in _SECRET_WORDS):
            raise AccountsFileError(
                f"{where}: {field!r} is not allowed: keys never live in the file; put the "
                "key in an environment variable and set key_env to that variable's name"
            )
        raise AccountsFileError(f"{where}: unknown field {field!r} (expected {', '.join(_FIELDS)})")
    for field in ("name", "provider"):
        value = table.get(field)
        if not isinstance(value, str) or not value.strip():
            raise AccountsFileError(f"{where}: {field!r} is required (a non-empty string)")
    provider = table["provider"].strip()
    if provider not in PROVIDERS:
        raise AccountsFileError(
            f"{where}: unknown provider {provider!r}; choose from {', '.join(PROVIDERS)}"
        )
    key_env, credential_env = _credential_fields(table, provider, where)
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
        name=table["name"].strip(),
        provider=provider,
        key_env=key_env,
        base_url=base_url,
        credential_env=credential_env,
    )


def _credential_fields(
    table: Mapping[str, Any], provider: str, where: str
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """``key_env`` and the ``<argument>_env`` fields, each the name of a variable."""
    arguments = credential_names(provider)
    fields = {f"{argument}_env": argument for argument in arguments}
    others = [f"{a}_env" for a in arguments[1:]]
    for field in table:
        if field not in _FIELDS and field not in fields:
            raise AccountsFileError(
                f"{where}: unknown field {field!r}: {provider} takes "
                + " or ".join(("key_env", *fields))
            )
    if "key_env" in table and f"{arguments[0]}_env" in table:
        raise AccountsFileError(f"{where}: key_env and {arguments[0]}_env name the same key")
    named = [f for f in ("key_env", *fields) if f in table]
    if not named:
        also = f" (or {', '.join(others)})" if others else ""
        raise AccountsFileError(f"{where}: 'key_env' is required{also}")
    for field in named:
        value = table[field]
        if not isinstance(value, str) or not value.strip():
            raise AccountsFileError(f"{where}: {field!r} is required (a non-empty string)")
        if not _ENV_NAME.match(value.strip()):  # perhaps the key itself: do not echo it
            raise AccountsFileError(
                f"{where}: {field} must be the NAME of an environment variable (letters, "
                "digits and _), not the key itself"
            )
    key_env = table["key_env"].strip() if "key_env" in table else None
    credential_env = tuple((fields[f], table[f].strip()) for f in named if f != "key_env")
    return key_env, credential_env


def _names(names: Sequence[str]) -> str:
    return ("key " if len(names) == 1 else "keys ") + ", ".join(map(repr, names))


# -- checking -------------------------------------------------------------------------


def target_of(
    account: Account,
    *,
    timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
    deadline: float | None = None,
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
) -> Target | APIError:
    """What to check for an account: its credentials from the environment variables
    it names. A variable that is unset or empty is that account's
    `MissingCredentialsError`; there is no fallback to ``<PROVIDER>_API_KEY``. A check
    that has no answer ``deadline`` seconds after its turn came is an
    `APITimeoutError`."""
    env = os.environ if environ is None else environ
    credentials: dict[str, str] = {}
    for argument, variable in account.variables().items():
        value = env.get(variable, "").strip()
        if not value:
            field = "key_env" if variable == account.key_env else f"{argument}_env"
            return MissingCredentialsError(
                f"account {account.name!r}: the environment variable "
                f"{variable} (its {field}) is not set",
                provider=account.provider,
            )
        credentials[argument] = value
    return Target(
        provider=account.provider,
        credentials=credentials,
        base_url=account.base_url,
        timeout=timeout,
        deadline=deadline,
        max_response_bytes=max_response_bytes,
    )


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
    """Every account's balance, in order, with at most ``concurrency`` requests in
    flight, over one shared pool (aiohttp's with the ``aiohttp`` extra); ``deadline``
    and ``max_response_bytes`` as in `target_of`."""
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    targets = [
        target_of(
            a,
            timeout=timeout,
            environ=environ,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )
        for a in accounts
    ]
    return await acheck_many(
        targets,
        concurrency=concurrency,
        on_result=None if on_done is None else (lambda *_: on_done()),
    )
