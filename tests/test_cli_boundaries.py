"""The command line at its boundaries (issue 21): an option's value exactly at its
limit, a table exactly as wide as the terminal, a date exactly now, a provider's own
UTC offset, the usage line of a wrong command, --concurrency at 1.

Most cases call the command line's own functions in this process (as tests/test_clock.py
and tests/test_hostile.py do): each is a documented behaviour (the epilogs, the README,
the docstrings of ``creditwatch._cli``), and a subprocess per table width or per frozen
instant would cost half a second each. The run that needs the network is one
``python -m creditwatch`` (`run_cli`).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import creditwatch
import creditwatch._cli
import pytest
import time_machine
from creditwatch._accounts import Account, check_accounts
from creditwatch._cli import (
    Progress,
    Row,
    Threshold,
    exit_status,
    parse_args,
    redact,
    render_history,
    render_history_json,
    render_json,
    render_table,
    status,
)
from creditwatch._forecast import Forecast
from creditwatch._history import Check, History

from _faults import FaultServer, json_reply, slow_reply
from conftest import FAKE_KEY, ROOT
from test_accounts import InFlight
from test_cli import (
    base_env,
    configured_env,
    example,
    expected,
    operation_paths,
    parse_table,
    run_cli,
)

PROVIDERS = creditwatch.PROVIDERS
NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def balance(
    provider: str,
    remaining: float | None,
    limit: float | None,
    *,
    plan: str | None = None,
    unlimited: bool = False,
    resets_at: datetime | None = None,
    expires_at: datetime | None = None,
    name: str | None = None,
    forecast: Forecast | None = None,
) -> Row:
    return Row(
        provider,
        creditwatch.Balance(
            provider=provider,
            remaining=remaining,
            limit=limit,
            unlimited=unlimited,
            plan=plan,
            resets_at=resets_at,
            expires_at=expires_at,
            account={"id": 1},
        ),
        name=name,
        forecast=forecast,
    )


# -- options: a number of seconds is > 0 ----------------------------------------------


SECONDS_OPTIONS = [("balances", "--timeout"), ("balances", "--deadline"), ("serve", "--interval")]


@pytest.mark.parametrize(("command", "option"), SECONDS_OPTIONS)
@pytest.mark.parametrize("value", ["0", "0.0", "-0.5", "-1", "-2", "nan", "inf", "-inf"])
def test_seconds_options_reject_zero_negative_and_non_finite(
    command: str, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert parse_args([command, f"{option}={value}"]) == 2  # exit status 2: wrong arguments
    assert f"expected seconds > 0, got '{value}'" in capsys.readouterr().err


@pytest.mark.parametrize(("command", "option"), SECONDS_OPTIONS)
@pytest.mark.parametrize("value", ["0.001", "1", "2.5"])
def test_seconds_options_accept_any_positive_number(command: str, option: str, value: str) -> None:
    args = parse_args([command, option, value])
    assert isinstance(args, argparse.Namespace)
    assert getattr(args, option.lstrip("-")) == float(value)


# -- a usage error names the subcommand's own usage -----------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["balances", "flamingo"], "unknown provider 'flamingo'"),
        (["history", "flamingo"], "unknown provider 'flamingo'"),
        (["balances", "--concurrency", "4"], "--concurrency applies to --accounts only"),
    ],
)
def test_usage_error_prints_the_subcommands_usage_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert parse_args(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: creditwatch {argv[0]} [-h]"), err
    assert message in err


# -- --accounts --concurrency 1: one request at a time ---------------------------------


def test_concurrency_one_sends_one_request_at_a_time(tmp_path: Path) -> None:
    provider = next(p for p in PROVIDERS if len(operation_paths(p)) == 1)  # one call each
    [(op_id, path)] = operation_paths(provider).items()
    with FaultServer() as server:
        counter = InFlight(json_reply(example(provider, op_id)), delay=0.05)
        server.script_path(path, counter)
        accounts = tmp_path / "accounts.toml"
        accounts.write_text(
            "".join(
                f'[[account]]\nname = "a{i}"\nprovider = "{provider}"\n'
                f'key_env = "ACCT_{i}"\nbase_url = "{server.base_url}"\n'
                for i in range(3)
            ),
            encoding="utf-8",
        )
        keys = {f"ACCT_{i}": f"{FAKE_KEY}-{i}" for i in range(3)}

        run = run_cli(
            "balances", "--accounts", str(accounts), "--concurrency", "1", env=base_env() | keys
        )

    assert run.returncode == 0, run.stderr
    assert list(parse_table(run.stdout)) == ["a0", "a1", "a2"]
    assert counter.total >= 3
    assert counter.max == 1


# -- the table split to fit a width -----------------------------------------------------


def sample_rows() -> list[Row]:
    """One row per provider, of different widths, plus a failed and an unconfigured one."""
    rows = [
        balance(
            p,
            12345.5 * 10**i,
            10**7 * (i + 1),
            plan=f"plan {'x' * 3 * i}",
            resets_at=NOW + timedelta(days=i),
        )
        for i, p in enumerate(PROVIDERS)
    ]
    return [*rows, Row(PROVIDERS[0], TimeoutError("no answer")), Row(PROVIDERS[-1], None)]


def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def blocks(text: str) -> list[list[str]]:
    return [block.splitlines() for block in text.split("\n\n")]


def test_table_split_to_fit_each_width() -> None:
    """`--help` of `demo`: the table fits the terminal. A table exactly as wide as the
    width is one table; one column too many and it is split into tables that fit
    (a table of the first column and one other may be wider: that column alone does
    not fit), each repeating the first column; a split happens only where the next
    column would not fit."""
    rows = sample_rows()
    whole = render_table(rows, None)
    lines = whole.splitlines()
    header = cells(lines[0])
    table = [cells(line) for line in lines]
    assert all(len(line) == len(header) for line in table), whole
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    full = max(map(len, lines))
    assert full == sum(widths) + 2 * (len(widths) - 1)

    for width in range(1, full + 3):
        text = render_table(rows, None, width=width)
        if width >= full:
            assert text == whole, width
            continue
        parts = blocks(text)
        assert len(parts) >= 2, width
        shown: list[str] = []
        for number, part in enumerate(parts):
            names = cells(part[0])
            assert names[0] == header[0], (width, names)
            assert len(names) >= 2, (width, names)  # never the first column alone
            assert [cells(line)[0] for line in part] == [line[0] for line in table]
            columns = [header.index(name) for name in names]
            used = max(map(len, part))
            assert used == sum(widths[i] for i in columns) + 2 * (len(columns) - 1)
            assert used <= width or len(columns) == 2, (width, names)
            if number + 1 < len(parts):
                following = header.index(cells(parts[number + 1][0])[1])
                assert used + 2 + widths[following] > width, (width, names)
            shown += names[1:]
        assert shown == header[1:], width


# -- dates: "(past)" from the very instant, the provider's offset --------------------


@pytest.mark.parametrize(
    ("field", "offset", "word", "past", "status"),
    [
        ("resets_at", timedelta(days=-400), "resets", True, "ok"),
        ("resets_at", timedelta(minutes=-1), "resets", True, "ok"),
        ("resets_at", timedelta(0), "resets", True, "ok"),
        ("resets_at", timedelta(microseconds=1), "resets", False, "ok"),
        ("resets_at", timedelta(days=1), "resets", False, "ok"),
        ("expires_at", timedelta(days=-400), "expires", True, "expired"),
        ("expires_at", timedelta(0), "expires", True, "expired"),
        ("expires_at", timedelta(microseconds=1), "expires", False, "ok"),
        ("expires_at", timedelta(days=400), "expires", False, "ok"),
    ],
)
def test_a_date_that_is_now_or_earlier_is_marked_past(
    field: str, offset: timedelta, word: str, past: bool, status: str
) -> None:
    when = NOW + offset
    dates = {field: when}
    rows = [
        balance(p, 100, 1000, resets_at=dates.get("resets_at"), expires_at=dates.get("expires_at"))
        for p in PROVIDERS
    ]
    with time_machine.travel(NOW, tick=False):
        table = parse_table(render_table(rows, None))
        objects = json.loads(render_json(rows, None))
    for provider in PROVIDERS:
        cell = table[provider]["resets/expires"]
        assert cell == f"{word} {when:%Y-%m-%d %H:%M} UTC" + (" (past)" if past else "")
        assert table[provider]["status"] == status
    assert {o["status"] for o in objects} == {status}


@pytest.mark.parametrize(
    ("offset", "shown"),
    [
        (timedelta(0), "UTC"),
        (timedelta(hours=5, minutes=30), "+05:30"),
        (timedelta(hours=-3), "-03:00"),
        (timedelta(hours=-9, minutes=-30), "-09:30"),
        (timedelta(hours=14), "+14:00"),
        (timedelta(hours=5, minutes=45, seconds=15), "+05:45"),  # minutes, as the time
    ],
)
def test_a_date_is_shown_in_the_providers_own_offset(offset: timedelta, shown: str) -> None:
    """``2025-01-01 00:00 UTC``, or with the provider's own offset when it gave one."""
    zone = timezone(offset)
    resets = datetime(2031, 2, 3, 4, 5, 59, tzinfo=zone)
    expires = datetime(2032, 12, 31, 23, 59, tzinfo=zone)
    rows = [
        balance(PROVIDERS[0], 100, 1000, resets_at=resets),
        balance(PROVIDERS[-1], 100, 1000, expires_at=expires),
    ]
    with time_machine.travel(NOW, tick=False):
        table = parse_table(render_table(rows, None))
    assert table[PROVIDERS[0]]["resets/expires"] == f"resets 2031-02-03 04:05 {shown}"
    assert table[PROVIDERS[-1]]["resets/expires"] == f"expires 2032-12-31 23:59 {shown}"


