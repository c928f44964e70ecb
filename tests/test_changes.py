"""The classification rules of scripts/codegen/changes.py (issue #9), table-driven.

Each case is a small spec pair: BASE and BASE with one edit. It is classified both
ways: old -> new must give exactly the expected (rule, subject) pairs, and
new -> old exactly the expected reverse ones (a removal read backwards is an
addition, a rename is a rename both ways...). The expected classes are the issue's,
written here by hand, not read from the module. The client-surface rules get the same
treatment with signature pairs; the version bump and the changelog text have their
own tables.
"""

from __future__ import annotations

import ast
import copy
import datetime
import importlib
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen import changes, release
from codegen.changes import Change, Severity, classify_specs, classify_surface, read_surface
from conftest import PROVIDERS, ROOT, SPECS

Spec = dict[str, Any]
BREAKING, COMPATIBLE, CODE, DOCS = (
    Severity.BREAKING,
    Severity.COMPATIBLE,
    Severity.CODE,
    Severity.DOCS,
)
JSON = "application/json"


def _json(schema_ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}


BASE: Spec = {
    "openapi": "3.0.3",
    "info": {"title": "Example", "version": "1", "description": "An example API."},
    "servers": [{"url": "https://api.example.test/v1"}],
    "security": [{"key": []}],
    "paths": {
        "/me": {
            "get": {
                "operationId": "getMe",
                "summary": "The caller's account",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {
                        "name": "sort",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["asc", "desc"]},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/User"},
                                "example": {"id": 1, "plan": {"name": "pro"}},
                            }
                        },
                    }
                },
            }
        },
        "/plans": {
            "get": {
                "operationId": "listPlans",
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Plan"},
                                }
                            }
                        },
                    }
                },
            },
            "post": {
                "operationId": "createPlan",
                "requestBody": {"required": True, "content": _json("NewPlan")},
                "responses": {"201": {"description": "Created", "content": _json("Plan")}},
            },
        },
    },
    "components": {
        "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
        "schemas": {
            "User": {
                "type": "object",
                "required": ["id", "plan"],
                "properties": {
                    "id": {"type": "integer"},
                    "email": {"type": "string", "description": "The login email."},
                    "createdAt": {"type": "string"},
                    "plan": {"$ref": "#/components/schemas/Plan"},
                    "status": {"$ref": "#/components/schemas/Status"},
                },
            },
            "Plan": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "credits": {"type": "number"}},
            },
            "NewPlan": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "note": {"type": "string"}},
            },
            "Status": {"type": "string", "enum": ["active", "canceled"]},
        },
    },
}


def at(spec: Spec, *path: str) -> Any:
    node: Any = spec
    for key in path:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def schema(spec: Spec, name: str) -> Spec:
    result: Spec = spec["components"]["schemas"][name]
    return result


def me(spec: Spec) -> Spec:
    result: Spec = spec["paths"]["/me"]["get"]
    return result


Edit = Callable[[Spec], None]
Found = set[tuple[str, str]]


@dataclass(frozen=True)
class Case:
    edit: Edit
    forward: Found  # {(rule, subject)} of BASE -> edited
    backward: Found  # ... of edited -> BASE


def _key(container: Any, key: str) -> Any:
    return int(key) if isinstance(container, list) else key


def _set(path: tuple[str, ...], value: Any) -> Edit:
    def edit(spec: Spec) -> None:
        parent = at(spec, *path[:-1])
        parent[_key(parent, path[-1])] = value

    return edit


def _delete(path: tuple[str, ...]) -> Edit:
    def edit(spec: Spec) -> None:
        parent = at(spec, *path[:-1])
        del parent[_key(parent, path[-1])]

    return edit


def _do(*edits: Edit) -> Edit:
    def edit(spec: Spec) -> None:
        for one in edits:
            one(spec)

    return edit


USER = ("components", "schemas", "User")
PARAMS = ("paths", "/me", "get", "parameters")


def _move_plans(spec: Spec) -> None:
    spec["paths"]["/plan-list"] = {"get": spec["paths"]["/plans"].pop("get")}


def _add_param(required: bool) -> Edit:
    def edit(spec: Spec) -> None:
        me(spec)["parameters"].append(
            {"name": "q", "in": "query", "required": required, "schema": {"type": "string"}}
        )

    return edit


def _remove_from_required(name: str) -> Edit:
    def edit(spec: Spec) -> None:
        schema(spec, "User")["required"].remove(name)

    return edit


