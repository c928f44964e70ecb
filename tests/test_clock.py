"""Every check that reads the clock, run at the year's turn in the zones furthest from
UTC: 31 December 23:59 and 1 January 00:00, in UTC+14 and in UTC-12 (`year_end`,
tests/conftest.py; time-machine freezes the clock and sets the machine's zone).

The expectations come from the frozen moment's hand-worked UTC values, so the same
test checks the same thing any day of the year, in any zone (issue 21). Exorde's
monthly reset is checked the same way in tests/test_balance.py (`test_exorde`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import creditwatch
import pytest
from creditwatch._cli import Row, status
from creditwatch._forecast import DAY, Fit, forecast
from creditwatch._history import Check, History

from conftest import Clock


def test_the_clock_and_the_zone_are_the_frozen_ones(year_end: Clock) -> None:
    """The fixture really moves the machine: otherwise the tests below prove nothing."""
    assert datetime.now(UTC) == year_end.wall
    assert time.time() == year_end.wall.timestamp()
    assert datetime.now().astimezone().utcoffset() == year_end.wall.utcoffset()
    assert time.strftime("%Y-%m-%d %H:%M") == f"{year_end.wall:%Y-%m-%d %H:%M}"
    assert datetime.now(UTC).date().isoformat() == year_end.utc_date


def test_a_balance_is_checked_at_now_in_utc(year_end: Clock) -> None:
    balance = creditwatch.Balance(provider="flamel", remaining=1, limit=None, account=None)
    assert balance.checked_at == year_end.wall
    assert balance.checked_at.utcoffset() == timedelta(0)


def test_an_error_is_recorded_as_of_now(year_end: Clock, tmp_path: Path) -> None:
    check = Check(provider="flamel", outcome=TimeoutError("no answer"))
    assert check.timestamp() == year_end.wall.timestamp()
    with History(tmp_path / "h.sqlite3") as history:
        history.add([check])
        (series,) = history.series(since=0)  # until: now
    assert series.last_check_at == year_end.wall
    assert f"{series.last_check_at:%Y-%m-%d}" == year_end.utc_date


@pytest.mark.parametrize("days_left", [0.5, 1.0, 40.0])
def test_the_run_out_date_is_a_utc_date(year_end: Clock, days_left: float) -> None:
    """10 credits a day, `days_left` days of them left at the latest check (now)."""
    now = time.time()
    fit = Fit.of([(now - DAY, 10 * days_left + 10), (now, 10 * days_left)])
    result = forecast(fit)
    assert result.kind == "runs_out"
    expected = (year_end.wall + timedelta(days=days_left)).astimezone(UTC).date()
    assert result.text == expected.isoformat()


@pytest.mark.parametrize(
    ("days_left", "within_days", "expected"),
    [
        (0.5, 1.0, "runs out"),
        (0.5, 0.25, "ok"),
        (2.0, 1.0, "ok"),
        (2.0, 3.0, "runs out"),
    ],
)
def test_cli_runs_out_status_counts_from_now(
    year_end: Clock, days_left: float, within_days: float, expected: str
) -> None:
    now = time.time()
    fit = Fit.of([(now - DAY, 10 * days_left + 10), (now, 10 * days_left)])
    balance = creditwatch.Balance(
        provider="flamel", remaining=10 * days_left, limit=None, account=None
    )
    row = Row("flamel", balance, forecast=forecast(fit))
    assert status(row, None, within=within_days * DAY) == expected


@pytest.mark.parametrize("mode", ["before", "after"])
def test_a_reset_after_the_turn_of_the_year_comes_first(year_end: Clock, mode: str) -> None:
    """Exorde's next reset (a month start in UTC) against a run-out date either side."""
    now = time.time()
    reset = year_end.next_month_utc
    days_to_reset = (reset.timestamp() - now) / DAY
    days_left = days_to_reset + (1 if mode == "after" else -0.1)
    fit = Fit.of([(now - DAY, 10 * days_left + 10), (now, 10 * days_left)])
    result = forecast(fit, resets_at=reset)
    assert result.kind == ("after_reset" if mode == "after" else "runs_out")
