"""scripts/spec_watch.py and `scripts/generate.py --release` end to end (issue #9).

A loopback server plays the five providers' docs sites. In a temporary copy of the
repository, the watch fetches a Flamel page with one field removed and one added,
regenerates, names the removed field as breaking and the added one as an addition,
suggests the version, and with --release writes CHANGELOG.md and the version, which
the wheel built from the copy then carries. A second run finds nothing. A fetch
failure or a broken document leaves specs/ and generated/ byte-identical.

The end-to-end test takes 13-23 s on the 2-core reference machine, depending on its
load (a regeneration of all five providers, two `--check` runs, a wheel built without
isolation); the whole file 35-45 s.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import creditwatch
import pytest
import yaml

from _faults import FaultServer, Reply
from _release import (
    UPSTREAM,
    as_released,
    examples_with_a_nickname,
    flamel_with_a_field_swapped,
    openapi_page,
    published_page,
)
from _repo import copy_repo, run_script, tree_hash
from conftest import PROVIDERS, ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "spec-watch.yml"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """Every provider's page as published when the snapshots were taken."""
    with FaultServer() as running:
        for provider in PROVIDERS:
            running.script_path(f"/{provider}", Reply(200, published_page(provider).encode()))
        yield running


def sources(server: FaultServer) -> list[str]:
    return [arg for p in PROVIDERS for arg in ("--source", f"{p}={server.url('/' + p)}")]


def outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def watch(
    repo: Path, server: FaultServer, *args: str, github_output: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("GITHUB_OUTPUT", None)
    if github_output is not None:
        env["GITHUB_OUTPUT"] = str(github_output)
    return run_script(repo, "spec_watch.py", *sources(server), *args, env=env)


def test_a_changed_flamel_page_becomes_a_release(tmp_path: Path, server: FaultServer) -> None:
    repo = as_released(copy_repo(tmp_path / "repo"))
    examples_with_a_nickname(repo)
    document = flamel_with_a_field_swapped()
    server.script_path("/flamel", Reply(200, openapi_page(document).encode()))
    body_file, output = tmp_path / "body.md", tmp_path / "github_output"
    check = f"{sys.executable} scripts/generate.py --check"
    started = datetime.datetime.now(datetime.UTC).date()  # the run may cross midnight

    result = watch(
        repo,
        server,
        "--release",
        "--body",
        str(body_file),
        "--test-command",
        check,
        github_output=output,
    )

    assert result.returncode == 0, result.stderr
    body = body_file.read_text(encoding="utf-8")
    rows = [line for line in body.splitlines() if line.startswith("| ") and "flamel" in line]
    assert rows == [
        "| **BREAKING** | flamel | `AuthUserDto.occupation`: response field removed "
        "(was string, required) |",
        "| addition | flamel | `AuthUserDto.nickname`: response field added (string, required) |",
        "| docs | flamel | `GET /api/users/me 200 response`: documentation changed (examples) |",
    ]
    suggested = re.search(r"\*\*Suggested version: (\S+)\*\* \(from 0\.1\.0; minor: (.*)", body)
    assert suggested is not None, body
    assert suggested[1] == "0.2.0"
    assert "while the version is 0.x" in suggested[2]
    assert "### Tests: passed" in body  # generate.py --check: the output is up to date
    assert "- flamel: `specs/upstream/flamel.yaml` changed" in body
    assert "- generect: `specs/upstream/generect.yaml` unchanged" in body
    assert "Docs pages" not in body  # the other pages did not change
    assert outputs(output) == {
        "changed": "true",
        "title": "Provider spec changes: version 0.2.0 (breaking)",
    }

    # The snapshot is the served block, byte for byte, and says where it came from.
    assert (repo / "specs/upstream/flamel.yaml").read_bytes() == document.encode()
    assert server.url("/flamel") in (repo / "specs/upstream/flamel.source.json").read_text()
    # Regenerated: the normalized spec and the model follow.
    model = (repo / "generated/flamel/models/auth_user_dto.py").read_text(encoding="utf-8")
    assert "nickname: str" in model and "occupation" not in model
    # Released: version, changelog entry, baseline.
    assert '__version__ = "0.2.0"' in (repo / "overlays/_version.py").read_text()
    changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    # The release is dated the day it ran (UTC): the day it started or, past
    # midnight, the one it finished.
    dates = {started, datetime.datetime.now(datetime.UTC).date()}
    (dated,) = [d for d in dates if f"## [0.2.0] - {d.isoformat()}\n" in changelog]
    head = f"## [0.2.0] - {dated.isoformat()}\n"
    entry = changelog.split(head, 1)[1].split("\n## [0.1.0]", 1)[0]
    assert entry.strip() == (
        "### Flamel\n\n#### Added\n\n"
        "- `AuthUserDto.nickname`: response field added (string, required)\n\n"
        "#### Changed\n\n"
        "- `GET /api/users/me 200 response`: documentation changed (examples)\n\n"
        "#### Removed\n\n"
        "- **Breaking:** `AuthUserDto.occupation`: response field removed (was string, required)"
    )
    assert changelog.index("## [Unreleased]") < changelog.index("## [0.2.0]")
    released = repo / "specs/released/flamel.yaml"
    assert released.read_bytes() == (repo / "specs/flamel.yaml").read_bytes()

    # The wheel built from the copy carries the new version.
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(tmp_path / "dist")],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name == "creditwatch-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        assert "\nVersion: 0.2.0\n" in archive.read(metadata).decode()

    # Run again: nothing new upstream, nothing unreleased: no file changes, no PR.
    before = tree_hash(repo)
    again = watch(repo, server, "--release", github_output=output)
    assert again.returncode == 0, again.stderr
    assert "No spec changes since the release of 0.2.0." in again.stdout
    assert tree_hash(repo) == before
    assert outputs(output)["changed"] == "false"


