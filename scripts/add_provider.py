"""Start a provider from its published OpenAPI spec: no Python to write.

    python scripts/add_provider.py NAME --spec PATH_OR_URL --operation OPID [--operation ...]
        [--title TITLE] [--repo OWNER/NAME --path PATH --commit SHA] [--force]

1. snapshots the spec byte for byte into ``specs/upstream/NAME.<ext>``, with the
   sidecar ``specs/upstream/NAME.source.json`` that scripts/snapshot.py writes (source
   URL, fetch time, sha256, size; and repo, path, commit when given);
2. writes the declaration skeleton ``specs/providers/NAME.yaml``: the upstream file,
   the chosen operations (the generic subsetting step keeps them and what they reach,
   nothing else), the credential guessed from the spec's security scheme, and a
   balance mapping whose open items (``TODO ...``) `scripts/generate.py` reports, one
   line each, until they are filled in.

Then: fill in the open items, run ``python scripts/generate.py``, reinstall. The
provider is discovered from specs/providers/ (nothing else lists it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from codegen.declaration import NAME, OPEN, ROOT
from codegen.subset import SubsetError, find_operation

UPSTREAM = ROOT / "specs" / "upstream"
DECLARATIONS = ROOT / "specs" / "providers"


def read_spec(source: str) -> tuple[bytes, str | None]:
    """(the spec's bytes, the time it was fetched: None for a local file)."""
    if re.match(r"https?://", source):
        from snapshot import fetch  # noqa: PLC0415 - https only, http on loopback

        body, _ = fetch(source)
        return body.encode("utf-8"), datetime.now(UTC).replace(microsecond=0).isoformat()
    return Path(source).read_bytes(), None


def sidecar(name: str, source: str, content: bytes, fetched_at: str | None, args: Any) -> str:
    record: dict[str, object] = {
        "provider": name,
        "source_url": source,
        "fetched_at": fetched_at,
        "sha256": hashlib.sha256(content).hexdigest(),
        "bytes": len(content),
        "content": "the published OpenAPI document, byte for byte",
    }
    if fetched_at is None:
        record["from_file"] = Path(source).name
    for key in ("repo", "path", "commit"):
        if getattr(args, key):
            record[key] = getattr(args, key)
    return json.dumps(record, indent=2) + "\n"


def _credential(spec: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """The credential as the chosen operations' security scheme sends it."""
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for op in operations:
        for requirement in op.get("security", spec.get("security")) or []:
            for scheme_name in requirement:
                scheme = schemes.get(scheme_name, {})
                if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer":
                    return {"argument": "api_key", "send": "bearer"}
                if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                    return {"argument": "api_key", "send": {"header": scheme["name"]}}
    return {"argument": "api_key", "send": f"{OPEN}: bearer, {{scheme: WORD}} or {{header: NAME}}"}


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node


def _schema_of(spec: dict[str, Any], response: Any) -> tuple[str, dict[str, Any]]:
    """(schema name, schema) of a response's JSON body ("" and {} without one)."""
    media = _resolve(spec, response).get("content", {}).get("application/json", {})
    ref = media.get("schema", {}).get("$ref", "") if isinstance(media, dict) else ""
    return ref.rsplit("/", 1)[-1], _resolve(spec, media.get("schema", {}))


def _hints(spec: dict[str, Any], op: dict[str, Any]) -> list[str]:
    """Comment lines: the success body's fields (what the paths name) and the error
    bodies' schemas (for `errors:`)."""
    lines = []
    errors: dict[str, tuple[list[str], str]] = {}
    for status, response in op.get("responses", {}).items():
        name, schema = _schema_of(spec, response)
        fields = ", ".join(
            f"{k} ({v.get('type', 'object') if isinstance(v, dict) else '?'})"
            for k, v in (schema.get("properties") or {}).items()
        )
        if str(status).startswith("2") and fields:
            lines.append(f"# {status} body {name or '(inline)'}: {fields}")
        elif str(status)[:1] in "45" and name:
            errors.setdefault(name, ([], fields))[0].append(str(status))
    for name, (statuses, fields) in errors.items():
        lines.append(f"# {', '.join(statuses)} error body: schema {name} ({fields}); see errors:")
    return lines


def skeleton(
    title: str, upstream: str, source: str, spec: dict[str, Any], selection: list[str]
) -> str:
    operations = []
    for selector in selection:
        path, method = find_operation(spec, selector)
        operations.append(spec["paths"][path][method])
    first = operations[0].get("operationId", "")
    method = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", first).lower().replace("-", "_")
    declaration = {
        "title": title,
        "spec": {"source": source, "upstream": upstream, "operations": selection},
        "credentials": [_credential(spec, operations)],
        "balance": {
            "calls": [method],
            "remaining": f"{OPEN}: field path, or a + b - c, of the credits left",
            "limit": f"{OPEN}: field path of the limit (delete the key if there is none)",
            "unit": "credits",
        },
    }
    header = (
        f"# {title}: everything creditwatch needs beyond its spec (written by\n"
        f"# scripts/add_provider.py; see CONTRIBUTING.md, 'Adding a provider').\n"
        f"# scripts/generate.py reports each {OPEN} until it is filled in. Field paths use\n"
        f"# the spec's names, dots for nesting. What {first} answers:\n"
    )
    header += "".join(line + "\n" for line in _hints(spec, operations[0]))
    return header + yaml.safe_dump(declaration, sort_keys=False, allow_unicode=True, width=100)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("name", help="module name: creditwatch.NAME, NAME_API_KEY")
    parser.add_argument("--spec", required=True, help="the published OpenAPI (path or URL)")
    parser.add_argument(
        "--operation", action="append", required=True, help="operationId or 'GET /path'"
    )
    parser.add_argument("--title", help="display name (default: NAME capitalised)")
    parser.add_argument("--source", help="the URL to record (default: --spec)")
    parser.add_argument("--repo", help="GitHub owner/name the spec comes from")
    parser.add_argument("--path", help="the spec's path in that repository")
    parser.add_argument("--commit", help="the commit it was read at")
    parser.add_argument("--force", action="store_true", help="overwrite an existing provider")
    args = parser.parse_args(argv)
    name = args.name
    if not NAME.fullmatch(name):
        parser.error(f"{name!r}: a provider name is [a-z][a-z0-9]*")
    declaration = DECLARATIONS / f"{name}.yaml"
    if declaration.exists() and not args.force:
        parser.error(f"{declaration.relative_to(ROOT)} exists (--force to overwrite)")
    content, fetched_at = read_spec(args.spec)
    try:
        spec = yaml.safe_load(content)
        assert isinstance(spec, dict)
    except (yaml.YAMLError, AssertionError):
        parser.error(f"{args.spec}: not a JSON or YAML OpenAPI document")
    suffix = ".json" if content.lstrip()[:1] == b"{" else ".yaml"
    snapshot = UPSTREAM / f"{name}{suffix}"
    source = args.source or (args.spec if fetched_at else Path(args.spec).resolve().as_uri())
    try:
        text = skeleton(
            args.title or name.capitalize(),
            snapshot.relative_to(ROOT).as_posix(),
            source,
            spec,
            args.operation,
        )
    except SubsetError as exc:
        parser.error(str(exc))
    UPSTREAM.mkdir(parents=True, exist_ok=True)
    DECLARATIONS.mkdir(parents=True, exist_ok=True)
    snapshot.write_bytes(content)
    (UPSTREAM / f"{name}.source.json").write_text(
        sidecar(name, source, content, fetched_at, args), encoding="utf-8"
    )
    declaration.write_text(text, encoding="utf-8")
    for path in (snapshot, UPSTREAM / f"{name}.source.json", declaration):
        print(f"wrote {path.relative_to(ROOT)}")
    print("next: fill in the TODO items, then run `python scripts/generate.py`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