CASES: dict[str, Case] = {
    # operations
    "operation removed": Case(
        _delete(("paths", "/plans", "post")),
        {("operation-removed", "POST /plans")},
        {("operation-added", "POST /plans")},
    ),
    "operation added": Case(
        _set(("paths", "/plans", "delete"), {"operationId": "deletePlans", "responses": {}}),
        {("operation-added", "DELETE /plans")},
        {("operation-removed", "DELETE /plans")},
    ),
    "operation renamed": Case(
        _set(("paths", "/me", "get", "operationId"), "fetchMe"),
        {("operation-renamed", "GET /me")},
        {("operation-renamed", "GET /me")},
    ),
    "operation moved to another path": Case(
        _move_plans,
        {("operation-path-changed", "listPlans")},
        {("operation-path-changed", "listPlans")},
    ),
    # response fields
    "response field removed": Case(
        _delete((*USER, "properties", "createdAt")),
        {("response-field-removed", "User.createdAt")},
        {("response-field-added", "User.createdAt")},
    ),
    "response field retyped": Case(
        _set((*USER, "properties", "id", "type"), "string"),
        {("response-field-retyped", "User.id")},
        {("response-field-retyped", "User.id")},
    ),
    "response field retyped by a format with its own Python type": Case(
        _set((*USER, "properties", "createdAt", "format"), "date-time"),
        {("response-field-retyped", "User.createdAt")},
        {("response-field-retyped", "User.createdAt")},
    ),
    "response field pointing at another model": Case(
        _set((*USER, "properties", "plan"), {"$ref": "#/components/schemas/NewPlan"}),
        {("response-field-retyped", "User.plan")},
        {("response-field-retyped", "User.plan")},
    ),
    "required response field became optional": Case(
        _remove_from_required("id"),
        {("response-field-became-optional", "User.id")},
        {("response-field-became-required", "User.id")},
    ),
    "optional response field became required": Case(
        lambda spec: schema(spec, "User")["required"].append("email"),
        {("response-field-became-required", "User.email")},
        {("response-field-became-optional", "User.email")},
    ),
    "response field became nullable": Case(
        _set((*USER, "properties", "email", "nullable"), True),
        {("response-field-became-nullable", "User.email")},
        {("response-field-became-non-nullable", "User.email")},
    ),
    "$ref response field became nullable (allOf)": Case(
        _set(
            (*USER, "properties", "plan"),
            {"allOf": [{"$ref": "#/components/schemas/Plan"}], "nullable": True},
        ),
        {("response-field-became-nullable", "User.plan")},
        {("response-field-became-non-nullable", "User.plan")},
    ),
    "optional response field added": Case(
        _set((*USER, "properties", "nickname"), {"type": "string"}),
        {("response-field-added", "User.nickname")},
        {("response-field-removed", "User.nickname")},
    ),
    "field of a nested model removed": Case(
        _delete(("components", "schemas", "Plan", "properties", "credits")),
        {("response-field-removed", "Plan.credits")},
        {("response-field-added", "Plan.credits")},
    ),
    # parameters and request bodies
    "parameter removed": Case(
        _delete((*PARAMS, "0")),
        {("parameter-removed", "GET /me query limit")},
        {("parameter-added-optional", "GET /me query limit")},
    ),
    "required parameter added": Case(
        _add_param(required=True),
        {("parameter-added-required", "GET /me query q")},
        {("parameter-removed", "GET /me query q")},
    ),
    "optional parameter added": Case(
        _add_param(required=False),
        {("parameter-added-optional", "GET /me query q")},
        {("parameter-removed", "GET /me query q")},
    ),
    "parameter became required": Case(
        _set((*PARAMS, "0", "required"), True),
        {("parameter-became-required", "GET /me query limit")},
        {("parameter-became-optional", "GET /me query limit")},
    ),
    "parameter retyped": Case(
        _set((*PARAMS, "0", "schema"), {"type": "string"}),
        {("parameter-retyped", "GET /me query limit")},
        {("parameter-retyped", "GET /me query limit")},
    ),
    "required request body field added": Case(
        _do(
            _set(
                ("components", "schemas", "NewPlan", "properties", "credits"), {"type": "integer"}
            ),
            lambda spec: schema(spec, "NewPlan")["required"].append("credits"),
        ),
        {("parameter-added-required", "NewPlan.credits")},
        {("parameter-removed", "NewPlan.credits")},
    ),
    "request body field became required": Case(
        lambda spec: schema(spec, "NewPlan")["required"].append("note"),
        {("parameter-became-required", "NewPlan.note")},
        {("parameter-became-optional", "NewPlan.note")},
    ),
    "request body became optional": Case(
        _set(("paths", "/plans", "post", "requestBody", "required"), False),
        {("parameter-became-optional", "POST /plans body")},
        {("parameter-became-required", "POST /plans body")},
    ),
    # enums
    "enum value removed": Case(
        _set(("components", "schemas", "Status", "enum"), ["active"]),
        {("enum-value-removed", "Status")},
        {("enum-value-added", "Status")},
    ),
    "enum value added": Case(
        _set(("components", "schemas", "Status", "enum"), ["active", "canceled", "paused"]),
        {("enum-value-added", "Status")},
        {("enum-value-removed", "Status")},
    ),
    "inline enum value of a parameter removed": Case(
        _set((*PARAMS, "1", "schema", "enum"), ["asc"]),
        {("enum-value-removed", "GET /me query sort")},
        {("enum-value-added", "GET /me query sort")},
    ),
    # models
    "model added": Case(
        _set(("components", "schemas", "Extra"), {"type": "object", "properties": {}}),
        {("model-added", "Extra")},
        {("model-removed", "Extra")},
    ),
    # provider-wide
    "auth scheme changed": Case(
        _set(("components", "securitySchemes", "key"), {"type": "http", "scheme": "bearer"}),
        {("auth-changed", "securitySchemes.key")},
        {("auth-changed", "securitySchemes.key")},
    ),
    "operation security changed": Case(
        _set(("paths", "/me", "get", "security"), []),
        {("auth-changed", "GET /me")},
        {("auth-changed", "GET /me")},
    ),
    "base URL changed": Case(
        _set(("servers",), [{"url": "https://api.example.test/v2"}]),
        {("base-url-changed", "servers")},
        {("base-url-changed", "servers")},
    ),
    # documentation
    "field description changed": Case(
        _set((*USER, "properties", "email", "description"), "The email used to sign in."),
        {("description-changed", "User.email")},
        {("description-changed", "User.email")},
    ),
    "operation summary changed": Case(
        _set(("paths", "/me", "get", "summary"), "Who am I"),
        {("description-changed", "GET /me")},
        {("description-changed", "GET /me")},
    ),
    "response example changed": Case(
        _set(
            ("paths", "/me", "get", "responses", "200", "content", "application/json", "example"),
            {"id": 2, "plan": {"name": "free"}},
        ),
        {("description-changed", "GET /me 200 response")},
        {("description-changed", "GET /me 200 response")},
    ),
    "API description changed": Case(
        _set(("info", "description"), "The example API."),
        {("description-changed", "info")},
        {("description-changed", "info")},
    ),
    "a field named `description` is a field, not documentation": Case(
        _set((*USER, "properties", "description"), {"type": "string"}),
        {("response-field-added", "User.description")},
        {("response-field-removed", "User.description")},
    ),
    # anything else
    "a pattern added": Case(
        _set((*USER, "properties", "email", "pattern"), "^.+@.+$"),
        {("other-changed", "User.email")},
        {("other-changed", "User.email")},
    ),
    "a format that keeps the Python type": Case(
        _set((*USER, "properties", "email", "format"), "email"),
        {("other-changed", "User.email")},
        {("other-changed", "User.email")},
    ),
    "schema renamed (every $ref follows): the documented models import breaks": Case(
        lambda spec: spec.update(
            json.loads(
                json.dumps(spec)
                .replace('schemas/Plan"', 'schemas/PricePlan"')
                .replace('"Plan": {', '"PricePlan": {')
            )
        ),
        {
            ("model-removed", "Plan"),
            ("model-added", "PricePlan"),
            ("response-field-retyped", "User.plan"),
            ("other-changed", "GET /plans 200 response"),  # list[Plan]: the surface rules
            ("other-changed", "POST /plans 201 response"),  # rate the methods' return types
        },
        {
            ("model-removed", "PricePlan"),
            ("model-added", "Plan"),
            ("response-field-retyped", "User.plan"),
            ("other-changed", "GET /plans 200 response"),
            ("other-changed", "POST /plans 201 response"),
        },
    ),
    # -- issue #18: right for a client library's users ------------------------------------
    "alternative security requirement added, the old one still works": Case(
        _do(
            _set(("components", "securitySchemes", "token"), {"type": "http", "scheme": "bearer"}),
            _set(("paths", "/me", "get", "security"), [{"key": []}, {"token": []}]),
        ),
        {("auth-alternative-added", "GET /me"), ("other-changed", "securitySchemes.token")},
        {("auth-changed", "GET /me"), ("other-changed", "securitySchemes.token")},
    ),
    "parameter default changed": Case(
        _set((*PARAMS, "0", "schema", "default"), 20),
        {("parameter-default-changed", "GET /me query limit")},
        {("parameter-default-changed", "GET /me query limit")},
    ),
    "success status 200 -> 201": Case(
        lambda spec: me(spec)["responses"].__setitem__("201", me(spec)["responses"].pop("200")),
        {("success-status-changed", "GET /me")},
        {("success-status-changed", "GET /me")},
    ),
    "tag renamed": Case(
        _set(("paths", "/me", "get", "tags"), ["account"]),
        {("tag-renamed", "GET /me")},
        {("tag-renamed", "GET /me")},
    ),
    "response media type changed": Case(
        lambda spec: me(spec)["responses"]["200"].__setitem__(
            "content", {"application/xml": me(spec)["responses"]["200"]["content"].pop(JSON)}
        ),
        {("response-media-type-changed", "GET /me 200 response")},
        {("response-media-type-changed", "GET /me 200 response")},
    ),
    "response media type removed": Case(
        _delete(("paths", "/me", "get", "responses", "200", "content")),
        {("response-media-type-changed", "GET /me 200 response")},
        {("other-changed", "GET /me 200 response")},
    ),
    "request parameter maximum added (tightened; removed: loosened)": Case(
        _set((*PARAMS, "0", "schema", "maximum"), 100),
        {("request-constraint-tightened", "GET /me query limit")},
        {("request-constraint-loosened", "GET /me query limit")},
    ),
    "request body maxLength and pattern added": Case(
        _do(
            _set(("components", "schemas", "NewPlan", "properties", "name", "maxLength"), 10),
            _set(("components", "schemas", "NewPlan", "properties", "note", "pattern"), "^[a-z]+$"),
        ),
        {
            ("request-constraint-tightened", "NewPlan.name"),
            ("request-constraint-tightened", "NewPlan.note"),
        },
        {
            ("request-constraint-loosened", "NewPlan.name"),
            ("request-constraint-loosened", "NewPlan.note"),
        },
    ),
    "a response header the client reads (Retry-After) added; removed is breaking": Case(
        _set(
            ("paths", "/me", "get", "responses", "200", "headers"),
            {"Retry-After": {"schema": {"type": "integer"}}},
        ),
        {("other-changed", "GET /me 200 response")},
        {("response-header-removed", "GET /me 200 response header Retry-After")},
    ),
    "a response header the client does not read removed": Case(
        _set(
            ("paths", "/me", "get", "responses", "200", "headers"),
            {"X-Request-Id": {"schema": {"type": "string"}}},
        ),
        {("other-changed", "GET /me 200 response")},
        {("other-changed", "GET /me 200 response")},
    ),
    "field deprecated": Case(
        _set((*USER, "properties", "email", "deprecated"), True),
        {("deprecated", "User.email")},
        {("other-changed", "User.email")},
    ),
    "operation deprecated": Case(
        _set(("paths", "/me", "get", "deprecated"), True),
        {("deprecated", "GET /me")},
        {("other-changed", "GET /me")},
    ),
}