def test_a_docs_only_page_change_is_in_the_body(tmp_path: Path, server: FaultServer) -> None:
    repo = as_released(copy_repo(tmp_path))
    page = published_page("easyslip")
    assert "currentCredit: number;" in page
    changed = page.replace("currentCredit: number;", "currentCredit: number;\nbonusCredit: number;")
    server.script_path("/easyslip", Reply(200, changed.encode()))

    result = watch(repo, server)

    assert result.returncode == 0, result.stderr
    body = result.stdout.split("## Provider spec watch", 1)[1]
    assert (
        "The docs page of EasySlip changed since the hand-written spec was last reviewed "
        "(specs/easyslip.yaml)"
    ) in body
    diff = body.split("```diff\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert [line for line in diff if line.startswith(("+", "-"))] == [
        "--- specs/upstream/easyslip.docs.txt (reviewed)",
        f"+++ {server.url('/easyslip')}",
        "+bonusCredit: number;",
    ]
    assert "No spec changes since the release of 0.1.0." in body
    assert '__version__ = "0.1.0"' in (repo / "overlays/_version.py").read_text()


@pytest.mark.parametrize(
    "broken",
    ["generect answers 503", "flamel page has no OpenAPI block", "flamel document invalid"],
)
def test_a_failure_anywhere_writes_nothing(
    tmp_path: Path, server: FaultServer, broken: str
) -> None:
    repo = as_released(copy_repo(tmp_path))
    # A real change at Flamel that would otherwise be written...
    server.script_path("/flamel", Reply(200, openapi_page(flamel_with_a_field_swapped()).encode()))
    if broken.startswith("generect"):  # ...and one provider that fails
        server.script_path("/generect", Reply(503, b"Service Unavailable"))
        expected = "error: specs/upstream/generect.yaml: generect: fetching"
    elif "no OpenAPI" in broken:
        server.script_path("/flamel", Reply(200, b"# Get My Info\n\nSee the new docs.\n"))
        expected = "error: specs/upstream/flamel.yaml: flamel: no ````yaml"
    else:
        document: dict[str, Any] = yaml.safe_load(flamel_with_a_field_swapped())
        document["paths"]["/api/users/me"]["get"]["responses"] = "none"
        server.script_path("/flamel", Reply(200, openapi_page(yaml.safe_dump(document)).encode()))
        expected = "error: specs/upstream/flamel.yaml: flamel: the OpenAPI document of"
    before, changelog = tree_hash(repo), (repo / "CHANGELOG.md").read_bytes()

    result = watch(repo, server, "--release")

    assert result.returncode == 1
    line, hint = result.stderr.splitlines()
    assert line.startswith(expected), line
    assert hint.startswith("  hint: ")
    assert tree_hash(repo) == before  # specs/, generated/, pyproject.toml
    assert (repo / "CHANGELOG.md").read_bytes() == changelog


def test_a_document_the_normalizer_cannot_fix_is_reported(
    tmp_path: Path, server: FaultServer
) -> None:
    """Valid OpenAPI, but a field a normalizer step fixes is gone: the snapshot is
    written (it is what Flamel publishes), generation fails loudly, nothing is
    released, and the body says what failed so that a person updates the step."""
    repo = as_released(copy_repo(tmp_path))
    text = (UPSTREAM / "flamel.yaml").read_bytes().decode("utf-8")
    gone = (
        "        profileImage:\n          type: string\n          description: 프로필이미지 주소\n"
    )
    assert text.count(gone) == 1
    document = text.replace(gone, "").replace("        - profileImage\n", "")
    server.script_path("/flamel", Reply(200, openapi_page(document).encode()))
    before = tree_hash(repo)

    result = watch(repo, server, "--release", github_output=tmp_path / "out")

    assert result.returncode == 0, result.stderr
    assert outputs(tmp_path / "out") == {
        "changed": "true",
        "title": "Provider spec changes (regeneration failed)",
    }
    body = result.stdout.split("## Provider spec watch", 1)[1]
    assert "### Regeneration failed (exit 1)" in body
    assert "property AuthUserDto.profileImage not found" in body
    assert "No spec changes since the release of 0.1.0." in body
    snapshot = repo / "specs/upstream/flamel.yaml"
    assert snapshot.read_bytes() == document.encode()
    for name in ("flamel.yaml", "flamel.source.json"):  # put the old snapshot back:
        (repo / "specs/upstream" / name).write_bytes((UPSTREAM / name).read_bytes())
    assert tree_hash(repo) == before  # nothing else changed
    assert '__version__ = "0.1.0"' in (repo / "overlays/_version.py").read_text()


