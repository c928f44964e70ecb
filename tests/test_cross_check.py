"""A second, independent reader of the specs (issue #2): datamodel-code-generator.

Once per session, datamodel-codegen turns each spec into strict pydantic v2 models.
Every documented response example (and every fixture under tests/fixtures/, see
:func:`fixture_examples`) must then

* validate with the pydantic model of its response schema, in strict mode, from the
  JSON text (as it comes off the wire), and
* read the same through both generators: the attrs round trip
  ``Model.from_dict(example).to_dict()`` of the shipped client equals the pydantic
  view ``model_dump(mode="json", by_alias=True, exclude_unset=True)``.

Two readers built separately agreeing on every field is the evidence that the
generated client reads the spec as the spec means it. How the views are compared
(:func:`disagreements`): a field present in one view only is a disagreement (the attrs
models keep undocumented fields in ``additional_properties``, pydantic drops them, so
an example with a field its schema lacks is caught here); ``null`` is not "absent";
numbers compare by value (pydantic writes ``5000.0`` for ``number``, attrs keeps the
JSON's ``5000``) but ``true`` is not ``1``; date-times compare as the same instant
at the same offset and UUIDs case-insensitively (each reader has its canonical
spelling); everything else must be equal.

Options (``CODEGEN_OPTIONS``): strict ``str``/``int``/``float``/``bool`` (no "1" for
1, no 1 for true), ``--strict-nullable`` (``null`` only where ``nullable: true``),
constraints as ``Field(...)`` (patterns, minimum...) with ``Annotated``. One type
mapping: ``format: email`` -> ``str``. Without it the field becomes ``EmailStr``,
which needs the ``email-validator`` package; the shipped client (openapi-python-client)
reads ``format: email`` as a plain ``str`` too, and test_specs.py already checks every
example's email format with the OpenAPI format checker, so the mapping keeps this
reader comparable without a dependency that would only re-check a format.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pydantic
import pytest

from _specs import (
    JSON,
    class_name,
    deref,
    generated_model,
    load,
    operations,
    pointer,
    resolve,
    response_class,
    same_text_value,
)
from conftest import PROVIDERS, ROOT

FIXTURES = ROOT / "tests" / "fixtures"
CODEGEN = Path(sys.executable).parent / "datamodel-codegen"
CODEGEN_OPTIONS = [
    "--input-file-type", "openapi",
    "--output-model-type", "pydantic_v2.BaseModel",
    "--target-python-version", "3.11",
    "--strict-types", "str", "int", "float", "bool",
    "--strict-nullable",
    "--use-annotated",
    "--field-constraints",
    "--type-mappings", "string+email=string",  # see the module docstring
    "--disable-timestamp",
    "--formatters", "builtin",
]  # fmt: skip

# -- what is checked --------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    provider: str
    label: str
    schema: str  # component schema name: the same class name in both readers
    value: Any


def schema_name(op: dict[str, Any], status: object, media: dict[str, Any]) -> str:
    """The class name both readers give a response body (`response_class`); for an
    inline schema, :func:`hoisted` puts it in the spec datamodel-codegen reads under
    that name."""
    return response_class(op, status, media)


def _renamed_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in renames:
            node = {**node, "$ref": "#/components/schemas/" + renames[ref.rsplit("/", 1)[-1]]}
        return {k: _renamed_refs(v, renames) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed_refs(v, renames) for v in node]
    return node


def hoisted(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` whose inline JSON response schemas are component schemas named
    by :func:`schema_name` (datamodel-codegen names inline bodies its own way), and
    whose dotted schema names are :func:`class_name`'s (datamodel-codegen reads dots as
    modules)."""
    schemas = spec.get("components", {}).get("schemas", {})
    renames = {name: class_name(name) for name in schemas if "." in name}
    spec = _renamed_refs(copy.deepcopy(spec), renames)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
    for _, _, op in operations(spec):
        for status, response in op.get("responses", {}).items():
            media = resolve(spec, response).get("content", {}).get(JSON)
            if media is not None and "$ref" not in media["schema"]:
                name = schema_name(op, status, media)
                assert name not in schemas, f"{name}: already a schema"
                schemas[name], media["schema"] = (
                    media["schema"],
                    {"$ref": f"#/components/schemas/{name}"},
                )
    return spec


