"""One error hierarchy for every provider.

::

    APIError                       base; .provider
    ├── MissingCredentialsError
    ├── InvalidCredentialsError    a credential that cannot be sent (control characters...)
    ├── APIConnectionError         network failure
    │   └── APITimeoutError
    ├── APIStatusError             .status_code .code .message .request_id .body .response
    │   ├── BadRequestError        400
    │   ├── AuthenticationError    401
    │   ├── PermissionDeniedError  403
    │   ├── NotFoundError          404
    │   ├── RateLimitError         429, .retry_after
    │   └── InternalServerError    >= 500
    └── APIResponseValidationError the body is not what the spec says; .body keeps the raw text
        └── ResponseTooLargeError  the body exceeds max_response_bytes (after decompression)

No credential ever appears in an error's text, args, ``message`` or ``body``: messages
are built from the provider, the status, the provider's own error reason and the URL
path only, and every credential the client holds is replaced by ``<redacted>`` in
them, even when the provider echoes it back (``response.content`` stays as received).
"""

from __future__ import annotations

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "InternalServerError",
    "InvalidCredentialsError",
    "MissingCredentialsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
]


class APIError(Exception):
    """Base of every error creditwatch raises."""

    provider: str
    """The provider's module name, e.g. ``"flamel"``."""
    message: str
    """What went wrong, in one line (never the credential)."""

    def __init__(self, message: str, *, provider: str) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider

    def __str__(self) -> str:
        return self.message


class MissingCredentialsError(APIError):
    """No API key was given and the provider's environment variable is not set."""


class InvalidCredentialsError(APIError):
    """A credential that cannot be sent: blank, or with control characters (a CR/LF
    from a file read whole) or characters an HTTP header cannot carry (non-ASCII).
    The message names the argument or environment variable, never the value.
    Surrounding whitespace is not an error: it is stripped."""


class APIConnectionError(APIError):
    """The request did not get an HTTP response: DNS, refused connection, reset..."""


class APITimeoutError(APIConnectionError):
    """The request took longer than the client's timeout."""


class APIResponseValidationError(APIError):
    """The provider answered, but the body is not what its spec describes.

    ``body`` keeps the raw text, ``response`` the HTTP response.
    """

    response: httpx.Response
    """The HTTP response whose body failed."""
    body: str
    """The raw body, as text."""
    status_code: int
    """The HTTP status of the response."""

    def __init__(self, message: str, *, provider: str, response: httpx.Response, body: str) -> None:
        super().__init__(message, provider=provider)
        self.response = response
        self.body = body
        self.status_code = response.status_code


class ResponseTooLargeError(APIResponseValidationError):
    """The body is larger than the client's ``max_response_bytes`` (counted after
    decompression); reading stopped there, so ``body`` is empty."""

    limit: int
    """The ``max_response_bytes`` that was exceeded."""

    def __init__(
        self, message: str, *, provider: str, response: httpx.Response, body: str, limit: int
    ) -> None:
        super().__init__(message, provider=provider, response=response, body=body)
        self.limit = limit


class APIStatusError(APIError):
    """The provider answered with an error status (or, for EasySlip, an error body).

    ``code`` is the provider's machine-readable reason when it sends one
    (Flamel ``wrong_api_key``, EasySlip ``unauthorized``, Exorde's numeric code),
    ``message`` a sentence for people, ``request_id`` the provider's request id when
    it sends one, ``body`` the raw response text.
    """

    response: httpx.Response
    """The HTTP response."""
    body: str
    """The raw body, as text."""
    status_code: int
    """The error status: the HTTP status, or the status an EasySlip body reports."""
    code: str | None
    """The provider's machine-readable reason, if it sends one."""
    request_id: str | None
    """The provider's request id, if it sends one."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        response: httpx.Response,
        body: str,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider)
        self.response = response
        self.body = body
        self.status_code = response.status_code if status_code is None else status_code
        self.code = code
        self.request_id = request_id


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, wrong or expired."""


class PermissionDeniedError(APIStatusError):
    """403."""


class NotFoundError(APIStatusError):
    """404."""


class RateLimitError(APIStatusError):
    """429. ``retry_after`` is the wait the provider asked for, in seconds, or None."""

    retry_after: float | None
    """Seconds the provider asked to wait (``Retry-After``), or None."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        response: httpx.Response,
        body: str,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            provider=provider,
            response=response,
            body=body,
            status_code=status_code,
            code=code,
            request_id=request_id,
        )
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """500 and above."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The class for an HTTP status: exact match, >= 500, else the nearest base."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return InternalServerError
    if status == 422:
        return BadRequestError
    return APIStatusError
