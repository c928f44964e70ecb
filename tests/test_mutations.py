"""The mutation experiment of issue #12, as a test: every field of every documented
example (generated/examples.json, from specs/*.yaml) replaced by a value of each other
JSON type, by null, or dropped, and served through the real clients.

Every such body must either raise a creditwatch.APIError (never another exception,
never with the API key in its text) or parse into a model whose every value has the
type its annotation says (tests/_bodies.py `result_problems`). Before the generated
``from_dict`` checked types, 862 of 1,608 such bodies came back as models holding a
value of the wrong type (``user_id == "x"`` typed ``int``).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import creditwatch
import pytest

from _bodies import Op, call, client_operations, field_paths, result_problems
from _cases import EXAMPLES
from codegen.providers import PROVIDERS as DECLARED
from conftest import FAKE_KEY, FAKE_TOKEN, PROVIDERS

# provider -> the body field holding its own status (declared: envelope.body_status)
BODY_STATUS = {p.name for p in DECLARED if p.declaration.envelope is not None}

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Exorde's notice

_DROP = object()
# One value of each JSON type (integer and fractional number told apart), and null.
REPLACEMENTS: dict[str, Any] = {
    "string": "x",
    "integer": 7,
    "number": 1.5,
    "boolean": True,
    "array": [],
    "object": {},
    "null": None,
}


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def mutations(body: Any) -> Iterator[tuple[str, Any]]:
    """(description, mutated body) for every path: each other JSON type, null, dropped."""
    for path in field_paths(body):
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        current = json_kind(parent[path[-1]])
        where = ".".join(str(p) for p in path)
        for kind, value in [*REPLACEMENTS.items(), ("dropped", _DROP)]:
            if kind == current:
                continue
            mutated = copy.deepcopy(body)
            target = mutated
            for key in path[:-1]:
                target = target[key]
            if value is _DROP:
                del target[path[-1]]
            else:
                target[path[-1]] = copy.deepcopy(value)
            yield f"{where} -> {kind}", mutated


def cases() -> Iterator[tuple[Op, int, str, Any]]:
    """(operation, status, example name, body) of every documented example."""
    for op in client_operations():
        responses = EXAMPLES[op.provider][op.operation_id]["responses"]
        for status, examples in responses.items():
            for name, body in examples.items():
                yield op, int(status), name, body


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_field_of_every_example_mutated(
    provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes: Counter[str] = Counter()
    wrong: list[str] = []
    for op, status, name, body in cases():
        if op.provider != provider:
            continue
        for n, (change, mutated) in enumerate(mutations(body)):
            content = json.dumps(mutated).encode()
            modes = ("sync", "async") if n % 10 == 0 else ("sync",)  # async: a sample
            for mode in modes:
                label = f"{op.label} {status} {name}: {change} ({mode})"
                try:
                    result = call(op, mode, {op.path: (status, content)})
                except creditwatch.APIError as exc:
                    outcomes["APIError"] += 1
                    text = f"{exc} {exc.args!r}"
                    if FAKE_KEY in text or FAKE_TOKEN in text:
                        wrong.append(f"{label}: the credential is in the error")
                    if (
                        status < 300
                        and isinstance(exc, creditwatch.APIStatusError)
                        and (
                            provider not in BODY_STATUS  # its body's status field counts (README)
                        )
                    ):
                        wrong.append(f"{label}: a 2xx body raised {type(exc).__name__}: {exc}")
                except Exception as exc:  # this is what the test looks for
                    outcomes["other exception"] += 1
                    wrong.append(f"{label}: {type(exc).__name__}: {exc}")
                else:
                    outcomes["parsed"] += 1
                    if status >= 300:
                        wrong.append(f"{label}: an error status returned {result!r}")
                    problems = result_problems(op, result)
                    if problems:
                        outcomes["wrongly typed model"] += 1
                        wrong.append(f"{label}: " + "; ".join(problems))
    with capsys.disabled():
        print(f"\n  {provider}: {sum(outcomes.values())} mutated bodies: {dict(outcomes)}")
    assert outcomes["APIError"] > 0
    assert not wrong, f"{len(wrong)} problems, e.g.:\n" + "\n".join(wrong[:20])


def test_mutations_cover_every_field_kind() -> None:
    """The generator of mutations itself: every path, every other kind, null, dropped."""
    body = {"a": 1, "b": {"c": "s"}, "d": [True]}
    found = dict(mutations(body))
    assert set(found) == {
        f"{path} -> {kind}"
        for path, own in [
            ("a", "integer"),
            ("b", "object"),
            ("b.c", "string"),
            ("d", "array"),
            ("d.0", "boolean"),
        ]
        for kind in [*REPLACEMENTS, "dropped"]
        if kind != own
    }
    assert found["b.c -> integer"] == {"a": 1, "b": {"c": 7}, "d": [True]}
    assert found["d.0 -> dropped"] == {"a": 1, "b": {"c": "s"}, "d": []}
    assert body == {"a": 1, "b": {"c": "s"}, "d": [True]}  # untouched
