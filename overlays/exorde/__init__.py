"""Exorde: the user behind an API key, with its plan and credits (``GET /user/info``).

``Client`` and ``AsyncClient`` are generated from ``specs/exorde.yaml``:
``get_user_info()`` returns the body's ``user``, ``get_user_info_response()`` the whole
body (with ``status``: credit cost, deprecation notice). Exorde's quirks (its headers,
error body and deprecation notices) are in `_profile`.
"""

from .._generated.exorde.client import AsyncClient, Client
from .._generated.exorde.types import UNSET, Unset
from . import models
from ._profile import next_month_start as next_month_start

__all__ = ["UNSET", "AsyncClient", "Client", "Unset", "models"]
