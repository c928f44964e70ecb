"""The command line's front and back: arguments in; table, JSON, error lines, exit
status and the progress indicator out. No network here: ``__main__`` collects the
results (from the environment's keys, an accounts file or the demo mock) as `Row`\\ s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, TypeAlias

import attrs

from . import PROVIDERS
from ._balance import Balance, credential_variables
from ._base import DEFAULT_TIMEOUT
from ._version import __version__

EXIT_OK = 0
EXIT_BELOW = 1
EXIT_FAILED = 2
EXIT_INTERRUPTED = 130
DEFAULT_CONCURRENCY = 10

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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    return value


_EXIT_STATUS_HELP = """\
exit status:
  0  every checked provider answered and none is below --below
  1  at least one is below --below
  2  at least one failed (missing key, HTTP error, timeout...), nothing is
     configured, or the arguments or the accounts file are wrong
  130 interrupted (Ctrl-C)"""

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
  provider = "flamel"             # {", ".join(PROVIDERS)}
  key_env = "TEAM_A_FLAMEL_KEY"   # the environment variable holding the key
  base_url = "https://..."        # optional; else <P>_BASE_URL, else the provider's
Keys never live in the file. A missing variable fails that account only.

{_EXIT_STATUS_HELP}"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="creditwatch",
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
        formatter_class=argparse.RawDescriptionHelpFormatter,
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

    demo = commands.add_parser(
        "demo",
        help="show the table with example data: no keys, no network",
        description="The balances table for all five providers, from the examples in "
        "their API documentation, served by a mock on 127.0.0.1. Reads no keys and "
        "needs no network.",
        epilog=_EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_output_options(demo)
    return parser


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
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
    providers: list[str] = list(dict.fromkeys(getattr(args, "providers", [])))
    unknown = [p for p in providers if p not in PROVIDERS]
    if unknown:
        parser.print_usage(sys.stderr)
        print(
            f"creditwatch: unknown provider {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(PROVIDERS)}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    args.providers = providers
    if args.command == "balances":
        if args.concurrency is not None and args.accounts is None:
            parser.print_usage(sys.stderr)
            print("creditwatch: --concurrency applies to --accounts only", file=sys.stderr)
            return EXIT_FAILED
        if args.concurrency is None:
            args.concurrency = DEFAULT_CONCURRENCY
    return args


# -- results --------------------------------------------------------------------------


@attrs.frozen
class Row:
    """One line of the report: a provider, or with ``--accounts`` one account."""

    provider: str
    outcome: Outcome
    name: str | None = None
    """The account's name (``--accounts``); None for a provider's own key."""


def status(row: Row, below: Threshold | None) -> str:
    """``ok``, ``below``, ``error`` or ``not configured``."""
    if row.outcome is None:
        return "not configured"
    if isinstance(row.outcome, Exception):
        return "error"
    if below is not None and below.is_below(row.outcome):
        return "below"
    return "ok"


def exit_status(rows: Sequence[Row], below: Threshold | None) -> int:
    statuses = [status(row, below) for row in rows if row.outcome is not None]
    if not statuses or "error" in statuses:
        return EXIT_FAILED
    return EXIT_BELOW if "below" in statuses else EXIT_OK


def error_lines(rows: Iterable[Row]) -> list[str]:
    """One line per failed row: who, the error class, the provider's message."""
    lines = []
    for row in rows:
        if isinstance(row.outcome, Exception):
            who = row.provider if row.name is None else f"{row.name} ({row.provider})"
            lines.append(f"{who}: {type(row.outcome).__name__}: {_one_line(row.outcome)}")
    return lines


def _one_line(exc: BaseException) -> str:
    return re.sub(r"\s+", " ", str(exc)).strip() or "(no message)"


def nothing_configured_hint() -> str:
    variables = ", ".join(v for p in PROVIDERS for v in credential_variables(p))
    return f"no provider is configured: set one of {variables}, or try `creditwatch demo`"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Defence in depth: no credential reaches the output, even if a message had one."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 8:  # real keys are long; short strings would garble output
            text = text.replace(secret, "<redacted>")
    return text


# -- table ----------------------------------------------------------------------------


def render_table(rows: Sequence[Row], below: Threshold | None) -> str:
    accounts = any(row.name is not None for row in rows)
    header = ["provider", "plan", "remaining", "limit", "% left", "resets/expires", "status"]
    right = {2, 3, 4}  # numbers
    if accounts:
        header.insert(0, "account")
        right = {i + 1 for i in right}
    lines = [header]
    for row in rows:
        cells = _cells(row, below)
        lines.append([_clean(row.name or "-"), *cells] if accounts else cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for line in lines:
        padded = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append("  ".join(padded).rstrip())
    return "\n".join(out)


def _cells(row: Row, below: Threshold | None) -> list[str]:
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
        status(row, below),
    ]


def _clean(text: object) -> str:
    """A cell without runs of spaces (they separate the columns) or control characters."""
    return re.sub(r"\s+", " ", "".join(c for c in str(text) if c.isprintable() or c == " "))


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _when(balance: Balance[object]) -> str:
    if balance.resets_at is not None:
        return f"resets {_datetime(balance.resets_at)}"
    if balance.expires_at is not None:
        return f"expires {_datetime(balance.expires_at)}"
    return "-"


def _datetime(value: datetime) -> str:
    """``2025-01-01 00:00 UTC``, or with the provider's own offset when it gave one."""
    offset = value.utcoffset()
    zone = "UTC" if not offset else value.strftime("%z")
    if zone != "UTC":
        zone = f"{zone[:3]}:{zone[3:5]}"
    return f"{value:%Y-%m-%d %H:%M} {zone}"


# -- JSON -----------------------------------------------------------------------------


def render_json(rows: Sequence[Row], below: Threshold | None) -> str:
    return json.dumps([json_object(row, below) for row in rows], indent=2, default=_json_default)


def json_object(row: Row, below: Threshold | None) -> dict[str, Any]:
    """Balance's attribute names; errors as ``{"provider", "error": {type, message,
    status_code, code}}``; ``status`` on every object; ``name`` with ``--accounts``."""
    head: dict[str, Any] = {} if row.name is None else {"name": row.name}
    head["provider"] = row.provider
    head["status"] = status(row, below)
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
    return head | {
        "remaining": outcome.remaining,
        "limit": outcome.limit,
        "unlimited": outcome.unlimited,
        "unit": outcome.unit,
        "plan": outcome.plan,
        "percent_left": outcome.percent_left,
        "resets_at": _iso(outcome.resets_at),
        "expires_at": _iso(outcome.expires_at),
        "checked_at": _iso(outcome.checked_at),
        "account": plain(outcome.account),
    }


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


class Progress:
    """A spinner with a count on stderr while the checks run, only when stderr is a
    terminal (never in pipes, logs or CI). Appears after a short delay, so fast runs
    do not flicker, and erases itself."""

    FRAMES = "|/-\\"
    DELAY = 0.1

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

    def advance(self) -> None:
        self.done += 1

    async def __aenter__(self) -> Progress:
        if self.enabled and self.total:
            self._task = asyncio.create_task(self._spin())
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
        if self._shown:
            self._write("\r\033[K")

    async def _spin(self) -> None:
        frame = 0
        while True:
            await asyncio.sleep(self.DELAY)
            self._shown = True
            spinner = self.FRAMES[frame % len(self.FRAMES)]
            self._write(f"\r{spinner} checking {self.noun}: {self.done}/{self.total} done")
            frame += 1

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
            self._stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
