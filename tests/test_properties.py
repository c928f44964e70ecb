"""Property-based tests of every response schema (issue #12), with hypothesis and
hypothesis-jsonschema: for every operation and every documented status of every
provider, bodies are generated from the normalized spec's schema (``$ref``s resolved,
``nullable`` translated; tests/_bodies.py) and served through the real clients, over
httpx.MockTransport and, for a sample, over loopback, sync and async.

* a valid 2xx body parses into the model, every value of the model has its annotated
  type, and ``to_dict()`` gives back the body (date-times compared as instants, UUIDs
  by value) after the provider's envelope is removed;
* a valid error body raises the APIStatusError subclass of its status (the README's
  table) with the provider's code, message and request id decoded;
* a mutated body (a required field dropped, a value of another JSON type, null, the
  body replaced by an array or a scalar) raises an APIError or parses into a model whose
  values all have their annotated types; never another exception, never the key in the
  error; truncated JSON, invalid UTF-8 and 10 MB of nesting or whitespace likewise;
* ``balance()`` on any valid body returns a Balance or raises an APIError.

Examples per test are bounded (``CREDITWATCH_HYPOTHESIS_EXAMPLES``, default 15) and
derandomized (a fixed seed: the same bodies on every run and in CI); no example
database is written. The bodies tried per provider are printed at the end.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import re
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import creditwatch
import pytest
from creditwatch._base import DEFAULT_MAX_RESPONSE_BYTES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from _bodies import (
    Op,
    call,
    client_operations,
    documented_statuses,
    field_paths,
    result_problems,
    spec_operations,
)
from _cases import CASES
from _faults import FaultServer, Reply
from _specs import JSON, load, operations, resolve
from codegen.providers import PROVIDERS as DECLARED
from conftest import FAKE_KEY, FAKE_TOKEN, PROVIDERS, with_credentials

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Exorde's notice

EXAMPLES = int(os.environ.get("CREDITWATCH_HYPOTHESIS_EXAMPLES", "15"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
FORMATS = {
    # hypothesis-jsonschema knows date-time, date and email; these two it does not.
    "uuid": st.uuids().map(str),
    "date-time-local": st.datetimes(min_value=datetime.datetime(1000, 1, 1)).map(
        lambda d: d.isoformat()
    ),
}
OPS = client_operations()
TRIED: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_bodies_tried(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.getplugin("terminalreporter"), plugins.getplugin("capturemanager")
    if reporter is not None and capture is not None and TRIED:
        with capture.global_and_fixture_disabled():  # shown without -s too
            reporter.write_line("")
            reporter.write_line(
                "property-based bodies tried per provider: "
                + ", ".join(f"{p} {TRIED[p]}" for p in PROVIDERS)
            )


_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {}


def scalar_extras(schema: Any) -> Any:
    """The schema, with the unknown fields an object may carry limited to scalar values:
    still valid bodies (the specs allow any extra field), generated several times faster
    than with arbitrary JSON in every extra field."""
    if isinstance(schema, list):
        return [scalar_extras(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: scalar_extras(value) for key, value in schema.items()}
    if out.get("type") == "object" and "additionalProperties" not in out:
        out["additionalProperties"] = {"type": ["string", "integer", "boolean", "null"]}
    return out


def strategy(schema: Any) -> st.SearchStrategy[Any]:
    """hypothesis-jsonschema's strategy for a schema, built once (building one
    canonicalizes the schema, which costs far more than drawing a body)."""
    key = json.dumps(schema, sort_keys=True)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = from_schema(scalar_extras(schema), custom_formats=FORMATS)
    return _STRATEGIES[key]


MODES = st.sampled_from(["sync", "async"])  # each example is served to one of the two


def cases(success: bool, *, distinct: bool = False) -> list[tuple[Op, int, Any]]:
    """(operation, status, body schema) of every documented status with a JSON body.
    `distinct`: once per provider, status and schema (LLMGenerator's API-key and session
    variants answer the same bodies, Exorde's two methods read one operation)."""
    found: dict[tuple[Any, ...], tuple[Op, int, Any]] = {}
    for op in OPS:
        for status, schema in documented_statuses(op.provider, op.operation_id).items():
            if schema is None or (200 <= status < 300) != success:
                continue
            key: tuple[Any, ...] = (op.provider, status, json.dumps(schema, sort_keys=True))
            if not distinct:
                key += (op.label,)
            found.setdefault(key, (op, status, schema))
    return list(found.values())


def case_id(case: tuple[Op, int, Any]) -> str:
    return f"{case[0].label}-{case[1]}"


SUCCESS = cases(success=True)
ERRORS = cases(success=False, distinct=True)
MUTATED = cases(success=True, distinct=True) + ERRORS


BODY_STATUS = {  # provider -> the body field holding a status (declared: envelope.body_status)
    p.name: p.declaration.envelope.body_status for p in DECLARED if p.declaration.envelope
}


def fix_envelope(op: Op, body: Any) -> Any:
    """A body that carries its own status (EasySlip's) says 200 in a success (README):
    a generated success body gets it."""
    if op.provider in BODY_STATUS and isinstance(body, dict):
        body[BODY_STATUS[op.provider]] = 200
    return body


# -- comparing a round trip ------------------------------------------------------------

_DATE_TIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?$"
)


