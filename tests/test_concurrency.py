"""Clients are safe to share (issue #12): one ``Client`` used from 32 threads for
2,000 calls, one ``AsyncClient`` from 500 concurrent tasks, against a loopback server.

The server numbers its answers (``userId`` = 1, 2, 3...) and each call asks for the
raw response, so every result can be accounted for: no two calls got the same
answer (nothing mixed up or delivered twice), every answer the server sent was
received unless the client retried (a dropped keep-alive connection is retried, and
then counted in ``.retries``), and no call raised. The server also counts requests in
flight: never more than httpx's pool allows (``max_connections``, 100 by default, or
the limit of an ``http_client`` passed in).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import creditwatch
import httpx
import pytest
from creditwatch.flamel.models import AuthUserDto

from _cases import CASES
from _faults import FaultServer, RecordedRequest, Reply, json_reply
from conftest import FAKE_KEY

DEFAULT_POOL = 100  # httpx clients' default max_connections (httpx.Client(limits=...))


class NumberingServer:
    """Answers the documented Flamel account with the next userId, 1 ms late, and
    records the most requests it had in flight at once."""

    def __init__(self, server: FaultServer) -> None:
        self.server = server
        self.most_in_flight = 0
        self._in_flight = 0
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._body = CASES["flamel"].example()
        server.script(self._answer)

    def _answer(self, _: RecordedRequest) -> Reply:
        with self._lock:
            number = next(self._counter)
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        time.sleep(0.001)
        with self._lock:
            self._in_flight -= 1
        return json_reply({**self._body, "userId": number})

    def check(self, results: list[creditwatch.APIResponse[AuthUserDto]], calls: int) -> None:
        sent = len(self.server.requests)
        numbers = [r.parsed.user_id for r in results]
        assert len(results) == calls
        assert len(set(numbers)) == calls, "two calls got the same answer"
        assert set(numbers) <= set(range(1, sent + 1))
        assert sum(r.retries for r in results) == sent - calls  # every answer accounted for
        assert all(r.status_code == 200 for r in results)


@pytest.fixture
def numbering() -> Iterator[NumberingServer]:
    with FaultServer() as server:
        yield NumberingServer(server)


@pytest.mark.parametrize("limit", [None, 8])
def test_one_client_shared_by_32_threads(numbering: NumberingServer, limit: int | None) -> None:
    calls = 2000
    http = None if limit is None else httpx.Client(limits=httpx.Limits(max_connections=limit))
    base_url = numbering.server.base_url
    with (
        creditwatch.flamel.Client(FAKE_KEY, base_url=base_url, http_client=http) as client,
        ThreadPoolExecutor(max_workers=32) as pool,
    ):
        results = list(pool.map(lambda _: client.with_raw_response.get_my_info(), range(calls)))
    if http is not None:
        http.close()
    numbering.check(results, calls)
    assert 1 < numbering.most_in_flight <= (limit or 32)


async def test_one_async_client_shared_by_500_tasks(numbering: NumberingServer) -> None:
    tasks = 500
    base_url = numbering.server.base_url
    async with creditwatch.flamel.AsyncClient(FAKE_KEY, base_url=base_url) as client:
        results = await asyncio.gather(
            *(client.with_raw_response.get_my_info() for _ in range(tasks))
        )
    numbering.check(list(results), tasks)
    assert 1 < numbering.most_in_flight <= DEFAULT_POOL
