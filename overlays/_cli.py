"""The command line's front and back: arguments in; table, JSON, error lines, exit
status and the progress indicator out. No network here: ``__main__`` collects the
results (from the environment's keys, an accounts file or the demo mock) as `Row`\\ s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import re
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO, TypeAlias

import attrs

from . import PROVIDERS
from ._balance import Balance, credential_variables
from ._base import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, WATCHERS
from ._forecast import Forecast, sparkline
from ._version import __version__

if TYPE_CHECKING:  # sqlite3 is imported only by the commands that use the history
    from ._history import Series

EXIT_OK = 0
EXIT_BELOW = 1
EXIT_FAILED = 2
EXIT_INTERRUPTED = 130
DEFAULT_CONCURRENCY = 10
DEFAULT_SINCE = "30d"
DEFAULT_PORT = 9464
DEFAULT_HOST = "127.0.0.1"
DEFAULT_INTERVAL = 60.0
DEFAULT_DEMO_PORT = 8977
DEFAULT_DEADLINE = 120.0
"""Seconds the command line gives each provider's whole check, retries included."""

Outcome: TypeAlias = Balance[object] | Exception | None
"""A balance, the error that replaced it, or None: the provider has no key configured."""


# -- arguments ----------------------------------------------------------------------


@attrs.frozen
class Threshold:
    """``--below N`` (remaining credits < N) or ``--below N%`` (percent left < N)."""

    value: float
    percent: bool = False

    @classmethod
    def parse(cls, text: str) -> Threshold:
        raw = text.strip()
        percent = raw.endswith("%")
        try:
            value = float(raw.removesuffix("%"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number of credits (10) or a percentage (10%), got {text!r}"
            ) from None
        if not math.isfinite(value) or value < 0:
            raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
        return cls(value, percent)

    def is_below(self, balance: Balance[object]) -> bool:
        """Unlimited balances, and ones without the number compared, are never below."""
        if balance.unlimited:
            return False
        if self.percent:
            left = balance.percent_left
            return left is not None and left < self.value
        return balance.remaining is not None and balance.remaining < self.value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def _whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (inclusive)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f">= {low}" if high is None else f"from {low} to {high}"
            raise argparse.ArgumentTypeError(f"expected a number {bounds}, got {text!r}")
        return value

    return parse


_positive_int = _whole_number(1)
_port = _whole_number(0, 65535)
_bytes = _whole_number(0)


def _listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9464`` for IPv6) -> (host, port)."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT (0.0.0.0:9464), got {text!r}")
    return host, _port(port)


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


def parse_duration(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 30d, 12h, 90m or 2w, got {text!r}"
        )
    value = float(match[1]) * _UNITS[match[2]]
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration > 0, got {text!r}")
    return value


_EXIT_STATUS_HELP = """\
exit status:
  0  every checked provider answered and none is below --below
  1  at least one is below --below, has expired (its expiry date is past), or
     runs out within --runs-out-within
  2  at least one failed (missing key, HTTP error, timeout...), nothing is
     configured, or the arguments or the accounts file are wrong
  130 interrupted (Ctrl-C)"""

_DEMO_EPILOG = """\
--serve runs the mock in the foreground (until Ctrl-C) instead, after printing
`export` lines (fake keys, base URLs of the mock) for every provider: paste them
into another shell to try `creditwatch balances` or the README's Python examples.

exit status:
  0  the demo ran (--serve: stopped with Ctrl-C)
  1  with --below: an example provider is below it
  2  the arguments are wrong, or the mock could not start (--port in use)"""

