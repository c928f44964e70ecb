"""Classify what changed between two specs, and between two generated client surfaces,
from the point of view of code that calls creditwatch.

Every change is one `Change` found by one rule of `RULES`. A rule has a class
(`Severity`), which decides the version bump, and a Keep-a-Changelog section (Added,
Changed, Removed), which decides where the changelog lists it:

BREAKING (major; minor while the version is 0.x)
    Code that works with the previous release can fail after upgrading: a name it
    uses is gone, a value it reads has another type or can now be missing, or a call
    it makes now lacks a required argument or passes one that no longer exists.
COMPATIBLE (minor)
    Code that works with the previous release keeps working, and new things exist
    (an operation, a field, a parameter, an enum value) or guarantees got stronger
    (a field that may be absent now always comes).
DOCS (patch)
    Only words changed: descriptions, summaries, examples. The generated code differs
    in docstrings and in the demo's example data only.

Why each rule has its class is in its ``why``. The two inputs of `classify_specs` are
the normalized specs as plain dicts; `read_surface` reads the public methods of a
generated client module with `ast` (nothing is imported) and `classify_surface`
compares two such readings. Spec-level rules do not depend on the surface ones.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, Literal

from openapi_python_client.strings import snake_case

Spec = dict[str, Any]
Section = Literal["Added", "Changed", "Deprecated", "Removed"]


class Severity(IntEnum):
    """The class of a change; the highest one among all changes decides the bump."""

    DOCS = 1
    CODE = 2
    COMPATIBLE = 3
    BREAKING = 4


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    section: Section
    text: str  # what changed, as the report and the changelog say it
    why: str  # why the class is what it is
    label: str = ""  # how the report labels it, when not by its class ("behaviour change")


B, C, K, D = Severity.BREAKING, Severity.COMPATIBLE, Severity.CODE, Severity.DOCS
# fmt: off
RULES: dict[str, Rule] = {rule.id: rule for rule in (
    # -- operations and methods ---------------------------------------------------
    Rule("operation-removed", B, "Removed", "operation removed",
         "Its method disappears from Client/AsyncClient: calling it raises AttributeError (and "
         "mypy rejects it)."),
    Rule("operation-renamed", B, "Changed", "operation renamed",
         "Method names are the operationId in snake_case: a new operationId on the same path "
         "is a new method name and the old one is gone."),
    Rule("operation-added", C, "Added", "operation added",
         "A new method; nothing that exists changes."),
    Rule("operation-path-changed", C, "Changed", "operation moved to another path",
         "The method keeps its name and arguments; only where the request goes changes, which "
         "is what upgrading is for (the old path is the provider's to retire). Rated like a "
         "base URL change: a behaviour change, minor.", "behaviour change"),
    Rule("return-type-changed", B, "Changed", "return type changed",
         "Code that uses the result as the old type (attributes, isinstance, annotations) "
         "breaks."),
    # -- response fields ------------------------------------------------------------
    Rule("response-field-removed", B, "Removed", "response field removed",
         "Reading the attribute raises AttributeError; to_dict() loses the key."),
    Rule("response-field-retyped", B, "Changed", "response field type changed",
         "Code that treats the value as the old type (arithmetic, string methods, datetime "
         "calls, nested attributes) breaks."),
    Rule("response-field-became-optional", B, "Changed", "response field became optional",
         "The attribute's type gains `Unset`: code that reads it without checking meets UNSET, "
         "and mypy --strict rejects the unchecked use."),
    Rule("response-field-became-nullable", B, "Changed", "response field became nullable",
         "The attribute's type gains `None`: code that uses it without checking meets None."),
    Rule("response-field-added", C, "Added", "response field added",
         "A new attribute; unknown fields were kept in additional_properties before, and "
         "existing attributes are unchanged."),
    Rule("response-field-became-required", C, "Changed", "response field became required",
         "The attribute's type loses `Unset`: every check callers wrote still works, it is "
         "just always false."),
    Rule("response-field-became-non-nullable", C, "Changed", "response field is no longer nullable",
         "The attribute's type loses `None`: existing None checks still work."),
    # -- parameters and request bodies ------------------------------------------------
    Rule("parameter-added-required", B, "Added", "required parameter added",
         "Every existing call lacks the new argument: TypeError at run time, an error for "
         "mypy."),
    Rule("parameter-became-required", B, "Changed", "parameter became required",
         "Calls that leave it out fail."),
    Rule("parameter-removed", B, "Removed", "parameter removed",
         "Calls that pass it fail with TypeError (unexpected keyword argument)."),
    Rule("parameter-retyped", B, "Changed", "parameter type changed",
         "Values callers pass are of the old type: mypy rejects them and the API may too."),
    Rule("parameter-added-optional", C, "Added", "optional parameter added",
         "It defaults to UNSET: existing calls are unchanged."),
    Rule("parameter-became-optional", C, "Changed", "parameter became optional",
         "Calls that pass it still work; it may now be left out."),
    # -- enums and models -------------------------------------------------------------
    Rule("enum-value-removed", B, "Removed", "enum value removed",
         "The enum member disappears: code that names it (Status.PAUSED) fails, and a request "
         "sending it may be refused."),
    Rule("enum-value-added", C, "Added", "enum value added",
         "Enums are open: an unknown value was already kept as its string (is_known False); "
         "now it also has a member."),
    Rule("model-removed", B, "Removed", "model removed",
         "`from creditwatch.<provider>.models import X` fails."),
    Rule("model-added", C, "Added", "model added",
         "A new importable class."),
    # -- provider-wide ---------------------------------------------------------------
    Rule("auth-changed", B, "Changed", "authentication changed",
         "Credentials configured for the old scheme (header, prefix, kind of key) stop "
         "working; the overlay's auth profile may need a change too."),
    Rule("auth-alternative-added", C, "Added", "alternative authentication added",
         "Every security requirement the operation had is still accepted, so the credential "
         "callers configured keeps working and the generated code does not change; one more "
         "way to authenticate exists."),
    Rule("base-url-changed", C, "Changed", "base URL changed",
         "The default base_url is the spec's first server: requests go to another host. No "
         "code a caller wrote breaks (a pinned <PROVIDER>_BASE_URL or base_url still wins), "
         "and the old host is the provider's to retire, as with an operation moved to another "
         "path: both are behaviour changes, minor, listed so that firewall allow-lists can "
         "follow.", "behaviour change"),
    Rule("parameter-default-changed", C, "Changed", "parameter default changed",
         "Calls that leave the argument out now send (or let the API assume) another value: "
         "same code, different behaviour. Minor, labelled so that callers can pin the old "
         "value.", "behaviour change"),
    # -- media types, constraints, headers, deprecation --------------------------------
    Rule("response-media-type-changed", B, "Changed", "response media type changed or removed",
         "The client parses the media types the spec lists (JSON); an answer in a media type it "
         "no longer lists, or no longer in the one it parsed, fails as "
         "APIResponseValidationError."),
    Rule("request-constraint-tightened", B, "Changed", "request constraint tightened",
         "A lower maximum or maxLength, a higher minimum or minLength, a new or changed "
         "pattern: values callers send today may now be refused."),
    Rule("request-constraint-loosened", C, "Changed", "request constraint loosened",
         "Every value accepted before is still accepted."),
    Rule("response-header-removed", B, "Removed", "response header the client reads removed",
         "The client reads it (Retry-After and the rate-limit headers drive retries and "
         "backoff): without it, retries fall back to guesses."),
    Rule("deprecated", C, "Deprecated", "deprecated",
         "Nothing changes for callers yet; the changelog says so before a later release "
         "removes it."),
    # -- generated code that is not public -------------------------------------------
    Rule("success-status-changed", K, "Changed", "success status changed",
         "The generated parser switches on the status (e.g. 200 -> 201): generated code "
         "changes, but the method returns the same type for any 2xx, so callers see nothing. "
         "Patch, labelled a code change.", "code change"),
    Rule("tag-renamed", K, "Changed", "tag renamed",
         "Tags name the generated request-builder modules (api/<tag>/), which are private; the "
         "client methods keep their names. Patch, labelled a code change.", "code change"),
    Rule("description-changed", D, "Changed", "documentation changed",
         "Descriptions, summaries and examples become docstrings and demo data; no behaviour "
         "or type changes."),
    Rule("other-changed", K, "Changed", "other spec change",
         "A change no rule above covers (a response pattern or limit, a header the client does "
         "not read, an extension): it changes no public name or type, but it is more than "
         "words, so it is listed for review as a code change with a patch bump.",
         "code change"),
)}
# fmt: on
del B, C, K, D


@dataclass(frozen=True, order=True)
class Change:
    provider: str
    subject: str  # what changed: `Model.field`, `GET /path`, `Client.method`
    rule: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown rule {self.rule!r}")

    @property
    def severity(self) -> Severity:
        return RULES[self.rule].severity

    @property
    def section(self) -> Section:
        return RULES[self.rule].section

    @property
    def label(self) -> str:
        """BREAKING, addition, compatible, behaviour change, deprecated, code change or
        docs: the class as the report prints it."""
        if self.severity is Severity.BREAKING:
            return "BREAKING"
        if RULES[self.rule].label:
            return RULES[self.rule].label
        if self.severity is Severity.DOCS:
            return "docs"
        if self.section == "Deprecated":
            return "deprecated"
        return "addition" if self.section == "Added" else "compatible"

    @property
    def summary(self) -> str:
        """What happened to the subject: the rule's text and the detail."""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{RULES[self.rule].text}{detail}"

    @property
    def shown(self) -> str:  # noqa: PLR0911 - one return per kind of subject
        """The subject in the names users see (the changelog, the summary): a field as
        its Python attribute (`AuthUserDto.default_credit`), a parameter as its keyword
        argument, an operation as its method (`get_my_info()`)."""
        field = _FIELD.match(self.subject)
        if field and not self.subject.startswith("securitySchemes."):
            return f"{field['model']}.{snake_case(field['field'])}"
        param = _PARAMETER.match(self.subject)
        if param:
            return f"{param['operation']} {snake_case(param['name'])}"
        if self.subject.endswith("()"):  # a client method already
            return self.subject
        if self.rule in {"operation-added", "operation-removed"} and self.detail.isidentifier():
            return f"{snake_case(self.detail)}() ({self.subject})"
        if self.rule == "operation-path-changed":
            return f"{snake_case(self.subject)}()"
        if self.rule == "operation-renamed":
            old, _, new = self.detail.partition(" -> ")
            return f"{snake_case(old)}() -> {snake_case(new)}() ({self.subject})"
        return self.subject

    def text(self) -> str:
        return f"{self.shown}: {self.summary}"


