"""Reading specs/*.yaml in the spec pipeline tests, written once.

Independent of the generator on purpose: these helpers do not import scripts/codegen/,
so the tests that use them check the specs with their own reading.
"""

from __future__ import annotations

import copy
import datetime
import functools
import importlib
import uuid
from collections.abc import Iterator
from typing import Any

import yaml

from codegen.providers import PROVIDERS as DECLARED
from conftest import SPECS

Spec = dict[str, Any]
JSON = "application/json"
# specs/P.yaml made from specs/upstream/P.yaml: the providers whose declaration names an
# upstream snapshot
NORMALIZED = tuple(p.name for p in DECLARED if p.upstream is not None)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@functools.cache
def load(provider: str) -> Spec:
    """specs/<provider>.yaml, parsed once and shared: callers must not change it."""
    data = yaml.safe_load((SPECS / f"{provider}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), provider
    return data


def load_copy(provider: str) -> Spec:
    """A private copy of specs/<provider>.yaml, for a caller that may change it."""
    return copy.deepcopy(load(provider))


def pointer(*parts: object) -> str:
    """A JSON pointer from unescaped parts: pointer("paths", "/me") == "/paths/~1me"."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def at(doc: Any, ptr: str) -> Any:
    """The node at JSON pointer ``ptr`` in ``doc`` (no ``$ref`` followed)."""
    for part in ptr.split("/")[1:]:
        key = part.replace("~1", "/").replace("~0", "~")
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    return doc


def _follow(spec: Spec, ptr: str, node: Any) -> tuple[str, Any]:
    """Follow the local ``$ref`` chain from ``node`` (at ``ptr``): (its end's pointer, end)."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert isinstance(ref, str) and ref.startswith("#/"), f"non-local $ref {ref!r}"
        assert ref not in seen, f"$ref cycle at {ref}"
        seen.add(ref)
        ptr = ref[1:]
        node = at(spec, ptr)
    return ptr, node


def deref(spec: Spec, ptr: str) -> tuple[str, Any]:
    """Follow local ``$ref`` chains from the node at ``ptr``: (pointer of the target, target)."""
    return _follow(spec, ptr, at(spec, ptr))


def resolve(spec: Spec, node: Any) -> Any:
    """What ``node`` stands for: the end of its local ``$ref`` chain, or ``node`` itself."""
    return _follow(spec, "", node)[1]


def operations(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of every operation of ``spec``, in document order."""
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def op_security(spec: Spec, op: dict[str, Any]) -> list[dict[str, list[str]]]:
    """The security requirements of ``op``: its own, else the spec's global ones."""
    requirements = op.get("security", spec.get("security", []))
    assert isinstance(requirements, list)
    return requirements


def generated_model(provider: str, name: str) -> type[Any]:
    """The shipped client's (openapi-python-client's) model class for schema ``name``."""
    models = importlib.import_module(f"creditwatch._generated.{provider}.models")
    cls = getattr(models, name, None)
    assert isinstance(cls, type), f"openapi-python-client made no model {name} for {provider}"
    return cls


def same_text_value(a: str, b: str) -> bool:
    """Two spellings of one date-time (same instant at the same offset) or one UUID."""
    for parse in (datetime.datetime.fromisoformat, uuid.UUID):
        try:
            x, y = parse(a), parse(b)
        except ValueError:
            continue
        if isinstance(x, datetime.datetime) and isinstance(y, datetime.datetime):
            return x == y and x.utcoffset() == y.utcoffset()
        return x == y
    return False


def class_name(schema: str) -> str:
    """The class openapi-python-client makes of a component schema: its name, or for
    a dotted one (Twilio's ``api.v2010.account.balance``) its parts capitalized and
    joined (``ApiV2010AccountBalance``)."""
    if "." not in schema:
        return schema
    return "".join(part[:1].upper() + part[1:] for part in schema.split("."))


def response_class(op: dict[str, Any], status: object, media: dict[str, Any]) -> str:
    """The class name of a response body: its component schema's (`class_name`), or for
    an inline schema (OpenRouter's) ``<OperationId>Response<status>``, as
    openapi-python-client names it."""
    ref = media["schema"].get("$ref")
    if isinstance(ref, str):
        return class_name(ref.rsplit("/", 1)[-1])
    opid: str = op["operationId"]
    return f"{opid[:1].upper()}{opid[1:]}Response{status}"
