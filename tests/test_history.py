"""The history database: schema and migrations, what a check records (and never),
the burn rate read back in SQL against the same hand-computed series as
test_forecast.py, two processes recording at once, and a writer killed mid-write.

The command line's ``--record`` / ``history`` against the mock server are in
test_cli.py.
"""

from __future__ import annotations

import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import creditwatch
import httpx
import pytest
from creditwatch import Balance
from creditwatch._forecast import Fit, forecast, trend
from creditwatch._history import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Check,
    History,
    HistoryError,
    _patiently,
    default_path,
)

from conftest import FAKE_KEY
from test_forecast import CASES, T0, Case

NOW = T0 + 10 * 86400  # "now" for the window of the hand-computed series


def balance(remaining: float | None, at: float, **fields: object) -> Balance[object]:
    return Balance(
        provider=str(fields.pop("provider", "flamel")),
        remaining=remaining,
        limit=fields.pop("limit", 1000.0),  # type: ignore[arg-type]
        checked_at=datetime.fromtimestamp(at, UTC),
        account=None,
        **fields,  # type: ignore[arg-type]
    )


def rows(path: Path, sql: str = "SELECT * FROM checks ORDER BY id") -> list[sqlite3.Row]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


# -- schema -----------------------------------------------------------------------------


def test_new_database_is_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "history.sqlite3"

    with History(path):
        pass

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")} == {
        "checks"
    }
    db.close()


def test_an_older_schema_is_migrated_step_by_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as history:  # version 1
        history.add([Check(provider="flamel", outcome=balance(5, T0))])
    step_2 = ("ALTER TABLE checks ADD COLUMN note TEXT", "UPDATE checks SET note = 'migrated'")
    monkeypatch.setattr("creditwatch._history.MIGRATIONS", (*MIGRATIONS, step_2))
    monkeypatch.setattr("creditwatch._history.SCHEMA_VERSION", len(MIGRATIONS) + 1)

    with History(path):
        pass

    assert rows(path, "PRAGMA user_version")[0][0] == len(MIGRATIONS) + 1
    assert [r["note"] for r in rows(path)] == ["migrated"]  # the old row was kept


def test_a_failing_migration_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as history:
        history.add([Check(provider="flamel", outcome=balance(5, T0))])
    broken = ("ALTER TABLE checks ADD COLUMN note TEXT", "SELECT * FROM no_such_table")
    monkeypatch.setattr("creditwatch._history.MIGRATIONS", (*MIGRATIONS, broken))
    monkeypatch.setattr("creditwatch._history.SCHEMA_VERSION", len(MIGRATIONS) + 1)

    with pytest.raises(HistoryError, match="no_such_table"):
        History(path)

    assert rows(path, "PRAGMA user_version")[0][0] == len(MIGRATIONS)
    # the first step was rolled back too (`in` on a Row looks at values, not names)
    assert "note" not in rows(path)[0].keys()  # noqa: SIM118


def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()

    with pytest.raises(HistoryError, match=r"newer creditwatch \(schema version 99"):
        History(path)

    assert rows(path, "PRAGMA user_version")[0][0] == 99


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not SQLite " * 100)

    with pytest.raises(HistoryError, match=str(path)):
        History(path)
    assert isinstance(HistoryError("x"), sqlite3.Error)


def test_default_path(tmp_path: Path) -> None:
    home = Path.home()
    assert default_path({}) == home / ".local/share/creditwatch/history.sqlite3"
    assert default_path({"XDG_DATA_HOME": str(tmp_path)}) == (
        tmp_path / "creditwatch/history.sqlite3"
    )
    # relative XDG_DATA_HOME is invalid per the spec: ignored
    assert default_path({"XDG_DATA_HOME": "rel"}) == default_path({})
    assert default_path({"CREDITWATCH_DB": str(tmp_path / "x.db"), "XDG_DATA_HOME": "/y"}) == (
        tmp_path / "x.db"
    )


# -- recording --------------------------------------------------------------------------


