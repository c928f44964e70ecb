"""EasySlip: ``GET /me`` with ``Authorization: Bearer <key>``.

Quirks: the body is ``{"status": 200, "data": {...}}``; `get_me()` returns ``data``.
A body whose ``status`` is not 200 is an error even when the HTTP status is 200
(the provider's own examples check the body). Errors are
``{"status": 401, "message": "unauthorized"}``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .._balance import Balance, aware
from .._base import AsyncAPIClient, ErrorInfo, Operation, Profile, SyncAPIClient
from .._generated.easyslip.api.account import get_me as _get_me
from .._generated.easyslip.models import ErrorResponse, MeData, MeResponse
from .._generated.easyslip.types import UNSET, Unset
from .._response import APIResponse
from . import models

__all__ = ["UNSET", "AsyncClient", "Client", "Unset", "models"]


def _decode_error(data: Any) -> ErrorInfo:
    message = ErrorResponse.from_dict(data).message
    return ErrorInfo(code=message, message=message)


def _body_status(data: Any) -> int | None:
    status = data["status"]
    return None if status == 200 else int(status)


PROFILE = Profile(
    name="easyslip",
    label="EasySlip",
    base_url="https://developer.easyslip.com/api/v1",
    auth_headers=lambda key: {"Authorization": f"Bearer {key}"},
    decode_error=_decode_error,
    body_status=_body_status,
)
GET_ME = Operation(_get_me._get_kwargs, lambda d: MeResponse.from_dict(d).data)


def to_balance(data: MeData) -> Balance[MeData]:
    """remaining = remainingQuota; limit = maxQuota; unlimited when maxQuota is null."""
    return Balance(
        provider="easyslip",
        remaining=data.remaining_quota,
        limit=data.max_quota,
        unlimited=data.max_quota is None,
        unit="quota",
        plan=data.application,
        expires_at=aware(data.expired_at),
        account=data,
    )


class Client(SyncAPIClient):
    """EasySlip client. ``api_key`` falls back to ``EASYSLIP_API_KEY``, ``base_url`` to
    ``EASYSLIP_BASE_URL``, then ``https://developer.easyslip.com/api/v1``."""

    _profile = PROFILE

    def get_me(self) -> MeData:
        """The application, its quota usage and subscription expiry."""
        return self._request(GET_ME).parsed

    def balance(self) -> Balance[MeData]:
        """Quota left (see the README's balance table)."""
        return to_balance(self.get_me())

    @cached_property
    def with_raw_response(self) -> RawClient:
        """The same methods, returning `APIResponse` (status, headers, body, parsed)."""
        return RawClient(self)


class RawClient:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get_me(self) -> APIResponse[MeData]:
        return self._client._request(GET_ME)


class AsyncClient(AsyncAPIClient):
    """Async EasySlip client; same arguments as `Client`, with an ``httpx.AsyncClient``."""

    _profile = PROFILE

    async def get_me(self) -> MeData:
        """The application, its quota usage and subscription expiry."""
        return (await self._request(GET_ME)).parsed

    async def balance(self) -> Balance[MeData]:
        """Quota left (see the README's balance table)."""
        return to_balance(await self.get_me())

    @cached_property
    def with_raw_response(self) -> AsyncRawClient:
        """The same methods, returning `APIResponse` (status, headers, body, parsed)."""
        return AsyncRawClient(self)


class AsyncRawClient:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get_me(self) -> APIResponse[MeData]:
        return await self._client._request(GET_ME)
