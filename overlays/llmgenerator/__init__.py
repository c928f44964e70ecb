"""LLMGenerator: the current subscription and the credit balance.

``Client`` and ``AsyncClient`` are generated from LLMGenerator's API description. Each
takes an API key (``llmgen_...``; the ``/api`` variants of the operations) or a session
JWT (``access_token=``; the variants without ``/api``); both return the same bodies.
LLMGenerator's quirks (its error body, a balance from two calls) are in `_profile`.
"""

from .._generated.llmgenerator.client import AsyncClient, Client
from .._generated.llmgenerator.types import UNSET, Unset
from . import models
from ._profile import Account

__all__ = ["UNSET", "Account", "AsyncClient", "Client", "Unset", "models"]
