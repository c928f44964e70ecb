"""The generic subsetting step (scripts/codegen/subset.py), on small synthetic specs.

A published spec of hundreds of operations is reduced to the operations creditwatch
uses and the components they reach; these tests pin what is kept, what goes, and the
errors, and check the result with openapi-spec-validator (a tool independent of the
step).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from openapi_spec_validator import validate

from codegen.spec import SpecError
from codegen.subset import SubsetError, find_operation, subset

Spec = dict[str, Any]


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name.replace('~', '~0').replace('/', '~1')}"}


def json_body(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema, **extra}}}


def make_spec() -> Spec:
    """Three operations on two paths; components of every kind, some reachable only
    through other components, one self-cycle and one two-schema cycle, and some
    reachable from nothing."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Synthetic", "version": "1"},
        "servers": [{"url": "https://api.example.test"}],
        "security": [{"bearer": []}],
        "tags": [{"name": "usage"}, {"name": "write"}, {"name": "other"}],
        "x-tooling": {"retries": 3},
        "paths": {
            "/other": {
                "get": {
                    "operationId": "getOther",
                    "tags": ["other"],
                    "security": [{"basic": []}],
                    "responses": {
                        "200": {"description": "ok", **json_body(ref("schemas", "Unused"))}
                    },
                }
            },
            "/usage": {
                "parameters": [ref("parameters", "Trace")],
                "get": {
                    "operationId": "getUsage",
                    "tags": ["usage"],
                    "parameters": [ref("parameters", "Page")],
                    "responses": {
                        "200": {
                            "description": "ok",
                            **json_body(
                                ref("schemas", "Usage"),
                                examples={"one": ref("examples", "UsageExample")},
                            ),
                        },
                        "403": ref("responses", "Forbidden"),
                    },
                },
                "post": {
                    "operationId": "postUsage",
                    "tags": ["write"],
                    "security": [{"key": []}],
                    "requestBody": ref("requestBodies", "Body"),
                    "responses": {"200": {"description": "ok", **json_body(ref("schemas", "Pet"))}},
                },
            },
        },
        "components": {
            "schemas": {
                "Usage": {
                    "type": "object",
                    "properties": {
                        "count": ref("schemas", "Count"),
                        "tree": ref("schemas", "Node"),
                        "odd/name": ref("schemas", "odd/name"),
                    },
                },
                "Count": {"type": "integer", "format": "int64"},
                "Node": {
                    "type": "object",
                    "properties": {
                        "children": {"type": "array", "items": ref("schemas", "Node")},
                        "peer": ref("schemas", "Peer"),
                    },
                },
                "Peer": {"type": "object", "properties": {"back": ref("schemas", "Node")}},
                "odd/name": {"type": "string"},
                "Error": {"type": "object", "properties": {"code": ref("schemas", "ErrorCode")}},
                "ErrorCode": {"type": "string"},
                "PageSize": {"type": "integer"},
                "Unused": {"type": "object", "properties": {"also": ref("schemas", "AlsoUnused")}},
                "AlsoUnused": {"type": "string"},
                "Pet": {
                    "oneOf": [ref("schemas", "Cat"), ref("schemas", "Dog")],
                    "discriminator": {
                        "propertyName": "kind",
                        "mapping": {"cat": "Cat", "dog": "#/components/schemas/Dog"},
                    },
                },
                "Cat": {"type": "object", "properties": {"kind": {"type": "string"}}},
                "Dog": {"type": "object", "properties": {"kind": {"type": "string"}}},
                "BodySchema": {"type": "object"},
            },
            "parameters": {
                "Trace": {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                "Page": {"name": "page", "in": "query", "schema": ref("schemas", "PageSize")},
                "UnusedParam": {"name": "x", "in": "query", "schema": {"type": "string"}},
            },
            "responses": {
                "Forbidden": {
                    "description": "forbidden",
                    "headers": {"X-Reason": ref("headers", "Reason")},
                    **json_body(ref("schemas", "Error")),
                },
                "UnusedResponse": {"description": "never"},
            },
            "headers": {"Reason": {"schema": {"type": "string"}}},
            "examples": {"UsageExample": {"value": {"count": 1}}},
            "requestBodies": {"Body": json_body(ref("schemas", "BodySchema"))},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
    }


def names(result: Spec) -> dict[str, list[str]]:
    return {kind: list(body) for kind, body in result.get("components", {}).items()}


def test_the_input_is_a_valid_spec() -> None:
    """The fixture itself passes the validator, so the checks below test the step."""
    validate(make_spec())


def test_keeps_the_operation_and_what_it_reaches_only() -> None:
    result = subset(make_spec(), ["getUsage"])
    assert list(result["paths"]) == ["/usage"]
    assert list(result["paths"]["/usage"]) == ["parameters", "get"]  # no post
    assert names(result) == {
        # Count via Usage, Node and Peer via a cycle, ErrorCode via Forbidden -> Error,
        # PageSize via a parameter, 'odd/name' via an escaped pointer; in input order.
        "schemas": ["Usage", "Count", "Node", "Peer", "odd/name", "Error", "ErrorCode", "PageSize"],
        "parameters": ["Trace", "Page"],
        "responses": ["Forbidden"],
        "headers": ["Reason"],
        "examples": ["UsageExample"],
        "securitySchemes": ["bearer"],  # the top-level security; not key or basic
    }
    assert result["tags"] == [{"name": "usage"}]
    assert "x-tooling" not in result
    spec = make_spec()
    for key in ("openapi", "info", "servers", "security"):
        assert result[key] == spec[key]
    assert result["paths"]["/usage"]["get"] == spec["paths"]["/usage"]["get"]
    validate(result)


def test_operation_security_schemes_and_request_bodies_are_kept() -> None:
    result = subset(make_spec(), ["postUsage"])
    assert names(result) == {
        "schemas": ["Pet", "Cat", "Dog", "BodySchema"],  # discriminator mapping included
        "parameters": ["Trace"],  # the path's own parameter applies to the operation
        "requestBodies": ["Body"],
        "securitySchemes": ["bearer", "key"],
    }
    assert result["tags"] == [{"name": "write"}]
    validate(result)


def test_a_discriminator_mapping_alone_keeps_its_schemas() -> None:
    spec = make_spec()
    del spec["components"]["schemas"]["Pet"]["oneOf"]
    spec["components"]["schemas"]["Pet"]["type"] = "object"
    result = subset(spec, ["postUsage"])
    assert {"Cat", "Dog"} <= set(result["components"]["schemas"])


def test_a_cycle_is_kept_whole_and_terminates() -> None:
    spec = make_spec()
    spec["paths"]["/usage"]["get"]["responses"]["200"] = {
        "description": "ok",
        **json_body(ref("schemas", "Peer")),
    }
    result = subset(spec, ["getUsage"])
    assert {"Node", "Peer"} <= set(result["components"]["schemas"])
    assert "Usage" not in result["components"]["schemas"]


def test_method_and_path_select_like_the_operation_id() -> None:
    by_id = subset(make_spec(), ["getUsage", "getOther"])
    by_path = subset(make_spec(), ["get /usage", "GET /other"])
    assert by_id == by_path
    assert find_operation(make_spec(), "POST /usage") == ("/usage", "post")


def test_the_output_is_deterministic_and_shares_nothing_with_the_input() -> None:
    spec = make_spec()
    before = copy.deepcopy(spec)
    first = subset(spec, ["getOther", "postUsage", "getUsage"])
    second = subset(spec, ["getUsage", "getOther", "postUsage", "getUsage"])
    assert json.dumps(first) == json.dumps(second)  # key order included
    assert list(first["paths"]) == ["/other", "/usage"]  # the input's order
    assert list(first["paths"]["/usage"]) == ["parameters", "get", "post"]
    assert spec == before
    first["components"]["schemas"]["Usage"]["type"] = "string"
    first["info"]["title"] = "changed"
    assert spec == before
    assert set(first["components"]["securitySchemes"]) == {"bearer", "key", "basic"}
    assert "Unused" in first["components"]["schemas"]  # reached from getOther now


@pytest.mark.parametrize(
    ("selector", "named"),
    [
        ("getNothing", "'getNothing'"),
        ("GET /nothing", "GET /nothing"),
        ("DELETE /usage", "DELETE /usage"),
    ],
)
def test_a_missing_operation_is_an_error_naming_it(selector: str, named: str) -> None:
    with pytest.raises(SubsetError, match="not found") as caught:
        subset(make_spec(), ["getUsage", selector])
    assert named in str(caught.value)
    assert isinstance(caught.value, SpecError)  # what the normalizer's callers catch


def test_an_ambiguous_operation_id_is_an_error() -> None:
    spec = make_spec()
    spec["paths"]["/other"]["get"]["operationId"] = "getUsage"
    with pytest.raises(SubsetError, match=r"'getUsage' is ambiguous \(GET /other, GET /usage\)"):
        subset(spec, ["getUsage"])


def test_an_empty_selection_is_an_error() -> None:
    with pytest.raises(SubsetError, match="names no operation"):
        subset(make_spec(), [])


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("#/components/schemas/Missing", "names nothing in the spec"),
        ("#/paths/~1other/get", "points outside #/components"),
        ("other.yaml#/components/schemas/X", "is not local to the document"),
    ],
)
def test_a_reference_that_cannot_be_followed_is_an_error(target: str, message: str) -> None:
    spec = make_spec()
    spec["components"]["schemas"]["Count"] = {"$ref": target}
    with pytest.raises(SubsetError, match=message) as caught:
        subset(spec, ["getUsage"])
    assert target in str(caught.value)


def test_an_undefined_security_scheme_is_an_error() -> None:
    spec = make_spec()
    spec["paths"]["/usage"]["get"]["security"] = [{"oauth": ["read"]}]
    with pytest.raises(SubsetError, match="security scheme 'oauth' is not defined"):
        subset(spec, ["getUsage"])


def test_anonymous_security_and_missing_tags_are_fine() -> None:
    spec = make_spec()
    del spec["tags"], spec["security"]
    spec["paths"]["/usage"]["get"]["security"] = [{}]
    result = subset(spec, ["getUsage"])
    assert "tags" not in result
    assert "securitySchemes" not in result["components"]
    validate(result)