_FIELD = re.compile(r"^(?P<model>[A-Za-z_]\w*)\.(?P<field>[A-Za-z_$][\w$-]*)$")
_PARAMETER = re.compile(r"^(?P<operation>[A-Z]+ \S+) (?:query|header|path|cookie) (?P<name>\S+)$")


# -- reading a spec ---------------------------------------------------------------------

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Formats that change the generated Python type (the others stay `str`, `int`, `float`).
TYPED_FORMATS = {"date-time", "date-time-local", "date", "uuid", "binary"}
# Keys whose value is documentation: compared as a whole, classified as docs.
DOC_KEYS = {"description", "summary", "example", "examples", "title", "externalDocs"}
# Mappings whose keys are names chosen by the spec author, never keywords.
NAME_MAPS = {
    "properties", "schemas", "paths", "responses", "securitySchemes", "headers",
    "parameters", "requestBodies", "content", "links", "callbacks", "encoding",
    "variables", "mapping", "patternProperties",
}  # fmt: skip
# Lists compared as sets (their order generates nothing).
SET_LISTS = {"required", "enum", "tags"}


@dataclass(frozen=True)
class Field:
    """What a caller sees of one field or parameter."""

    type: str
    required: bool
    nullable: bool = False
    enum: frozenset[str] | None = None
    limits: frozenset[tuple[str, str]] = frozenset()  # (keyword, JSON value) constraints
    default: str | None = None  # JSON of the schema's default


