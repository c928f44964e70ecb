"""The optional aiohttp transport (``pip install "creditwatch[aiohttp]"``): an
``httpx.AsyncClient`` whose connections are aiohttp's, through ``httpx-aiohttp``.

httpx's own async pool (httpcore) spends more CPU per request the more requests are
in flight (encode/httpx#3215): at 100 in flight a check costs ~14 ms of CPU, and
2,000 accounts take 28 s where 2 s would do. aiohttp's pool does not. The public API
stays httpx: `DefaultAioHttpClient` *is* an ``httpx.AsyncClient``, passed as
``http_client=`` to any ``AsyncClient``; the shared pools of `abalances`,
``balances --accounts``, ``serve`` and ``balances --record`` use it by themselves
when the extra is installed (`shared_pool`).

What our transport adds to httpx-aiohttp's ``AiohttpTransport``:

* its error mapping is corrected: httpx-aiohttp reports a refused connection, a
  server that hangs up and a reset as ``httpx.ConnectTimeout`` (so as a timeout), and
  lets aiohttp's own ``ClientResponseError`` (a malformed response, a header line over
  8 KiB) escape; here each becomes the httpx exception httpx's transport raises for it;
* aiohttp does not retry: by default it resends an idempotent request once when the
  server hangs up or resets, so ``max_retries=1`` would make four requests, not two,
  and the backoff between them would be skipped;
* aiohttp keeps no cookies (``DummyCookieJar``): a pool shared by many accounts must
  not carry one account's cookies into another's requests;
* aiohttp never follows a redirect (``allow_redirects=False``, from httpx-aiohttp) and
  never decompresses (``auto_decompress=False``): httpx does both, as on its own
  transport, so the client's same-origin redirect rule and any limit on the
  decompressed size apply unchanged.

Nothing here imports aiohttp until a transport is made: ``import creditwatch`` and
the default install never need it.
"""

from __future__ import annotations

import functools
import http.cookiejar
import ssl
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    import aiohttp

__all__ = ["EXTRA_HINT", "DefaultAioHttpClient", "aiohttp_available", "shared_pool"]

EXTRA_HINT = 'pip install "creditwatch[aiohttp]"'
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
"""httpx's own defaults."""


class AiohttpMissingError(ImportError):
    """`DefaultAioHttpClient` needs the ``aiohttp`` extra."""


@functools.cache
def aiohttp_available() -> bool:
    """True when the ``aiohttp`` extra (httpx-aiohttp and aiohttp) can be imported."""
    try:
        import aiohttp  # noqa: F401, PLC0415
        import httpx_aiohttp  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def _require() -> None:
    if not aiohttp_available():
        raise AiohttpMissingError(
            "creditwatch.DefaultAioHttpClient needs the aiohttp extra: " + EXTRA_HINT,
            name="httpx_aiohttp",
        )


class DefaultAioHttpClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` over aiohttp's connection pool; pass it as
    ``http_client=`` to any provider's ``AsyncClient`` (it is not closed with them:
    close it, or use ``async with``, when done). It takes httpx.AsyncClient's
    arguments; ``limits.max_connections`` bounds the connections (and so the
    requests in flight); proxies (``proxy=``, or the environment's) go through aiohttp
    too. HTTP/2 and the ``write`` timeout are not supported by aiohttp.

    Needs ``pip install "creditwatch[aiohttp]"``; without it, constructing one raises
    ImportError naming the extra. Like aiohttp's ``ClientSession``, one client belongs
    to the event loop that first uses it."""

    # httpx builds its transports in these two hooks; httpx-aiohttp's own client
    # overrides them the same way. Called by keyword (httpx 0.27 and 0.28).
    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        transport: httpx.AsyncBaseTransport | None = kwargs.get("transport")
        if transport is not None:
            return transport
        _require()
        return aiohttp_transport(
            limits=kwargs.get("limits", DEFAULT_LIMITS),
            verify=kwargs.get("verify", True),
            cert=kwargs.get("cert"),
            trust_env=kwargs.get("trust_env", True),
        )

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        _require()
        proxy: httpx.Proxy = kwargs["proxy"] if "proxy" in kwargs else args[0]
        return aiohttp_transport(
            limits=kwargs.get("limits", DEFAULT_LIMITS),
            verify=kwargs.get("verify", True),
            cert=kwargs.get("cert"),
            trust_env=kwargs.get("trust_env", True),
            proxy=proxy,
        )


def shared_pool(
    concurrency: int | None = None, *, trust_env: bool = True, aiohttp: bool | None = None
) -> httpx.AsyncClient:
    """The connection pool that many checks share: at most ``concurrency``
    connections (httpx's default 100 when None). Over aiohttp when the extra is
    installed (``aiohttp=None``), else httpx's own; ``aiohttp=True/False`` chooses.
    It keeps no cookies."""
    limits = (
        DEFAULT_LIMITS
        if concurrency is None
        else httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    )
    use_aiohttp = aiohttp_available() if aiohttp is None else aiohttp
    # A pool shared by many accounts keeps no cookie: one account's must not travel
    # with another's requests.
    if use_aiohttp:
        return _SharedAioHttpPool(limits=limits, trust_env=trust_env)
    return _SharedPool(limits=limits, trust_env=trust_env)


class _NoJar(http.cookiejar.CookieJar):
    """A cookie jar that stores nothing, whatever puts a cookie in it."""

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None


class _NoCookies(httpx.Cookies):
    """Cookies that stay empty: a ``Set-Cookie`` is not even parsed (httpx would
    build two ``urllib`` adapters per response to offer it to the jar), and a cookie
    set by hand is dropped by the jar."""

    def __init__(self) -> None:
        super().__init__(_NoJar())

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _SharedPool(httpx.AsyncClient):
    """`shared_pool` on httpx's transport: an ``httpx.AsyncClient`` without cookies."""

    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise AttributeError("a shared pool keeps no cookies")


class _SharedAioHttpPool(DefaultAioHttpClient):
    """`shared_pool` over aiohttp: a `DefaultAioHttpClient` without cookies."""

    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise AttributeError("a shared pool keeps no cookies")


def transport_name(http: httpx.AsyncClient) -> str:
    """``"aiohttp"`` or ``"httpx"``: which transport a pool sends with."""
    return "aiohttp" if isinstance(http, DefaultAioHttpClient) else "httpx"


# -- the transport ----------------------------------------------------------------------


def aiohttp_transport(
    *,
    limits: httpx.Limits = DEFAULT_LIMITS,
    verify: ssl.SSLContext | str | bool = True,
    cert: Any = None,
    trust_env: bool = True,
    proxy: httpx.Proxy | None = None,
) -> httpx.AsyncBaseTransport:
    """httpx-aiohttp's transport with creditwatch's corrections (see the module)."""
    _require()
    transport: httpx.AsyncBaseTransport = _transport_class()(
        verify=verify, cert=cert, trust_env=trust_env, limits=limits, proxy=proxy
    )
    return transport


@functools.cache
def _transport_class() -> Callable[..., httpx.AsyncBaseTransport]:
    import aiohttp  # noqa: PLC0415 - the extra, imported when first used
    from httpx_aiohttp import AiohttpTransport  # noqa: PLC0415

    class Transport(AiohttpTransport):
        def get_client(self) -> aiohttp.ClientSession:
            # Called on the first request, inside the event loop that will use it.
            connector = aiohttp.TCPConnector(
                limit=self.limits.max_connections or 0,
                keepalive_timeout=self.limits.keepalive_expiry,
                ssl=self.ssl_context,
                local_addr=(self.local_address, 0) if self.local_address else None,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # no cookies across accounts
                auto_decompress=False,  # httpx decodes (and counts) the body
                trust_env=False,  # proxies come from httpx's configuration
            )
            # aiohttp resends a GET once by itself when the connection drops: retries
            # are the client's (max_retries, backoff), counted as on httpx.
            session._retry_connection = False
            return session

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            try:
                response = await super().handle_async_request(request)
            except Exception as exc:
                mapped = _mapped(exc, request)
                if mapped is None:
                    raise
                raise mapped from _original(exc)
            response.stream = _Stream(response.stream, request)
            return response

    return Transport


class _Stream(httpx.AsyncByteStream):
    """A response body whose read errors are mapped like the request's."""

    def __init__(self, inner: Any, request: httpx.Request) -> None:
        self._inner: httpx.AsyncByteStream = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except Exception as exc:
            mapped = _mapped(exc, self._request)
            if mapped is None:
                raise
            raise mapped from _original(exc)

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        except Exception as exc:
            mapped = _mapped(exc, self._request)
            if mapped is None:
                raise
            raise mapped from _original(exc)


def _original(exc: BaseException) -> BaseException:
    """The aiohttp exception that httpx-aiohttp's mapping wrapped, or ``exc``."""
    cause = exc.__cause__
    if isinstance(exc, httpx.TransportError) and cause is not None:
        return cause
    return exc


def _mapped(exc: BaseException, request: httpx.Request) -> httpx.TransportError | None:
    """The httpx exception that httpx's own transport raises for what ``exc`` reports;
    None to leave ``exc`` as it is (not a network failure)."""
    import aiohttp  # noqa: PLC0415

    original = _original(exc)
    message = str(original) or type(original).__name__
    kind: type[httpx.TransportError]
    if isinstance(original, aiohttp.ConnectionTimeoutError):  # connect, or a pool slot
        kind = httpx.ConnectTimeout
    elif isinstance(original, TimeoutError):  # SocketTimeoutError, ServerTimeoutError
        kind = httpx.ReadTimeout
    elif isinstance(original, aiohttp.ClientProxyConnectionError | aiohttp.ClientHttpProxyError):
        kind = httpx.ProxyError
    elif isinstance(original, aiohttp.ClientConnectorError):  # refused, DNS, TLS
        kind = httpx.ConnectError
    elif isinstance(original, aiohttp.InvalidURL):
        kind = httpx.UnsupportedProtocol
    elif isinstance(
        original,
        aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError,
    ):
        kind = httpx.RemoteProtocolError  # hung up, a short body, not HTTP
    elif isinstance(original, aiohttp.ClientConnectionError | OSError):  # a reset
        kind = httpx.ReadError
    elif isinstance(original, aiohttp.ClientError):
        kind = httpx.TransportError
    else:
        return None
    return kind(message, request=request)
