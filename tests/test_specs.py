"""The specs the generator reads (issue #2): valid, examples that match their schemas,
the normalizer's fixes in place, and upstream snapshots identical to the seed pages.

Everything here reads ``specs/*.yaml`` as YAML and checks it with tools independent
of the generator (openapi-spec-validator, openapi-schema-validator); the normalizer
(``scripts/codegen/``) is only imported to replay its steps one by one.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import re
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from openapi_schema_validator import (
    OAS30Validator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from _golden import request as golden_request
from _golden import server as golden_server
from _specs import NORMALIZED, Spec, deref, load, load_copy, op_security, operations, pointer
from conftest import PROVIDERS, ROOT, SPECS, credentials

SCRIPTS = ROOT / "scripts"
SEEDS = ROOT.parent / "shared" / "seeds"
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
SPEC_URI = "urn:creditwatch:spec"

# The providers' real base URLs and how each really takes its credential come from the
# hand-worked golden files (tests/golden/<provider>.yaml, `request:`), written from the
# providers' docs, not read from the specs or the generated code.

# -- validating examples ---------------------------------------------------------------


def or_null(node: Any) -> Any:
    """Rewrite ``nullable: true`` beside a ``$ref``/``allOf``/``anyOf``/``oneOf`` that has
    no ``type`` as an explicit "schema or null" (``anyOf: [schema, {enum: [null]}]``).

    Why: OAS 3.0.3 says ``nullable`` only acts together with a ``type`` in the same
    schema object, so openapi-schema-validator's OAS30Validator rejects ``null`` for
    ``{nullable: true, allOf: [$ref]}`` (the ``$ref`` target says ``type: object``).
    Every tool that reads our specs (Prism, openapi-python-client, datamodel-codegen)
    reads that spelling as "the referenced schema or null", which is what the specs
    mean, so the examples are validated with that reading. ``{enum: [null]}`` is the
    OAS 3.0 way to say ``{type: 'null'}`` (3.0 has no null type).
    """
    if isinstance(node, list):
        return [or_null(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: or_null(value) for key, value in node.items()}
    composed = {"$ref", "allOf", "anyOf", "oneOf"} & node.keys()
    if node.get("nullable") is True and "type" not in node and composed:
        inner = {key: value for key, value in node.items() if key != "nullable"}
        return {"anyOf": [inner, {"enum": [None]}]}
    return node


@functools.cache
def _registry(name: str) -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(
        or_null(load(name)), default_specification=DRAFT4
    )
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


def schema_errors(name: str, schema_ptr: str, value: Any) -> list[str]:
    """Errors of ``value`` against the schema at ``schema_ptr`` in specs/<name>.yaml:
    $refs resolved, formats (date-time, email, uuid, int32...) checked."""
    # OpenAPI 3.1 schemas are JSON Schema 2020-12 (`type: [number, "null"]`, OpenRouter)
    v31 = str(load(name).get("openapi", "")).startswith("3.1")
    validator = (OAS31Validator if v31 else OAS30Validator)(
        {"$ref": f"{SPEC_URI}#{schema_ptr}"},
        registry=_registry(name),
        format_checker=oas31_format_checker if v31 else oas30_format_checker,
    )
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(value)
    ]


@dataclass(frozen=True)
class Example:
    provider: str
    label: str  # readable: operation, status, example name
    value: Any
    schema_ptr: str  # JSON pointer of the schema it must match
    where: str  # JSON pointer of the example itself


def _holder_examples(
    spec: Spec, provider: str, ptr: str, holder: dict[str, Any], label: str
) -> Iterator[Example]:
    """Examples of a media type, parameter or header object."""
    if "schema" not in holder:
        return
    schema_ptr = ptr + "/schema"
    if "example" in holder:
        yield Example(provider, label, holder["example"], schema_ptr, ptr + "/example")
    for name in holder.get("examples", {}):
        where, example = deref(spec, ptr + pointer("examples", name))
        yield Example(provider, f"{label}-{name}", example["value"], schema_ptr, where + "/value")


def _schema_examples(provider: str, ptr: str, schema: Any, label: str) -> Iterator[Example]:
    """Schema-level and property-level examples, recursively."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    if "example" in schema:
        yield Example(provider, f"{label}-example", schema["example"], ptr, ptr + "/example")
    for name, sub in schema.get("properties", {}).items():
        sub_ptr = ptr + pointer("properties", name)
        yield from _schema_examples(provider, sub_ptr, sub, f"{label}.{name}")
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            yield from _schema_examples(provider, f"{ptr}/{key}", schema[key], f"{label}[{key}]")
    for key in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(key, [])):
            yield from _schema_examples(provider, f"{ptr}/{key}/{i}", sub, f"{label}[{key}{i}]")


