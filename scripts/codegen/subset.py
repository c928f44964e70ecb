"""Reduce a published OpenAPI document to the operations creditwatch uses.

A provider's published spec can hold hundreds of operations and thousands of
schemas (Twilio's is 1.9 MB); creditwatch needs one or two operations of it. `subset`
keeps exactly what those operations need and nothing else, so a multi-megabyte spec
becomes a spec of a few kilobytes and a small generated package, with no
per-provider code:

- the selected operations, under their paths, with the path item's own keys
  (``parameters``, ``servers``, ``summary``, ``description``, ``x-...``);
- every component they reach through ``$ref``, transitively (refs inside refs,
  inside parameters, responses, headers, examples, request bodies, links,
  callbacks) and through ``discriminator.mapping``, of every component kind;
- the security schemes named by the kept operations' ``security`` or by the
  top-level ``security``;
- ``openapi``, ``info``, ``jsonSchemaDialect``, ``servers``, ``security``,
  ``externalDocs``, and the top-level ``tags`` the kept operations use.

Everything else goes: other paths, ``webhooks``, unreachable components and
top-level ``x-...`` extensions (they belong to the provider's own tooling).

The output is deterministic: paths, methods, component kinds, component names and
tags keep the order they have in the input, whatever the order of the selection, and
the input is not modified (the output shares no node with it).

An operation is selected by its ``operationId`` (``"getUsage"``) or by method and
path (``"GET /v2/usage"``). A selection that names no operation, or an operationId
used by two operations, or a ``$ref`` that cannot be followed inside the document,
raises `SubsetError` naming it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from typing import Any

from .spec import Spec, SpecError

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TOP = ("openapi", "info", "jsonSchemaDialect", "servers", "security", "externalDocs")
_SELECTOR = re.compile(rf"^(?P<method>{'|'.join(METHODS)})\s+(?P<path>/\S*)$", re.I)


class SubsetError(SpecError):
    """The selection or a reference in the document cannot be honoured."""


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def find_operation(spec: Spec, selector: str) -> tuple[str, str]:
    """(path, method) of the operation a selector names: an operationId, or
    ``"GET /path"``. `SubsetError` if it names none, or an operationId names two."""
    paths: dict[str, Any] = spec.get("paths") or {}
    match = _SELECTOR.match(selector.strip())
    if match:
        method, path = match["method"].lower(), match["path"]
        item = paths.get(path)
        if not isinstance(item, dict) or method not in item:
            raise SubsetError(f"subset: operation {method.upper()} {path} not found in the spec")
        return path, method
    found = [
        (path, method)
        for path, item in paths.items()
        if isinstance(item, dict)
        for method in METHODS
        if isinstance(item.get(method), dict) and item[method].get("operationId") == selector
    ]
    if not found:
        raise SubsetError(f"subset: operation {selector!r} not found (no such operationId)")
    if len(found) > 1:
        where = ", ".join(f"{m.upper()} {p}" for p, m in found)
        raise SubsetError(f"subset: operationId {selector!r} is ambiguous ({where})")
    return found[0]


def _refs(node: Any) -> Iterator[str]:
    """Every local reference in a node: ``$ref`` strings and discriminator mappings.

    A ``discriminator.mapping`` value is a ref or a bare schema name."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key == "discriminator" and isinstance(value, dict):
                for target in (value.get("mapping") or {}).values():
                    if isinstance(target, str):
                        yield target if "#" in target else f"#/components/schemas/{target}"
                yield from _refs(value)
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _component_of(spec: Spec, ref: str) -> tuple[str, str]:
    """(kind, name) of the component a ref points into, checking the target exists."""
    if not ref.startswith("#/"):
        raise SubsetError(f"subset: $ref {ref!r} is not local to the document")
    parts = [_unescape(token) for token in ref[2:].split("/")]
    if len(parts) < 3 or parts[0] != "components":
        raise SubsetError(f"subset: $ref {ref!r} points outside #/components")
    target: Any = spec
    for part in parts:
        if isinstance(target, dict) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            raise SubsetError(f"subset: $ref {ref!r} names nothing in the spec")
    return parts[1], parts[2]


def _security_names(requirements: Any) -> Iterator[str]:
    for requirement in requirements or []:
        if isinstance(requirement, dict):
            yield from requirement


def subset(spec: Spec, selection: Iterable[str]) -> Spec:
    """The part of `spec` that the selected operations need (see the module docstring)."""
    chosen: dict[str, set[str]] = {}
    for selector in selection:
        path, method = find_operation(spec, selector)
        chosen.setdefault(path, set()).add(method)
    if not chosen:
        raise SubsetError("subset: the selection names no operation")

    paths: dict[str, Any] = {}
    security = set(_security_names(spec.get("security")))
    tags: set[str] = set()
    for path, item in spec["paths"].items():  # the input's order, not the selection's
        if path not in chosen:
            continue
        kept = {
            key: value for key, value in item.items() if key not in METHODS or key in chosen[path]
        }
        paths[path] = kept
        for method in chosen[path]:
            operation = item[method]
            security.update(_security_names(operation.get("security")))
            tags.update(tag for tag in operation.get("tags", []) if isinstance(tag, str))

    # The transitive closure of the components reached from the kept paths.
    components: dict[str, Any] = spec.get("components") or {}
    reached: set[tuple[str, str]] = set()
    schemes = components.get("securitySchemes") or {}
    for name in sorted(security):
        if name not in schemes:
            raise SubsetError(f"subset: security scheme {name!r} is not defined in the spec")
        reached.add(("securitySchemes", name))
    pending = [ref for name in sorted(security) for ref in _refs(schemes[name])]
    pending.extend(_refs(paths))
    while pending:
        key = _component_of(spec, pending.pop())
        if key in reached:
            continue
        reached.add(key)
        pending.extend(_refs(components[key[0]][key[1]]))

    result: Spec = {key: spec[key] for key in _TOP if key in spec}
    if "tags" in spec:
        used = [tag for tag in spec["tags"] if isinstance(tag, dict) and tag.get("name") in tags]
        if used:
            result["tags"] = used
    result["paths"] = paths
    kinds = {kind for kind, _ in reached}
    kept_components = {
        kind: {name: body for name, body in bodies.items() if (kind, name) in reached}
        for kind, bodies in components.items()
        if kind in kinds
    }
    if kept_components:
        result["components"] = kept_components
    return copy.deepcopy(result)
