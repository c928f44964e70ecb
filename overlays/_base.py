"""What every provider client shares: configuration, headers, retries, redirects,
error mapping and response parsing. Written once; a provider module describes only
its quirks (a `Profile`) and its operations (`Operation`).

The request path, sync and async alike::

    Operation.request()        generated `_get_kwargs()`: method, path, headers
      -> build_request          base URL + path, auth + User-Agent + provider headers
      -> send                   same-origin redirects only (credentials never leave)
      -> retry loop             connection errors, timeouts, 408/409/429/5xx
      -> process                status -> typed error; JSON -> Operation.parse -> model
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import os
import platform
import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any, ClassVar, Generic, Self, TypeVar

import attrs
import httpx

from ._response import APIResponse
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


@attrs.frozen
class ErrorInfo:
    """What a provider's error body says, decoded by its profile."""

    code: str | None = None
    message: str | None = None
    request_id: str | None = None


@attrs.frozen(kw_only=True)
class Profile:
    """A provider's quirks: the only things that differ between providers."""

    name: str
    """Module name, e.g. ``"flamel"``."""
    label: str
    """Display name, e.g. ``"Flamel"``."""
    base_url: str
    """The spec's server URL."""
    auth_headers: Callable[[str], Mapping[str, str]]
    """Headers that carry the credential."""
    decode_error: Callable[[Any], ErrorInfo]
    """JSON error body -> ErrorInfo. May raise: the body then counts as undecodable."""
    extra_headers: Mapping[str, str] = attrs.field(factory=dict)
    body_status: Callable[[Any], int | None] | None = None
    """For providers whose body carries its own status (EasySlip): the error status a
    success-HTTP body reports, or None when the body is a success."""

    @property
    def env_prefix(self) -> str:
        return self.name.upper()


@attrs.frozen
class Operation(Generic[T]):
    """One API operation: the generated request builder and the parser of its body."""

    request: Callable[[], dict[str, Any]]
    """The generated endpoint module's ``_get_kwargs`` (bound with its arguments)."""
    parse: Callable[[Any], T]
    """Decoded JSON -> model: the envelope unwrapped, then the generated ``from_dict``."""