_BALANCES_EPILOG = f"""\
Keys come from the environment: FLAMEL_API_KEY, EXORDE_API_KEY, GENERECT_API_KEY,
EASYSLIP_API_KEY, LLMGENERATOR_API_KEY (or LLMGENERATOR_ACCESS_TOKEN); <P>_BASE_URL
overrides a provider's server. Without PROVIDER arguments every provider is listed:
those without a key as "not configured" (not a failure). A provider named on the
command line without a key is a failure (MissingCredentialsError).

--below compares the credits REMAINING (the "remaining" column, in the provider's
own unit) against N: `--below 100` flags a provider with fewer than 100 left.
With a percent sign it compares the "% left" column instead: `--below 10%`.
Unlimited balances, and balances without that number, are never below.

accounts file (--accounts, TOML):
  [[account]]
  name = "team-a"                 # unique; the row's name
  provider = "flamel"             # one of the PROVIDERs above
  key_env = "TEAM_A_FLAMEL_KEY"   # the environment variable holding the key
  base_url = "https://..."        # optional (else <P>_BASE_URL)
Keys never live in the file. A missing variable fails that account only.

history (--record, --db): --record appends this check to the history database
($CREDITWATCH_DB, else $XDG_DATA_HOME/creditwatch/history.sqlite3). When it exists,
the table gains a "runs out" column: the date the credits run out at the rate used
over the last {DEFAULT_SINCE} (see `creditwatch history`), and --runs-out-within 7d
exits 1 when that date is within 7 days.

{_EXIT_STATUS_HELP}"""

_HISTORY_EPILOG = """\
For each provider and account with checks in the window: the latest remaining
credits, the trend (a sparkline from the lowest to the highest value), the credits
used per day (a least-squares fit that ignores the jumps up at a reset or top-up:
each rise starts a new segment) and the date they run out at that rate, or "after
the next reset" when the provider's reset comes first, or "not enough data" with
fewer than two checks. Record checks with `creditwatch balances --record` (cron) or
`creditwatch serve --record`.

exit status:
  0  the history was shown
  2  there is no history database, or it cannot be read"""

