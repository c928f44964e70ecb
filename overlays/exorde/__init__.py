"""Exorde: ``GET /user/info`` with ``Authorization: Bearer <key>``,
``X-Exorde-Api-Version: v1`` and ``Accept: application/json``.

Quirks: the body is ``{"user": {...}, "status": {"cost": 0, ...}}``: `get_user_info()`
returns the user, `get_user_info_response()` the whole body (credit cost, deprecation
notice). A response that carries ``status.apiDeprecationNotice`` emits a
`DeprecationWarning` with its message and shutdown date.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import Any

from .._balance import Balance
from .._base import AsyncAPIClient, ErrorInfo, Operation, Profile, SyncAPIClient
from .._generated.exorde.api.user import get_user_info as _get_user_info
from .._generated.exorde.models import (
    ApiVersion,
    ErrorResponse,
    InternalErrorResponse,
    User,
    UserInfoResponse,
)
from .._generated.exorde.types import UNSET, Unset
from .._response import APIResponse
from . import models

__all__ = ["UNSET", "AsyncClient", "Client", "Unset", "models"]

API_VERSION = ApiVersion.V1


def _text(value: object) -> str | None:
    return None if value is None or isinstance(value, Unset) else str(value)


def _decode_error(data: Any) -> ErrorInfo:
    if isinstance(data, dict) and "error" not in data:  # 500: {"requestId": ...}
        return ErrorInfo(request_id=_text(InternalErrorResponse.from_dict(data).request_id))
    error = ErrorResponse.from_dict(data).error
    return ErrorInfo(
        code=_text(error.code), message=_text(error.message), request_id=_text(error.request_id)
    )


def _parse(data: Any) -> UserInfoResponse:
    body = UserInfoResponse.from_dict(data)
    notice = body.status.api_deprecation_notice
    if not isinstance(notice, Unset):
        warnings.warn(
            f"Exorde API {API_VERSION} is deprecated: {notice.message} "
            f"(shutdown date {notice.shutdown_date.isoformat()})",
            DeprecationWarning,
            # _parse <- _parse_user/_parse_response <- _process <- _request <- method <- caller
            stacklevel=6,
        )
    return body


def _parse_response(data: Any) -> UserInfoResponse:
    return _parse(data)


def _parse_user(data: Any) -> User:
    return _parse(data).user


PROFILE = Profile(
    name="exorde",
    label="Exorde",
    base_url="https://api.exorde.io",
    auth_headers=lambda key: {"Authorization": f"Bearer {key}"},
    extra_headers={"Accept": "application/json"},
    decode_error=_decode_error,
)
_REQUEST = partial(_get_user_info._get_kwargs, x_exorde_api_version=ApiVersion.V1)
GET_USER_INFO_RESPONSE = Operation(_REQUEST, _parse_response)
GET_USER_INFO = Operation(_REQUEST, _parse_user)


def next_month_start(now: datetime) -> datetime:
    """Monthly credits reset on the 1st of each month at 00:00 UTC."""
    now = now.astimezone(UTC)
    if now.month == 12:
        return datetime(now.year + 1, 1, 1, tzinfo=UTC)
    return datetime(now.year, now.month + 1, 1, tzinfo=UTC)


def to_balance(user: User, *, now: datetime | None = None) -> Balance[User]:
    """remaining = remainingMonthlyCredits + (remainingAdditionalCredits or 0);
    limit = totalMonthlyCredits + (maxAdditionalCredits or 0)."""
    checked_at = datetime.now(UTC) if now is None else now
    plan = user.plan
    if isinstance(plan, Unset):  # a user without a plan has no credit counters
        return Balance(
            provider="exorde",
            remaining=None,
            limit=None,
            resets_at=next_month_start(checked_at),
            checked_at=checked_at,
            account=user,
        )

    def extra(value: int | Unset) -> int:
        return 0 if isinstance(value, Unset) else value

    return Balance(
        provider="exorde",
        remaining=plan.remaining_monthly_credits + extra(plan.remaining_additional_credits),
        limit=plan.total_monthly_credits + extra(plan.max_additional_credits),
        unit="credits",
        plan=plan.name,
        resets_at=next_month_start(checked_at),
        checked_at=checked_at,
        account=user,
    )


class Client(SyncAPIClient):
    """Exorde client. ``api_key`` falls back to ``EXORDE_API_KEY``, ``base_url`` to
    ``EXORDE_BASE_URL``, then ``https://api.exorde.io``."""

    _profile = PROFILE

    def get_user_info(self) -> User:
        """The user: id, email, plan and credit counters."""
        return self._request(GET_USER_INFO).parsed

    def balance(self) -> Balance[User]:
        """Credits left (see the README's balance table)."""
        return to_balance(self.get_user_info())

    def get_user_info_response(self) -> UserInfoResponse:
        """The whole body: ``.user`` and ``.status`` (credit cost, deprecation notice)."""
        return self._request(GET_USER_INFO_RESPONSE).parsed

    @cached_property
    def with_raw_response(self) -> RawClient:
        """The same methods, returning `APIResponse` (status, headers, body, parsed)."""
        return RawClient(self)


class RawClient:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get_user_info(self) -> APIResponse[User]:
        return self._client._request(GET_USER_INFO)

    def get_user_info_response(self) -> APIResponse[UserInfoResponse]:
        return self._client._request(GET_USER_INFO_RESPONSE)


class AsyncClient(AsyncAPIClient):
    """Async Exorde client; same arguments as `Client`, with an ``httpx.AsyncClient``."""

    _profile = PROFILE

    async def get_user_info(self) -> User:
        """The user: id, email, plan and credit counters."""
        return (await self._request(GET_USER_INFO)).parsed

    async def balance(self) -> Balance[User]:
        """Credits left (see the README's balance table)."""
        return to_balance(await self.get_user_info())

    async def get_user_info_response(self) -> UserInfoResponse:
        """The whole body: ``.user`` and ``.status`` (credit cost, deprecation notice)."""
        return (await self._request(GET_USER_INFO_RESPONSE)).parsed

    @cached_property
    def with_raw_response(self) -> AsyncRawClient:
        """The same methods, returning `APIResponse` (status, headers, body, parsed)."""
        return AsyncRawClient(self)


class AsyncRawClient:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get_user_info(self) -> APIResponse[User]:
        return await self._client._request(GET_USER_INFO)

    async def get_user_info_response(self) -> APIResponse[UserInfoResponse]:
        return await self._client._request(GET_USER_INFO_RESPONSE)
