"""creditwatch: typed clients for the account and credit endpoints of many providers
(`PROVIDERS`), and one view of the credits left at each.

Each provider is a subpackage (``creditwatch.flamel`` ...) with ``Client``,
``AsyncClient`` and ``models``, generated from its OpenAPI description and its
creditwatch declaration; it is imported the first time it is used, so
``import creditwatch`` stays cheap.
"""

# Only public names at module level (an editor completes `creditwatch.` from them):
# the helpers below are imported under private names.
import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING

from ._generated import _packages
from ._generated._registry import PROVIDERS
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
    InvalidCredentialsError,
    MissingCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
)

if _TYPE_CHECKING:
    from ._aiohttp import DefaultAioHttpClient
    from ._balance import Balance, abalances, balances
    from ._generated._packages import *  # the provider subpackages  # noqa: F403
    from ._history import HistoryError, record
    from ._response import APIResponse

# Imported on first use, so that `import creditwatch` costs little more than httpx.
_LAZY = {
    "Balance": "._balance",
    "balances": "._balance",
    "abalances": "._balance",
    "APIResponse": "._response",
    "DefaultAioHttpClient": "._aiohttp",
    "record": "._history",
    "HistoryError": "._history",
}

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
    "DefaultAioHttpClient",
    "HistoryError",
    "InternalServerError",
    "InvalidCredentialsError",
    "MissingCredentialsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "__version__",
    "abalances",
    "balances",
    "record",
]
__all__ += _packages.__all__  # the providers
del _packages


if not _TYPE_CHECKING:  # for type checkers, the names above are plain imports

    def __getattr__(name: str) -> object:
        if name in PROVIDERS:
            return _importlib.import_module(f"{__name__}.{name}")
        if name in _LAZY:
            value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
            globals()[name] = value
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