# The class of every rule, as the issue defines it (not read from the module).
EXPECTED_CLASS = {
    "operation-removed": BREAKING,
    "operation-renamed": BREAKING,
    "operation-added": COMPATIBLE,
    "operation-path-changed": COMPATIBLE,
    "return-type-changed": BREAKING,
    "response-field-removed": BREAKING,
    "response-field-retyped": BREAKING,
    "response-field-became-optional": BREAKING,
    "response-field-became-nullable": BREAKING,
    "response-field-added": COMPATIBLE,
    "response-field-became-required": COMPATIBLE,
    "response-field-became-non-nullable": COMPATIBLE,
    "parameter-added-required": BREAKING,
    "parameter-became-required": BREAKING,
    "parameter-removed": BREAKING,
    "parameter-retyped": BREAKING,
    "parameter-added-optional": COMPATIBLE,
    "parameter-became-optional": COMPATIBLE,
    "enum-value-removed": BREAKING,
    "enum-value-added": COMPATIBLE,
    "model-removed": BREAKING,
    "model-added": COMPATIBLE,
    "auth-changed": BREAKING,
    "auth-alternative-added": COMPATIBLE,
    "base-url-changed": COMPATIBLE,  # like operation-path-changed: a behaviour change
    "parameter-default-changed": COMPATIBLE,
    "response-media-type-changed": BREAKING,
    "request-constraint-tightened": BREAKING,
    "request-constraint-loosened": COMPATIBLE,
    "response-header-removed": BREAKING,
    "deprecated": COMPATIBLE,
    "success-status-changed": CODE,
    "tag-renamed": CODE,
    "description-changed": DOCS,
    "other-changed": CODE,
}


def found(result: list[Change]) -> Found:
    return {(c.rule, c.subject) for c in result}


@pytest.mark.parametrize("name", CASES)
def test_spec_rule_both_directions(name: str) -> None:
    case = CASES[name]
    base = copy.deepcopy(BASE)
    edited = copy.deepcopy(BASE)
    case.edit(edited)
    assert edited != base, "the edit changed nothing"

    forward = classify_specs("example", base, edited)
    backward = classify_specs("example", edited, base)

    assert found(forward) == case.forward
    assert found(backward) == case.backward
    for change in [*forward, *backward]:
        assert change.severity is EXPECTED_CLASS[change.rule], change
        assert change.provider == "example"


def test_the_table_covers_every_rule() -> None:
    assert set(EXPECTED_CLASS) == set(changes.RULES)
    spec_rules = {rule for case in CASES.values() for rule, _ in case.forward | case.backward}
    surface_rules = {rule for case in SURFACE_CASES.values() for rule, _ in case[2] | case[3]}
    assert spec_rules | surface_rules == set(changes.RULES)


def test_every_rule_explains_its_class() -> None:
    for rule in changes.RULES.values():
        assert rule.severity is EXPECTED_CLASS[rule.id]
        assert len(rule.why) > 20 and rule.text


def test_identical_specs_have_no_changes() -> None:
    assert classify_specs("example", BASE, copy.deepcopy(BASE)) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_real_specs_compared_with_themselves_have_no_changes(provider: str) -> None:
    spec = yaml.safe_load((SPECS / f"{provider}.yaml").read_text(encoding="utf-8"))
    assert classify_specs(provider, spec, copy.deepcopy(spec)) == []


def test_several_changes_are_all_reported() -> None:
    edited = copy.deepcopy(BASE)
    CASES["response field removed"].edit(edited)
    CASES["optional response field added"].edit(edited)
    CASES["field description changed"].edit(edited)
    result = classify_specs("example", BASE, edited)
    assert [(c.label, c.subject) for c in result] == [
        ("BREAKING", "User.createdAt"),
        ("addition", "User.nickname"),
        ("docs", "User.email"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "tighter"),
    [
        ({"maximum": 100}, {"maximum": 50}, True),
        ({"maximum": 50}, {"maximum": 100}, False),
        ({"minLength": 1}, {"minLength": 3}, True),
        ({"minimum": 0}, {"minimum": -5}, False),
        ({"maxLength": 10}, {}, False),
        ({}, {"maxItems": 3}, True),
        ({"pattern": "^a"}, {"pattern": "^b"}, True),
        ({"pattern": "^a"}, {}, False),
        ({"maximum": 100}, {"maximum": 100.0}, False),  # the same bound, spelled otherwise
        ({"exclusiveMinimum": 1}, {"exclusiveMinimum": 2}, True),
        ({"maxItems": 3}, {"maxItems": 2}, True),
        ({"multipleOf": 2}, {"multipleOf": 4}, True),
        ({"multipleOf": 3}, {"multipleOf": 2}, True),  # 3 is no multiple of 2
        ({"allOf": [{"maximum": 9}]}, {"allOf": [{"maximum": 8}]}, True),
        # every limit loosened the way it loosens
        ({"exclusiveMaximum": 5}, {"exclusiveMaximum": 6}, False),
        ({"maxLength": 3}, {"maxLength": 5}, False),
        ({"maxItems": 3}, {"maxItems": 4}, False),
        ({"maxProperties": 2}, {"maxProperties": 3}, False),
        ({"exclusiveMinimum": 2}, {"exclusiveMinimum": 1}, False),
        ({"minLength": 3}, {"minLength": 1}, False),
        ({"minItems": 2}, {"minItems": 1}, False),
        ({"minProperties": 2}, {"minProperties": 1}, False),
        # an unchanged limit sorted before a tightened one
        ({"maximum": 5, "minimum": 1}, {"maximum": 5, "minimum": 2}, True),
    ],
)
def test_request_constraints_tightened_or_loosened(
    old: dict[str, Any], new: dict[str, Any], tighter: bool
) -> None:
    def spec_with(limits: dict[str, Any]) -> Spec:
        spec = copy.deepcopy(BASE)
        me(spec)["parameters"][0]["schema"].update(limits)
        return spec

    found_rules = {c.rule for c in classify_specs("p", spec_with(old), spec_with(new))}
    expected = "request-constraint-tightened" if tighter else "request-constraint-loosened"
    assert found_rules == {expected}


# -- the generated client surface --------------------------------------------------------

SIG = "(*, limit: int | Unset = UNSET) -> User"
SURFACE_CASES: dict[str, tuple[dict[str, str], dict[str, str], Found, Found]] = {
    "method removed": (
        {"Client.get_me": SIG, "Client.list_plans": "() -> list[Plan]"},
        {"Client.get_me": SIG},
        {("operation-removed", "Client.list_plans()")},
        {("operation-added", "Client.list_plans()")},
    ),
    "method renamed": (
        {"Client.get_me": SIG},
        {"Client.fetch_me": SIG},
        {("operation-removed", "Client.get_me()"), ("operation-added", "Client.fetch_me()")},
        {("operation-removed", "Client.fetch_me()"), ("operation-added", "Client.get_me()")},
    ),
    "parameter became required": (
        {"Client.get_me": SIG},
        {"Client.get_me": "(*, limit: int | Unset) -> User"},
        {("parameter-became-required", "Client.get_me(limit)")},
        {("parameter-became-optional", "Client.get_me(limit)")},
    ),
    "required parameter added": (
        {"Client.get_me": SIG},
        {"Client.get_me": "(*, q: str, limit: int | Unset = UNSET) -> User"},
        {("parameter-added-required", "Client.get_me(q)")},
        {("parameter-removed", "Client.get_me(q)")},
    ),
    "optional parameter added": (
        {"AsyncClient.get_me": "async " + SIG},
        {"AsyncClient.get_me": "async (*, limit: int | Unset = UNSET, q: str = '') -> User"},
        {("parameter-added-optional", "AsyncClient.get_me(q)")},
        {("parameter-removed", "AsyncClient.get_me(q)")},
    ),
    "parameter retyped": (
        {"RawClient.get_me": SIG},
        {"RawClient.get_me": "(*, limit: str | Unset = UNSET) -> User"},
        {("parameter-retyped", "RawClient.get_me(limit)")},
        {("parameter-retyped", "RawClient.get_me(limit)")},
    ),
    "return type changed": (
        {"Client.get_me": SIG},
        {"Client.get_me": "(*, limit: int | Unset = UNSET) -> Account"},
        {("return-type-changed", "Client.get_me()")},
        {("return-type-changed", "Client.get_me()")},
    ),
}


@pytest.mark.parametrize("name", SURFACE_CASES)
def test_surface_rule_both_directions(name: str) -> None:
    old, new, forward, backward = SURFACE_CASES[name]
    assert found(classify_surface("p", old, new)) == forward
    assert found(classify_surface("p", new, old)) == backward
    for change in classify_surface("p", old, new) + classify_surface("p", new, old):
        assert change.severity is EXPECTED_CLASS[change.rule]


