"""creditwatch: typed clients for the account and credit endpoints of Flamel, Exorde,
Generect, EasySlip and LLMGenerator, and one view of the credits left at each.

Each provider is a subpackage (``creditwatch.flamel`` ...) with ``Client``,
``AsyncClient`` and ``models``; it is imported the first time it is used, so
``import creditwatch`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._balance import Balance, abalances, balances
from ._response import APIResponse
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    MissingCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

if TYPE_CHECKING:
    from . import easyslip, exorde, flamel, generect, llmgenerator

from ._balance import PROVIDERS

__all__ = [
    "PROVIDERS",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Balance",
    "InternalServerError",
    "MissingCredentialsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "__version__",
    "abalances",
    "balances",
    "easyslip",
    "exorde",
    "flamel",
    "generect",
    "llmgenerator",
]


def __getattr__(name: str) -> Any:
    if name in PROVIDERS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
