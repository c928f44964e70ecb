"""A provider's public client surface, worked out from its spec: one `Method` per
client method, for ``templates/client.py.jinja`` to render into
``generated/<provider>/client.py`` (``Client``, ``AsyncClient``, ``RawClient``,
``AsyncRawClient``).

The surface is the spec's operations, as openapi-python-client parsed them (the
parameter and model types are its own), plus three vendor extensions for what
differs between providers. They are written in the hand-written specs (or added by a
normalizer step) and mean:

``x-creditwatch-envelope: <property>`` (spec root)
    Every success body is an envelope; a method returns its ``<property>`` (EasySlip:
    ``{"status": 200, "data": {...}}`` -> ``data``). Applies to every operation, so a
    new endpoint is unwrapped like the others.

``x-creditwatch-methods: [{name: ..., result: ...}, ...]`` (operation)
    The client methods that call this operation, instead of the one named after its
    operationId. ``result`` picks a property of the body (``null``: the whole body).
    Exorde: ``get_user_info`` returns ``user``, ``get_user_info_response`` the body.

``x-creditwatch-credential: <argument>`` (security scheme)
    The constructor argument that holds this scheme's credential (default
    ``api_key``); each one becomes a keyword argument with its own environment
    variable (LLMGenerator: ``access_token``, ``LLMGENERATOR_ACCESS_TOKEN``).
    Operations that share a method name are variants of one method that differ only
    in their security scheme; the method calls the variant of the client's
    credential (LLMGenerator's ``/subscriptions/current`` and ``.../api``).

A spec that uses them inconsistently (variants that differ in anything but their
credential, a ``result`` the body does not have) stops the generator with a message
naming the operation.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.openapi import Endpoint
from openapi_python_client.parser.properties import ModelProperty, Property
from openapi_python_client.strings import safe_for_docstring

from .spec import Spec, operations, resolve

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CREDENTIAL = "api_key"
METHODS = "x-creditwatch-methods"
ENVELOPE = "x-creditwatch-envelope"
CREDENTIAL = "x-creditwatch-credential"


class SurfaceError(Exception):
    """The spec's operations cannot become one consistent client surface."""


@dataclass(frozen=True)
class Argument:
    """One keyword argument of a method: a parameter or the JSON body."""

    name: str
    declaration: str
    """``name: Type`` (required) or ``name: Type | Unset = UNSET`` (optional)."""
    doc: str
    required: bool


@dataclass(frozen=True)
class Variant:
    """One operation a method may call, and the credential that selects it."""

    credential: str
    module: str
    """Module of the generated request builder, e.g. ``api.users.get_my_info``."""
    alias: str
    """Name the client module imports that module as, e.g. ``_get_my_info``."""
    http: str
    """The request line, e.g. ``GET /api/users/me``."""


@dataclass
class Method:
    name: str
    summary: str
    description: str
    arguments: list[Argument]
    variants: list[Variant]
    returns: str
    """The Python type the method returns (``None`` for an operation without a body)."""
    returns_doc: str
    parse: str
    """What turns decoded JSON into the result: a ``from_dict``, a generated
    ``_parse_<method>`` function, or ``None``."""
    body_model: str | None = None
    """The model of the whole body, when the method returns one of its properties."""
    result: str | None = None
    """The Python attribute of the body the method returns."""
    raises: list[tuple[str, str]] = field(default_factory=list)
    endpoint: Endpoint | None = None
    success: Property | None = None
    """The 2xx answer's property, which a generated ``_parse_<method>`` constructs when
    it is not a model."""

    filled: dict[str, str] = field(default_factory=dict)
    """Path parameters (Python name) filled from a credential (its argument)."""

    @property
    def call(self) -> str:
        """The generated ``_get_kwargs`` call's arguments: ``a=a, b=b`` (a path
        parameter filled from a credential: ``account_sid=self._transport...``)."""
        return ", ".join(
            [f"{a.name}={a.name}" for a in self.arguments]
            + [f'{p}=self._transport.path_credential("{c}")' for p, c in self.filled.items()]
        )


@dataclass
class Surface:
    provider: str
    title: str
    server: str
    credentials: list[str]
    """Constructor arguments for credentials, ``api_key`` first (or, when `joint`, the
    declared ones in their order)."""
    methods: list[Method]
    imports: list[str]
    joint: bool = False
    """The credentials are used together (positional constructor arguments, all needed)."""

    @property
    def credential_doc(self) -> str:
        """For the class docstring: where joint credentials fall back to."""
        prefix = self.provider.upper()
        pairs = [f"``{c}`` to ``{prefix}_{c.upper()}``" for c in self.credentials]
        return f"{', '.join(pairs)} (all are needed)"


