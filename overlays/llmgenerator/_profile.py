"""LLMGenerator's quirks: errors are ``{"error": "..."}``; a balance takes two calls.
(Its two credentials, an API key or a session JWT ``access_token``, and the two
variants of each operation they select are declared in its spec.)"""

from __future__ import annotations

from typing import Any

import attrs

from .._balance import Balance, aware
from .._base import BalanceRule, ErrorInfo, Profile
from .._generated.llmgenerator.models.credit_balance import CreditBalance
from .._generated.llmgenerator.models.subscription_response import SubscriptionResponse


@attrs.frozen
class Account:
    """What an LLMGenerator balance is computed from: two calls, made concurrently."""

    subscription: SubscriptionResponse
    credits: CreditBalance

    def to_dict(self) -> dict[str, Any]:
        """Both bodies as JSON-ready dicts, like the generated models' ``to_dict()``."""
        return {"subscription": self.subscription.to_dict(), "credits": self.credits.to_dict()}


def _decode_error(data: Any) -> ErrorInfo:
    from .._generated.llmgenerator.models.error_response import ErrorResponse  # noqa: PLC0415

    return ErrorInfo(message=ErrorResponse.from_dict(data).error)


def to_balance(subscription: SubscriptionResponse, credits: CreditBalance) -> Balance[Account]:
    """remaining = balance; limit = planDetails.monthlyCredits; plan = subscription.plan."""
    details, current = subscription.plan_details, subscription.subscription
    return Balance(
        provider="llmgenerator",
        remaining=credits.balance,
        limit=None if details is None else details.monthly_credits,
        unit="credits",
        plan=None if current is None else current.plan,
        resets_at=None if current is None else aware(current.current_period_end),
        account=Account(subscription=subscription, credits=credits),
    )


PROFILE = Profile(
    name="llmgenerator",
    label="LLMGenerator",
    auth_headers=lambda token: {"Authorization": f"Bearer {token}"},
    decode_error=_decode_error,
    balance=BalanceRule(("get_current_subscription", "get_credit_balance"), to_balance),
)
