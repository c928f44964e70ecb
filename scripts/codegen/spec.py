"""Small, explicit helpers the normalizer steps are written with.

A spec is the plain ``dict`` that YAML loading gives. Every helper fails loudly
(`SpecError`) when the thing it should fix is not where the step expects it, so that
a provider's spec change that moves or removes it is noticed instead of silently
skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

Spec = dict[str, Any]
Schema = dict[str, Any]
Step = Callable[[Spec], None]

HANGUL = re.compile(r"[\u3131-\u318e\uac00-\ud7a3]")


class SpecError(Exception):
    """A normalizer step did not find what it fixes: the upstream spec changed.

    ``file`` (and ``line``) name another file to fix than the step's module (a
    translation table), ``hint`` what to do there."""

    def __init__(
        self, message: str, *, file: Path | None = None, hint: str = "", line: int | None = None
    ) -> None:
        super().__init__(message)
        self.file = file
        self.hint = hint
        self.line = line


def load(path: Path) -> Spec:
    from .report import Problem, load_yaml  # noqa: PLC0415 - report imports nothing of ours

    data = load_yaml(path)
    if not isinstance(data, dict):
        raise Problem(path, "not a YAML mapping", "an OpenAPI document is a mapping at the top")
    return data


def dump(spec: Spec, header: str) -> str:
    """Serialize deterministically: key order kept as built, unicode kept, no anchors."""

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    body = yaml.dump(spec, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100)
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comment + body


def schemas(spec: Spec) -> dict[str, Schema]:
    result: dict[str, Schema] = spec.setdefault("components", {}).setdefault("schemas", {})
    return result


def schema(spec: Spec, name: str) -> Schema:
    try:
        return schemas(spec)[name]
    except KeyError:
        raise SpecError(f"schema {name!r} not found") from None


def prop(spec: Spec, schema_name: str, name: str) -> Schema:
    try:
        result: Schema = schema(spec, schema_name)["properties"][name]
    except KeyError:
        raise SpecError(f"property {schema_name}.{name} not found") from None
    return result


def operations(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options"}:
                yield path, method, operation


def operation(spec: Spec, method: str, path: str) -> dict[str, Any]:
    try:
        result: dict[str, Any] = spec["paths"][path][method]
    except KeyError:
        raise SpecError(f"operation {method.upper()} {path} not found") from None
    return result


def resolve(spec: Spec, node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` ('#/components/responses/X') to what it names."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def all_properties(spec: Spec) -> Iterator[tuple[str, str, Schema]]:
    for schema_name, body in schemas(spec).items():
        for name, value in body.get("properties", {}).items():
            yield schema_name, name, value


def make_nullable(spec: Spec, schema_name: str, *names: str) -> None:
    """Let ``null`` through. A ``$ref``/``allOf`` property gets the 3.0 spelling
    ``allOf: [$ref] + nullable``, which every tool in the pipeline reads as nullable."""
    for name in names:
        body = prop(spec, schema_name, name)
        if "$ref" in body:
            body["allOf"] = [{"$ref": body.pop("$ref")}]
        body["nullable"] = True


def make_optional(spec: Spec, schema_name: str, *names: str) -> None:
    body = schema(spec, schema_name)
    required = body.get("required", [])
    for name in names:
        if name not in body.get("properties", {}):
            raise SpecError(f"property {schema_name}.{name} not found")
        if name in required:
            required.remove(name)
    if not required:
        body.pop("required", None)


def retype(spec: Spec, schema_name: str, name: str, new_type: str) -> None:
    body = prop(spec, schema_name, name)
    body["type"] = new_type
    if new_type == "integer" and isinstance(body.get("example"), float):
        body["example"] = int(body["example"])


def strip_hangul_parenthetical(text: str) -> str:
    """'Get My Info(내 정보 조회)' -> 'Get My Info': the English half of a bilingual text."""
    return re.sub(r"\s*\([^)]*[\u3131-\u318e\uac00-\ud7a3][^)]*\)", "", text).strip()
