"""``creditwatch serve``, run as users run it: a subprocess against the fault-injecting
server (every provider's documented example, fake keys), scraped over HTTP and parsed
with ``prometheus_client.parser``; and the alert rules it ships, checked and
unit-tested with the real ``promtool``.

The scrape-load test (50 scrapes a second for 10 s) starts with the module (an
autouse fixture) and runs in the background while the other tests run; its
assertions are in the last test.
"""

from __future__ import annotations

import math
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import creditwatch
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from _faults import FaultServer, html_reply, slow_reply
from _golden import first_example
from test_cli import (
    PROVIDERS,
    accounts_setup,
    base_env,
    configured_env,
    example,
    expected,
    operation_paths,
)

ROOT = Path(__file__).resolve().parent.parent
PROMTOOL_TESTS = ROOT / "tests" / "promtool" / "creditwatch-rules.test.yml"
UNITS = {p: first_example(p)["unit"] for p in PROVIDERS}  # hand-worked (tests/golden/)
CHECK_METRICS = (
    "creditwatch_check_success",
    "creditwatch_check_duration_seconds",
    "creditwatch_last_success_timestamp_seconds",
    "creditwatch_last_check_timestamp_seconds",
)
CREDIT_METRICS = (
    "creditwatch_credits_remaining",
    "creditwatch_credits_limit",
    "creditwatch_credits_used_per_day",
    "creditwatch_credits_runs_out_timestamp_seconds",
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


# -- running and scraping ---------------------------------------------------------------


@dataclass
class Serve:
    """A running ``creditwatch serve`` and its stderr lines (read by a thread)."""

    process: subprocess.Popen[str]
    env: Mapping[str, str]
    port: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def scrape(self) -> Samples:
        response = httpx.get(self.url + "/metrics", timeout=10)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        return parse(response.text)

    def wait(self, condition: Callable[[Samples], bool], timeout: float = 20) -> Samples:
        deadline = time.monotonic() + timeout
        while True:
            samples = self.scrape()
            if condition(samples):
                return samples
            assert time.monotonic() < deadline, f"timed out; last scrape: {samples}"
            time.sleep(0.05)

    def stop(self) -> float:
        """SIGTERM; assert exit status 0; return how long it took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(10)
        took = time.monotonic() - started
        assert self.process.returncode == 0, "\n".join(self.lines)
        output = "\n".join(self.lines)
        assert "Traceback" not in output, output
        for name, value in self.env.items():
            if name.endswith(("_API_KEY", "_KEY", "_TOKEN")) and value:
                assert value not in output, f"{name}'s value was printed"
        return took


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@contextmanager
def serve(*args: str, env: Mapping[str, str]) -> Iterator[Serve]:
    """``creditwatch serve --host 127.0.0.1 --port 0 ARGS``; stopped with SIGTERM (exit
    status 0 within 2 s, no traceback, no key) unless the test stopped it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "creditwatch", "serve", "--host", "127.0.0.1", "--port", "0",
         *args],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    running = Serve(process, env)
    first: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            running.lines.append(line.rstrip("\n"))
            first.put(line)
        first.put("")

    threading.Thread(target=read, daemon=True).start()
    try:
        line = first.get(timeout=30)
        assert "listening on http://127.0.0.1:" in line, line + "\n".join(running.lines)
        running.port = int(line.split("127.0.0.1:")[1].split("/")[0])
        yield running
    finally:
        if process.poll() is None:
            took = running.stop()
            assert took < 2, f"SIGTERM took {took:.2f} s"
        process.kill()


def path_of(provider: str, prefix: str) -> str:
    """The path of a provider's balance operation (the first one) under a prefix."""
    return prefix + next(iter(operation_paths(provider).values()))


# -- the scrape load, in the background --------------------------------------------------

LOAD_RATE = 50  # scrapes per second
LOAD_SECONDS = 10.0
LOAD_INTERVAL = 3.0  # seconds between checks


@dataclass
class Load:
    server: FaultServer
    names: dict[str, str]
    started: float = 0.0
    finished: float = 0.0
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    samples: Samples = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    """Provider requests per path when the load ended (the exporter goes on checking)."""


@pytest.fixture(scope="module", autouse=True)
def load(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Load]:
    """An exporter for one account per provider, scraped LOAD_RATE times a second for
    LOAD_SECONDS from a thread, while the module's other tests run."""
    tmp_path = tmp_path_factory.mktemp("load")
    with FaultServer() as server:
        names = {f"load-{p}": p for p in PROVIDERS}
        accounts, env = accounts_setup(server, tmp_path, names)
        result = Load(server, names)
        with serve("--accounts", str(accounts), "--interval", str(LOAD_INTERVAL), env=env) as s:
            result.started = time.monotonic()

            def scrape() -> None:
                with httpx.Client(timeout=5) as client:
                    for i in range(int(LOAD_RATE * LOAD_SECONDS)):
                        pause = result.started + i / LOAD_RATE - time.monotonic()
                        if pause > 0:
                            time.sleep(pause)
                        begun = time.perf_counter()
                        try:
                            response = client.get(s.url + "/metrics")
                        except httpx.HTTPError as exc:
                            result.errors.append(repr(exc))
                            continue
                        result.latencies.append(time.perf_counter() - begun)
                        result.statuses.append(response.status_code)
                        result.samples = parse(response.text)
                result.finished = time.monotonic()
                for request in server.requests:
                    result.requests[request.path] = result.requests.get(request.path, 0) + 1

            thread = threading.Thread(target=scrape, daemon=True)
            thread.start()
            yield result
            thread.join(LOAD_SECONDS + 30)
            assert not thread.is_alive(), "the scrape load did not finish"


