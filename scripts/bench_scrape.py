"""Benchmark: 1,000 concurrent scrapes of ``creditwatch serve``'s /metrics (issue #17).

``creditwatch serve`` runs as a subprocess (as deployed), checking every provider
against the demo's local mock (the documented examples). Once /metrics shows the
credits, N clients (default 1,000) connect at the same moment, each sends
``GET /metrics`` and reads the whole answer. Target: every scrape answered 200, all
within 10 s.

    python scripts/bench_scrape.py                 # 1,000 scrapes
    python scripts/bench_scrape.py --scrapes 100   # quicker

Exit status 0 when the target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

from creditwatch import PROVIDERS
from creditwatch._demo import DEMO_KEY, MockServer, load_examples, routes

TARGET_SECONDS = 10.0


async def scrape(port: int) -> tuple[bool, float]:
    """One scrape on its own connection: (answered 200 in full, seconds)."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n")
        await writer.drain()
        answer = await reader.read()
        writer.close()
    except OSError:
        return False, time.perf_counter() - started
    ok = answer.startswith(b"HTTP/1.0 200") and b"creditwatch_credits_remaining" in answer
    return ok, time.perf_counter() - started


async def burst(port: int, scrapes: int) -> tuple[int, float, list[float]]:
    started = time.perf_counter()
    results = await asyncio.gather(*(scrape(port) for _ in range(scrapes)))
    took = time.perf_counter() - started
    return sum(ok for ok, _ in results), took, sorted(seconds for _, seconds in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=1000)
    args = parser.parse_args()
    with MockServer(routes(load_examples())) as mock:
        env = dict(os.environ)
        for provider in PROVIDERS:
            env[f"{provider.upper()}_API_KEY"] = DEMO_KEY
            env[f"{provider.upper()}_BASE_URL"] = mock.base_url(provider)
        process = subprocess.Popen(
            [sys.executable, "-m", "creditwatch", "serve", "--listen", "127.0.0.1:0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            line = process.stderr.readline()
            port = int(line.split("127.0.0.1:")[1].split("/")[0])
            deadline = time.monotonic() + 30
            while not asyncio.run(scrape(port))[0]:  # the first check cycle's values
                if time.monotonic() > deadline:
                    raise SystemExit("no credits in /metrics after 30 s")
                time.sleep(0.1)
            ok, took, latencies = asyncio.run(burst(port, args.scrapes))
        finally:
            process.terminate()
            process.wait(10)
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    met = ok == args.scrapes and took <= TARGET_SECONDS
    print(
        f"{args.scrapes} concurrent scrapes of /metrics: {ok} answered 200 in {took:.2f} s "
        f"(per scrape p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; target: all "
        f"within {TARGET_SECONDS:g} s) {'ok' if met else 'MISSED'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
