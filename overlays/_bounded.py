"""A sync attempt bounded as a whole, from connect to the last byte (issue #17).

httpx's timeouts apply to each network operation, so a server that sends one byte a
second never trips a 3 s read timeout. Async clients run each attempt under
``asyncio.timeout``; a sync client cannot interrupt a blocking read, so instead its
own connection pool gets a network backend (httpcore's public ``NetworkBackend`` API)
whose every connect, TLS handshake, read and write waits at most the time left before
the attempt's deadline. The deadline is `ATTEMPT_DEADLINE`, set by
``SyncTransport.request`` around each attempt; the backend reads it in the thread
doing the I/O (a sync httpcore pool does its I/O in the caller's thread), so one pool
shared by many threads bounds each thread's attempt by its own deadline. Outside an
attempt (no deadline set) every call passes through unchanged.

When the time left runs out, the operation raises httpcore's own timeout
(``ReadTimeout``...), with a text naming the budget; httpx maps it to its
``httpx.ReadTimeout``..., which the transport retries and reports as
`creditwatch.APITimeoutError`, as it does any timeout.

A caller's ``http_client`` is used as it is (its backend is not ours to change); there
the transport checks the deadline between body chunks only.

Imported on the first sync client, not by ``import creditwatch`` (httpcore loads
with the first ``httpx.Client`` anyway).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import httpcore
import httpx

from ._base import ATTEMPT_DEADLINE

R = TypeVar("R")


def _overdue(error: type[httpcore.TimeoutException], budget: float) -> httpcore.TimeoutException:
    return error(f"the attempt took longer than its {budget:g} s budget")


def _within(
    operation: Callable[[float | None], R],
    timeout: float | None,
    error: type[httpcore.TimeoutException],
) -> R:
    """``operation(timeout)``, its timeout capped at the time left in the attempt."""
    bound = ATTEMPT_DEADLINE.get()
    if bound is None:  # not inside an attempt: as httpcore would
        return operation(timeout)
    deadline, budget = bound
    left = deadline - time.monotonic()
    if timeout is not None and timeout <= left:  # the usual case: the budget is far
        return operation(timeout)
    if left <= 0:  # (a timeout of 0 would make the socket non-blocking, not time out)
        raise _overdue(error, budget)
    try:
        return operation(left)
    except error as exc:  # our cap ran out, not the caller's timeout: say so
        raise _overdue(error, budget) from exc


class BoundedStream(httpcore.NetworkStream):
    """A network stream whose reads, writes and TLS handshake end by the deadline."""

    __slots__ = ("stream",)

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self.stream = stream

    # read and write: `_within` written out (no closure: they run on every call)
    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bound = ATTEMPT_DEADLINE.get()
        if bound is None:
            return self.stream.read(max_bytes, timeout)
        left = bound[0] - time.monotonic()
        if timeout is not None and timeout <= left:
            return self.stream.read(max_bytes, timeout)
        if left <= 0:
            raise _overdue(httpcore.ReadTimeout, bound[1])
        try:
            return self.stream.read(max_bytes, left)
        except httpcore.ReadTimeout as exc:
            raise _overdue(httpcore.ReadTimeout, bound[1]) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        bound = ATTEMPT_DEADLINE.get()
        if bound is None:
            return self.stream.write(buffer, timeout)
        left = bound[0] - time.monotonic()
        if timeout is not None and timeout <= left:
            return self.stream.write(buffer, timeout)
        if left <= 0:
            raise _overdue(httpcore.WriteTimeout, bound[1])
        try:
            return self.stream.write(buffer, left)
        except httpcore.WriteTimeout as exc:
            raise _overdue(httpcore.WriteTimeout, bound[1]) from exc

    def close(self) -> None:
        self.stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = _within(
            lambda t: self.stream.start_tls(ssl_context, server_hostname, t),
            timeout,
            httpcore.ConnectTimeout,
        )
        return BoundedStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class BoundedBackend(httpcore.NetworkBackend):
    """Wraps a backend (httpcore's default one) so its streams are `BoundedStream`."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self.backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = _within(
            lambda t: self.backend.connect_tcp(host, port, t, local_address, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return BoundedStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = _within(
            lambda t: self.backend.connect_unix_socket(path, t, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return BoundedStream(stream)

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


def bound_pools(client: httpx.Client) -> int:
    """Give every httpcore pool of ``client`` (its default transport and the proxy
    transports httpx mounted from the environment) a `BoundedBackend`; returns how
    many it changed.

    httpx (0.27, 0.28) has no public way to choose an ``HTTPTransport``'s network
    backend, and building our own ``HTTPTransport`` would turn off the proxies httpx
    takes from the environment. So this is the one place that reads private
    attributes: ``Client._transport``, ``Client._mounts``, ``HTTPTransport._pool`` and
    ``ConnectionPool._network_backend`` (all pools, proxies included, create their
    connections with it). When httpx changes them this returns 0 and the attempt is
    bounded between body chunks only, as for a caller's client;
    tests/test_hostile.py::test_own_pools_have_the_bounded_backend fails loudly then.
    """
    transports: list[object] = [getattr(client, "_transport", None)]
    transports += list(getattr(client, "_mounts", {}).values())
    changed = 0
    for transport in transports:
        if not isinstance(transport, httpx.HTTPTransport):
            continue
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, BoundedBackend):
            pool._network_backend = BoundedBackend(backend)  # type: ignore[union-attr]
            changed += 1
    return changed