def _text(value: object) -> str:
    """Spec text, safe inside a docstring, one line per paragraph or list item (the
    template wraps them)."""
    paragraphs = re.split(r"\n\s*\n", safe_for_docstring(value or "").strip())
    return "\n\n".join(_unwrap_lines(p.splitlines()) for p in paragraphs)


def _unwrap_lines(lines: list[str]) -> str:
    joined: list[str] = []
    for line in (line.strip() for line in lines):
        if joined and not re.match(r"([-*]|\d+\.) ", line):
            joined[-1] += " " + line
        else:
            joined.append(line)
    return "\n".join(joined)


def _code(value: Any) -> str:
    return str(value.as_unembedded_code())


def _errors_module() -> Any:
    """overlays/errors.py, loaded from the source tree: the docstrings name the classes
    the runtime really raises for each documented status."""
    location = ROOT / "overlays" / "errors.py"
    module_spec = importlib.util.spec_from_file_location("_creditwatch_errors", location)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _path_shape(path: str) -> str:
    """The path with its parameters unnamed (the parser renames them to snake_case)."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _credential(spec: Spec, op: dict[str, Any]) -> str:
    requirements = op.get("security", spec.get("security")) or [{}]
    schemes = spec.get("components", {}).get("securitySchemes", {})
    names = {
        schemes.get(scheme, {}).get(CREDENTIAL, DEFAULT_CREDENTIAL)
        for requirement in requirements
        for scheme in requirement
    }
    if len(names) > 1:
        raise SurfaceError(f"{op['operationId']}: security schemes of different credentials")
    return names.pop() if names else DEFAULT_CREDENTIAL


def _plain(name: str) -> str:
    """A parameter name as the spec and the parser both spell it (``AccountSid``,
    ``account_sid``): lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _parameter_docs(spec: Spec, op: dict[str, Any]) -> dict[str, str]:
    """{parameter name: its description}: written on the parameter, which is where
    OpenAPI puts it (openapi-python-client keeps only its schema's description)."""
    docs: dict[str, str] = {}
    for ref in op.get("parameters") or []:
        param = resolve(spec, ref)
        if isinstance(param, dict) and param.get("description"):
            docs[str(param.get("name"))] = str(param["description"])
    return docs


def _arguments(
    endpoint: Endpoint,
    docs: dict[str, str] | None = None,
    fills: Mapping[str, str] | None = None,
) -> list[Argument]:
    """The method's keyword arguments (a path parameter in ``fills`` is not one)."""
    filled = {_plain(name) for name in fills or {}}
    props: list[Property] = [
        *endpoint.path_parameters,
        *[body.prop for body in endpoint.bodies],
        *endpoint.query_parameters,
        *endpoint.header_parameters,
        *endpoint.cookie_parameters,
    ]
    arguments = [
        Argument(
            name=str(p.python_name),
            declaration=_code(p.to_string()),
            doc=_text((docs or {}).get(str(p.name.get_untrusted_value())) or p.description),
            required=p.required and p.default is None,
        )
        for p in props
        if not (
            any(p is q for q in endpoint.path_parameters) and _plain(str(p.python_name)) in filled
        )
    ]
    return sorted(arguments, key=lambda a: not a.required)  # stable: spec order kept


def _success(endpoint: Endpoint) -> Property | None:
    """The property of the 2xx answer (None when it has no JSON body)."""
    found: dict[str, Property] = {}
    for response in endpoint.responses.patterns:
        low, high = response.status_code.range or (0, 0)
        if low >= 200 and high < 300 and response.source["return_type"] != "None":
            found[_code(response.prop.get_type_string())] = response.prop
    if len(found) > 1:
        raise SurfaceError(f"{endpoint.name}: 2xx answers of different types {sorted(found)}")
    return next(iter(found.values()), None)


def _model(data: GeneratorData, name: str) -> ModelProperty:
    for model in data.models:
        if model.class_info.name == name:
            return model
    raise SurfaceError(f"model {name} not found")


def _raises(spec: Spec, op: dict[str, Any], errors: Any) -> list[tuple[str, str]]:
    documented: list[tuple[str, str]] = []
    for status, response in op.get("responses", {}).items():
        if not str(status).isdigit() or int(status) < 400:
            continue
        cls = errors.status_error_class(int(status)).__name__
        description = _text(resolve(spec, response).get("description"))
        documented.append((cls, f"{status}{f': {description}' if description else ''}"))
    return documented