# -- metrics ----------------------------------------------------------------------------


def test_metrics_values_and_labels(tmp_path: Path) -> None:
    with FaultServer() as server:
        names = {f"team-{p}": p for p in PROVIDERS}
        accounts, env = accounts_setup(server, tmp_path, names)
        before = time.time()
        with serve("--accounts", str(accounts), env=env) as s:
            samples = s.wait(
                lambda got: all(
                    value(got, "creditwatch_check_success", provider=p, account=n) is not None
                    for n, p in names.items()
                )
            )
            health = httpx.get(s.url + "/healthz")
            index = httpx.get(s.url + "/")
            missing = httpx.get(s.url + "/nope")
            text = httpx.get(s.url + "/metrics").text

    for name, provider in names.items():
        want = expected(provider)
        who = {"provider": provider, "account": name}
        credit = who | {"unit": UNITS[provider]}
        assert value(samples, "creditwatch_check_success", **who) == 1
        assert 0 < (value(samples, "creditwatch_check_duration_seconds", **who) or 0) < 10
        last = value(samples, "creditwatch_last_success_timestamp_seconds", **who)
        assert last is not None and before <= last <= time.time()
        assert value(samples, "creditwatch_credits_remaining", **credit) == pytest.approx(
            want.remaining
        )
        limit = value(samples, "creditwatch_credits_limit", **credit)
        assert limit == (None if want.limit is None else pytest.approx(want.limit)), provider
        # one check: no burn rate and no run-out date yet
        assert value(samples, "creditwatch_credits_used_per_day", **credit) is None
    # nothing else: every sample is one of ours, with exactly the documented labels
    for name, labels in samples:
        keys = {k for k, _ in labels}
        if name in CHECK_METRICS:
            assert keys == {"provider", "account"}, name
        else:
            assert name in CREDIT_METRICS, name
            assert keys == {"provider", "account", "unit"}, name
    for metric in (*CHECK_METRICS, *CREDIT_METRICS):
        assert f"# TYPE {metric} gauge" in text
        assert f"# HELP {metric} " in text
    assert (health.status_code, health.text) == (200, "ok\n")
    assert index.status_code == 200 and "/metrics" in index.text
    assert missing.status_code == 404


def test_a_failing_provider_keeps_its_last_values(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    now = time.time()
    # Two earlier checks of flamel, 10 credits a day above today's: a burn rate.
    remaining = expected("flamel").remaining
    assert remaining is not None
    creditwatch.record(
        [
            _balance("flamel", remaining + 20, now - 2 * 86400),
            _balance("flamel", remaining + 10, now - 86400),
        ],
        db=db,
    )
    with FaultServer() as server:
        env = configured_env(server, ("flamel", "exorde"))
        with serve("--interval", "0.5", "--record", "--db", str(db), env=env) as s:
            flamel = {"provider": "flamel", "account": ""}
            credit = flamel | {"unit": "credits"}
            first = s.wait(
                lambda got: (
                    value(got, "creditwatch_check_success", provider="exorde", account="") == 1
                    and value(got, "creditwatch_credits_used_per_day", **credit) is not None
                )
            )
            used = value(first, "creditwatch_credits_used_per_day", **credit)
            assert used == pytest.approx(10.0, rel=0.01)
            runs_out = value(first, "creditwatch_credits_runs_out_timestamp_seconds", **credit)
            assert runs_out == pytest.approx(time.time() + remaining / 10 * 86400, abs=3600)

            server.script_path(path_of("flamel", "/flamel"), html_reply(502))
            failed = s.wait(
                lambda got: value(got, "creditwatch_check_success", **flamel) == 0, timeout=30
            )
            last_good = value(failed, "creditwatch_last_success_timestamp_seconds", **flamel)
            time.sleep(1.2)  # more failed checks
            later = s.scrape()

    for samples in (failed, later):
        assert value(samples, "creditwatch_check_success", **flamel) == 0
        assert value(samples, "creditwatch_credits_remaining", **credit) == pytest.approx(remaining)
        assert value(samples, "creditwatch_credits_used_per_day", **credit) == pytest.approx(
            used, rel=0.01
        )
        assert value(samples, "creditwatch_check_success", provider="exorde", account="") == 1
    assert last_good is not None and last_good < time.time() - 1
    assert value(later, "creditwatch_last_success_timestamp_seconds", **flamel) == last_good
    failures = [line for line in s.lines if "flamel: check failed: InternalServerError" in line]
    assert len(failures) == 1, s.lines  # said once, when it started failing
    # --record: every check is in the history, the failures as their class
    with creditwatch._history.History(db) as history:
        [series] = history.series(since=now - 3 * 86400, providers=["flamel"])
    assert series.failures >= 1
    assert series.last_error == "InternalServerError"


def _balance(provider: str, remaining: float, at: float) -> creditwatch.Balance[object]:
    return creditwatch.Balance(
        provider=provider,
        remaining=remaining,
        limit=None,
        account=None,
        checked_at=datetime.fromtimestamp(at, UTC),
    )


def test_sigterm_during_a_check_exits_0_within_2_seconds() -> None:
    with FaultServer() as server:
        env = configured_env(server, ("generect",))
        server.script_path(
            path_of("generect", "/generect"), slow_reply(30, example("generect", "getUserMe"))
        )
        with serve(env=env) as s:
            deadline = time.monotonic() + 20
            while not server.requests and time.monotonic() < deadline:
                time.sleep(0.02)
            assert server.requests, "the check never started"
            took = s.stop()
    assert took < 2, f"SIGTERM took {took:.2f} s"
    assert s.lines[-1].endswith("stopped")


def test_nothing_to_check_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "creditwatch", "serve", "--port", "0"],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "nothing to check" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_the_exporter_extra_it_says_how_to_get_it() -> None:
    code = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "from creditwatch.__main__ import main; sys.exit(main(['serve']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=base_env(), capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "pip install prometheus-client" in result.stderr
    assert 'pip install ".[exporter]"' in result.stderr  # from a checkout: no index release
    assert "Traceback" not in result.stderr


