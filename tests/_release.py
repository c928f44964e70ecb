"""Shared by the release tests (test_snapshot, test_spec_watch): a temporary copy of
the repository, scripts run inside it, and docs pages built from the snapshots.

The scripts find the repository from their own location, so running the copy's
scripts only ever touches the copy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

COPIED = (
    "specs", "scripts", "generated", "overlays", "pyproject.toml", "README.md", "CHANGELOG.md",
)  # fmt: skip
UPSTREAM = ROOT / "specs" / "upstream"
DOCS_ONLY = ("exorde", "easyslip", "llmgenerator")
OPENAPI = ("flamel", "generect")


def copy_repo(dest: Path) -> Path:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def run_script(
    root: Path, script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / script), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
    )


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
    snapshot = UPSTREAM / (f"{provider}.yaml" if provider in OPENAPI else f"{provider}.docs.txt")
    text = snapshot.read_bytes().decode("utf-8")
    return openapi_page(text) if provider in OPENAPI else text


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
