"""Burn rate and the date credits run out, from a series of checks.

A series is ``(time, remaining)`` points in time order (unix seconds). Credits go
down with use and jump up at a reset or a top-up, so one straight line through all
points would be wrong: every rise starts a new *segment*, and the burn rate is the
least-squares slope shared by all segments (each keeps its own level; the pooled
"within" estimator). Per segment only running sums are kept (`Segment`), so the
history database can aggregate a year of checks in SQL and a live series can grow
one point at a time (`Fit.add`).

Standard library and attrs only: imported by the CLI, the history and the exporter.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal, TypeAlias

import attrs

__all__ = [
    "DAY",
    "Fit",
    "Forecast",
    "Point",
    "Segment",
    "forecast",
    "sparkline",
    "trend",
]

DAY = 86400.0
Point: TypeAlias = tuple[float, float]
"""``(unix seconds, credits remaining)``."""

Kind = Literal["runs_out", "after_reset", "not_running_out", "not_enough_data", "unlimited"]


@attrs.define
class Segment:
    """Running sums of the points between two rises, relative to the segment's first
    point (``t0`` unix seconds, ``r0`` credits): times in days since ``t0``, credits
    minus ``r0``. Relative values keep the sums exact enough for points seconds
    apart, and make a flat segment's slope exactly zero."""

    t0: float
    r0: float
    n: int = 0
    st: float = 0.0
    sr: float = 0.0
    stt: float = 0.0
    str_: float = 0.0
    first: float = math.inf
    last: float = -math.inf
    """First and last time (days since ``t0``)."""

    def add(self, at: float, remaining: float) -> None:
        t, r = (at - self.t0) / DAY, remaining - self.r0
        self.n += 1
        self.st += t
        self.sr += r
        self.stt += t * t
        self.str_ += t * r
        self.first = min(self.first, t)
        self.last = max(self.last, t)

    def moments(self) -> tuple[float, float]:
        """``(sum of (t - mean t)^2, sum of (t - mean t)(r - mean r))``; zero for a
        segment whose points share one time (no slope in it)."""
        if self.n < 2 or self.last <= self.first:
            return 0.0, 0.0
        sxx = self.stt - self.st * self.st / self.n
        sxy = self.str_ - self.st * self.sr / self.n
        return max(sxx, 0.0), sxy

    @property
    def span(self) -> tuple[float, float]:
        """First and last time, unix seconds."""
        return self.t0 + self.first * DAY, self.t0 + self.last * DAY


@attrs.define
class Fit:
    """Segments of one series over a window, and its latest point."""

    segments: list[Segment] = attrs.field(factory=list)
    last: Point | None = None
    points: int = 0

    @classmethod
    def of(cls, points: Iterable[Point]) -> Fit:
        """Fit points given in time order."""
        fit = cls()
        for t, r in points:
            fit.add(t, r)
        return fit

    def copy(self) -> Fit:
        return attrs.evolve(self, segments=[attrs.evolve(s) for s in self.segments])

    def add(self, t: float, r: float) -> None:
        """Append a point (not earlier than the last one); a rise starts a segment."""
        if self.last is None or r > self.last[1]:
            self.segments.append(Segment(t, r))
        self.segments[-1].add(t, r)
        self.last = (t, r)
        self.points += 1

    def used_per_day(self) -> float | None:
        """Credits used per day, or None when no segment has two points apart in time."""
        sxx = sxy = 0.0
        for segment in self.segments:
            xx, xy = segment.moments()
            sxx += xx
            sxy += xy
        if sxx <= 0.0:
            return None
        return max(0.0, -sxy / sxx)


@attrs.frozen(kw_only=True)
class Forecast:
    """When the credits run out at the current rate of use.

    ``kind``: ``runs_out`` (``runs_out_at`` says when), ``after_reset`` (the next
    reset comes first; ``runs_out_at`` is still the projection), ``not_running_out``
    (no use in the window), ``not_enough_data`` (fewer than two points, or no two in
    one segment), ``unlimited``.
    """

    kind: Kind
    used_per_day: float | None = None
    runs_out_at: datetime | None = None
    resets_at: datetime | None = None

    @property
    def text(self) -> str:
        """The table cell: a UTC date, or the reason there is none."""
        if self.kind == "runs_out" and self.runs_out_at is not None:
            return f"{self.runs_out_at.astimezone(UTC):%Y-%m-%d}"
        return {
            "after_reset": "after the next reset",
            "not_running_out": "not at this rate",
            "not_enough_data": "not enough data",
            "unlimited": "unlimited",
        }.get(self.kind, "-")

    def runs_out_within(self, seconds: float, now: datetime) -> bool:
        """True when the credits run out before ``now + seconds`` (already out: True)."""
        if self.kind != "runs_out" or self.runs_out_at is None:
            return False
        return (self.runs_out_at - now).total_seconds() <= seconds


def forecast(fit: Fit, *, resets_at: datetime | None = None, unlimited: bool = False) -> Forecast:
    """The forecast from a fit: the latest point minus the burn rate, unless the next
    reset (a ``resets_at`` after the latest point) comes first."""
    if unlimited:
        return Forecast(kind="unlimited")
    per_day = fit.used_per_day()
    if fit.points < 2 or per_day is None or fit.last is None:
        return Forecast(kind="not_enough_data", used_per_day=per_day)
    t, remaining = fit.last
    if per_day <= 0.0 and remaining > 0:
        return Forecast(kind="not_running_out", used_per_day=0.0)
    seconds = 0.0 if remaining <= 0 else remaining / per_day * DAY
    out = datetime.fromtimestamp(t + min(seconds, 1e11 - t), UTC)  # year < 5138
    reset = resets_at if resets_at is not None and resets_at.timestamp() > t else None
    if reset is not None and reset < out:
        return Forecast(kind="after_reset", used_per_day=per_day, runs_out_at=out, resets_at=reset)
    return Forecast(kind="runs_out", used_per_day=per_day, runs_out_at=out, resets_at=reset)


# -- sparkline ------------------------------------------------------------------------

BARS = "▁▂▃▄▅▆▇█"


def trend(points: Sequence[Point], width: int = 24) -> list[float | None]:
    """``width`` values over the points' time span: each bucket's value is the last
    point at or before the bucket's end (credits stay put between checks)."""
    if not points:
        return []
    times = [t for t, _ in points]
    return [
        points[i - 1][1] if (i := bisect.bisect_right(times, end)) else None
        for end in bucket_ends(times[0], times[-1], width)
    ]


def bucket_ends(start: float, end: float, width: int) -> list[float]:
    """The end of each of ``width`` equal buckets from ``start`` to ``end``; the last
    one is ``end`` exactly."""
    step = (end - start) / width
    return [start + step * (i + 1) for i in range(width - 1)] + [end]


def sparkline(values: Sequence[float | None]) -> str:
    """``▁▂▃▄▅▆▇█`` from the lowest to the highest value; a flat series is ``▄``; a
    missing value is a space."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    top = len(BARS) - 1
    out = []
    for value in values:
        if value is None:
            out.append(" ")
        elif high == low:
            out.append(BARS[3])
        else:
            out.append(BARS[round((value - low) / (high - low) * top)])
    return "".join(out)
