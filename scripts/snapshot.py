"""Snapshot a provider's published document, fetched over HTTPS or read from a file.

    python scripts/snapshot.py flamel              # fetch its docs page (URL: providers.py)
    python scripts/snapshot.py flamel page.txt     # a page already downloaded
    python scripts/snapshot.py exorde              # docs-only provider: the page's text
    python scripts/snapshot.py --all               # every provider
    python scripts/snapshot.py flamel --url URL    # another source (also CREDITWATCH_SOURCE_FLAMEL)

Flamel and Generect publish their OpenAPI YAML inside a documentation page. The YAML
block is copied out of the page unchanged into ``specs/upstream/<provider>.yaml``;
every fix happens later, in the normalizer (``scripts/codegen/``), never in the
snapshot. Exorde, EasySlip and LLMGenerator publish no OpenAPI: their specs are
written by hand from a docs page, so the page's text is kept in
``specs/upstream/<provider>.docs.txt``, and when it changes the script says that the
docs page changed since the hand-written spec was last reviewed, with the text diff
(the snapshot committed with the spec is the page as last reviewed).

Next to each snapshot, ``specs/upstream/<provider>.source.json`` records the source
URL, the fetch time and the content's SHA-256. It is rewritten only when the content
changes, so a run that finds nothing new changes no file.

A network failure, an HTTP error, a page without an OpenAPI block, or a document that
is not valid OpenAPI ends the script with status 1 and two lines, ``error: <snapshot
file>: <what>`` and a hint (``--debug`` adds the traceback); nothing is written.
Sources must be ``https://`` (plain ``http://`` only on loopback, for tests),
redirects included.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import difflib
import hashlib
import ipaddress
import json
import os
import re
import sys
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

import httpx
import yaml
from openapi_spec_validator import validate

sys.path.insert(0, str(Path(__file__).resolve().parent))

from codegen.providers import PROVIDERS, ROOT, Provider
from codegen.report import Problem, run

# The docs pages wrap the document in a ````yaml <source url> ... ```` fence.
_FENCE = re.compile(r"^````yaml[^\n]*\n(?P<body>.*?)^````", re.S | re.M)
TIMEOUT = 30.0
USER_AGENT = "creditwatch-snapshot (+scripts/snapshot.py)"


class SnapshotError(Exception):
    """The document could not be fetched, or is not what the snapshot needs."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


HINT_FETCH = "check the URL and the network; --url or CREDITWATCH_SOURCE_<PROVIDER> sets another"
HINT_PAGE = (
    "the docs page changed its layout, or the URL is not the page: open it, and pass --url "
    "for the right one; nothing was written"
)
HINT_DOCUMENT = (
    "the provider published a broken document: keep the current snapshot (nothing was "
    "written) and try again later, or report it to the provider"
)


def extract(page: str) -> str:
    """The OpenAPI YAML inside a docs page, unchanged."""
    match = _FENCE.search(page)
    if match is None:
        raise SnapshotError("no ````yaml fenced OpenAPI block in the page", HINT_PAGE)
    return match.group("body")


# -- the text of a docs page ------------------------------------------------------------

_SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav", "footer", "aside"}
_BLOCK = {
    "address", "article", "blockquote", "br", "dd", "details", "div", "dl", "dt", "figcaption",
    "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol",
    "p", "pre", "section", "summary", "table", "tr", "ul",
}  # fmt: skip
_VOID = {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "area", "col", "embed"}


class _Text(HTMLParser):
    """The readable text of an HTML page: blocks on their own lines, script, style,
    navigation and footer left out, and only <main> (or <article>) when the page has
    one, so that a changed menu or sidebar does not count as a changed page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.all: list[str] = []
        self.main: list[str] = []
        self.stack: list[str] = []

    def _inside(self, tags: set[str]) -> bool:
        return any(tag in tags for tag in self.stack)

    def _emit(self, text: str) -> None:
        if self._inside(_SKIP):
            return
        self.all.append(text)
        if self._inside({"main", "article"}):
            self.main.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._emit("\n")
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass
        if tag in _BLOCK:
            self._emit("\n")
        elif tag in {"td", "th"}:
            self._emit(" ")

    def handle_data(self, data: str) -> None:
        self._emit(data if self._inside({"pre"}) else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        return "".join(self.main if "".join(self.main).strip() else self.all)


def normalize_text(text: str) -> str:
    """Lines without trailing blanks, at most one empty line in a row, one final newline."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def page_text(body: str, content_type: str = "") -> str:
    """A docs page as text: HTML is reduced to its text, anything else kept as text."""
    html = "html" in content_type or re.match(r"\s*<(!doctype|html)", body, re.I)
    if html:
        parser = _Text()
        parser.feed(body)
        parser.close()
        body = parser.text()
    return normalize_text(body)