def response_examples() -> Iterator[Example]:
    """Every named example and ``example`` of every JSON response, once each."""
    for provider in PROVIDERS:
        spec = load(provider)
        seen: set[str] = set()
        for path, method, op in operations(spec):
            for status in op.get("responses", {}):
                where, response = deref(spec, pointer("paths", path, method, "responses", status))
                if where in seen:  # a shared components/responses entry
                    continue
                seen.add(where)
                media = response.get("content", {}).get(JSON)
                if media is None:
                    continue
                ref_name = schema_name(op, status, media)
                label = f"{provider}-{op['operationId']}-{status}"
                if "example" in media:
                    yield Example(provider, label, ref_name, media["example"])
                for name, ref_example in media.get("examples", {}).items():
                    value = resolve(spec, ref_example)["value"]
                    yield Example(provider, f"{label}-{name}", ref_name, value)


def fixture_schema(provider: str, file: Path) -> str | None:
    """The schema a fixture file holds a body of, from its name:
    ``<SchemaName>[.<anything>].json`` or ``<operationId>.<status>[.<anything>].json``."""
    spec = load(provider)
    parts = file.name.split(".")
    if parts[0] in map(class_name, spec.get("components", {}).get("schemas", {})):
        return parts[0]
    for _, _, op in operations(spec):
        if op.get("operationId") == parts[0] and len(parts) > 2:
            response = resolve(spec, op.get("responses", {}).get(parts[1]))
            media = (response or {}).get("content", {}).get(JSON)
            if media is not None:
                return schema_name(op, parts[1], media)
    return None


def fixture_files() -> list[tuple[str, Path]]:
    """JSON files under tests/fixtures/<provider>/ (any depth)."""
    return [
        (provider, file)
        for provider in PROVIDERS
        for file in sorted((FIXTURES / provider).rglob("*.json"))
    ]


def fixture_examples() -> Iterator[Example]:
    for provider, file in fixture_files():
        schema = fixture_schema(provider, file)
        if schema is not None:
            value = json.loads(file.read_text(encoding="utf-8"))
            label = f"{provider}-fixture-{file.relative_to(FIXTURES / provider)}"
            yield Example(provider, label, schema, value)


EXAMPLES = [*response_examples(), *fixture_examples()]


# -- the second reader --------------------------------------------------------------------


