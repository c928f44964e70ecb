"""Burn rate, forecast and sparkline on hand-computed series.

Every expected number below was worked out by hand (the working is in the comments),
not taken from the code: the burn rate is the least-squares slope shared by the
segments between rises (each segment keeps its own level).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from creditwatch._forecast import DAY, Fit, forecast, sparkline, trend

T0 = 1_780_000_000.0  # 2026-05-28, any instant will do


def days(*values: tuple[float, float]) -> list[tuple[float, float]]:
    """(day, remaining) -> (unix seconds, remaining)."""
    return [(T0 + d * DAY, r) for d, r in values]


def at_day(d: float) -> datetime:
    return datetime.fromtimestamp(T0 + d * DAY, UTC)


@dataclass(frozen=True)
class Case:
    name: str
    points: list[tuple[float, float]]
    used_per_day: float | None
    runs_out_day: float | None  # None: no date


CASES = [
    # 100 -> 70 over 3 days: 10 a day; 70 left at day 3 -> 7 more days.
    Case("steady", days((0, 100), (1, 90), (2, 80), (3, 70)), 10.0, 10.0),
    # The same use on both sides of a reset to 100 at day 3: still 10 a day (one
    # straight line through all six points gives 40 / 17.5 = 2.29); 80 left at day 5.
    Case(
        "reset in the middle",
        days((0, 100), (1, 90), (2, 80), (3, 100), (4, 90), (5, 80)),
        10.0,
        13.0,
    ),
    # A top-up from 60 to 560 at day 3. Segment 1 (days 0-2): sxx = 2, sxy = -40;
    # segment 2 (days 3-4): sxx = 0.5, sxy = -15. Shared slope -55 / 2.5 = -22 a day;
    # 530 left at day 4 -> 530 / 22 = 24.0909... days later.
    Case("top-up", days((0, 100), (1, 80), (2, 60), (3, 560), (4, 530)), 22.0, 4 + 530 / 22),
    # Nothing used.
    Case("flat", days((0, 100), (1, 100), (2, 100)), 0.0, None),
    # One point: no rate.
    Case("one point", days((0, 100)), None, None),
    # Two points, the second one higher: a rise, so two one-point segments: no rate.
    Case("only a rise", days((0, 10), (1, 100)), None, None),
    # Uneven spacing on one line: 5 in half a day, 15 in 1.5 days: 10 a day.
    Case("uneven spacing", days((0, 100), (0.5, 95), (2, 80)), 10.0, 10.0),
    # A top-up at the latest check: its one-point segment adds nothing to the rate
    # (10 a day from days 0-2); 500 left at day 3 -> 50 more days.
    Case("top-up at the last check", days((0, 100), (1, 90), (2, 80), (3, 500)), 10.0, 53.0),
    # Run down to 0 and reset to 10, twice: three segments (sxx 0.5, 0.5, 0.125; sxy -5,
    # -5, -0.5): 10.5 / 1.125 = 9.33 a day; 8 left at day 4.5.
    Case(
        "runs out and resets, twice",
        days((0, 10), (1, 0), (2, 10), (3, 0), (4, 10), (4.5, 8)),
        10.5 / 1.125,
        4.5 + 8 / (10.5 / 1.125),
    ),
    # Nothing left and nothing used: out already, at the latest check (not "not at this
    # rate": no use, but no credits either).
    Case("flat at zero", days((0, 0), (1, 0)), 0.0, 1.0),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_burn_rate_and_forecast(case: Case) -> None:
    fit = Fit.of(case.points)
    result = forecast(fit)

    if case.used_per_day is None:
        assert fit.used_per_day() is None
        assert result.kind == "not_enough_data"
        assert result.text == "not enough data"
    else:
        assert result.used_per_day == pytest.approx(case.used_per_day, rel=1e-9)
    if case.runs_out_day is None:
        assert result.runs_out_at is None
        assert result.kind != "runs_out"
    else:
        assert result.kind == "runs_out"
        assert result.runs_out_at is not None
        assert result.runs_out_at.timestamp() == pytest.approx(T0 + case.runs_out_day * DAY)
        assert result.text == f"{at_day(case.runs_out_day):%Y-%m-%d}"


def test_flat_is_not_running_out() -> None:
    result = forecast(Fit.of(days((0, 100), (1, 100), (2, 100))))

    assert result.kind == "not_running_out"
    assert result.text == "not at this rate"
    assert not result.runs_out_within(1e9, at_day(2))


def test_a_reset_before_the_run_out_date_comes_first() -> None:
    fit = Fit.of(CASES[1].points)  # runs out at day 13

    before = forecast(fit, resets_at=at_day(9))
    after = forecast(fit, resets_at=at_day(20))
    past = forecast(fit, resets_at=at_day(4))  # before the latest check: stale, ignored

    assert before.kind == "after_reset"
    assert before.text == "after the next reset"
    assert before.resets_at == at_day(9)
    assert not before.runs_out_within(30 * DAY, at_day(5))
    assert after.kind == "runs_out"
    assert after.runs_out_at == at_day(13)
    assert past.kind == "runs_out"
    assert past.resets_at is None


def test_runs_out_within() -> None:
    result = forecast(Fit.of(CASES[0].points))  # day 10; "now" is day 3

    assert result.runs_out_within(7 * DAY, at_day(3))
    assert not result.runs_out_within(7 * DAY - 60, at_day(3))
    assert result.runs_out_within(timedelta(days=8).total_seconds(), at_day(3))


def test_nothing_left_runs_out_at_the_last_check() -> None:
    result = forecast(Fit.of(days((0, 20), (1, 10), (2, 0))))

    assert result.kind == "runs_out"
    assert result.runs_out_at == at_day(2)
    assert result.runs_out_within(0, at_day(2))


def test_unlimited_has_no_forecast() -> None:
    result = forecast(Fit.of(CASES[0].points), unlimited=True)

    assert result.kind == "unlimited"
    assert result.runs_out_at is None


def test_points_seconds_apart_keep_their_precision() -> None:
    # Times about 1.8e9 s: relative sums keep a flat pair exactly flat, and one
    # credit a minute exactly 1440 a day.
    assert Fit.of([(T0, 8542.0), (T0 + 60, 8542.0)]).used_per_day() == 0.0
    one_a_minute = Fit.of([(T0, 8542.0), (T0 + 60, 8541.0), (T0 + 120, 8540.0)])
    assert one_a_minute.used_per_day() == pytest.approx(1440.0, rel=1e-9)


def test_fit_grows_one_point_at_a_time() -> None:
    whole = Fit.of(CASES[2].points)
    grown = Fit.of(CASES[2].points[:3])
    copy = grown.copy()
    for t, r in CASES[2].points[3:]:
        grown.add(t, r)

    assert grown.used_per_day() == pytest.approx(whole.used_per_day())
    assert len(grown.segments) == 2
    assert copy.points == 3  # a copy does not change with the original


# -- sparkline ------------------------------------------------------------------------


def test_sparkline_scales_from_lowest_to_highest() -> None:
    # 0 -> lowest bar, 7 -> highest, 3.5 -> halfway (index 3.5, rounded to 4), None -> gap
    assert sparkline([0, 7, None, 3.5]) == "▁█ ▅"
    # v / 10 * 7 = 7, 5.6, 4.2, 2.8, 1.4, 0 -> bars 7, 6, 4, 3, 1, 0
    assert sparkline([10, 8, 6, 4, 2, 0]) == "█▇▅▄▂▁"


def test_sparkline_flat_and_empty() -> None:
    assert sparkline([5, 5, 5]) == "▄▄▄"
    assert sparkline([]) == ""
    assert sparkline([None, None]) == "  "


def test_trend_keeps_the_last_value_of_each_bucket() -> None:
    # Span 0..10 in 4 buckets ending at 2.5, 5, 7.5 and 10: the value at 0 holds
    # until the check at 10.
    assert trend([(0.0, 10.0), (10.0, 5.0)], width=4) == [10.0, 10.0, 10.0, 5.0]
    assert trend([(0.0, 3.0), (1.0, 2.0), (2.0, 1.0)], width=2) == [2.0, 1.0]
    assert trend([], width=3) == []


# -- boundaries (mutation testing, issue 21) ----------------------------------------------


def test_less_than_one_credit_left_still_lasts() -> None:
    # 1 credit a day, half a credit left: it runs out half a day after the last check.
    result = forecast(Fit.of(days((0, 1.5), (1, 0.5))))

    assert result.kind == "runs_out"
    assert result.runs_out_at == at_day(1.5)


def test_a_reset_at_the_run_out_moment_does_not_come_first() -> None:
    fit = Fit.of(CASES[1].points)  # runs out at day 13

    result = forecast(fit, resets_at=at_day(13))

    assert result.kind == "runs_out"
    assert result.runs_out_at == at_day(13)
    assert result.resets_at == at_day(13)


def test_forecast_options_are_keyword_only() -> None:
    fit = Fit.of(CASES[1].points)
    with pytest.raises(TypeError):
        forecast(fit, at_day(9))  # type: ignore[call-arg]


def test_sparkline_scales_from_a_lowest_value_above_zero() -> None:
    # (v - 10) / 10 * 7 = 0, 7, 3.5 (rounded to 4), 1.4 -> bars 0, 7, 4, 1
    assert sparkline([10, 20, 15, 12]) == "▁█▅▂"


def test_a_run_out_date_beyond_the_calendar_is_capped() -> None:
    # 1e-12 credits a day, 1000 left: 1e15 days, past datetime's year 9999. The date
    # is capped at 1e11 s (year 5138) instead of overflowing.
    result = forecast(Fit.of(days((0, 1000 + 1e-12), (1, 1000))))

    assert result.kind == "runs_out"
    assert result.runs_out_at == datetime.fromtimestamp(1e11, UTC)


def test_trend_has_24_values_by_default() -> None:
    assert len(trend(CASES[0].points)) == 24


def test_trend_buckets_start_at_the_first_point() -> None:
    # Span 10..20 in 4 buckets ending at 12.5, 15, 17.5 and 20.
    assert trend([(10.0, 10.0), (20.0, 5.0)], width=4) == [10.0, 10.0, 10.0, 5.0]


def test_flat_below_one_credit_is_not_running_out() -> None:
    result = forecast(Fit.of(days((0, 0.5), (1, 0.5))))

    assert result.kind == "not_running_out"
    assert result.used_per_day == 0.0


def test_trend_buckets_are_equal() -> None:
    # Span 0..10 in 4 buckets ending at 2.5, 5, 7.5 and 10; the check at 5 ends the 2nd.
    assert trend([(0.0, 3.0), (5.0, 2.0), (10.0, 1.0)], width=4) == [3.0, 2.0, 2.0, 1.0]


def test_a_reset_at_the_latest_check_is_stale() -> None:
    fit = Fit.of(CASES[1].points)  # runs out at day 13; latest check at day 5

    result = forecast(fit, resets_at=at_day(5))

    assert result.kind == "runs_out"
    assert result.resets_at is None