CLIENT_MODULE = '''
from .models import User
from .types import UNSET, Unset


class _Transport:
    def send(self, request: object) -> object: ...


class Client:
    """The client."""

    def __init__(self, api_key: str | None = None, *, timeout: float = 30.0) -> None: ...
    def get_me(self, *, limit: int | Unset = UNSET) -> User: ...
    def _private(self) -> None: ...

    @property
    def with_raw_response(self) -> RawClient: ...


class AsyncClient:
    async def get_me(self, *, limit: int | Unset = UNSET) -> User: ...


class RawClient:
    def get_me(self, *, limit: int | Unset = UNSET) -> APIResponse[User]: ...


class Helper:
    def get_me(self) -> None: ...
'''


def test_read_surface_reads_the_public_methods_of_the_client_classes(tmp_path: Path) -> None:
    module = tmp_path / "client.py"
    module.write_text(CLIENT_MODULE, encoding="utf-8")
    assert read_surface(module) == {
        "Client.__init__": "(api_key: str | None=None, *, timeout: float=30.0) -> None",
        "Client.get_me": "(*, limit: int | Unset=UNSET) -> User",
        "Client.with_raw_response": "@property () -> RawClient",
        "AsyncClient.get_me": "async (*, limit: int | Unset=UNSET) -> User",
        "RawClient.get_me": "(*, limit: int | Unset=UNSET) -> APIResponse[User]",
    }


def test_read_surface_of_a_module_without_the_client_classes_is_empty(tmp_path: Path) -> None:
    assert read_surface(tmp_path / "missing.py") == {}
    other = tmp_path / "other.py"
    other.write_text("class Helper:\n    def get(self) -> None: ...\n", encoding="utf-8")
    assert read_surface(other) == {}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_read_surface_of_the_generated_client_module(provider: str) -> None:
    """What `read_surface` reads from the source with `ast` is what the installed client
    classes have at run time: the same public methods (and properties), and every
    parameter of each in its signature."""
    module = importlib.import_module(f"creditwatch._generated.{provider}.client")
    expected: dict[str, Any] = {}
    for class_name in changes.CLIENT_CLASSES:
        for name, member in vars(getattr(module, class_name)).items():
            if (not name.startswith("_") or name == "__init__") and (
                isinstance(member, property) or callable(member)
            ):
                expected[f"{class_name}.{name}"] = member
    surface = read_surface(ROOT / "generated" / provider / "client.py")
    assert set(surface) == set(expected)
    for key, member in expected.items():
        if not isinstance(member, property):
            for parameter in list(inspect.signature(member).parameters)[1:]:  # after self
                assert f"{parameter}:" in surface[key], (key, parameter)


def test_surface_of_a_module_compared_with_an_edited_copy(tmp_path: Path) -> None:
    old, new = tmp_path / "old.py", tmp_path / "new.py"
    old.write_text(CLIENT_MODULE, encoding="utf-8")
    new.write_text(
        CLIENT_MODULE.replace(
            "limit: int | Unset = UNSET) -> User: ...", "limit: int | Unset) -> User: ..."
        )
    )
    result = classify_surface("p", read_surface(old), read_surface(new))
    assert found(result) == {
        ("parameter-became-required", "Client.get_me(limit)"),
        ("parameter-became-required", "AsyncClient.get_me(limit)"),
    }


# -- version ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "level", "expected", "part"),
    [
        ("0.1.0", BREAKING, "0.2.0", "minor"),
        ("0.4.7", BREAKING, "0.5.0", "minor"),
        ("1.4.2", BREAKING, "2.0.0", "major"),
        ("0.1.0", COMPATIBLE, "0.2.0", "minor"),
        ("1.4.2", COMPATIBLE, "1.5.0", "minor"),
        ("0.1.0", CODE, "0.1.1", "patch"),
        ("0.1.0", DOCS, "0.1.1", "patch"),
        ("1.4.2", DOCS, "1.4.3", "patch"),
    ],
)
def test_suggested_version(current: str, level: Severity, expected: str, part: str) -> None:
    rule = next(r for r in changes.RULES.values() if r.severity is level)
    docs = Change("p", "info", "description-changed")
    bump = changes.suggest(current, [docs, Change("p", "X", rule.id)])
    assert bump is not None
    assert (bump.current, bump.version, bump.part) == (current, expected, part)
    if level is BREAKING and current.startswith("0."):
        assert "0.x" in bump.reason and "major" in bump.reason  # says why it is the minor


def test_no_changes_no_version() -> None:
    assert changes.suggest("0.1.0", []) is None


def test_version_must_be_major_minor_patch() -> None:
    with pytest.raises(ValueError, match=r"MAJOR\.MINOR\.PATCH"):
        changes.suggest("1.0", [Change("p", "info", "description-changed")])


# -- changelog ----------------------------------------------------------------------------


def _pending(*found_changes: Change) -> release.Pending:
    return release.Pending(
        "0.1.0", list(found_changes), changes.suggest("0.1.0", found_changes), []
    )


def test_changelog_entry_per_provider_with_sections_and_breaking_marked() -> None:
    state = _pending(
        Change("flamel", "AuthUserDto.nickname", "response-field-added", "string, optional"),
        Change("flamel", "AuthUserDto.occupation", "response-field-removed", "was string"),
        Change("easyslip", "MeData.usedQuota", "description-changed", "description"),
        Change("flamel", "Plan.grade", "response-field-became-required"),
    )
    entry = release.changelog_entry(state, datetime.date(2026, 12, 1))
    assert entry == (
        "## [0.2.0] - 2026-12-01\n"
        "\n"
        "### EasySlip\n"  # providers in the registry's order (by name)
        "\n"
        "#### Changed\n"
        "\n"
        "- `MeData.used_quota`: documentation changed (description)\n"
        "\n"
        "### Flamel\n"
        "\n"
        "#### Added\n"
        "\n"
        "- `AuthUserDto.nickname`: response field added (string, optional)\n"
        "\n"
        "#### Changed\n"
        "\n"
        "- `Plan.grade`: response field became required\n"
        "\n"
        "#### Removed\n"
        "\n"
        "- **Breaking:** `AuthUserDto.occupation`: response field removed (was string)\n"
    )


CHANGELOG_HEAD = "# Changelog\n\nIntro.\n\n"
OLD_RELEASE = "## [0.1.0] - 2026-11-21\n\nThe first release.\n"
ENTRY = "## [0.2.0] - 2026-12-01\n\n### Flamel\n\n#### Added\n\n- `X.y`: response field added\n"


def test_add_entry_goes_above_the_previous_release() -> None:
    text = release.add_entry(CHANGELOG_HEAD + OLD_RELEASE, ENTRY)
    assert text == CHANGELOG_HEAD + ENTRY + "\n" + OLD_RELEASE


def test_add_entry_takes_the_unreleased_notes_and_keeps_the_heading() -> None:
    notes = "### Deprecated\n\n- `Client.old()`: use `Client.new()`.\n"
    changelog = CHANGELOG_HEAD + "## [Unreleased]\n\n" + notes + "\n" + OLD_RELEASE
    text = release.add_entry(changelog, ENTRY)
    title, _, rest = ENTRY.partition("\n\n")
    assert text == (
        CHANGELOG_HEAD + "## [Unreleased]\n\n" + f"{title}\n\n{notes}\n{rest}\n" + OLD_RELEASE
    )


def test_add_entry_with_an_empty_unreleased_section() -> None:
    changelog = CHANGELOG_HEAD + "## [Unreleased]\n\n" + OLD_RELEASE
    assert release.add_entry(changelog, ENTRY) == (
        CHANGELOG_HEAD + "## [Unreleased]\n\n" + ENTRY + "\n" + OLD_RELEASE
    )


def test_the_changelog_starts_with_the_current_release() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", text, re.M)
    assert versions and versions[0] == release.read_version()
    assert "## [Unreleased]" in text


# -- CONTRIBUTING.md (the maintainers' guide) ------------------------------------------------


def test_contributing_rules_table_matches_the_rules() -> None:
    """The maintainers' guide lists every rule with its class and changelog section."""
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = guide.split("## Releases and spec changes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| (\w+) \| (\w+) \|", section, re.M)
    words = {BREAKING: "breaking", COMPATIBLE: "compatible", CODE: "code", DOCS: "docs"}
    assert {r: (c, s) for r, c, s in rows} == {
        rule.id: (words[rule.severity], rule.section) for rule in changes.RULES.values()
    }