_SERVE_EPILOG = f"""\
Serves /metrics (Prometheus text format) and /healthz on --listen HOST:PORT
(default 127.0.0.1:9464: this machine only; 0.0.0.0:9464 exposes it). Checks run
in the background every --interval seconds with at most --concurrency requests in
flight, whatever the scrape rate; a failing check sets creditwatch_check_success to 0
and keeps the last good values. Needs the exporter extra:
pip install ".[exporter]" in a checkout. SIGTERM or Ctrl-C stops it (exit status 0).

metrics (labels provider, account; the credit metrics also unit):
  creditwatch_credits_remaining, creditwatch_credits_limit,
  creditwatch_credits_used_per_day,
  creditwatch_credits_runs_out_timestamp_seconds,
  creditwatch_check_success, creditwatch_check_duration_seconds,
  creditwatch_last_success_timestamp_seconds,
  creditwatch_last_check_timestamp_seconds (time() minus it: the values' age)

--print-rules and --print-scrape-config print the alert rules and the Prometheus
scrape configuration shipped with creditwatch (default port {DEFAULT_PORT}).

exit status:
  0  stopped by SIGTERM or Ctrl-C, or --print-rules / --print-scrape-config
  2  the arguments or the accounts file are wrong, the port cannot be used, or
     prometheus-client is missing"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Wraps the description to the terminal (at most 80 columns) and keeps the
    epilog's hand-made layout (examples, the accounts file, exit statuses)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=min(_output_width(sys.stdout), 80))

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        """Prose paragraphs wrapped; a paragraph with indented lines (a file example,
        the exit statuses) kept as laid out."""
        paragraphs = []
        for paragraph in text.split("\n\n"):
            if any(line.startswith(" ") for line in paragraph.splitlines()):
                paragraphs.append(paragraph)
            else:
                # a `quoted command` stays on one line: its spaces do not break
                prose = re.sub(r"`[^`]*`", lambda m: m[0].replace(" ", "\0"), paragraph)
                filled = textwrap.fill(" ".join(prose.split()), width, break_on_hyphens=False)
                paragraphs.append(filled.replace("\0", " "))
        return "\n\n".join(paragraphs)


def _output_width(stream: TextIO) -> int:
    """The terminal's width when ``stream`` is one, else 80."""
    if _isatty(stream):
        return max(40, shutil.get_terminal_size((80, 24)).columns)
    return 80


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="creditwatch",
        formatter_class=_Formatter,
        description="Credits left at Flamel, Exorde, Generect, EasySlip and LLMGenerator.",
        epilog="Run `creditwatch balances --help` for the details, or `creditwatch demo` "
        "to see the output with example data (no keys, no network).",
    )
    parser.add_argument("--version", action="version", version=f"creditwatch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    balances = commands.add_parser(
        "balances",
        help="check the credits left at every configured provider",
        description="Check the credits left at every configured provider, concurrently.",
        epilog=_BALANCES_EPILOG,
        formatter_class=_Formatter,
    )
    balances.add_argument(
        "providers",
        nargs="*",
        metavar="PROVIDER",
        help=f"check only these ({', '.join(PROVIDERS)}); default: every configured one",
    )
    _add_output_options(balances)
    balances.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="S",
        help=f"seconds each HTTP request may take (default {DEFAULT_TIMEOUT:g})",
    )
    _add_limit_options(balances)
    balances.add_argument(
        "--accounts",
        type=Path,
        metavar="FILE",
        help="check the accounts listed in this TOML file instead (see below)",
    )
    balances.add_argument(
        "--concurrency",
        type=_positive_int,
        metavar="N",
        help=f"with --accounts: at most N requests in flight (default {DEFAULT_CONCURRENCY})",
    )
    balances.add_argument(
        "--record", action="store_true", help="append this check to the history database"
    )
    balances.add_argument(
        "--runs-out-within",
        type=parse_duration,
        metavar="DURATION",
        help="exit 1 if the history forecasts a provider running out within DURATION (7d)",
    )
    _add_db_option(balances)

    history = commands.add_parser(
        "history",
        help="burn rate and the date credits run out, from recorded checks",
        description="Burn rate and forecast per provider and account, from the checks "
        "recorded with `creditwatch balances --record`.",
        epilog=_HISTORY_EPILOG,
        formatter_class=_Formatter,
    )
    history.add_argument(
        "providers",
        nargs="*",
        metavar="PROVIDER",
        help=f"show only these ({', '.join(PROVIDERS)}); default: all",
    )
    history.add_argument(
        "--since",
        type=parse_duration,
        default=parse_duration(DEFAULT_SINCE),
        metavar="DURATION",
        help=f"the window: checks of the last DURATION (30d, 12h, 2w; default {DEFAULT_SINCE})",
    )
    history.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_db_option(history)

    serve = commands.add_parser(
        "serve",
        help="Prometheus exporter: /metrics with the credits of every account",
        description="A Prometheus exporter: checks every configured provider (or every "
        "account of --accounts) in the background and serves the values at /metrics.",
        epilog=_SERVE_EPILOG,
        formatter_class=_Formatter,
    )
    serve.add_argument(
        "--listen",
        type=_listen,
        metavar="HOST:PORT",
        help=f"address and port to listen on (default {DEFAULT_HOST}:{DEFAULT_PORT}: this "
        "machine only; 0.0.0.0:9464 for a Prometheus on another host)",
    )
    serve.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0: any free"
    )
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}; see --listen)",
    )
    serve.add_argument(
        "--accounts", type=Path, metavar="FILE", help="check the accounts of this TOML file"
    )
    serve.add_argument(
        "--interval",
        type=_positive_float,
        default=DEFAULT_INTERVAL,
        metavar="S",
        help=f"seconds between checks of each account (default {DEFAULT_INTERVAL:g})",
    )
    serve.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"at most N checks in flight (default {DEFAULT_CONCURRENCY})",
    )
    serve.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="S",
        help=f"seconds each HTTP request may take (default {DEFAULT_TIMEOUT:g})",
    )
    _add_limit_options(serve, deadline=None)
    serve.add_argument(
        "--record",
        action="store_true",
        help="also append every check to the history database (and start from it)",
    )
    _add_db_option(serve)
    serve.add_argument(
        "--print-rules", action="store_true", help="print the Prometheus alert rules and exit"
    )
    serve.add_argument(
        "--print-scrape-config",
        action="store_true",
        help="print the Prometheus scrape configuration and exit",
    )

    demo = commands.add_parser(
        "demo",
        help="show the table with example data: no keys, no network",
        description="The balances table for all five providers, from the examples in "
        "their API documentation, served by a mock on 127.0.0.1, then their history "
        "and forecast from 30 days of synthetic checks (kept in memory). Reads no "
        "keys, writes no file and needs no network.",
        epilog=_DEMO_EPILOG,
        formatter_class=_Formatter,
    )
    _add_output_options(demo)
    demo.add_argument(
        "--serve",
        action="store_true",
        help="run the mock in the foreground until Ctrl-C, after printing `export` lines "
        "for every provider's key and base URL",
    )
    demo.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_DEMO_PORT,
        help=f"with --serve: the port on 127.0.0.1 (default {DEFAULT_DEMO_PORT}; 0: any free)",
    )
    return parser


