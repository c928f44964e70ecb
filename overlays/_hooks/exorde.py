"""Exorde's hook: a deprecation notice in a body becomes a `DeprecationWarning` at the
caller's line (the notice's text and shutdown date are data no mapping can declare)."""

from __future__ import annotations

from typing import Any

from .._balance import next_month_start
from .._base import warn_caller

__all__ = ["next_month_start"]  # public since 0.1: creditwatch.exorde.next_month_start


def inspect(data: Any) -> None:
    from .._generated.exorde.models.api_deprecation_notice import (  # noqa: PLC0415
        ApiDeprecationNotice,
    )

    status = data.get("status") if isinstance(data, dict) else None
    if isinstance(status, dict) and "apiDeprecationNotice" in status:
        notice = ApiDeprecationNotice.from_dict(status["apiDeprecationNotice"])
        when = notice.shutdown_date.isoformat()
        message = f"Exorde API v1 is deprecated: {notice.message} (shutdown date {when})"
        warn_caller(message, DeprecationWarning)