# Constraint keywords, and which way is tighter: +1 a larger value accepts more values.
LIMITS = {
    "maximum": 1, "exclusiveMaximum": 1, "maxLength": 1, "maxItems": 1, "maxProperties": 1,
    "minimum": -1, "exclusiveMinimum": -1, "minLength": -1, "minItems": -1, "minProperties": -1,
    "pattern": 0, "multipleOf": 0,
}  # fmt: skip


def _limits(spec: Spec, node: Any) -> frozenset[tuple[str, str]]:
    node = _deref(spec, node)
    if not isinstance(node, dict):
        return frozenset()
    found = {(k, json.dumps(node[k])) for k in LIMITS if k in node}
    for member in node.get("allOf") or []:
        found |= _limits(spec, member)
    return frozenset(found)


def _default(spec: Spec, node: Any) -> str | None:
    node = _deref(spec, node)
    if isinstance(node, dict) and "default" in node:
        return json.dumps(node["default"], sort_keys=True)
    return None


def _tightened(old: frozenset[tuple[str, str]], new: frozenset[tuple[str, str]]) -> list[str]:
    """The constraints that accept fewer values in new than in old."""
    before, after = dict(old), dict(new)
    tighter = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        way = LIMITS[key]
        if a is None or b is None:
            if b is not None:  # a constraint added
                tighter.append(f"{key} {b} added")
            continue  # a constraint removed loosens
        if way == 0 or (json.loads(b) - json.loads(a)) * way < 0:
            tighter.append(f"{key} {a} -> {b}")
    return tighter


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _deref(spec: Spec, node: Any) -> Any:
    """Follow local $refs to what they name."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            break
        seen.add(ref)
        target: Any = spec
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            target = target.get(key) if isinstance(target, dict) else None
        node = target
    return node


def _shape(spec: Spec, node: Any) -> tuple[str, bool]:  # noqa: PLR0911 (one return per kind)
    """(type, nullable) of a schema as the generated code types it: a $ref is its
    model's name, arrays and maps name their items, formats count where they change
    the Python type."""
    if not isinstance(node, dict):
        return "any", False
    nullable = bool(node.get("nullable"))
    if isinstance(node.get("$ref"), str):
        target = _deref(spec, node)
        return _ref_name(node["$ref"]), nullable or bool(
            isinstance(target, dict) and target.get("nullable")
        )
    for key in ("allOf", "oneOf", "anyOf"):
        members = node.get(key)
        if isinstance(members, list) and members:
            real = [m for m in members if not (isinstance(m, dict) and m.get("type") == "null")]
            nullable |= len(real) < len(members)
            shapes = [_shape(spec, m) for m in real]
            nullable |= any(n for _, n in shapes)
            names = [t for t, _ in shapes]
            if len(names) == 1:
                return names[0], nullable
            return f"{key}[{', '.join(names)}]", nullable
    kind = node.get("type")
    if isinstance(kind, list):
        nullable |= "null" in kind
        rest = sorted(str(k) for k in kind if k != "null")
        kind = rest[0] if len(rest) == 1 else "|".join(rest)
    if kind == "array":
        item, item_null = _shape(spec, node.get("items", {}))
        return f"array[{item}{'?' if item_null else ''}]", nullable
    if kind == "object" or (kind is None and "properties" in node):
        extra = node.get("additionalProperties")
        if not node.get("properties") and isinstance(extra, dict) and extra:
            value, value_null = _shape(spec, extra)
            return f"map[{value}{'?' if value_null else ''}]", nullable
        return "object", nullable
    if kind is None:
        return "any", nullable
    fmt = node.get("format")
    return (f"{kind}:{fmt}" if fmt in TYPED_FORMATS else str(kind)), nullable


def _enum(spec: Spec, node: Any) -> frozenset[str] | None:
    """Inline enum values of a field (a $ref'd enum is compared as its own model)."""
    if isinstance(node, dict) and "$ref" not in node and isinstance(node.get("enum"), list):
        return frozenset(json.dumps(v) for v in node["enum"] if v is not None)
    return None


def _object(spec: Spec, node: Any) -> tuple[dict[str, Any], set[str]] | None:
    """(properties, required) of an object schema, allOf members merged; None if the
    schema is not an object with properties."""
    node = _deref(spec, node)
    if not isinstance(node, dict):
        return None
    properties: dict[str, Any] = dict(node.get("properties") or {})
    required = set(node.get("required") or [])
    for member in node.get("allOf") or []:
        merged = _object(spec, member)
        if merged is not None:
            properties.update(merged[0])
            required |= merged[1]
    return (properties, required) if properties else None


Models = dict[str, dict[str, Field]]  # model label -> field name -> Field
Enums = dict[str, frozenset[str]]  # enum label -> values


def _walk(spec: Spec, roots: Iterable[tuple[str, Any]], models: Models, enums: Enums) -> None:
    """Collect every model and enum reachable from roots: named schemas under their
    name, inline ones under their parent's label (`Model.field`, `... response`)."""
    todo = list(roots)
    while todo:
        label, node = todo.pop()
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("$ref"), str):
            label, node = _ref_name(node["$ref"]), _deref(spec, node)
            if not isinstance(node, dict):
                continue
        if label in models or label in enums:
            continue
        for key in ("allOf", "oneOf", "anyOf"):
            for member in node.get(key) or []:
                if isinstance(member, dict) and "$ref" in member:
                    todo.append((label, member))
        values = _enum(spec, node)
        if values is not None:
            enums[label] = values
            continue
        if node.get("type") == "array" or "items" in node:
            todo.append((f"{label}[]", node.get("items")))
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            todo.append((f"{label}{{}}", extra))
        obj = _object(spec, node)
        if obj is None:
            continue
        properties, required = obj
        fields: dict[str, Field] = {}
        for name, body in properties.items():
            kind, nullable = _shape(spec, body)
            fields[name] = Field(
                kind,
                name in required,
                nullable,
                _enum(spec, body),
                _limits(spec, body),
                _default(spec, body),
            )
            todo.append((f"{label}.{name}", body))
        models[label] = fields


