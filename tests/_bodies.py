"""What the property-based and mutation tests share: every documented operation and
status of every provider, its response schema as plain JSON Schema, the real clients
served through httpx.MockTransport, and a checker that a parsed model holds values of
the types its annotations say.

Independent of the generator: schemas are read from specs/*.yaml (tests/_specs.py),
types from the models' annotations, expectations from the README's error table.
"""

from __future__ import annotations

import asyncio
import datetime
import enum
import functools
import re
import types
import typing
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import attrs
import creditwatch
import httpx

from _specs import JSON, load, operations, resolve
from conftest import FAKE_KEY, FAKE_TOKEN, PROVIDERS, concrete_path, with_credentials

BASE_URL = "https://api.example.test"  # never reached: every request goes to a MockTransport

# -- operations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One spec operation and how a client calls it."""

    provider: str
    operation_id: str
    path: str
    method: str  # the client method that calls it
    credential: dict[str, str]  # constructor arguments that select this operation
    unwrap: Callable[[Any], Any]  # body -> the part the method returns (envelope removed)

    @property
    def label(self) -> str:
        return f"{self.provider}.{self.method}({next(iter(self.credential))})"


def _same(body: Any) -> Any:
    return body


def _part(name: str | None) -> Callable[[Any], Any]:
    return _same if name is None else (lambda body: body[name])


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _calls() -> dict[tuple[str, str], list[tuple[str, dict[str, str], Callable[[Any], Any]]]]:
    """(provider, operationId) -> [(client method, credential, envelope)], read from each
    spec the way the generator reads it (codegen/surface.py): the methods an operation
    declares (``x-creditwatch-methods``, else one named after the operationId), the
    constructor argument of its security scheme (``x-creditwatch-credential``, else
    ``api_key``), the part of the body it returns (``result``, else the spec's
    ``x-creditwatch-envelope``)."""
    calls: dict[tuple[str, str], list[tuple[str, dict[str, str], Callable[[Any], Any]]]] = {}
    for provider in PROVIDERS:
        spec = load(provider)
        envelope = spec.get("x-creditwatch-envelope")
        schemes = spec.get("components", {}).get("securitySchemes", {})
        for _path, _method, op in operations(spec):
            requirements = op.get("security", spec.get("security")) or [{}]
            arguments = {
                schemes[name].get("x-creditwatch-credential", "api_key")
                for requirement in requirements
                for name in requirement
            } or {"api_key"}
            argument = arguments.pop()
            credential = {argument: FAKE_KEY if argument == "api_key" else FAKE_TOKEN}
            declared = op.get("x-creditwatch-methods") or [{"name": _snake(op["operationId"])}]
            calls[(provider, op["operationId"])] = [
                (d["name"], credential, _part(d.get("result", envelope))) for d in declared
            ]
    return calls


# one entry per spec operation
_CALLS = _calls()


def spec_operations() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(provider, operationId, path, operation) of every operation in specs/."""
    for provider in PROVIDERS:
        for path, _method, op in operations(load(provider)):
            yield provider, op["operationId"], path, op


def client_operations() -> list[Op]:
    return [
        Op(provider, op_id, concrete_path(provider, path), method, credential, unwrap)
        for provider, op_id, path, _ in spec_operations()
        for method, credential, unwrap in _CALLS.get((provider, op_id), [])
    ]


def documented_statuses(provider: str, operation_id: str) -> dict[int, dict[str, Any] | None]:
    """status -> JSON Schema of its body (None: no JSON body), for every documented status."""
    spec = load(provider)
    for _, _, op in operations(spec):
        if op["operationId"] == operation_id:
            result: dict[int, dict[str, Any] | None] = {}
            for status, response in op["responses"].items():
                media = resolve(spec, response).get("content", {}).get(JSON)
                result[int(status)] = None if media is None else json_schema(spec, media["schema"])
            return result
    raise KeyError(operation_id)


# -- OpenAPI 3.0 schema -> JSON Schema ------------------------------------------------------

_DROP = {"example", "examples", "deprecated", "xml", "externalDocs", "readOnly", "writeOnly"}


def json_schema(spec: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """An OpenAPI 3.0 schema as plain JSON Schema: ``$ref``s inlined, ``nullable``
    translated to ``anyOf [..., null]``, OpenAPI-only keywords and ``x-`` extensions
    dropped."""
    if depth > 12:  # a recursive schema (Flamel's Plan <-> Model) is cut off here
        return {"not": {}}
    if isinstance(node, list):
        return [json_schema(spec, item, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return json_schema(spec, resolve(spec, node), depth + 1)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key.startswith("x-") or key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: json_schema(spec, sub, depth) for name, sub in value.items()}
        elif key in {"items", "additionalProperties", "not"} or key in {"allOf", "anyOf", "oneOf"}:
            out[key] = json_schema(spec, value, depth)
        else:
            out[key] = value
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


# -- serving bodies through the real clients -----------------------------------------------


@dataclass
class Served:
    """What the mock transport answers: per path, a status and raw bytes."""

    routes: dict[str, tuple[int, bytes]]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status, content = self.routes[request.url.path]
        return httpx.Response(status, content=content, headers={"content-type": JSON})


def call(
    op: Op,
    mode: str,
    routes: dict[str, tuple[int, bytes]],
    method: str | None = None,
    **client_options: Any,
) -> Any:
    """Construct the provider's client on a MockTransport, call one method, close."""
    module = getattr(creditwatch, op.provider)
    handler = Served(routes)
    options: dict[str, Any] = {
        "base_url": BASE_URL,
        "max_retries": 0,
        **with_credentials(op.provider, dict(op.credential)),
        **client_options,
    }
    name = method or op.method
    if mode == "sync":
        with (
            httpx.Client(transport=httpx.MockTransport(handler)) as http,
            module.Client(http_client=http, **options) as client,
        ):
            return getattr(client, name)()

    async def run() -> Any:
        async with (
            httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http,
            module.AsyncClient(http_client=http, **options) as client,
        ):
            return await getattr(client, name)()

    return asyncio.run(run())


