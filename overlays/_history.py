"""The history of checks: one SQLite file (standard library ``sqlite3``).

Every check is a row: time, provider, account name (``--accounts``; ``''`` for a
provider's own key), remaining, limit, unit, plan, reset and expiry time, and the
error class when it failed. Never a key, nor an error's message (a provider may
echo the key in it).

* The schema is versioned with ``PRAGMA user_version``; `MIGRATIONS` holds the steps
  from each version to the next, applied in one transaction when a file is opened.
  A file from a newer creditwatch is refused (`HistoryError`), never rewritten.
* WAL mode and a busy timeout: processes that record at the same time wait for one
  another instead of failing, and readers never block writers. SQLite answers a few
  lock conflicts with "database is locked" at once, without waiting (two connections
  switching a new file to WAL together; one opening while the last one closing
  cleans up the WAL): `_patiently` retries those steps until the same timeout.
* One transaction per check: a crash or Ctrl-C loses at most the check being written.

Each successful row also stores its burn-rate *segment* (`creditwatch._forecast`):
the previous row's, plus one when the credits rose. So the burn rate over a window is
one ``GROUP BY`` in SQL, and a year of hourly checks for 20 accounts is read in
milliseconds instead of being fetched row by row.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import attrs

from ._balance import Balance
from ._forecast import DAY, Fit, Forecast, Segment, bucket_ends, forecast

__all__ = [
    "SCHEMA_VERSION",
    "Check",
    "History",
    "HistoryError",
    "Latest",
    "Series",
    "default_path",
    "record",
]

BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another process's transaction before giving up."""


_T = TypeVar("_T")


def _busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    } or ("database is locked" in str(exc))


def _patiently(step: Callable[[], _T], timeout: float = BUSY_TIMEOUT) -> _T:
    """``step()``, retried with a growing pause while SQLite says the database is
    busy, for up to ``timeout`` seconds. Only for steps that change nothing when
    they fail (a pragma, a ``BEGIN``), so running one again is safe."""
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


# MIGRATIONS[n] takes a database from user_version n to n + 1. Append, never edit.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE checks (
            id INTEGER PRIMARY KEY,
            checked_at REAL NOT NULL,           -- unix seconds (UTC)
            provider TEXT NOT NULL,
            account TEXT NOT NULL DEFAULT '',   -- the --accounts name; '' for env keys
            error TEXT,                         -- error class; NULL when it succeeded
            remaining REAL,
            credit_limit REAL,
            unlimited INTEGER NOT NULL DEFAULT 0,
            unit TEXT,
            plan TEXT,
            resets_at REAL,
            expires_at REAL,
            segment INTEGER,                    -- burn-rate segment; +1 at every rise
            segment_start REAL,                 -- checked_at of the segment's first check
            segment_level REAL                  -- remaining at the segment's first check
        )""",
        # the latest check of a series, the previous one when recording, trend seeks
        "CREATE INDEX checks_series ON checks (provider, account, checked_at)",
        # covers the burn-rate GROUP BY: read in segment order, no table lookups
        "CREATE INDEX checks_segments ON checks (provider, account, segment, "
        "checked_at, remaining, error, segment_start, segment_level)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


# Reading: per segment, the burn-rate sums of `_forecast.Segment` in seconds and
# credits relative to the segment's first check (converted to days in Python: no
# arithmetic per row beyond the sums); per series the numbers of checks and failures.
# One pass over the covering index checks_segments.
_SEGMENTS = """
SELECT provider, account, segment, count(*), sum(error IS NOT NULL),
       min(segment_start), min(segment_level),
       sum(checked_at - segment_start), sum(remaining - segment_level),
       sum((checked_at - segment_start) * (checked_at - segment_start)),
       sum((checked_at - segment_start) * (remaining - segment_level)),
       min(checked_at), max(checked_at)
FROM checks WHERE checked_at >= :since AND checked_at <= :until
GROUP BY provider, account, segment
"""
# The latest check / successful check / burn-rate point of one series in a window.
_LAST_CHECK = """
SELECT checked_at, error FROM checks
WHERE provider = ? AND account = ? AND checked_at >= ? AND checked_at <= ?
ORDER BY checked_at DESC, id DESC LIMIT 1
"""
_LAST_SUCCESS = """
SELECT checked_at, remaining, credit_limit, unlimited, unit, plan, resets_at, expires_at
FROM checks
WHERE provider = ? AND account = ? AND checked_at >= ? AND checked_at <= ? AND error IS NULL
ORDER BY checked_at DESC, id DESC LIMIT 1
"""
_LAST_POINT = """
SELECT checked_at, remaining FROM checks
WHERE provider = ? AND account = ? AND checked_at >= ? AND checked_at <= ?
  AND segment IS NOT NULL