# -- the shipped Prometheus files, with the real promtool --------------------------------


def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("promtool is missing in CI: scripts/test.sh installs Debian's prometheus")
    pytest.skip("promtool not found (scripts/test.sh installs Debian's `prometheus` package)")


def printed(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "creditwatch", "serve", *args],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def run_promtool(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        [promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_alert_rules_are_valid_and_fire_as_documented(tmp_path: Path) -> None:
    (tmp_path / "creditwatch-rules.yml").write_text(printed("--print-rules"), encoding="utf-8")
    shutil.copy(PROMTOOL_TESTS, tmp_path)

    checked = run_promtool("check", "rules", "creditwatch-rules.yml", cwd=tmp_path)
    tested = run_promtool("test", "rules", PROMTOOL_TESTS.name, cwd=tmp_path)

    assert "SUCCESS: 2 rules found" in checked
    assert "SUCCESS" in tested


def test_scrape_config_is_valid_with_the_rules(tmp_path: Path) -> None:
    (tmp_path / "creditwatch-rules.yml").write_text(printed("--print-rules"), encoding="utf-8")
    config = printed("--print-scrape-config")
    (tmp_path / "prometheus.yml").write_text(config, encoding="utf-8")

    checked = run_promtool("check", "config", "prometheus.yml", cwd=tmp_path)

    assert "SUCCESS: 2 rules found" in checked  # it found and checked the rules file
    assert '"localhost:9464"' in config
    both = printed("--print-rules", "--print-scrape-config")
    assert both == printed("--print-rules") + config


def test_readme_shows_the_shipped_files() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for option in ("--print-rules", "--print-scrape-config"):
        assert f"```yaml\n{printed(option)}```" in readme, f"README is out of date: {option}"


# -- the scrape load (started by the `load` fixture) -------------------------------------


def test_fast_scrapes_do_not_check_more_than_once_per_interval(load: Load) -> None:
    deadline = time.monotonic() + LOAD_SECONDS + 30
    while not load.finished and time.monotonic() < deadline:
        time.sleep(0.1)
    assert load.finished, "the scrape load did not finish"
    elapsed = load.finished - load.started
    scrapes = len(load.statuses)

    assert not load.errors, load.errors[:3]
    assert scrapes == LOAD_RATE * LOAD_SECONDS
    assert set(load.statuses) == {200}
    assert elapsed < LOAD_SECONDS + 5, f"{scrapes} scrapes took {elapsed:.1f} s"
    cycles = math.floor(elapsed / LOAD_INTERVAL) + 1
    for name, provider in load.names.items():
        made = {p: load.requests.get(f"/{name}{p}", 0) for p in operation_paths(provider).values()}
        assert any(made.values()), f"{name} was never checked"
        for path, count in made.items():  # an LLMGenerator check is two calls, one per path
            assert count <= cycles, f"{name} {path}: {count} requests in {cycles} intervals"
        assert value(load.samples, "creditwatch_check_success", provider=provider, account=name)
    latencies = sorted(load.latencies)
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    median = statistics.median(latencies)
    print(f"\n{scrapes} scrapes in {elapsed:.1f} s: p50 {median:.4f} s, p99 {p99:.4f} s")
