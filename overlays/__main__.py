"""``creditwatch`` and ``python -m creditwatch``: the command line.

``main()`` collects one `Row` per provider (or per account, or per demo provider),
then hands them to ``_cli`` for the table or JSON and the exit status. It never shows
a traceback or a key: failures are one line each, Ctrl-C exits 130 quietly.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

import attrs

from . import PROVIDERS, _cli, _demo
from ._accounts import MANY_ACCOUNTS, AccountsFileError, check_accounts, load_accounts
from ._balance import Balance, configured_providers, credential_variables
from ._checks import Result, Target, acheck_many
from ._cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Progress, Row
from ._forecast import Fit, forecast

if TYPE_CHECKING:  # sqlite3 is imported only by the commands that use the history
    from ._history import History, Series

T = TypeVar("T")
Done = Callable[[], None]

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports it


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (see ``creditwatch balances -h``)."""
    # A one-shot command: what the imports made is never garbage, so the collections
    # during 2,000 checks need not scan it (30-40 ms of a 2,000-account run).
    gc.freeze()
    try:
        parsed = _cli.parse_args(argv)
        if isinstance(parsed, int):
            return parsed
        return _run(parsed)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `creditwatch balances | head -1`
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _run(args: argparse.Namespace) -> int:
    # The demo reads no key at all, not even to redact it.
    secrets = set() if args.command == "demo" else _environment_secrets()
    note = None
    status = EXIT_OK
    if getattr(args, "verbose", False):
        _log_to_stderr(secrets)
    try:
        if args.command == "history":
            return _history(args)
        if args.command == "serve":
            return _serve(args, secrets)
        if args.command == "demo" and args.serve:
            return _demo_serve(args.port)
        if args.command == "demo":
            rows, history = _demo_rows()
            note = _demo.NOTE
            args.runs_out_within = None
        else:
            rows = _account_rows(args, secrets) if args.accounts else _provider_rows(args)
            rows, status = _with_history(rows, args)
        _report(rows, args, secrets, note)
        if args.command == "demo" and not args.json:
            width = _cli._output_width(sys.stdout)
            _print(sys.stdout, "\n" + _wrap(_demo.HISTORY_NOTE, width) + "\n", secrets)
            _print(sys.stdout, _cli.render_history(history, width=width), secrets)
            _print(sys.stdout, "\n" + _wrap(_demo.NEXT_STEP, width), secrets)
    except AccountsFileError as exc:
        _print(sys.stderr, f"creditwatch: {exc}", secrets)
        return EXIT_FAILED
    except BrokenPipeError:
        raise
    except Exception as exc:  # a bug: one line, never a traceback
        _print(sys.stderr, f"creditwatch: {type(exc).__name__}: {exc}", secrets)
        return EXIT_FAILED
    return max(status, _cli.exit_status(rows, args.below, args.runs_out_within))


def _wrap(text: str, width: int) -> str:
    import textwrap  # noqa: PLC0415

    return textwrap.fill(text, width)