ORDER BY checked_at DESC, id DESC LIMIT 1
"""


def _cannot_write(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    readonly = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM}
    text = str(exc).lower()
    return code in readonly or "readonly" in text or "read-only" in text or "unable to open" in text


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection: ``mode=ro``; on storage where SQLite cannot even make
    its WAL index (a read-only folder), ``immutable=1`` (nothing can change it there)."""
    uri = path.resolve().as_uri()
    last: sqlite3.Error | None = None
    for query in ("mode=ro", "mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(
                f"{uri}?{query}", uri=True, timeout=BUSY_TIMEOUT, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.Error as exc:
            last = exc
            with contextlib.suppress(Exception):
                db.close()
    if not os.access(path, os.R_OK):
        raise HistoryError(f"{path}: cannot read the history (permission denied)")
    raise HistoryError(f"{path}: cannot read the history ({last})")


class HistoryError(sqlite3.DatabaseError):
    """The history file cannot be used (written by a newer creditwatch, not a
    database); the message names the file. Public as ``creditwatch.HistoryError``;
    being a ``sqlite3.DatabaseError``, ``except sqlite3.Error`` catches it too."""


def default_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$CREDITWATCH_DB``, else ``$XDG_DATA_HOME/creditwatch/history.sqlite3``
    (``~/.local/share`` when XDG_DATA_HOME is unset, empty or relative)."""
    env = os.environ if environ is None else environ
    explicit = env.get("CREDITWATCH_DB", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    data = env.get("XDG_DATA_HOME", "").strip()
    base = Path(data) if data and Path(data).is_absolute() else Path.home() / ".local" / "share"
    return base / "creditwatch" / "history.sqlite3"


@attrs.frozen(kw_only=True)
class Check:
    """One check to record: a balance, or the error that replaced it."""

    provider: str
    outcome: Balance[object] | BaseException
    account: str = ""
    at: datetime | None = None
    """When it was checked; default: the balance's ``checked_at``, or now."""

    def timestamp(self) -> float:
        if self.at is not None:
            return self.at.timestamp()
        if isinstance(self.outcome, Balance):
            return self.outcome.checked_at.timestamp()
        return time.time()


@attrs.frozen(kw_only=True)
class Latest:
    """The latest successful check of a series."""

    at: datetime
    remaining: float | None
    limit: float | None
    unlimited: bool
    unit: str | None
    plan: str | None
    resets_at: datetime | None
    expires_at: datetime | None


@attrs.frozen(kw_only=True)
class Series:
    """One provider/account over a window: counts, the latest values, the fit."""

    provider: str
    account: str
    checks: int
    failures: int
    last_check_at: datetime
    last_error: str | None
    """The error class of the latest check; None when it succeeded."""
    latest: Latest | None
    fit: Fit
    trend: list[float | None]
    """Remaining credits over the window, for `creditwatch._forecast.sparkline`."""

    def forecast(self, current: Balance[object] | None = None) -> Forecast:
        """The forecast from the window, plus ``current`` when it is newer than the
        latest recorded check (a check that was not recorded)."""
        fit, latest = self.fit, self.latest
        resets_at = None if latest is None else latest.resets_at
        unlimited = latest is not None and latest.unlimited
        if current is not None and current.remaining is not None:
            at = current.checked_at.timestamp()
            if fit.last is None or at > fit.last[0]:
                fit = fit.copy()
                fit.add(at, current.remaining)
            resets_at, unlimited = current.resets_at, current.unlimited
        return forecast(fit, resets_at=resets_at, unlimited=unlimited)


def _real(value: float | None) -> float | None:
    """A number as SQLite's REAL (an int beyond 2**63 would not bind as INTEGER)."""
    return None if value is None else float(value)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class History:
    """An open history database (``":memory:"`` for one that lives in memory).

    Opening creates the file and its folder when missing and migrates an older
    schema; a context manager."""

    path: str | os.PathLike[str]
    """The database file (a `Path`), or ``":memory:"``."""

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = path if str(path) == ":memory:" else Path(path)
        if readonly and isinstance(self.path, Path):
            self._db = _open_readonly(self.path)
            try:
                self._check_readable()
            except BaseException:
                self._db.close()
                raise
            return
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise HistoryError(f"{self.path}: cannot open the history ({exc})") from None
        try:
            _patiently(lambda: self._db.execute("PRAGMA journal_mode = WAL").fetchall())
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except HistoryError:
            self._db.close()
            raise
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if _cannot_write(exc):
                raise HistoryError(
                    f"{self.path}: cannot write to the history: the file or its folder "
                    f"is read-only ({exc})"
                ) from None
            raise HistoryError(f"{self.path}: not a creditwatch history ({exc})") from None

    def _check_readable(self) -> None:
        try:
            version = self._version()
        except HistoryError:
            raise
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{self.path}: not a creditwatch history ({exc})") from None
        if version != SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path}: not a creditwatch history, or one that needs upgrading "
                f"(schema version {version}), and it cannot be written to upgrade it"
            )

    @classmethod
    def existing(cls, path: str | os.PathLike[str], *, readonly: bool = False) -> History | None:
        """The history at ``path``, or None when there is no such file yet
        (``readonly``: opened for reading only, so that read-only storage works)."""
        return cls(path, readonly=readonly) if Path(path).is_file() else None

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------

    def _version(self) -> int:
        version: int = _patiently(lambda: self._db.execute("PRAGMA user_version").fetchone())[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path}: written by a newer creditwatch (schema version {version}; "
                f"this one knows up to {SCHEMA_VERSION}); upgrade creditwatch"
            )
        return version

    def _migrate(self) -> None:
        if self._version() == SCHEMA_VERSION:
            return
        with self._transaction():
            version = self._version()  # again, under the write lock: another may have won
            for steps in MIGRATIONS[version:]:
                for statement in steps:
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` (take the write lock now, waiting up to the busy
        timeout) ... ``COMMIT``; ``ROLLBACK`` on any exception, Ctrl-C included."""
        _patiently(lambda: self._db.execute("BEGIN IMMEDIATE"))
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- writing ------------------------------------------------------------------------

    def add(self, checks: Iterable[Check]) -> int:
        """Record one check of one or more providers/accounts, in one transaction."""
        checks = list(checks)
        with self._transaction():
            for check in checks:
                self._insert(check)
        return len(checks)

    def _insert(self, check: Check) -> None:
        at = check.timestamp()
        outcome = check.outcome
        if not isinstance(outcome, Balance):
            self._db.execute(
                "INSERT INTO checks (checked_at, provider, account, error) VALUES (?, ?, ?, ?)",
                (at, check.provider, check.account, type(outcome).__name__),
            )
            return
        segment: tuple[int | None, float | None, float | None] = (None, None, None)
        if outcome.remaining is not None:
            previous = self._db.execute(
                "SELECT remaining, segment, segment_start, segment_level FROM checks "
                "WHERE provider = ? AND account = ? AND segment IS NOT NULL "
                "AND checked_at <= ? ORDER BY checked_at DESC, id DESC LIMIT 1",
                (check.provider, check.account, at),
            ).fetchone()
            remaining = _real(outcome.remaining)
            if previous is None:
                segment = (0, at, remaining)
            elif outcome.remaining > previous[0]:  # a reset or top-up: a new segment
                segment = (previous[1] + 1, at, remaining)
            else:
                segment = previous[1:]
        self._db.execute(
            "INSERT INTO checks (checked_at, provider, account, remaining, credit_limit, "
            "unlimited, unit, plan, resets_at, expires_at, segment, segment_start, "
            "segment_level) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                at,
                check.provider,
                check.account,
                _real(outcome.remaining),
                _real(outcome.limit),
                int(outcome.unlimited),
                outcome.unit,
                outcome.plan,
                _ts(outcome.resets_at),
                _ts(outcome.expires_at),
                *segment,
            ),
        )

    def prune(self, before: float) -> int:
        """Delete the checks made before ``before`` (unix seconds); return how many."""
        with self._transaction():
            return self._db.execute("DELETE FROM checks WHERE checked_at < ?", (before,)).rowcount

    # -- reading ------------------------------------------------------------------------

    def series(
        self,
        *,
        since: float,
        until: float | None = None,
        providers: Sequence[str] | None = None,
        width: int = 24,
    ) -> list[Series]:
        """Every provider/account with a check in ``[since, until]`` (unix seconds),
        sorted by provider and account, each with its fit and ``width`` trend values."""
        window = (since, time.time() if until is None else until)
        groups = self._db.execute(_SEGMENTS, {"since": window[0], "until": window[1]})
        found: dict[tuple[str, str], tuple[list[Segment], list[int]]] = {}
        rows = sorted(groups, key=lambda g: (g[0], g[1], -1 if g[2] is None else g[2]))
        for provider, account, segment, n, errors, *sums in rows:
            if providers and provider not in providers:
                continue
            segments, counts = found.setdefault((provider, account), ([], [0, 0]))
            counts[0] += n
            counts[1] += errors
            if segment is not None:
                segments.append(_segment(n, sums))
        return [
            self._one(key, segments, counts, window, width)
            for key, (segments, counts) in found.items()
        ]

    def _one(
        self,
        series: tuple[str, str],
        segments: list[Segment],
        counts: list[int],
        window: tuple[float, float],
        width: int,
    ) -> Series:
        key = (*series, *window)
        last_at, last_error = self._db.execute(_LAST_CHECK, key).fetchone()
        row = self._db.execute(_LAST_SUCCESS, key).fetchone()
        latest = None
        if row is not None:
            at, remaining, limit, unlimited, unit, plan, resets_at, expires_at = row
            latest = Latest(
                at=datetime.fromtimestamp(at, UTC),
                remaining=remaining,
                limit=limit,
                unlimited=bool(unlimited),
                unit=unit,
                plan=plan,
                resets_at=_dt(resets_at),
                expires_at=_dt(expires_at),
            )
        point = self._db.execute(_LAST_POINT, key).fetchone()
        fit = Fit(
            segments=segments,
            last=None if point is None else (point[0], point[1]),
            points=sum(s.n for s in segments),
        )
        return Series(
            provider=series[0],
            account=series[1],
            checks=counts[0],
            failures=counts[1],
            last_check_at=datetime.fromtimestamp(last_at, UTC),
            last_error=last_error,
            latest=latest,
            fit=fit,
            trend=self._trend(key, segments, width),
        )

    def _trend(
        self, key: tuple[str, str, float, float], segments: list[Segment], width: int
    ) -> list[float | None]:
        """The last remaining value at or before each bucket's end (index seeks): the
        same values as `creditwatch._forecast.trend` gives for the points."""
        if not segments or width < 1:
            return []
        provider, account, since, until = key
        start = min(s.span[0] for s in segments)
        end = max(s.span[1] for s in segments)
        values: list[float | None] = []
        for bucket_end in bucket_ends(start, end, width):
            window = (provider, account, since, min(bucket_end, until))
            row = self._db.execute(_LAST_POINT, window).fetchone()
            values.append(None if row is None else row[1])
        return values


def _segment(n: int, sums: Sequence[float]) -> Segment:
    """A `Segment` from a row of _SEGMENTS (seconds -> days)."""
    t0, r0, st, sr, stt, str_, first, last = sums
    return Segment(
        t0=t0,
        r0=r0,
        n=n,
        st=st / DAY,
        sr=sr,
        stt=stt / DAY**2,
        str_=str_ / DAY,
        first=(first - t0) / DAY,
        last=(last - t0) / DAY,
    )


def record(
    results: Mapping[str, Balance[object] | BaseException] | Iterable[Balance[object]],
    *,
    db: str | os.PathLike[str] | None = None,
    account: str = "",
) -> int:
    """Append one check to the history database; return how many results it holds.

    ``results`` is what `creditwatch.balances` returns (provider -> balance or error)
    or balances. ``db`` defaults to ``$CREDITWATCH_DB`` or
    ``$XDG_DATA_HOME/creditwatch/history.sqlite3``; ``account`` names the account
    the results belong to (default: none, the provider's own key). Errors are recorded
    as their class; no key and no message is ever stored. One transaction: all the
    results are recorded, or none. Raises `sqlite3.Error` (`HistoryError` for a file
    that is not a usable history) or `OSError` when the file cannot be written.
    """
    if isinstance(results, Mapping):
        checks = [Check(provider=p, outcome=o, account=account) for p, o in results.items()]
    else:
        checks = [Check(provider=b.provider, outcome=b, account=account) for b in results]
    with History(default_path() if db is None else db) as history:
        return history.add(checks)
