"""What the overlay tests need to know about each provider, stated once.

Expected values come from the specs' documented examples (generated/examples.json is
built from specs/*.yaml), never from the code under test.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import creditwatch

from conftest import async_http, concrete_path, with_credentials

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES: dict[str, Any] = json.loads((ROOT / "generated" / "examples.json").read_text())


@dataclass(frozen=True)
class Case:
    provider: str
    method: str  # the client's method for the main operation
    operation_id: str  # the spec operation it calls (with an API key)
    model: str  # class name of what the method returns
    unwrap: Callable[[Any], Any]  # documented body -> the part the method returns

    @property
    def module(self) -> Any:
        return getattr(creditwatch, self.provider)

    @property
    def path(self) -> str:
        """The path the client requests (credential-filled parameters filled)."""
        return concrete_path(self.provider, str(EXAMPLES[self.provider][self.operation_id]["path"]))

    def example(self, status: str = "200", name: str | None = None) -> Any:
        """A fresh copy of a documented example (tests may change it)."""
        examples = EXAMPLES[self.provider][self.operation_id]["responses"][status]
        return copy.deepcopy(examples[name] if name else next(iter(examples.values())))


def _cases() -> dict[str, Case]:
    """Each provider's main operation: the first call of its declared balance mapping
    (specs/providers/<p>.yaml), with an API key."""
    from _bodies import client_operations  # noqa: PLC0415
    from codegen.providers import PROVIDERS as DECLARED  # noqa: PLC0415

    cases = {}
    for provider in DECLARED:
        method = next(iter(provider.declaration.balance.named_calls().values()))
        op = next(
            op
            for op in client_operations()
            if op.provider == provider.name and op.method == method and "api_key" in op.credential
        )
        client = getattr(creditwatch, provider.name).Client
        model = typing.get_type_hints(getattr(client, method))["return"].__name__
        cases[provider.name] = Case(provider.name, method, op.operation_id, model, op.unwrap)
    return cases


CASES = _cases()
PROVIDERS = tuple(CASES)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def normalized(value: Any) -> Any:
    """JSON with RFC 3339 timestamps as datetimes, so '...00.000Z' equals '...00+00:00'."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, str) and _DATETIME.match(value):
        return datetime.fromisoformat(value)
    return value


MODES = ("sync", "async", "aiohttp")
"""The sync client; the async client on httpx's transport (its own pool); the async
client on the aiohttp one (``http_client=creditwatch.DefaultAioHttpClient()``)."""
ASYNC_MODES = ("async", "aiohttp")


def call(
    case: Case, mode: str, method: str | None = None, *, raw: bool = False, **options: Any
) -> Any:
    """Construct the provider's Client (or AsyncClient), call one method, close it
    (and the aiohttp pool of mode ``"aiohttp"``)."""
    name = method or case.method
    options = with_credentials(case.provider, options)
    if mode == "sync":
        with case.module.Client(**options) as client:
            target = client.with_raw_response if raw else client
            return getattr(target, name)()

    async def run() -> Any:
        own = "http_client" not in options
        http = async_http(mode) if own else options.pop("http_client")
        try:
            async with case.module.AsyncClient(**options, http_client=http) as client:
                target = client.with_raw_response if raw else client
                return await cast(Callable[[], Awaitable[Any]], getattr(target, name))()
        finally:
            if own and http is not None:
                await http.aclose()

    return asyncio.run(run())
