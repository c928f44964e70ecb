"""Run Prism mock servers (``@stoplight/prism-cli`` 5.16.0) for the tests.

Prism is pinned in ``tests/prism/package.json`` / ``package-lock.json`` and installed
with ``npm ci --prefix tests/prism``; :func:`prism_executable` explains that when it is
missing.

Usage::

    with PrismServer("specs/flamel.yaml") as prism:
        httpx.get(f"{prism.base_url}/me", headers={"Authorization": "Bearer t"})

    with prism_servers(spec_a, spec_b, spec_c) as (a, b, c):  # started in parallel
        ...

Each server runs ``prism mock -h 127.0.0.1 -p 0 --errors SPEC`` in its own process
group. ``-p 0`` lets the kernel choose a free port (no race with other processes);
the real port is read from Prism's ``Prism is listening on http://127.0.0.1:PORT``
log line, which also tells us that it is ready.

Prism 5.16.0 behaviour, verified by hand against a small spec (not from memory):

* Flags (``prism mock --help``): ``-h/--host``, ``-p/--port``, ``--errors``,
  ``-d/--dynamic``, ``--seed``, ``--ignoreExamples``, ``-v/--verboseLevel``,
  ``--cors`` (default on), ``-m/--multiprocess`` (off; not used here).
* Paths are served at the root: ``servers[0].url``'s path (``/v1``) is ignored, so
  ``GET {base_url}/me`` matches ``/me`` and ``{base_url}/v1/me`` is a 404. Unknown
  path: 404 ``NO_PATH_MATCHED_ERROR``; known path, wrong method: 405.
* Default answer: the 200 response's first named ``examples`` entry (or its
  ``example``); a 201-only operation without examples gets a body built from the
  schema (``{"id": 0}``).
* ``Prefer: code=429`` answers with that response (its example body and header
  examples, e.g. ``Retry-After``); a code the operation does not define gives 404
  problem+json "Requested status code 404 is not defined in the document."
* ``Prefer: example=NAME`` picks the named example (404 if no such name);
  ``Prefer: code=200, example=bob`` combines them.
* ``Prefer: dynamic=true`` generates a random body from the schema (faker).
* Security is checked before ``Prefer``: a missing credential, a different scheme
  (``Basic`` for a bearer scheme), a lower-case ``bearer`` or ``Bearer`` with no token
  answers **401** even with ``Prefer: code=200``. Any non-empty bearer token or
  API-key value is accepted. If the operation defines a 401 response, Prism serves
  its example plus the header ``sl-violations: [{"location":["request"],
  "severity":"Error","code":401,"message":"Invalid security scheme used"}]``;
  otherwise it makes up ``application/problem+json`` (``type`` ending in
  ``#UNAUTHORIZED``) *without* an ``sl-violations`` header and without
  ``WWW-Authenticate``.
* Invalid requests (missing required header / query parameter, wrong type, bad body,
  missing body, wrong ``Content-Type``) are rejected whether or not ``--errors`` is
  given: Prism serves the operation's 422 (or, lacking one, 400) example with an
  ``sl-violations`` header listing the problems; if neither is defined it makes up
  a 422 ``application/problem+json`` (``type`` ending in ``#UNPROCESSABLE_ENTITY``)
  whose ``validation`` member lists them, again *without* ``sl-violations``.
  Unknown extra query parameters are not violations.
* ``--errors`` changes response violations: an example that does not match its own
  schema is served as 200 plus ``sl-violations`` without it, but as a **500**
  problem+json (``#VIOLATIONS``) with ``sl-violations`` with it. So ``--errors``
  catches broken examples in our specs.
* A bad spec makes Prism print ``fatal`` and exit with status 1 in about a second;
  :class:`PrismServer` then raises :class:`PrismStartError` with Prism's output.
* Startup is CPU-bound (~1.1 s of CPU loading Node modules): about 1 s for one
  server, about 3 s for five started together with :func:`prism_servers` on a
  2-core machine. Start them once per session, not per test.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    "PRISM_DIR",
    "PrismNotInstalledError",
    "PrismServer",
    "PrismStartError",
    "prism_executable",
    "prism_servers",
    "violations",
]

PRISM_DIR = Path(__file__).resolve().parent / "prism"
"""``tests/prism``: the npm project that pins Prism."""

INSTALL_COMMAND = "npm ci --prefix tests/prism"

_LISTENING = re.compile(r"Prism is listening on (http://\S+?)/?\s*$")
_OUTPUT_LINES = 400  # lines of Prism's output kept for error messages


class PrismNotInstalledError(RuntimeError):
    """Prism (or Node.js) is not installed where the tests expect it."""


class PrismStartError(RuntimeError):
    """Prism exited or did not become ready in time."""


def prism_executable() -> Path:
    """Return ``tests/prism/node_modules/.bin/prism``, or explain how to install it."""
    exe = PRISM_DIR / "node_modules" / ".bin" / "prism"
    if not exe.exists():
        raise PrismNotInstalledError(
            f"Prism is not installed ({exe} is missing). The tests serve the "
            "OpenAPI specs with the Prism mock server pinned in "
            f"{PRISM_DIR / 'package-lock.json'}. Install it from the repository "
            f"root with `{INSTALL_COMMAND}` (needs Node.js >= 18 and npm), as the "
            "README's test command does, then rerun pytest."
        )
    if shutil.which("node") is None:
        raise PrismNotInstalledError(
            "Prism needs Node.js, but `node` is not on PATH. Install Node.js "
            f">= 18, run `{INSTALL_COMMAND}` as in the README's test command, "
            "then rerun pytest."
        )
    return exe


def violations(headers: Mapping[str, str]) -> list[dict[str, object]]:
    """Decode Prism's ``sl-violations`` response header ([] when absent).

    Accepts any mapping with case-insensitive lookup, such as ``httpx.Headers``.
    Note that Prism's made-up 401/422 answers carry no such header (see above).
    """
    raw = headers.get("sl-violations")
    if not raw:
        return []
    decoded = json.loads(raw)
    if not isinstance(decoded, list):
        raise ValueError(f"unexpected sl-violations header: {raw!r}")
    return [dict(item) for item in decoded]


class PrismServer:
    """A ``prism mock`` process serving one spec on 127.0.0.1 and a free port.

    Use it as a context manager, or call :meth:`start`, :meth:`wait_ready` and
    :meth:`stop` (that split lets :func:`prism_servers` start several in parallel).
    """

    def __init__(
        self,
        spec: str | os.PathLike[str],
        *,
        errors: bool = True,
        dynamic: bool = False,
        seed: str | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        self.spec = Path(spec)
        self.errors = errors
        self.dynamic = dynamic
        self.seed = seed
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._lines: deque[str] = deque(maxlen=_OUTPUT_LINES)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._base_url: str | None = None
        self.startup_seconds: float | None = None
        self._started_at = 0.0
        self._command: list[str] = []

    # -- public API -----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); only once ready."""
        if self._base_url is None:
            raise RuntimeError("PrismServer is not running; use it as a context manager")
        return self._base_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int | None:
        """Process id (and process group id) of Prism while it runs."""
        return None if self._process is None else self._process.pid

    @property
    def output(self) -> str:
        """The last lines Prism printed (stdout and stderr together)."""
        with self._lock:
            return "".join(self._lines)

    def command(self) -> list[str]:
        cmd = [str(prism_executable()), "mock", "-h", "127.0.0.1", "-p", "0"]
        if self.errors:
            cmd.append("--errors")
        if self.dynamic:
            cmd.append("--dynamic")
        if self.seed is not None:
            cmd += ["--seed", self.seed]
        cmd += self.extra_args
        cmd.append(str(self.spec))
        return cmd

    def start(self) -> None:
        """Launch Prism without waiting for it (see :meth:`wait_ready`)."""
        if self._process is not None:
            raise RuntimeError("PrismServer already started")
        if not self.spec.is_file():
            raise FileNotFoundError(f"OpenAPI spec for Prism not found: {self.spec}")
        cmd = self._command = self.command()
        self._started_at = time.monotonic()
        self._process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() signals all of it
            env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
        )
        # Prism logs every request; the pipe must be drained or Prism blocks.
        self._reader = threading.Thread(
            target=self._read_output, name=f"prism-output-{self.spec.name}", daemon=True
        )
        self._reader.start()

    def wait_ready(self) -> None:
        """Block until Prism listens; raise :class:`PrismStartError` otherwise."""
        process = self._process
        if process is None:
            raise RuntimeError("call start() first")
        deadline = self._started_at + self.startup_timeout
        while not self._ready.wait(0.02):
            if _exited(process):
                if self._reader is not None:
                    self._reader.join(2)  # collect the last output
                self.stop()
                raise PrismStartError(
                    f"Prism exited with status {process.returncode} while starting on "
                    f"{self.spec}.\nCommand: {' '.join(self._command)}\n"
                    f"Output:\n{self.output}"
                )
            if time.monotonic() > deadline:
                output = self.output
                self.stop()
                raise PrismStartError(
                    f"Prism did not report 'Prism is listening on ...' within "
                    f"{self.startup_timeout:.0f} s for {self.spec}.\nOutput:\n{output}"
                )
        self.startup_seconds = time.monotonic() - self._started_at

    def stop(self) -> None:
        """Terminate Prism's process group (SIGTERM, then SIGKILL after 5 s)."""
        process, self._process = self._process, None
        self._base_url = None
        if process is None:
            return
        # The leader is only reaped at the very end, so its pid (= the group id)
        # cannot be reused by an unrelated process while we signal the group.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if _exited(process):
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            deadline = time.monotonic() + 5.0
            while not _exited(process) and time.monotonic() < deadline:
                time.sleep(0.01)
        # Children Prism may have forked (e.g. with --multiprocess) go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> Self:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"PrismServer({str(self.spec)!r}, base_url={self._base_url!r})"

    # -- internals ------------------------------------------------------------------

    def _read_output(self) -> None:
        process = self._process
        if process is None or process.stdout is None:
            return
        stream = process.stdout
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            with self._lock:
                self._lines.append(line)
            if not self._ready.is_set():
                match = _LISTENING.search(line)
                if match:
                    self._base_url = match.group(1)
                    self._ready.set()


def _exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether the process has exited, *without* reaping it."""
    if process.returncode is not None:
        return True
    try:
        result = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # already reaped elsewhere
        return True
    return result is not None


@contextlib.contextmanager
def prism_servers(
    *specs: str | os.PathLike[str],
    errors: bool = True,
    startup_timeout: float = 30.0,
) -> Iterator[list[PrismServer]]:
    """Start one Prism per spec in parallel; yield them in order; stop them all."""
    servers = [PrismServer(spec, errors=errors, startup_timeout=startup_timeout) for spec in specs]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()
