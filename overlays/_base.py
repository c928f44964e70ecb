"""The machinery every provider client shares, written once: configuration, headers,
retries, redirects, error mapping and response parsing.

A provider contributes only a `Profile` (its quirks: auth headers, error body,
wrapper), compiled from its declaration (``specs/providers/<provider>.yaml``) into
``generated/<provider>/_profile.py`` with its balance mapping. Its public client
classes are generated from its spec (``generated/<provider>/client.py``): each method
builds its request with the generated ``_get_kwargs`` and hands it to a transport::

    Client.<method>()          generated: arguments -> _get_kwargs() -> request
      -> Transport.request      base URL + path, auth + User-Agent + provider headers
      -> send                   same-origin redirects only (credentials never leave)
      -> retry loop             connection errors, timeouts, 408/409/429/5xx
      -> process                status -> typed error; JSON -> profile hooks -> model

The transport is the client's one private attribute (``_transport``), so a client's
completion list in an IDE is its public surface.
"""

from __future__ import annotations

import email.utils
import importlib
import ipaddress
import json
import logging
import os
import platform
import random
import re
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
import httpx

from ._response import APIResponse
from ._types import FieldError, Unset

if TYPE_CHECKING:
    from ._balance import Balance
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    MissingCredentialsError,
    RateLimitError,
    status_error_class,
)

T = TypeVar("T")
H = TypeVar("H", httpx.Client, httpx.AsyncClient)

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
INITIAL_BACKOFF = 0.5  # seconds; doubles each retry, with up to 25 % jitter
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0  # a Retry-After longer than this is capped
MAX_REDIRECTS = 5
RETRYABLE_STATUSES = frozenset({408, 409, 429})
USER_AGENT = (
    f"creditwatch/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"
)

logger = logging.getLogger("creditwatch")

Parse = Callable[[Any], T]
"""Decoded JSON -> what a method returns (the generated ``from_dict``, or a generated
``_parse_<method>`` that picks a part of the body)."""


def _text(value: object) -> str | None:
    """A decoded field as text; None for an absent one (None, or `Unset`)."""
    return None if value is None or isinstance(value, Unset) else str(value)


@attrs.frozen
class ErrorInfo:
    """What a provider's error body says, decoded by its profile (fields may be given
    as the generated models hold them: numbers, ``Unset``)."""

    code: str | None = attrs.field(default=None, converter=_text)
    message: str | None = attrs.field(default=None, converter=_text)
    request_id: str | None = attrs.field(default=None, converter=_text)


@attrs.frozen(kw_only=True)
class Profile:
    """A provider's quirks: the only things that differ between providers, compiled
    from its declaration (``specs/providers/<provider>.yaml``) into
    ``creditwatch._generated.<provider>._profile``.

    Everything else (the operations, their parameters and models, the server URL,
    which credentials exist) comes from the provider's spec through the generator.
    """

    name: str
    """Module name, e.g. ``"flamel"``."""
    label: str
    """Display name, e.g. ``"Flamel"``."""
    auth_headers: Callable[[str], Mapping[str, str]]
    """Headers that carry the credential."""
    decode_error: Callable[[Any, int | None], ErrorInfo]
    """(JSON error body, status) -> ErrorInfo. May raise: the body then counts as
    undecodable."""
    balance: Callable[[Any], Balance[Any]]
    """``Client.balance()``: the provider's client -> its `Balance` (generated, typed)."""
    abalance: Callable[[Any], Awaitable[Balance[Any]]]
    """``AsyncClient.balance()``."""
    env_prefix: str = attrs.field()
    """Prefix of the provider's environment variables (``FLAMEL``)."""
    credentials: tuple[tuple[str, str], ...] = ()
    """(constructor argument, its environment variable), ``api_key`` first."""
    extra_headers: Mapping[str, str] = attrs.field(factory=dict)
    """Headers sent with every request (e.g. ``Accept``)."""
    servers: tuple[tuple[str, str, str], ...] = ()
    """(credential argument, suffix, server): a credential of that argument ending in
    that suffix uses that server (DeepL's ``:fx`` Free keys)."""
    body_status: Callable[[Any], int | None] | None = None
    """For providers whose body carries its own status (EasySlip): the error status a
    success-HTTP body reports, or None when the body is a success."""
    unwrap: Callable[[Any], Any] | None = None
    """A global response wrapper the spec does not describe, removed from every success
    body before it is parsed (Flamel's optional ``{"success": true, "data": ...}``)."""
    inspect: Callable[[Any], None] | None = None
    """Looks at every decoded success body before it is parsed (Exorde: warn about an
    API deprecation notice). May raise, like a parser."""

    @env_prefix.default
    def _env_prefix(self) -> str:
        return self.name.upper()


