"""Generic, parameterised normalizer steps for providers with a published OpenAPI spec.

Each function here builds a `Step` (a function that fixes a spec dict in place) from
parameters, so a provider's fixes are data (a step's name and its arguments), not
provider-specific Python. Every step:

- corrects one upstream defect, named in its docstring, that stops a tool of the
  pipeline (openapi-spec-validator, Prism, openapi-python-client) or the user from
  reading the spec as the provider documents it;
- never narrows what upstream allows: a value, a status, a parameter the provider
  documents stays valid in the normalized spec;
- fails loudly when its target is missing (`SpecError`, the message starting with the
  step's name), so an upstream change that fixes or moves the defect is noticed and
  the step removed or updated, instead of being silently skipped.

`STEPS` maps each step's name to its builder, for declarations that name steps.
The usual order is `keep_only` first (the steps then touch a small document), then the
fixes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .spec import Spec, SpecError, Step, operations, resolve
from .subset import SubsetError, find_operation, subset


def _find(step: str, spec: Spec, selector: str) -> tuple[str, str]:
    try:
        return find_operation(spec, selector)
    except SubsetError as exc:
        raise SpecError(f"{step}: {str(exc).removeprefix('subset: ')}") from None


def _named(name: str) -> Callable[[Step], Step]:
    """Give a step its builder's name (shown in errors and in `repr`)."""

    def decorate(step: Step) -> Step:
        step.__name__ = step.__qualname__ = name
        return step

    return decorate


def keep_only(selection: Iterable[str]) -> Step:
    """Reduce the spec to the selected operations and what they reach
    (`codegen.subset.subset`). Upstream defect corrected: none; a published spec of
    hundreds of operations would otherwise become a multi-megabyte generated package."""
    chosen = list(selection)

    @_named("keep_only")
    def step(spec: Spec) -> None:
        try:
            reduced = subset(spec, chosen)
        except SubsetError as exc:
            raise SpecError(f"keep_only: {str(exc).removeprefix('subset: ')}") from None
        spec.clear()
        spec.update(reduced)

    return step


def response_codes_as_text() -> Step:
    """Response codes written unquoted (``200:``) are read by YAML as integers, and
    openapi-python-client and openapi-spec-validator reject integer keys (OpenAPI
    keys are strings; DeepL's ``openapi.yaml``). Every integer code becomes its text;
    the codes themselves are unchanged."""

    @_named("response_codes_as_text")
    def step(spec: Spec) -> None:
        found = False
        for _path, _method, operation in operations(spec):
            responses = operation.get("responses")
            if not isinstance(responses, dict):
                continue
            if any(isinstance(code, int) for code in responses):
                found = True
                operation["responses"] = {str(code): body for code, body in responses.items()}
        if not found:
            raise SpecError(
                "response_codes_as_text: no response code is an integer any more "
                "(upstream quotes them now): remove the step"
            )

    return step