@pytest.fixture(scope="session")
def pydantic_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    """datamodel-codegen's models of every spec, generated once (in parallel)."""
    out = tmp_path_factory.mktemp("datamodel-codegen")

    def generate(provider: str) -> Path:
        target = out / f"{provider}_models.py"
        source = out / f"{provider}.json"
        source.write_text(json.dumps(hoisted(load(provider))), encoding="utf-8")
        command = [str(CODEGEN), "--input", str(source), "--output"]
        result = subprocess.run(
            [*command, str(target), *CODEGEN_OPTIONS], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"datamodel-codegen failed on {provider}:\n{result.stderr}"
        return target

    with ThreadPoolExecutor(max_workers=len(PROVIDERS)) as pool:
        files = dict(zip(PROVIDERS, pool.map(generate, PROVIDERS), strict=True))
    modules = {}
    for provider, file in files.items():
        name = f"_cross_check_{provider}_models"
        module_spec = importlib.util.spec_from_file_location(name, file)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module  # pydantic resolves forward references through it
        module_spec.loader.exec_module(module)
        modules[provider] = module
    yield modules
    for module in modules.values():
        sys.modules.pop(module.__name__, None)


def pydantic_class(models: dict[str, ModuleType], provider: str, schema: str) -> Any:
    cls = getattr(models[provider], schema, None)
    assert isinstance(cls, type) and issubclass(cls, pydantic.BaseModel), (
        f"datamodel-codegen made no model {schema} for {provider}"
    )
    return cls


def disagreements(attrs_view: Any, pydantic_view: Any, path: str = "$") -> list[str]:
    """Readable paths where the two views differ (see the module docstring)."""
    if isinstance(attrs_view, dict) and isinstance(pydantic_view, dict):
        found = [
            f"{path}.{key}: only in the attrs view ({attrs_view[key]!r}); pydantic dropped it"
            for key in sorted(attrs_view.keys() - pydantic_view.keys())
        ]
        found += [
            f"{path}.{key}: only in the pydantic view ({pydantic_view[key]!r})"
            for key in sorted(pydantic_view.keys() - attrs_view.keys())
        ]
        for key in sorted(attrs_view.keys() & pydantic_view.keys()):
            found += disagreements(attrs_view[key], pydantic_view[key], f"{path}.{key}")
        return found
    if isinstance(attrs_view, list) and isinstance(pydantic_view, list):
        if len(attrs_view) != len(pydantic_view):
            return [f"{path}: {len(attrs_view)} items in attrs, {len(pydantic_view)} in pydantic"]
        pairs = zip(attrs_view, pydantic_view, strict=True)
        return [d for i, (a, p) in enumerate(pairs) for d in disagreements(a, p, f"{path}[{i}]")]
    same = False
    if isinstance(attrs_view, bool) or isinstance(pydantic_view, bool):
        same = attrs_view is pydantic_view
    elif isinstance(attrs_view, int | float) and isinstance(pydantic_view, int | float):
        same = attrs_view == pydantic_view
    elif isinstance(attrs_view, str) and isinstance(pydantic_view, str):
        same = attrs_view == pydantic_view or same_text_value(attrs_view, pydantic_view)
    else:
        same = attrs_view is None and pydantic_view is None
    return [] if same else [f"{path}: attrs {attrs_view!r} != pydantic {pydantic_view!r}"]


def cross_check(models: dict[str, ModuleType], example: Example) -> list[str]:
    """Problems with one example: pydantic's validation errors, else disagreements."""
    model = pydantic_class(models, example.provider, example.schema)
    try:
        parsed = model.model_validate_json(json.dumps(example.value), strict=True)
    except pydantic.ValidationError as error:
        return [f"pydantic rejects it: {error}"]
    pydantic_view = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    attrs_model = generated_model(example.provider, example.schema)
    attrs_view = attrs_model.from_dict(example.value).to_dict()
    return disagreements(attrs_view, pydantic_view)


# -- tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.label for e in EXAMPLES])
def test_both_readers_agree_on_the_example(
    example: Example, pydantic_models: dict[str, ModuleType]
) -> None:
    problems = cross_check(pydantic_models, example)
    assert not problems, f"{example.label} ({example.schema}):\n" + "\n".join(problems)


def test_every_documented_response_is_cross_checked() -> None:
    for provider in PROVIDERS:
        assert any(e.provider == provider for e in EXAMPLES), provider
    # llmgenerator's shared components/responses are checked once each, not once per
    # operation that uses them.
    shared = load("llmgenerator")["components"]["responses"].values()
    expected = sum(len(r["content"][JSON]["examples"]) for r in shared)
    labels = [e.label for e in EXAMPLES if e.provider == "llmgenerator"]
    assert len(labels) == len(set(labels)) == expected


def test_fixture_files_are_recognised() -> None:
    """A fixture the cross check cannot place would be silently unchecked."""
    unknown = [
        str(file) for provider, file in fixture_files() if not fixture_schema(provider, file)
    ]
    assert unknown == [], (
        "name fixtures tests/fixtures/<provider>/<SchemaName>[.<anything>].json or "
        f"<operationId>.<status>[.<anything>].json so that they are cross-checked: {unknown}"
    )


def _example(label: str) -> Example:
    (found,) = [e for e in EXAMPLES if e.label == label]
    return Example(found.provider, found.label, found.schema, copy.deepcopy(found.value))


def _set(value: Any, path: str, new: Any) -> Any:
    *parents, last = path.split(".")
    node = value
    for key in parents:
        node = node[key]
    if new is _DELETE:
        del node[last]
    else:
        node[last] = new
    return value


_DELETE = object()


WRONG_EXAMPLES = [
    ("easyslip-getMe-200-limitedQuota", "data.usedQuota", "1500", "string for an integer"),
    ("easyslip-getMe-200-limitedQuota", "data.currentCredit", "5000", "string for a number"),
    ("easyslip-getMe-200-limitedQuota", "data.expiredAt", "soon", "not a date-time"),
    ("easyslip-getMe-200-limitedQuota", "data.application", None, "null, not nullable"),
    ("exorde-getUserInfo-200-userInfo", "user.createdAt", _DELETE, "missing required field"),
    ("exorde-getUserInfo-200-userInfo", "user.id", "user-1", "not a UUID"),
    ("exorde-getUserInfo-400-badRequest", "error.code", 99, "below the minimum"),
    ("flamel-getMyInfo-200-FreeAccount", "notifyAgree", 0, "integer for a boolean"),
    ("flamel-getMyInfo-200-FreeAccount", "userId", 1024.5, "fraction for an integer"),
    ("flamel-getMyInfo-200-FreeAccount", "Plan.priceObj.currency", "won", "pattern"),
    ("generect-getUserMe-200-200", "icp_flow", "none", "string for an object"),
    (
        "llmgenerator-getCurrentSubscription-200-activeSubscription",
        "subscription.status",
        "paused",
        "not in the enum",
    ),
]


@pytest.mark.parametrize(
    ("label", "path", "wrong", "reason"),
    WRONG_EXAMPLES,
    ids=[f"{label.split('-')[0]}-{path}-{reason}" for label, path, _, reason in WRONG_EXAMPLES],
)
def test_pydantic_rejects_a_wrong_example(
    label: str, path: str, wrong: Any, reason: str, pydantic_models: dict[str, ModuleType]
) -> None:
    """Proof that the check can fail: the pydantic reader is strict."""
    example = _example(label)
    assert cross_check(pydantic_models, example) == []
    _set(example.value, path, wrong)
    problems = cross_check(pydantic_models, example)
    assert len(problems) == 1 and problems[0].startswith("pydantic rejects it"), reason
    assert path.rsplit(".", 1)[-1] in problems[0]


def test_a_disagreement_fails_with_the_path(pydantic_models: dict[str, ModuleType]) -> None:
    """An undocumented field: valid for pydantic (it ignores it), kept by attrs."""
    example = _example("generect-getUserMe-200-200")
    example.value["icp_flow"]["undocumented"] = 1
    assert cross_check(pydantic_models, example) == [
        "$.icp_flow.undocumented: only in the attrs view (1); pydantic dropped it"
    ]


def test_disagreements_compares_values_not_spellings() -> None:
    same = {
        "t": "2024-01-01T09:00:00.000+09:00",
        "u": "123E4567-E89B-12D3-A456-426614174000",
        "n": 5000,
        "x": None,
        "l": [1, "a"],
    }
    other = {
        "t": "2024-01-01T09:00:00+09:00",
        "u": "123e4567-e89b-12d3-a456-426614174000",
        "n": 5000.0,
        "x": None,
        "l": [1, "a"],
    }
    assert disagreements(same, other) == []
    assert disagreements({"t": "2024-01-01T00:00:00Z"}, {"t": "2024-01-01T09:00:00+09:00"})
    assert disagreements({"b": True}, {"b": 1}) == ["$.b: attrs True != pydantic 1"]
    assert disagreements({"a": None}, {}) == [
        "$.a: only in the attrs view (None); pydantic dropped it"
    ]
    assert disagreements({"l": [1, 2]}, {"l": [1, 3]}) == ["$.l[1]: attrs 2 != pydantic 3"]
    assert disagreements({"s": "1"}, {"s": 1}) == ["$.s: attrs '1' != pydantic 1"]