@dataclass(frozen=True)
class Operation:
    key: str  # "GET /path"
    operation_id: str
    parameters: dict[str, Field]  # "query limit" / "header X-Version" / "body" -> Field
    security: tuple[tuple[str, ...], ...]


@dataclass
class Facts:
    """What the rules other than the documentation ones compare, read from one spec."""

    base_url: str | None
    operations: dict[str, Operation]
    responses: Models
    requests: Models
    enums: Enums
    schemes: dict[str, str]  # security scheme -> its definition without docs
    schema_names: set[str]


def _media_schemas(spec: Spec, holder: Any) -> Iterator[Any]:
    holder = _deref(spec, holder)
    if isinstance(holder, dict):
        for media in (holder.get("content") or {}).values():
            if isinstance(media, dict) and "schema" in media:
                yield media["schema"]


def read_spec(spec: Spec) -> Facts:
    servers = spec.get("servers") or []
    base_url = servers[0].get("url") if servers and isinstance(servers[0], dict) else None
    operations: dict[str, Operation] = {}
    responses: Models = {}
    requests: Models = {}
    enums: Enums = {}
    response_roots: list[tuple[str, Any]] = []
    request_roots: list[tuple[str, Any]] = []
    default_security = spec.get("security") or []
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            key = f"{method.upper()} {path}"
            parameters: dict[str, Field] = {}
            for raw in [*shared, *(op.get("parameters") or [])]:
                param = _deref(spec, raw)
                if not isinstance(param, dict) or "name" not in param:
                    continue
                schema = param.get("schema", {})
                kind, nullable = _shape(spec, schema)
                name = f"{param.get('in', '?')} {param['name']}"
                parameters[name] = Field(
                    kind,
                    bool(param.get("required")),
                    nullable,
                    _enum(spec, schema),
                    _limits(spec, schema),
                    _default(spec, schema),
                )
                request_roots.append((f"{key} {name}", schema))
            body = _deref(spec, op.get("requestBody"))
            for schema in _media_schemas(spec, body):
                kind, nullable = _shape(spec, schema)
                parameters["body"] = Field(kind, bool(body.get("required")), nullable)
                request_roots.append((f"{key} body", schema))
            for status, response in (op.get("responses") or {}).items():
                label = f"{key} {status} response"
                if isinstance(response, dict) and isinstance(response.get("$ref"), str):
                    label = f"{_ref_name(response['$ref'])} response"
                response_roots += [(label, s) for s in _media_schemas(spec, response)]
            security = op.get("security", default_security) or []
            operations[key] = Operation(
                key,
                str(op.get("operationId", key)),
                parameters,
                tuple(sorted(tuple(sorted(req)) for req in security if isinstance(req, dict))),
            )
    _walk(spec, response_roots, responses, enums)
    _walk(spec, request_roots, requests, enums)
    components = spec.get("components") or {}
    # x-creditwatch-* keys are generator hints (codegen/surface.py): what they change for
    # callers shows in the client surface, which is compared on its own.
    schemes = {
        name: json.dumps(
            {k: v for k, v in _without_docs(body).items() if not k.startswith("x-creditwatch")},
            sort_keys=True,
        )
        for name, body in (components.get("securitySchemes") or {}).items()
    }
    return Facts(
        base_url,
        operations,
        responses,
        requests,
        enums,
        schemes,
        set(components.get("schemas") or {}),
    )


