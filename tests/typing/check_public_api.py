"""Static pins of creditwatch's public types, checked by mypy --strict (never run).

tests/test_typing.py runs mypy on this file; pytest does not collect it (no ``test_``
prefix) and nothing here is executed: the functions exist so that mypy infers the
type of every public call and `assert_type` compares it with the documented one.
A public method that returned ``Any``, a bare ``APIResponse`` or a wrong model would
fail here, and so would a constructor that stopped accepting one of its keyword
arguments or started accepting anything (``**kwargs: Any``).

One block per provider: sync ``Client``, ``AsyncClient`` (awaited, and the
un-awaited coroutine, closed so that nothing would leak if it ever ran),
``with_raw_response`` and ``balance()``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Coroutine
from typing import Any, assert_type

import creditwatch
import httpx
from creditwatch import (
    APIError,
    APIResponse,
    Balance,
    abalances,
    balances,
    deepl,
    easyslip,
    elevenlabs,
    exorde,
    flamel,
    generect,
    llmgenerator,
    openrouter,
    twilio,
)
from creditwatch.deepl import Unset
from creditwatch.deepl.models import UsageResponse
from creditwatch.easyslip.models import MeData
from creditwatch.elevenlabs.models import ExtendedSubscriptionResponseModel
from creditwatch.exorde.models import User as ExordeUser
from creditwatch.exorde.models import UserInfoResponse
from creditwatch.flamel.models import AuthUserDto
from creditwatch.generect.models import User as GenerectUser
from creditwatch.llmgenerator import Account
from creditwatch.llmgenerator.models import CreditBalance, SubscriptionResponse
from creditwatch.openrouter.models import GetCreditsResponse200, GetCurrentKeyResponse200
from creditwatch.twilio.models import ApiV2010AccountBalance

URL = "http://127.0.0.1:8000"


# -- constructors: every documented keyword argument, with its documented type ------------


def sync_constructors(http: httpx.Client) -> None:
    timeout = httpx.Timeout(5.0)
    assert_type(
        flamel.Client(api_key="k", base_url=URL, timeout=5.0, max_retries=0, http_client=http),
        flamel.Client,
    )
    assert_type(
        exorde.Client(api_key="k", base_url=URL, timeout=timeout, max_retries=1, http_client=http),
        exorde.Client,
    )
    assert_type(
        generect.Client(api_key="k", base_url=URL, timeout=5, max_retries=2, http_client=None),
        generect.Client,
    )
    assert_type(
        easyslip.Client(api_key="k", base_url=None, timeout=5.0, max_retries=0, http_client=http),
        easyslip.Client,
    )
    assert_type(
        llmgenerator.Client(
            api_key="k", base_url=URL, timeout=5.0, max_retries=0, http_client=http
        ),
        llmgenerator.Client,
    )
    assert_type(llmgenerator.Client(access_token="jwt"), llmgenerator.Client)
    assert_type(flamel.Client("k", max_response_bytes=None).max_response_bytes, int | None)
    assert_type(exorde.Client("k", max_response_bytes=65536), exorde.Client)
    # The credential may also be positional, and every argument may be left out
    # (it then comes from the environment).
    assert_type(flamel.Client("k"), flamel.Client)
    assert_type(generect.Client(), generect.Client)


def async_constructors(http: httpx.AsyncClient) -> None:
    timeout = httpx.Timeout(5.0)
    assert_type(
        flamel.AsyncClient(api_key="k", base_url=URL, timeout=5.0, max_retries=0, http_client=http),
        flamel.AsyncClient,
    )
    assert_type(
        exorde.AsyncClient(
            api_key="k", base_url=URL, timeout=timeout, max_retries=1, http_client=http
        ),
        exorde.AsyncClient,
    )
    assert_type(
        generect.AsyncClient(
            api_key="k", base_url=URL, timeout=5.0, max_retries=2, http_client=None
        ),
        generect.AsyncClient,
    )
    assert_type(
        easyslip.AsyncClient(
            api_key="k", base_url=URL, timeout=5.0, max_retries=0, http_client=http
        ),
        easyslip.AsyncClient,
    )
    assert_type(
        llmgenerator.AsyncClient(
            api_key="k", base_url=URL, timeout=5.0, max_retries=0, http_client=http
        ),
        llmgenerator.AsyncClient,
    )
    assert_type(llmgenerator.AsyncClient(access_token="jwt"), llmgenerator.AsyncClient)


def context_managers() -> None:
    with flamel.Client("k") as client:
        assert_type(client, flamel.Client)
    with llmgenerator.Client("k") as llm:
        assert_type(llm, llmgenerator.Client)


async def async_context_managers() -> None:
    async with flamel.AsyncClient("k") as client:
        assert_type(client, flamel.AsyncClient)
    async with llmgenerator.AsyncClient("k") as llm:
        assert_type(llm, llmgenerator.AsyncClient)


# -- flamel ------------------------------------------------------------------------------


def flamel_sync(c: flamel.Client) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), flamel.Client)
    assert_type(c.get_my_info(), AuthUserDto)
    assert_type(c.with_raw_response.get_my_info(), APIResponse[AuthUserDto])
    assert_type(c.with_raw_response.get_my_info().parsed, AuthUserDto)
    assert_type(c.balance(), Balance[AuthUserDto])
    assert_type(c.balance().account, AuthUserDto)


async def flamel_async(c: flamel.AsyncClient) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), flamel.AsyncClient)
    assert_type(c.get_my_info(), Coroutine[Any, Any, AuthUserDto]).close()
    assert_type(await c.get_my_info(), AuthUserDto)
    assert_type(
        c.with_raw_response.get_my_info(), Coroutine[Any, Any, APIResponse[AuthUserDto]]
    ).close()
    assert_type(await c.with_raw_response.get_my_info(), APIResponse[AuthUserDto])
    assert_type(c.balance(), Coroutine[Any, Any, Balance[AuthUserDto]]).close()
    assert_type(await c.balance(), Balance[AuthUserDto])


# -- exorde ------------------------------------------------------------------------------


def exorde_sync(c: exorde.Client) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), exorde.Client)
    assert_type(c.get_user_info(), ExordeUser)
    assert_type(c.get_user_info_response(), UserInfoResponse)
    assert_type(c.with_raw_response.get_user_info(), APIResponse[ExordeUser])
    assert_type(c.with_raw_response.get_user_info_response(), APIResponse[UserInfoResponse])
    assert_type(c.balance(), Balance[ExordeUser])


async def exorde_async(c: exorde.AsyncClient) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), exorde.AsyncClient)
    assert_type(c.get_user_info(), Coroutine[Any, Any, ExordeUser]).close()
    assert_type(await c.get_user_info(), ExordeUser)
    assert_type(c.get_user_info_response(), Coroutine[Any, Any, UserInfoResponse]).close()
    assert_type(await c.get_user_info_response(), UserInfoResponse)
    assert_type(
        c.with_raw_response.get_user_info(), Coroutine[Any, Any, APIResponse[ExordeUser]]
    ).close()
    assert_type(await c.with_raw_response.get_user_info(), APIResponse[ExordeUser])
    assert_type(
        c.with_raw_response.get_user_info_response(),
        Coroutine[Any, Any, APIResponse[UserInfoResponse]],
    ).close()
    assert_type(await c.with_raw_response.get_user_info_response(), APIResponse[UserInfoResponse])
    assert_type(c.balance(), Coroutine[Any, Any, Balance[ExordeUser]]).close()
    assert_type(await c.balance(), Balance[ExordeUser])


# -- generect ----------------------------------------------------------------------------


def generect_sync(c: generect.Client) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), generect.Client)
    assert_type(c.get_user_me(), GenerectUser)
    assert_type(c.with_raw_response.get_user_me(), APIResponse[GenerectUser])
    assert_type(c.balance(), Balance[GenerectUser])


async def generect_async(c: generect.AsyncClient) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), generect.AsyncClient)
    assert_type(c.get_user_me(), Coroutine[Any, Any, GenerectUser]).close()
    assert_type(await c.get_user_me(), GenerectUser)
    assert_type(
        c.with_raw_response.get_user_me(), Coroutine[Any, Any, APIResponse[GenerectUser]]
    ).close()
    assert_type(await c.with_raw_response.get_user_me(), APIResponse[GenerectUser])
    assert_type(c.balance(), Coroutine[Any, Any, Balance[GenerectUser]]).close()
    assert_type(await c.balance(), Balance[GenerectUser])


# -- easyslip ----------------------------------------------------------------------------


def easyslip_sync(c: easyslip.Client) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), easyslip.Client)
    assert_type(c.get_me(), MeData)
    assert_type(c.with_raw_response.get_me(), APIResponse[MeData])
    assert_type(c.balance(), Balance[MeData])


async def easyslip_async(c: easyslip.AsyncClient) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), easyslip.AsyncClient)
    assert_type(c.get_me(), Coroutine[Any, Any, MeData]).close()
    assert_type(await c.get_me(), MeData)
    assert_type(c.with_raw_response.get_me(), Coroutine[Any, Any, APIResponse[MeData]]).close()
    assert_type(await c.with_raw_response.get_me(), APIResponse[MeData])
    assert_type(c.balance(), Coroutine[Any, Any, Balance[MeData]]).close()
    assert_type(await c.balance(), Balance[MeData])


# -- llmgenerator ------------------------------------------------------------------------


def llmgenerator_sync(c: llmgenerator.Client) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), llmgenerator.Client)
    assert_type(c.get_current_subscription(), SubscriptionResponse)
    assert_type(c.get_credit_balance(), CreditBalance)
    raw = c.with_raw_response
    assert_type(raw.get_current_subscription(), APIResponse[SubscriptionResponse])
    assert_type(raw.get_credit_balance(), APIResponse[CreditBalance])
    assert_type(c.balance(), Balance[Account])
    assert_type(c.balance().account.subscription, SubscriptionResponse)
    assert_type(c.balance().account.credits, CreditBalance)
    assert_type(c.uses_access_token, bool)


async def llmgenerator_async(c: llmgenerator.AsyncClient) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), llmgenerator.AsyncClient)
    assert_type(c.get_current_subscription(), Coroutine[Any, Any, SubscriptionResponse]).close()
    assert_type(await c.get_current_subscription(), SubscriptionResponse)
    assert_type(c.get_credit_balance(), Coroutine[Any, Any, CreditBalance]).close()
    assert_type(await c.get_credit_balance(), CreditBalance)
    raw = c.with_raw_response
    assert_type(
        raw.get_current_subscription(), Coroutine[Any, Any, APIResponse[SubscriptionResponse]]
    ).close()
    assert_type(await raw.get_current_subscription(), APIResponse[SubscriptionResponse])
    assert_type(raw.get_credit_balance(), Coroutine[Any, Any, APIResponse[CreditBalance]]).close()
    assert_type(await raw.get_credit_balance(), APIResponse[CreditBalance])
    assert_type(c.balance(), Coroutine[Any, Any, Balance[Account]]).close()
    assert_type(await c.balance(), Balance[Account])


# -- deepl -------------------------------------------------------------------------------


def deepl_constructors(http: httpx.Client, ahttp: httpx.AsyncClient) -> None:
    assert_type(
        deepl.Client(api_key="k:fx", base_url=URL, timeout=5.0, max_retries=0, http_client=http),
        deepl.Client,
    )
    assert_type(deepl.Client("k", max_response_bytes=None), deepl.Client)
    assert_type(
        deepl.AsyncClient(
            api_key="k", base_url=None, timeout=5.0, max_retries=1, http_client=ahttp
        ),
        deepl.AsyncClient,
    )


def deepl_sync(c: deepl.Client) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), deepl.Client)
    assert_type(c.get_usage(), UsageResponse)
    assert_type(c.get_usage().character_limit, int | Unset)
    assert_type(c.with_raw_response.get_usage(), APIResponse[UsageResponse])
    assert_type(c.balance(), Balance[UsageResponse])


async def deepl_async(c: deepl.AsyncClient) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), deepl.AsyncClient)
    assert_type(c.get_usage(), Coroutine[Any, Any, UsageResponse]).close()
    assert_type(await c.get_usage(), UsageResponse)
    assert_type(
        c.with_raw_response.get_usage(), Coroutine[Any, Any, APIResponse[UsageResponse]]
    ).close()
    assert_type(await c.with_raw_response.get_usage(), APIResponse[UsageResponse])
    assert_type(c.balance(), Coroutine[Any, Any, Balance[UsageResponse]]).close()
    assert_type(await c.balance(), Balance[UsageResponse])


# -- elevenlabs --------------------------------------------------------------------------

Subscription = ExtendedSubscriptionResponseModel


def elevenlabs_constructors(http: httpx.Client, ahttp: httpx.AsyncClient) -> None:
    assert_type(
        elevenlabs.Client(api_key="k", base_url=URL, timeout=5.0, max_retries=0, http_client=http),
        elevenlabs.Client,
    )
    assert_type(elevenlabs.Client(), elevenlabs.Client)
    assert_type(
        elevenlabs.AsyncClient(api_key="k", timeout=None, max_retries=1, http_client=ahttp),
        elevenlabs.AsyncClient,
    )


def elevenlabs_sync(c: elevenlabs.Client) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), elevenlabs.Client)
    assert_type(c.get_user_subscription(), Subscription)
    assert_type(c.get_user_subscription().character_limit, int)
    assert_type(c.with_raw_response.get_user_subscription(), APIResponse[Subscription])
    assert_type(c.balance(), Balance[Subscription])


async def elevenlabs_async(c: elevenlabs.AsyncClient) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), elevenlabs.AsyncClient)
    assert_type(c.get_user_subscription(), Coroutine[Any, Any, Subscription]).close()
    assert_type(await c.get_user_subscription(), Subscription)
    assert_type(
        c.with_raw_response.get_user_subscription(),
        Coroutine[Any, Any, APIResponse[Subscription]],
    ).close()
    assert_type(await c.with_raw_response.get_user_subscription(), APIResponse[Subscription])
    assert_type(c.balance(), Coroutine[Any, Any, Balance[Subscription]]).close()
    assert_type(await c.balance(), Balance[Subscription])


# -- openrouter --------------------------------------------------------------------------


def openrouter_constructors(http: httpx.Client, ahttp: httpx.AsyncClient) -> None:
    assert_type(
        openrouter.Client(api_key="k", base_url=URL, timeout=5.0, max_retries=0, http_client=http),
        openrouter.Client,
    )
    assert_type(
        openrouter.AsyncClient("k", base_url=URL, max_response_bytes=1024, http_client=ahttp),
        openrouter.AsyncClient,
    )


def openrouter_sync(c: openrouter.Client) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), openrouter.Client)
    assert_type(c.get_credits(), GetCreditsResponse200)
    assert_type(c.get_credits(http_referer="https://app.test"), GetCreditsResponse200)
    assert_type(c.get_credits().data.total_credits, float)
    assert_type(c.get_current_key(), GetCurrentKeyResponse200)
    raw = c.with_raw_response
    assert_type(raw.get_credits(), APIResponse[GetCreditsResponse200])
    assert_type(raw.get_current_key(), APIResponse[GetCurrentKeyResponse200])
    assert_type(c.balance(), Balance[GetCreditsResponse200])


async def openrouter_async(c: openrouter.AsyncClient) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), openrouter.AsyncClient)
    assert_type(c.get_credits(), Coroutine[Any, Any, GetCreditsResponse200]).close()
    assert_type(await c.get_credits(), GetCreditsResponse200)
    assert_type(await c.get_current_key(), GetCurrentKeyResponse200)
    raw = c.with_raw_response
    assert_type(raw.get_credits(), Coroutine[Any, Any, APIResponse[GetCreditsResponse200]]).close()
    assert_type(await raw.get_credits(), APIResponse[GetCreditsResponse200])
    assert_type(await raw.get_current_key(), APIResponse[GetCurrentKeyResponse200])
    assert_type(c.balance(), Coroutine[Any, Any, Balance[GetCreditsResponse200]]).close()
    assert_type(await c.balance(), Balance[GetCreditsResponse200])


# -- twilio ------------------------------------------------------------------------------
# Two credentials used together, positional: account SID and auth token.


def twilio_constructors(http: httpx.Client, ahttp: httpx.AsyncClient) -> None:
    assert_type(twilio.Client("AC" + "0" * 32, "token"), twilio.Client)
    assert_type(
        twilio.Client(
            account_sid="AC1",
            auth_token="t",
            base_url=URL,
            timeout=5.0,
            max_retries=0,
            http_client=http,
            max_response_bytes=None,
        ),
        twilio.Client,
    )
    assert_type(twilio.Client(), twilio.Client)
    assert_type(twilio.AsyncClient("AC1", "t", http_client=ahttp), twilio.AsyncClient)


def twilio_sync(c: twilio.Client) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), twilio.Client)
    assert_type(c.fetch_balance(), ApiV2010AccountBalance)
    assert_type(c.fetch_balance().balance, None | str | Unset)  # the exact decimal text
    assert_type(c.with_raw_response.fetch_balance(), APIResponse[ApiV2010AccountBalance])
    assert_type(c.balance(), Balance[ApiV2010AccountBalance])
    assert_type(c.balance().unit, str)


async def twilio_async(c: twilio.AsyncClient) -> None:
    assert_type(c.with_options(timeout=5.0, max_retries=1), twilio.AsyncClient)
    assert_type(c.fetch_balance(), Coroutine[Any, Any, ApiV2010AccountBalance]).close()
    assert_type(await c.fetch_balance(), ApiV2010AccountBalance)
    assert_type(
        c.with_raw_response.fetch_balance(),
        Coroutine[Any, Any, APIResponse[ApiV2010AccountBalance]],
    ).close()
    assert_type(await c.with_raw_response.fetch_balance(), APIResponse[ApiV2010AccountBalance])
    assert_type(c.balance(), Coroutine[Any, Any, Balance[ApiV2010AccountBalance]]).close()
    assert_type(await c.balance(), Balance[ApiV2010AccountBalance])


# -- across providers --------------------------------------------------------------------


def all_balances() -> None:
    assert_type(balances(), dict[str, Balance[object] | APIError])
    assert_type(balances(["flamel", "exorde"], timeout=5.0), dict[str, Balance[object] | APIError])
    assert_type(
        balances(timeout=5.0, deadline=20.0, max_response_bytes=None),
        dict[str, Balance[object] | APIError],
    )
    assert_type(creditwatch.balances(), dict[str, Balance[object] | APIError])
    result = balances()["flamel"]
    if isinstance(result, Balance):
        assert_type(result.remaining, float | None)
        assert_type(result.limit, float | None)
        assert_type(result.percent_left, float | None)
    else:
        assert_type(result, APIError)


async def all_balances_async() -> None:
    assert_type(abalances(), Coroutine[Any, Any, dict[str, Balance[object] | APIError]]).close()
    assert_type(await abalances(), dict[str, Balance[object] | APIError])
    assert_type(
        await creditwatch.abalances(["llmgenerator"], timeout=5.0),
        dict[str, Balance[object] | APIError],
    )


def balance_is_covariant(b: Balance[AuthUserDto]) -> Balance[object]:
    # A provider's Balance[Model] is a Balance[object], as balances() returns them.
    return b


def providers_as_attributes() -> None:
    # ``creditwatch.flamel`` without importing the subpackage (lazy at run time).
    assert_type(creditwatch.flamel.Client("k").get_my_info(), AuthUserDto)
    assert_type(creditwatch.llmgenerator.Client("k").balance(), Balance[Account])


def history_record(b: Balance[AuthUserDto]) -> None:
    # creditwatch.record: what balances() returns, or balances; the count recorded.
    assert_type(creditwatch.record(balances()), int)
    assert_type(creditwatch.record([b], db="history.sqlite3", account="client-a"), int)
    # HistoryError: a history file that cannot be used (a sqlite3.DatabaseError).
    try:
        creditwatch.record([b], db="history.sqlite3")
    except creditwatch.HistoryError as exc:
        assert_type(exc, creditwatch.HistoryError)
        assert isinstance(exc, sqlite3.DatabaseError)
