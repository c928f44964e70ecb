"""Flamel: the account behind an API key (``GET /api/users/me``), with its credits.

``Client`` and ``AsyncClient`` are generated from Flamel's API description; Flamel's
quirks (``X-Api-Key``, its optional success wrapper, its error body) are in
`_profile`.
"""

from .._generated.flamel.client import AsyncClient, Client
from .._generated.flamel.types import UNSET, Unset
from . import models

__all__ = ["UNSET", "AsyncClient", "Client", "Unset", "models"]