# -- comparing two specs ----------------------------------------------------------------


def _fields(
    provider: str, old: Models, new: Models, direction: Literal["response", "request"]
) -> Iterator[Change]:
    for model in sorted(old.keys() & new.keys()):
        before, after = old[model], new[model]
        for name in sorted(before.keys() | after.keys()):
            subject = f"{model}.{name}"
            yield from _field(provider, subject, before.get(name), after.get(name), direction)


def _field(
    provider: str,
    subject: str,
    old: Field | None,
    new: Field | None,
    direction: Literal["response", "request"],
) -> Iterator[Change]:
    """The rules for one field (response) or parameter (request), old -> new."""
    response = direction == "response"
    if old is None and new is not None:
        if response:
            yield Change(provider, subject, "response-field-added", _describe(new))
        else:
            rule = "parameter-added-required" if new.required else "parameter-added-optional"
            yield Change(provider, subject, rule, _describe(new))
        return
    if new is None and old is not None:
        rule = "response-field-removed" if response else "parameter-removed"
        yield Change(provider, subject, rule, f"was {_describe(old)}")
        return
    assert old is not None and new is not None
    if old.type != new.type:
        rule = "response-field-retyped" if response else "parameter-retyped"
        yield Change(provider, subject, rule, f"{old.type} -> {new.type}")
    if old.required != new.required:
        if response:
            rule = (
                "response-field-became-required"
                if new.required
                else ("response-field-became-optional")
            )
        else:
            rule = "parameter-became-required" if new.required else "parameter-became-optional"
        yield Change(provider, subject, rule)
    if old.nullable != new.nullable:
        if response:
            rule = (
                "response-field-became-nullable"
                if new.nullable
                else ("response-field-became-non-nullable")
            )
            yield Change(provider, subject, rule)
        else:  # a request value that may be None now: None was not accepted before
            yield Change(
                provider,
                subject,
                "parameter-added-optional" if new.nullable else "parameter-retyped",
                "now accepts null" if new.nullable else "no longer accepts null",
            )
    if old.enum is not None and new.enum is not None:
        yield from _enum_values(provider, subject, old.enum, new.enum)
    if not response and old.limits != new.limits:
        tighter = _tightened(old.limits, new.limits)
        if tighter:
            yield Change(provider, subject, "request-constraint-tightened", "; ".join(tighter))
        else:
            yield Change(provider, subject, "request-constraint-loosened")
    if not response and old.default != new.default:
        yield Change(
            provider, subject, "parameter-default-changed", f"{old.default} -> {new.default}"
        )


def _describe(field: Field) -> str:
    words = [field.type]
    if field.nullable:
        words.append("nullable")
    words.append("required" if field.required else "optional")
    return ", ".join(words)


def _enum_values(
    provider: str, subject: str, old: frozenset[str], new: frozenset[str]
) -> Iterator[Change]:
    for value in sorted(old - new):
        yield Change(provider, subject, "enum-value-removed", value)
    for value in sorted(new - old):
        yield Change(provider, subject, "enum-value-added", value)


