"""Exorde: the user behind an API key, with plan and credits (``GET /user/info``).
``get_user_info()`` returns the body's ``user``, ``get_user_info_response()`` the whole
body (``status``: credit cost, deprecation notice). Classes generated from
Exorde's API description; Exorde's quirks are in `_profile`."""

from .._generated.exorde.client import AsyncClient, Client
from .._generated.exorde.types import UNSET, Unset
from . import models
from ._profile import next_month_start as next_month_start

__all__ = ["UNSET", "AsyncClient", "Client", "Unset", "models"]
