"""EasySlip's quirks: a body whose ``status`` is not 2xx is an error even when the HTTP
status is 200 (the provider's own examples check the body); errors are
``{"status": 401, "message": "unauthorized"}``. (The ``{"status", "data"}`` envelope of
its success bodies is declared in its spec.)"""

from __future__ import annotations

from typing import Any

from .._balance import Balance, aware
from .._base import BalanceRule, ErrorInfo, Profile
from .._generated.easyslip.models.me_data import MeData

Account = MeData  # what an EasySlip balance is computed from


def _decode_error(data: Any) -> ErrorInfo:
    from .._generated.easyslip.models.error_response import ErrorResponse  # noqa: PLC0415

    message = ErrorResponse.from_dict(data).message
    return ErrorInfo(code=message, message=message)


def _body_status(data: Any) -> int | None:
    status = int(data["status"])
    return None if 200 <= status < 300 else status


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


PROFILE = Profile(
    name="easyslip",
    label="EasySlip",
    auth_headers=lambda key: {"Authorization": f"Bearer {key}"},
    decode_error=_decode_error,
    body_status=_body_status,
    balance=BalanceRule(("get_me",), to_balance),
)