def test_generate_prints_the_classes_and_release_applies_them(tmp_path: Path) -> None:
    """A hand-written spec edited in place: generate.py classifies it against the last
    release, --release writes the release and the Unreleased notes move into it."""
    repo = as_released(copy_repo(tmp_path))
    path = repo / "specs" / "easyslip.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["components"]["schemas"]["MeData"]["properties"]["bonusCredit"] = {
        "type": "integer",
        "description": "Credits granted as a bonus.",
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    changelog = repo / "CHANGELOG.md"
    note = "- The CLI prints the plan name in bold."
    changelog.write_text(
        changelog.read_text().replace("## [Unreleased]\n", f"## [Unreleased]\n\n{note}\n")
    )

    first = run_script(repo, "generate.py")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert "spec changes since the release of 0.1.0 (specs/released/):" in lines
    added = "  addition  easyslip: MeData.bonus_credit: response field added (integer, optional)"
    assert added in lines
    assert "suggested version: 0.2.0 (minor: additions, nothing breaking)" in lines
    assert '__version__ = "0.1.0"' in (repo / "overlays/_version.py").read_text()

    released = run_script(repo, "generate.py", "--release")
    assert released.returncode == 0, released.stderr
    assert "released 0.2.0" in released.stdout
    text = changelog.read_text(encoding="utf-8")
    entry = text.split("## [Unreleased]\n\n", 1)[1].split("\n## [0.1.0]", 1)[0]
    assert re.fullmatch(
        r"## \[0\.2\.0\] - \d{4}-\d{2}-\d{2}\n\n"
        + re.escape(note)
        + r"\n\n### EasySlip\n\n#### Added\n\n- `MeData\.bonus_credit`: response field added "
        r"\(integer, optional\)\n",
        entry,
    ), entry


def test_release_cannot_be_combined_with_check() -> None:
    result = run_script(ROOT, "generate.py", "--check", "--release")
    assert result.returncode == 2
    assert "--release regenerates" in result.stderr


def test_the_installed_version_is_the_version_source() -> None:
    """pyproject.toml reads overlays/_version.py: the wheel the tests installed says so."""
    source = (ROOT / "overlays" / "_version.py").read_text(encoding="utf-8")
    (declared,) = re.findall(r'^__version__ = "([^"]+)"$', source, re.M)
    assert importlib.metadata.version("creditwatch") == creditwatch.__version__ == declared
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "creditwatch._version.__version__"}


# -- the workflow -----------------------------------------------------------------------------


def _workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def test_workflow_runs_daily_and_on_demand() -> None:
    triggers = _workflow()[True]  # YAML 1.1 reads the key `on` as True
    (schedule,) = triggers["schedule"]
    assert re.fullmatch(r"\d+ \d+ \* \* \*", schedule["cron"])  # once a day
    assert "workflow_dispatch" in triggers


def test_workflow_runs_the_watch_and_opens_one_pull_request() -> None:
    (job,) = _workflow()["jobs"].values()
    steps = job["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "scripts/spec_watch.py --release" in runs
    assert '--test-command "bash scripts/test.sh"' in runs
    body = re.search(r'--body "\$RUNNER_TEMP/([^"]+)"', runs)
    assert body is not None
    (pr,) = [s for s in steps if s.get("uses", "").startswith("peter-evans/create-pull-request@")]
    assert pr["with"]["branch"] == "spec-watch"  # one fixed branch: one pull request, updated
    assert pr["with"]["body-path"] == "${{ runner.temp }}/" + body[1]
    assert pr["with"]["title"] == "${{ steps.watch.outputs.title }}"
    for path in ("specs", "generated", "overlays/_version.py", "CHANGELOG.md"):
        assert path in pr["with"]["add-paths"].split()


def test_workflow_actions_are_pinned_to_commits() -> None:
    (job,) = _workflow()["jobs"].values()
    uses = [step["uses"] for step in job["steps"] if "uses" in step]
    assert len(uses) == 4
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
    text = WORKFLOW.read_text(encoding="utf-8")
    assert all(re.search(rf"{re.escape(a)}  # v\d+\.\d+\.\d+\n", text) for a in uses)