def classify_specs(provider: str, old: Spec, new: Spec) -> list[Change]:
    """Every change from `old` to `new` (two normalized specs), classified."""
    before, after = read_spec(old), read_spec(new)
    changes: list[Change] = []
    add = changes.append
    if before.base_url != after.base_url:
        add(
            Change(
                provider, "servers", "base-url-changed", f"{before.base_url} -> {after.base_url}"
            )
        )

    old_ids = {op.operation_id: op for op in before.operations.values()}
    new_ids = {op.operation_id: op for op in after.operations.values()}
    for key in sorted(before.operations.keys() | after.operations.keys()):
        old_op, new_op = before.operations.get(key), after.operations.get(key)
        if new_op is None:
            assert old_op is not None
            moved = new_ids.get(old_op.operation_id)
            if moved is not None and moved.key not in before.operations:
                add(Change(provider, old_op.operation_id, "operation-path-changed",
                           f"{key} -> {moved.key}"))  # fmt: skip
                _operation_pair(provider, old_op, moved, changes)
            else:
                add(Change(provider, key, "operation-removed", old_op.operation_id))
            continue
        if old_op is None:
            moved = old_ids.get(new_op.operation_id)
            if moved is None or moved.key in after.operations:
                add(Change(provider, key, "operation-added", new_op.operation_id))
            continue
        if old_op.operation_id != new_op.operation_id:
            add(Change(provider, key, "operation-renamed",
                       f"{old_op.operation_id} -> {new_op.operation_id}"))  # fmt: skip
        _operation_pair(provider, old_op, new_op, changes)

    for name, definition in sorted(before.schemes.items()):
        if name in after.schemes and after.schemes[name] != definition:
            add(Change(provider, f"securitySchemes.{name}", "auth-changed", "definition changed"))
    for name in sorted(before.schema_names - after.schema_names):
        add(Change(provider, name, "model-removed"))
    for name in sorted(after.schema_names - before.schema_names):
        add(Change(provider, name, "model-added"))
    for label in sorted(before.enums.keys() & after.enums.keys()):
        changes += _enum_values(provider, label, before.enums[label], after.enums[label])
    changes += _fields(provider, before.responses, after.responses, "response")
    changes += _fields(provider, before.requests, after.requests, "request")
    for key in sorted(before.operations.keys() & after.operations.keys()):
        changes += _operation_extras(provider, key, _raw(old, key), _raw(new, key))
    if _tag_names(old) != _tag_names(new):
        changes.append(Change(provider, "tags", "tag-renamed", "the document's tag list"))
    changes += _deprecations(provider, old, new)
    changes += _documentation(provider, old, new)
    changes += _unexplained(provider, old, new, changes)
    return sorted(set(changes), key=lambda c: (-c.severity, c.subject, c.rule, c.detail))


def _raw(spec: Spec, key: str) -> dict[str, Any]:
    method, _, path = key.partition(" ")
    op = (spec.get("paths") or {}).get(path, {}).get(method.lower())
    return op if isinstance(op, dict) else {}


def _tag_names(spec: Spec) -> set[str]:
    return {str(t.get("name")) for t in spec.get("tags") or [] if isinstance(t, dict)}


# Response headers the client reads (overlays/_base.py: retries and backoff).
READ_HEADERS = re.compile(r"^(retry-after|x-ratelimit-.*|ratelimit(-.*)?)$", re.IGNORECASE)


def _operation_extras(
    provider: str, key: str, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Change]:
    """Tags, success statuses, response media types and response headers of one
    operation present in both specs."""
    if sorted(old.get("tags") or []) != sorted(new.get("tags") or []):
        yield Change(provider, key, "tag-renamed", f"{old.get('tags')} -> {new.get('tags')}")
    old_responses, new_responses = old.get("responses") or {}, new.get("responses") or {}
    success = [
        sorted(str(c) for c in r if str(c).startswith("2")) for r in (old_responses, new_responses)
    ]
    if success[0] != success[1]:
        yield Change(
            provider,
            key,
            "success-status-changed",
            f"{', '.join(success[0])} -> {', '.join(success[1])}",
        )
    for status in sorted(old_responses.keys() & new_responses.keys(), key=str):
        before, after = old_responses[status], new_responses[status]
        if not (isinstance(before, dict) and isinstance(after, dict)):
            continue
        gone = sorted(set(before.get("content") or {}) - set(after.get("content") or {}))
        if gone:
            now = ", ".join(sorted(after.get("content") or {})) or "no body"
            yield Change(
                provider,
                f"{key} {status} response",
                "response-media-type-changed",
                f"{', '.join(gone)} -> {now}",
            )
        for header in sorted(set(before.get("headers") or {}) - set(after.get("headers") or {})):
            if READ_HEADERS.match(str(header)):
                yield Change(
                    provider, f"{key} {status} response header {header}", "response-header-removed"
                )