def documented_examples(provider: str) -> list[Example]:
    spec = load(provider)
    found: dict[str, Example] = {}  # by where: a shared component is checked once

    def add(examples: Iterator[Example]) -> None:
        for example in examples:
            found.setdefault(example.where, example)

    for path, method, op in operations(spec):
        op_ptr = pointer("paths", path, method)
        opid = op.get("operationId", f"{method}{path}")
        path_params = spec["paths"][path].get("parameters", [])
        params = [pointer("paths", path, "parameters", i) for i in range(len(path_params))]
        params += [f"{op_ptr}/parameters/{i}" for i in range(len(op.get("parameters", [])))]
        for param_ptr in params:
            ptr, param = deref(spec, param_ptr)
            add(_holder_examples(spec, provider, ptr, param, f"{opid}-param-{param['name']}"))
            add(_schema_examples(provider, ptr + "/schema", param.get("schema"), f"{opid}-param"))
        for status in op.get("responses", {}):
            response_ptr, response = deref(spec, f"{op_ptr}/responses/{status}")
            for header in response.get("headers", {}):
                ptr, body = deref(spec, response_ptr + pointer("headers", header))
                add(_holder_examples(spec, provider, ptr, body, f"{opid}-{status}-{header}"))
            for media_type, media in response.get("content", {}).items():
                ptr = response_ptr + pointer("content", media_type)
                suffix = "" if media_type == "application/json" else f"-{media_type}"
                add(_holder_examples(spec, provider, ptr, media, f"{opid}-{status}{suffix}"))
    components = spec.get("components", {})
    for name, schema in components.get("schemas", {}).items():
        add(_schema_examples(provider, pointer("components", "schemas", name), schema, name))
    for name in components.get("headers", {}):
        ptr, header = deref(spec, pointer("components", "headers", name))
        add(_holder_examples(spec, provider, ptr, header, f"header-{name}"))
    return list(found.values())


ALL_EXAMPLES = [example for name in PROVIDERS for example in documented_examples(name)]


def test_every_spec_file_is_known() -> None:
    assert sorted(p.stem for p in SPECS.glob("*.yaml")) == sorted(PROVIDERS)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_spec_is_valid_openapi(provider: str) -> None:
    validate_spec(load_copy(provider))


@pytest.mark.parametrize(
    "example", ALL_EXAMPLES, ids=[f"{e.provider}-{e.label}" for e in ALL_EXAMPLES]
)
def test_documented_example_matches_its_schema(example: Example) -> None:
    errors = schema_errors(example.provider, example.schema_ptr, example.value)
    assert not errors, f"{example.provider} {example.label} ({example.schema_ptr}):\n" + "\n".join(
        errors
    )


def test_example_validation_can_fail() -> None:
    """The validator used above rejects wrong types, formats and nulls, and reads
    ``nullable`` + ``allOf`` as "or null" only where the spec says nullable."""
    media = pointer("components", "schemas", "MeResponse")
    good: dict[str, Any] = {
        "status": 200,
        "data": {
            "application": "App",
            "usedQuota": 1,
            "maxQuota": None,
            "remainingQuota": None,
            "expiredAt": "2025-01-01T00:00:00+07:00",
            "currentCredit": 1.5,
        },
    }
    assert schema_errors("easyslip", media, good) == []
    for path, bad in (
        ("usedQuota", "1"),  # a string where an integer belongs
        ("usedQuota", 1.5),  # a fraction for an integer
        ("expiredAt", "2025-01-01"),  # not an RFC 3339 date-time
        ("application", None),  # not nullable
    ):
        wrong = copy.deepcopy(good)
        wrong["data"][path] = bad
        assert schema_errors("easyslip", media, wrong), (path, bad)
    missing = copy.deepcopy(good)
    del missing["data"]["currentCredit"]
    assert schema_errors("easyslip", media, missing)

    assert schema_errors("exorde", "/components/schemas/User/properties/email", "nope")
    assert schema_errors("exorde", "/components/schemas/User/properties/id", "not-a-uuid")
    auth_user = "/components/schemas/AuthUserDto/properties"
    assert schema_errors("flamel", f"{auth_user}/Enterprise", None) == []  # nullable + allOf
    assert schema_errors("flamel", f"{auth_user}/Plan", None)  # allOf, not nullable
    assert schema_errors("flamel", f"{auth_user}/Enterprise", {"amount": 1})  # missing fields