def build(
    provider: str,
    spec: Spec,
    data: GeneratorData,
    *,
    joint: Sequence[str] = (),
    fills: Mapping[str, str] | None = None,
) -> Surface:
    """The client surface of one provider's spec (``data``: the same spec, parsed by
    openapi-python-client). ``joint``: the declared credentials when they are used
    together (HTTP basic); ``fills``: path parameter -> the credential that fills it."""
    errors = _errors_module()
    endpoints = {
        (str(e.method), _path_shape(str(e.path.get_untrusted_value()))): e
        for collection in data.endpoint_collections_by_tag.values()
        for e in collection.endpoints
    }
    envelope = spec.get(ENVELOPE)
    methods: dict[str, Method] = {}
    imports: set[str] = set()
    for path, verb, op in operations(spec):
        endpoint = endpoints.get((verb, _path_shape(path)))
        if endpoint is None:
            raise SurfaceError(f"{verb.upper()} {path}: openapi-python-client did not parse it")
        tag = str(endpoint.tags[0])
        module = f"api.{tag}.{endpoint.name}"
        variant = Variant(
            _credential(spec, op), module, f"_{endpoint.name}", f"{verb.upper()} {path}"
        )
        for declared in op.get(METHODS) or [{"name": str(endpoint.name)}]:
            name = declared["name"]
            result = declared.get("result", envelope)
            method = _method(
                name, endpoint, result, data, imports, docs=_parameter_docs(spec, op), fills=fills
            )
            method.raises = _raises(spec, op, errors)
            known = methods.setdefault(name, method)
            if known is not method:
                _check_variant(known, method, variant)
            known.variants.append(variant)
    for method in methods.values():
        if method.endpoint is not None:
            for p in method.endpoint.list_all_parameters():
                imports |= p.get_imports(prefix=".") | p.get_lazy_imports(prefix=".")
    schemes = spec.get("components", {}).get("securitySchemes", {})
    others = {scheme.get(CREDENTIAL, DEFAULT_CREDENTIAL) for scheme in schemes.values()}
    credentials = [DEFAULT_CREDENTIAL, *sorted(others - {DEFAULT_CREDENTIAL})]
    if joint:
        credentials = list(joint)
    return Surface(
        joint=bool(joint),
        provider=provider,
        title=_text(spec["info"]["title"]),
        server=spec["servers"][0]["url"],
        credentials=credentials,
        methods=list(methods.values()),
        imports=sorted(i for i in imports if not i.startswith("from typing ")),
    )


def _check_variant(known: Method, method: Method, variant: Variant) -> None:
    """A second operation for the same method must differ only in its credential."""
    where = f"{variant.module} (method {known.name})"
    if variant.credential in {v.credential for v in known.variants}:
        raise SurfaceError(f"{where}: two operations for the same credential")
    if [a.declaration for a in known.arguments] != [a.declaration for a in method.arguments]:
        raise SurfaceError(f"{where}: variants must take the same arguments")
    if (known.returns, known.parse) != (method.returns, method.parse):
        raise SurfaceError(f"{where}: variants must return the same type")


def _method(
    name: str,
    endpoint: Endpoint,
    result: str | None,
    data: GeneratorData,
    imports: set[str],
    *,
    docs: dict[str, str] | None = None,
    fills: Mapping[str, str] | None = None,
) -> Method:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SurfaceError(f"{endpoint.name}: {name!r} is not a method name")
    method = Method(
        name=name,
        summary=_text(endpoint.summary),
        description=_text(endpoint.description),
        arguments=_arguments(endpoint, docs, fills),
        filled={
            str(p.python_name): argument
            for p in endpoint.path_parameters
            for name, argument in (fills or {}).items()
            if _plain(str(p.python_name)) == _plain(name)
        },
        variants=[],
        returns="None",
        returns_doc="None: the answer has no body.",
        parse="None",
        endpoint=endpoint,
    )
    prop = method.success = _success(endpoint)
    if prop is None:
        return method
    imports.update(prop.get_imports(prefix=".") | prop.get_lazy_imports(prefix="."))
    if not isinstance(prop, ModelProperty):
        if result is not None:
            raise SurfaceError(f"{endpoint.name}: result {result!r} of a body that is no model")
        method.returns = _code(prop.get_type_string())
        method.returns_doc = f"{method.returns}: the body."
        method.parse = f"_parse_{name}"
        return method
    model = _model(data, prop.class_info.name)
    method.returns = model.class_info.name
    method.returns_doc = f"{model.class_info.name}: {_text(model.description) or 'the body.'}"
    method.parse = f"{model.class_info.name}.from_dict"
    if result is None:
        return method
    fields = {
        str(p.name.get_untrusted_value()): p
        for p in (model.required_properties or []) + (model.optional_properties or [])
    }
    if result not in fields:
        raise SurfaceError(f"{endpoint.name}: the body ({model.class_info.name}) has no {result!r}")
    part = fields[result]
    imports.update(part.get_imports(prefix=".") | part.get_lazy_imports(prefix="."))
    method.returns = _code(part.get_type_string())
    method.returns_doc = (
        f"{method.returns}: the ``{result}`` of the body ({model.class_info.name})"
        f"{f'. {_text(part.description)}' if part.description else '.'}"
    )
    method.body_model = model.class_info.name
    method.result = str(part.python_name)
    method.parse = f"_parse_{name}"
    return method
