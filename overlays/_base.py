"""The machinery every provider client shares, written once: configuration, headers,
retries, redirects, error mapping and response parsing.

A provider contributes only a `Profile` (its quirks: auth headers, error body,
wrapper), compiled from its declaration into ``creditwatch._generated.<provider>._profile``
with its balance mapping. Its public client
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

import base64
import contextvars
import copy as _copy
import email.utils
import functools
import importlib
import ipaddress
import json
import logging
import math
import os
import platform
import random
import re
import sys
import time
import urllib.parse
import warnings
import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

import attrs
import httpx

from ._response import APIResponse
from ._types import FieldError, Unset
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    InvalidCredentialsError,
    MissingCredentialsError,
    RateLimitError,
    ResponseTooLargeError,
    status_error_class,
)

if TYPE_CHECKING:
    from types import EllipsisType

    from ._balance import Balance

T = TypeVar("T")
H = TypeVar("H", httpx.Client, httpx.AsyncClient)

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 1 << 20
"""1 MiB: credit bodies are under 20 KiB (CodexBar caps custom providers' answers at
1 MiB too). Counted after decompression."""
DEFAULT_MAX_RETRIES = 2
INITIAL_BACKOFF = 0.5  # seconds; doubles each retry, with up to 25 % jitter
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0  # a Retry-After longer than this is capped
MAX_REDIRECTS = 5
RETRYABLE_STATUSES = frozenset({408, 409, 429})
USER_AGENT = (
    f"creditwatch/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"
)

ATTEMPT_DEADLINE: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "creditwatch_attempt_deadline", default=None
)
"""(monotonic deadline, budget in seconds) of the sync attempt under way in this
thread, set by `SyncTransport.request`; the network backend of a client's own pool
(`creditwatch._bounded`) caps every connect, read and write at the time left."""

logger = logging.getLogger("creditwatch")
LOG_ENV = "CREDITWATCH_LOG"
"""``CREDITWATCH_LOG=debug`` (every request and response line) or ``info`` (retries)
turns on the library's logging to stderr, as ``OPENAI_LOG`` does for openai-python."""