def _log_to_stderr(secrets: set[str]) -> None:
    """``--verbose``: the library's DEBUG lines (each request and response) on stderr,
    redacted like everything the command line prints. ``CREDITWATCH_LOG`` has its own
    handler: not twice."""
    import logging  # noqa: PLC0415

    from ._base import LOG_ENV  # noqa: PLC0415

    if os.environ.get(LOG_ENV, "").strip():
        return

    class Redact(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg, record.args = _cli.redact(record.getMessage(), secrets), None
            return True

    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("creditwatch: %(message)s"))
    handler.addFilter(Redact())
    logger = logging.getLogger("creditwatch")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def _demo_serve(port: int) -> int:
    """``creditwatch demo --serve``: the mock in the foreground until Ctrl-C, after the
    ``export`` lines that point every provider at it."""
    try:
        server = _demo.MockServer(_demo.honest_routes(_demo.load_examples()), port=port)
    except OSError as exc:
        print(
            f"creditwatch: cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}", file=sys.stderr
        )
        return EXIT_FAILED
    lines = [
        f"# creditwatch demo --serve: the demo's mock on http://127.0.0.1:{server.port}",
        "# (Ctrl-C stops it). Paste these lines into another shell (the keys are fake:",
        "# the mock accepts any), then run `creditwatch balances` or a README example:",
    ]
    from ._base import load_profile  # noqa: PLC0415 - the --serve path only

    for provider in PROVIDERS:
        profile = load_profile(provider)
        for argument in _demo.demo_credentials(provider):
            variable = (
                dict(profile.credentials).get(argument)
                or f"{profile.env_prefix}_{argument.upper()}"
            )
            lines.append(f"export {variable}={_demo.DEMO_KEY}")
        lines.append(f"export {profile.env_prefix}_BASE_URL={server.base_url(provider)}")
    print("\n".join(lines), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        server.close()
    return EXIT_OK


# -- serve ----------------------------------------------------------------------------

PROMETHEUS_FILES = {"rules": "creditwatch-rules.yml", "scrape_config": "scrape-config.yml"}


def prometheus_file(name: str) -> str:
    """A file shipped in ``creditwatch/prometheus/`` (package data)."""
    import importlib.resources  # noqa: PLC0415

    resource = importlib.resources.files("creditwatch") / "prometheus" / PROMETHEUS_FILES[name]
    return resource.read_text(encoding="utf-8")


def _serve(args: argparse.Namespace, secrets: set[str]) -> int:
    if args.print_rules or args.print_scrape_config:
        for name in ("rules", "scrape_config"):
            if getattr(args, f"print_{name}"):
                sys.stdout.write(prometheus_file(name))
        sys.stdout.flush()
        return EXIT_OK
    try:
        from . import _exporter  # noqa: PLC0415 - needs the exporter extra
    except ModuleNotFoundError as exc:
        if exc.name != "prometheus_client":
            raise
        print(
            "creditwatch serve needs prometheus-client: pip install prometheus-client "
            '(from a checkout of creditwatch: pip install ".[exporter]")',
            file=sys.stderr,
        )
        return EXIT_FAILED
    return _exporter.main(args, secrets)


# -- history --------------------------------------------------------------------------


def _db_path(args: argparse.Namespace) -> Path:
    from ._history import default_path  # noqa: PLC0415 - sqlite3 only when needed

    return args.db if args.db is not None else default_path()


def _with_history(rows: list[Row], args: argparse.Namespace) -> tuple[list[Row], int]:
    """Record the check (``--record``) and add the forecasts when there is a history
    (or ``--runs-out-within`` asks for them). A history that cannot be written or read
    is one error line and exit status 2; the table is still shown."""
    import sqlite3  # noqa: PLC0415

    from ._history import Check, History  # noqa: PLC0415

    path = _db_path(args)
    try:
        checks = [
            Check(provider=r.provider, outcome=r.outcome, account=r.name or "")
            for r in rows
            if r.outcome is not None
        ]
        if args.record and checks:  # nothing configured: no database is created
            with History(path) as history:
                history.add(checks)
        history_or_none = History.existing(path, readonly=True)
    except (sqlite3.Error, OSError, ValueError) as exc:
        _print(sys.stderr, f"creditwatch: history {path}: {exc}", ())
        return rows, EXIT_FAILED
    if history_or_none is None:
        if args.runs_out_within is None:
            return rows, EXIT_OK
        print(
            f"creditwatch: no history at {path} yet: --runs-out-within needs checks "
            "recorded with --record",
            file=sys.stderr,
        )
        return [_forecast_row(row, None) for row in rows], EXIT_OK
    with history_or_none as history:
        return forecast_rows(rows, history), EXIT_OK


def forecast_rows(rows: list[Row], history: History) -> list[Row]:
    """Each balance's forecast from the window of history, plus the balance itself."""
    since = time.time() - _cli.parse_duration(_cli.DEFAULT_SINCE)
    providers = sorted({row.provider for row in rows})
    found = {(s.provider, s.account): s for s in history.series(since=since, providers=providers)}
    return [_forecast_row(row, found.get((row.provider, row.name or ""))) for row in rows]


def _forecast_row(row: Row, series: Series | None) -> Row:
    outcome = row.outcome
    if not isinstance(outcome, Balance):
        return row
    if series is None:  # no history for it: one point is not enough
        return attrs.evolve(row, forecast=forecast(Fit.of([]), unlimited=outcome.unlimited))
    return attrs.evolve(row, forecast=series.forecast(outcome))


def _history(args: argparse.Namespace) -> int:
    import sqlite3  # noqa: PLC0415

    from ._history import History  # noqa: PLC0415

    path = _db_path(args)
    try:
        found = History.existing(path, readonly=True)
        if found is None:
            print(
                f"creditwatch: no history at {path} yet; record checks with "
                "`creditwatch balances --record` (or pass --db)",
                file=sys.stderr,
            )
            return EXIT_FAILED
        with found as history:
            series = history.series(
                since=time.time() - args.since, providers=args.providers or None
            )
    except (sqlite3.Error, OSError) as exc:
        _print(sys.stderr, f"creditwatch: history {path}: {exc}", ())
        return EXIT_FAILED
    if args.json:
        _print(sys.stdout, _cli.render_history_json(series), ())
    elif series:
        _print(sys.stdout, _cli.render_history(series), ())
    else:
        print(f"creditwatch: no checks recorded in this window ({path})", file=sys.stderr)
    return EXIT_OK


# -- collecting rows ------------------------------------------------------------------


def _provider_rows(args: argparse.Namespace) -> list[Row]:
    """The named providers, or every provider (those without a key as not configured)."""
    named: list[str] = args.providers
    names = named or configured_providers()
    results = _with_progress(len(names), "providers", lambda done: _check(names, args, done))
    if named:
        return [Row(name, results[name]) for name in named]
    return [Row(name, results.get(name)) for name in PROVIDERS]


async def _check(names: list[str], args: argparse.Namespace, done: Done) -> dict[str, Result]:
    """What `abalances()` does, counting each provider as it ends (a provider's
    surprise, say a bad ``<P>_BASE_URL``, stays its own error)."""
    targets = [
        Target(
            provider=name,
            timeout=args.timeout,
            deadline=args.deadline,
            max_response_bytes=args.max_response_bytes or None,
        )
        for name in names
    ]
    results = await acheck_many(targets, on_result=lambda *_: done())
    return dict(zip(names, results, strict=True))


def _account_rows(args: argparse.Namespace, secrets: set[str]) -> list[Row]:
    accounts = load_accounts(args.accounts)
    if args.providers:
        accounts = [a for a in accounts if a.provider in args.providers]
        if not accounts:
            raise AccountsFileError(f"{args.accounts}: no account uses {', '.join(args.providers)}")
    secrets.update(
        key
        for a in accounts
        for variable in a.variables().values()
        if (key := os.environ.get(variable, "").strip())
    )
    if len(accounts) >= MANY_ACCOUNTS:
        _suggest_aiohttp(len(accounts))
    results = _with_progress(
        len(accounts),
        "accounts",
        lambda done: check_accounts(
            accounts,
            concurrency=args.concurrency,
            timeout=args.timeout,
            on_done=done,
            deadline=args.deadline,
            max_response_bytes=args.max_response_bytes or None,
        ),
    )
    return [Row(a.provider, r, name=a.name) for a, r in zip(accounts, results, strict=True)]


def _suggest_aiohttp(count: int) -> None:
    """One line on stderr when many accounts would be checked faster with the extra."""
    from ._aiohttp import EXTRA_HINT, aiohttp_available  # noqa: PLC0415

    if not aiohttp_available():
        print(
            f"creditwatch: hint: {count} accounts are checked faster (less CPU per check) "
            f"over aiohttp: {EXTRA_HINT}",
            file=sys.stderr,
        )


def _demo_rows() -> tuple[list[Row], list[Series]]:
    """The demo's rows, with forecasts from synthetic history (in memory), and that
    history's series."""
    from ._history import History  # noqa: PLC0415

    with _demo.MockServer(_demo.honest_routes(_demo.load_examples())) as server:
        results = _with_progress(
            len(PROVIDERS), "providers", lambda done: _demo.check(server, on_done=done)
        )
    rows = [Row(name, results[name]) for name in PROVIDERS]
    with History(":memory:") as history:
        history.add(_demo.synthetic_history(results))
        history.add(_demo.current_checks(results))
        rows = forecast_rows(rows, history)
        since = time.time() - _cli.parse_duration(_cli.DEFAULT_SINCE)
        return rows, history.series(since=since)


def _with_progress(total: int, noun: str, run: Callable[[Done], Awaitable[T]]) -> T:
    async def go() -> T:
        async with Progress(total, noun) as progress:
            return await run(progress.advance)

    return asyncio.run(go())


# -- output ---------------------------------------------------------------------------


def _report(
    rows: list[Row], args: argparse.Namespace, secrets: Iterable[str], note: str | None
) -> None:
    within = args.runs_out_within
    if args.json:
        text = _cli.render_json(rows, args.below, within, include_account=args.include_account)
        _print(sys.stdout, text, secrets)
        if note:
            _print(sys.stderr, note, secrets)
    else:
        # the demo fits the terminal (80 columns when not one); a report keeps one table
        width = _cli._output_width(sys.stdout) if note else None
        if note:
            _print(sys.stdout, _wrap(note, width or 80) + "\n", secrets)
        _print(sys.stdout, _cli.render_table(rows, args.below, within, width=width), secrets)
        for line in _cli.error_lines(rows):
            _print(sys.stderr, line, secrets)
    if all(row.outcome is None for row in rows):
        _print(sys.stderr, f"creditwatch: {_cli.nothing_configured_hint()}", secrets)


def _print(stream: TextIO, text: str, secrets: Iterable[str]) -> None:
    """``text`` on ``stream``: credentials redacted, control characters escaped (a
    provider's message or a file's content never drives the terminal)."""
    text = _cli.escape_controls(_cli.redact(text, secrets))
    try:
        print(text, file=stream, flush=True)
    except UnicodeEncodeError:  # a provider's non-ASCII plan name on a narrow console
        encoding = stream.encoding or "ascii"
        print(text.encode(encoding, "replace").decode(encoding), file=stream, flush=True)


def _environment_secrets() -> set[str]:
    names = [v for p in PROVIDERS for v in credential_variables(p)]
    return {value for name in names if (value := os.environ.get(name, "").strip())}


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the exit flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
