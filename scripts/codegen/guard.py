"""Guards generate.py runs on the fresh output before anything is written (issue #18):
each finds problems, one `report.Problem` per line ``path:line: what; hint``, pointing
at the file the maintainer edits.

* `type_check`: ``mypy --strict`` on overlays/ IN THE TREE against the fresh generated
  code (a temporary package layout, not site-packages), so that a renamed field an
  overlay reads is reported at its line in overlays/, before anyone installs.
* `examples`: every documented example of every spec (response, parameter and
  property examples) validated against its schema.
* `build`: what a wheel built from the tree would contain: every Python file under
  overlays/ and generated/ in a listed package, every data file matched by
  ``package-data`` (pyproject.toml).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator  # type: ignore[import-untyped]  # no stubs in dev deps

from .outputs import PUBLIC
from .providers import GENERATED, ROOT, Provider
from .report import Problem, line_of
from .spec import Spec, operations, resolve
from .speccheck import source_file

OVERLAYS = ROOT / "overlays"
# Files in generated/ that are bookkeeping, not part of the package.
NOT_SHIPPED = {".digest.json"}


# -- mypy on the overlays in the tree -------------------------------------------------------

_MYPY_LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+): error: (?P<what>.*?)(\s+\[[\w-]+\])?$")


def _layout_dir() -> Path:
    """A stable folder per repository, so mypy's cache stays warm between runs."""
    key = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"creditwatch-guard-{key}"


def type_check(new_generated: Path) -> list[Problem]:
    """mypy --strict on the package as it would be built from overlays/ and the fresh
    generated output; each error at its line in overlays/ (or generated/)."""
    base = _layout_dir()
    package = base / "creditwatch"
    if package.exists():
        shutil.rmtree(package)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(OVERLAYS, package, ignore=ignore)
    shutil.copytree(new_generated, package / "_generated", ignore=ignore)
    # the public provider packages sit at creditwatch.<p>, as pyproject's package-dir maps them
    public = package / "_generated" / PUBLIC
    for folder in sorted(public.iterdir()) if public.exists() else ():
        shutil.copytree(folder, package / folder.name, ignore=ignore)
    shutil.rmtree(public, ignore_errors=True)
    result = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "-p", "creditwatch",
            "--cache-dir", str(base / ".mypy_cache"),
            "--no-error-summary", "--no-color-output", "--show-error-codes",
            "--hide-error-context", "--no-pretty",
        ],
        cwd=base,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    problems = []
    for raw in result.stdout.splitlines():
        match = _MYPY_LINE.match(raw)
        if match is None:
            continue
        path = Path(match["path"])
        parts = path.parts[1:] if path.parts[:1] == ("creditwatch",) else path.parts
        if parts[:1] == ("_generated",):
            origin = GENERATED.joinpath(*parts[1:])
            hint = "the generated code does not type-check: check the templates"
        elif (new_generated / PUBLIC / parts[0]).is_dir():
            origin = GENERATED.joinpath(PUBLIC, *parts)
            hint = "the generated code does not type-check: check scripts/codegen/outputs.py"
        else:
            origin = OVERLAYS.joinpath(*parts)
            hint = _hint(match["what"])
        problems.append(Problem(origin, match["what"], hint, int(match["line"])))
    if result.returncode != 0 and not problems:
        first = (result.stdout + result.stderr).strip().splitlines()[:1]
        problems.append(Problem(OVERLAYS, f"mypy failed: {first}", "run mypy --strict by hand"))
    return problems


def _hint(what: str) -> str:
    if "has no attribute" in what:
        return (
            "a field or method the overlay uses is gone from the generated code: use its "
            "new name (the spec changed)"
        )
    return "the overlay does not type-check against the regenerated code"


# -- documented examples ------------------------------------------------------------------


