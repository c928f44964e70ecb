"""scripts/snapshot.py (issue #9): fetching a provider's published document over a
real loopback server, writing the snapshot byte for byte with its sidecar, reporting
a changed docs page of a hand-written spec with its diff, and failing cleanly.

The command-line runs use a temporary copy of the repository (tests/_release.py);
each failure case checks that specs/ and generated/ stay byte-identical.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from _faults import FaultServer, Reply, drop_reply, redirect_reply
from _release import (
    DOCS_ONLY,
    UPSTREAM,
    flamel_with_a_field_swapped,
    openapi_page,
    published_page,
)
from _repo import copy_repo, run_script, tree_hash
from codegen.providers import PROVIDERS
from snapshot import SnapshotError, extract, normalize_text, page_text, source_url

MARKDOWN = {"Content-Type": "text/markdown; charset=utf-8"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy for the tests that must leave it unchanged (each checks that)."""
    return copy_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def page(text: str, headers: dict[str, str] = MARKDOWN) -> Reply:
    return Reply(200, text.encode("utf-8"), headers)


# -- extraction -------------------------------------------------------------------------


def test_extract_takes_the_fenced_block_unchanged() -> None:
    document = "openapi: 3.0.0\ninfo:\n  title: 'x'   # spacing kept\n"
    assert extract(openapi_page(document)) == document


def test_extract_without_a_block_fails() -> None:
    with pytest.raises(SnapshotError, match="no ````yaml"):
        extract("# Get My Info\n\n```yaml\nopenapi: 3.0.0\n```\n")


def test_page_text_of_html_keeps_the_main_content() -> None:
    html = """<!doctype html><html><head><title>t</title><style>p{}</style></head><body>
    <nav><a href="/">Home</a> <a href="/x">Other page</a></nav>
    <main><h1>Get user info</h1><p>Returns   user
    information.</p><ul><li>200</li><li>401</li></ul>
    <pre>{
  "user": 1
}</pre><script>track()</script></main>
    <footer>Copyright</footer></body></html>"""
    assert page_text(html, "text/html; charset=utf-8") == (
        'Get user info\n\nReturns user information.\n\n200\n\n401\n\n{\n  "user": 1\n}\n'
    )


def test_page_text_of_html_without_main_drops_navigation_only() -> None:
    html = "<html><body><nav>Menu</nav><div>GET /me</div><div>Quota</div></body></html>"
    assert page_text(html, "text/html") == "GET /me\n\nQuota\n"


def test_page_text_of_plain_text_only_tidies_whitespace() -> None:
    assert normalize_text("a  \r\n\n\n\n  b\n\n") == "a\n\n  b\n"
    assert page_text("GET /me\n") == "GET /me\n"


def test_source_url_override_order(monkeypatch: pytest.MonkeyPatch) -> None:
    (flamel,) = [p for p in PROVIDERS if p.name == "flamel"]
    assert source_url(flamel).startswith("https://")
    monkeypatch.setenv("CREDITWATCH_SOURCE_FLAMEL", "https://mirror.example.test/f.md")
    assert source_url(flamel) == "https://mirror.example.test/f.md"
    assert source_url(flamel, "http://127.0.0.1:1/f.md") == "http://127.0.0.1:1/f.md"


@pytest.mark.parametrize("provider", [p.name for p in PROVIDERS])
def test_every_provider_has_a_published_https_source_and_a_snapshot(provider: str) -> None:
    (p,) = [p for p in PROVIDERS if p.name == provider]
    assert p.source.startswith("https://") and p.title
    assert p.snapshot.is_file() and p.sidecar.is_file()
    sidecar = json.loads(p.sidecar.read_text(encoding="utf-8"))
    assert sidecar["source_url"] == p.source
    assert sidecar["sha256"] == hashlib.sha256(p.snapshot.read_bytes()).hexdigest()


# -- fetching (command line, temporary copy) ---------------------------------------------


def test_fetch_writes_the_block_byte_for_byte_and_a_sidecar(
    tmp_path: Path, server: FaultServer
) -> None:
    repo = copy_repo(tmp_path)
    document = flamel_with_a_field_swapped()
    server.script_path("/flamel.md", page(openapi_page(document)))
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    result = run_script(repo, "snapshot.py", "flamel", "--url", server.url("/flamel.md"))

    assert result.returncode == 0, result.stderr
    assert "flamel: new upstream OpenAPI in specs/upstream/flamel.yaml" in result.stdout
    written = (repo / "specs/upstream/flamel.yaml").read_bytes()
    assert written == document.encode("utf-8")
    sidecar = json.loads((repo / "specs/upstream/flamel.source.json").read_text())
    assert sidecar["source_url"] == server.url("/flamel.md")
    assert sidecar["sha256"] == hashlib.sha256(written).hexdigest()
    assert sidecar["bytes"] == len(written)
    fetched = datetime.datetime.fromisoformat(sidecar["fetched_at"])
    assert before <= fetched <= datetime.datetime.now(datetime.UTC)
    (request,) = server.requests
    assert request.method == "GET" and request.path == "/flamel.md"


