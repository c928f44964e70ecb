"""A provider's declaration, checked against its generated models and compiled into
``generated/<provider>/_profile.py``: the ``PROFILE`` literal (auth headers, error
body, wrapper) and a typed ``to_balance`` that mypy checks like any other code.

Why compile rather than evaluate the declaration at run time: the mapping becomes
ordinary, typed attribute access on the generated models (an editor goes to its
definition, mypy --strict checks every field it reads), it costs nothing at run time,
and a mistake is found when generating instead of when a user checks a balance.

`check` collects every problem as one line naming the declaration and the key::

    specs/providers/flamel.yaml: balance.remaining: field 'defaultCredits' is not in
    AuthUserDto (fields: ...); hint: did you mean 'defaultCredit'?

It also maps every documented example of the mapped operations (with an independent,
JSON-level reading of the declaration), so an example that cannot become a `Balance`
is reported too.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.properties import EnumProperty, ModelProperty
from openapi_python_client.parser.properties.boolean import BooleanProperty
from openapi_python_client.parser.properties.datetime import DateTimeProperty
from openapi_python_client.parser.properties.float import FloatProperty
from openapi_python_client.parser.properties.int import IntProperty
from openapi_python_client.parser.properties.none import NoneProperty
from openapi_python_client.parser.properties.string import StringProperty
from openapi_python_client.parser.properties.union import UnionProperty
from openapi_python_client.parser.properties.uuid import UuidProperty

from .declaration import OPEN, ROOT, Amount, Declaration, Provider, Time
from .spec import Spec, operations, resolve
from .surface import Surface

NUMBER = ("int", "float")
TEXT = ("str", "enum")


class Problem(Exception):
    """One problem at one key of the declaration."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__(f"{key}: {text}")
        self.key = key
        self.text = text


@dataclass
class Field:
    """A resolved field path: its segments (python names) and what may be absent."""

    python: list[str]
    absent: list[bool]
    """Per segment: may this field be absent (unset or null)?"""
    kind: str
    type_name: str


@dataclass
class Compiled:
    """What the template renders (``_profile.py.jinja``)."""

    provider: str
    label: str
    env_prefix: str
    credentials: list[tuple[str, str]]
    account: str
    """``Account``'s definition: an alias, or a class for several calls."""
    account_imports: list[str]
    calls: dict[str, str]
    to_balance_doc: str
    to_balance_body: list[str]
    error_body: list[str]
    auth: str
    headers: dict[str, str]
    servers: list[tuple[str, str, str]]
    """(credential argument, suffix, server URL) rules."""
    wrapper: dict[str, Any] | None
    body_status: str | None
    hook: str | None
    hook_inspect: bool
    hook_exports: list[str]
    joint: bool = False
    """The credentials are sent together (HTTP basic), not alternatives."""
    auth_params: str = "key: str"
    """``_auth_headers``' parameters: the credential, or each joint one."""
    fills: list[tuple[str, str]] = field(default_factory=list)
    """(path parameter, credential argument) the transport fills."""
    uses: set[str] = field(default_factory=set)
    account_fields: list[tuple[str, str]] = field(default_factory=list)
    """(name, model) of each call, for several calls."""


def _json(prop: Any) -> str:
    return str(prop.name.get_untrusted_value())


def _kind(prop: Any) -> tuple[str, Any, bool]:
    """(kind, the property without null, nullable)."""
    nullable = False
    if isinstance(prop, UnionProperty):
        inner = [p for p in prop.inner_properties if not isinstance(p, NoneProperty)]
        nullable = len(inner) < len(prop.inner_properties)
        if len(inner) != 1:
            return "union", prop, nullable
        prop = inner[0]
    for cls, name in (
        (BooleanProperty, "bool"),
        (IntProperty, "int"),
        (FloatProperty, "float"),
        (DateTimeProperty, "datetime"),
        (EnumProperty, "enum"),
        (StringProperty, "str"),
        (UuidProperty, "uuid"),
        (ModelProperty, "model"),
    ):
        if isinstance(prop, cls):
            return name, prop, nullable
    return type(prop).__name__, prop, nullable


