"""Generect's quirks: ``Authorization: Token <key>`` (not Bearer); errors are
``{"detail": "..."}``. (The trailing slash its paths need is in its spec.)"""

from __future__ import annotations

from typing import Any

from .._balance import Balance
from .._base import BalanceRule, ErrorInfo, Profile
from .._generated.generect.models.user import User

Account = User  # what a Generect balance is computed from


def _decode_error(data: Any) -> ErrorInfo:
    from .._generated.generect.models.error_detail import ErrorDetail  # noqa: PLC0415

    return ErrorInfo(message=ErrorDetail.from_dict(data).detail)


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


PROFILE = Profile(
    name="generect",
    label="Generect",
    auth_headers=lambda key: {"Authorization": f"Token {key}"},
    decode_error=_decode_error,
    balance=BalanceRule(("get_user_me",), to_balance),
)
