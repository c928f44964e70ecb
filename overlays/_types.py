"""Contains some shared types for properties"""

import datetime
import functools
import json
import warnings
from collections.abc import Callable, Mapping
from typing import IO, Any, BinaryIO, Literal, TypeVar
from uuid import UUID, SafeUUID

from attrs import define


class Unset:
    """The type of `UNSET`: an optional field absent from the answer (test it with
    ``isinstance(value, Unset)``), or an optional argument not given."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Unset = Unset()

# The types that `httpx.Client(files=)` can accept, copied from that library.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    # (filename, file (or bytes), content_type)
    tuple[str | None, FileContent, str | None]
    # (filename, file (or bytes), content_type, headers)
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]


@define
class File:
    """Contains information for file uploads"""

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> FileTypes:
        """Return a tuple representation that httpx will accept for multipart/form-data"""
        return self.file_name, self.payload, self.mime_type


T = TypeVar("T")


class FieldError(ValueError):
    """A value in a body that does not match the spec, with the JSON path of its field.

    ``field_path`` is the path from the body that ``from_dict`` was given, in the
    provider's names (``"Plan.defaultCredit"``, ``"EnterpriseDownload[0].credit"``; empty
    when the body itself is wrong), ``problem`` what is wrong with it.
    """

    def __init__(self, problem: str, segment: str | int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self._segments: list[str | int] = [] if segment is None else [segment]

    def at(self, segment: str | int) -> "FieldError":
        """Prefix the path with the key or index that holds it; returns this error."""
        self._segments.append(segment)
        return self

    @property
    def field_path(self) -> str:
        path = ""
        for segment in reversed(self._segments):
            if isinstance(segment, int):
                path += f"[{segment}]"
            else:
                path += f".{segment}" if path else segment
        return path

    def __str__(self) -> str:
        path = self.field_path
        return f"{path}: {self.problem}" if path else self.problem


_SNIPPET = 40


def describe(value: object) -> str:  # noqa: PLR0911 - one return per kind of value
    """A short description of a JSON value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        text = str(value) if value.bit_length() < 128 else f"{str(value)[:_SNIPPET]}..."
        return f"integer {text}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        cut = value[:_SNIPPET]
        return (
            f"string {json.dumps(cut, ensure_ascii=False)}{'...' if len(value) > _SNIPPET else ''}"
        )
    if isinstance(value, list):
        return f"array of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def invalid(value: object, expected: str, segment: str | int | None = None) -> FieldError:
    """The error for a value of the wrong JSON type (or format) at `segment`."""
    return FieldError(f"expected {expected}, got {describe(value)}", segment)


def missing(key: object) -> FieldError:
    """The error for a required field that the body lacks."""
    return FieldError(f"required field {key!r} is missing")


def as_object(value: object) -> Mapping[str, Any]:
    """A mapping that is not a dict is read as it is; anything else is an error."""
    if isinstance(value, Mapping):
        return value
    raise invalid(value, "object")


def as_integer(value: object, segment: str | int) -> int:
    """A JSON integer. A number without a fraction (``5.0``) is that integer, as JSON
    Schema counts it; a boolean, a fraction or anything else is an error."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise invalid(value, "integer", segment)


fromisoformat = datetime.datetime.fromisoformat
"""The date-time parser of the generated from_dict (one global lookup, not three)."""
new_instance = object.__new__
"""How the generated from_dict creates a model before filling its slots."""


def as_datetime(value: str, segment: str | int) -> datetime.datetime:
    """What `datetime.fromisoformat` rejects but RFC 3339 allows: a lower-case "t" or "z"."""
    try:
        return datetime.datetime.fromisoformat(value.upper())
    except ValueError:
        raise invalid(value, "date-time", segment) from None


_new = object.__new__
_set = object.__setattr__
_SAFE_UNKNOWN = SafeUUID.unknown  # read once: an enum member lookup costs a third of parse_uuid


def parse_uuid(text: str) -> UUID:
    """`UUID(text)` for the canonical 8-4-4-4-12 spelling in half the time: the same
    `int(hex, 16)` that UUID() runs, without its argument checks (it accepts exactly what
    UUID() accepts for these strings; any other spelling goes through UUID()).
    Raises ValueError like UUID()."""
    digits = text.replace("-", "")
    if len(text) != 36 or len(digits) != 32:
        return UUID(text)
    uuid = _new(UUID)
    _set(uuid, "int", int(digits, 16))  # UUID's own slots, as its __init__ sets them
    _set(uuid, "is_safe", _SAFE_UNKNOWN)
    return uuid


def failed_index(items: list[Any], parse: Callable[[Any], object]) -> int:
    """The index of the first item of `items` that `parse` rejects (an error path only:
    a list is parsed by a comprehension, and this finds the culprit afterwards)."""
    for index, item in enumerate(items):
        try:
            parse(item)
        except FieldError:
            return index
    return len(items)


def item_index(items: list[Any], item: object) -> int:
    """The index of `item` (by identity) in `items`, for an error message."""
    for index, candidate in enumerate(items):
        if candidate is item:
            return index
    return len(items)


def accept_renamed(cls: type[Any], renamed: Mapping[str, str]) -> None:
    """Let `cls(...)` still take a field's old keyword (`renamed`: old -> new name) for
    one release, with a DeprecationWarning. Type checkers see the attrs __init__ with the
    new names only; at run time the old keyword is passed on as the new one."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        for old, new in renamed.items():
            if old in kwargs:
                warnings.warn(
                    f"{cls.__name__}({old}=...) is deprecated: use {cls.__name__}({new}=...)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
        init(self, *args, **kwargs)

    setattr(cls, "__init__", __init__)  # noqa: B010 - mypy: not an assignment to a method


def present(value: T | Unset | None) -> T | None:
    """A field's value, or None when it is absent (unset) or null: what the compiled
    balance mappings read optional fields with."""
    return None if isinstance(value, Unset) else value


__all__ = ["UNSET", "FieldError", "File", "FileTypes", "RequestFiles", "Unset", "present"]