class Models:
    """The generated models of one provider, by class name."""

    def __init__(self, data: GeneratorData) -> None:
        self.by_name: dict[str, ModelProperty] = {m.class_info.name: m for m in data.models}

    def get(self, name: str) -> ModelProperty | None:
        key = re.sub(r"[^a-z0-9]", "", name.lower())
        for class_name, model in self.by_name.items():
            if class_name == name or class_name.lower() == key:
                return model
        return None

    def fields(self, model: ModelProperty) -> dict[str, Any]:
        props = (model.required_properties or []) + (model.optional_properties or [])
        return {_json(p): p for p in props}

    def resolve(self, key: str, model: ModelProperty, path: str) -> Field:
        python: list[str] = []
        absent: list[bool] = []
        kind, type_name = "model", str(model.class_info.name)
        current: ModelProperty | None = model
        for segment in path.split("."):
            if current is None:
                raise Problem(key, f"{'.'.join(python)} is a {kind}, it has no field {segment!r}")
            fields = self.fields(current)
            if segment not in fields:
                names = ", ".join(fields) or "none"
                close = difflib.get_close_matches(segment, fields, n=1)
                hint = f"; hint: did you mean {close[0]!r}?" if close else ""
                raise Problem(
                    key,
                    f"field {segment!r} is not in {current.class_info.name} (fields: {names})"
                    f"{hint}",
                )
            prop = fields[segment]
            kind, inner, nullable = _kind(prop)
            python.append(str(prop.python_name))
            absent.append(nullable or not prop.required)
            if kind == "model":
                current = self.by_name.get(inner.class_info.name)
                type_name = inner.class_info.name
            else:
                current = None
                type_name = kind
        return Field(python, absent, kind, type_name)


# -- code -------------------------------------------------------------------------------


