"""Snapshots taken from a provider's git repository (specs/upstream/P.source.json with
``repo``, ``path`` and ``commit``) are the recorded file, byte for byte.

The sidecar has the fields `scripts/snapshot.py` writes plus where the file was read
(``git show COMMIT:PATH`` in ``repo``); ``companions`` lists files read from the same
commit beside it (ElevenLabs publishes its servers in a separate overrides file). The
snapshot is ``specs/upstream/<provider><suffix of path>``. Every such sidecar is
checked; no provider is named here.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import SPECS

UPSTREAM = SPECS / "upstream"
SIDECARS = sorted(
    path
    for path in UPSTREAM.glob("*.source.json")
    if "commit" in json.loads(path.read_text(encoding="utf-8"))
)


def check_file(path: Path, record: dict[str, Any]) -> None:
    content = path.read_bytes()
    assert len(content) == record["bytes"], path.name
    assert hashlib.sha256(content).hexdigest() == record["sha256"], path.name


def test_there_are_repository_snapshots() -> None:
    assert SIDECARS, "no sidecar records a repository commit: update this test"


@pytest.mark.parametrize("sidecar", SIDECARS, ids=lambda path: path.name)
def test_the_snapshot_is_the_recorded_commit_file(sidecar: Path) -> None:
    record = json.loads(sidecar.read_text(encoding="utf-8"))
    provider, repo, path, commit = (record[k] for k in ("provider", "repo", "path", "commit"))
    assert sidecar.name == f"{provider}.source.json"
    assert re.fullmatch(r"[0-9a-f]{40}", commit), "a full commit id, not a branch or prefix"
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", repo)
    assert record["source_url"] == f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"
    check_file(UPSTREAM / f"{provider}{Path(path).suffix}", record)
    for companion in record.get("companions", []):
        assert companion["snapshot"].startswith(f"{provider}.")
        assert companion["source_url"] == (
            f"https://raw.githubusercontent.com/{repo}/{commit}/{companion['path']}"
        )
        check_file(UPSTREAM / companion["snapshot"], companion)