# -- what every spec the generator reads must say ------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_real_servers_and_the_client_default(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spec's servers are real https URLs (no placeholder, no trailing slash) and the
    client's default is the provider's real one (from the golden file, for a key that
    selects no other server); a spec may list several (DeepL's Pro and Free servers)."""
    monkeypatch.delenv(f"{provider.upper()}_BASE_URL", raising=False)
    module = importlib.import_module(f"creditwatch.{provider}")
    servers = [server["url"] for server in load(provider).get("servers", [])]
    assert servers and servers[0] == golden_server(provider), servers
    for url in servers:
        assert re.fullmatch(r"https://[a-z0-9.-]+\.[a-z]{2,}(/[A-Za-z0-9._/-]*[^/])?", url), url
        assert not re.search(r"example\.|localhost|\{", url), url
    with module.Client(**credentials(provider)) as client:
        assert client.base_url == golden_server(provider)


def _scheme_key(scheme: dict[str, Any]) -> tuple[str, ...]:
    if scheme["type"] == "http":
        return ("http", scheme["scheme"].lower())
    return (scheme["type"], scheme.get("in", ""), scheme.get("name", "").lower())


def _expected_schemes(provider: str) -> set[tuple[str, ...]]:
    """How the golden file says the main call sends the credential, as scheme keys:
    ``Authorization: Bearer <key>`` is HTTP bearer, ``Authorization: Basic <basic>`` HTTP
    basic, any other header carrying the key an apiKey header (Generect's ``Token <key>``,
    DeepL's ``DeepL-Auth-Key <key>``, Flamel's ``X-Api-Key``)."""
    _, headers = golden_request(provider, "<key>")
    expected: set[tuple[str, ...]] = set()
    for name, value in headers.items():
        if value == "Bearer <key>" and name.lower() == "authorization":
            expected.add(("http", "bearer"))
        elif value.startswith("Basic ") and name.lower() == "authorization":
            expected.add(("http", "basic"))
        elif "<key>" in value:
            expected.add(("apiKey", "header", name.lower()))
    assert expected, f"tests/golden/{provider}.yaml: no header carries the credential"
    return expected


def _upstream_allows_anonymous(provider: str, path: str, method: str) -> bool:
    """Whether the published spec the normalized one comes from requires no credential
    for this operation (ElevenLabs declares its key header as an optional parameter)."""
    declared = next(p for p in _script("codegen.providers").PROVIDERS if p.name == provider)
    if declared.upstream is None:
        return False
    upstream = _script("codegen.spec").load(declared.upstream)
    op = upstream["paths"][path][method]
    return not op.get("security", upstream.get("security", [])) or {} in op.get("security", [])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_operation_is_secured_with_the_real_header(provider: str) -> None:
    spec = load(provider)
    schemes = spec.get("components", {}).get("securitySchemes", {})
    expected = _expected_schemes(provider)
    for path, method, op in operations(spec):
        requirements = op_security(spec, op)
        assert requirements, f"{method.upper()} {path} has no security"
        header_alternatives = set()
        for requirement in requirements:
            if not requirement:  # anonymous: never added by the normalizer
                assert _upstream_allows_anonymous(provider, path, method), (
                    f"{method.upper()} {path}: an empty requirement allows anonymous"
                )
                continue
            for name in requirement:
                assert name in schemes, f"security scheme {name!r} is not defined"
            keys = {_scheme_key(schemes[name]) for name in requirement}
            if all(schemes[name].get("in") != "cookie" for name in requirement):
                header_alternatives |= keys
        # Cookie alternatives (Flamel's web session) are fine; the header is the API's.
        assert header_alternatives == expected, f"{method.upper()} {path}"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_operation_ids_summaries_and_texts(provider: str) -> None:
    spec = load(provider)
    ids = [op.get("operationId", "") for _, _, op in operations(spec)]
    assert ids
    assert len(set(ids)) == len(ids)
    for opid in ids:
        # camelCase, or PascalCase as Twilio publishes it: either becomes a readable
        # snake_case method (FastAPI's "Get_user_..._get" ids are renamed)
        assert opid.isascii() and re.fullmatch(r"[A-Za-z][a-z0-9]*([A-Z][a-z0-9]*)*", opid), opid

    def texts(node: Any, ptr: str = "") -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"summary", "description", "title"} and isinstance(value, str):
                    yield f"{ptr}/{key}", value
                yield from texts(value, f"{ptr}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from texts(value, f"{ptr}/{i}")

    korean = [(where, text) for where, text in texts(spec) if HANGUL.search(text)]
    assert korean == [], "summaries/descriptions must be English"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_schema_names_are_not_generator_made_up(provider: str) -> None:
    names = list(load(provider).get("components", {}).get("schemas", {}))
    made_up = [n for n in names if re.search(r"Response\d{3}", n) or re.match(r"Get[A-Z]", n)]
    assert made_up == []
    # PascalCase, or upstream's dotted namespaces (Twilio's "api.v2010.account.balance")
    assert all(
        re.fullmatch(r"[A-Z][A-Za-z0-9]*|[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+", n) for n in names
    ), names


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_response_has_schema_and_example(provider: str) -> None:
    spec = load(provider)
    checked = {e.where for e in ALL_EXAMPLES if e.provider == provider}
    for path, method, op in operations(spec):
        assert op.get("responses"), f"{method.upper()} {path} documents no response"
        for status in op["responses"]:
            where = f"{provider} {op['operationId']} {status}"
            response_ptr, response = deref(
                spec, pointer("paths", path, method, "responses", status)
            )
            if not response.get("content"):
                # only an error may come without a body (Exorde's 503, DeepL's 500 and 504)
                assert not str(status).startswith("2"), where
                continue
            assert set(response["content"]) == {"application/json"}, where
            media = response["content"]["application/json"]
            assert "schema" in media, where
            if not str(status).startswith("2") and not ("example" in media or "examples" in media):
                continue  # DeepL and ElevenLabs document their error bodies by schema only
            # A success body needs a documented example: the golden balances, Prism's
            # answers and the demo are made from them.
            assert "example" in media or media.get("examples"), where
            # ...and test_documented_example_matches_its_schema checks them all.
            ptr = response_ptr + "/content/application~1json"
            names = [ptr + "/example"] if "example" in media else []
            names += [
                deref(spec, ptr + pointer("examples", n))[0] + "/value"
                for n in media.get("examples", {})
            ]
            assert set(names) <= checked, where


# Prism's --dynamic mode (json-schema-faker) always fills optional properties, so a
# cycle of schemas reachable from a response makes it recurse until the stack
# overflows (about three draws in four for Flamel), after which every dynamic answer
# of that Prism process is a 500 (seen with Prism 5.16.0; see test_prism_contract.py).
# The Flamel normalizer cuts the only entry into its Plan/Model/Enterprise cycles
# (step cut_relation_cycles); this test keeps it that way for every provider.


@pytest.mark.parametrize(
    "provider",
    PROVIDERS,
)
def test_response_schemas_are_acyclic(provider: str) -> None:
    spec = load(provider)

    def visit(node: Any, trail: tuple[str, ...]) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item, trail)
            return
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            assert name not in trail, "cycle: " + " -> ".join((*trail, name))
            visit(deref(spec, node["$ref"][1:])[1], (*trail, name))
            return
        for key, value in node.items():
            if key not in {"example", "examples", "description", "enum", "default"}:
                visit(value, trail)

    for path, method, op in operations(spec):
        for status in op["responses"]:
            _, response = deref(spec, pointer("paths", path, method, "responses", status))
            for media in response.get("content", {}).values():
                visit(media["schema"], ())


