"""Generect: ``GET /api/auth/users/me/`` with ``Authorization: Token <key>``.

Quirks: the ``Token`` prefix (not Bearer), and the trailing slash, which the API
needs (without it, it redirects or answers 404). Errors are ``{"detail": "..."}``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .._balance import Balance
from .._base import AsyncAPIClient, ErrorInfo, Operation, Profile, SyncAPIClient
from .._generated.generect.api.auth import get_user_me as _get_user_me
from .._generated.generect.models import ErrorDetail, User
from .._generated.generect.types import UNSET, Unset
from .._response import APIResponse
from . import models

__all__ = ["UNSET", "AsyncClient", "Client", "Unset", "models"]


def _decode_error(data: Any) -> ErrorInfo:
    return ErrorInfo(message=ErrorDetail.from_dict(data).detail)


PROFILE = Profile(
    name="generect",
    label="Generect",
    base_url="https://api.generect.com",
    auth_headers=lambda key: {"Authorization": f"Token {key}"},
    decode_error=_decode_error,
)
GET_USER_ME = Operation(_get_user_me._get_kwargs, User.from_dict)


def to_balance(user: User) -> Balance[User]:
    """remaining = balance_platform; limit = max_credits; plan = subscription."""
    return Balance(
        provider="generect",
        remaining=user.balance_platform,
        limit=user.max_credits,
        unit="credits",
        plan=user.subscription,
        account=user,
    )


class Client(SyncAPIClient):
    """Generect client. ``api_key`` falls back to ``GENERECT_API_KEY``, ``base_url`` to
    ``GENERECT_BASE_URL``, then ``https://api.generect.com``."""

    _profile = PROFILE

    def get_user_me(self) -> User:
        """The current user's credit balances per product, limits and plan."""
        return self._request(GET_USER_ME).parsed

    def balance(self) -> Balance[User]:
        """Credits left (see the README's balance table)."""
        return to_balance(self.get_user_me())

    @cached_property
    def with_raw_response(self) -> RawClient:
        """The same methods, returning `APIResponse` (status, headers, body, parsed)."""
        return RawClient(self)


class RawClient:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get_user_me(self) -> APIResponse[User]:
        return self._client._request(GET_USER_ME)


class AsyncClient(AsyncAPIClient):
    """Async Generect client; same arguments as `Client`, with an ``httpx.AsyncClient``."""

    _profile = PROFILE

    async def get_user_me(self) -> User:
        """The current user's credit balances per product, limits and plan."""
        return (await self._request(GET_USER_ME)).parsed

    async def balance(self) -> Balance[User]:
        """Credits left (see the README's balance table)."""
        return to_balance(await self.get_user_me())

    @cached_property
    def with_raw_response(self) -> AsyncRawClient:
        """The same methods, returning `APIResponse` (status, headers, body, parsed)."""
        return AsyncRawClient(self)


class AsyncRawClient:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get_user_me(self) -> APIResponse[User]:
        return await self._client._request(GET_USER_ME)