def _add_limit_options(
    parser: argparse.ArgumentParser, deadline: float | None = DEFAULT_DEADLINE
) -> None:
    parser.add_argument(
        "--deadline",
        type=_positive_float,
        default=deadline,
        metavar="S",
        help="seconds each provider's whole check may take, retries included (default "
        + (f"{deadline:g})" if deadline else "the --interval, at least 30)"),
    )
    parser.add_argument(
        "--max-response-bytes",
        type=_bytes,
        default=DEFAULT_MAX_RESPONSE_BYTES,
        metavar="N",
        help=f"largest answer accepted, after decompression (default "
        f"{DEFAULT_MAX_RESPONSE_BYTES}; 0: no limit)",
    )


def _add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="the history database (default $CREDITWATCH_DB, else "
        "$XDG_DATA_HOME/creditwatch/history.sqlite3)",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--include-account",
        action="store_true",
        help="with --json: add each provider's raw account data (`account`): it may hold "
        "personal data (e-mail, names, card fields), so it is left out by default",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="log each HTTP request and response line to stderr (never a key)",
    )
    parser.add_argument(
        "--below",
        type=Threshold.parse,
        metavar="N[%]",
        help="exit 1 if a provider has fewer than N credits remaining (or, as N%%, "
        "less than N percent left)",
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The parsed arguments, or the exit status when there is nothing to run
    (``--help``, ``--version``, a usage error: argparse has printed why)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_FAILED
    command = _subcommand(parser, args.command)
    providers: list[str] = list(dict.fromkeys(getattr(args, "providers", [])))
    unknown = [p for p in providers if p not in PROVIDERS]
    if unknown:
        command.print_usage(sys.stderr)
        print(
            f"creditwatch: unknown provider {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(PROVIDERS)}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    args.providers = providers
    if getattr(args, "listen", None) is not None:
        args.host, args.port = args.listen
    if args.command == "balances":
        if args.concurrency is not None and args.accounts is None:
            command.print_usage(sys.stderr)
            print("creditwatch: --concurrency applies to --accounts only", file=sys.stderr)
            return EXIT_FAILED
        if args.concurrency is None:
            args.concurrency = DEFAULT_CONCURRENCY
    return args


def _subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The parser of subcommand ``name`` (its usage line names its own options)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    return parser


# -- results --------------------------------------------------------------------------


@attrs.frozen
class Row:
    """One line of the report: a provider, or with ``--accounts`` one account."""

    provider: str
    outcome: Outcome
    name: str | None = None
    """The account's name (``--accounts``); None for a provider's own key."""
    forecast: Forecast | None = None
    """From the history, when there is one."""


def status(row: Row, below: Threshold | None, within: float | None = None) -> str:
    """``ok``, ``below``, ``expired`` (the expiry date is past), ``runs out`` (within
    ``within`` seconds), ``error`` or ``not configured``."""
    if row.outcome is None:
        return "not configured"
    if isinstance(row.outcome, Exception):
        return "error"
    if below is not None and below.is_below(row.outcome):
        return "below"
    expires_at = row.outcome.expires_at
    if expires_at is not None and expires_at <= datetime.now(UTC):
        return "expired"
    if (
        within is not None
        and row.forecast is not None
        and row.forecast.runs_out_within(within, datetime.now(UTC))
    ):
        return "runs out"
    return "ok"


def exit_status(rows: Sequence[Row], below: Threshold | None, within: float | None = None) -> int:
    statuses = [status(row, below, within) for row in rows if row.outcome is not None]
    if not statuses or "error" in statuses:
        return EXIT_FAILED
    return EXIT_BELOW if {"below", "expired", "runs out"} & set(statuses) else EXIT_OK


def error_lines(rows: Iterable[Row]) -> list[str]:
    """One line per failed row: who, the error class, the provider's message."""
    lines = []
    for row in rows:
        if isinstance(row.outcome, Exception):
            who = row.provider if row.name is None else f"{row.name} ({row.provider})"
            lines.append(f"{who}: {type(row.outcome).__name__}: {_one_line(row.outcome)}")
    return lines


def _one_line(exc: BaseException) -> str:
    return escape_controls(re.sub(r"\s+", " ", str(exc)).strip()) or "(no message)"


def nothing_configured_hint() -> str:
    variables = ", ".join(v for p in PROVIDERS for v in credential_variables(p))
    return f"no provider is configured: set one of {variables}, or try `creditwatch demo`"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Defence in depth: no credential reaches the output, even if a message had one:
    whole (one shorter than 8 characters only where it stands alone, not inside a
    word, so "k" spares "checking"), or cut where a message shortened it (a start of
    at least 4 characters followed by ``...``).

    Long secrets go in one pass over the text, however many there are (2,000
    accounts' keys over their JSON took 3 s as 2,000 ``str.replace`` passes; a
    trie-shaped pattern takes 20 ms); secrets that overlap go as one ``<redacted>``
    (no end of one is left beside the other's)."""
    found = frozenset(filter(None, secrets))
    if not found:
        return text
    long_ = frozenset(s for s in found if len(s) >= 8)
    if long_:
        text = _redact_spans(text, _secrets_pattern(long_))
    for secret in sorted(found - long_, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "<redacted>", text)
    if "..." in text and long_:
        prefixes, longest = _cut_prefixes(long_)
        text = _CUT.sub(
            lambda m: _redact_cut(m.group(1), prefixes, longest) + "...",
            text,
        )
    return text


_CUT = re.compile(r"(\S{4,})\.\.\.")


@functools.lru_cache(maxsize=4)
def _cut_prefixes(secrets: frozenset[str]) -> tuple[frozenset[str], int]:
    """Every start of at least 4 characters of ``secrets`` (what a shortened message
    may keep of one), and the longest secret's length."""
    starts = {s[:end] for s in secrets for end in range(4, len(s))}
    return frozenset(starts), max(map(len, secrets))


def _redact_cut(word: str, prefixes: frozenset[str], longest: int) -> str:
    """``word`` (what stood before ``...``) with a secret's start at its end redacted."""
    for size in range(min(len(word), longest - 1), 3, -1):
        if word[-size:] in prefixes:
            return word[:-size] + "<redacted>"
    return word


@functools.lru_cache(maxsize=4)
def _secrets_pattern(secrets: frozenset[str]) -> re.Pattern[str]:
    """A regular expression that finds, at every position where one of ``secrets``
    starts, the longest there (group 1; a lookahead, so overlapping ones are found): their
    trie, written out (one branch per distinct next character, chains as literals)."""
    root: dict[str, Any] = {}
    for secret in secrets:
        node = root
        for char in secret:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        literal = ""
        while len(node) == 1 and "" not in node:  # a chain: one literal, no group
            ((char, node),) = node.items()
            literal += char
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return re.escape(literal)
        group = "(?:" + "|".join(branches) + ")"
        return re.escape(literal) + (group + "?" if "" in node else group)

    return re.compile(f"(?=({emit(root)}))")  # at each start, overlapping ones too


def _redact_spans(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` with each stretch that ``pattern``'s matches (group 1) cover, overlapping
    matches together, as one ``<redacted>``."""
    spans: list[list[int]] = []  # [begin, end] of each stretch, in order
    for match in pattern.finditer(text):
        begin, finish = match.span(1)
        if spans and begin < spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], finish)
        else:
            spans.append([begin, finish])
    out: list[str] = []
    copied = 0  # text[:copied] is in out
    for begin, finish in spans:
        out += [text[copied:begin], "<redacted>"]
        copied = finish
    out.append(text[copied:])
    return "".join(out)


_CONTROLS = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def escape_controls(text: str) -> str:
    """Control characters (escape sequences, carriage returns, bells, C1 controls,
    bidirectional overrides) as visible escapes (``\\x1b``); line breaks stay."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


# -- table ----------------------------------------------------------------------------


def render_table(
    rows: Sequence[Row],
    below: Threshold | None,
    within: float | None = None,
    width: int | None = None,
) -> str:
    accounts = any(row.name is not None for row in rows)
    forecasts = any(row.forecast is not None for row in rows)
    header = ["provider", "plan", "remaining", "limit", "% left", "resets/expires", "status"]
    if forecasts:
        header.insert(6, "runs out")
    lines = []
    for row in rows:
        cells = _cells(row, below, within)
        if forecasts:
            cells.insert(6, "-" if row.forecast is None else row.forecast.text)
        lines.append([_clean(row.name or "-"), *cells] if accounts else cells)
    if accounts:
        header.insert(0, "account")
    return _columns(header, lines, right={"remaining", "limit", "% left"}, width=width)


def _columns(
    header: list[str], lines: list[list[str]], right: set[str], width: int | None = None
) -> str:
    """Aligned columns two spaces apart; the columns named in ``right`` flush right.
    With ``width``, a table wider than that is split into tables that fit, each
    repeating the first column (blank lines between them)."""
    lines = [header, *lines]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    groups = [list(range(len(header)))]
    if width is not None and sum(widths) + 2 * (len(widths) - 1) > width:
        groups = []
        current = [0]
        for i in range(1, len(header)):
            if len(current) > 1 and sum(widths[j] + 2 for j in current) + widths[i] > width:
                groups.append(current)
                current = [0]
            current.append(i)
        groups.append(current)
    tables = []
    for group in groups:
        out = []
        for line in lines:
            padded = [
                line[i].rjust(widths[i]) if header[i] in right else line[i].ljust(widths[i])
                for i in group
            ]
            out.append("  ".join(padded).rstrip())
        tables.append("\n".join(out))
    return "\n\n".join(tables)


def _cells(row: Row, below: Threshold | None, within: float | None) -> list[str]:
    outcome = row.outcome
    if not isinstance(outcome, Balance):
        state = "not configured" if outcome is None else f"error: {type(outcome).__name__}"
        return [row.provider, "-", "-", "-", "-", "-", state]
    left = outcome.percent_left
    limit = "unlimited" if outcome.unlimited else _number(outcome.limit)
    return [
        row.provider,
        _clean(outcome.plan) if outcome.plan else "-",
        _number(outcome.remaining),
        limit,
        "-" if left is None else f"{left:.1f}%",
        _when(outcome),
        status(row, below, within),
    ]


def _clean(text: object) -> str:
    """A cell without runs of spaces (they separate the columns), its control
    characters escaped."""
    return escape_controls(re.sub(r"\s+", " ", str(text)))


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _when(balance: Balance[object]) -> str:
    """``resets <when>`` or ``expires <when>``; ``(past)`` after a date that is."""
    for word, when in (("resets", balance.resets_at), ("expires", balance.expires_at)):
        if when is not None:
            past = " (past)" if when <= datetime.now(UTC) else ""
            return f"{word} {_datetime(when)}{past}"
    return "-"


def _datetime(value: datetime) -> str:
    """``2025-01-01 00:00 UTC``, or with the provider's own offset when it gave one."""
    offset = value.utcoffset()
    zone = "UTC" if not offset else value.strftime("%z")
    if zone != "UTC":
        zone = f"{zone[:3]}:{zone[3:5]}"
    return f"{value:%Y-%m-%d %H:%M} {zone}"


# -- JSON -----------------------------------------------------------------------------


def render_json(
    rows: Sequence[Row],
    below: Threshold | None,
    within: float | None = None,
    *,
    include_account: bool = False,
) -> str:
    objects = [json_object(row, below, within, include_account=include_account) for row in rows]
    return json.dumps(objects, indent=2, default=_json_default)


def json_object(
    row: Row,
    below: Threshold | None,
    within: float | None = None,
    *,
    include_account: bool = False,
) -> dict[str, Any]:
    """Balance's attribute names (``account``, the provider's raw data, only with
    ``include_account``: it may hold personal data); errors as ``{"provider",
    "error": {type, message, status_code, code}}``; ``status`` on every object;
    ``name`` (the account's name) with ``--accounts``; ``forecast`` when there is a
    history."""
    head: dict[str, Any] = {} if row.name is None else {"name": row.name}
    head["provider"] = row.provider
    head["status"] = status(row, below, within)
    outcome = row.outcome
    if outcome is None:
        return head
    if isinstance(outcome, Exception):
        status_code = getattr(outcome, "status_code", None)
        code = getattr(outcome, "code", None)
        head["error"] = {
            "type": type(outcome).__name__,
            "message": _one_line(outcome),
            "status_code": status_code if isinstance(status_code, int) else None,
            "code": None if code is None else str(code),
        }
        return head
    return (
        head
        | {
            "remaining": outcome.remaining,
            "limit": outcome.limit,
            "unlimited": outcome.unlimited,
            "unit": outcome.unit,
            "plan": outcome.plan,
            "percent_left": outcome.percent_left,
            "resets_at": _iso(outcome.resets_at),
            "expires_at": _iso(outcome.expires_at),
            "checked_at": _iso(outcome.checked_at),
        }
        | ({"account": plain(outcome.account)} if include_account else {})
        | ({} if row.forecast is None else {"forecast": forecast_json(row.forecast)})
    )


def forecast_json(forecast: Forecast) -> dict[str, Any]:
    """``kind`` (runs_out, after_reset, not_running_out, not_enough_data, unlimited),
    ``used_per_day``, ``runs_out_at`` (the projection, also for after_reset),
    ``resets_at``."""
    return {
        "kind": forecast.kind,
        "used_per_day": forecast.used_per_day,
        "runs_out_at": _iso(forecast.runs_out_at),
        "resets_at": _iso(forecast.resets_at),
    }


# -- history --------------------------------------------------------------------------


def render_history(series: Sequence[Series], width: int | None = None) -> str:
    """One line per provider/account: latest remaining, trend, burn rate, forecast."""
    accounts = any(s.account for s in series)
    header = ["provider", "remaining", "trend", "used/day", "runs out", "checks", "last check"]
    if accounts:
        header.insert(1, "account")
    lines = []
    for one in series:
        latest = one.latest
        forecast = one.forecast()
        last = _datetime(one.last_check_at)
        if one.last_error:
            last += f" ({_clean(one.last_error)})"
        cells = [
            _clean(one.provider),
            "-" if latest is None else _number(latest.remaining),
            sparkline(one.trend) or "-",
            "-" if forecast.used_per_day is None else _number(round(forecast.used_per_day, 2)),
            forecast.text,
            f"{one.checks}" + (f" ({one.failures} failed)" if one.failures else ""),
            last,
        ]
        if accounts:
            cells.insert(1, _clean(one.account or "-"))
        lines.append(cells)
    return _columns(header, lines, right={"remaining", "used/day", "checks"}, width=width)


def render_history_json(series: Sequence[Series]) -> str:
    objects = []
    for one in series:
        latest = one.latest
        objects.append(
            {
                "provider": one.provider,
                "name": one.account or None,
                "checks": one.checks,
                "failures": one.failures,
                "last_check_at": _iso(one.last_check_at),
                "last_error": one.last_error,
                "remaining": None if latest is None else latest.remaining,
                "limit": None if latest is None else latest.limit,
                "unlimited": latest is not None and latest.unlimited,
                "unit": None if latest is None else latest.unit,
                "plan": None if latest is None else latest.plan,
                "trend": one.trend,
                "sparkline": sparkline(one.trend),
                "forecast": forecast_json(one.forecast()),
            }
        )
    return json.dumps(objects, indent=2)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def plain(value: object) -> Any:
    """A model as JSON-ready data: its ``to_dict()``, or its attrs fields, recursively."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    cls = type(value)
    if attrs.has(cls):
        return {f.name: plain(getattr(value, f.name)) for f in attrs.fields(cls)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return str(value)


# -- progress -------------------------------------------------------------------------


class _InFlight:
    """Follows the requests the transport sends (a `creditwatch._base.Watcher`):
    which provider each one is for, its attempt, and when it was sent."""

    def __init__(self) -> None:
        self.requests: dict[int, tuple[str, tuple[int, int], float]] = {}

    def sending(self, key: int, provider: str, attempt: tuple[int, int]) -> None:
        self.requests[key] = (provider, attempt, time.monotonic())

    def answered(self, key: int) -> None:
        self.requests.pop(key, None)

    def stalled(self, after: float) -> list[tuple[int, str, tuple[int, int], float]]:
        """Requests without an answer for ``after`` seconds or more: (key, provider,
        (attempt, attempts), seconds waited), longest first."""
        now = time.monotonic()
        waiting = [
            (key, provider, attempt, now - start)
            for key, (provider, attempt, start) in list(self.requests.items())
            if now - start >= after
        ]
        return sorted(waiting, key=lambda item: -item[3])


def _waiting_text(provider: str, attempt: tuple[int, int], seconds: float) -> str:
    return f"waiting for {provider}: attempt {attempt[0]} of {attempt[1]}, {seconds:.0f} s so far"


class Progress:
    """Progress on stderr while the checks run. On a terminal, a spinner with a count
    (after a short delay, so fast runs do not flicker; erased at the end). Anywhere, a
    request that has had no answer for `STALL` seconds is named: which provider, which
    attempt (on a terminal in the spinner line; in a pipe or log, one line each)."""

    FRAMES = "|/-\\"
    DELAY = 0.1
    STALL = 2.0

    def __init__(
        self, total: int, noun: str, *, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self.total = total
        self.noun = noun
        self.done = 0
        self._stream = sys.stderr if stream is None else stream
        self.enabled = _isatty(self._stream) if enabled is None else enabled
        self._task: asyncio.Task[None] | None = None
        self._shown = False
        self._inflight = _InFlight()
        self._reported: set[tuple[int, int]] = set()

    def advance(self) -> None:
        self.done += 1

    async def __aenter__(self) -> Progress:
        if self.total:
            WATCHERS.append(self._inflight)
            self._task = asyncio.create_task(self._spin() if self.enabled else self._watch())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            with contextlib.suppress(ValueError):
                WATCHERS.remove(self._inflight)
        if self._shown:
            self._write("\r\033[K")

    async def _spin(self) -> None:
        frame = 0
        while True:
            await asyncio.sleep(self.DELAY)
            self._shown = True
            spinner = self.FRAMES[frame % len(self.FRAMES)]
            text = f"{spinner} checking {self.noun}: {self.done}/{self.total} done"
            stalled = self._inflight.stalled(self.STALL)
            if stalled:
                _, provider, attempt, seconds = stalled[0]
                more = f" (+{len(stalled) - 1} more)" if len(stalled) > 1 else ""
                text += f"; {_waiting_text(provider, attempt, seconds)}{more}"
            width = _output_width(self._stream) - 1
            self._write(f"\r\033[K{text[:width]}")
            frame += 1

    async def _watch(self) -> None:
        """Not a terminal: one line per request attempt that stalls."""
        while True:
            await asyncio.sleep(0.25)
            for key, provider, attempt, seconds in self._inflight.stalled(self.STALL):
                if (key, attempt[0]) not in self._reported:
                    self._reported.add((key, attempt[0]))
                    self._write(f"creditwatch: {_waiting_text(provider, attempt, seconds)}\n")

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
            self._stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
