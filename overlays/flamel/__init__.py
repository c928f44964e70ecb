"""Flamel: ``GET /api/users/me`` with ``X-Api-Key: <key>``.

Quirks: a success may come bare or in Flamel's global envelope
``{"success": true, "code": 200, "data": {...}}``; errors are
``{"success": false, "code": 401, "data": "wrong_api_key"}``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .._balance import Balance, aware
from .._base import AsyncAPIClient, ErrorInfo, Operation, Profile, SyncAPIClient
from .._generated.flamel.api.users import get_my_info as _get_my_info
from .._generated.flamel.models import AuthUserDto, ErrorEnvelope
from .._generated.flamel.types import UNSET, Unset
from .._response import APIResponse
from . import models

__all__ = ["UNSET", "AsyncClient", "Client", "Unset", "models"]


def _unwrap(data: Any) -> Any:
    """The user object, whether bare or inside ``{"success": true, "data": {...}}``."""
    if isinstance(data, dict) and data.get("success") is True and "userId" not in data:
        return data["data"]
    return data


def _decode_error(data: Any) -> ErrorInfo:
    reason = str(ErrorEnvelope.from_dict(data).data)
    return ErrorInfo(code=reason, message=reason)


PROFILE = Profile(
    name="flamel",
    label="Flamel",
    base_url="https://beta.flamel.app",
    auth_headers=lambda key: {"X-Api-Key": key},
    decode_error=_decode_error,
)
GET_MY_INFO = Operation(_get_my_info._get_kwargs, lambda d: AuthUserDto.from_dict(_unwrap(d)))


def to_balance(user: AuthUserDto) -> Balance[AuthUserDto]:
    """remaining = defaultCredit + dailyCredit + monthlyCredit; limit = maxCredit if > 0."""
    return Balance(
        provider="flamel",
        remaining=user.default_credit + user.daily_credit + user.monthly_credit,
        limit=user.max_credit if user.max_credit > 0 else None,
        unit="credits",
        plan=user.plan.grade,
        resets_at=aware(user.next_plan_at),
        account=user,
    )


class Client(SyncAPIClient):
    """Flamel client. ``api_key`` falls back to ``FLAMEL_API_KEY``, ``base_url`` to
    ``FLAMEL_BASE_URL``, then ``https://beta.flamel.app``."""

    _profile = PROFILE

    def get_my_info(self) -> AuthUserDto:
        """The account the key belongs to: profile, plan, credits, billing state."""
        return self._request(GET_MY_INFO).parsed

    def balance(self) -> Balance[AuthUserDto]:
        """Credits left (see the README's balance table)."""
        return to_balance(self.get_my_info())

    @cached_property
    def with_raw_response(self) -> RawClient:
        """The same methods, returning `APIResponse` (status, headers, body, parsed)."""
        return RawClient(self)


class RawClient:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get_my_info(self) -> APIResponse[AuthUserDto]:
        return self._client._request(GET_MY_INFO)


class AsyncClient(AsyncAPIClient):
    """Async Flamel client; same arguments as `Client`, with an ``httpx.AsyncClient``."""

    _profile = PROFILE

    async def get_my_info(self) -> AuthUserDto:
        """The account the key belongs to: profile, plan, credits, billing state."""
        return (await self._request(GET_MY_INFO)).parsed

    async def balance(self) -> Balance[AuthUserDto]:
        """Credits left (see the README's balance table)."""
        return to_balance(await self.get_my_info())

    @cached_property
    def with_raw_response(self) -> AsyncRawClient:
        """The same methods, returning `APIResponse` (status, headers, body, parsed)."""
        return AsyncRawClient(self)


class AsyncRawClient:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get_my_info(self) -> APIResponse[AuthUserDto]:
        return await self._client._request(GET_MY_INFO)