def canonical(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """JSON with date-times as instants, UUIDs as values and booleans told from numbers."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, str):
        if _DATE_TIME.match(value):
            try:
                return ("date-time", datetime.datetime.fromisoformat(value.upper()))
            except ValueError:
                return value
        if len(value) == 36:
            try:
                return ("uuid", uuid.UUID(value))
            except ValueError:
                return value
    return value


# -- valid bodies ------------------------------------------------------------------------


@pytest.mark.parametrize("case", SUCCESS, ids=case_id)
@SETTINGS
@given(data=st.data())
def test_valid_success_body_parses_and_round_trips(
    case: tuple[Op, int, Any], data: st.DataObject
) -> None:
    op, status, schema = case
    mode = data.draw(MODES, label="mode")
    body = fix_envelope(op, data.draw(strategy(schema), label="body"))
    TRIED[op.provider] += 1
    result = call(op, mode, {op.path: (status, json.dumps(body).encode())})
    problems = result_problems(op, result)
    assert not problems, problems
    assert canonical(result.to_dict()) == canonical(op.unwrap(body))


# The README's table: status -> error class.
ERROR_CLASSES = {
    400: creditwatch.BadRequestError,
    401: creditwatch.AuthenticationError,
    403: creditwatch.PermissionDeniedError,
    404: creditwatch.NotFoundError,
    422: creditwatch.BadRequestError,
    429: creditwatch.RateLimitError,
}


def _at(body: Any, path: str | None) -> Any:
    """The value at a declared field path (JSON names, dots), None when absent."""
    if path is None:
        return None
    for part in path.split("."):
        if not isinstance(body, dict) or body.get(part) is None:
            return None
        body = body[part]
    return body


def expected_error(provider: str, status: int, body: Any, schema: str | None) -> tuple[Any, ...]:
    """(code, message, request id) as the provider's declaration says its error body
    states them (specs/providers/<p>.yaml ``errors``: the first shape for this status
    whose schema is the one documented for it), read here from the JSON itself."""
    declared = next(p for p in DECLARED if p.name == provider).declaration
    for shape in declared.errors:
        if shape.status is not None and shape.status != status:
            continue
        if schema is not None and shape.schema_ != schema:
            continue
        values = [_at(body, getattr(shape, k)) for k in ("code", "message", "request_id")]
        return tuple(None if v is None else str(v) for v in values)
    return None, None, None


def documented_schema(op: Op, status: int) -> str | None:
    """The component schema documented for an error status (None: inline or none)."""
    spec = load(op.provider)
    for _, _, operation in operations(spec):
        if operation["operationId"] == op.operation_id:
            response = resolve(spec, operation["responses"][str(status)])
            ref = response.get("content", {}).get(JSON, {}).get("schema", {}).get("$ref")
            return None if ref is None else str(ref).rsplit("/", 1)[-1]
    return None


@pytest.mark.parametrize("case", ERRORS, ids=case_id)
@SETTINGS
@given(data=st.data())
def test_valid_error_body_raises_its_status_error(
    case: tuple[Op, int, Any], data: st.DataObject
) -> None:
    op, status, schema = case
    mode = data.draw(MODES, label="mode")
    body = data.draw(strategy(schema), label="body")
    TRIED[op.provider] += 1
    content = json.dumps(body).encode()
    with pytest.raises(creditwatch.APIStatusError) as caught:
        call(op, mode, {op.path: (status, content)})
    error = caught.value
    assert type(error) is ERROR_CLASSES.get(
        status, creditwatch.InternalServerError if status >= 500 else creditwatch.APIStatusError
    )
    assert error.status_code == status
    assert error.body == content.decode()
    code, message, request_id = expected_error(
        op.provider, status, body, documented_schema(op, status)
    )
    assert error.code == code
    assert error.request_id == request_id
    if message:
        assert message in str(error)


# -- mutated bodies ----------------------------------------------------------------------

_MISSING = object()


@st.composite
def mutated(draw: st.DrawFn, body: Any) -> tuple[str, Any]:
    """One mutation of a valid body: a field dropped, replaced by another JSON type or
    null, or the whole body replaced by an array or a scalar."""
    paths = field_paths(body)
    kind = draw(st.sampled_from(["drop", "retype", "null", "top"] if paths else ["top"]))
    if kind == "top":
        value = draw(
            st.one_of(
                st.lists(st.integers(), max_size=3),
                st.integers(),
                st.text(max_size=5),
                st.booleans(),
                st.none(),
                st.floats(allow_nan=False, allow_infinity=False),
            )
        )
        return f"body -> {value!r}", value
    path = draw(st.sampled_from(paths))
    copy = json.loads(json.dumps(body))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    where = ".".join(map(str, path))
    if kind == "drop":
        del parent[path[-1]]
        return f"{where} dropped", copy
    if kind == "null":
        parent[path[-1]] = None
        return f"{where} -> null", copy
    old = parent[path[-1]]
    new = draw(
        st.one_of(
            st.text(max_size=5),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.booleans(),
            st.lists(st.integers(), max_size=2),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        ).filter(lambda v: type(v) is not type(old))
    )
    parent[path[-1]] = new
    return f"{where} -> {new!r}", copy


def check_outcome(op: Op, status: int, mode: str, content: bytes, **options: Any) -> Any:
    """Serve `content`; the call returns a well-typed model or raises an APIError without
    the credential in it. Returns the result (or the error)."""
    try:
        result = call(op, mode, {op.path: (status, content)}, **options)
    except creditwatch.APIError as exc:
        text = f"{exc} {exc.args!r} {exc!r}"
        assert FAKE_KEY not in text and FAKE_TOKEN not in text
        return exc
    problems = result_problems(op, result)
    assert not problems, problems
    return result


@pytest.mark.parametrize("case", MUTATED, ids=case_id)
@SETTINGS
@given(data=st.data())
def test_mutated_body_raises_api_error_or_parses_well_typed(
    case: tuple[Op, int, Any], data: st.DataObject
) -> None:
    op, status, schema = case
    mode = data.draw(MODES, label="mode")
    body = fix_envelope(op, data.draw(strategy(schema), label="valid body"))
    change, bad = data.draw(mutated(body), label="mutation")
    TRIED[op.provider] += 1
    outcome = check_outcome(op, status, mode, json.dumps(bad).encode())
    if status >= 300:  # an error status stays an error, whatever its body
        assert isinstance(outcome, creditwatch.APIStatusError), change


TEN_MB = 10 * 2**20
RAW_BODIES: dict[str, Callable[[Any], bytes]] = {
    "truncated": lambda body: json.dumps(body).encode()[: len(json.dumps(body)) // 2],
    "invalid-utf8": lambda body: b'{"a": "\xff\xfe"}',
    "invalid-utf8-in-a-field": lambda body: json.dumps(body).encode().replace(b'"', b'"\xc3', 1),
    "whitespace-10mb": lambda body: b" " * TEN_MB,
    "whitespace-around-10mb": lambda body: b" " * TEN_MB + json.dumps(body).encode(),
    "nested-arrays-10mb": lambda body: b"[" * TEN_MB,
    "nested-objects-10mb": lambda body: b'{"a":' * (TEN_MB // 5),
}


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        (name, mode)
        for name in RAW_BODIES
        for mode in (("sync",) if name.startswith("nested") else ("sync", "async"))
    ],
)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_broken_bytes_raise_api_error(provider: str, mode: str, raw: str) -> None:
    op, status, _ = next(c for c in SUCCESS if c[0].provider == provider)
    content = RAW_BODIES[raw](CASES[provider].example())
    if len(content) > DEFAULT_MAX_RESPONSE_BYTES:  # refused unread by default...
        capped = check_outcome(op, status, mode, content)
        assert isinstance(capped, creditwatch.ResponseTooLargeError), capped
    outcome = check_outcome(op, status, mode, content, max_response_bytes=None)  # ...or parsed
    if raw == "whitespace-around-10mb":
        assert not isinstance(outcome, creditwatch.APIError), outcome  # valid JSON still
    else:
        assert isinstance(outcome, creditwatch.APIResponseValidationError)
        assert outcome.body == content.decode(errors="replace")


# -- balance() -----------------------------------------------------------------------------


def _balance_ops() -> dict[str, list[str]]:
    """provider -> the operations balance() calls with an API key (its declaration's
    balance calls, specs/providers/<p>.yaml)."""
    result = {}
    for provider in DECLARED:
        methods = provider.declaration.balance.named_calls().values()
        result[provider.name] = [
            next(
                o.operation_id
                for o in OPS
                if o.provider == provider.name and o.method == m and "api_key" in o.credential
            )
            for m in methods
        ]
    return result


BALANCE_OPS = _balance_ops()


@pytest.mark.parametrize("provider", PROVIDERS)
@SETTINGS
@given(data=st.data())
def test_balance_of_any_valid_body_is_a_balance(provider: str, data: st.DataObject) -> None:
    mode = data.draw(MODES, label="mode")
    routes = {}
    ops = [
        next(o for o in OPS if o.provider == provider and o.operation_id == op_id)
        for op_id in BALANCE_OPS[provider]
    ]
    for op in ops:
        schema = documented_statuses(provider, op.operation_id)[200]
        body = fix_envelope(op, data.draw(strategy(schema), label=op.operation_id))
        routes[op.path] = (200, json.dumps(body).encode())
    TRIED[provider] += 1
    mapping = next(p for p in DECLARED if p.name == provider).declaration.balance
    amounts = (mapping.remaining, mapping.limit, mapping.used)
    decimal_text = any(a is not None and a.text == "decimal" for a in amounts)
    times = (mapping.resets_at, mapping.expires_at)
    unix = any(t is not None and t.format == "unix" for t in times)
    try:
        result = call(ops[0], mode, routes, method="balance")  # the ops share one credential
    except creditwatch.APIResponseValidationError as exc:
        # only a value the spec allows but the mapping cannot read: text that is no
        # number (Twilio types its decimal balance as any string), an integer that is
        # no Unix time a datetime can hold (ElevenLabs' reset is any integer)
        text = str(exc)
        assert (decimal_text and ("decimal text" in text or "finite" in text)) or (
            unix and "not a Unix time" in text
        ), text
        return
    assert isinstance(result, creditwatch.Balance)
    assert result.provider == provider
    for number in (result.remaining, result.limit):
        assert number is None or type(number) in (int, float)
    for moment in (result.resets_at, result.expires_at):
        assert moment is None or moment.tzinfo is not None


# -- over loopback, for a sample ------------------------------------------------------------


@pytest.fixture(scope="module")
def loopback() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.mark.parametrize("case", SUCCESS, ids=case_id)
@pytest.mark.parametrize("mode", ["sync", "async"])
@settings(SETTINGS, max_examples=max(2, EXAMPLES // 5))
@given(data=st.data())
def test_valid_body_over_loopback(
    loopback: FaultServer, case: tuple[Op, int, Any], mode: str, data: st.DataObject
) -> None:
    op, status, schema = case
    body = fix_envelope(op, data.draw(strategy(schema), label="body"))
    TRIED[op.provider] += 1
    loopback.script(Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json"}))
    module = getattr(creditwatch, op.provider)
    options = {
        "base_url": loopback.base_url,
        "max_retries": 0,
        **with_credentials(op.provider, dict(op.credential)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if mode == "sync":
            with module.Client(**options) as client:
                result = getattr(client, op.method)()
        else:

            async def run() -> Any:
                async with module.AsyncClient(**options) as client:
                    return await getattr(client, op.method)()

            result = asyncio.run(run())
    problems = result_problems(op, result)
    assert not problems, problems
    assert canonical(result.to_dict()) == canonical(op.unwrap(body))


# -- the test's own coverage -----------------------------------------------------------------


def test_every_operation_is_covered() -> None:
    """Every operation of every spec has a client call here, and every provider has
    success and error cases."""
    covered = {(op.provider, op.operation_id) for op in OPS}
    assert covered == {(p, op_id) for p, op_id, _, _ in spec_operations()}
    for provider in PROVIDERS:
        assert any(c[0].provider == provider for c in SUCCESS)
        documents_errors = any(
            int(status) >= 400 and resolve(load(provider), response).get("content")
            for _, _, op in operations(load(provider))
            for status, response in op["responses"].items()
        )  # Twilio's balance documents no error response
        assert any(c[0].provider == provider for c in ERRORS) == documents_errors, provider


def test_canonical_compares_instants_not_spellings() -> None:
    assert canonical("2024-01-01T09:00:00+09:00") == canonical("2024-01-01T00:00:00Z")
    assert canonical("2024-01-01T09:00:00+09:00") != canonical("2024-01-01T09:00:00Z")
    assert canonical("123E4567-E89B-12D3-A456-426614174000") == canonical(
        "123e4567-e89b-12d3-a456-426614174000"
    )
    assert canonical(True) != canonical(1)