def env(name: str) -> str | None:
    """An environment variable's value, or None when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or None


def resolve_base_url(profile: Profile, base_url: str | None) -> str:
    """Argument, then ``<PREFIX>_BASE_URL``, then the spec's server; https, or http on
    loopback only (credentials never travel in clear text off this machine)."""
    url = (base_url or env(f"{profile.env_prefix}_BASE_URL") or profile.base_url).rstrip("/")
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


def resolve_credential(profile: Profile, value: str | None, argument: str, env_var: str) -> str:
    credential = value or env(env_var)
    if credential is None:
        raise MissingCredentialsError(
            f"{profile.label}: no credential. Pass {argument}=... or set the {env_var} "
            "environment variable.",
            provider=profile.name,
        )
    return credential


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


class BaseClient:
    """Configuration and the transport-independent half of every client."""

    _profile: ClassVar[Profile]

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        profile = self._profile
        self._credential = self._resolve_credential(api_key)
        self.base_url = resolve_base_url(profile, base_url)
        # None: no timeout, as in httpx
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.max_retries = max_retries
        self._origin = httpx.URL(self.base_url).copy_with(path="/", query=None, fragment=None)
        self._headers = {
            "User-Agent": USER_AGENT,
            **profile.extra_headers,
            **profile.auth_headers(self._credential),
        }

    def _resolve_credential(self, api_key: str | None) -> str:
        profile = self._profile
        return resolve_credential(profile, api_key, "api_key", f"{profile.env_prefix}_API_KEY")

    @property
    def provider(self) -> str:
        return self._profile.name

    def __repr__(self) -> str:
        # The credential is never shown, not even in part.
        return (
            f"<{type(self).__module__}.{type(self).__qualname__} base_url={self.base_url!r} "
            "credential=<redacted>>"
        )

    # -- request --------------------------------------------------------------------

    def _build_request(
        self, http: httpx.Client | httpx.AsyncClient, op: Operation[Any]
    ) -> httpx.Request:
        kwargs = op.request()
        headers = {**self._headers, **kwargs.get("headers", {})}
        return http.build_request(
            kwargs["method"],
            self.base_url + kwargs["url"],
            params=kwargs.get("params"),
            headers=headers,
            timeout=self.timeout,
        )

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
                f"{self._profile.label} {response.status_code}: redirected to another host "
                f"({target.scheme}://{target.host}{f':{target.port}' if target.port else ''}"
                f"{target.path}); not followed, so the credential stays with "
                f"{self._origin.host}",
                provider=self._profile.name,
                response=response,
                body=response.text,
            )
        return response.next_request

    # -- response -------------------------------------------------------------------

    def _process(self, op: Operation[T], response: httpx.Response, retries: int) -> APIResponse[T]:
        """A final response -> the parsed result, or a typed error."""
        profile = self._profile
        body = response.text
        if not response.is_success:
            raise self._status_error(response, body, response.status_code)
        try:
            data = json.loads(response.content)
        except ValueError:
            raise APIResponseValidationError(
                f"{profile.label} {response.status_code}: the body is not JSON "
                f"({_describe_body(body, response)})",
                provider=profile.name,
                response=response,
                body=body,
            ) from None
        if profile.body_status is not None:
            status = _call_quietly(profile.body_status, data)
            if status is not None:
                raise self._status_error(response, body, status)
        try:
            parsed = op.parse(data)
        except APIError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise APIResponseValidationError(
                f"{profile.label} {response.status_code}: the body does not match the "
                f"spec: {_describe_parse_error(exc)}",
                provider=profile.name,
                response=response,
                body=body,
            ) from None
        return APIResponse(
            parsed=parsed,
            status_code=response.status_code,
            headers=response.headers,
            content=response.content,
            retries=retries,
            http_response=response,
        )

    def _status_error(self, response: httpx.Response, body: str, status: int) -> APIStatusError:
        profile = self._profile
        info = ErrorInfo()
        try:
            info = profile.decode_error(json.loads(body))
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

    def _log_retry(
        self, request: httpx.Request, error: APIError, delay: float, retries: int
    ) -> None:
        logger.info(
            "%s %s %s failed (%s: %s); retry %d of %d in %.2f s",
            self._profile.label,
            request.method,
            request.url.path,
            type(error).__name__,
            error,
            retries + 1,
            self.max_retries,
            delay,
        )

    def _connection_error(
        self, exc: httpx.TransportError, request: httpx.Request
    ) -> APIConnectionError:
        label = self._profile.label
        where = f"{request.method} {request.url.copy_with(query=None, fragment=None)}"
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"{label}: {where} timed out ({type(exc).__name__})", provider=self._profile.name
            )
        return APIConnectionError(
            f"{label}: {where} failed: {type(exc).__name__}: {exc}", provider=self._profile.name
        )


def _call_quietly(func: Callable[[Any], int | None], data: Any) -> int | None:
    try:
        return func(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _describe_parse_error(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"required field {exc.args[0]!r} is missing"
    if hasattr(exc, "field_path"):  # the generated models' FieldError: its text names the path
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class SyncAPIClient(BaseClient):
    """Base of every provider's ``Client``."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()

    def close(self) -> None:
        """Close the connection pool (not one passed in as ``http_client``)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self._http.send(request, follow_redirects=False)
        for _ in range(MAX_REDIRECTS):
            next_request = self._redirect(response)
            if next_request is None:
                return response
            response.close()
            response = self._http.send(next_request, follow_redirects=False)
        return response

    def _request(self, op: Operation[T]) -> APIResponse[T]:
        request = self._build_request(self._http, op)
        retries = 0
        while True:
            error: APIError
            try:
                response = self._send(request)
            except httpx.TransportError as exc:
                error = self._connection_error(exc, request)
            else:
                try:
                    return self._process(op, response, retries)
                except APIStatusError as exc:
                    error = exc
            delay = self._retry_delay(error, retries)
            if delay is None:
                raise error
            self._log_retry(request, error, delay, retries)
            time.sleep(delay)
            retries += 1


class AsyncAPIClient(BaseClient):
    """Base of every provider's ``AsyncClient``."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()

    async def aclose(self) -> None:
        """Close the connection pool (not one passed in as ``http_client``)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._http.send(request, follow_redirects=False)
        for _ in range(MAX_REDIRECTS):
            next_request = self._redirect(response)
            if next_request is None:
                return response
            await response.aclose()
            response = await self._http.send(next_request, follow_redirects=False)
        return response

    async def _request(self, op: Operation[T]) -> APIResponse[T]:
        import asyncio  # noqa: PLC0415 - only async users pay for it

        request = self._build_request(self._http, op)
        retries = 0
        while True:
            error: APIError
            try:
                response = await self._send(request)
            except httpx.TransportError as exc:
                error = self._connection_error(exc, request)
            else:
                try:
                    return self._process(op, response, retries)
                except APIStatusError as exc:
                    error = exc
            delay = self._retry_delay(error, retries)
            if delay is None:
                raise error
            self._log_retry(request, error, delay, retries)
            await asyncio.sleep(delay)
            retries += 1