def test_record_stores_balances_and_error_classes_never_messages(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    resets = datetime(2026, 12, 1, tzinfo=UTC)
    response = httpx.Response(401, text=f"wrong_api_key {FAKE_KEY}")
    error = creditwatch.AuthenticationError(
        f"wrong_api_key {FAKE_KEY}", provider="exorde", response=response, body=response.text
    )

    results: dict[str, Balance[object] | BaseException] = {
        "flamel": balance(610, T0, plan="free", resets_at=resets),
        "exorde": error,
    }
    count = creditwatch.record(results, db=path)
    creditwatch.record([balance(30, T0 + 60, provider="easyslip", unit="quota")], db=path,
                       account="team-a")  # fmt: skip

    assert count == 2
    flamel, exorde, easyslip = rows(path)
    assert dict(flamel) | {"id": 0} == {
        "id": 0,
        "checked_at": T0,
        "provider": "flamel",
        "account": "",
        "error": None,
        "remaining": 610.0,
        "credit_limit": 1000.0,
        "unlimited": 0,
        "unit": "credits",
        "plan": "free",
        "resets_at": resets.timestamp(),
        "expires_at": None,
        "segment": 0,
        "segment_start": T0,
        "segment_level": 610.0,
    }
    assert exorde["provider"] == "exorde"
    assert exorde["error"] == "AuthenticationError"
    assert exorde["remaining"] is None
    assert abs(exorde["checked_at"] - time.time()) < 60  # an error is recorded as of now
    assert (easyslip["account"], easyslip["unit"], easyslip["remaining"]) == ("team-a", "quota", 30)
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert FAKE_KEY.encode() not in data
    assert b"wrong_api_key" not in data


def test_one_transaction_per_check(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"

    class Boom(BaseException):  # like KeyboardInterrupt, in the middle of a check
        pass

    class Exploding(Check):
        def timestamp(self) -> float:
            raise Boom

    with History(path) as history:
        history.add([Check(provider="flamel", outcome=balance(5, T0))])
        with pytest.raises(Boom):
            history.add(
                [
                    Check(provider="exorde", outcome=balance(7, T0)),
                    Exploding(provider="generect", outcome=balance(9, T0)),
                ]
            )

    assert [r["provider"] for r in rows(path)] == ["flamel"]


# -- reading: the same hand-computed series, through SQL --------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_series_from_the_database_match_the_hand_computed_ones(case: Case, tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history:
        history.add(
            [Check(provider="flamel", account="a", outcome=balance(r, t)) for t, r in case.points]
        )
        [series] = history.series(since=T0 - 3600, until=NOW)

    result = series.forecast()
    assert series.checks == len(case.points)
    assert series.fit.points == len(case.points)
    if case.used_per_day is None:
        assert result.kind == "not_enough_data"
    else:
        assert result.used_per_day == pytest.approx(case.used_per_day, rel=1e-9)
    if case.runs_out_day is None:
        assert result.runs_out_at is None
    else:
        assert result.runs_out_at is not None
        assert result.runs_out_at.timestamp() == pytest.approx(T0 + case.runs_out_day * 86400)
    assert series.trend == trend(case.points, width=24)


@pytest.mark.parametrize("case", [c for c in CASES if len(c.points) >= 3], ids=lambda c: c.name)
def test_a_window_that_starts_mid_segment_trends_over_its_own_points(
    case: Case, tmp_path: Path
) -> None:
    """The window cuts the series after its first check: the trend spans the checks in
    the window, not the segment they continue."""
    since = case.points[1][0]  # the second check onwards
    inside = [(t, r) for t, r in case.points if since <= t <= NOW]
    with History(tmp_path / "h.sqlite3") as history:
        history.add(
            [Check(provider="flamel", account="a", outcome=balance(r, t)) for t, r in case.points]
        )
        [series] = history.series(since=since, until=NOW)

    assert series.checks == len(inside)
    assert series.trend == trend(inside, width=24)


def test_an_unlimited_series_forecasts_unlimited(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history:
        history.add(
            [
                Check(provider="flamel", outcome=balance(r, t, limit=None, unlimited=True))
                for t, r in CASES[0].points
            ]
        )
        [series] = history.series(since=T0 - 3600, until=NOW)

    assert series.latest is not None and series.latest.unlimited
    assert series.forecast().kind == "unlimited"  # from the history alone, no current balance


def test_a_history_opened_in_one_thread_records_from_another(tmp_path: Path) -> None:
    """The exporter and `creditwatch.record` callers may hand a History to a worker
    thread."""
    errors: list[BaseException] = []
    with History(tmp_path / "h.sqlite3") as history:

        def add() -> None:
            try:
                history.add([Check(provider="flamel", outcome=balance(5, T0))])
            except BaseException as exc:
                errors.append(exc)

        worker = threading.Thread(target=add)
        worker.start()
        worker.join()
        [series] = history.series(since=T0 - 3600, until=NOW)

    assert errors == []
    assert series.checks == 1


def test_a_writer_waits_for_a_busy_database_for_the_busy_timeout(tmp_path: Path) -> None:
    """Another process's transaction is waited for (SQLite's busy timeout, which the
    connection reports), up to 30 s (`BUSY_TIMEOUT`)."""
    with History(tmp_path / "h.sqlite3") as history:
        history.add([Check(provider="flamel", outcome=balance(5, T0))])
    db = sqlite3.connect(tmp_path / "h.sqlite3", check_same_thread=False)
    db.execute("BEGIN IMMEDIATE")  # hold the write lock; a timer thread releases it
    released = threading.Timer(0.5, db.rollback)
    started = time.monotonic()
    released.start()
    try:
        with History(tmp_path / "h.sqlite3") as history:
            history.add([Check(provider="flamel", outcome=balance(4, T0 + 60))])
            timeout = history._db.execute("PRAGMA busy_timeout").fetchone()[0]
    finally:
        released.join()
        db.close()
    assert time.monotonic() - started >= 0.45  # it waited for the lock, then wrote
    assert timeout == 30_000  # milliseconds


def test_a_busy_step_is_retried_until_it_succeeds_or_time_is_up() -> None:
    """Opening the file retries SQLite's immediate "database is locked" (two processes
    switching it to WAL at once) within the busy timeout (`_patiently`)."""
    calls: list[float] = []

    def locked_twice() -> int:
        calls.append(time.monotonic())
        if len(calls) <= 2:
            raise sqlite3.OperationalError("database is locked")
        return 7

    assert _patiently(locked_twice, timeout=5) == 7
    assert len(calls) == 3
    assert calls[-1] - calls[0] < 0.5  # the first pauses are short (milliseconds)

    calls.clear()
    start = time.monotonic()

    def locked_for_a_while() -> int:
        calls.append(time.monotonic())
        if calls[-1] < start + 0.6:
            raise sqlite3.OperationalError("database is locked")
        return 8

    assert _patiently(locked_for_a_while, timeout=5) == 8
    # pauses grow but stay short: the unlocked database is noticed soon after
    assert calls[-1] - (start + 0.6) < 0.3

    def always_locked() -> int:
        calls.append(time.monotonic())
        raise sqlite3.OperationalError("database is locked")

    calls.clear()
    with pytest.raises(sqlite3.OperationalError):
        _patiently(always_locked, timeout=0.2)
    assert 0.1 <= calls[-1] - calls[0] < 1.0  # retried for about the timeout, then gave up
    assert len(calls) > 2

    def broken() -> int:
        calls.append(time.monotonic())
        raise sqlite3.OperationalError("no such table: checks")

    calls.clear()
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        _patiently(broken, timeout=5)
    assert len(calls) == 1  # not a busy database: not retried


RATED = [c for c in CASES if c.used_per_day is not None]


@pytest.mark.parametrize("case", RATED, ids=lambda c: c.name)
def test_a_newer_current_balance_extends_the_recorded_fit(case: Case, tmp_path: Path) -> None:
    """A check that was not recorded (`Series.forecast(current)`) continues the latest
    segment, as the same point added in memory does."""
    last_t, last_r = case.points[-1]
    newer = (last_t + 86400 / 2, max(last_r - 3, 0))
    with History(tmp_path / "h.sqlite3") as history:
        history.add([Check(provider="flamel", outcome=balance(r, t)) for t, r in case.points])
        [series] = history.series(since=T0 - 3600, until=NOW)

    result = series.forecast(balance(newer[1], newer[0]))
    expected = forecast(Fit.of([*case.points, newer]))
    assert result.kind == expected.kind
    assert result.used_per_day == pytest.approx(expected.used_per_day, rel=1e-9)


@pytest.mark.parametrize("case", RATED, ids=lambda c: c.name)
def test_a_current_balance_no_newer_than_the_history_is_not_added(
    case: Case, tmp_path: Path
) -> None:
    last_t, last_r = case.points[-1]
    with History(tmp_path / "h.sqlite3") as history:
        history.add([Check(provider="flamel", outcome=balance(r, t)) for t, r in case.points])
        [series] = history.series(since=T0 - 3600, until=NOW)

    same_moment = series.forecast(balance(max(last_r - 3, 0), last_t))
    assert same_moment.used_per_day == series.forecast().used_per_day


def test_a_one_value_trend_is_the_latest_value(tmp_path: Path) -> None:
    case = CASES[0]
    with History(tmp_path / "h.sqlite3") as history:
        history.add([Check(provider="flamel", outcome=balance(r, t)) for t, r in case.points])
        [series] = history.series(since=T0 - 3600, until=NOW, width=1)
        [none] = history.series(since=T0 - 3600, until=NOW, width=0)

    assert series.trend == [case.points[-1][1]]
    assert none.trend == []


def test_a_path_given_as_text_is_a_path_and_memory_is_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = str(tmp_path / "new" / "folder" / "h.sqlite3")
    with History(text) as history:
        assert history.path == Path(text)
    assert Path(text).is_file()
    with History(":memory:") as memory:
        assert memory.path == ":memory:"
    assert list(tmp_path.iterdir()) == [tmp_path / "new"]  # no file named ":memory:"


def test_existing_opens_a_history_only_when_the_file_is_there(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    assert History.existing(path) is None
    assert not path.exists()
    with History(path):
        pass
    opened = History.existing(path)
    assert opened is not None
    opened.close()


def test_window_counts_failures_and_latest_values(tmp_path: Path) -> None:
    error = creditwatch.APITimeoutError("timed out", provider="flamel")
    resets = datetime.fromtimestamp(T0 + 5 * 86400, UTC)
    with History(tmp_path / "h.sqlite3") as history:
        history.add([Check(provider="flamel", outcome=balance(500, T0 - 86400))])  # outside
        history.add([Check(provider="flamel", outcome=balance(100, T0, resets_at=resets))])
        history.add([Check(provider="flamel", outcome=balance(90, T0 + 86400, plan="pro"))])
        history.add([Check(provider="flamel", outcome=error, at=datetime.fromtimestamp(NOW, UTC))])
        history.add([Check(provider="exorde", outcome=balance(1, T0))])
        [series] = history.series(since=T0, until=NOW, providers=["flamel"])

    assert (series.provider, series.account) == ("flamel", "")
    assert (series.checks, series.failures) == (3, 1)
    assert series.last_error == "APITimeoutError"
    assert series.last_check_at == datetime.fromtimestamp(NOW, UTC)
    assert series.latest is not None
    assert (series.latest.remaining, series.latest.plan) == (90, "pro")
    assert series.forecast().used_per_day == pytest.approx(10.0)
    # a current balance that was not recorded joins the fit: 90 -> 80 in a day
    current = balance(80, T0 + 2 * 86400, resets_at=resets)
    assert series.forecast(current).used_per_day == pytest.approx(10.0)
    assert series.forecast(current).kind == "after_reset"  # out at day 10, reset at day 5


def test_the_recorded_reset_date_comes_first_without_a_current_balance(tmp_path: Path) -> None:
    resets = datetime.fromtimestamp(T0 + 5 * 86400, UTC)  # before the run-out (day 10)
    with History(tmp_path / "h.sqlite3") as history:
        history.add(
            [
                Check(provider="flamel", outcome=balance(r, t, resets_at=resets))
                for t, r in CASES[0].points
            ]
        )
        [series] = history.series(since=T0 - 3600, until=NOW)

    result = series.forecast()
    assert result.kind == "after_reset"
    assert result.resets_at == resets


def test_series_come_sorted_by_provider_then_account(tmp_path: Path) -> None:
    # Recorded in another order, with accounts and times that sort the other way.
    recorded = [("flamel", "b", 0), ("flamel", "a", 1), ("exorde", "z", 2), ("exorde", "y", 3)]
    with History(tmp_path / "h.sqlite3") as history:
        for provider, account, day in recorded:
            history.add(
                [
                    Check(
                        provider=provider,
                        account=account,
                        outcome=balance(10 - d, T0 + (day + d / 10) * 86400, provider=provider),
                    )
                    for d in range(2)
                ]
            )
        found = [(s.provider, s.account) for s in history.series(since=T0 - 3600, until=NOW)]

    assert found == [("exorde", "y"), ("exorde", "z"), ("flamel", "a"), ("flamel", "b")]


def test_the_history_folder_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    with History(folder / "h.sqlite3"):
        pass
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # the checks name the accounts


def test_window_and_database_options_are_keyword_only(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history, pytest.raises(TypeError):
        history.series(T0)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        creditwatch.record([balance(1, T0)], tmp_path / "h.sqlite3")  # type: ignore[call-arg]


def test_prune(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history:
        history.add([Check(provider="flamel", outcome=balance(r, t)) for t, r in CASES[0].points])
        assert history.prune(T0 + 1.5 * 86400) == 2
        [series] = history.series(since=0, until=NOW)
    assert series.checks == 2


# -- several processes ------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    import creditwatch
    from creditwatch import Balance

    path, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    while not go.exists():
        time.sleep(0.005)
    for i in range(count):
        balance = Balance(provider="flamel", remaining=float(i), limit=None, account=None,
                          checked_at=datetime.fromtimestamp(1.78e9 + i, UTC))
        creditwatch.record({"flamel": balance}, db=path, account=name)
    """
)


def test_two_processes_recording_at_once_lose_nothing(tmp_path: Path) -> None:
    path, go = tmp_path / "h.sqlite3", tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, "200", str(go)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    time.sleep(0.3)  # both started (and imported) before either opens the file
    go.touch()
    for writer in writers:
        _, stderr = writer.communicate(timeout=120)
        assert writer.returncode == 0, stderr

    recorded = rows(path, "SELECT account, remaining FROM checks ORDER BY id")
    for name in ("a", "b"):
        assert [r["remaining"] for r in recorded if r["account"] == name] == list(range(200))
    assert len(recorded) == 400


def test_many_opening_a_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    """Six connections switching one new file to WAL at the same instant: SQLite
    refuses all but one with "database is locked" without waiting for its busy
    timeout (before the fix, 20 of 300 rounds failed here). Every one must open."""
    failures: list[str] = []
    for round_ in range(150):
        path = tmp_path / f"h{round_}.sqlite3"
        start = threading.Barrier(6)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                History(path).close()
            except HistoryError as exc:
                failures.append(str(exc))

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [tuple(r) for r in rows(path, "PRAGMA journal_mode")] == [("wal",)]
    assert failures == []


KILLED = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from creditwatch import Balance
    from creditwatch._history import Check, History

    history = History(sys.argv[1])
    i = 0
    while True:  # five rows per check, forever: killed from outside
        at = datetime.fromtimestamp(1.78e9 + i, UTC)
        history.add([
            Check(provider="flamel", account=str(n),
                  outcome=Balance(provider="flamel", remaining=1e6 - i, limit=None,
                                  account=None, checked_at=at))
            for n in range(5)
        ])
        i += 1
    """
)


def test_a_writer_killed_mid_write_leaves_a_readable_database(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    writer = subprocess.Popen([sys.executable, "-c", KILLED, str(path)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if path.exists() and _count(path) >= 50:
                break
        time.sleep(0.05)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    count = _count(path)
    assert count >= 50
    assert count % 5 == 0, "a check was half written"
    with History(path) as history:  # and creditwatch can open and extend it
        history.add([Check(provider="exorde", outcome=balance(1, T0))])
        series = history.series(since=0, until=2e9)
    assert sum(s.checks for s in series) == count + 1


def _count(path: Path) -> int:
    try:
        return int(rows(path, "SELECT count(*) FROM checks")[0][0])
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


# -- import cost --------------------------------------------------------------------------


def imported_by(code: str) -> set[str]:
    """The modules ``python -X importtime -c CODE`` reports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines()}


def test_import_creditwatch_loads_neither_sqlite3_nor_prometheus_client() -> None:
    # the control: record is there, and -X importtime sees what it imports
    assert "sqlite3" in imported_by("import creditwatch; creditwatch.record")
    imported = imported_by("import creditwatch")
    assert "creditwatch" in imported
    assert not {m for m in imported if m.split(".")[0] in {"sqlite3", "_sqlite3"}}
    assert not {m for m in imported if m.startswith("prometheus_client")}
