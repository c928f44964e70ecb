"""Boundaries of the history database (`creditwatch._history`): keyword-only options,
`History.existing` writable by default, a read-only history used from another thread,
a rise of the credits at the very instant of the previous check, and the first
retry of a busy step.

Times are given (``Check.at``, ``series(until=...)``), never read from the clock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from creditwatch._history import Check, History, Series, _patiently, record

from test_history import balance

T = 1_790_000_000.0  # a fixed instant (2026-09-21 UTC)
PROVIDER = "flamel"


def check(remaining: float, at: float = T) -> Check:
    return Check(
        provider=PROVIDER, outcome=balance(remaining, at), at=datetime.fromtimestamp(at, UTC)
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A history with one check at `T`."""
    file = tmp_path / "history.sqlite3"
    with History(file) as history:
        history.add([check(500.0)])
    return file


def _history_positional(path: Path) -> object:
    return History(path, True)  # type: ignore[call-arg]


def _existing_positional(path: Path) -> object:
    return History.existing(path, True)  # type: ignore[call-arg]


def _series_positional(path: Path) -> object:
    with History(path) as history:
        return history.series(0.0)  # type: ignore[call-arg]


def _record_positional(path: Path) -> object:
    return record({}, path)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "call",
    [_history_positional, _existing_positional, _series_positional, _record_positional],
    ids=["History", "History.existing", "series", "record"],
)
def test_history_options_are_keyword_only(path: Path, call: Callable[[Path], object]) -> None:
    with pytest.raises(TypeError):
        call(path)


def test_existing_opens_a_history_for_writing_by_default(path: Path) -> None:
    history = History.existing(path)
    assert history is not None
    with history:
        assert history.add([check(400.0, T + 60)]) == 1
        (series,) = history.series(since=T, until=T + 60)
    assert series.checks == 2


def test_a_read_only_history_can_be_read_from_another_thread(path: Path) -> None:
    """As a writable one can: the exporter and the CLI read from worker threads."""
    found: list[list[Series]] = []
    failed: list[BaseException] = []

    def read(history: History) -> None:
        try:
            found.append(history.series(since=T, until=T))
        except BaseException as exc:  # reported below
            failed.append(exc)

    with History(path, readonly=True) as history:
        worker = threading.Thread(target=read, args=(history,))
        worker.start()
        worker.join(5)
    assert failed == []
    assert [s.checks for s in found[0]] == [1]


def test_every_rise_starts_a_new_segment_even_at_the_same_instant(path: Path) -> None:
    """Credits that rose twice at the instant of the first check (a frozen clock, or
    top-ups recorded together): three burn-rate segments, one check each."""
    with History(path) as history:
        history.add([check(600.0)])
        history.add([check(700.0)])
        (series,) = history.series(since=T, until=T)
    assert [s.n for s in series.fit.segments] == [1, 1, 1]
    assert series.checks == 3


def test_a_step_locked_once_is_retried_within_milliseconds() -> None:
    """SQLite's immediate "database is locked" is retried at once, well within even a
    short busy timeout (fast: the first pause is a millisecond)."""
    calls: list[float] = []

    def locked_once() -> int:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return 7

    assert _patiently(locked_once, timeout=0.5) == 7
    assert len(calls) == 2
    assert calls[1] - calls[0] < 0.1