def _log_from_environment() -> None:
    level = {"debug": logging.DEBUG, "info": logging.INFO}.get(
        os.environ.get(LOG_ENV, "").strip().lower()
    )
    if level is None or any(getattr(h, "_creditwatch_env", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s", "%H:%M:%S")
    )
    handler.setLevel(level)  # the command line may lower the logger's level to follow requests
    handler._creditwatch_env = True  # type: ignore[attr-defined]  # added once
    logger.addHandler(handler)
    logger.setLevel(level)


_log_from_environment()


class Watcher(Protocol):
    """Follows the attempts in flight (`WATCHERS`)."""

    def sending(self, key: int, provider: str, attempt: tuple[int, int]) -> None:
        """An attempt starts: ``key`` names the request, ``attempt`` is (n, of m)."""

    def answered(self, key: int) -> None:
        """That request's attempt ended (answered or failed)."""


WATCHERS: list[Watcher] = []
"""Told of each attempt's start and end (the command line's progress names the
provider it is waiting for). A method call per attempt: much cheaper than the DEBUG
log record it replaces, which cost two URL copies and a record per attempt."""

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
    from its creditwatch declaration into ``creditwatch._generated.<provider>._profile``.

    Everything else (the operations, their parameters and models, the server URL,
    which credentials exist) comes from the provider's spec through the generator.
    """

    name: str
    """Module name, e.g. ``"flamel"``."""
    label: str
    """Display name, e.g. ``"Flamel"``."""
    auth_headers: Callable[..., Mapping[str, str]]
    """Headers that carry the credential (called with the credential; with every
    credential, in declared order, when they are `joint`)."""
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
    joint: bool = False
    """The credentials are used together (Twilio's account SID and auth token, HTTP
    basic), each one required; otherwise they are alternatives (one is used)."""
    fills: tuple[tuple[str, str], ...] = ()
    """(path parameter, credential argument): path parameters filled from a credential
    (Twilio's ``{AccountSid}``), not passed to the methods."""
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


REDACTED = "<redacted>"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
"""Header names whose values every repr hides (httpx hides only the first two)."""


class SecretHeaders(httpx.Headers):
    """``httpx.Headers`` whose repr hides the credential-carrying headers: the
    profile's auth headers (Flamel's ``X-Api-Key`` included) and any value that holds
    a credential. Requests carry these, so ``repr(exc.response.request.headers)``
    shows ``[secure]`` where httpx would have shown the key."""

    sensitive: frozenset[str] = SENSITIVE_HEADERS
    secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        hidden = [
            (k, "[secure]" if k.lower() in self.sensitive or _holds(v, self.secrets) else v)
            for k, v in self.multi_items()
        ]
        return f"{type(self).__name__}({hidden!r})"


def _holds(text: str, secrets: Sequence[str]) -> bool:
    return any(secret in text for secret in secrets)


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every credential form in ``secrets`` replaced by ``<redacted>``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def basic_auth(username: str, password: str) -> str:
    """The ``Authorization`` value of HTTP basic auth (RFC 7617, UTF-8)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def secret_forms(credential: str) -> tuple[str, ...]:
    """The forms in which a provider may echo a credential: as sent, JSON-escaped,
    percent-encoded; longest first."""
    forms = {credential, json.dumps(credential)[1:-1], urllib.parse.quote(credential, safe="")}
    return tuple(sorted(forms, key=len, reverse=True))


_SENDABLE = re.compile(r"[\x20-\x7e]*\Z")


def check_credential(profile: Profile, value: str, source: str) -> str:
    """The credential to send: surrounding whitespace stripped (a key read from a file
    ends with a newline); `InvalidCredentialsError` for one that is blank, holds a
    control character or a character an HTTP header cannot carry. ``source`` names
    where it came from (the argument or variable); the value is never shown."""
    stripped = value.strip()
    if _SENDABLE.match(stripped) and stripped:
        return stripped
    if not stripped:
        problem = "is blank"
    elif any(ord(c) < 0x20 or ord(c) == 0x7F or 0x80 <= ord(c) < 0xA0 for c in stripped):
        problem = "contains a control character (a line break inside it?)"
    else:
        problem = "contains a character an HTTP header cannot carry (only printable ASCII)"
    raise InvalidCredentialsError(
        f"{profile.label}: the credential from {source} {problem}; it is not sent "
        "(its value is not shown)",
        provider=profile.name,
    )


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
    loopback only (credentials never travel in clear text off this machine); never
    with user info (``user:pass@``), a query or a fragment."""
    url = (base_url or env(f"{profile.env_prefix}_BASE_URL") or server).rstrip("/")
    return _checked_url(profile.label, url)


@functools.lru_cache(maxsize=256)
def _checked_url(label: str, url: str) -> str:
    """`resolve_base_url`'s checks of one URL, done once per URL (2,000 accounts on
    a few servers parse a few URLs, not 2,000); a refused URL raises every time (an
    exception is never cached)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise ValueError(f"{label}: base_url is not a valid URL") from None
    extra = [
        what
        for what, present in (
            ("user info (user:password@)", parsed.userinfo),
            ("a query (?...)", parsed.query or "?" in url),
            ("a fragment (#...)", parsed.fragment or "#" in url),
        )
        if present
    ]
    if extra:  # the URL itself is not quoted: user info may hold a password
        raise ValueError(
            f"{label}: base_url must not have {' or '.join(extra)}: pass the "
            "credential as a constructor argument or environment variable, and the "
            f"scheme, host, port and path only (got {_safe_url(parsed)})"
        )
    if parsed.scheme == "https" and parsed.host:
        return url
    if parsed.scheme == "http" and _is_loopback(parsed.host):
        return url
    raise ValueError(
        f"{label}: base_url must be https:// (plain http:// is allowed only for "
        f"localhost, 127.0.0.0/8 and ::1), got {url!r}"
    )


@functools.lru_cache(maxsize=1024)
def _url(url: str) -> httpx.URL:
    """An operation's URL, parsed once (an ``httpx.URL`` is immutable; the clients of
    many accounts on one server send to the same few)."""
    return httpx.URL(url)


@functools.lru_cache(maxsize=256)
def _origin_of(base_url: str) -> httpx.URL:
    """The origin (scheme, host, port) of a checked base URL; an ``httpx.URL`` is
    immutable, so clients of one server share it."""
    return httpx.URL(base_url).copy_with(path="/", query=None, fragment=None)


def _safe_url(url: httpx.URL) -> str:
    """A URL without its user info, query and fragment, for messages."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


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
    are refused. The credential is checked (`check_credential`)."""
    passed = [(name, value) for name, value in given if value]
    if len(passed) > 1:
        names = " or ".join(name for name, _ in given)
        raise ValueError(f"{profile.label}: pass {names}, not both")
    if passed:
        name = passed[0][0]
        return name, check_credential(profile, str(passed[0][1]), f"the {name} argument")
    for name, _ in given:
        variable = _variable(profile, name)
        value = env(variable)
        if value is not None:
            return name, check_credential(profile, value, f"the {variable} variable")
    first, *others = [name for name, _ in given]
    variables = [_variable(profile, name) for name in (first, *others)]
    extra_args = "".join(f" (or {name})" for name in others)
    extra_vars = "".join(f" (or {v})" for v in variables[1:])
    raise MissingCredentialsError(
        f"{profile.label}: no credential. Pass {first}{extra_args}=... or set the "
        f"{variables[0]}{extra_vars} environment variable.",
        provider=profile.name,
    )


def resolve_joint(profile: Profile, given: Sequence[tuple[str, str | None]]) -> dict[str, str]:
    """{argument: credential} for credentials used together (`Profile.joint`): each
    from its argument, else its ``<PREFIX>_<ARGUMENT>`` variable; a missing one is a
    `MissingCredentialsError` naming it and its variable. Each is checked
    (`check_credential`); an HTTP basic username cannot hold a colon."""
    found: dict[str, str] = {}
    for index, (name, value) in enumerate(given):
        variable = _variable(profile, name)
        if value:
            found[name] = check_credential(profile, str(value), f"the {name} argument")
        elif (from_env := env(variable)) is not None:
            found[name] = check_credential(profile, from_env, f"the {variable} variable")
        else:
            raise MissingCredentialsError(
                f"{profile.label}: no {name}. Pass {name}=... or set the {variable} "
                "environment variable.",
                provider=profile.name,
            )
        if index == 0 and ":" in found[name]:
            raise InvalidCredentialsError(
                f"{profile.label}: the {name} contains ':', which HTTP basic auth cannot "
                "carry in a username; it is not sent (its value is not shown)",
                provider=profile.name,
            )
    return found


def _variable(profile: Profile, argument: str) -> str:
    return dict(profile.credentials).get(argument) or f"{profile.env_prefix}_{argument.upper()}"


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Retry-After as seconds (``"2"``) or an HTTP date; None if absent or unreadable."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)  # NaN: unreadable
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


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


_PARSE_ERRORS = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    IndexError,
    RecursionError,
    OverflowError,
)
"""What a generated parser raises for a body that does not match its model (the
compiled error decoders try one documented error schema after another)."""


def _describe_parse_error(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"required field {exc.args[0]!r} is missing"
    if isinstance(exc, FieldError):  # from the generated models: its text names the path
        return str(exc)
    try:
        text = str(exc)
    except Exception:  # a str() that fails (a 5000-digit int in the text...)
        text = ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def attempt_budget(timeout: httpx.Timeout) -> float | None:
    """Seconds one attempt may take from connect to the last byte of the body: the
    largest of the timeout's values; None (no bound) when the read timeout is None."""
    if timeout.read is None:
        return None
    values = [v for v in (timeout.connect, timeout.read, timeout.write, timeout.pool) if v]
    return max(values, default=None)


class _Body:
    """A response body read under a size cap, decompressed as it arrives.

    gzip and deflate are decompressed here with ``max_length`` (zlib), so a
    compression bomb never expands beyond the cap in memory; other encodings go
    through httpx's decoders (``iter_bytes``), chunk by chunk, and are cut at the cap
    too."""

    __slots__ = ("chunks", "decoder", "limit", "size")

    def __init__(self, encoding: str, limit: int | None) -> None:
        self.limit = limit
        self.size = 0
        self.chunks: list[bytes] = []
        self.decoder: Any = None
        if encoding in ("gzip", "x-gzip"):
            self.decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self.decoder = _Deflate()

    def add(self, data: bytes) -> bool:
        """Take a chunk as received; False once the body is over the cap."""
        if self.decoder is not None:
            if self.limit is None:
                data = self.decoder.decompress(data)
            else:  # at most one byte over the cap: enough to know
                data = self.decoder.decompress(data, self.limit - self.size + 1)
                if self.decoder.unconsumed_tail:
                    return False
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            return False
        if data:
            self.chunks.append(data)
        return True

    def content(self) -> bytes:
        if self.decoder is not None:
            tail = self.decoder.flush()
            self.size += len(tail)
            if self.limit is not None and self.size > self.limit:
                raise _TooLarge
            self.chunks.append(tail)
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


class _TooLarge(Exception):
    """The body went over the cap."""


class _Deflate:
    """``Content-Encoding: deflate``: zlib-wrapped as the RFC says, or raw deflate as
    some servers send it (httpx accepts both)."""

    def __init__(self) -> None:
        self._obj: Any = zlib.decompressobj()
        self._first = True

    @property
    def unconsumed_tail(self) -> bytes:
        tail: bytes = self._obj.unconsumed_tail
        return tail

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        if self._first:
            self._first = False
            try:
                return bytes(self._obj.decompress(data, max_length))
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        return bytes(self._obj.decompress(data, max_length))

    def flush(self) -> bytes:
        return bytes(self._obj.flush())


_OWN_DECODING = frozenset({"", "identity", "gzip", "x-gzip", "deflate"})


class Transport(Generic[H]):
    """A client's configuration and the half of its requests that does not depend on
    sync or async; ``H`` is the httpx client class."""

    profile: Profile
    credential_name: str
    """The constructor argument the credential came from (``"api_key"``...)."""
    base_url: str
    timeout: httpx.Timeout
    max_retries: int
    max_response_bytes: int | None
    """The body size cap, after decompression (None: none)."""
    owns_http: bool
    """True when the connection pool is the transport's own (closed with it)."""
    http: H
    secrets: tuple[str, ...]
    """The credential in every form a provider may echo it (`secret_forms`)."""
    _origin: httpx.URL
    _credentials: dict[str, str]
    """Constructor argument -> credential, for the path parameters they fill."""
    _headers: dict[str, str]
    _sensitive: frozenset[str]
    _timeout: httpx.Timeout | None
    _budget: float | None

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
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.profile = profile
        values: dict[str, str]
        if profile.joint:
            values = resolve_joint(profile, credentials)
            self.credential_name, credential = next(iter(values.items()))
        else:
            self.credential_name, credential = resolve_credential(profile, credentials)
            values = {self.credential_name: credential}
        self._credentials = values
        auth: Mapping[str, str] = profile.auth_headers(*values.values())
        # every credential and every credential-carrying header value (HTTP basic's
        # base64 token is a form of both credentials), as sent and after the scheme word
        texts = [*values.values(), *auth.values()]
        texts += [value.split(" ", 1)[-1] for value in auth.values()]
        forms: set[str] = set()
        for text in texts:
            forms.update(secret_forms(text))
        self.secrets = tuple(sorted(forms, key=len, reverse=True))
        server = choose_server(profile, self.credential_name, credential, server)
        self.base_url = resolve_base_url(profile, base_url, server)
        # None: no timeout, as in httpx
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._budget = attempt_budget(self.timeout)
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.max_retries = max_retries
        if max_response_bytes is not None and max_response_bytes < 1:
            raise ValueError("max_response_bytes must be >= 1 (or None: no cap)")
        self.max_response_bytes = max_response_bytes
        self._origin = _origin_of(self.base_url)
        self._sensitive = SENSITIVE_HEADERS | {name.lower() for name in auth}
        headers = {"User-Agent": USER_AGENT, **profile.extra_headers, **auth}
        self.owns_http = http_client is None
        if http_client is None:  # our own pool: the headers and timeout are its defaults
            self.http = self._new_http(headers, self.timeout)
            self._hide_headers(self.http.headers)  # its repr hides the credential too
            self._headers = {}
            self._timeout = None
        else:  # the caller's pool, used as is: ours go with each request
            self.http = http_client
            self._headers = headers
            self._timeout = self.timeout

    def path_credential(self, argument: str) -> str:
        """A credential that fills a path parameter (`Profile.fills`; the generated
        request builder percent-encodes it as one path segment)."""
        return self._credentials[argument]

    def with_options(
        self, *, timeout: float | httpx.Timeout | EllipsisType | None, max_retries: int | None
    ) -> Self:
        """A copy with another timeout and/or retry count (``...``/None: keep) that
        sends through the same connection pool, which it never closes."""
        copy = _copy.copy(self)
        copy.owns_http = False
        if timeout is not ...:
            copy.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
            copy._timeout = copy.timeout  # the pool's default is the original's: per request
            copy._budget = attempt_budget(copy.timeout)
        if max_retries is not None:
            if max_retries < 0:
                raise ValueError("max_retries must be >= 0")
            copy.max_retries = max_retries
        return copy

    def _new_http(self, headers: dict[str, str], timeout: httpx.Timeout) -> H:
        """The connection pool of a client given no ``http_client``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        # The credential is never shown, not even in part.
        name, url = self.profile.name, self.base_url
        return f"<{type(self).__name__} {name} {url!r} credential=<redacted>>"

    def scrub(self, text: str) -> str:
        """``text`` without the credential (`scrub`)."""
        return scrub(text, self.secrets)

    # -- request --------------------------------------------------------------------

    def _build_request(self, kwargs: dict[str, Any]) -> httpx.Request:
        request = self.http.build_request(
            kwargs["method"],
            _url(self.base_url + kwargs["url"]),
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
        headers = request.headers
        for name, value in (kwargs.get("headers") or {}).items():
            headers[name] = value
        self._hide_headers(headers)
        return request

    def _hide(self, request: httpx.Request) -> None:
        self._hide_headers(request.headers)

    def _hide_headers(self, headers: httpx.Headers) -> None:
        """Give ``headers`` a repr that hides the credential: the same object and
        data, class `SecretHeaders` (no copy on the per-call path)."""
        headers.__class__ = SecretHeaders
        headers.sensitive = self._sensitive  # type: ignore[attr-defined]
        headers.secrets = self.secrets  # type: ignore[attr-defined]

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
                f"{self.scrub(target.path)}); not followed, so the credential stays with "
                f"{self._origin.host}",
                provider=self.profile.name,
                response=response,
                body=self.scrub(response.text),
            )
        self._hide(response.next_request)
        return response.next_request

    # -- reading the body -------------------------------------------------------------

    def _reader(self, response: httpx.Response) -> tuple[_Body, bool]:
        """A capped body for ``response``; True when we decode it (read it raw)."""
        headers = response.headers
        # `in` first: Headers.get raises and catches a KeyError for an absent header
        encoding = (
            headers["content-encoding"].strip().lower() if "content-encoding" in headers else ""
        )
        return _Body(encoding, self.max_response_bytes), encoding in _OWN_DECODING

    def _already_read(self, response: httpx.Response) -> httpx.Response:
        """A response whose body the transport read already (``httpx.MockTransport``):
        only the cap is left to check."""
        limit = self.max_response_bytes
        try:
            size = len(response.content)
        except httpx.DecodingError as exc:
            raise self._read_failed(response, exc) from exc
        if limit is not None and size > limit:
            raise self._read_failed(response, _TooLarge())
        return response

    def _overdue(self, request: httpx.Request) -> httpx.ReadTimeout:
        return httpx.ReadTimeout(
            f"the attempt took longer than its {self._budget:g} s budget", request=request
        )

    def _read_failed(self, response: httpx.Response, exc: BaseException) -> APIError:
        """What a body that could not be read becomes."""
        if isinstance(exc, _TooLarge):
            return ResponseTooLargeError(
                f"{self.profile.label} {response.status_code}: the body is larger than "
                f"max_response_bytes ({self.max_response_bytes:,} bytes after "
                "decompression); reading stopped there",
                provider=self.profile.name,
                response=response,
                body="",
                limit=self.max_response_bytes or 0,
            )
        encoding = response.headers.get("content-encoding", "") or "identity"
        error = self._validation_error(
            response,
            f"the body cannot be decoded (Content-Encoding: {encoding}): "
            f"{_describe_parse_error(exc)}",
            body="",
        )
        error.__cause__ = exc
        return error

    # -- response -------------------------------------------------------------------

    def _process(
        self, response: httpx.Response, parse: Parse[T] | None, retries: int
    ) -> APIResponse[T]:
        """A final response -> the parsed result, or a typed error."""
        if not 200 <= response.status_code < 300:
            raise self._status_error(response, response.status_code)
        try:
            parsed = self._parse(response, parse)
        except APIError:
            raise
        except Exception as exc:  # anything else while parsing: still this provider's error
            raise self._validation_error(
                response, f"the body does not match the spec: {_describe_parse_error(exc)}"
            ) from exc
        return APIResponse(
            parsed=parsed,
            status_code=response.status_code,
            headers=response.headers,
            content=response.content,
            retries=retries,
            http_response=response,
        )

    def _parse(self, response: httpx.Response, parse: Parse[T] | None) -> Any:
        if parse is None:  # the operation documents no body
            return None
        profile = self.profile
        try:
            data = json.loads(response.content)
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            raise self._validation_error(
                response,
                f"the body is not JSON ({_describe_body(self.scrub(response.text), response)})",
            ) from exc
        if profile.body_status is not None:
            status = _call_quietly(profile.body_status, data)
            if status is not None and not 100 <= status <= 599:
                raise self._validation_error(response, "the body's status is not an HTTP status")
            if status is not None:
                raise self._status_error(response, status)
        if profile.inspect is not None:
            profile.inspect(data)
        if profile.unwrap is not None:
            data = profile.unwrap(data)
        return parse(data)

    def compute_balance(self, compute: Callable[[], T], answer: APIResponse[Any]) -> T:
        """``compute()``: the provider's balance mapping of its parsed answers (the
        generated ``_profile.balance``), where a mapping that fails (a number no
        `Balance` can hold, a missing value) is an `APIResponseValidationError` of
        ``answer``, the last answer it read."""
        try:
            return compute()
        except APIError:
            raise
        except Exception as exc:
            raise self._validation_error(
                answer.http_response,
                f"no balance can be computed from the answer: {_describe_parse_error(exc)}",
            ) from exc

    def _validation_error(
        self, response: httpx.Response, reason: str, body: str | None = None
    ) -> APIResponseValidationError:
        return APIResponseValidationError(
            self.scrub(f"{self.profile.label} {response.status_code}: {reason}"),
            provider=self.profile.name,
            response=response,
            body=self.scrub(response.text) if body is None else body,
        )

    def _status_error(self, response: httpx.Response, status: int) -> APIStatusError:
        profile = self.profile
        body = self.scrub(response.text)
        info = ErrorInfo()
        try:
            info = profile.decode_error(json.loads(response.content), status)
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
            "code": None if info.code is None else self.scrub(info.code),
            "request_id": None if info.request_id is None else self.scrub(info.request_id),
        }
        message = self.scrub(message)
        if cls is RateLimitError:
            return RateLimitError(
                message, retry_after=parse_retry_after(response.headers), **common
            )
        return cls(message, **common)

    # -- retries --------------------------------------------------------------------

    @staticmethod
    def _retry_delay_any(error: APIError) -> bool:
        """Whether `error` is of a kind that is retried (when retries are left)."""
        if isinstance(error, APIStatusError):
            return error.status_code in RETRYABLE_STATUSES or error.status_code >= 500
        return isinstance(error, APIConnectionError)

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

    def _sending(self, request: httpx.Request, retries: int) -> float:
        """Log an attempt (DEBUG: method, URL without query, attempt n of m; never a
        header). The record's ``creditwatch_event`` fields let the command line show
        which provider it is waiting for; each of `WATCHERS` is told. Returns the
        start time."""
        if WATCHERS:
            attempt = (retries + 1, self.max_retries + 1)
            for watcher in WATCHERS:
                watcher.sending(id(request), self.profile.name, attempt)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s: %s %s (attempt %d of %d)",
                self.profile.label,
                request.method,
                request.url.copy_with(query=None, fragment=None),
                retries + 1,
                self.max_retries + 1,
                extra={
                    "creditwatch_event": "send",
                    "creditwatch_provider": self.profile.name,
                    "creditwatch_request": id(request),
                    "creditwatch_attempt": (retries + 1, self.max_retries + 1),
                },
            )
        return time.monotonic()

    def _answered(self, request: httpx.Request, outcome: str, start: float) -> None:
        """Log the end of an attempt (DEBUG): the status line, or the failure; tell
        `WATCHERS`."""
        for watcher in WATCHERS:
            watcher.answered(id(request))
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s: %s %s -> %s (%.2f s)",
                self.profile.label,
                request.method,
                request.url.copy_with(query=None, fragment=None),
                outcome,
                time.monotonic() - start,
                extra={
                    "creditwatch_event": "done",
                    "creditwatch_provider": self.profile.name,
                    "creditwatch_request": id(request),
                },
            )

    def _failed(self, request: httpx.Request, error: APIError | Exception, retries: int) -> float:
        """After a failed attempt: the delay before the next one, or raise the error
        (saying how many attempts were made when it was worth retrying)."""
        if not isinstance(error, APIError):
            error = self._connection_error(error, request)
        delay = self._retry_delay(error, retries)
        if delay is None:
            if retries and retries >= self.max_retries and self._retry_delay_any(error):
                error.message += f" (after {retries + 1} attempts)"
                error.args = (error.message, *error.args[1:])
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

    def _connection_error(self, exc: Exception, request: httpx.Request) -> APIConnectionError:
        """A failure to get an answer (an httpx error, or anything else the HTTP
        transport raised) as `APIConnectionError`, the original as its cause."""
        label = self.profile.label
        where = f"{request.method} {request.url.copy_with(query=None, fragment=None)}"
        error: APIConnectionError
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            why = type(exc).__name__
            if not isinstance(exc, httpx.TimeoutException):  # the attempt's budget
                why = f"no complete answer within {self._budget:g} s"
            elif "budget" in str(exc):  # our network backend's cap (`_bounded`)
                why = f"{why}: {exc}"
            error = APITimeoutError(
                f"{label}: {where} timed out ({why})", provider=self.profile.name
            )
        else:
            error = APIConnectionError(
                self.scrub(f"{label}: {where} failed: {type(exc).__name__}: {exc}"),
                provider=self.profile.name,
            )
        error.__cause__ = exc
        return error


def _call_quietly(func: Callable[[Any], int | None], data: Any) -> int | None:
    try:
        return func(data)
    except Exception:  # an unreadable status (1e400, "x"): the body then parses or fails
        return None


_RETRIED = (httpx.TransportError, TimeoutError, OSError)
"""Failures to get an answer that are worth another attempt (an httpx transport's
own errors, and the plain ones a third-party transport may let through)."""


class SyncTransport(Transport[httpx.Client]):
    """Sends a generated client's requests with an ``httpx.Client``."""

    def _new_http(self, headers: dict[str, str], timeout: httpx.Timeout) -> httpx.Client:
        from ._bounded import bound_pools  # noqa: PLC0415 - loads httpcore, as httpx.Client does

        client = httpx.Client(headers=headers, timeout=timeout)
        bound_pools(client)  # each attempt ends by its deadline, whatever the server drips
        return client

    def close(self) -> None:
        """Close the connection pool if it is the transport's own."""
        if self.owns_http:
            self.http.close()

    def _fetch(self, request: httpx.Request, deadline: float | None) -> httpx.Response:
        """Send, then read the body under the cap and the attempt's deadline."""
        response = self.http.send(request, stream=True, follow_redirects=False)
        if response.is_stream_consumed:  # a transport that answers with the body read
            return self._already_read(response)
        try:
            body, raw = self._reader(response)
            chunks = response.iter_raw() if raw else response.iter_bytes()
            for chunk in chunks:
                if not body.add(chunk):
                    raise _TooLarge
                if deadline is not None and time.monotonic() > deadline:
                    raise self._overdue(request)
            response._content = body.content()  # what httpx's own read() sets
        except (_TooLarge, zlib.error, httpx.DecodingError) as exc:
            raise self._read_failed(response, exc) from exc
        finally:
            response.close()
        return response

    def _send(self, request: httpx.Request) -> httpx.Response:
        """One attempt: the request and its same-origin redirects, within the budget."""
        if self._budget is None:
            return self._follow(request, None)
        # for our pool's network backend (`_bounded`): connect, headers and body all end
        # by the deadline; `_fetch` checks it between body chunks too (a caller's pool)
        deadline = time.monotonic() + self._budget
        token = ATTEMPT_DEADLINE.set((deadline, self._budget))
        try:
            return self._follow(request, deadline)
        finally:
            ATTEMPT_DEADLINE.reset(token)

    def _follow(self, request: httpx.Request, deadline: float | None) -> httpx.Response:
        response = self._fetch(request, deadline)
        if not 300 <= response.status_code < 400:  # the common case: no redirect to check
            return response
        for _ in range(MAX_REDIRECTS):
            next_request = self._redirect(response)
            if next_request is None:
                return response
            response = self._fetch(next_request, deadline)
        return response

    def request(self, kwargs: dict[str, Any], parse: Parse[T] | None) -> APIResponse[T]:
        """Send one operation's request (the generated ``_get_kwargs()``); retry what
        is worth retrying; return the parsed answer or raise a typed error."""
        request = self._build_request(kwargs)
        retries = 0
        while True:
            error: APIError | Exception
            start = self._sending(request, retries)
            try:
                response = self._send(request)
            except (APIError, *_RETRIED) as exc:
                self._answered(request, type(exc).__name__, start)
                error = exc
            except httpx.HTTPError as exc:  # not a transport failure: not retried
                raise self._connection_error(exc, request) from exc
            else:
                self._answered(request, f"{response.status_code} {response.reason_phrase}", start)
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

    async def _fetch(self, request: httpx.Request) -> httpx.Response:
        """`SyncTransport._fetch`, awaited (the deadline is the caller's timeout)."""
        response = await self.http.send(request, stream=True, follow_redirects=False)
        if response.is_stream_consumed:  # a transport that answers with the body read
            return self._already_read(response)
        try:
            body, raw = self._reader(response)
            chunks = response.aiter_raw() if raw else response.aiter_bytes()
            async for chunk in chunks:
                if not body.add(chunk):
                    raise _TooLarge
            response._content = body.content()  # what httpx's own aread() sets
        except (_TooLarge, zlib.error, httpx.DecodingError) as exc:
            raise self._read_failed(response, exc) from exc
        finally:
            await response.aclose()
        return response

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._fetch(request)
        if not 300 <= response.status_code < 400:  # the common case: no redirect to check
            return response
        for _ in range(MAX_REDIRECTS):
            next_request = self._redirect(response)
            if next_request is None:
                return response
            response = await self._fetch(next_request)
        return response

    async def request(self, kwargs: dict[str, Any], parse: Parse[T] | None) -> APIResponse[T]:
        """`SyncTransport.request`, awaited; each attempt runs under its budget
        (`attempt_budget`) as a whole, from connect to the last byte."""
        import asyncio  # noqa: PLC0415 - only async users pay for it

        request = self._build_request(kwargs)
        retries = 0
        while True:
            error: APIError | Exception
            start = self._sending(request, retries)
            try:
                async with asyncio.timeout(self._budget):
                    response = await self._send(request)
            except (APIError, *_RETRIED) as exc:  # TimeoutError: the budget ran out
                self._answered(request, type(exc).__name__, start)
                error = exc
            except httpx.HTTPError as exc:
                raise self._connection_error(exc, request) from exc
            else:
                self._answered(request, f"{response.status_code} {response.reason_phrase}", start)
                try:
                    return self._process(response, parse, retries)
                except APIStatusError as exc:
                    error = exc
            await asyncio.sleep(self._failed(request, error, retries))
            retries += 1
