"""``creditwatch`` and ``python -m creditwatch``: the command line.

``main()`` collects one `Row` per provider (or per account, or per demo provider),
then hands them to ``_cli`` for the table or JSON and the exit status. It never shows
a traceback or a key: failures are one line each, Ctrl-C exits 130 quietly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import TextIO, TypeVar

from . import PROVIDERS, _cli, _demo
from ._accounts import AccountsFileError, Result, check_accounts, load_accounts
from ._balance import abalances, configured_providers, credential_variables
from ._cli import EXIT_FAILED, EXIT_INTERRUPTED, Progress, Row

T = TypeVar("T")
Done = Callable[[], None]

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports it


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (see ``creditwatch balances -h``)."""
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
    try:
        if args.command == "demo":
            rows = _demo_rows()
            note = _demo.NOTE
        elif args.accounts is not None:
            rows = _account_rows(args, secrets)
        else:
            rows = _provider_rows(args.providers, args.timeout)
        _report(rows, args, secrets, note)
    except AccountsFileError as exc:
        _print(sys.stderr, f"creditwatch: {exc}", secrets)
        return EXIT_FAILED
    except BrokenPipeError:
        raise
    except Exception as exc:  # a bug: one line, never a traceback
        _print(sys.stderr, f"creditwatch: {type(exc).__name__}: {exc}", secrets)
        return EXIT_FAILED
    return _cli.exit_status(rows, args.below)


# -- collecting rows ------------------------------------------------------------------


def _provider_rows(named: list[str], timeout: float | None) -> list[Row]:
    """The named providers, or every provider (those without a key as not configured)."""
    names = named or configured_providers()
    results = _with_progress(len(names), "providers", lambda done: _check(names, timeout, done))
    if named:
        return [Row(name, results[name]) for name in named]
    return [Row(name, results.get(name)) for name in PROVIDERS]


async def _check(names: list[str], timeout: float | None, done: Done) -> dict[str, Result]:
    """`abalances()` per provider, so that one provider's surprise (say a bad
    ``<P>_BASE_URL``) stays its own error and the progress can count."""

    async def one(name: str) -> Result:
        try:
            return (await abalances([name], timeout=timeout))[name]
        except Exception as exc:
            return exc
        finally:
            done()

    results = await asyncio.gather(*(one(name) for name in names))
    return dict(zip(names, results, strict=True))


def _account_rows(args: argparse.Namespace, secrets: set[str]) -> list[Row]:
    accounts = load_accounts(args.accounts)
    if args.providers:
        accounts = [a for a in accounts if a.provider in args.providers]
        if not accounts:
            raise AccountsFileError(f"{args.accounts}: no account uses {', '.join(args.providers)}")
    secrets.update(key for a in accounts if (key := os.environ.get(a.key_env, "").strip()))
    results = _with_progress(
        len(accounts),
        "accounts",
        lambda done: check_accounts(
            accounts, concurrency=args.concurrency, timeout=args.timeout, on_done=done
        ),
    )
    return [Row(a.provider, r, name=a.name) for a, r in zip(accounts, results, strict=True)]


def _demo_rows() -> list[Row]:
    with _demo.MockServer(_demo.routes(_demo.load_examples())) as server:
        results = _with_progress(
            len(PROVIDERS), "providers", lambda done: _demo.check(server, on_done=done)
        )
    return [Row(name, results[name]) for name in PROVIDERS]


def _with_progress(total: int, noun: str, run: Callable[[Done], Awaitable[T]]) -> T:
    async def go() -> T:
        async with Progress(total, noun) as progress:
            return await run(progress.advance)

    return asyncio.run(go())


# -- output ---------------------------------------------------------------------------


def _report(
    rows: list[Row], args: argparse.Namespace, secrets: Iterable[str], note: str | None
) -> None:
    if args.json:
        _print(sys.stdout, _cli.render_json(rows, args.below), secrets)
        if note:
            _print(sys.stderr, note, secrets)
    else:
        if note:
            _print(sys.stdout, note + "\n", secrets)
        _print(sys.stdout, _cli.render_table(rows, args.below), secrets)
        for line in _cli.error_lines(rows):
            _print(sys.stderr, line, secrets)
    if all(row.outcome is None for row in rows):
        _print(sys.stderr, f"creditwatch: {_cli.nothing_configured_hint()}", secrets)


def _print(stream: TextIO, text: str, secrets: Iterable[str]) -> None:
    text = _cli.redact(text, secrets)
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