def json_schema(spec: Spec, node: Any, depth: int = 0) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: local $refs inlined (past 20 levels of a
    recursive schema, anything goes), ``nullable`` as ``anyOf [..., null]`` (also
    around ``allOf: [$ref]``, the spelling the normalizers use)."""
    if isinstance(node, list):
        return [json_schema(spec, item, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return {} if depth > 20 else json_schema(spec, resolve(spec, node), depth + 1)
    out = {k: json_schema(spec, v, depth) for k, v in node.items() if k != "nullable"}
    if isinstance(node.get("properties"), dict):
        out["properties"] = {k: json_schema(spec, v, depth) for k, v in node["properties"].items()}
    return {"anyOf": [out, {"type": "null"}]} if node.get("nullable") else out


def _validator(spec: Spec, schema: Any) -> Draft7Validator:
    return Draft7Validator(json_schema(spec, schema), format_checker=Draft7Validator.FORMAT_CHECKER)


def _examples(spec: Spec) -> Iterator[tuple[str, str, Any, Any]]:
    """(where, example name, value, schema) of every example in spec."""
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        for ref in op.get("parameters") or []:
            param = resolve(spec, ref)
            if "example" in param and "schema" in param:
                label = f"{where} parameter {param['name']}"
                yield label, "example", param["example"], param["schema"]
        for status, response in (op.get("responses") or {}).items():
            for media in (resolve(spec, response).get("content") or {}).values():
                schema = media.get("schema")
                if schema is None:
                    continue
                if "example" in media:
                    yield f"{where} {status}", "example", media["example"], schema
                for name, ref in (media.get("examples") or {}).items():
                    example = resolve(spec, ref)
                    if "value" in example:
                        yield f"{where} {status}", name, example["value"], schema
    for name, body in spec.get("components", {}).get("schemas", {}).items():
        for field, value in (body.get("properties") or {}).items():
            if isinstance(value, dict) and "example" in value:
                yield f"{name}.{field}", "example", value["example"], value


def examples(provider: Provider, spec: Spec) -> list[Problem]:
    """Every example in the spec the generator read, against its schema."""
    problems = []
    for where, name, value, schema in _examples(spec):
        errors = sorted(_validator(spec, schema).iter_errors(value), key=lambda e: list(e.path))
        if not errors:
            continue
        error = errors[0]
        at = ".".join(str(p) for p in error.path)
        file, line = _example_origin(provider, name, where)
        problems.append(
            Problem(
                file,
                f"{provider.name}: example {name!r} of {where} does not match its schema"
                f"{f' at {at}' if at else ''}: {error.message[:160]}",
                "update the example, or the schema if the example shows the real answer",
                line,
            )
        )
    return problems


def _example_origin(provider: Provider, name: str, where: str) -> tuple[Path, int | None]:
    """The file (and line) an example comes from: the hand-written spec, the upstream
    snapshot, or a normalizer's data file (scripts/codegen/<p>_patch.yaml)."""
    candidates = [source_file(provider)]
    candidates += sorted((ROOT / "scripts" / "codegen").glob(f"{provider.name}_*.yaml"))
    key = f"{name}:" if name != "example" else f"{where.rsplit('.', 1)[-1]}:"
    for candidate in candidates:
        line = line_of(candidate, key)
        if line is not None:
            return candidate, line
    return source_file(provider), None


# -- what a build would ship ----------------------------------------------------------------


def build(pyproject: str, generated: Path) -> list[Problem]:
    """Files that a wheel built from this tree would leave out."""
    config = tomllib.loads(pyproject).get("tool", {}).get("setuptools", {})
    packages = set(config.get("packages", []))
    package_data: dict[str, list[str]] = config.get("package-data", {})
    pyproject_file = ROOT / "pyproject.toml"
    problems = []
    # every folder pyproject's package-dir maps to a package (overlays/ -> creditwatch,
    # generated/ -> creditwatch._generated, generated/_public/<p> -> creditwatch.<p>);
    # a file belongs to the deepest of them
    mapped = [
        (_mapped_folder(folder, generated), name)
        for name, folder in config.get("package-dir", {}).items()
    ]
    mapped.sort(key=lambda item: len(item[0].parts), reverse=True)
    for folder, root_name in mapped:
        deeper = [f for f, _ in mapped if f != folder and f.is_relative_to(folder)]
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.name in NOT_SHIPPED:
                continue
            if any(path.is_relative_to(f) for f in deeper):
                continue
            relative = path.relative_to(folder)
            shown = _shown(folder, generated) / relative
            package = ".".join((root_name, *relative.parent.parts))
            if path.suffix == ".py":
                if package not in packages:
                    problems.append(_unpackaged(shown, package, path, pyproject_file))
                continue
            owner, pattern_base = _data_owner(root_name, relative, packages)
            globs = package_data.get(owner, [])
            if not any(fnmatch.fnmatch(pattern_base, g) for g in globs):
                problems.append(
                    Problem(
                        pyproject_file,
                        f"{shown.as_posix()} is not in package-data: the wheel would lack it",
                        f'add "{pattern_base}" to package-data."{owner}"',
                        line_of(pyproject_file, "package-data"),
                    )
                )
    return problems


def _mapped_folder(folder: str, generated: Path) -> Path:
    """A package-dir folder of pyproject.toml, with ``generated/`` read from ``generated``
    (the fresh output, before it replaces generated/)."""
    parts = Path(folder).parts
    return generated.joinpath(*parts[1:]) if parts[:1] == ("generated",) else ROOT / folder


def _shown(folder: Path, generated: Path) -> Path:
    """``folder`` as the maintainer knows it (relative to the repository)."""
    if folder.is_relative_to(generated):
        return Path("generated") / folder.relative_to(generated)
    return folder.relative_to(ROOT)


def _unpackaged(shown: Path, package: str, path: Path, pyproject_file: Path) -> Problem:
    if not (path.parent / "__init__.py").exists():
        return Problem(
            shown.parent / "__init__.py",
            f"{shown.as_posix()} is in a folder without __init__.py: the wheel would lack it",
            "add an __init__.py (generate.py then lists the package in pyproject.toml)",
        )
    return Problem(
        pyproject_file,
        f"package {package} ({shown.parent.as_posix()}/) is not in the packages list: the wheel "
        "would lack it",
        "run `python scripts/generate.py`, which writes the list",
        line_of(pyproject_file, "packages = ["),
    )


def _data_owner(root_name: str, relative: Path, packages: set[str]) -> tuple[str, str]:
    """(the package whose package-data would match this file, the file's path relative
    to it): the deepest listed package containing it."""
    parts = relative.parent.parts
    for depth in range(len(parts), -1, -1):
        name = ".".join((root_name, *parts[:depth]))
        if name in packages or depth == 0:
            return name, Path(*relative.parts[depth:]).as_posix()
    return root_name, relative.as_posix()
