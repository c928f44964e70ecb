"""Checks of one spec before the generator reads it, each failure a `report.Problem`
naming the file the maintainer edits and the line:

* a normalizer step that fails (its target moved): the step, the provider, the step's
  line in scripts/codegen/<provider>.py (or the file the step names, e.g. the
  translation table scripts/codegen/flamel_patch.yaml);
* a dangling local ``$ref``: the ref, not the whole spec;
* an operation without ``operationId`` (the method name comes from it);
* anything else openapi-spec-validator rejects, in one line;
* a ``format`` the generator does not know: a warning naming the field (the value
  stays a plain ``str``/``int``/``float``), not an error: formats are open-ended in
  OpenAPI, and an unknown one changes no generated type.

For a normalized provider the problems point at the upstream snapshot
(specs/upstream/<p>.yaml): specs/<p>.yaml is output, and the fix is a step.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate

from .providers import Provider
from .report import Problem, line_of, relative
from .spec import Spec, SpecError, Step, operations

# Formats that change the generated type, and well-known ones that keep the plain type.
KNOWN_FORMATS = {
    "date-time", "date-time-local", "date", "time", "duration", "uuid", "binary", "byte",
    "email", "idn-email", "uri", "url", "uri-reference", "iri", "hostname", "ipv4", "ipv6",
    "password", "int32", "int64", "float", "double", "regex",
}  # fmt: skip


def source_file(provider: Provider) -> Path:
    """The spec file a maintainer edits for this provider: the hand-written spec, or
    the upstream snapshot a normalized spec is made from."""
    return provider.upstream or provider.spec


def run_steps(provider: Provider, spec: Spec) -> None:
    """Apply the provider's normalizer steps; a failing one is a Problem naming it."""
    for step in provider.steps:
        try:
            step(spec)
        except Exception as exc:
            raise step_problem(provider, step, exc) from None


def step_problem(provider: Provider, step: Step, exc: Exception) -> Problem:
    upstream = relative(provider.upstream) if provider.upstream else "the upstream snapshot"
    if isinstance(exc, SpecError) and exc.file is not None:
        return Problem(
            exc.file,
            f"normalizer step {step.__name__} ({provider.name}): {exc}",
            exc.hint or "edit this file, then run `python scripts/generate.py`",
            line=exc.line,
        )
    detail = str(exc) if isinstance(exc, SpecError) else f"{type(exc).__name__}: {exc}"
    module = Path(inspect.getsourcefile(step) or "scripts/codegen")
    return Problem(
        module,
        f"normalizer step {step.__name__} ({provider.name}) did not find its target: {detail}",
        f"{upstream} changed there: update the step (or remove it if upstream fixed it)",
        line=inspect.getsourcelines(step)[1],
    )


def _refs(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, tuple[str, ...]]]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref, path
        for key, value in node.items():
            yield from _refs(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, (*path, str(i)))


def _resolves(spec: Spec, ref: str) -> bool:
    if not ref.startswith("#/"):
        return True  # not local: the validator reports what it cannot read
    target: Any = spec
    for part in ref[2:].split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or key not in target:
            return False
        target = target[key]
    return True


def check(provider: Provider, spec: Spec) -> list[str]:
    """Raise a Problem for the first error in a spec the generator is about to read;
    return warnings (one line each)."""
    source = source_file(provider)
    fix = (
        f"add a step to scripts/codegen/{provider.name}.py" if provider.upstream else "fix the spec"
    )
    for ref, _ in _refs(spec):
        if not _resolves(spec, ref):
            name = ref.rsplit("/", 1)[-1]
            raise Problem(
                source,
                f"$ref {ref!r} points at nothing: no {name!r} there",
                f"{fix}: define {name}, or point the $ref at an existing one",
                line_of(source, ref) or line_of(provider.spec, ref),
            )
    for path, method, op in operations(spec):
        if not op.get("operationId"):
            raise Problem(
                source,
                f"{method.upper()} {path} has no operationId (the client method is named after it)",
                f"{fix}: give the operation an operationId, e.g. `operationId: getThing`",
                line_of(source, f"{path}:", f"{method}:"),
            )
    try:
        validate(copy.deepcopy(spec))
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc).strip().splitlines()[0]
        where = "/".join(str(p) for p in getattr(exc, "path", []) or [])
        raise Problem(
            source,
            f"not valid OpenAPI{f' at {where}' if where else ''}: {str(message)[:200]}",
            fix,
            line_of(source, where.rsplit("/", 1)[-1]) if where else None,
        ) from None
    return list(format_warnings(provider, spec))


def format_warnings(provider: Provider, spec: Spec) -> Iterator[str]:
    source = source_file(provider)
    for name, body in spec.get("components", {}).get("schemas", {}).items():
        for field, value in (body.get("properties") or {}).items():
            fmt = value.get("format") if isinstance(value, dict) else None
            if isinstance(fmt, str) and fmt not in KNOWN_FORMATS:
                line = line_of(source, f"{field}:", f"format: {fmt}")
                where = relative(source) + (f":{line}" if line else "")
                yield (
                    f"warning: {where}: {name}.{field} has format {fmt!r}, which the generator "
                    f"does not know; it stays a plain {value.get('type', 'value')}"
                )
