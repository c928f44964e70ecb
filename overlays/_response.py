"""`APIResponse`: the parsed model together with the HTTP response it came from."""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs
import httpx

T = TypeVar("T")


@attrs.frozen
class APIResponse(Generic[T]):
    """What ``client.with_raw_response.<method>()`` returns.

    ``parsed`` is what ``client.<method>()`` would have returned; ``status_code``,
    ``headers``, ``content`` and ``text`` are the provider's answer as received.
    """

    parsed: T
    status_code: int
    headers: httpx.Headers = attrs.field(repr=False)
    content: bytes = attrs.field(repr=False)
    http_response: httpx.Response = attrs.field(repr=False, eq=False)
    """The underlying ``httpx.Response`` (its ``.request`` shows what was sent)."""
    retries: int = 0
    """How many times the request was retried before this answer."""

    @property
    def text(self) -> str:
        return self.content.decode(self.http_response.encoding or "utf-8", errors="replace")