def _deprecations(provider: str, old: Spec, new: Spec) -> Iterator[Change]:
    """Operations, parameters and fields that became deprecated."""
    for path, was in _diff(old, new):
        if was or not path or path[-1] != "deprecated":
            continue
        node: Any = new
        for part in path:
            node = node[int(part)] if isinstance(node, list) else node.get(part)
            if node is None:
                break
        if node is True:
            yield Change(provider, _location(path[:-1]), "deprecated")


def _operation_pair(provider: str, old: Operation, new: Operation, out: list[Change]) -> None:
    for name in sorted(old.parameters.keys() | new.parameters.keys()):
        out += _field(
            provider,
            f"{new.key} {name}",
            old.parameters.get(name),
            new.parameters.get(name),
            "request",
        )
    if old.security != new.security:
        kept = set(old.security) <= set(new.security) and old.security
        out.append(
            Change(
                provider,
                new.key,
                "auth-alternative-added" if kept else "auth-changed",
                f"security {_requirements(old.security)} -> {_requirements(new.security)}",
            )
        )


def _requirements(security: tuple[tuple[str, ...], ...]) -> str:
    return " or ".join("+".join(req) or "none" for req in security) or "none"


# -- documentation and everything else: a generic walk ------------------------------------


def _without_docs(node: Any, names: bool = False) -> Any:
    """node without its documentation keys (names: node's keys are names, keep all)."""
    if isinstance(node, dict):
        return {
            k: _without_docs(v, k in NAME_MAPS and not names)
            for k, v in node.items()
            if names or k not in DOC_KEYS
        }
    if isinstance(node, list):
        return [_without_docs(v) for v in node]
    return node