# -- fetching ---------------------------------------------------------------------------


def source_url(provider: Provider, override: str | None = None) -> str:
    """The URL to fetch: an explicit one, CREDITWATCH_SOURCE_<PROVIDER>, or the
    provider's published page (scripts/codegen/providers.py)."""
    return (
        override
        or os.environ.get(f"CREDITWATCH_SOURCE_{provider.name.upper()}")
        or (provider.source)
    )


def _check_url(url: httpx.URL) -> None:
    if url.scheme == "https":
        return
    host = url.host
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if url.scheme == "http" and loopback:
        return
    raise SnapshotError(
        f"refusing {url}: sources must be https:// (http:// only on loopback)",
        "use the https:// address of the page",
    )


def fetch(url: str, timeout: float = TIMEOUT) -> tuple[str, str]:
    """(body, content type) of the page at url, following redirects that stay https."""

    def check(request: httpx.Request) -> None:
        _check_url(request.url)

    try:
        with httpx.Client(
            follow_redirects=True,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
            event_hooks={"request": [check]},
        ) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        raise SnapshotError(
            f"cannot fetch {url}: {type(exc).__name__}: {exc}", HINT_FETCH
        ) from None
    if response.status_code != 200:
        raise SnapshotError(f"fetching {url} answered HTTP {response.status_code}", HINT_FETCH)
    try:
        return response.content.decode("utf-8"), response.headers.get("content-type", "")
    except UnicodeDecodeError:
        raise SnapshotError(f"{url} is not UTF-8 text", HINT_PAGE) from None


# -- snapshots --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Snapshot:
    provider: Provider
    source: str  # URL or file name
    content: bytes
    fetched_at: str | None  # None: read from a file downloaded earlier
    previous: bytes | None  # the stored snapshot when this one was taken

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def changed(self) -> bool:
        return self.previous != self.content

    def diff(self) -> str:
        """Unified diff of the stored snapshot and this one (text)."""
        before = (self.previous or b"").decode("utf-8").splitlines()
        after = self.content.decode("utf-8").splitlines()
        name = self.provider.snapshot.relative_to(ROOT).as_posix()
        return "\n".join(
            difflib.unified_diff(before, after, f"{name} (reviewed)", self.source, lineterm="")
        )

    def sidecar(self) -> dict[str, object]:
        record: dict[str, object] = {
            "provider": self.provider.name,
            "source_url": self.source if self.fetched_at else self.provider.source,
            "fetched_at": self.fetched_at,
            "sha256": self.sha256,
            "bytes": len(self.content),
            "content": (
                "the OpenAPI block of the page, byte for byte"
                if self.provider.upstream
                else "the text of the docs page (scripts/snapshot.py page_text)"
            ),
        }
        if self.fetched_at is None:
            record["from_file"] = Path(self.source).name
        return record

    def write(self) -> bool:
        """Write the snapshot and its sidecar if the content changed (or no sidecar
        exists yet); True if anything was written."""
        sidecar = self.provider.sidecar
        path = self.provider.snapshot
        if path.is_file() and path.read_bytes() == self.content and sidecar.is_file():
            return False
        path.write_bytes(self.content)
        sidecar.write_text(json.dumps(self.sidecar(), indent=2) + "\n", encoding="utf-8")
        return True

    def report(self) -> str:
        """What changed, in words (empty when nothing did)."""
        if not self.changed:
            return ""
        name = self.provider.snapshot.relative_to(ROOT).as_posix()
        if self.provider.upstream is not None:
            return (
                f"{self.provider.name}: new upstream OpenAPI in {name} ({len(self.content)} bytes)"
            )
        if self.previous is None:
            return f"{self.provider.name}: first snapshot of the docs page in {name}"
        return (
            f"the docs page of {self.provider.title} changed since the hand-written spec was "
            f"last reviewed (specs/{self.provider.name}.yaml): review the diff, update the "
            f"spec, and commit {name} with it\n{self.diff()}"
        )