# -- the Flamel and Generect normalizers' fixes ---------------------------------------


def _flamel_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = load("flamel")["components"]["schemas"]
    return schemas


def test_flamel_patterns_are_not_regex_literals() -> None:
    patterns = [
        (f"{name}.{prop}", body["pattern"])
        for name, schema in _flamel_schemas().items()
        for prop, body in schema.get("properties", {}).items()
        if "pattern" in body
    ]
    assert patterns, "the upstream patterns are gone: update this test"
    for where, pattern in patterns:
        assert not (len(pattern) > 1 and pattern[0] == pattern[-1] == "/"), where
        re.compile(pattern)
    # ...and they accept the values they describe.
    assert re.search(
        _flamel_schemas()["PricePropertyDto"]["properties"]["currency"]["pattern"], "KRW"
    )
    assert re.search(_flamel_schemas()["Model"]["properties"]["squareSize"]["pattern"], "512x512")


_FLAMEL_COUNTS = {
    "historyPeriodMonth",
    "maxStyleNumber",
    "simultaneousLimit",
    "maxMultiSelect",
    "maxEditNumber",
    "maxPromptNumber",
    "errorCount",
    "recoverCount",
}


_FLAMEL_SAMPLE_INTEGERS = [
    "AuthUserDto.userId",
    "AuthUserDto.planId",
    "AuthUserDto.nextPlanId",
    "CreditCostInfo.upgradePlanId",
    "Model.backupModelId",
    "Plan.historyPeriodMonth",
    "Enterprise.userId",
]