def test_report_lists_notes_changes_and_the_version() -> None:
    state = _pending(
        Change("flamel", "AuthUserDto.occupation", "response-field-removed", "was string"),
        Change("flamel", "AuthUserDto.email", "description-changed", "description"),
    )
    state.notes.append("flamel: client methods not in specs/released/surface.json yet")
    assert release.report(state) == [
        "spec changes since the release of 0.1.0 (specs/released/):",
        "  note: flamel: client methods not in specs/released/surface.json yet",
        "  BREAKING  flamel: AuthUserDto.occupation: response field removed (was string)",
        "  docs      flamel: AuthUserDto.email: documentation changed (description)",
        "suggested version: 0.2.0 (minor: breaking changes while the version is 0.x: semver "
        "(item 4) lets 0.y.z releases break, so the minor is bumped; from 1.0.0 on a breaking "
        "change bumps the major)",
    ]
    assert release.report(_pending()) == ["no spec changes since the release of 0.1.0"]


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (
            Change("flamel", "AuthUserDto.defaultCredit", "response-field-removed"),
            "AuthUserDto.default_credit",
        ),
        (Change("flamel", "GET /me query pageSize", "parameter-removed"), "GET /me page_size"),
        (
            Change("flamel", "GET /me header X-Api-Version", "parameter-retyped"),
            "GET /me x_api_version",
        ),
        (
            Change("flamel", "POST /plans", "operation-added", "createPlan"),
            "create_plan() (POST /plans)",
        ),
        (Change("flamel", "listPlans", "operation-path-changed", "/a -> /b"), "list_plans()"),
        (
            Change("flamel", "GET /me", "operation-renamed", "getMe -> fetchMe"),
            "get_me() -> fetch_me() (GET /me)",
        ),
        (Change("flamel", "Client.get_me()", "operation-removed", "method"), "Client.get_me()"),
        (Change("flamel", "securitySchemes.key", "auth-changed"), "securitySchemes.key"),
        (Change("flamel", "User.tags[]", "enum-value-added"), "User.tags[]"),  # a label
    ],
)
def test_changes_are_shown_in_the_names_users_see(change: Change, shown: str) -> None:
    """The changelog and the summary name fields, parameters and methods as Python code
    spells them (issue #18)."""
    assert change.shown == shown
    assert change.text().startswith(f"{shown}: ")
    entry = release.changelog_entry(_pending(change), datetime.date(2026, 12, 1))
    assert f"`{shown}`" in entry


@pytest.mark.parametrize(
    ("rule", "label", "reason"),
    [
        ("description-changed", "docs", "documentation only"),
        ("other-changed", "code change", "code changes with no public name or type changed"),
        ("success-status-changed", "code change", "code changes"),
        ("tag-renamed", "code change", "code changes"),
        ("parameter-default-changed", "behaviour change", "additions, nothing breaking"),
        ("base-url-changed", "behaviour change", "additions, nothing breaking"),
        ("operation-path-changed", "behaviour change", "additions, nothing breaking"),
        ("deprecated", "deprecated", "additions, nothing breaking"),
        ("auth-alternative-added", "addition", "additions, nothing breaking"),
    ],
)
def test_labels_and_bump_reasons(rule: str, label: str, reason: str) -> None:
    """ "Documentation only" is said only of documentation; a change of generated code
    is a code change, a changed default a behaviour change (issue #18)."""
    change = Change("flamel", "GET /me", rule)
    assert change.label == label
    bump = changes.suggest("1.0.0", [change])
    assert bump is not None and bump.reason.startswith(reason)


def test_deprecations_have_their_changelog_section() -> None:
    state = _pending(Change("flamel", "AuthUserDto.name", "deprecated"))
    entry = release.changelog_entry(state, datetime.date(2026, 12, 1))
    assert "#### Deprecated\n\n- `AuthUserDto.name`: deprecated\n" in entry
    assert "Breaking" not in entry


# -- what the report and the changelog say of each change (issue #21) ------------------------
# The (label, text) of every change of one edit, in the report's order: the rule, its
# class as printed, the subject in Python's names and the detail in parentheses.


def _user_field(name: str, body: Any) -> Edit:
    return _set((*USER, "properties", name), body)


def _param_schema(key: str, value: Any) -> Edit:
    return _set((*PARAMS, "0", "schema", key), value)


def _tags(spec: Spec) -> None:
    me(spec)["tags"] = ["b", "a"]


def _retag(spec: Spec) -> None:
    me(spec)["tags"] = ["a", "b"]


def _read_headers(spec: Spec) -> None:
    me(spec)["responses"]["200"]["headers"] = {
        "x-RateLimit-Remaining": {"schema": {"type": "integer"}},
        "RateLimit": {"schema": {"type": "string"}},
        "X-Other": {"schema": {"type": "string"}},
    }


def _shared_parameter(spec: Spec) -> None:
    spec["paths"]["/me"]["parameters"] = [
        {"name": "v", "in": "header", "required": True, "schema": {"type": "string"}}
    ]


