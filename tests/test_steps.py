"""The generic normalizer steps (scripts/codegen/steps.py), on small synthetic specs.

Each step fixes one upstream defect; these tests check the fix, that nothing upstream
allows is refused afterwards, and that a step whose target is missing fails naming
itself (so an upstream fix is noticed and the step removed).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from codegen.spec import Spec, SpecError, Step
from codegen.steps import (
    STEPS,
    add_example,
    apply,
    example_from_schema,
    header_credential,
    keep_only,
    rename_operations,
    response_codes_as_text,
    servers_from,
)

# The shape of DeepL's openapi.yaml: response codes unquoted, so YAML reads integers.
UNQUOTED = """\
openapi: 3.0.3
info: {title: Unquoted, version: '1'}
paths:
  /v2/usage:
    get:
      operationId: getUsage
      responses:
        200:
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {n: {type: integer}}}
        456:
          description: quota exceeded
        default:
          description: anything else
"""

# The shape of ElevenLabs' openapi.json: FastAPI ids, the key as a header parameter.
FASTAPI: Spec = {
    "openapi": "3.1.0",
    "info": {"title": "FastAPI", "version": "1"},
    "paths": {
        "/v1/user/subscription": {
            "get": {
                "operationId": "Get_user_subscription_info_v1_user_subscription_get",
                "parameters": [
                    {
                        "name": "xi-api-key",
                        "in": "header",
                        "description": "Your API key.",
                        "required": False,
                        "schema": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/v1/voices": {
            "get": {
                "operationId": "Get_voices_v1_voices_get",
                "parameters": [
                    {"$ref": "#/components/parameters/Key"},
                    {"name": "page", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/v1/models": {
            "get": {
                "operationId": "Get_models_v1_models_get",
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
    "components": {
        "parameters": {
            "Key": {
                "name": "XI-API-KEY",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            }
        }
    },
}


def unquoted() -> Spec:
    spec: Spec = yaml.safe_load(UNQUOTED)
    return spec


def fastapi() -> Spec:
    return copy.deepcopy(FASTAPI)


def with_api_key_scheme() -> Spec:
    spec = fastapi()
    spec["components"]["securitySchemes"] = {"api_key": {"type": "http", "scheme": "bearer"}}
    return spec


def with_example() -> Spec:
    spec = unquoted()
    response_codes_as_text()(spec)
    media = spec["paths"]["/v2/usage"]["get"]["responses"]["200"]["content"]["application/json"]
    media["example"] = {"n": 1}
    return spec


def test_response_codes_become_text_in_order() -> None:
    spec = unquoted()
    responses = spec["paths"]["/v2/usage"]["get"]["responses"]
    assert list(responses) == [200, 456, "default"]  # the defect, as YAML reads it
    with pytest.raises(Exception):  # noqa: B017 - the validator raises several types
        validate(spec)
    response_codes_as_text()(spec)
    fixed = spec["paths"]["/v2/usage"]["get"]["responses"]
    assert list(fixed) == ["200", "456", "default"]
    assert fixed["200"] == responses[200]
    validate(spec)


def test_servers_come_from_the_overrides_file(tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.yml"
    overrides.write_text(
        "servers:\n"
        "  - url: https://api.example.test/\n"
        "    description: Production (default)\n"
        "  - url: https://api.eu.example.test\n"
        "paths: {}\n",
        encoding="utf-8",
    )
    spec = fastapi()
    servers_from(overrides)(spec)
    assert spec["servers"] == [
        {"url": "https://api.example.test", "description": "Production (default)"},
        {"url": "https://api.eu.example.test"},
    ]
    assert list(spec) == ["openapi", "info", "servers", "paths", "components"]
    validate(spec)


def test_renamed_operations_keep_everything_else() -> None:
    spec = fastapi()
    before = copy.deepcopy(spec)
    rename_operations(
        {
            "Get_user_subscription_info_v1_user_subscription_get": "getUserSubscription",
            "GET /v1/voices": "getVoices",
        }
    )(spec)
    assert spec["paths"]["/v1/user/subscription"]["get"]["operationId"] == "getUserSubscription"
    assert spec["paths"]["/v1/voices"]["get"]["operationId"] == "getVoices"
    for path in before["paths"]:
        spec["paths"][path]["get"].pop("operationId")
        before["paths"][path]["get"].pop("operationId")
    assert spec == before


def test_two_operations_cannot_take_one_name() -> None:
    with pytest.raises(
        SpecError, match=r"^rename_operations: operationId 'getVoices' is already used"
    ):
        rename_operations({"GET /v1/models": "getVoices", "GET /v1/voices": "getVoices"})(fastapi())
    spec = fastapi()
    rename_operations({"GET /v1/models": "tmp", "GET /v1/voices": "Get_models_v1_models_get"})(spec)
    assert spec["paths"]["/v1/voices"]["get"]["operationId"] == "Get_models_v1_models_get"


def test_the_credential_header_becomes_a_security_scheme() -> None:
    spec = fastapi()
    header_credential("xi-api-key", "api_key")(spec)
    subscription = spec["paths"]["/v1/user/subscription"]["get"]
    voices = spec["paths"]["/v1/voices"]["get"]
    assert "parameters" not in subscription
    # Optional upstream: the anonymous alternative stays, so nothing allowed is refused.
    assert subscription["security"] == [{"api_key": []}, {}]
    # Required upstream (through a $ref, in another case): required here too.
    assert voices["parameters"] == [{"name": "page", "in": "query", "schema": {"type": "integer"}}]
    assert voices["security"] == [{"api_key": []}]
    assert "security" not in spec["paths"]["/v1/models"]["get"]
    assert spec["components"]["securitySchemes"] == {
        "api_key": {
            "type": "apiKey",
            "in": "header",
            "name": "xi-api-key",
            "description": "Your API key.",
        }
    }
    validate(spec)


def test_an_example_is_added_beside_the_schema() -> None:
    spec = fastapi()
    add_example(
        "GET /v1/user/subscription",
        "200",
        "documented",
        value={"tier": "free"},
        summary="A free account",
        source="https://docs.example.test/subscription",
    )(spec)
    media = spec["paths"]["/v1/user/subscription"]["get"]["responses"]["200"]["content"]
    assert media["application/json"]["examples"] == {
        "documented": {
            "summary": "A free account",
            "description": "From https://docs.example.test/subscription",
            "value": {"tier": "free"},
        }
    }
    assert media["application/json"]["schema"] == {"type": "object"}
    validate(spec)


def with_schema_example() -> Spec:
    spec = fastapi()
    media = spec["paths"]["/v1/user/subscription"]["get"]["responses"]["200"]["content"]
    media["application/json"]["schema"] = {"$ref": "#/components/schemas/Subscription"}
    spec["components"]["schemas"] = {
        "Subscription": {
            "type": "object",
            "properties": {"tier": {"type": "string"}},
            "example": {"tier": "starter"},
        }
    }
    return spec


def test_the_schema_example_becomes_a_response_example() -> None:
    spec = with_schema_example()
    before = copy.deepcopy(spec["components"])
    example_from_schema("GET /v1/user/subscription", "200", "documented")(spec)
    media = spec["paths"]["/v1/user/subscription"]["get"]["responses"]["200"]["content"]
    assert media["application/json"]["examples"] == {"documented": {"value": {"tier": "starter"}}}
    assert spec["components"] == before  # the schema keeps its example
    validate(spec)


def test_keep_only_reduces_in_place() -> None:
    spec = fastapi()
    keep_only(["GET /v1/voices"])(spec)
    assert list(spec["paths"]) == ["/v1/voices"]
    assert list(spec["components"]["parameters"]) == ["Key"]


def test_apply_leaves_its_input_alone() -> None:
    spec = unquoted()
    before = copy.deepcopy(spec)
    result = apply(spec, [keep_only(["getUsage"]), response_codes_as_text()])
    assert spec == before
    assert list(result["paths"]["/v2/usage"]["get"]["responses"]) == ["200", "456", "default"]


# A step built with arguments whose target is missing from its spec, for every step.
MISSING: dict[str, tuple[Callable[[Path], Step], Callable[[], Spec], str]] = {
    "keep_only": (lambda _: keep_only(["getNothing"]), unquoted, "'getNothing' not found"),
    "response_codes_as_text": (
        lambda _: response_codes_as_text(),
        fastapi,
        "no response code is an integer any more",
    ),
    "servers_from": (
        lambda tmp: servers_from(tmp / "absent.yml"),
        fastapi,
        "cannot read absent.yml",
    ),
    "rename_operations": (
        lambda _: rename_operations({"Old_id_get": "newId"}),
        fastapi,
        "'Old_id_get' not found",
    ),
    "header_credential": (
        lambda _: header_credential("x-api-key", "api_key"),
        fastapi,
        "no operation declares the header 'x-api-key'",
    ),
    "add_example": (
        lambda _: add_example("getUsage", "201", "x", value={}, summary="s", source="u"),
        unquoted,
        "getUsage documents no 201 response",
    ),
    "example_from_schema": (
        lambda _: example_from_schema("GET /v1/user/subscription", "200", "x"),
        fastapi,
        "the schema of GET /v1/user/subscription 200 has no example",
    ),
}


def test_every_step_has_a_missing_target_case() -> None:
    assert set(MISSING) == set(STEPS)
    assert all(builder.__name__ == name for name, builder in STEPS.items())


@pytest.mark.parametrize("name", sorted(MISSING))
def test_a_missing_target_fails_naming_the_step(name: str, tmp_path: Path) -> None:
    build, make, message = MISSING[name]
    spec = make()
    if name == "add_example":
        response_codes_as_text()(spec)
    step = build(tmp_path)
    assert step.__name__ == name
    with pytest.raises(SpecError) as caught:
        step(spec)
    assert str(caught.value).startswith(f"{name}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("make", "step", "message"),
    [
        (
            lambda: {**fastapi(), "servers": [{"url": "https://x.test"}]},
            servers_from,
            "servers_from: the spec declares servers now (https://x.test, ...): remove the step",
        ),
        (
            fastapi,
            lambda tmp: servers_from(tmp / "empty.yml"),
            "servers_from: empty.yml has no list of servers with urls",
        ),
        (
            fastapi,
            lambda _: rename_operations({"GET /v1/voices": "Get_voices_v1_voices_get"}),
            "rename_operations: GET /v1/voices is already 'Get_voices_v1_voices_get'",
        ),
        (
            with_api_key_scheme,
            lambda _: header_credential("xi-api-key", "api_key"),
            "header_credential: security scheme 'api_key' already exists",
        ),
        (
            with_example,
            lambda _: add_example("getUsage", "200", "x", value={}, summary="s", source="u"),
            "add_example: getUsage 200 already has an example",
        ),
        (
            with_example,
            lambda _: example_from_schema("getUsage", "200", "x"),
            "example_from_schema: getUsage 200 has a response example now: remove the step",
        ),
    ],
)
def test_an_obsolete_or_conflicting_step_fails_naming_itself(
    make: Callable[[], Spec], step: Callable[[Path], Step], message: str, tmp_path: Path
) -> None:
    (tmp_path / "empty.yml").write_text("paths: {}\n", encoding="utf-8")
    spec = make()
    with pytest.raises(SpecError) as caught:
        step(tmp_path)(spec)
    assert str(caught.value).startswith(message)
