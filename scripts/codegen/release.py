"""Releases: what changed since the last release, the version that calls for, and
writing a release (the version, a CHANGELOG.md entry, the new baseline).

The baseline is ``specs/released/``: the five specs exactly as they were at the last
release (``<provider>.yaml``), and the generated public client methods of that release
(``surface.json``, {provider: {"Class.method": signature}}). Only ``--release``
writes it. So "the previous spec" is the same for every provider, generated or
hand-written: the one users of the current version have. Plain regenerations report
the unreleased changes again and again until a release takes them, and a change made
over several commits is released once, whole. It needs no git history (a temporary
copy or an sdist works the same).

A provider with no released spec, or with no released surface, is reported as such
and contributes no changes until a release records it (the generated client classes,
for instance, count from the first release after they exist); `--release` with
nothing to release records what is missing without changing the version.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import shutil
from pathlib import Path

import yaml

from .changes import Bump, Change, classify_specs, classify_surface, read_surface, suggest
from .providers import PROVIDERS, ROOT, SPECS, Provider

RELEASED = SPECS / "released"
SURFACE = RELEASED / "surface.json"
VERSION_FILE = ROOT / "overlays" / "_version.py"
CHANGELOG = ROOT / "CHANGELOG.md"
_VERSION_LINE = re.compile(r'^__version__ = "(?P<version>[^"]+)"$', re.M)
SECTIONS = ("Added", "Changed", "Deprecated", "Removed")


def read_version() -> str:
    match = _VERSION_LINE.search(VERSION_FILE.read_text(encoding="utf-8"))
    if match is None:
        raise SystemExit(f'no `__version__ = "..."` line in {VERSION_FILE}')
    return match["version"]


def client_module(provider: Provider) -> Path:
    """Where the generated public client classes of a provider live."""
    return provider.package / "client.py"


@dataclasses.dataclass
class Pending:
    version: str
    changes: list[Change]
    bump: Bump | None
    notes: list[str]


def pending() -> Pending:
    """The changes between the released baseline and the current specs and generated
    client classes."""
    changes: list[Change] = []
    notes: list[str] = []
    surfaces = json.loads(SURFACE.read_text(encoding="utf-8")) if SURFACE.is_file() else {}
    for provider in PROVIDERS:
        released = RELEASED / f"{provider.name}.yaml"
        if released.is_file():
            old = yaml.safe_load(released.read_text(encoding="utf-8"))
            new = yaml.safe_load(provider.spec.read_text(encoding="utf-8"))
            changes += classify_specs(provider.name, old, new)
        else:
            notes.append(f"{provider.name}: no released spec in specs/released/ yet")
        surface = read_surface(client_module(provider))
        if provider.name in surfaces:
            changes += classify_surface(provider.name, surfaces[provider.name], surface)
        elif surface:
            notes.append(
                f"{provider.name}: client methods not in specs/released/surface.json yet "
                "(compared from the next release on)"
            )
    version = read_version()
    return Pending(version, changes, suggest(version, changes), notes)


def report(state: Pending) -> list[str]:
    """The classified changes and the suggested version, as generate.py prints them."""
    lines = [f"  note: {note}" for note in state.notes]
    if not state.changes:
        return [*lines, f"no spec changes since the release of {state.version}"]
    lines.insert(0, f"spec changes since the release of {state.version} (specs/released/):")
    width = max(len(c.label) for c in state.changes)
    lines += [f"  {c.label:<{width}}  {c.provider}: {c.text()}" for c in state.changes]
    bump = state.bump
    assert bump is not None
    lines.append(f"suggested version: {bump.version} ({bump.part}: {bump.reason})")
    return lines


def changelog_entry(state: Pending, date: datetime.date) -> str:
    """A Keep-a-Changelog entry: per provider, Added / Changed / Removed."""
    assert state.bump is not None
    out = [f"## [{state.bump.version}] - {date.isoformat()}", ""]
    titles = {p.name: p.title for p in PROVIDERS}
    for provider in PROVIDERS:
        mine = [c for c in state.changes if c.provider == provider.name]
        if not mine:
            continue
        out += [f"### {titles[provider.name]}", ""]
        for section in SECTIONS:
            entries = [c for c in mine if c.section == section]
            if not entries:
                continue
            out += [f"#### {section}", ""]
            for change in sorted(entries, key=lambda c: (-c.severity, c.subject)):
                mark = "**Breaking:** " if change.label == "BREAKING" else ""
                out.append(f"- {mark}`{change.shown}`: {change.summary}")
            out.append("")
    return "\n".join(out)


def add_entry(changelog: str, entry: str) -> str:
    """The changelog with `entry` as its newest release. Notes written by hand under
    ``## [Unreleased]`` move into the entry; the Unreleased heading stays, empty."""
    lines = changelog.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("## ")]
    unreleased = next((i for i in heads if lines[i].lower().startswith("## [unreleased]")), None)
    if unreleased is None:
        at = heads[0] if heads else len(lines)
        return "\n".join([*lines[:at], entry, *lines[at:]]).rstrip("\n") + "\n"
    end = next((i for i in heads if i > unreleased), len(lines))
    notes = "\n".join(lines[unreleased + 1 : end]).strip("\n")
    title, _, rest = entry.partition("\n\n")
    merged = f"{title}\n\n{notes}\n\n{rest}" if notes else entry
    out = [*lines[: unreleased + 1], "", merged, *lines[end:]]
    return "\n".join(out).rstrip("\n") + "\n"


def apply(state: Pending, date: datetime.date) -> list[str]:
    """Write the release: the bumped version, the CHANGELOG.md entry, the new baseline."""
    assert state.bump is not None
    write_version(state.bump.version)
    changelog = CHANGELOG.read_text(encoding="utf-8") if CHANGELOG.is_file() else "# Changelog\n"
    CHANGELOG.write_text(add_entry(changelog, changelog_entry(state, date)), encoding="utf-8")
    record_baseline()
    return [
        f"released {state.bump.version}: overlays/_version.py, CHANGELOG.md and specs/released/ "
        "updated"
    ]


def write_version(version: str) -> None:
    """overlays/_version.py := `version`."""
    text = VERSION_FILE.read_text(encoding="utf-8")
    VERSION_FILE.write_text(
        _VERSION_LINE.sub(f'__version__ = "{version}"', text, count=1), encoding="utf-8"
    )


def record_baseline() -> None:
    """specs/released/ := the current specs and client classes."""
    RELEASED.mkdir(exist_ok=True)
    surfaces: dict[str, dict[str, str]] = {}
    for provider in PROVIDERS:
        shutil.copyfile(provider.spec, RELEASED / f"{provider.name}.yaml")
        surface = read_surface(client_module(provider))
        if surface:
            surfaces[provider.name] = surface
    SURFACE.write_text(json.dumps(surfaces, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def run(release: bool, date: datetime.date | None = None) -> None:
    """What `scripts/generate.py` calls after regenerating: print the classified
    changes and the suggested version; with `release`, apply them."""
    state = pending()
    lines = report(state)
    if release and state.changes:
        lines += apply(state, date or datetime.datetime.now(datetime.UTC).date())
    elif release:
        lines.append("nothing to release")
        if state.notes:  # a baseline that was missing starts here, with no version change
            record_baseline()
            lines.append("recorded specs/released/ (what was missing above); version unchanged")
    elif state.changes:
        lines.append("apply it with `python scripts/generate.py --release`")
    print("\n".join(lines))