def _move_and_add_parameter(spec: Spec) -> None:
    _move_plans(spec)
    spec["paths"]["/plan-list"]["get"]["parameters"] = [
        {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
    ]


def _id_taken_by_a_new_operation(spec: Spec) -> None:
    spec["paths"]["/plans"]["put"] = {"operationId": "getMe", "responses": {}}
    me(spec)["operationId"] = "other"


def _merged_plan(spec: Spec) -> None:
    schema(spec, "Plan").clear()
    schema(spec, "Plan")["allOf"] = [
        {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        {"type": "object", "properties": {"credits": {"type": "integer"}}},
    ]


EMAIL_DOCS = ("docs", "User.email: documentation changed (description)")
TEXT_CASES: dict[str, tuple[Edit, bool, list[tuple[str, str]]]] = {
    # name: (edit, read backwards (edited -> BASE), [(label, text)])
    "a parameter that now accepts null": (
        _param_schema("nullable", True),
        False,
        [("addition", "GET /me limit: optional parameter added (now accepts null)")],
    ),
    "a parameter that no longer accepts null": (
        _param_schema("nullable", True),
        True,
        [("BREAKING", "GET /me limit: parameter type changed (no longer accepts null)")],
    ),
    "a default added": (
        _param_schema("default", 20),
        False,
        [("behaviour change", "GET /me limit: parameter default changed (None -> 20)")],
    ),
    "a default removed": (
        _param_schema("default", 20),
        True,
        [("behaviour change", "GET /me limit: parameter default changed (20 -> None)")],
    ),
    "a maximum added": (
        _param_schema("maximum", 100),
        False,
        [("BREAKING", "GET /me limit: request constraint tightened (maximum 100 added)")],
    ),
    "two constraints tightened": (
        _do(_param_schema("maximum", 100), _param_schema("multipleOf", 5)),
        False,
        [
            (
                "BREAKING",
                "GET /me limit: request constraint tightened "
                "(maximum 100 added; multipleOf 5 added)",
            )
        ],
    ),
    "a response field retyped": (
        _set((*USER, "properties", "id", "type"), "string"),
        False,
        [("BREAKING", "User.id: response field type changed (integer -> string)")],
    ),
    "a required nullable response field added": (
        _do(
            _user_field("nickName", {"type": "string", "nullable": True}),
            lambda spec: schema(spec, "User")["required"].append("nickName"),
        ),
        False,
        [("addition", "User.nick_name: response field added (string, nullable, required)")],
    ),
    "a required response field removed": (
        _delete((*USER, "properties", "id")),
        False,
        [("BREAKING", "User.id: response field removed (was integer, required)")],
    ),
    "a response field became optional": (
        _remove_from_required("id"),
        False,
        [("BREAKING", "User.id: response field became optional")],
    ),
    "a response field became required": (
        _remove_from_required("id"),
        True,
        [("compatible", "User.id: response field became required")],
    ),
    "a response field no longer nullable": (
        _user_field("createdAt", {"type": "string", "nullable": True}),
        True,
        [("compatible", "User.created_at: response field is no longer nullable")],
    ),
    "inline enum values removed and added (null is no value)": (
        _set((*PARAMS, "1", "schema", "enum"), ["asc", "up", None]),
        False,
        [
            ("BREAKING", 'GET /me sort: enum value removed ("desc")'),
            ("addition", 'GET /me sort: enum value added ("up")'),
        ],
    ),
    "tags of an operation, in any order": (
        _tags,
        False,
        [("code change", "GET /me: tag renamed (None -> ['b', 'a'])")],
    ),
    "success status": (
        lambda spec: me(spec)["responses"].__setitem__("201", me(spec)["responses"].pop("200")),
        False,
        [("code change", "GET /me: success status changed (200 -> 201)")],
    ),
    "response body removed": (
        _delete(("paths", "/me", "get", "responses", "200", "content")),
        False,
        [
            (
                "BREAKING",
                "GET /me 200 response: response media type changed or removed "
                "(application/json -> no body)",
            )
        ],
    ),
    "response headers the client reads removed (any case); one it does not read": (
        _read_headers,
        True,
        [
            (
                "BREAKING",
                "GET /me 200 response header RateLimit: response header the client reads removed",
            ),
            (
                "BREAKING",
                "GET /me 200 response header x-RateLimit-Remaining: "
                "response header the client reads removed",
            ),
        ],
    ),
    "a security alternative added": (
        _set(("paths", "/me", "get", "security"), [{"key": []}, {"tok": []}]),
        False,
        [("addition", "GET /me: alternative authentication added (security key -> key or tok)")],
    ),
    "a security alternative removed": (
        _set(("paths", "/me", "get", "security"), [{"key": []}, {"tok": []}]),
        True,
        [("BREAKING", "GET /me: authentication changed (security key or tok -> key)")],
    ),
    "security dropped": (
        _set(("paths", "/me", "get", "security"), []),
        False,
        [("BREAKING", "GET /me: authentication changed (security key -> none)")],
    ),
    "security added to an operation that had none": (
        _set(("paths", "/me", "get", "security"), []),
        True,
        [("BREAKING", "GET /me: authentication changed (security none -> key)")],
    ),
    "operation renamed": (
        _set(("paths", "/me", "get", "operationId"), "fetchMe"),
        False,
        [("BREAKING", "get_me() -> fetch_me() (GET /me): operation renamed (getMe -> fetchMe)")],
    ),
    "servers removed": (
        _set(("servers",), []),
        False,
        [("behaviour change", "servers: base URL changed (https://api.example.test/v1 -> None)")],
    ),
    "operation removed": (
        _delete(("paths", "/plans", "post")),
        False,
        [("BREAKING", "create_plan() (POST /plans): operation removed (createPlan)")],
    ),
    "model removed": (
        _set(("components", "schemas", "Gone"), {"type": "object"}),
        True,
        [("BREAKING", "Gone: model removed")],
    ),
    "a field that may be null (oneOf with null)": (
        _user_field("email", {"oneOf": [{"type": "string"}, {"type": "null"}]}),
        False,
        [("BREAKING", "User.email: response field became nullable"), EMAIL_DOCS],
    ),
    "a field that may be null (a type list with null)": (
        _user_field("email", {"type": ["string", "null"]}),
        False,
        [("BREAKING", "User.email: response field became nullable"), EMAIL_DOCS],
    ),
    "a field of one of two types": (
        _user_field("email", {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
        False,
        [
            (
                "BREAKING",
                "User.email: response field type changed (string -> anyOf[string, integer])",
            ),
            EMAIL_DOCS,
        ],
    ),
    "a field that became a list of nullable strings": (
        _user_field("email", {"type": "array", "items": {"type": "string", "nullable": True}}),
        False,
        [
            ("BREAKING", "User.email: response field type changed (string -> array[string?])"),
            EMAIL_DOCS,
        ],
    ),
    "a field that became a map": (
        _user_field("email", {"type": "object", "additionalProperties": {"type": "integer"}}),
        False,
        [
            ("BREAKING", "User.email: response field type changed (string -> map[integer])"),
            EMAIL_DOCS,
        ],
    ),
    "a field that became untyped": (
        _user_field("email", {}),
        False,
        [("BREAKING", "User.email: response field type changed (string -> any)"), EMAIL_DOCS],
    ),
    "the model a $ref names became nullable": (
        _set(("components", "schemas", "Plan", "nullable"), True),
        False,
        [
            ("BREAKING", "User.plan: response field became nullable"),
            ("code change", "Plan: other spec change (components/schemas/Plan/nullable)"),
        ],
    ),
    "a model made of allOf members: their fields merged": (
        _merged_plan,
        False,
        [("BREAKING", "Plan.credits: response field type changed (number -> integer)")],
    ),
    "required listed in another order": (
        _set((*USER, "required"), ["plan", "id"]),
        False,
        [],
    ),
    "a required parameter shared by the path's operations": (
        _shared_parameter,
        False,
        [("BREAKING", "GET /me v: required parameter added (string, required)")],
    ),
    "a server's description": (
        _set(("servers", "0", "description"), "production"),
        False,
        [("docs", "servers: documentation changed (description)")],
    ),
    "a security scheme's description": (
        _set(("components", "securitySchemes", "key", "description"), "The key."),
        False,
        [("docs", "securitySchemes.key: documentation changed (description)")],
    ),
    "a generator hint on a security scheme is not an auth change": (
        _set(("components", "securitySchemes", "key", "x-creditwatch-prefix"), "Bearer"),
        False,
        [
            (
                "code change",
                "securitySchemes.key: other spec change "
                "(components/securitySchemes/key/x-creditwatch-prefix)",
            )
        ],
    ),
    "an extension at the top": (
        _set(("x-foo",), 1),
        False,
        [("code change", "x-foo: other spec change (x-foo)")],
    ),
    "the document's tag list": (
        _set(("tags",), [{"name": "a"}]),
        False,
        [("code change", "tags: tag renamed (the document's tag list)")],
    ),
    "a parameter deprecated": (
        _set((*PARAMS, "0", "deprecated"), True),
        False,
        [("deprecated", "GET /me: deprecated")],
    ),
    "deprecated: false is not a deprecation": (
        _set(("paths", "/me", "get", "deprecated"), False),
        False,
        [("code change", "GET /me: other spec change (paths//me/get/deprecated)")],
    ),
    "a path item's summary": (
        _set(("paths", "/me", "summary"), "Me"),
        False,
        [("docs", "/me: documentation changed (summary)")],
    ),
    "an unknown component": (
        _set(("components", "x"), {"y": {"description": "a"}}),
        False,
        [("code change", "components/x: other spec change (components/x)")],
    ),
    "an operation moved, with a required parameter added": (
        _move_and_add_parameter,
        False,
        [
            ("BREAKING", "GET /plan-list q: required parameter added (string, required)"),
            (
                "behaviour change",
                "list_plans(): operation moved to another path (GET /plans -> GET /plan-list)",
            ),
        ],
    ),
    "a new operation takes a renamed operation's id: both are reported": (
        _id_taken_by_a_new_operation,
        False,
        [
            ("BREAKING", "get_me() -> other() (GET /me): operation renamed (getMe -> other)"),
            ("addition", "get_me() (PUT /plans): operation added (getMe)"),
        ],
    ),
}


@pytest.mark.parametrize("name", TEXT_CASES)
def test_what_the_report_says_of_each_change(name: str) -> None:
    edit, backwards, expected = TEXT_CASES[name]
    edited = copy.deepcopy(BASE)
    edit(edited)
    old, new = (edited, BASE) if backwards else (BASE, edited)
    result = classify_specs("example", old, new)
    assert [(c.label, c.text()) for c in result] == expected


SURFACE_TEXT_CASES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    # name: (old signature of Client.m, new one, [(label, text)])
    "positional-only, *args and **kwargs": (
        "(a: int, /, b: str = 'x', *args: int, **kw: str) -> None",
        "(a: int, /, b: str, *args: int) -> None",
        [
            ("BREAKING", "Client.m(**kw): parameter removed (was str, optional)"),
            ("BREAKING", "Client.m(b): parameter became required"),
        ],
    ),
    "a method that became async": (
        "(a: int) -> None",
        "async (a: int) -> None",
        [("BREAKING", "Client.m(): return type changed (None -> async None)")],
    ),
    "a property that became a method": (
        "@property () -> X",
        "() -> X",
        [("BREAKING", "Client.m(): return type changed (@property X -> X)")],
    ),
    "an annotation and a default dropped": (
        "(a: int | None = None) -> None",
        "(a) -> None",
        [
            ("BREAKING", "Client.m(a): parameter type changed (int | None -> any)"),
            ("BREAKING", "Client.m(a): parameter became required"),
        ],
    ),
    "an optional parameter with a default added": (
        "(*, a: int) -> None",
        "(*, a: int, b: str = '') -> None",
        [("addition", "Client.m(b): optional parameter added (str, optional)")],
    ),
}


@pytest.mark.parametrize("name", SURFACE_TEXT_CASES)
def test_what_the_report_says_of_each_surface_change(name: str) -> None:
    old, new, expected = SURFACE_TEXT_CASES[name]
    result = classify_surface("p", {"Client.m": old}, {"Client.m": new})
    assert [(c.label, c.text()) for c in result] == expected


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("@classmethod\ndef f(cls, a: int) -> None: ...", "(a: int) -> None"),
        ("def f(self, /, a, b=1): ...", "(a, b=1)"),
        ("@property\ndef f(self): ...", "@property ()"),
        ("async def f(self, *, y: int) -> str: ...", "async (*, y: int) -> str"),
        ("def f(a, self): ...", "(a, self)"),  # only a first self or cls is dropped
        ("def f(self, /, cls): ...", "(cls)"),  # one of them, not one per group
    ],
)
def test_signature_as_the_surface_records_it(source: str, shown: str) -> None:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    assert changes.signature(node) == shown


def test_a_change_of_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rule 'no-such-rule'"):
        Change("p", "X", "no-such-rule")


@pytest.mark.parametrize(
    ("change", "text", "label"),
    [
        (
            Change("p", "Client.get_me()", "operation-added", "method"),
            "Client.get_me(): operation added (method)",
            "addition",
        ),
        (
            Change("p", "GET /me", "operation-added", "not an id"),
            "GET /me: operation added (not an id)",
            "addition",
        ),
        (
            Change("p", "GET /me", "operation-removed", "getMe"),
            "get_me() (GET /me): operation removed (getMe)",
            "BREAKING",
        ),
        (Change("p", "GET /me", "operation-removed"), "GET /me: operation removed", "BREAKING"),
        (
            Change("p", "Plan.grade", "response-field-became-required"),
            "Plan.grade: response field became required",
            "compatible",
        ),
        (
            Change("p", "GET /me 200 response", "description-changed", "description"),
            "GET /me 200 response: documentation changed (description)",
            "docs",
        ),
    ],
)
def test_text_and_label_of_a_change(change: Change, text: str, label: str) -> None:
    assert (change.text(), change.label) == (text, label)


def _props(spec: Spec) -> Spec:
    result: Spec = schema(spec, "User")["properties"]
    return result


def _inline(field: str, container: str, inner: Spec) -> Edit:
    """User.<field>: an inline object, a list of them ("items") or a map of them."""

    def edit(spec: Spec) -> None:
        obj = {"type": "object", "properties": inner}
        if container == "items":
            _props(spec)[field] = {"type": "array", "items": obj}
        elif container == "map":
            _props(spec)[field] = {"type": "object", "additionalProperties": obj}
        else:
            _props(spec)[field] = obj

    return edit


def _created_response(properties: Spec) -> Edit:
    def edit(spec: Spec) -> None:
        spec["paths"]["/plans"]["post"]["responses"]["201"]["content"] = {
            JSON: {"schema": {"type": "object", "properties": properties}}
        }

    return edit


def _status_last(inner: Spec) -> Edit:
    """User.settings, an inline object, then User.status (an enum) moved last."""

    def edit(spec: Spec) -> None:
        _props(spec)["settings"] = {"type": "object", "properties": {"a": inner}}
        _props(spec)["status"] = _props(spec).pop("status")

    return edit


_PAUSED = _set(("components", "schemas", "Status", "enum"), ["active", "canceled", "paused"])


def _ref_cycle(spec: Spec) -> None:
    spec["components"]["schemas"]["A"] = {"$ref": "#/components/schemas/B"}
    spec["components"]["schemas"]["B"] = {"$ref": "#/components/schemas/A"}


def _junk_path(spec: Spec) -> None:
    spec["paths"] = {"/junk": None, **spec["paths"]}


def _shared_response(kind: str) -> Edit:
    def edit(spec: Spec) -> None:
        body = {"type": "object", "properties": {"ok": {"type": kind}}}
        spec["components"]["responses"] = {
            "Me": {"description": "OK", "content": {JSON: {"schema": body}}}
        }
        me(spec)["responses"]["200"] = {"$ref": "#/components/responses/Me"}

    return edit


STRING, INTEGER = {"type": "string"}, {"type": "integer"}
NO_EDIT: Edit = _do()
PAIR_CASES: dict[str, tuple[Edit, Edit, list[tuple[str, str]]]] = {
    # name: (edit giving the old spec, edit giving the new one, [(label, text)] found)
    "a field of an inline object retyped": (
        _inline("settings", "object", {"a": STRING}),
        _inline("settings", "object", {"a": INTEGER}),
        [("BREAKING", "User.settings.a: response field type changed (string -> integer)")],
    ),
    "a field of the inline objects of a list": (
        _inline("rows", "items", {"a": STRING}),
        _inline("rows", "items", {"a": INTEGER}),
        [("BREAKING", "User.rows[].a: response field type changed (string -> integer)")],
    ),
    "a field of the inline objects of a map": (
        _inline("byName", "map", {"a": STRING}),
        _inline("byName", "map", {"b": STRING}),
        [
            ("BREAKING", "User.byName{}.a: response field removed (was string, optional)"),
            ("addition", "User.byName{}.b: response field added (string, optional)"),
        ],
    ),
    "a field of an inline response body": (
        _created_response({"ok": {"type": "boolean"}}),
        _created_response({"ok": STRING}),
        [
            (
                "BREAKING",
                "POST /plans 201 response.ok: response field type changed (boolean -> string)",
            )
        ],
    ),
    "a shared response's description": (
        _set(("components", "responses"), {"E": {"description": "x"}}),
        _set(("components", "responses"), {"E": {"description": "y"}}),
        [("docs", "E response: documentation changed (description)")],
    ),
    "the API's version": (
        NO_EDIT,
        _set(("info", "version"), "2"),
        [("code change", "info/version: other spec change (info/version)")],
    ),
    "enum values in another order": (
        NO_EDIT,
        _set(("components", "schemas", "Status", "enum"), ["canceled", "active"]),
        [],
    ),
    "a second server": (
        NO_EDIT,
        lambda spec: spec["servers"].append({"url": "https://b.example.test"}),
        [("code change", "servers: other spec change (servers)")],
    ),
    "one requirement with two schemes (both needed)": (
        NO_EDIT,
        _set(("paths", "/me", "get", "security"), [{"key": [], "tok": []}]),
        [("BREAKING", "GET /me: authentication changed (security key -> key+tok)")],
    ),
    "the document's default security removed": (
        NO_EDIT,
        _delete(("security",)),
        [
            ("BREAKING", "GET /me: authentication changed (security key -> none)"),
            ("BREAKING", "GET /plans: authentication changed (security key -> none)"),
            ("BREAKING", "POST /plans: authentication changed (security key -> none)"),
            ("code change", "security: other spec change (security)"),
        ],
    ),
    "an error response added: not a success status": (
        NO_EDIT,
        _set(("paths", "/me", "get", "responses", "404"), {"description": "Not found"}),
        [("code change", "GET /me 404 response: other spec change (paths//me/get/responses/404)")],
    ),
    "a second success status": (
        NO_EDIT,
        _set(("paths", "/me", "get", "responses", "202"), {"description": "Accepted"}),
        [("code change", "GET /me: success status changed (200 -> 200, 202)")],
    ),
    "one of two media types gone": (
        _set(
            ("paths", "/me", "get", "responses", "200", "content", "text/plain"),
            {"schema": STRING},
        ),
        NO_EDIT,
        [
            (
                "BREAKING",
                "GET /me 200 response: response media type changed or removed "
                "(text/plain -> application/json)",
            )
        ],
    ),
    "a request body field that now accepts null": (
        NO_EDIT,
        _set(("components", "schemas", "NewPlan", "properties", "note", "nullable"), True),
        [("addition", "NewPlan.note: optional parameter added (now accepts null)")],
    ),
    "a required request body removed": (
        NO_EDIT,
        _delete(("paths", "/plans", "post", "requestBody")),
        [("BREAKING", "POST /plans body: parameter removed (was NewPlan, required)")],
    ),
    "a field of an inline object walked after an enum field": (
        _status_last(STRING),
        _status_last(INTEGER),
        [("BREAKING", "User.settings.a: response field type changed (string -> integer)")],
    ),
    "an empty allOf keeps the type": (
        NO_EDIT,
        _user_field("email", {"type": "string", "allOf": []}),
        [
            (
                "code change",
                "User.email: other spec change (components/schemas/User/properties/email/allOf)",
            ),
            EMAIL_DOCS,
        ],
    ),
    "an object with properties is no map": (
        _user_field("s", {"type": "object", "properties": {"a": STRING}}),
        _user_field(
            "s", {"type": "object", "properties": {"a": STRING}, "additionalProperties": INTEGER}
        ),
        [
            (
                "code change",
                "User.s: other spec change "
                "(components/schemas/User/properties/s/additionalProperties)",
            )
        ],
    ),
    "additionalProperties: true is no typed map": (
        _user_field("s", {"type": "object", "additionalProperties": {}}),
        _user_field("s", {"type": "object", "additionalProperties": True}),
        [
            (
                "code change",
                "User.s: other spec change "
                "(components/schemas/User/properties/s/additionalProperties)",
            )
        ],
    ),
    "a media type without a schema": (
        NO_EDIT,
        _set(
            ("paths", "/me", "get", "responses", "404"),
            {"description": "Not found", "content": {JSON: {}}},
        ),
        [("code change", "GET /me 404 response: other spec change (paths//me/get/responses/404)")],
    ),
    "a path item that is not an object is skipped, not the end": (
        _junk_path,
        _do(_junk_path, _set(("paths", "/me", "get", "operationId"), "fetchMe")),
        [("BREAKING", "get_me() -> fetch_me() (GET /me): operation renamed (getMe -> fetchMe)")],
    ),
    "a parameter without a name": (
        NO_EDIT,
        lambda spec: me(spec)["parameters"].append({"in": "query"}),
        [("code change", "GET /me: other spec change (paths//me/get/parameters)")],
    ),
    "a field of a shared ($ref) response": (
        _shared_response("boolean"),
        _shared_response("string"),
        [("BREAKING", "Me response.ok: response field type changed (boolean -> string)")],
    ),
    "a security scheme's keys in another order": (
        NO_EDIT,
        _set(
            ("components", "securitySchemes", "key"),
            {"name": "X-Api-Key", "in": "header", "type": "apiKey"},
        ),
        [],
    ),
    "a parameter that gained an enum": (
        NO_EDIT,
        _param_schema("enum", [1, 2]),
        [("code change", "GET /me: other spec change (paths//me/get/parameters/0/schema/enum)")],
    ),
    "a parameter that lost its enum": (
        _param_schema("enum", [1, 2]),
        NO_EDIT,
        [("code change", "GET /me: other spec change (paths//me/get/parameters/0/schema/enum)")],
    ),
    "an operation removed, and one after it renamed": (
        NO_EDIT,
        _do(
            _delete(("paths", "/me", "get")),
            _set(("paths", "/plans", "post", "operationId"), "makePlan"),
        ),
        [
            ("BREAKING", "get_me() (GET /me): operation removed (getMe)"),
            (
                "BREAKING",
                "create_plan() -> make_plan() (POST /plans): operation renamed "
                "(createPlan -> makePlan)",
            ),
        ],
    ),
    "words nested in a security scheme are documentation": (
        _set(("components", "securitySchemes", "key", "x-info"), {"description": "a"}),
        _set(("components", "securitySchemes", "key", "x-info"), {"description": "b"}),
        [("docs", "securitySchemes.key: documentation changed (description)")],
    ),
    "a tag list that became a string": (
        _set(("paths", "/me", "get", "tags"), ["a"]),
        _set(("paths", "/me", "get", "tags"), "a"),
        [("code change", "GET /me: other spec change (paths//me/get/tags)")],
    ),
    "a place under info": (
        _set(("info", "contact"), {"name": "a"}),
        _set(("info", "contact"), {"name": "b"}),
        [("code change", "info/contact: other spec change (info/contact/name)")],
    ),
    "a path item without operations": (
        NO_EDIT,
        _set(("paths", "/x"), {"parameters": []}),
        [("code change", "/x: other spec change (paths//x)")],
    ),
    "an operation's responses removed": (
        NO_EDIT,
        _delete(("paths", "/plans", "post", "responses")),
        [("code change", "POST /plans: success status changed (201 -> )")],
    ),
    "documentation and an extension": (
        NO_EDIT,
        _do(_set(("info", "description"), "x"), _set(("x-foo",), 1)),
        [
            ("code change", "x-foo: other spec change (x-foo)"),
            ("docs", "info: documentation changed (description)"),
        ],
    ),
    "an object default with its keys in another order": (
        _param_schema("default", {"a": 1, "b": 2}),
        _param_schema("default", {"b": 2, "a": 1}),
        [],
    ),
    "a field naming a cycle of $refs": (
        _ref_cycle,
        _do(_ref_cycle, _user_field("loop", {"$ref": "#/components/schemas/A"})),
        [("addition", "User.loop: response field added (A, optional)")],
    ),
    "a field naming another document's schema": (
        _user_field("ext", {"$ref": "other.yaml#/X"}),
        _user_field("ext", {"$ref": "other.yaml#/Y"}),
        [("BREAKING", "User.ext: response field type changed (X -> Y)")],
    ),
    "a field whose schema is `true`: any value, not nullable": (
        _user_field("x", {}),
        _user_field("x", True),
        [("code change", "User.x: other spec change (components/schemas/User/properties/x)")],
    ),
    "properties without a type are an object": (
        _user_field("s", {"type": "object", "properties": {"a": STRING}}),
        _user_field("s", {"properties": {"a": STRING}}),
        [("code change", "User.s: other spec change (components/schemas/User/properties/s/type)")],
    ),
    "a deprecation after a documentation change": (
        NO_EDIT,
        _do(
            _set(("info", "description"), "x"),
            _set((*USER, "properties", "email", "deprecated"), True),
        ),
        [
            ("deprecated", "User.email: deprecated"),
            ("docs", "info: documentation changed (description)"),
        ],
    ),
    "an enum walked after an array without items": (
        _user_field("tags", {"type": "array"}),
        _do(_user_field("tags", {"type": "array"}), _PAUSED),
        [("addition", 'Status: enum value added ("paused")')],
    ),
    "an enum walked after a $ref to nothing": (
        _user_field("ghost", {"$ref": "#/components/schemas/Missing"}),
        _do(_user_field("ghost", {"$ref": "#/components/schemas/Missing"}), _PAUSED),
        [("addition", 'Status: enum value added ("paused")')],
    ),
    "a success status change explains its operation, not an unrelated place": (
        NO_EDIT,
        _do(
            lambda spec: me(spec)["responses"].__setitem__("201", me(spec)["responses"].pop("200")),
            _set(("x-foo",), 1),
        ),
        [
            ("code change", "GET /me: success status changed (200 -> 201)"),
            ("code change", "x-foo: other spec change (x-foo)"),
        ],
    ),
    "a response that is not an object": (
        NO_EDIT,
        _set(("paths", "/me", "get", "responses", "200"), "see the docs"),
        [("code change", "GET /me 200 response: other spec change (paths//me/get/responses/200)")],
    ),
    "a field naming its own model": (
        NO_EDIT,
        _user_field("parent", {"$ref": "#/components/schemas/User"}),
        [("addition", "User.parent: response field added (User, optional)")],
    ),
}


@pytest.mark.parametrize("name", PAIR_CASES)
def test_what_the_report_says_between_two_edits(name: str) -> None:
    make_old, make_new, expected = PAIR_CASES[name]
    old, new = copy.deepcopy(BASE), copy.deepcopy(BASE)
    make_old(old)
    make_new(new)
    result = [(c.label, c.text()) for c in classify_specs("example", old, new)]
    # the generic walk may also list the place as "other-changed": only the rules matter
    assert [r for r in result if "other spec change" not in r[1] or r in expected] == expected


MINIMAL: Spec = {"openapi": "3.0.3"}
COMPONENTS: Spec = {"components": {}}


@pytest.mark.parametrize(
    ("old", "new", "text"),
    [
        (
            COMPONENTS,
            {"components": {"schemas": {}}},
            "components/schemas: other spec change (components/schemas)",
        ),
        (
            COMPONENTS,
            {"components": {"responses": {}}},
            "components/responses: other spec change (components/responses)",
        ),
        (
            COMPONENTS,
            {"components": {"securitySchemes": {}}},
            "components/securitySchemes: other spec change (components/securitySchemes)",
        ),
        ({}, {"paths": {}}, "paths: other spec change (paths)"),
        ({}, {"x": 1}, "x: other spec change (x)"),
    ],
)
def test_a_whole_section_added(old: Spec, new: Spec, text: str) -> None:
    result = classify_specs("p", {**MINIMAL, **old}, {**MINIMAL, **new})
    assert [(c.label, c.text()) for c in result] == [("code change", text)]


def test_read_surface_reads_each_client_class_that_is_there(tmp_path: Path) -> None:
    module = tmp_path / "client.py"
    module.write_text(
        "class AsyncRawClient:\n    async def get(self) -> int: ...\n", encoding="utf-8"
    )
    assert read_surface(module) == {"AsyncRawClient.get": "async () -> int"}