def field_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every field and array item inside a JSON value, outermost first."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict | list):
        for key, child in value.items() if isinstance(value, dict) else enumerate(value):
            found.append((*prefix, key))
            found += field_paths(child, (*prefix, key))
    return found


# -- run-time type check of parsed models ---------------------------------------------------


@functools.cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def result_problems(op: Op, result: Any) -> list[str]:
    """Where what `op`'s client method returned is not the type its signature declares
    (empty: none), checked field by field."""
    method = getattr(getattr(creditwatch, op.provider).Client, op.method)
    return type_problems(result, typing.get_type_hints(method)["return"])


def type_problems(  # noqa: PLR0911, PLR0912 - one branch per kind of annotation
    value: Any, hint: Any, path: str = "$"
) -> list[str]:
    """Where `value` is not what the annotation `hint` allows, down to every field of a
    model (empty: nowhere).

    Strict like JSON: ``int`` is not ``bool``, ``float`` is an int or a float (not a
    bool), ``str`` is exactly ``str``."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return []
    if origin in (typing.Union, types.UnionType):
        options = [type_problems(value, option, path) for option in typing.get_args(hint)]
        if any(not problems for problems in options):
            return []
        return [f"{path}: {_show(value)} is not {_hint_name(hint)}"]
    if hint is type(None):
        return [] if value is None else [f"{path}: {_show(value)} is not None"]
    if origin is typing.Literal:  # a const (ElevenLabs' pending_change.kind)
        allowed = typing.get_args(hint)
        ok = any(type(value) is type(a) and value == a for a in allowed)
        return [] if ok else [f"{path}: {_show(value)} is not one of {allowed!r}"]
    if origin is list:
        if type(value) is not list:
            return [f"{path}: {_show(value)} is not a list"]
        (item,) = typing.get_args(hint)
        return [p for i, v in enumerate(value) for p in type_problems(v, item, f"{path}[{i}]")]
    if origin is dict:
        if type(value) is not dict:
            return [f"{path}: {_show(value)} is not a dict"]
        _, item = typing.get_args(hint)
        found = [f"{path}: key {k!r} is not str" for k in value if type(k) is not str]
        return found + [p for k, v in value.items() for p in type_problems(v, item, f"{path}.{k}")]
    if hint is bool or hint is int or hint is str:
        return [] if type(value) is hint else [f"{path}: {_show(value)} is not {hint.__name__}"]
    if hint is float:
        return [] if type(value) in (int, float) else [f"{path}: {_show(value)} is not float"]
    if hint in (datetime.datetime, datetime.date, uuid.UUID) or (
        isinstance(hint, type) and issubclass(hint, enum.Enum)
    ):
        ok = isinstance(value, hint) and not (
            hint is datetime.date and isinstance(value, datetime.datetime)
        )
        return [] if ok else [f"{path}: {_show(value)} is not {hint.__name__}"]
    if isinstance(hint, type) and hint.__name__ == "Unset":  # each provider has its own
        return [] if type(value) is hint else [f"{path}: {_show(value)} is not Unset"]
    if isinstance(hint, type) and attrs.has(hint):
        if not isinstance(value, hint):
            return [f"{path}: {_show(value)} is not {hint.__name__}"]
        found = []
        for field in attrs.fields(hint):
            found += type_problems(
                getattr(value, field.name), _hints(hint)[field.name], f"{path}.{field.name}"
            )
        return found
    raise AssertionError(f"{path}: the checker does not know the annotation {hint!r}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def _hint_name(hint: Any) -> str:
    return re.sub(r"\b[\w.]+\.", "", str(hint))