class _Code:
    """Statements of a generated function: one variable per field path prefix."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.lines: list[str] = []
        self.vars: dict[tuple[str, ...], tuple[str, bool]] = {(): (root, False)}
        self.uses: set[str] = set()

    def var(self, prefix: tuple[str, ...], f: Field) -> tuple[str, bool]:
        """(variable, may be None) holding the field at ``f.python[:len(prefix)]``."""
        if prefix in self.vars:
            return self.vars[prefix]
        parent, parent_absent = self.var(prefix[:-1], f)
        absent_here = f.absent[len(prefix) - 1]
        stem = "v" if self.root == "account" else self.root  # one name space per error shape
        name = (stem + "_" + "_".join(p.strip("_") for p in prefix))[:60]
        read = f"{parent}.{prefix[-1]}"
        if absent_here:
            self.uses.add("present")
            read = f"present({read})"
        if parent_absent:
            read = f"None if {parent} is None else {read}"
        self.lines.append(f"{name} = {read}")
        self.vars[prefix] = (name, absent_here or parent_absent)
        return self.vars[prefix]

    def field(self, f: Field, base: tuple[str, ...] = ()) -> tuple[str, bool]:
        full = Field([*base, *f.python], [False] * len(base) + f.absent, f.kind, f.type_name)
        return self.var(tuple(full.python), full)


@dataclass
class _Term:
    sign: int
    field: Field
    default: int | None
    base: tuple[str, ...]


def _amount_code(code: _Code, terms: list[_Term], zero_means_none: bool, name: str) -> str:
    guards: list[str] = []
    parts: list[str] = []
    for i, term in enumerate(terms):
        var, absent = code.field(term.field, term.base)
        if absent and term.default is not None:
            value = f"({term.default} if {var} is None else {var})"
        else:
            value = var
            if absent:
                guards.append(f"{var} is None")
        sign = "" if i == 0 and term.sign > 0 else (" - " if term.sign < 0 else " + ")
        parts.append(f"{'-' if i == 0 and term.sign < 0 else ''}{sign if i else ''}{value}")
    expression = "".join(parts)
    if guards:
        expression = f"None if {' or '.join(dict.fromkeys(guards))} else {expression}"
    if zero_means_none:  # (zero or less: none)
        code.lines.append(f"{name}_value = {expression}")
        expression = f"{name}_value if {name}_value is not None and {name}_value > 0 else None"
    code.lines.append(f"{name} = {expression}")
    return name


# -- check and compile ------------------------------------------------------------------


@dataclass
class _Context:
    provider: Provider
    spec: Spec
    models: Models
    surface: Surface
    problems: list[str] = field(default_factory=list)

    def report(self, key: str, text: str) -> None:
        self.problems.append(f"{self.provider.file}: {key}: {text}")


def _open_items(ctx: _Context, value: Any, key: str) -> None:
    if isinstance(value, str) and value.startswith(OPEN):
        ctx.report(key.removesuffix(".value").removesuffix(".fixed"), f"open item: {value}")
    elif isinstance(value, dict):
        for k, v in value.items():
            _open_items(ctx, v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _open_items(ctx, v, f"{key}.{i}" if key else str(i))


def _units() -> tuple[str, ...]:
    """The documented `Balance.unit` words (``UNITS`` in overlays/_balance.py); an ISO
    4217 currency code (three capitals) is a unit too."""
    text = (ROOT / "overlays" / "_balance.py").read_text(encoding="utf-8")
    match = re.search(r"^UNITS[^=]*= \((.*?)\)", text, re.M | re.S)
    return tuple(ast.literal_eval(f"({match[1]},)")) if match else ()


def _is_unit(value: str) -> bool:
    return value in _units() or re.fullmatch(r"[A-Z]{3}", value) is not None


def _call_models(ctx: _Context) -> dict[str, ModelProperty]:
    """{call name: the model its method returns}."""
    methods = {m.name: m for m in ctx.surface.methods}
    result: dict[str, ModelProperty] = {}
    for name, method_name in ctx.provider.declaration.balance.named_calls().items():
        key = f"balance.calls{'.' + name if name else ''}"
        if method_name.startswith(OPEN):
            continue
        method = methods.get(method_name)
        if method is None:
            ctx.report(
                key,
                f"no client method {method_name!r} (methods: {', '.join(methods) or 'none'})",
            )
            continue
        model = ctx.models.get(method.returns)
        if model is None:
            ctx.report(key, f"{method_name} returns {method.returns}, not a model")
            continue
        result[name] = model
    return result


def _resolve(
    ctx: _Context, key: str, path: str, calls: dict[str, ModelProperty]
) -> tuple[Field, tuple[str, ...]] | None:
    """The field at ``path`` and the ``account`` attribute it starts from."""
    if path.startswith(OPEN):
        return None
    base: tuple[str, ...] = ()
    if "" not in ctx.provider.declaration.balance.named_calls():
        head, _, rest = path.partition(".")
        if head not in calls:
            ctx.report(key, f"a path starts with a call name ({', '.join(calls)}), not {head!r}")
            return None
        base, model, path = (head,), calls[head], rest
    else:
        model = calls[""]
    try:
        return ctx.models.resolve(key, model, path), base
    except Problem as exc:
        ctx.report(exc.key, exc.text)
        return None


def _typed(ctx: _Context, key: str, f: Field, kinds: tuple[str, ...], what: str) -> bool:
    if f.kind in kinds:
        return True
    ctx.report(key, f"{'.'.join(f.python)} is {f.type_name}; {what} needs {' or '.join(kinds)}")
    return False


def _amount(  # noqa: PLR0911 - one return per problem
    ctx: _Context, code: _Code, key: str, amount: Amount, calls: dict[str, ModelProperty]
) -> str | None:
    if amount.value.startswith(OPEN):
        return None
    try:
        parsed = amount.terms()
    except ValueError as exc:
        ctx.report(key, str(exc))
        return None
    if amount.text == "decimal":
        if len(parsed) != 1 or parsed[0][0] < 0 or parsed[0][2] is not None:
            ctx.report(key, "decimal text is one field path (no sums)")
            return None
        found = _resolve(ctx, key, parsed[0][1], calls)
        if found is None or not _typed(ctx, key, found[0], ("str",), "decimal text"):
            return None
        var, _ = code.field(*found)
        code.uses.add("decimal_amount")
        name = key.rsplit(".", 1)[-1]
        code.lines.append(f"{name} = decimal_amount({var})")
        return name
    terms: list[_Term] = []
    for sign, path, default in parsed:
        found = _resolve(ctx, key, path, calls)
        if found is None or not _typed(ctx, key, found[0], NUMBER, "an amount"):
            return None
        terms.append(_Term(sign, found[0], default, found[1]))
    return _amount_code(code, terms, amount.zero_means_none, key.rsplit(".", 1)[-1])


def _time(
    ctx: _Context, code: _Code, key: str, time: Time, calls: dict[str, ModelProperty]
) -> str | None:
    if time.schedule == "monthly-utc":
        code.uses.add("next_month_start")
        return "next_month_start(checked_at)"
    assert time.path is not None
    found = _resolve(ctx, key, time.path, calls)
    if found is None:
        return None
    f, base = found
    if time.format == "iso":
        if not _typed(ctx, key, f, ("datetime",), "ISO text (format: date-time in the spec)"):
            return None
        var, _ = code.field(f, base)
        code.uses.add("aware")
        return f"aware({var})"
    if not _typed(ctx, key, f, NUMBER, "Unix seconds"):
        return None
    var, _ = code.field(f, base)
    code.uses.add("from_unix")
    return f"from_unix({var}, {key.rsplit('.', 1)[-1]!r})"


def _text_path(
    ctx: _Context, code: _Code, key: str, path: str, calls: dict[str, ModelProperty]
) -> str | None:
    found = _resolve(ctx, key, path, calls)
    if found is None or not _typed(ctx, key, found[0], TEXT, "text"):
        return None
    var, _ = code.field(*found)
    return var


def _balance(ctx: _Context, calls: dict[str, ModelProperty], compiled: Compiled) -> None:
    mapping = ctx.provider.declaration.balance
    code = _Code("account")
    args: dict[str, str] = {}
    limit = None
    if mapping.limit is not None:
        limit = _amount(ctx, code, "balance.limit", mapping.limit, calls)
    if mapping.remaining is not None:
        remaining = _amount(ctx, code, "balance.remaining", mapping.remaining, calls)
    elif mapping.used is not None and mapping.limit is not None:
        value = f"{mapping.limit.value} - ({mapping.used.value})".replace("(", "").replace(")", "")
        remaining = _amount(ctx, code, "balance.used", Amount(value=value), calls)
    else:
        ctx.report("balance.remaining", "declare remaining, or used with limit")
        remaining = None
    args["remaining"] = remaining or "None"
    args["limit"] = limit or "None"
    if mapping.unlimited is not None:
        found = _resolve(ctx, "balance.unlimited.absent", mapping.unlimited.absent, calls)
        if found is not None:
            var, absent = code.field(*found)
            if not absent:
                ctx.report("balance.unlimited.absent", "the field is required and not nullable")
            args["unlimited"] = f"{var} is None"
    unit = mapping.unit
    if unit.fixed is not None:
        if not unit.fixed.startswith(OPEN) and not _is_unit(unit.fixed):
            ctx.report(
                "balance.unit",
                f"{unit.fixed!r} is not a Balance.unit ({_units()} or an ISO 4217 code)",
            )
        args["unit"] = repr(unit.fixed)
    elif unit.field is not None:
        unit_var = _text_path(ctx, code, "balance.unit.field", unit.field, calls)
        # an absent unit field (a Twilio child account: no balance, no currency)
        args["unit"] = (
            f'"unknown" if {unit_var} is None else str({unit_var})' if unit_var else "None"
        )
    if mapping.plan is not None:
        args["plan"] = _text_path(ctx, code, "balance.plan", mapping.plan, calls) or "None"
    for name in ("resets_at", "expires_at"):
        time = getattr(mapping, name)
        if time is not None:
            args[name] = _time(ctx, code, f"balance.{name}", time, calls) or "None"
    args["checked_at"] = "checked_at"
    args["account"] = "account"
    body = [*code.lines]
    body.append("return Balance(")
    body.append(f"    provider={ctx.provider.name!r},")
    body += [f"    {k}={v}," for k, v in args.items()]
    body.append(")")
    compiled.to_balance_body = body
    compiled.uses |= code.uses


def _errors(ctx: _Context, compiled: Compiled) -> None:
    shapes = ctx.provider.declaration.errors
    if not shapes:
        compiled.error_body = ["return ErrorInfo()  # no error body declared"]
        return
    body: list[str] = []
    documented = {
        str(status) for _, _, op in operations(ctx.spec) for status in op.get("responses", {})
    }
    # tried in the declared order (a shape with a status only for that status); the
    # first that parses wins
    order = list(enumerate(shapes))
    for n, (i, shape) in enumerate(order):
        key = f"errors.{i}"
        model = ctx.models.get(shape.schema_)
        if model is None:
            ctx.report(f"{key}.schema", f"no schema {shape.schema_!r} in the generated models")
            continue
        if shape.status is not None and str(shape.status) not in documented:
            ctx.report(f"{key}.status", f"no operation documents status {shape.status}")
        code = _Code(f"e{i}")
        values: dict[str, str] = {}
        for name in ("code", "message", "request_id"):
            path = getattr(shape, name)
            if path is None:
                continue
            try:
                f = ctx.models.resolve(f"{key}.{name}", model, path)
            except Problem as exc:
                ctx.report(exc.key, exc.text)
                continue
            if not _typed(ctx, f"{key}.{name}", f, (*TEXT, "int", "uuid"), "an error field"):
                continue
            values[name] = code.field(f)[0]
        compiled.uses |= code.uses
        cls, module = model.class_info.name, model.class_info.module_name
        last = n == len(order) - 1
        condition = "" if shape.status is None else f"status == {shape.status}"
        info = ", ".join(f"{k}={v}" for k, v in values.items())
        inner = [*code.lines, f"return ErrorInfo({info})"]
        parse = f"e{i} = {cls}.from_dict(data)"
        load = f"from .models.{module} import {cls}  # noqa: PLC0415 - first error only"
        if last and not condition:
            body += [load, parse, *inner]
            continue
        block = [load, "try:", f"    {parse}", "except PARSE_ERRORS:", "    pass", "else:"]
        block += [f"    {line}" for line in inner]
        if condition:
            body.append(f"if {condition}:")
            body += [f"    {line}" for line in block]
        else:
            body += block
        if last:
            body.append("return ErrorInfo()")
    compiled.error_body = body


def _joint(ctx: _Context) -> bool:
    """Whether the credentials are sent together (HTTP basic: a username and a password)
    rather than being alternatives."""
    return any(c.send.basic for c in ctx.provider.declaration.credentials)


def _auth(ctx: _Context) -> str:
    credentials = ctx.provider.declaration.credentials
    if _joint(ctx):
        roles = [c.send.basic for c in credentials]
        if roles != ["username", "password"]:
            ctx.report("credentials", "HTTP basic takes a username credential, then a password one")
            return "{}"
        schemes = ctx.spec.get("components", {}).get("securitySchemes", {}).values()
        if not any(
            s.get("type") == "http" and s.get("scheme", "").lower() == "basic" for s in schemes
        ):
            ctx.report("credentials", "the spec has no HTTP basic security scheme")
        user, password = (c.argument for c in credentials)
        return f'{{"Authorization": basic_auth({user}, {password})}}'
    sends = {c.send for c in credentials}
    if len(sends) > 1:
        ctx.report("credentials", "credentials sent in different ways are not supported yet")
    send = credentials[0].send
    if send.scheme is not None:
        return f'{{"Authorization": f"{send.scheme} {{key}}"}}'
    if send.header is not None:
        return f"{{{send.header!r}: key}}"
    ctx.report("credentials.0.send", "basic and path credentials are not supported yet")
    return "{}"


def _credentials(ctx: _Context) -> None:
    declared = [c.argument for c in ctx.provider.declaration.credentials]
    params: set[str] = set()
    for path, _, op in operations(ctx.spec):
        for ref in [*ctx.spec["paths"][path].get("parameters", []), *op.get("parameters", [])]:
            param = resolve(ctx.spec, ref)
            if param.get("in") == "path":
                params.add(str(param.get("name")))
    for i, c in enumerate(ctx.provider.declaration.credentials):
        if c.fills is not None and c.fills not in params:
            ctx.report(
                f"credentials.{i}.fills", f"no path parameter {c.fills!r} ({sorted(params)})"
            )
    if _joint(ctx):  # the constructor takes them in the declared order, all together
        return
    if declared[0] != "api_key":
        ctx.report("credentials.0.argument", "the first credential must be api_key")
    spec_args = ctx.surface.credentials
    if sorted(declared) != sorted(spec_args):
        ctx.report(
            "credentials",
            f"the spec's security schemes give {spec_args}, the declaration {declared} "
            "(x-creditwatch-credential names a scheme's argument)",
        )
    for i, c in enumerate(ctx.provider.declaration.credentials):
        default = f"{ctx.provider.env_prefix}_{c.argument.upper()}"
        if c.env is not None and c.env != default:
            ctx.report(f"credentials.{i}.env", f"must be {default} (others are not supported yet)")


def _servers(ctx: _Context) -> None:
    urls = [str(s.get("url", "")).rstrip("/") for s in ctx.spec.get("servers", [])]
    arguments = [c.argument for c in ctx.provider.declaration.credentials]
    for i, rule in enumerate(ctx.provider.declaration.servers):
        if rule.url.rstrip("/") not in urls:
            ctx.report(f"servers.{i}.url", f"{rule.url} is not a server of the spec ({urls})")
        if rule.credential not in arguments:
            ctx.report(f"servers.{i}.credential", f"no credential {rule.credential!r}")


def _hook(ctx: _Context) -> tuple[bool, list[str]]:
    name = ctx.provider.declaration.hook
    if name is None:
        return False, []
    path = ROOT / "overlays" / "_hooks" / f"{name}.py"
    if not path.is_file():
        ctx.report("hook", f"no module overlays/_hooks/{name}.py")
        return False, []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    exports: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            exports = list(ast.literal_eval(node.value))
    return "inspect" in functions, exports


def compile_profile(
    provider: Provider, spec: Spec, data: GeneratorData, surface: Surface
) -> tuple[Compiled | None, list[str]]:
    """The compiled profile, or None and every problem (one line each)."""
    ctx = _Context(provider, spec, Models(data), surface)
    declaration: Declaration = provider.declaration
    _open_items(ctx, declaration.model_dump(by_alias=True, exclude_defaults=True), "")
    open_items = bool(ctx.problems)
    calls = _call_models(ctx)
    named = declaration.balance.named_calls()
    if "" in named:
        model = calls.get("")
        account = f"Account = {model.class_info.name}" if model else "Account = object"
        imports = (
            [f"from .models.{model.class_info.module_name} import {model.class_info.name}"]
            if model
            else []
        )
    else:
        imports = [
            f"from .models.{m.class_info.module_name} import {m.class_info.name}"
            for m in calls.values()
        ]
        account = ""
    compiled = Compiled(
        provider=provider.name,
        label=declaration.title,
        env_prefix=provider.env_prefix,
        credentials=[
            (c.argument, v)
            for c, v in zip(declaration.credentials, provider.credential_variables(), strict=True)
        ],
        account=account,
        account_imports=sorted(set(imports)),
        calls={k: v for k, v in named.items()},
        to_balance_doc=_mapping_doc(declaration),
        to_balance_body=[],
        error_body=[],
        auth="",
        headers=dict(declaration.headers),
        servers=[(r.credential, r.suffix, r.url) for r in declaration.servers],
        wrapper=None if declaration.wrapper is None else declaration.wrapper.model_dump(),
        body_status=None if declaration.envelope is None else declaration.envelope.body_status,
        hook=declaration.hook,
        hook_inspect=False,
        hook_exports=[],
    )
    compiled.account_fields = [
        (name, calls[name].class_info.name) for name in named if name and name in calls
    ]
    if len(calls) == len(named):
        _balance(ctx, calls, compiled)
        if not open_items:
            _examples(ctx, calls)
    _errors(ctx, compiled)
    compiled.auth = _auth(ctx)
    compiled.joint = _joint(ctx)
    if compiled.joint:
        compiled.auth_params = ", ".join(f"{c.argument}: str" for c in declaration.credentials)
    compiled.fills = [(c.fills, c.argument) for c in declaration.credentials if c.fills]
    _credentials(ctx)
    compiled.hook_inspect, compiled.hook_exports = _hook(ctx)
    _servers(ctx)
    if ctx.problems:
        return None, ctx.problems
    return compiled, []


def _mapping_doc(declaration: Declaration) -> str:
    b = declaration.balance
    parts = []
    for name in ("remaining", "limit", "used"):
        amount = getattr(b, name)
        if amount is not None:
            note = " (zero: none)" if amount.zero_means_none else ""
            parts.append(f"{name} = {amount.value}{note}")
    if b.unlimited is not None:
        parts.append(f"unlimited when {b.unlimited.absent} is absent")
    parts.append(f"unit = {b.unit.fixed!r}" if b.unit.fixed else f"unit = {b.unit.field}")
    if b.plan:
        parts.append(f"plan = {b.plan}")
    for name in ("resets_at", "expires_at"):
        t = getattr(b, name)
        if t is not None:
            parts.append(
                f"{name} = {t.schedule or t.path}{' (Unix seconds)' if t.format == 'unix' else ''}"
            )
    return "; ".join(parts)


# -- documented examples ------------------------------------------------------------------


def _walk(body: Any, path: str) -> tuple[bool, Any]:
    """(found, value) at a JSON path; an absent or null step is not found."""
    value = body
    for segment in path.split("."):
        if not isinstance(value, dict) or value.get(segment) is None:
            return False, None
        value = value[segment]
    return True, value


def evaluate(declaration: Declaration, bodies: dict[str, Any]) -> dict[str, Any]:
    """The balance fields a declaration gives for these JSON bodies ({call name: the
    method's result as JSON}), read straight from the JSON: an independent reading of
    the declaration, used on the documented examples (ValueError: why not)."""
    b = declaration.balance

    def at(path: str) -> tuple[bool, Any]:
        if "" in bodies:
            return _walk(bodies[""], path)
        head, _, rest = path.partition(".")
        return _walk(bodies[head], rest)

    def amount(a: Amount | None) -> float | None:
        if a is None:
            return None
        total: float = 0
        if a.text == "decimal":
            (_, path, _), *_ = a.terms()
            found, value = at(path)
            if not found:
                return None
            if not isinstance(value, str):
                raise ValueError(f"{path} is {value!r}, not decimal text")
            try:
                number = Decimal(value)
            except ArithmeticError:
                raise ValueError(f"{path} is {value!r}, not decimal text") from None
            if not number.is_finite():
                raise ValueError(f"{path} is {value!r}, not a finite number")
            return float(number)
        for sign, path, default in a.terms():
            found, value = at(path)
            if not found:
                if default is None:
                    return None
                value = default
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{path} is {value!r}, not a number")
            total += sign * value
        return None if a.zero_means_none and total <= 0 else total

    def time(t: Time | None) -> Any:
        if t is None or t.path is None:
            return None
        found, value = at(t.path)
        if not found:
            return None
        if t.format == "unix":
            if not isinstance(value, int | float):
                raise ValueError(f"{t.path} is {value!r}, not Unix seconds")
            return value
        if not isinstance(value, str):
            raise ValueError(f"{t.path} is {value!r}, not ISO text")
        return datetime.fromisoformat(value)

    limit = amount(b.limit)
    if b.remaining is not None:
        remaining = amount(b.remaining)
    elif b.used is not None:
        used = amount(b.used)
        remaining = None if limit is None or used is None else limit - used
    else:
        remaining = None
    plan = at(b.plan)[1] if b.plan else None
    if plan is not None and not isinstance(plan, str):
        raise ValueError(f"{b.plan} is {plan!r}, not text")
    unit = b.unit.fixed
    if b.unit.field is not None:
        unit = at(b.unit.field)[1]
        if unit is not None and not (isinstance(unit, str) and _is_unit(unit)):
            raise ValueError(f"{b.unit.field} is {unit!r}, not a unit (an ISO 4217 code...)")
    return {
        "unit": unit,
        "remaining": remaining,
        "limit": limit,
        "unlimited": b.unlimited is not None and not at(b.unlimited.absent)[0],
        "plan": plan,
        "resets_at": time(b.resets_at),
        "expires_at": time(b.expires_at),
    }


def _documented(ctx: _Context, method_name: str) -> list[tuple[str, Any]]:
    """(example name, the method's result as JSON) of every documented 2xx example of
    the operation(s) behind a client method."""
    declaration = ctx.provider.declaration
    envelope = ctx.spec.get("x-creditwatch-envelope")
    found: list[tuple[str, Any]] = []
    for _, _, op in operations(ctx.spec):
        declared = op.get("x-creditwatch-methods") or [{"name": None}]
        for d in declared:
            name = d["name"] or _snake(op["operationId"])
            if name != method_name:
                continue
            result = d.get("result", envelope) if d["name"] else envelope
            for status, response in op.get("responses", {}).items():
                if not str(status).startswith("2"):
                    continue
                media = resolve(ctx.spec, response).get("content", {}).get("application/json", {})
                examples = {k: v.get("value") for k, v in media.get("examples", {}).items()}
                if not examples and "example" in media:
                    examples = {"default": media["example"]}
                for example, documented in examples.items():
                    body = documented
                    if declaration.envelope is not None and isinstance(body, dict):
                        status_value = body.get(declaration.envelope.body_status)
                        if isinstance(status_value, int) and not 200 <= status_value < 300:
                            continue  # an error in a 200 body
                    w = declaration.wrapper
                    if w is not None and isinstance(body, dict) and w.data in body:
                        body = body[w.data]
                    if result is not None and isinstance(body, dict):
                        body = body.get(result)
                    found.append((f"{op['operationId']} {status} {example}", body))
    return found


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _examples(ctx: _Context, calls: dict[str, ModelProperty]) -> None:
    named = ctx.provider.declaration.balance.named_calls()
    per_call = {name: _documented(ctx, method) for name, method in named.items()}
    for name, examples in per_call.items():
        if not examples:
            method = named[name]
            ctx.report(
                f"balance.calls{'.' + name if name else ''}",
                f"{method}: its operation documents no 2xx example to check the mapping on",
            )
            return
    for combination in itertools.product(*per_call.values()):
        bodies = {name: body for name, (_, body) in zip(per_call, combination, strict=True)}
        where = " + ".join(label for label, _ in combination)
        try:
            evaluate(ctx.provider.declaration, bodies)
        except (ValueError, TypeError) as exc:
            ctx.report("balance", f"the documented example {where} maps to no Balance: {exc}")