def _diff(
    old: Any, new: Any, path: tuple[str, ...] = (), names: bool = False
) -> Iterator[tuple[tuple[str, ...], bool]]:
    """(path, is documentation) of every place where old and new differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            doc = not names and key in DOC_KEYS
            if doc:
                if old.get(key) != new.get(key):
                    yield (*path, key), True
                continue
            if key not in old or key not in new:
                yield (*path, key), False
                continue
            yield from _diff(old[key], new[key], (*path, key), key in NAME_MAPS and not names)
        return
    if isinstance(old, list) and isinstance(new, list):
        key = path[-1] if path else ""
        if key in SET_LISTS:
            as_set = {json.dumps(v, sort_keys=True) for v in old}
            if as_set != {json.dumps(v, sort_keys=True) for v in new}:
                yield path, False
            return
        if len(old) != len(new):
            yield path, False
            return
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _diff(a, b, (*path, str(i)))
        return
    if old != new:
        yield path, False


def _location(path: tuple[str, ...]) -> str:  # noqa: PLR0911 (one return per kind of place)
    """A readable name for a place in the spec, in the same words as rule subjects."""
    parts = list(path)
    if parts[:2] == ["components", "schemas"] and len(parts) > 2:
        name = parts[2]
        if len(parts) > 4 and parts[3] == "properties":
            return f"{name}.{parts[4]}"
        return name
    if parts[:2] == ["components", "responses"] and len(parts) > 2:
        return f"{parts[2]} response"
    if parts and parts[0] == "paths" and len(parts) > 2 and parts[2] in METHODS:
        key = f"{parts[2].upper()} {parts[1]}"
        if len(parts) > 4 and parts[3] == "responses":
            return f"{key} {parts[4]} response"
        return key
    if parts and parts[0] == "paths" and len(parts) > 1:
        return f"{parts[1]}"
    if parts and parts[0] == "servers":
        return "servers"
    if parts[:2] == ["components", "securitySchemes"] and len(parts) > 2:
        return f"securitySchemes.{parts[2]}"
    return "/".join(parts[:2]) or "(document)"


def _documentation(provider: str, old: Spec, new: Spec) -> Iterator[Change]:
    found: dict[str, set[str]] = {}
    for path, doc in _diff(old, new):
        if doc:  # named by the place the documentation belongs to
            found.setdefault(_location(path[:-1]), set()).add(path[-1])
    for location, keys in sorted(found.items()):
        yield Change(provider, location, "description-changed", ", ".join(sorted(keys)))


def _unexplained(provider: str, old: Spec, new: Spec, changes: list[Change]) -> Iterator[Change]:
    """Places that differ (beyond documentation) that no other rule named."""
    subjects = {c.subject for c in changes if c.rule != "description-changed"}
    for change in changes:  # an operation that moved is explained at both paths
        if change.rule == "operation-path-changed":
            subjects |= set(change.detail.split(" -> "))
    # These explain every place under their operation (its responses, its tags).
    covering = {
        c.subject
        for c in changes
        if c.rule in {"success-status-changed", "tag-renamed", "response-media-type-changed"}
    }
    seen: set[str] = set()
    for path, doc in _diff(old, new):
        if doc:
            continue
        location = _location(path)
        explained = any(
            s == location
            or s.startswith((f"{location}.", f"{location} "))
            or s.split(" ")[1:2] == [location]  # a whole path item: "/me" in "GET /me"
            for s in subjects
        ) or any(location == c or location.startswith(f"{c} ") for c in covering)
        if not explained and location not in seen:
            seen.add(location)
            yield Change(provider, location, "other-changed", "/".join(path))


# -- the generated public surface -------------------------------------------------------

CLIENT_CLASSES = ("Client", "AsyncClient", "RawClient", "AsyncRawClient")


def read_surface(path: Path) -> dict[str, str]:
    """{"Class.method": "(params) -> return"} of the public methods of the generated
    client classes in one module, read with `ast`. A module without those classes
    contributes nothing."""
    if not path.is_file():
        return {}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    surface: dict[str, str] = {}
    for name in CLIENT_CLASSES:
        node = classes.get(name)
        if node is None:
            continue
        for item in node.body:
            if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if item.name.startswith("_") and item.name != "__init__":
                continue
            surface[f"{name}.{item.name}"] = signature(item)
    return surface


def signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """`(self, *, a: int, b: str | Unset = UNSET) -> Model`, prefixed with `async ` and
    `@property ` where they apply; `self` and `cls` dropped."""
    args = node.args
    for group in (args.posonlyargs, args.args):
        if group and group[0].arg in {"self", "cls"}:
            group.pop(0)
            break
    text = f"({ast.unparse(args)})"
    if node.returns is not None:
        text += f" -> {ast.unparse(node.returns)}"
    if isinstance(node, ast.AsyncFunctionDef):
        text = "async " + text
    if any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list):
        text = "@property " + text
    return text


def _parameters(sig: str) -> tuple[dict[str, Field], str]:
    """Parameters ({name: Field(annotation, required)}) and the rest (return, flags)."""
    flags = ""
    for prefix in ("@property ", "async "):
        if sig.startswith(prefix):
            flags += prefix
            sig = sig.removeprefix(prefix)
    func = ast.parse(f"def f{sig}: pass").body[0]
    assert isinstance(func, ast.FunctionDef)
    args = func.args
    params: dict[str, Field] = {}
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults, strict=True):
        params[arg.arg] = _param(arg, default is not None)
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params[arg.arg] = _param(arg, kw_default is not None)
    for extra, star in ((args.vararg, "*"), (args.kwarg, "**")):
        if extra is not None:
            params[star + extra.arg] = _param(extra, True)
    returns = ast.unparse(func.returns) if func.returns is not None else ""
    return params, flags + returns


def _param(arg: ast.arg, has_default: bool) -> Field:
    return Field(ast.unparse(arg.annotation) if arg.annotation else "any", not has_default)


def classify_surface(provider: str, old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """Changes between two `read_surface` results. A renamed method is a removed one
    and an added one (a rename is breaking either way)."""
    changes: list[Change] = []
    for method in sorted(old.keys() - new.keys()):
        changes.append(Change(provider, f"{method}()", "operation-removed", "method"))
    for method in sorted(new.keys() - old.keys()):
        changes.append(Change(provider, f"{method}()", "operation-added", "method"))
    for method in sorted(old.keys() & new.keys()):
        if old[method] == new[method]:
            continue
        (before, old_rest), (after, new_rest) = _parameters(old[method]), _parameters(new[method])
        if old_rest != new_rest:
            changes.append(
                Change(provider, f"{method}()", "return-type-changed", f"{old_rest} -> {new_rest}")
            )
        for name in sorted(before.keys() | after.keys()):
            changes += _field(
                provider, f"{method}({name})", before.get(name), after.get(name), "request"
            )
    return changes


# -- version ----------------------------------------------------------------------------

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Bump:
    current: str
    version: str
    part: Literal["major", "minor", "patch"]
    reason: str


def suggest(current: str, changes: Iterable[Change]) -> Bump | None:
    """The semver bump the changes call for, or None without changes."""
    levels = [c.severity for c in changes]
    if not levels:
        return None
    match = _VERSION.fullmatch(current)
    if match is None:
        raise ValueError(f"version {current!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(g) for g in match.groups())
    level = max(levels)
    if level is Severity.BREAKING and major > 0:
        return Bump(current, f"{major + 1}.0.0", "major", "breaking changes")
    if level is Severity.BREAKING:
        return Bump(
            current,
            f"0.{minor + 1}.0",
            "minor",
            "breaking changes while the version is 0.x: semver (item 4) lets 0.y.z releases "
            "break, so the minor is bumped; from 1.0.0 on a breaking change bumps the major",
        )
    if level is Severity.COMPATIBLE:
        return Bump(current, f"{major}.{minor + 1}.0", "minor", "additions, nothing breaking")
    if level is Severity.CODE:
        return Bump(
            current,
            f"{major}.{minor}.{patch + 1}",
            "patch",
            "code changes with no public name or type changed (see each one's reason)",
        )
    return Bump(current, f"{major}.{minor}.{patch + 1}", "patch", "documentation only")
