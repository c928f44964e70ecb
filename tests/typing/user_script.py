"""A user's program that calls every documented public call of creditwatch.

tests/test_ide.py checks it with pyright in strict mode and with mypy --strict, as an
IDE user's and a CI user's type checkers would (the tests never run it; its
`main()` makes real calls, for a person with keys). Results are pinned
with `assert_type` after ``await``, so both checkers must infer exactly the
documented types; nothing may be ``Any`` or unknown.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import assert_type

import creditwatch
import httpx
from creditwatch import easyslip, exorde, flamel, generect, llmgenerator
from creditwatch.easyslip.models import MeData
from creditwatch.exorde.models import ApiVersion, UserInfoResponse
from creditwatch.exorde.models import User as ExordeUser
from creditwatch.flamel.models import AuthUserDto
from creditwatch.generect.models import User as GenerectUser
from creditwatch.llmgenerator.models import CreditBalance, SubscriptionResponse

TIMEOUT = httpx.Timeout(10.0)


def report(balance: creditwatch.Balance[object]) -> str:
    assert_type(balance.provider, str)
    assert_type(balance.remaining, float | None)
    assert_type(balance.limit, float | None)
    assert_type(balance.unlimited, bool)
    assert_type(balance.plan, str | None)
    assert_type(balance.resets_at, datetime | None)
    assert_type(balance.expires_at, datetime | None)
    assert_type(balance.checked_at, datetime)
    assert_type(balance.percent_left, float | None)
    return f"{balance.provider}: {balance.remaining} of {balance.limit} {balance.unit}"


def explain(error: creditwatch.APIError) -> str:
    assert_type(error.provider, str)
    assert_type(error.message, str)
    if isinstance(error, creditwatch.RateLimitError):
        assert_type(error.retry_after, float | None)
    if isinstance(error, creditwatch.APIStatusError):
        assert_type(error.status_code, int)
        assert_type(error.code, str | None)
        assert_type(error.request_id, str | None)
        assert_type(error.body, str)
        assert_type(error.response, httpx.Response)
    if isinstance(error, creditwatch.APIResponseValidationError):
        assert_type(error.body, str)
    return str(error)


def sync_calls(http: httpx.Client) -> None:
    with flamel.Client("test-key", timeout=TIMEOUT, max_retries=1, http_client=http) as client:
        assert_type(client.base_url, str)
        assert_type(client.timeout, httpx.Timeout)
        assert_type(client.max_retries, int)
        assert_type(client.provider, str)
        assert_type(client.get_my_info(), AuthUserDto)
        raw = client.with_raw_response.get_my_info()
        assert_type(raw, creditwatch.APIResponse[AuthUserDto])
        assert_type(raw.parsed, AuthUserDto)
        assert_type(raw.status_code, int)
        assert_type(raw.headers, httpx.Headers)
        assert_type(raw.content, bytes)
        assert_type(raw.text, str)
        assert_type(raw.retries, int)
        assert_type(raw.http_response, httpx.Response)
        assert_type(client.balance(), creditwatch.Balance[AuthUserDto])
        quick = client.with_options(timeout=5.0, max_retries=0)
        assert_type(quick, flamel.Client)
        assert_type(quick.get_my_info(), AuthUserDto)
    with exorde.Client(base_url="https://api.exorde.io") as ex:
        assert_type(ex.get_user_info(), ExordeUser)
        assert_type(ex.get_user_info(x_exorde_api_version=ApiVersion.V1), ExordeUser)
        assert_type(ex.get_user_info_response(), UserInfoResponse)
        assert_type(ex.with_raw_response.get_user_info().parsed, ExordeUser)
        assert_type(
            ex.with_raw_response.get_user_info_response(),
            creditwatch.APIResponse[UserInfoResponse],
        )
        assert_type(ex.balance(), creditwatch.Balance[ExordeUser])
    with generect.Client() as gen:
        user = gen.get_user_me()
        assert_type(user, GenerectUser)
        assert_type(gen.with_raw_response.get_user_me(), creditwatch.APIResponse[GenerectUser])
        assert_type(gen.balance(), creditwatch.Balance[GenerectUser])
    with easyslip.Client() as slip:
        data = slip.get_me()
        assert_type(data, MeData)
        if not isinstance(data.max_quota, easyslip.Unset):
            print(data.max_quota)
        assert_type(slip.with_raw_response.get_me(), creditwatch.APIResponse[MeData])
        assert_type(slip.balance(), creditwatch.Balance[MeData])
    with llmgenerator.Client(access_token="test-token") as llm:
        assert_type(llm.uses_access_token, bool)
        assert_type(llm.get_current_subscription(), SubscriptionResponse)
        assert_type(llm.get_credit_balance(), CreditBalance)
        assert_type(
            llm.with_raw_response.get_credit_balance(), creditwatch.APIResponse[CreditBalance]
        )
        account = llm.balance().account
        assert_type(account, llmgenerator.Account)
        assert_type(account.subscription, SubscriptionResponse)
        assert_type(account.credits, CreditBalance)
    for name, result in creditwatch.balances(["flamel", "exorde"], timeout=5.0).items():
        assert_type(name, str)
        print(report(result) if isinstance(result, creditwatch.Balance) else explain(result))


async def async_calls(http: httpx.AsyncClient) -> None:
    async with flamel.AsyncClient(http_client=http) as client:
        assert_type(await client.get_my_info(), AuthUserDto)
        raw = await client.with_raw_response.get_my_info()
        assert_type(raw, creditwatch.APIResponse[AuthUserDto])
        assert_type(await client.balance(), creditwatch.Balance[AuthUserDto])
        assert_type(client.with_options(timeout=None), flamel.AsyncClient)
    async with exorde.AsyncClient() as ex:
        assert_type(await ex.get_user_info(), ExordeUser)
        assert_type(await ex.get_user_info_response(), UserInfoResponse)
        assert_type(
            await ex.with_raw_response.get_user_info_response(),
            creditwatch.APIResponse[UserInfoResponse],
        )
        assert_type(await ex.balance(), creditwatch.Balance[ExordeUser])
    async with generect.AsyncClient() as gen:
        assert_type(await gen.get_user_me(), GenerectUser)
        assert_type(await gen.balance(), creditwatch.Balance[GenerectUser])
    async with easyslip.AsyncClient() as slip:
        assert_type(await slip.get_me(), MeData)
        assert_type(await slip.with_raw_response.get_me(), creditwatch.APIResponse[MeData])
    async with llmgenerator.AsyncClient("test-key") as llm:
        assert_type(await llm.get_current_subscription(), SubscriptionResponse)
        assert_type(
            await llm.with_raw_response.get_current_subscription(),
            creditwatch.APIResponse[SubscriptionResponse],
        )
        assert_type(await llm.balance(), creditwatch.Balance[llmgenerator.Account])
    results = await creditwatch.abalances(timeout=5.0)
    assert_type(results, dict[str, creditwatch.Balance[object] | creditwatch.APIError])
    spare = llmgenerator.AsyncClient("test-key")
    await spare.aclose()


def main() -> None:
    with httpx.Client() as http:
        try:
            sync_calls(http)
        except creditwatch.MissingCredentialsError as exc:
            print(explain(exc))
        except (creditwatch.APIConnectionError, creditwatch.APITimeoutError) as exc:
            print(explain(exc))

    async def run() -> None:
        async with httpx.AsyncClient() as http:
            await async_calls(http)

    asyncio.run(run())
    print(creditwatch.__version__, creditwatch.PROVIDERS)


if __name__ == "__main__":
    main()
