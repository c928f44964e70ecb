"""EasySlip: the application behind an API key, its quota and expiry (``GET /me``).

``Client`` and ``AsyncClient`` are generated from EasySlip's API description; their methods
return the ``data`` of EasySlip's ``{"status", "data"}`` envelope. EasySlip's quirks (an
error status inside a 200 body, its error body) are in `_profile`.
"""

from .._generated.easyslip.client import AsyncClient, Client
from .._generated.easyslip.types import UNSET, Unset
from . import models

__all__ = ["UNSET", "AsyncClient", "Client", "Unset", "models"]