def load_profile(provider: str) -> Profile:
    """The profile of ``creditwatch.<provider>``, by name (for the CLI and account
    files; the generated clients import theirs)."""
    module = importlib.import_module(f"creditwatch._generated.{provider}._profile")
    profile: Profile = module.PROFILE
    return profile


def choose_server(profile: Profile, argument: str, credential: str, server: str) -> str:
    """The server a credential selects (`Profile.servers`), else the spec's."""
    for name, suffix, url in profile.servers:
        if name == argument and credential.endswith(suffix):
            return url
    return server


def env(name: str) -> str | None:
    """An environment variable's value, or None when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or None


def resolve_base_url(profile: Profile, base_url: str | None, server: str = "") -> str:
    """Argument, then ``<PREFIX>_BASE_URL``, then the spec's server; https, or http on
    loopback only (credentials never travel in clear text off this machine)."""
    url = (base_url or env(f"{profile.env_prefix}_BASE_URL") or server).rstrip("/")
    parsed = httpx.URL(url)
    if parsed.scheme == "https" and parsed.host:
        return url
    if parsed.scheme == "http" and _is_loopback(parsed.host):
        return url
    raise ValueError(
        f"{profile.label}: base_url must be https:// (plain http:// is allowed only for "
        f"localhost, 127.0.0.0/8 and ::1), got {url!r}"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_credential(
    profile: Profile, given: Sequence[tuple[str, str | None]]
) -> tuple[str, str]:
    """(argument name, credential) from the constructor's credential arguments, in the
    spec's order (``api_key`` first). An argument wins; with none given, the first
    ``<PREFIX>_<ARGUMENT>`` environment variable that is set; two arguments at once
    are refused."""
    passed = [(name, value) for name, value in given if value]
    if len(passed) > 1:
        names = " or ".join(name for name, _ in given)
        raise ValueError(f"{profile.label}: pass {names}, not both")
    if passed:
        return passed[0][0], str(passed[0][1])
    for name, _ in given:
        value = env(_variable(profile, name))
        if value is not None:
            return name, value
    first, *others = [name for name, _ in given]
    variables = [_variable(profile, name) for name in (first, *others)]
    extra_args = "".join(f" (or {name})" for name in others)
    extra_vars = "".join(f" (or {v})" for v in variables[1:])
    raise MissingCredentialsError(
        f"{profile.label}: no credential. Pass {first}{extra_args}=... or set the "
        f"{variables[0]}{extra_vars} environment variable.",
        provider=profile.name,
    )


def _variable(profile: Profile, argument: str) -> str:
    return dict(profile.credentials).get(argument) or f"{profile.env_prefix}_{argument.upper()}"


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Retry-After as seconds (``"2"``) or an HTTP date; None if absent or unreadable."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def warn_caller(message: str, category: type[Warning]) -> None:
    """`warnings.warn` attributed to the first frame outside creditwatch: the line of
    the user's code that made the call, however deep the package's own frames are."""
    level, frame = 2, sys._getframe(1)  # stacklevel 2: the frame that called warn_caller
    while frame is not None and frame.f_globals.get("__name__", "").startswith("creditwatch."):
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    warnings.warn(message, category, stacklevel=level)


def _describe_body(body: str, response: httpx.Response) -> str:
    """A short, human description of a body that is not the expected JSON."""
    stripped = body.strip()
    if not stripped:
        return "empty body"
    content_type = response.headers.get("content-type", "")
    if "html" in content_type or stripped[:1] == "<":
        title = re.search(r"<title[^>]*>(.*?)</title>", stripped, re.I | re.S)
        return "an HTML page" + (f" ({title.group(1).strip()[:80]})" if title else "")
    snippet = re.sub(r"\s+", " ", stripped)
    return repr(snippet[:120] + ("..." if len(snippet) > 120 else ""))


def _describe_parse_error(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"required field {exc.args[0]!r} is missing"
    if isinstance(exc, FieldError):  # from the generated models: its text names the path
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


_PARSE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError)


class Transport(Generic[H]):
    """A client's configuration and the half of its requests that does not depend on
    sync or async; ``H`` is the httpx client class."""

    profile: Profile
    credential_name: str
    """The constructor argument the credential came from (``"api_key"``...)."""
    base_url: str
    timeout: httpx.Timeout
    max_retries: int
    owns_http: bool
    """True when the connection pool is the transport's own (closed with it)."""
    http: H
    _origin: httpx.URL
    _headers: dict[str, str]
    _timeout: httpx.Timeout | None

    def __init__(
        self,
        profile: Profile,
        credentials: Sequence[tuple[str, str | None]],
        *,
        server: str,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        http_client: H | None,
    ) -> None:
        self.profile = profile
        self.credential_name, credential = resolve_credential(profile, credentials)
        server = choose_server(profile, self.credential_name, credential, server)
        self.base_url = resolve_base_url(profile, base_url, server)
        # None: no timeout, as in httpx
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.max_retries = max_retries
        self._origin = httpx.URL(self.base_url).copy_with(path="/", query=None, fragment=None)
        headers = {
            "User-Agent": USER_AGENT,
            **profile.extra_headers,
            **profile.auth_headers(credential),
        }
        self.owns_http = http_client is None
        if http_client is None:  # our own pool: the headers and timeout are its defaults
            self.http = self._new_http(headers, self.timeout)
            self._headers = {}
            self._timeout = None
        else:  # the caller's pool, used as is: ours go with each request
            self.http = http_client
            self._headers = headers
            self._timeout = self.timeout

    def _new_http(self, headers: dict[str, str], timeout: httpx.Timeout) -> H:
        """The connection pool of a client given no ``http_client``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        # The credential is never shown, not even in part.
        name, url = self.profile.name, self.base_url
        return f"<{type(self).__name__} {name} {url!r} credential=<redacted>>"

    # -- request --------------------------------------------------------------------

    def _build_request(self, kwargs: dict[str, Any]) -> httpx.Request:
        request = self.http.build_request(
            kwargs["method"],
            self.base_url + kwargs["url"],
            params=kwargs.get("params"),
            headers=self._headers or None,
            json=kwargs.get("json"),
            content=kwargs.get("content"),
            data=kwargs.get("data"),
            files=kwargs.get("files"),
            cookies=kwargs.get("cookies"),
            timeout=self._timeout or httpx.USE_CLIENT_DEFAULT,
        )
        # The operation's header parameters replace the pool's defaults of the same
        # name, as `build_request(headers=...)` would; set one by one, they cost 40 %
        # of what its merge does (it copies every default header first).
        for name, value in (kwargs.get("headers") or {}).items():
            request.headers[name] = value
        return request

    def _redirect(self, response: httpx.Response) -> httpx.Request | None:
        """The next request of a redirect to the base URL's own origin, else None.

        A redirect to any other origin is refused: following it would hand the
        credential to a host the user did not choose."""
        if not response.has_redirect_location or response.next_request is None:
            return None
        target = response.next_request.url
        if (target.scheme, target.host, target.port) != (
            self._origin.scheme,
            self._origin.host,
            self._origin.port,
        ):
            raise APIStatusError(
                f"{self.profile.label} {response.status_code}: redirected to another host "
                f"({target.scheme}://{target.host}{f':{target.port}' if target.port else ''}"
                f"{target.path}); not followed, so the credential stays with "
                f"{self._origin.host}",
                provider=self.profile.name,
                response=response,
                body=response.text,
            )
        return response.next_request

    # -- response -------------------------------------------------------------------

    def _process(
        self, response: httpx.Response, parse: Parse[T] | None, retries: int
    ) -> APIResponse[T]:
        """A final response -> the parsed result, or a typed error."""
        if not 200 <= response.status_code < 300:
            raise self._status_error(response, response.status_code)
        profile = self.profile
        if parse is None:  # the operation documents no body
            parsed: Any = None
        else:
            try:
                data = json.loads(response.content)
            except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
                raise self._validation_error(
                    response, f"the body is not JSON ({_describe_body(response.text, response)})"
                ) from None
            if profile.body_status is not None:
                status = _call_quietly(profile.body_status, data)
                if status is not None:
                    raise self._status_error(response, status)
            try:
                if profile.inspect is not None:
                    profile.inspect(data)
                if profile.unwrap is not None:
                    data = profile.unwrap(data)
                parsed = parse(data)
            except APIError:
                raise
            except _PARSE_ERRORS as exc:
                raise self._validation_error(
                    response, f"the body does not match the spec: {_describe_parse_error(exc)}"
                ) from None
        return APIResponse(
            parsed=parsed,
            status_code=response.status_code,
            headers=response.headers,
            content=response.content,
            retries=retries,
            http_response=response,
        )

    def _validation_error(
        self, response: httpx.Response, reason: str
    ) -> APIResponseValidationError:
        return APIResponseValidationError(
            f"{self.profile.label} {response.status_code}: {reason}",
            provider=self.profile.name,
            response=response,
            body=response.text,
        )

    def _status_error(self, response: httpx.Response, status: int) -> APIStatusError:
        profile = self.profile
        body = response.text
        info = ErrorInfo()
        try:
            info = profile.decode_error(json.loads(body), status)
        except Exception:
            logger.debug("%s: undecodable error body", profile.label)
        reason = info.message or info.code or _describe_body(body, response)
        phrase = httpx.codes.get_reason_phrase(status)
        message = f"{profile.label} {status}{f' {phrase}' if phrase else ''}: {reason}"
        if info.request_id:
            message += f" (request id {info.request_id})"
        cls = status_error_class(status)
        common: dict[str, Any] = {
            "provider": profile.name,
            "response": response,
            "body": body,
            "status_code": status,
            "code": info.code,
            "request_id": info.request_id,
        }
        if cls is RateLimitError:
            return RateLimitError(
                message, retry_after=parse_retry_after(response.headers), **common
            )
        return cls(message, **common)

    # -- retries --------------------------------------------------------------------

    def _retry_delay(self, error: APIError, retries: int) -> float | None:
        """Seconds to wait before retrying after `error`, or None not to retry."""
        if retries >= self.max_retries:
            return None
        if isinstance(error, APIStatusError):
            status = error.status_code
            if status not in RETRYABLE_STATUSES and status < 500:
                return None
            retry_after = parse_retry_after(error.response.headers)
            if retry_after is not None:
                return min(retry_after, MAX_RETRY_AFTER)
        elif not isinstance(error, APIConnectionError):
            return None
        backoff = min(INITIAL_BACKOFF * 2.0**retries, MAX_BACKOFF)
        return backoff * (1 - 0.25 * random.random())  # noqa: S311 - jitter, not crypto

    def _failed(
        self, request: httpx.Request, error: APIError | httpx.TransportError, retries: int
    ) -> float:
        """After a failed attempt: the delay before the next one, or raise the error."""
        if isinstance(error, httpx.TransportError):
            error = self._connection_error(error, request)
        delay = self._retry_delay(error, retries)
        if delay is None:
            raise error
        logger.info(
            "%s %s %s failed (%s: %s); retry %d of %d in %.2f s",
            self.profile.label,
            request.method,
            request.url.path,
            type(error).__name__,
            error,
            retries + 1,
            self.max_retries,
            delay,
        )
        return delay

    def _connection_error(
        self, exc: httpx.TransportError, request: httpx.Request
    ) -> APIConnectionError:
        label = self.profile.label
        where = f"{request.method} {request.url.copy_with(query=None, fragment=None)}"
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"{label}: {where} timed out ({type(exc).__name__})", provider=self.profile.name
            )
        return APIConnectionError(
            f"{label}: {where} failed: {type(exc).__name__}: {exc}", provider=self.profile.name
        )


def _call_quietly(func: Callable[[Any], int | None], data: Any) -> int | None:
    try:
        return func(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


class SyncTransport(Transport[httpx.Client]):
    """Sends a generated client's requests with an ``httpx.Client``."""

    def _new_http(self, headers: dict[str, str], timeout: httpx.Timeout) -> httpx.Client:
        return httpx.Client(headers=headers, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool if it is the transport's own."""
        if self.owns_http:
            self.http.close()

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self.http.send(request, follow_redirects=False)
        if not 300 <= response.status_code < 400:  # the common case: no redirect to check
            return response
        for _ in range(MAX_REDIRECTS):
            next_request = self._redirect(response)
            if next_request is None:
                return response
            response.close()
            response = self.http.send(next_request, follow_redirects=False)
        return response

    def request(self, kwargs: dict[str, Any], parse: Parse[T] | None) -> APIResponse[T]:
        """Send one operation's request (the generated ``_get_kwargs()``); retry what
        is worth retrying; return the parsed answer or raise a typed error."""
        request = self._build_request(kwargs)
        retries = 0
        while True:
            error: APIError | httpx.TransportError
            try:
                response = self._send(request)
            except httpx.TransportError as exc:
                error = exc
            else:
                try:
                    return self._process(response, parse, retries)
                except APIStatusError as exc:
                    error = exc
            time.sleep(self._failed(request, error, retries))
            retries += 1


class AsyncTransport(Transport[httpx.AsyncClient]):
    """Sends a generated client's requests with an ``httpx.AsyncClient``."""

    def _new_http(self, headers: dict[str, str], timeout: httpx.Timeout) -> httpx.AsyncClient:
        return httpx.AsyncClient(headers=headers, timeout=timeout)

    async def aclose(self) -> None:
        """Close the connection pool if it is the transport's own."""
        if self.owns_http:
            await self.http.aclose()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self.http.send(request, follow_redirects=False)
        if not 300 <= response.status_code < 400:  # the common case: no redirect to check
            return response
        for _ in range(MAX_REDIRECTS):
            next_request = self._redirect(response)
            if next_request is None:
                return response
            await response.aclose()
            response = await self.http.send(next_request, follow_redirects=False)
        return response

    async def request(self, kwargs: dict[str, Any], parse: Parse[T] | None) -> APIResponse[T]:
        """`SyncTransport.request`, awaited."""
        import asyncio  # noqa: PLC0415 - only async users pay for it

        request = self._build_request(kwargs)
        retries = 0
        while True:
            error: APIError | httpx.TransportError
            try:
                response = await self._send(request)
            except httpx.TransportError as exc:
                error = exc
            else:
                try:
                    return self._process(response, parse, retries)
                except APIStatusError as exc:
                    error = exc
            await asyncio.sleep(self._failed(request, error, retries))
            retries += 1
