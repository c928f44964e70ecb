"""Shared by the release tests (test_snapshot, test_spec_watch): a repository copy
(tests/_repo.py) put in a just-released state, and docs pages built from the
snapshots."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

UPSTREAM = ROOT / "specs" / "upstream"


def _declared() -> dict[str, Path | None]:
    """provider -> its upstream snapshot (None: a hand-written spec reviewed against a
    docs page, specs/upstream/<provider>.docs.txt)."""
    from codegen.providers import PROVIDERS  # noqa: PLC0415

    return {p.name: p.upstream for p in PROVIDERS}


def _from_git(provider: str) -> bool:
    """Whether the snapshot is a file published in a git repository (its sidecar records
    the commit), rather than an OpenAPI block cut from a docs page."""
    sidecar = json.loads((UPSTREAM / f"{provider}.source.json").read_text(encoding="utf-8"))
    return "commit" in sidecar


DOCS_ONLY = tuple(name for name, upstream in _declared().items() if upstream is None)
OPENAPI = tuple(
    name for name, upstream in _declared().items() if upstream is not None and not _from_git(name)
)


def as_released(repo: Path, version: str = "0.1.0") -> Path:
    """The copy as it is right after releasing `version`: that version in
    overlays/_version.py and specs/released/ recording the current specs and client
    methods (both written by the copy's own release code), and a CHANGELOG.md holding
    only that version's entry; so only what a test changes is pending, whatever main
    has not released yet."""
    code = (
        "import sys; sys.path.insert(0, 'scripts'); from codegen import release; "
        "release.write_version(sys.argv[1]); release.record_baseline()"
    )
    subprocess.run([sys.executable, "-c", code, version], cwd=repo, check=True, timeout=120)
    (repo / "CHANGELOG.md").write_text(
        f"# Changelog\n\n## [Unreleased]\n\n## [{version}] - 2026-11-21\n\nA release.\n",
        encoding="utf-8",
    )
    return repo


def openapi_page(document: str, title: str = "Get My Info") -> str:
    """A docs page the way Flamel's and Generect's sites publish one: Markdown with the
    OpenAPI YAML in a four-backtick fence whose info line names the source."""
    return (
        "> ## Documentation Index\n> Fetch the complete documentation index at: "
        f"https://docs.example.test/llms.txt\n\n# {title}\n\n## OpenAPI\n\n"
        f"````yaml https://docs.example.test/api-json get /me\n{document}````\n"
    )


def published_page(provider: str) -> str:
    """The page as it was when the committed snapshot was taken."""
    upstream = _declared()[provider]
    snapshot = upstream or UPSTREAM / f"{provider}.docs.txt"
    text = snapshot.read_bytes().decode("utf-8")
    return openapi_page(text) if provider in OPENAPI else text  # else: the file or page itself


def flamel_with_a_field_swapped() -> str:
    """Flamel's upstream document with `AuthUserDto.occupation` removed and a new
    required field `nickname` added (text edits: every other byte is upstream's)."""
    text = (UPSTREAM / "flamel.yaml").read_bytes().decode("utf-8")
    removed = "        occupation:\n          type: string\n          description: 직업\n"
    assert text.count(removed) == 1, "the Flamel snapshot changed: update this helper"
    text = text.replace(removed, "")
    anchor = "        userId:\n          type: number\n          description: 아이디\n"
    added = "        nickname:\n          type: string\n          description: The display name.\n"
    text = text.replace(anchor, anchor + added, 1)
    required = "        - name\n        - occupation\n"
    assert text.count(required) == 1
    return text.replace(required, "        - name\n        - nickname\n")


def examples_with_a_nickname(repo: Path) -> None:
    """What a maintainer does for `flamel_with_a_field_swapped`: the documented examples
    (scripts/codegen/flamel_patch.yaml) get the new required field, so that they match
    the schema again (scripts/generate.py checks every example)."""
    patch = repo / "scripts" / "codegen" / "flamel_patch.yaml"
    text = patch.read_text(encoding="utf-8")
    assert text.count("      name: Example ") == 2, "flamel_patch.yaml changed: update this helper"
    patch.write_text(
        re.sub(r"(\n      name: Example [^\n]*\n)", r"\1      nickname: example\n", text),
        encoding="utf-8",
    )