def test_flamel_ids_and_counts_are_integers() -> None:
    checked = []
    for name, schema in _flamel_schemas().items():
        for prop, body in schema.get("properties", {}).items():
            is_id = prop == "id" or prop.endswith("Id")
            if prop in _FLAMEL_COUNTS or (is_id and body.get("type") in {"number", "integer"}):
                assert body.get("type") == "integer", f"{name}.{prop}: {body.get('type')}"
                checked.append(f"{name}.{prop}")
    assert set(_FLAMEL_SAMPLE_INTEGERS) <= set(checked)
    # Credits, prices and intervals stay numbers: they can be fractional (issue #18).
    assert _flamel_schemas()["AuthUserDto"]["properties"]["defaultCredit"]["type"] == "number"
    assert _flamel_schemas()["Plan"]["properties"]["minusCreditAllowed"]["type"] == "number"
    assert _flamel_schemas()["Model"]["properties"]["ping"]["type"] == "number"


@pytest.mark.parametrize(
    "prop",
    [
        "profileImage",
        "snsId",
        "cardNumber",
        "cardCompany",
        "nextPlanId",
        "billingRetryDate",
        "Enterprise",
    ],
)
def test_flamel_optional_things_are_nullable(prop: str) -> None:
    body = _flamel_schemas()["AuthUserDto"]["properties"][prop]
    assert body.get("nullable") is True
    ptr = pointer("components", "schemas", "AuthUserDto", "properties", prop)
    assert schema_errors("flamel", ptr, None) == []


