"""Watch the providers: snapshot every published document, regenerate, optionally run
the tests, and write the classified changes and the suggested version as the body of
a pull request. The scheduled workflow (.github/workflows/spec-watch.yml) runs it;
it runs the same way on a laptop.

    python scripts/spec_watch.py                                   # snapshot + regenerate
    python scripts/spec_watch.py --release --body pr-body.md \\
        --test-command "bash scripts/test.sh"                      # what CI runs
    python scripts/spec_watch.py --source flamel=http://127.0.0.1:8000/flamel.md

Steps:
1. Fetch and check every provider's document (scripts/snapshot.py). If any fetch
   fails or any document is broken, stop with status 1, `error: <snapshot>: <what>`
   per failure and a hint (at most five lines; --debug adds tracebacks): nothing is
   written.
2. Write the snapshots that changed. A docs-only provider's changed page is reported
   with its diff: its hand-written spec needs a review.
3. Regenerate (scripts/generate.py, when its --check finds something stale); a failure
   is reported in the body.
4. Classify the changes since the last release (scripts/codegen/release.py); with
   --release, bump the version and write the CHANGELOG.md entry.
5. Run the test command, if given, and report its result.
6. Write the body (Markdown) to --body and stdout. With GITHUB_OUTPUT set, also the
   outputs `changed` (true when anything changed) and `title`.

Sources: --source PROVIDER=URL, else CREDITWATCH_SOURCE_<PROVIDER>, else the URL in
scripts/codegen/providers.py. Exit status: 0 when the body was written (whatever it
reports), 1 when a fetch or a document failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from codegen import release
from codegen.providers import PROVIDERS, ROOT
from codegen.report import Problem, Problems, run
from snapshot import Snapshot, SnapshotError, take

MAX_DIFF_LINES = 200
TAIL_LINES = 40


def _sources(pairs: Sequence[str]) -> dict[str, str]:
    names = {p.name for p in PROVIDERS}
    sources: dict[str, str] = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or name not in names or not url:
            raise SystemExit(f"spec-watch: --source takes PROVIDER=URL, PROVIDER one of {names}")
        sources[name] = url
    return sources


def _run(command: Sequence[str], echo: bool) -> tuple[int, list[str], float]:
    """Run command in the repository; (exit status, last lines of output, seconds)."""
    started = time.perf_counter()
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    with subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line.rstrip("\n"))
            if echo:
                print(line, end="", file=sys.stderr, flush=True)
    return process.returncode, list(tail), time.perf_counter() - started


def _fenced(lines: Sequence[str], language: str = "") -> list[str]:
    fence = "````" if any("```" in line for line in lines) else "```"
    return [f"{fence}{language}", *lines, fence]


def _diff_block(diff: str) -> list[str]:
    lines = diff.splitlines()
    if len(lines) > MAX_DIFF_LINES:
        cut = len(lines) - MAX_DIFF_LINES
        lines = [*lines[:MAX_DIFF_LINES], f"... {cut} more lines (see the snapshot's diff)"]
    return _fenced(lines, "diff")


def body(
    snapshots: Sequence[Snapshot],
    generate: tuple[int, list[str]],
    state: release.Pending,
    released: bool,
    tests: tuple[str, int, list[str], float] | None,
) -> list[str]:
    """The pull request body, in Markdown."""
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    out = [f"## Provider spec watch, {today}", ""]
    bump = state.bump
    if bump is not None:
        applied = (
            "Applied: `overlays/_version.py`, `CHANGELOG.md` and `specs/released/` updated"
            if released
            else "not applied (run `python scripts/generate.py --release`)"
        )
        out += [
            f"**Suggested version: {bump.version}** (from {bump.current}; {bump.part}: "
            f"{bump.reason}). {applied}.",
            "",
            "### Classified changes since the last release",
            "",
            "| class | provider | change |",
            "|---|---|---|",
        ]
        for change in state.changes:
            label = f"**{change.label}**" if change.label == "BREAKING" else change.label
            out.append(f"| {label} | {change.provider} | `{change.shown}`: {change.summary} |")
        out.append("")
    else:
        out += [f"No spec changes since the release of {state.version}.", ""]
    out += [f"- note: {note}" for note in state.notes]

    docs = [s for s in snapshots if s.changed and s.provider.upstream is None]
    if docs:
        out += ["### Docs pages of hand-written specs", ""]
        for snapshot in docs:
            first, _, diff = snapshot.report().partition("\n")
            out += [first[:1].upper() + first[1:] + ".", ""]
            if diff:
                out += [*_diff_block(diff), ""]

    out += ["### Snapshots", ""]
    for snapshot in snapshots:
        name = snapshot.provider.snapshot.relative_to(ROOT).as_posix()
        state_word = "changed" if snapshot.changed else "unchanged"
        out.append(f"- {snapshot.provider.name}: `{name}` {state_word} (from {snapshot.source})")
    out.append("")

    status, lines = generate
    if status != 0:
        out += [
            f"### Regeneration failed (exit {status})",
            "",
            "`python scripts/generate.py` failed: a normalizer step whose target moved, or",
            "a spec the generator rejects. The last lines:",
            "",
            *_fenced(lines),
            "",
        ]
    if tests is not None:
        command, code, tail, seconds = tests
        verdict = "passed" if code == 0 else f"**failed** (exit {code})"
        out += [f"### Tests: {verdict}", "", f"`{command}` ({seconds:.0f} s)"]
        if code != 0:
            out += ["", *_fenced(tail)]
        out.append("")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", action="append", default=[], metavar="PROVIDER=URL")
    parser.add_argument("--release", action="store_true", help="apply the suggested version")
    parser.add_argument("--test-command", help='e.g. "bash scripts/test.sh"')
    parser.add_argument("--body", type=Path, help="write the pull request body here")
    parser.add_argument("--debug", action="store_true", help="tracebacks with the errors")
    args = parser.parse_args(argv)
    sources = _sources(args.source)

    snapshots: list[Snapshot] = []
    failures: list[Problem] = []
    for provider in PROVIDERS:
        try:
            snapshots.append(take(provider, sources.get(provider.name)))
        except SnapshotError as exc:
            failures.append(Problem(provider.snapshot, str(exc), exc.hint))
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise Problems(failures, "  hint: nothing was written; fix the sources above and rerun")
    for snapshot in snapshots:
        print(snapshot.report().partition("\n")[0] or f"{snapshot.provider.name}: unchanged")
        snapshot.write()

    generate = [sys.executable, str(ROOT / "scripts" / "generate.py")]
    code, tail, _ = _run([*generate, "--check"], echo=False)  # fast when nothing changed
    if code != 0:
        code, tail, _ = _run(generate, echo=False)
    print("\n".join(tail))
    state = release.pending()
    released = False
    if code == 0 and args.release and state.changes:
        print("\n".join(release.apply(state, datetime.datetime.now(datetime.UTC).date())))
        released = True
    tests = None
    if args.test_command:
        status, test_tail, seconds = _run(shlex.split(args.test_command), echo=True)
        tests = (args.test_command, status, test_tail, seconds)

    text = "\n".join(body(snapshots, (code, tail), state, released, tests)) + "\n"
    if args.body:
        args.body.write_text(text, encoding="utf-8")
    print(text)
    changed = any(s.changed for s in snapshots) or bool(state.changes)
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        bump = state.bump
        title = "Provider spec changes" + (f": version {bump.version}" if bump else "")
        if bump is not None and any(c.label == "BREAKING" for c in state.changes):
            title += " (breaking)"
        if code != 0:
            title += " (regeneration failed)"
        with open(output, "a", encoding="utf-8") as handle:
            handle.write(f"changed={'true' if changed else 'false'}\ntitle={title}\n")
    return 0


if __name__ == "__main__":
    sys.exit(run(main, None, "spec_watch.py"))