def servers_from(overrides: Path) -> Step:
    """The spec declares no ``servers``; the provider publishes them in a separate
    overrides file beside it (ElevenLabs' ``openapi-overrides.yml``, which its own SDK
    generator merges in). The overrides' servers are copied in their order (the first
    is the default), each URL without a trailing slash, so that ``server + path``
    does not produce ``//v1/...``; they go after ``info``, where specs keep them."""

    @_named("servers_from")
    def step(spec: Spec) -> None:
        if spec.get("servers"):
            raise SpecError(
                f"servers_from: the spec declares servers now ({spec['servers'][0].get('url')}"
                f", ...): remove the step"
            )
        try:
            data = yaml.safe_load(overrides.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SpecError(f"servers_from: cannot read {overrides.name}: {exc}") from None
        servers = data.get("servers") if isinstance(data, dict) else None
        if not isinstance(servers, list) or not all(
            isinstance(server, dict) and isinstance(server.get("url"), str) for server in servers
        ):
            raise SpecError(f"servers_from: {overrides.name} has no list of servers with urls")
        if not servers:
            raise SpecError(f"servers_from: {overrides.name} lists no server")
        items = list(spec.items())
        at = next((i + 1 for i, (key, _) in enumerate(items) if key == "info"), len(items))
        items.insert(at, ("servers", [{**s, "url": s["url"].rstrip("/")} for s in servers]))
        spec.clear()
        spec.update(copy.deepcopy(dict(items)))

    return step


def rename_operations(names: Mapping[str, str]) -> Step:
    """Operation ids the generator would turn into unreadable method names get
    readable ones. FastAPI derives ids from the function, path and method
    (ElevenLabs' ``Get_user_subscription_info_v1_user_subscription_get`` would become
    ``get_user_subscription_info_v1_user_subscription_get()``). Keys select the
    operation by its current operationId or as ``"GET /path"``; values are the new
    operationIds. Requests and responses are unchanged."""
    renames = dict(names)

    @_named("rename_operations")
    def step(spec: Spec) -> None:
        taken = {op.get("operationId") for _p, _m, op in operations(spec)}
        for selector, new in renames.items():
            path, method = _find("rename_operations", spec, selector)
            operation = spec["paths"][path][method]
            if operation.get("operationId") == new:
                raise SpecError(
                    f"rename_operations: {method.upper()} {path} is already {new!r}: "
                    f"remove the rename"
                )
            if new in taken:
                raise SpecError(f"rename_operations: operationId {new!r} is already used")
            taken.discard(operation.get("operationId"))
            operation["operationId"] = new
            taken.add(new)

    return step


def header_credential(header: str, scheme: str) -> Step:
    """The credential header is declared as a parameter of every operation instead of
    as a security scheme (ElevenLabs' ``xi-api-key``; its SDK config lists it as a
    global header). The generator would make the key an argument of every method;
    creditwatch's client sends credentials itself. The parameter leaves the
    operations that declare it, and an ``apiKey`` security scheme named `scheme`
    carries the same header, with the parameter's description. An operation whose
    parameter was optional keeps the anonymous alternative (``security: [{scheme:
    []}, {}]``), so nothing upstream allows is refused."""

    @_named("header_credential")
    def step(spec: Spec) -> None:
        schemes = spec.get("components", {}).get("securitySchemes", {})
        if scheme in schemes:
            raise SpecError(f"header_credential: security scheme {scheme!r} already exists")
        description: str | None = None
        found = False
        for _path, _method, operation in operations(spec):
            kept: list[Any] = []
            required: bool | None = None
            for parameter in operation.get("parameters", []):
                body = resolve(spec, parameter)
                if body.get("in") == "header" and str(body.get("name")).lower() == header.lower():
                    required = bool(body.get("required", False))
                    description = description or body.get("description")
                else:
                    kept.append(parameter)
            if required is None:
                continue
            found = True
            if kept:
                operation["parameters"] = kept
            else:
                operation.pop("parameters", None)
            operation["security"] = [{scheme: []}] if required else [{scheme: []}, {}]
        if not found:
            raise SpecError(f"header_credential: no operation declares the header {header!r}")
        schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[scheme] = {"type": "apiKey", "in": "header", "name": header}
        if description:
            schemes[scheme]["description"] = description

    return step


def add_example(
    selector: str, status: str, name: str, *, value: Any, summary: str, source: str
) -> Step:
    """A documented success response has no example in the spec, though the provider
    documents one elsewhere (`source`, e.g. its API reference page). The example is
    added under `name` to the operation's ``application/json`` response `status`;
    the schema is unchanged. Use only for an example the provider publishes."""

    @_named("add_example")
    def step(spec: Spec) -> None:
        path, method = _find("add_example", spec, selector)
        operation = spec["paths"][path][method]
        response = operation.get("responses", {}).get(status)
        if not isinstance(response, dict):
            raise SpecError(f"add_example: {selector} documents no {status} response")
        media = resolve(spec, response).get("content", {}).get("application/json")
        if not isinstance(media, dict):
            raise SpecError(f"add_example: {selector} {status} has no application/json body")
        if "example" in media:  # `example` and `examples` exclude each other
            raise SpecError(f"add_example: {selector} {status} already has an example")
        examples = media.setdefault("examples", {})
        if name in examples:
            raise SpecError(f"add_example: {selector} {status} already has an example {name!r}")
        examples[name] = {"summary": summary, "description": f"From {source}", "value": value}

    return step


def example_from_schema(selector: str, status: str, name: str) -> Step:
    """The response's only example is the ``example`` of its schema (ElevenLabs'
    ``ExtendedSubscriptionResponseModel``), where readers of documented response
    examples (``generate.py``'s ``documented_examples``, hence the demo and the
    balance checks) do not look. The schema's example is copied unchanged to the
    operation's ``application/json`` response `status` as example `name`; the schema
    keeps it too."""

    @_named("example_from_schema")
    def step(spec: Spec) -> None:
        path, method = _find("example_from_schema", spec, selector)
        response = spec["paths"][path][method].get("responses", {}).get(status)
        if not isinstance(response, dict):
            raise SpecError(f"example_from_schema: {selector} documents no {status} response")
        media = resolve(spec, response).get("content", {}).get("application/json")
        if not isinstance(media, dict) or not isinstance(media.get("schema"), dict):
            raise SpecError(
                f"example_from_schema: {selector} {status} has no application/json schema"
            )
        if "example" in media or media.get("examples"):
            raise SpecError(
                f"example_from_schema: {selector} {status} has a response example now: "
                f"remove the step"
            )
        schema = resolve(spec, media["schema"])
        if "example" not in schema:
            raise SpecError(
                f"example_from_schema: the schema of {selector} {status} has no example"
            )
        media["examples"] = {name: {"value": copy.deepcopy(schema["example"])}}

    return step


STEPS: dict[str, Callable[..., Step]] = {
    builder.__name__: builder
    for builder in (
        keep_only,
        response_codes_as_text,
        servers_from,
        rename_operations,
        header_credential,
        add_example,
        example_from_schema,
    )
}


def apply(spec: Spec, steps: Iterable[Step]) -> Spec:
    """Apply steps in order to a copy of `spec`; the input is not modified."""
    result = copy.deepcopy(spec)
    for step in steps:
        step(result)
    return result