def test_unchanged_document_writes_nothing(repo: Path, server: FaultServer) -> None:
    server.script_path("/generect.md", page(published_page("generect")))
    before = tree_hash(repo)

    result = run_script(repo, "snapshot.py", "generect", "--url", server.url("/generect.md"))

    assert result.returncode == 0, result.stderr
    assert result.stdout == "generect: unchanged\n"
    assert tree_hash(repo) == before  # not even the sidecar's fetch time


def test_env_var_overrides_the_source(repo: Path, server: FaultServer) -> None:
    server.script_path("/g", page(published_page("generect")))
    env = {**os.environ, "CREDITWATCH_SOURCE_GENERECT": server.url("/g")}
    result = run_script(repo, "snapshot.py", "generect", env=env)
    assert result.returncode == 0, result.stderr
    assert [r.path for r in server.requests] == ["/g"]


def test_a_docs_page_change_is_reported_with_its_diff(tmp_path: Path, server: FaultServer) -> None:
    repo = copy_repo(tmp_path)
    old = published_page("exorde")
    assert "Cost: 0 credit per call." in old
    new = old.replace("Cost: 0 credit per call.", "Cost: 2 credits per call.")
    server.script_path("/exorde", page(new))

    result = run_script(repo, "snapshot.py", "exorde", "--url", server.url("/exorde"))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "the docs page of Exorde changed since the hand-written spec was last reviewed"
    )
    assert "--- specs/upstream/exorde.docs.txt (reviewed)" in lines
    assert f"+++ {server.url('/exorde')}" in lines
    assert "-Cost: 0 credit per call." in lines
    assert "+Cost: 2 credits per call." in lines
    assert sum(line.startswith(("-", "+")) for line in lines) == 4  # 2 headers, 2 lines
    assert (repo / "specs/upstream/exorde.docs.txt").read_text(encoding="utf-8") == new
    assert (repo / "specs/exorde.yaml").read_bytes() == (
        UPSTREAM.parent / "exorde.yaml"
    ).read_bytes()


@pytest.mark.parametrize("provider", DOCS_ONLY)
def test_an_unchanged_docs_page_reports_nothing(
    repo: Path, server: FaultServer, provider: str
) -> None:
    server.script_path("/p", page(published_page(provider), {"Content-Type": "text/plain"}))
    before = tree_hash(repo)
    result = run_script(repo, "snapshot.py", provider, "--url", server.url("/p"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{provider}: unchanged\n"
    assert tree_hash(repo) == before


# -- failures: status 1, one line, nothing written -----------------------------------------


def _invalid_openapi() -> str:
    document = yaml.safe_load((UPSTREAM / "flamel.yaml").read_text(encoding="utf-8"))
    del document["info"]
    return yaml.safe_dump(document)


FAILURES = {
    "HTTP 404": (Reply(404, b"not found"), "answered HTTP 404"),
    "connection dropped": (drop_reply(), "cannot fetch"),
    "no OpenAPI block": (page("# Get My Info\n\nMoved to the new docs.\n"), "no ````yaml"),
    "not YAML": (page(openapi_page("openapi: [3.0\n  info: {\n")), "is not YAML"),
    "not OpenAPI": (page(openapi_page("title: a page\n")), "is not an OpenAPI document"),
    "invalid OpenAPI": (page(openapi_page(_invalid_openapi())), "is not valid"),
    "redirect to plain http": (
        redirect_reply("http://docs.example.test/flamel.md"),
        "sources must be https://",
    ),
}


@pytest.mark.parametrize("case", FAILURES)
def test_failures_exit_1_with_one_line_and_write_nothing(
    repo: Path, server: FaultServer, case: str
) -> None:
    reply, message = FAILURES[case]
    server.script_path("/flamel.md", reply)
    before = tree_hash(repo)

    result = run_script(repo, "snapshot.py", "flamel", "--url", server.url("/flamel.md"))

    assert result.returncode == 1
    assert result.stdout == ""
    line, hint = result.stderr.splitlines()  # `error: <file>: <what>`, then a hint
    assert line.startswith("error: specs/upstream/flamel.yaml: flamel: ") and message in line
    assert hint.startswith("  hint: ") and "Traceback" not in result.stderr
    assert tree_hash(repo) == before


def test_a_plain_http_source_is_refused_before_any_request(repo: Path) -> None:
    before = tree_hash(repo)
    result = run_script(repo, "snapshot.py", "flamel", "--url", "http://docs.example.test/f.md")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: specs/upstream/flamel.yaml: flamel: refusing http://docs.example.test/f.md: "
        "sources must be https:// (http:// only on loopback)",
        "  hint: use the https:// address of the page",
    ]
    assert tree_hash(repo) == before


def test_an_empty_docs_page_fails(repo: Path, server: FaultServer) -> None:
    server.script_path("/e", page("<html><body><nav>Menu</nav></body></html>", {}))
    before = tree_hash(repo)
    result = run_script(repo, "snapshot.py", "exorde", "--url", server.url("/e"))
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: specs/upstream/exorde.docs.txt: exorde: no text in the docs page"
    )
    assert tree_hash(repo) == before
