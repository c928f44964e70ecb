"""Flamel's quirks: the API key goes in ``X-Api-Key``; a success may come bare or in
Flamel's global wrapper ``{"success": true, "code": 200, "data": {...}}``; errors are
``{"success": false, "code": 401, "data": "wrong_api_key"}``."""

from __future__ import annotations

from typing import Any

from .._balance import Balance, aware
from .._base import BalanceRule, ErrorInfo, Profile
from .._generated.flamel.models.auth_user_dto import AuthUserDto

Account = AuthUserDto  # what a Flamel balance is computed from

_WRAPPER_KEYS = frozenset({"success", "code", "data", "message"})


def _unwrap(data: Any) -> Any:
    """The body inside Flamel's global wrapper, or the body as it came."""
    wrapped = isinstance(data, dict) and "data" in data and data.keys() <= _WRAPPER_KEYS
    return data["data"] if wrapped and data.get("success") is True else data


def _decode_error(data: Any) -> ErrorInfo:
    from .._generated.flamel.models.error_envelope import ErrorEnvelope  # noqa: PLC0415

    reason = str(ErrorEnvelope.from_dict(data).data)
    return ErrorInfo(code=reason, message=reason)


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


PROFILE = Profile(
    name="flamel",
    label="Flamel",
    auth_headers=lambda key: {"X-Api-Key": key},
    decode_error=_decode_error,
    unwrap=_unwrap,
    balance=BalanceRule(("get_my_info",), to_balance),
)
