"""Exorde's quirks: ``Accept: application/json``, its error bodies, and a deprecation
notice in a body, which becomes a `DeprecationWarning` at the caller's line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .._balance import Balance
from .._base import BalanceRule, ErrorInfo, Profile, warn_caller
from .._generated.exorde.models.api_deprecation_notice import ApiDeprecationNotice
from .._generated.exorde.models.user import User
from .._generated.exorde.types import Unset

Account = User  # what an Exorde balance is computed from


def _decode_error(data: Any) -> ErrorInfo:
    from .._generated.exorde.models.error_response import ErrorResponse  # noqa: PLC0415
    from .._generated.exorde.models.internal_error_response import (  # noqa: PLC0415
        InternalErrorResponse,
    )

    if isinstance(data, dict) and "error" not in data:  # 500: {"requestId": ...}
        return ErrorInfo(request_id=InternalErrorResponse.from_dict(data).request_id)
    error = ErrorResponse.from_dict(data).error
    return ErrorInfo(code=error.code, message=error.message, request_id=error.request_id)


def _warn_if_deprecated(data: Any) -> None:
    status = data.get("status") if isinstance(data, dict) else None
    if isinstance(status, dict) and "apiDeprecationNotice" in status:
        notice = ApiDeprecationNotice.from_dict(status["apiDeprecationNotice"])
        when = notice.shutdown_date.isoformat()
        message = f"Exorde API v1 is deprecated: {notice.message} (shutdown date {when})"
        warn_caller(message, DeprecationWarning)


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


PROFILE = Profile(
    name="exorde",
    label="Exorde",
    auth_headers=lambda key: {"Authorization": f"Bearer {key}"},
    extra_headers={"Accept": "application/json"},
    decode_error=_decode_error,
    inspect=_warn_if_deprecated,
    balance=BalanceRule(("get_user_info",), to_balance),
)
