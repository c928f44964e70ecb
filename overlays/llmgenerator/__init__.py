"""LLMGenerator: subscription and credit balance, with ``Authorization: Bearer``.

Quirks: two credentials. An API key (``llmgen_...``) calls the ``/api`` variants
(``/subscriptions/current/api``, ``/credits/balance/api``); a session JWT
(``access_token=``) calls ``/subscriptions/current`` and ``/credits/balance``. Both
variants return the same bodies. Errors are ``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any, TypeVar

import attrs
import httpx

from .._balance import Balance, aware
from .._base import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    AsyncAPIClient,
    BaseClient,
    ErrorInfo,
    Operation,
    Profile,
    SyncAPIClient,
    env,
    resolve_credential,
)
from .._generated.llmgenerator.api.credit import get_credit_balance as _balance_jwt
from .._generated.llmgenerator.api.credit import (
    get_credit_balance_with_api_key as _balance_key,
)
from .._generated.llmgenerator.api.subscriptions import (
    get_current_subscription as _subscription_jwt,
)
from .._generated.llmgenerator.api.subscriptions import (
    get_current_subscription_with_api_key as _subscription_key,
)
from .._generated.llmgenerator.models import CreditBalance, ErrorResponse, SubscriptionResponse
from .._generated.llmgenerator.types import UNSET, Unset
from .._response import APIResponse
from . import models

__all__ = ["UNSET", "Account", "AsyncClient", "Client", "Unset", "models"]

T = TypeVar("T")


def _decode_error(data: Any) -> ErrorInfo:
    return ErrorInfo(message=ErrorResponse.from_dict(data).error)


PROFILE = Profile(
    name="llmgenerator",
    label="LLMGenerator",
    base_url="https://api.llmgenerator.com/api/v1",
    auth_headers=lambda token: {"Authorization": f"Bearer {token}"},
    decode_error=_decode_error,
)
# (with an API key, with an access token)
SUBSCRIPTION = (
    Operation(_subscription_key._get_kwargs, SubscriptionResponse.from_dict),
    Operation(_subscription_jwt._get_kwargs, SubscriptionResponse.from_dict),
)
CREDIT_BALANCE = (
    Operation(_balance_key._get_kwargs, CreditBalance.from_dict),
    Operation(_balance_jwt._get_kwargs, CreditBalance.from_dict),
)


@attrs.frozen
class Account:
    """What an LLMGenerator balance is computed from: two calls, made concurrently."""

    subscription: SubscriptionResponse
    credits: CreditBalance

    def to_dict(self) -> dict[str, Any]:
        """Both bodies as JSON-ready dicts, like the generated models' ``to_dict()``."""
        return {"subscription": self.subscription.to_dict(), "credits": self.credits.to_dict()}


def to_balance(subscription: SubscriptionResponse, credits: CreditBalance) -> Balance[Account]:
    """remaining = balance; limit = planDetails.monthlyCredits; plan = subscription.plan."""
    details, current = subscription.plan_details, subscription.subscription
    return Balance(
        provider="llmgenerator",
        remaining=credits.balance,
        limit=None if details is None else details.monthly_credits,
        unit="credits",
        plan=None if current is None else current.plan,
        resets_at=None if current is None else aware(current.current_period_end),
        account=Account(subscription=subscription, credits=credits),
    )


class _Credentials(BaseClient):
    """An API key or a session access token, exactly one."""

    _profile = PROFILE
    _access_token: str | None

    def _resolve_credential(self, api_key: str | None) -> str:
        """Arguments first, then LLMGENERATOR_API_KEY, then LLMGENERATOR_ACCESS_TOKEN."""
        if api_key and self._access_token:
            raise ValueError("LLMGenerator: pass api_key or access_token, not both")
        if api_key or self._access_token:
            return str(api_key or self._access_token)
        env_key = env("LLMGENERATOR_API_KEY")
        if env_key is None:
            self._access_token = env("LLMGENERATOR_ACCESS_TOKEN")
            if self._access_token:
                return self._access_token
        return resolve_credential(
            PROFILE,
            env_key,
            "api_key (or access_token)",
            "LLMGENERATOR_API_KEY (or LLMGENERATOR_ACCESS_TOKEN)",
        )

    @property
    def uses_access_token(self) -> bool:
        """True when authenticated with a session JWT rather than an API key."""
        return self._access_token is not None

    def _variant(self, variants: tuple[Operation[T], Operation[T]]) -> Operation[T]:
        """The operation for this client's credential: (API key, access token)."""
        return variants[1 if self.uses_access_token else 0]


class Client(_Credentials, SyncAPIClient):
    """LLMGenerator client. ``api_key`` falls back to ``LLMGENERATOR_API_KEY``,
    ``access_token`` to ``LLMGENERATOR_ACCESS_TOKEN``, ``base_url`` to
    ``LLMGENERATOR_BASE_URL``, then ``https://api.llmgenerator.com/api/v1``."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        access_token: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._access_token = access_token
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    def get_current_subscription(self) -> SubscriptionResponse:
        """Plan, billing cycle and renewal date (``subscription`` is None without one)."""
        return self._request(self._variant(SUBSCRIPTION)).parsed

    def get_credit_balance(self) -> CreditBalance:
        """Credits left, purchased and used, and the latest transactions."""
        return self._request(self._variant(CREDIT_BALANCE)).parsed

    def balance(self) -> Balance[Account]:
        """Credits left (see the README's balance table); both calls run concurrently."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            subscription = pool.submit(self.get_current_subscription)
            credits = pool.submit(self.get_credit_balance)
            return to_balance(subscription.result(), credits.result())

    @cached_property
    def with_raw_response(self) -> RawClient:
        """The same methods, returning `APIResponse` (status, headers, body, parsed)."""
        return RawClient(self)


class RawClient:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get_current_subscription(self) -> APIResponse[SubscriptionResponse]:
        return self._client._request(self._client._variant(SUBSCRIPTION))

    def get_credit_balance(self) -> APIResponse[CreditBalance]:
        return self._client._request(self._client._variant(CREDIT_BALANCE))


class AsyncClient(_Credentials, AsyncAPIClient):
    """Async LLMGenerator client; same arguments as `Client`, with an ``httpx.AsyncClient``."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        access_token: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._access_token = access_token
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    async def get_current_subscription(self) -> SubscriptionResponse:
        """Plan, billing cycle and renewal date (``subscription`` is None without one)."""
        return (await self._request(self._variant(SUBSCRIPTION))).parsed

    async def get_credit_balance(self) -> CreditBalance:
        """Credits left, purchased and used, and the latest transactions."""
        return (await self._request(self._variant(CREDIT_BALANCE))).parsed

    async def balance(self) -> Balance[Account]:
        """Credits left (see the README's balance table); both calls run concurrently."""
        subscription, credits = await asyncio.gather(
            self.get_current_subscription(), self.get_credit_balance()
        )
        return to_balance(subscription, credits)

    @cached_property
    def with_raw_response(self) -> AsyncRawClient:
        """The same methods, returning `APIResponse` (status, headers, body, parsed)."""
        return AsyncRawClient(self)


class AsyncRawClient:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get_current_subscription(self) -> APIResponse[SubscriptionResponse]:
        return await self._client._request(self._client._variant(SUBSCRIPTION))

    async def get_credit_balance(self) -> APIResponse[CreditBalance]:
        return await self._client._request(self._client._variant(CREDIT_BALANCE))
