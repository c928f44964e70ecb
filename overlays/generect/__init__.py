"""Generect: the current user's credits per product (``GET /api/auth/users/me/``).

``Client`` and ``AsyncClient`` are generated from Generect's API description; Generect's
quirks (the ``Token`` auth prefix, its error body) are in `_profile`.
"""

from .._generated.generect.client import AsyncClient, Client
from .._generated.generect.types import UNSET, Unset
from . import models

__all__ = ["UNSET", "AsyncClient", "Client", "Unset", "models"]