def test_flamel_error_envelope_and_security() -> None:
    spec = load("flamel")
    envelope = spec["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["type"] == "object"
    assert set(envelope["required"]) == {"success", "code", "data"}
    op = spec["paths"]["/api/users/me"]["get"]
    assert op["operationId"] == "getMyInfo"
    for status in ("401", "403"):
        media = op["responses"][status]["content"]["application/json"]
        assert media["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}, status
    cookie = spec["components"]["securitySchemes"]["connect.sid"]
    assert (cookie["type"], cookie["in"], cookie["name"]) == ("apiKey", "cookie", "connect.sid")
    assert {"connect.sid": []} in op["security"]


def test_generect_fixes() -> None:
    spec = load("generect")
    schemas = spec["components"]["schemas"]
    assert list(spec["paths"]) == ["/api/auth/users/me/"]  # the trailing slash is needed
    op = spec["paths"]["/api/auth/users/me/"]["get"]
    assert op["tags"] == ["auth"]
    assert [tag["name"] for tag in spec["tags"]] == ["auth"]
    media = op["responses"]["200"]["content"]["application/json"]
    assert media["schema"] == {"$ref": "#/components/schemas/User"}
    user = schemas["User"]
    assert user["properties"]["icp_flow"] == {"$ref": "#/components/schemas/IcpFlow"}
    assert schemas["IcpFlow"]["type"] == "object"
    # Every field of the provider's documented answer is required.
    (example,) = media["examples"].values()
    assert user.get("required")
    assert set(user["required"]) == set(user["properties"]) == set(example["value"])
    for prop in ("logo", "prev_subscription_status"):
        body = user["properties"][prop]
        assert (body.get("type"), body.get("nullable")) == ("string", True), prop
        ptr = pointer("components", "schemas", "User", "properties", prop)
        assert schema_errors("generect", ptr, None) == [], prop
    (requirement,) = op_security(spec, op)
    (scheme_name,) = requirement
    scheme = spec["components"]["securitySchemes"][scheme_name]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")


def _script(module: str) -> Any:
    """A module of scripts/ (imported by name: mypy does not see scripts/)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module(module)


Step = Callable[[Spec], None]


def _normalizer_steps() -> list[tuple[str, int, Step]]:
    providers = {p.name: p for p in _script("codegen.providers").PROVIDERS}
    assert {name for name, p in providers.items() if p.upstream is not None} == set(NORMALIZED)
    return [(name, i, step) for name in NORMALIZED for i, step in enumerate(providers[name].steps)]


def _upstream(path: Any) -> Spec:
    """A snapshot as published: JSON (ElevenLabs, Twilio) or YAML, read independently of
    the generator's loader."""
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_YAML)
    assert isinstance(data, dict), path
    return data


_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _replayed(provider: str) -> list[tuple[Spec, Spec]]:
    """(before, after) of every step, applied in order to the upstream snapshot."""
    declared = next(p for p in _script("codegen.providers").PROVIDERS if p.name == provider)
    spec = _upstream(declared.upstream)
    states = []
    for name, _, step in _normalizer_steps():
        if name == provider:
            before = copy.deepcopy(spec)
            step(spec)
            states.append((before, copy.deepcopy(spec)))
    return states


STEPS = _normalizer_steps()


@pytest.mark.parametrize(
    ("provider", "index"),
    [(name, i) for name, i, _ in STEPS],
    ids=[f"{name}-{i:02d}-{step.__name__}" for name, i, step in STEPS],
)
def test_each_normalizer_step_still_changes_something(provider: str, index: int) -> None:
    """A step that changes nothing was made obsolete by an upstream fix: remove it."""
    before, after = _replayed(provider)[index]
    assert after != before, f"step {index} of {provider} changes nothing on the snapshot"


@pytest.mark.parametrize("provider", NORMALIZED)
def test_normalized_spec_is_the_steps_applied_to_the_snapshot(provider: str) -> None:
    _, final = _replayed(provider)[-1]
    assert final == load(provider)


def _from_seed_pages() -> list[str]:
    """The normalized providers whose snapshot was cut from a documentation page (its
    sidecar names no git commit; those from git are checked by test_upstream_sources)."""
    return [
        name
        for name in NORMALIZED
        if "commit"
        not in json.loads((SPECS / "upstream" / f"{name}.source.json").read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize("provider", _from_seed_pages())
def test_upstream_snapshot_is_the_seed_page_byte_for_byte(provider: str) -> None:
    if not SEEDS.is_dir():
        pytest.skip(
            f"the providers' documentation pages the snapshots come from are expected in {SEEDS}"
        )
    extract = _script("snapshot").extract
    host = urllib.parse.urlsplit(golden_server(provider)).hostname
    assert host
    found = []
    for page in sorted(SEEDS.glob("*.txt")):
        # Bytes decoded by hand: read_text() would translate line endings.
        text = page.read_bytes().decode("utf-8")
        if "````yaml" in text:
            body: str = extract(text)
            servers = yaml.safe_load(body).get("servers", [])
            if any(host in server.get("url", "") for server in servers):
                found.append((page.name, body.encode("utf-8")))
    assert len(found) == 1, f"expected one seed page for {provider}: {[n for n, _ in found]}"
    declared = next(p for p in _script("codegen.providers").PROVIDERS if p.name == provider)
    (page_name, expected), snapshot = found[0], declared.upstream
    assert snapshot.read_bytes() == expected, f"{snapshot.name} differs from seed {page_name}"