# -- history --json -----------------------------------------------------------------


def test_history_json_is_indented_like_balances_json() -> None:
    """Both print the README's layout: a list of objects, two spaces per level."""
    rows = [balance(p, 100, 1000) for p in PROVIDERS]
    with History(":memory:") as history:
        history.add(
            Check(provider=row.provider, outcome=row.outcome)
            for row in rows
            if isinstance(row.outcome, creditwatch.Balance)
        )
        series = history.series(since=0)
    text = render_history_json(series)
    assert text == json.dumps(json.loads(text), indent=2)
    assert textwrap.dedent(text) == text
    assert '\n  {\n    "provider": ' in text
    balances = render_json(rows, None)
    assert '\n  {\n    "provider": ' in balances


# -- whole numbers and durations at their bounds --------------------------------------


@pytest.mark.parametrize(
    ("argv", "option", "value"),
    [
        (["serve", "--port", "0"], "port", 0),  # 0: any free port
        (["serve", "--port", "65535"], "port", 65535),
        (["serve", "--port", "65536"], "port", None),
        (["serve", "--port", "-1"], "port", None),
        (["serve", "--listen", "127.0.0.1:65535"], "port", 65535),
        (["serve", "--listen", "127.0.0.1:65536"], "port", None),
        (["demo", "--port", "0"], "port", 0),
        (["demo", "--port", "65535"], "port", 65535),
        (["demo", "--port", "65536"], "port", None),
        (["balances", "--max-response-bytes", "0"], "max_response_bytes", 0),  # 0: no limit
        (["balances", "--max-response-bytes", "1"], "max_response_bytes", 1),
        (["balances", "--max-response-bytes", "-1"], "max_response_bytes", None),
        (["serve", "--concurrency", "1"], "concurrency", 1),
        (["serve", "--concurrency", "0"], "concurrency", None),
        (["balances", "--accounts", "a.toml", "--concurrency", "1"], "concurrency", 1),
        (["balances", "--accounts", "a.toml", "--concurrency", "0"], "concurrency", None),
    ],
)
def test_whole_number_options_accept_their_bounds_and_reject_one_past(
    argv: list[str], option: str, value: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """None: the value is refused (exit status 2, the reason on stderr)."""
    args = parse_args(argv)
    if value is None:
        assert args == 2
        bounds = "from 0 to 65535" if option == "port" else ">= 0" if "bytes" in option else ">= 1"
        assert f"expected a number {bounds}, got '{argv[-1].rpartition(':')[2]}'" in (
            capsys.readouterr().err
        )
    else:
        assert isinstance(args, argparse.Namespace)
        assert getattr(args, option) == value


DURATIONS = [
    ("1s", 1),
    ("45s", 45),
    ("0.5s", 0.5),
    ("1m", 60),
    ("90m", 5400),
    ("1h", 3600),
    ("1.5h", 5400),
    ("12h", 43200),
    ("1d", 86400),
    ("30d", 30 * 86400),
    ("1w", 7 * 86400),
    ("2w", 14 * 86400),
]


@pytest.mark.parametrize("listen", [":9464", "[]:9464", "9464", "localhost"])
def test_listen_needs_a_host_and_a_port(listen: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_args(["serve", f"--listen={listen}"]) == 2
    assert f"expected HOST:PORT (0.0.0.0:9464), got '{listen}'" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--since", "--runs-out-within"])
@pytest.mark.parametrize(("text", "seconds"), DURATIONS)
def test_durations_are_read_in_seconds(option: str, text: str, seconds: float) -> None:
    command = "history" if option == "--since" else "balances"
    args = parse_args([command, option, text])
    assert isinstance(args, argparse.Namespace)
    assert getattr(args, option.lstrip("-").replace("-", "_")) == seconds


@pytest.mark.parametrize("text", ["0s", "0d", "0.0w", "-1d", "1y", "d", "1 d x"])
def test_a_zero_or_malformed_duration_is_refused(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert parse_args(["history", f"--since={text}"]) == 2
    assert "expected a duration" in capsys.readouterr().err


# -- defaults: the ones the README documents ----------------------------------------------


def test_defaults_are_the_ones_the_readme_documents() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    def documented(pattern: str) -> str:
        match = re.search(pattern, readme)
        assert match, pattern
        return match[1]

    balances = parse_args(["balances", "--accounts", "a.toml"])
    serve = parse_args(["serve"])
    demo = parse_args(["demo"])
    assert isinstance(balances, argparse.Namespace)
    assert isinstance(serve, argparse.Namespace)
    assert isinstance(demo, argparse.Namespace)
    assert balances.deadline == float(documented(r"\[--deadline (\d+)\]"))
    concurrency = int(documented(r"requests in\s+flight \(default (\d+)\)"))
    assert balances.concurrency == serve.concurrency == concurrency
    assert f"{serve.host}:{serve.port}" == documented(r"\[--listen ([\d.]+:\d+)\]")
    assert serve.interval == float(documented(r"\[--interval (\d+)\]"))
    assert demo.port == int(documented(r"demo --serve \[--port (\d+)\]"))


# -- help: prose filled to 80 columns --------------------------------------------------


def first_unit(line: str) -> str:
    """What textwrap cannot break: a word, or a `quoted command` with what follows it."""
    match = re.match(r"`[^`]*`\S*|\S+", line)
    assert match, line
    return match[0]


@pytest.mark.parametrize("command", ["balances", "history", "serve", "demo"])
def test_help_prose_fills_80_columns_even_when_the_terminal_is_wider(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a terminal: 80 columns, whatever COLUMNS says; each prose line takes as many
    words as fit in 80."""
    monkeypatch.setenv("COLUMNS", "120")
    assert parse_args([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 80
    epilog = out.split("\n\n", 2)[-1]  # after the usage and the description
    filled = 0
    for paragraph in epilog.split("\n\n"):
        lines = paragraph.splitlines()
        if any(line.startswith(" ") for line in lines) or len(lines) < 2:
            continue  # laid out by hand, or one line
        for line, following in itertools.pairwise(lines):
            assert len(line) + 1 + len(first_unit(following)) > 80, (line, following)
            filled += 1
    assert filled


# -- --below: strictly fewer than N ---------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "remaining", "want"),
    [
        ("100", 100, "ok"),  # exactly at the threshold: not below
        ("100", 99.99, "below"),
        ("100", 100.01, "ok"),
        ("100", 0, "below"),
        ("0", 0, "ok"),
        ("10%", 100, "ok"),  # 100 of 1,000: exactly 10 % left
        ("10%", 99.9, "below"),
        ("10%", 100.1, "ok"),
        ("0%", 0, "ok"),
    ],
)
def test_below_means_strictly_fewer_than_the_threshold(
    threshold: str, remaining: float, want: str
) -> None:
    below = Threshold.parse(threshold)
    rows = [balance(p, remaining, 1000) for p in PROVIDERS]
    unlimited = balance(PROVIDERS[0], 0, None, unlimited=True)
    assert {status(row, below) for row in rows} == {want}
    assert status(unlimited, below) == "ok"
    assert exit_status([*rows, unlimited], below) == (1 if want == "below" else 0)
    assert {o["status"] for o in json.loads(render_json(rows, below))} == {want}


def test_below_exactly_a_providers_remaining_credits_is_not_below(server: FaultServer) -> None:
    remaining = {p: expected(p).remaining for p in PROVIDERS}
    known = {p: v for p, v in remaining.items() if v is not None and v > 0}
    at = min(known.values())  # exactly the smallest: none is below it

    run = run_cli("balances", "--json", "--below", f"{at!r}", env=configured_env(server))

    assert run.returncode == 0, run.stdout
    assert {o["status"] for o in json.loads(run.stdout)} == {"ok"}


# -- "runs out" within --runs-out-within ---------------------------------------------------


DAY = 86400.0


@pytest.mark.parametrize(
    ("runs_out_in", "within", "want"),
    [
        (3 * DAY, None, "ok"),  # no --runs-out-within
        (3 * DAY, 7 * DAY, "runs out"),
        (3 * DAY, 3 * DAY, "runs out"),  # exactly at the limit
        (3 * DAY, 3 * DAY - 1, "ok"),
        (None, 7 * DAY, "ok"),  # no history: no forecast
    ],
)
def test_runs_out_within_counts_the_forecast_from_now(
    runs_out_in: float | None, within: float | None, want: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        forecast = (
            None
            if runs_out_in is None
            else Forecast(kind="runs_out", runs_out_at=NOW + timedelta(seconds=runs_out_in))
        )
        rows = [balance(p, 100, 1000, forecast=forecast) for p in PROVIDERS]
        assert {status(row, None, within) for row in rows} == {want}
        assert exit_status(rows, None, within) == (1 if want == "runs out" else 0)
        table = parse_table(render_table(rows, None, within))
    assert {row["status"] for row in table.values()} == {want}
    if forecast is not None:
        assert {row["runs out"] for row in table.values()} == {
            f"{NOW + timedelta(days=3):%Y-%m-%d}"
        }


# -- JSON: errors and the raw account --------------------------------------------------


class Refused(Exception):
    def __init__(self, message: str, status_code: object, code: object) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code


@pytest.mark.parametrize(
    ("status_code", "code", "want_status", "want_code"),
    [
        (401, None, 401, None),
        (429, "rate_limited", 429, "rate_limited"),
        (403, 1007, 403, "1007"),  # a numeric code, as text
        ("403", 0, None, "0"),  # a status that is not a number is left out
        (None, None, None, None),
    ],
)
def test_json_error_object_has_status_code_and_code(
    status_code: object, code: object, want_status: int | None, want_code: str | None
) -> None:
    rows = [Row(p, Refused("no\nway", status_code, code)) for p in PROVIDERS]
    objects = json.loads(render_json(rows, None))
    for obj, provider in zip(objects, PROVIDERS, strict=True):
        assert obj == {
            "provider": provider,
            "status": "error",
            "error": {
                "type": "Refused",
                "message": "no way",
                "status_code": want_status,
                "code": want_code,
            },
        }


def test_json_leaves_the_raw_account_out_unless_asked() -> None:
    rows = [balance(p, 1, 10) for p in PROVIDERS]
    assert all("account" not in o for o in json.loads(render_json(rows, None)))
    with_account = json.loads(render_json(rows, None, include_account=True))
    assert [o["account"] for o in with_account] == [{"id": 1}] * len(PROVIDERS)


# -- the table's cells ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remaining", "limit", "unlimited", "plan", "cells"),
    [
        (1234, 5000, False, "Pro", ("Pro", "1,234", "5,000", "24.7%")),
        (1234.5, 5000.25, False, None, ("-", "1,234.5", "5,000.25", "24.7%")),
        (0.25, 1, False, "", ("-", "0.25", "1", "25.0%")),
        (0, 0, False, "Free", ("Free", "0", "0", "-")),
        (7, None, True, "Team", ("Team", "7", "unlimited", "-")),
        (None, None, False, "x  y", ("x y", "-", "-", "-")),
    ],
)
def test_table_cells_format_numbers_plan_and_unlimited(
    remaining: float | None,
    limit: float | None,
    unlimited: bool,
    plan: str | None,
    cells: tuple[str, str, str, str],
) -> None:
    rows = [balance(p, remaining, limit, plan=plan, unlimited=unlimited) for p in PROVIDERS]
    table = parse_table(render_table(rows, None))
    for provider in PROVIDERS:
        row = table[provider]
        assert (row["plan"], row["remaining"], row["limit"], row["% left"]) == cells
        assert row["resets/expires"] == "-"


def test_accounts_table_starts_with_the_account_name() -> None:
    rows = [balance(p, 1, 10, name=f"team-{p}") for p in PROVIDERS]
    rows.append(Row(PROVIDERS[0], None))
    lines = render_table(rows, None).splitlines()
    assert lines[0].split()[:2] == ["account", "provider"]
    table = parse_table(render_table(rows, None))
    assert list(table) == [f"team-{p}" for p in PROVIDERS] + ["-"]
    assert [row["provider"] for row in table.values()] == [*PROVIDERS, PROVIDERS[0]]


# -- history: credits used per day to the cent --------------------------------------------


@pytest.mark.parametrize(
    ("used", "shown"),
    [(12.3456, "12.35"), (0.004, "0"), (0.0049, "0"), (1234.5, "1,234.5"), (40, "40")],
)
def test_history_shows_credits_used_per_day_rounded_to_two_places(used: float, shown: str) -> None:
    now = datetime.now(UTC)
    checks = [
        Check(
            provider=p,
            outcome=creditwatch.Balance(provider=p, remaining=r, limit=None, account=None),
            at=at,
        )
        for p in PROVIDERS
        for at, r in ((now - timedelta(days=2), 10000.0), (now, 10000.0 - 2 * used))
    ]
    with History(":memory:") as history:
        history.add(checks)
        series = history.series(since=0)
    table = parse_table(render_history(series))
    assert {row["used/day"] for row in table.values()} == {shown}
    assert [o["forecast"]["used_per_day"] for o in json.loads(render_history_json(series))] == [
        pytest.approx(used)
    ] * len(PROVIDERS)


# -- redaction -------------------------------------------------------------------------


KEY = FAKE_KEY


def fake_keys(count: int) -> list[str]:
    return [f"{KEY}-{i:04d}" for i in range(count)]


@pytest.mark.parametrize("count", [1, 8, 9, 40])
def test_every_key_is_redacted_whole_the_longest_first(count: int) -> None:
    """However many keys: each goes whole, and a key that starts another does not leave
    the other's end behind."""
    keys = fake_keys(count)
    longer = keys[0] + "-extra"
    text = " ".join(f"[{k}]" for k in keys) + f" and {longer}."
    out = redact(text, [*keys, longer])
    assert out == " ".join("[<redacted>]" for _ in keys) + " and <redacted>."


@pytest.mark.parametrize(
    ("secret", "text", "want"),
    [
        ("abcdefgh", "xxabcdefghyy", "xx<redacted>yy"),  # 8: a whole key, even in a word
        ("abcdefg", "xxabcdefgyy", "xxabcdefgyy"),  # 7: only where it stands alone
        ("abcdefg", "key abcdefg.", "key <redacted>."),
        ("k", "checking k", "checking <redacted>"),
    ],
)
def test_a_key_shorter_than_8_characters_is_redacted_only_standing_alone(
    secret: str, text: str, want: str
) -> None:
    assert redact(text, [secret]) == want


def test_short_keys_are_redacted_the_longest_first() -> None:
    assert redact("keys k-1-2 and k-1", ["k-1", "k-1-2"]) == "keys <redacted> and <redacted>"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("sent abcd...", "sent <redacted>..."),  # the shortest cut kept: 4 characters
        ("sent abc...", "sent abc..."),  # 3: too short to be told from a word
        ("sent xabcd...", "sent x<redacted>..."),
        ("sent abcde...", "sent <redacted>..."),
        ("sent xxabcdefghijk...", "sent xx<redacted>..."),  # all but the last character
        ("sent abcx...", "sent abcx..."),  # not a start of the key
    ],
)
def test_a_key_cut_short_before_dots_is_redacted(text: str, want: str) -> None:
    assert redact(text, ["abcdefghijkl"]) == want


@pytest.mark.parametrize("others", [0, 7, 40])
@pytest.mark.parametrize(
    ("keys", "text", "want"),
    [
        (["AAAABBBB", "BBBBCCCCC"], "x AAAABBBBCCCCC y", "x <redacted> y"),  # overlap
        (["AAAABBBBB", "BBBBCCCC"], "x AAAABBBBBCCCC y", "x <redacted> y"),
        (["AAAABBBB", "BBBBCCCC", "CCCCDDDD"], "AAAABBBBCCCCDDDD", "<redacted>"),  # a chain
        (["AAAABBBB", "CCCCDDDD"], "AAAABBBBCCCCDDDD", "<redacted><redacted>"),  # side by side
        (["AAAABBBBCCCCDDDD", "BBBBCCCC"], "AAAABBBBCCCCDDDD", "<redacted>"),  # one inside
        (["AAAABBBB", "BBBBCCCCC", "ZZZZYYYY"], "ZZZZYYYY AAAABBBBCCCCC", "<redacted> <redacted>"),
        (["abcdefgh12", "abcdefgh1234"], "abcdefgh1234 abcdefgh12", "<redacted> <redacted>"),
    ],
)
def test_keys_that_overlap_are_redacted_as_one_however_many_keys(
    others: int, keys: list[str], text: str, want: str
) -> None:
    """No end of one key is left beside another's marker, with 2 keys or 42."""
    fillers = [f"filler-key-{i:03d}" for i in range(others)]
    assert redact(f"{text} filler-key-000", [*keys, *fillers]) == f"{want} " + (
        "<redacted>" if others else "filler-key-000"
    )


def test_many_long_tokens_are_redacted() -> None:
    """Access tokens (JWTs) run to kilobytes: nine of them, 1,500 characters each."""
    tokens = [f"{i}." + "x" * 1497 + f".{i}" for i in range(9)]
    text = json.dumps({"tokens": tokens, "note": "see above"})
    assert json.loads(redact(text, tokens)) == {"tokens": ["<redacted>"] * 9, "note": "see above"}


def test_dots_with_only_a_short_key_are_left_alone() -> None:
    assert redact("wait... k9 ...", ["k9"]) == "wait... <redacted> ..."


# -- progress --------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def check_slowly(server: FaultServer, progress: Progress, seconds: float) -> None:
    provider = next(p for p in PROVIDERS if len(operation_paths(p)) == 1)
    [(op_id, path)] = operation_paths(provider).items()
    server.script_path(path, slow_reply(seconds, example(provider, op_id)))
    account = Account(name="a", provider=provider, key_env="K", base_url=server.base_url)
    [result] = await check_accounts([account], environ={"K": FAKE_KEY}, on_done=progress.advance)
    assert isinstance(result, creditwatch.Balance), result


async def test_a_stalled_request_is_named_once_in_a_pipe(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Progress, "STALL", 0.05)  # the documented 2 s, shortened
    provider = next(p for p in PROVIDERS if len(operation_paths(p)) == 1)
    pipe = io.StringIO()
    async with Progress(1, "providers", stream=pipe) as progress:
        await check_slowly(server, progress, 0.4)
    lines = pipe.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert re.fullmatch(
        rf"creditwatch: waiting for {provider}: attempt 1 of \d+, 0 s so far", lines[0]
    ), lines
    assert "\r" not in pipe.getvalue()


async def test_a_terminal_shows_a_spinner_with_the_count_and_erases_it(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Progress, "STALL", 0.05)
    monkeypatch.setenv("COLUMNS", "80")
    provider = next(p for p in PROVIDERS if len(operation_paths(p)) == 1)
    terminal = Terminal()
    async with Progress(2, "providers", stream=terminal) as progress:
        await check_slowly(server, progress, 0.3)
        await asyncio.sleep(0.15)
    frames = terminal.getvalue().split("\r\x1b[K")
    assert frames[0] == ""
    assert frames[-1] == ""  # erased at the end
    shown = [f for f in frames if f]
    assert shown
    assert shown[0].startswith("| checking providers: 0/2 done")
    assert any(f"; waiting for {provider}: attempt 1 of " in f for f in shown)
    assert shown[-1].endswith("checking providers: 1/2 done")
    assert all(len(f) <= 79 for f in shown)  # the 80 columns, less one


def test_history_table_names_each_account_second() -> None:
    now = datetime.now(UTC)
    checks = [
        Check(
            provider=p,
            account=account,
            outcome=creditwatch.Balance(provider=p, remaining=10.0, limit=None, account=None),
            at=now,
        )
        for p in PROVIDERS
        for account in ("", "team-a")
    ]
    with History(":memory:") as history:
        history.add(checks)
        series = history.series(since=0)
    lines = render_history(series).splitlines()
    assert lines[0].split()[:3] == ["provider", "account", "remaining"]
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[1:]]
    assert [row[:3] for row in rows] == [
        [p, account, "10"] for p in sorted(PROVIDERS) for account in ("-", "team-a")
    ]


# -- help on a terminal: at most 80 columns, words whole ---------------------------------


@pytest.mark.parametrize("command", ["balances", "history", "serve", "demo"])
def test_help_on_a_terminal_fits_it_up_to_80_columns_and_keeps_words_whole(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Option names and hyphenated words (``--runs-out-within``, ``least-squares``) are
    never broken at a hyphen, whatever the terminal's width."""
    for columns in (40, 41, 50, 60, 70, 79, 80, 81, 120):
        monkeypatch.setenv("COLUMNS", str(columns))
        terminal = Terminal()
        monkeypatch.setattr("sys.stdout", terminal)
        assert parse_args([command, "--help"]) == 0
        out = terminal.getvalue()
        width = min(columns, 80)
        prose = [
            paragraph.splitlines()
            for paragraph in out.split("\n\n")
            if not paragraph.startswith("usage:")
            and not any(line.startswith(" ") for line in paragraph.splitlines())
        ]
        assert prose, out
        for lines in prose:
            assert max(map(len, lines)) <= width, (columns, lines)
            broken = [line for line in lines[:-1] if re.search(r"\w-$", line)]
            assert broken == [], (columns, broken)
            for line, following in itertools.pairwise(lines):
                assert len(line) + 1 + len(first_unit(following)) > width, (columns, line)
    capsys.readouterr()


# -- progress: the terminal's width, the spinner's frames, the stall at 2 s, no busy loop


@pytest.mark.parametrize(("columns", "width"), [("30", 39), ("60", 59), ("200", 199), (None, 79)])
async def test_the_spinner_line_is_cut_to_the_terminal_less_one_column(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch, columns: str | None, width: int
) -> None:
    """At least 40 columns; 80 when the terminal's size is unknown."""
    monkeypatch.setattr(Progress, "STALL", 0.0)
    monkeypatch.setattr(Progress, "DELAY", 0.02)
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
        monkeypatch.setattr("sys.__stdout__", io.StringIO())  # no terminal to ask
    else:
        monkeypatch.setenv("COLUMNS", columns)
    terminal = Terminal()
    noun = "providers and accounts " * 10
    async with Progress(3, noun, stream=terminal) as progress:
        await check_slowly(server, progress, 0.15)
    frames = [f for f in terminal.getvalue().split("\r\x1b[K") if f]
    assert len(frames) >= 4
    assert {len(f) for f in frames} == {width}
    assert [f[0] for f in frames[:4]] == ["|", "/", "-", "\\"]
    assert all(f.startswith(f"{frames[i % 4][0]} checking ") for i, f in enumerate(frames))


async def test_a_request_is_named_after_exactly_2_seconds_without_an_answer(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The monotonic clock the progress reads is injected: 1.99 s, then 2 s."""
    clock = [1000.0]
    monkeypatch.setattr(creditwatch._cli, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    pipe = io.StringIO()

    async def advance() -> None:
        await asyncio.sleep(0.3)  # a watch (every 0.25 s) at 1.99 s
        assert pipe.getvalue() == ""
        clock[0] += 1.99
        await asyncio.sleep(0.3)
        assert pipe.getvalue() == ""
        clock[0] += 0.01
        await asyncio.sleep(0.3)

    async with Progress(1, "providers", stream=pipe) as progress:
        await asyncio.gather(check_slowly(server, progress, 0.95), advance())
    assert pipe.getvalue().endswith(", 2 s so far\n")
    assert pipe.getvalue().count("\n") == 1


async def test_progress_waits_without_spinning_the_cpu(server: FaultServer) -> None:
    pipe = io.StringIO()
    cpu = time.process_time()
    async with Progress(1, "providers", stream=pipe):
        await asyncio.sleep(0.3)
    assert time.process_time() - cpu < 0.05


def test_the_command_line_module_loads_no_sqlite3() -> None:
    """sqlite3 is imported only by the commands that use the history (importing the
    module adds neither: a tool in the interpreter, say coverage, may have loaded it)."""
    code = (
        "import sys; before = set(sys.modules); import creditwatch._cli; "
        "print(sorted({'sqlite3', 'creditwatch._history'} & (set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=base_env()
    ).stdout
    assert out.strip() == "[]"