def take(provider: Provider, url: str | None = None, page: Path | None = None) -> Snapshot:
    """Fetch (or read) and check a provider's document; nothing is written."""
    try:
        return _take(provider, url, page)
    except SnapshotError as exc:  # one line, whatever the underlying error printed
        raise SnapshotError(" ".join(f"{provider.name}: {exc}".split()), exc.hint) from None


def _take(provider: Provider, url: str | None, page: Path | None) -> Snapshot:
    stored = provider.snapshot.read_bytes() if provider.snapshot.is_file() else None
    if page is not None:
        # Bytes decoded by hand: read_text() would translate line endings.
        body, content_type, source, fetched_at = (
            page.read_bytes().decode("utf-8"),
            "",
            str(page),
            None,
        )
    else:
        source = source_url(provider, url)
        fetched_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        body, content_type = fetch(source)
    if provider.upstream is None:
        text = page_text(body, content_type)
        if not text.strip():
            raise SnapshotError(f"no text in the docs page {source}", HINT_PAGE)
        return Snapshot(provider, source, text.encode("utf-8"), fetched_at, stored)
    raw = _raw_document(provider, body)
    if raw is not None:  # the published file itself (DeepL, ElevenLabs, OpenRouter, Twilio)
        return Snapshot(provider, source, body.encode("utf-8"), fetched_at, stored)
    block = extract(body)
    try:
        document = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        raise SnapshotError(
            f"the OpenAPI block of {source} is not YAML: {exc}", HINT_DOCUMENT
        ) from None
    if not isinstance(document, dict) or "openapi" not in document:
        raise SnapshotError(f"the block in {source} is not an OpenAPI document", HINT_PAGE)
    try:
        validate(document)
    except Exception as exc:  # the validator raises several unrelated types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SnapshotError(
            f"the OpenAPI document of {source} is not valid: {first}", HINT_DOCUMENT
        ) from None
    return Snapshot(provider, source, block.encode("utf-8"), fetched_at, stored)


def _raw_document(provider: Provider, body: str) -> dict[str, object] | None:
    """The body as an OpenAPI document when it is one (a spec published as a file, JSON
    or YAML, not a docs page with a fenced block), else None. Such a document is kept
    byte for byte and not validated here: published specs have defects that the
    provider's normalizer steps fix (DeepL's integer response codes), and generate.py
    validates the result."""
    if _FENCE.search(body) is not None:
        return None
    try:
        if provider.upstream is not None and provider.upstream.suffix == ".json":
            document = json.loads(body)
        else:
            document = yaml.load(body, Loader=_LOADER)  # noqa: S506 - a safe loader
    except (ValueError, yaml.YAMLError):
        return None
    if isinstance(document, dict) and "openapi" in document and "paths" in document:
        return document
    return None


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def by_name(name: str) -> Provider:
    for provider in PROVIDERS:
        if provider.name == name:
            return provider
    raise SnapshotError(f"unknown provider {name!r}", f"name one of {[p.name for p in PROVIDERS]}")


def problem(exc: SnapshotError, provider: str | None) -> Problem:
    """A snapshot failure as the scripts report one: `error: <file>: <what>` and a hint;
    the file is the snapshot that was not written."""
    target = next((p.snapshot for p in PROVIDERS if p.name == provider), None)
    return Problem(target or "scripts/snapshot.py", str(exc), exc.hint)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("provider", nargs="?", help="provider name, e.g. flamel")
    parser.add_argument("page", nargs="?", type=Path, help="a page already downloaded")
    parser.add_argument("--all", action="store_true", help="every provider")
    parser.add_argument("--url", help="fetch this URL instead of the published page")
    parser.add_argument("--debug", action="store_true", help="tracebacks with the errors")
    args = parser.parse_args(argv)
    if args.all == bool(args.provider) or (args.all and (args.url or args.page)):
        parser.error("name one provider, or pass --all (without a page or --url)")
    try:
        providers = PROVIDERS if args.all else [by_name(args.provider)]
        snapshots = [take(p, args.url, args.page) for p in providers]
    except SnapshotError as exc:
        raise problem(exc, args.provider) from None
    for snapshot in snapshots:  # all fetched and checked before anything is written
        report = snapshot.report()
        snapshot.write()
        print(report or f"{snapshot.provider.name}: unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(run(main, None, "snapshot.py"))
