"""What every provider's public ``Client`` and ``AsyncClient`` have besides their
operations: configuration attributes, ``balance()``, closing, context management and
a redacted ``repr``. The operations themselves are generated from each provider's
spec into ``creditwatch._generated.<provider>.client``, whose classes derive from
these two.

All machinery sits behind one private attribute, ``_transport``, so that an IDE's
completion list after ``client.`` is the public surface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from ._base import AsyncTransport, SyncTransport, Transport

if TYPE_CHECKING:
    from types import EllipsisType

    import httpx

    from ._balance import Balance

A = TypeVar("A")
C = TypeVar("C", bound="_Configured")


def copy_with_options(
    client: C, timeout: float | httpx.Timeout | EllipsisType | None, max_retries: int | None
) -> C:
    """A copy of ``client`` whose transport shares the original's connection pool (what
    the generated ``with_options`` returns, typed there with the concrete class). A
    function, not a method: an editor's completion list after ``client.`` stays the
    public surface."""
    copy = object.__new__(type(client))
    copy._transport = client._transport.with_options(timeout=timeout, max_retries=max_retries)
    return copy


class _Configured:
    """The read-only view of a client's configuration, shared by both kinds."""

    _transport: Transport[Any]

    @property
    def provider(self) -> str:
        """The provider's module name, e.g. ``"flamel"``."""
        return self._transport.profile.name

    @property
    def base_url(self) -> str:
        """Where requests go: the ``base_url`` argument, else ``<PROVIDER>_BASE_URL``,
        else the server of the provider's spec."""
        return self._transport.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """Timeout of every request (``httpx.Timeout(None)``: none)."""
        return self._transport.timeout

    @property
    def max_retries(self) -> int:
        """How many times a retryable failure is retried."""
        return self._transport.max_retries

    @property
    def max_response_bytes(self) -> int | None:
        """The largest body accepted, counted after decompression (None: no cap); a
        larger one is a `creditwatch.ResponseTooLargeError`."""
        return self._transport.max_response_bytes

    def __repr__(self) -> str:
        # The credential is never shown, not even in part.
        return (
            f"<creditwatch.{self.provider}.{type(self).__qualname__} "
            f"base_url={self.base_url!r} credential=<redacted>>"
        )


class SyncClient(_Configured, Generic[A]):
    """Base of every provider's ``Client``; ``A`` is what its balance is computed from."""

    _transport: SyncTransport

    def balance(self) -> Balance[A]:
        """Credits left at this provider (see the README's balance table). A provider
        whose balance needs two calls makes them concurrently."""
        return self._transport.profile.balance(self)

    def close(self) -> None:
        """Close the connection pool (not one passed in as ``http_client``)."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncClient(_Configured, Generic[A]):
    """Base of every provider's ``AsyncClient``; ``A`` as in `SyncClient`."""

    _transport: AsyncTransport

    async def balance(self) -> Balance[A]:
        """Credits left at this provider (see the README's balance table). A provider
        whose balance needs two calls makes them concurrently."""
        return await self._transport.profile.abalance(self)

    async def aclose(self) -> None:
        """Close the connection pool (not one passed in as ``http_client``)."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
