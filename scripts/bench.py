"""creditwatch against its baselines: one table of ratios, measured side by side.

    python scripts/bench.py              # full: 2,000 calls per client, 3 regenerations
    python scripts/bench.py --smoke      # CI: a few iterations of everything
    python scripts/bench.py --profile    # also: where AuthUserDto.from_dict spends time
    python scripts/bench.py --only call  # one section (import, call, parse, regen)

Rows (creditwatch | baseline | ratio | target); the targets of issue #10 are the
constants CALL_TARGET, PARSE_VS_JSON, PARSE_VS_PYDANTIC and IMPORT_TARGET below:

* import: ``python -X importtime -c "import creditwatch"`` against ``import httpx``
  (cumulative import time, fresh interpreters, alternating, median; httpx's optional
  command-line dependencies blocked on both sides, see NO_CLI_EXTRAS), and the number
  of ``creditwatch._generated.*.models`` modules that ``import creditwatch`` loads
  (none: providers and their models load on first use). Target: ratio <= 1.3. Then
  ``import creditwatch.<provider>`` (the first use of a provider) against the same
  ``import httpx``: target IMPORT_TARGET; and, informational, ``import httpx, attrs``,
  the floor under every provider row.
* per call: each provider's main method on one client, against the same request
  made with a bare ``httpx.Client`` + ``json.loads``, sync and async, against one
  local HTTP server in a separate process (so it does not share this GIL) that
  answers the documented example from creditwatch/_generated/examples.json. The two
  are interleaved call by call (alternating which goes first) so that noise hits
  both alike; medians. Target: CALL_TARGET.
* parsing, on each provider's largest documented example: ``json.loads`` +
  ``from_dict`` against ``json.loads`` alone (target PARSE_VS_JSON), and
  ``from_dict`` against ``model_validate`` of the pydantic v2 models that
  datamodel-code-generator makes from the same spec at run time (in a temporary
  folder; target PARSE_VS_PYDANTIC). Informational, the floor under the first: the
  same objects built by straight-line code with no checks at all (see
  ``floor_builder``). Then the same pydantic comparison on a large Flamel account built
  here (plan with credit-cost entries, models with Plans, Enterprises and a
  BackupModel, an enterprise contract, downloads) and on a Plan with 3 models.
  Interleaved, batched samples, medians.
* regeneration: ``scripts/generate.py`` on a temporary copy of the repository
  (specs/, scripts/, generated/, overlays/, pyproject.toml; the copy's ROOT is its
  own folder, so nothing here is written): a full regeneration, then ``--check`` with
  nothing changed. Targets: full < 30 s; check faster than full.

It measures the *installed* creditwatch (what users get): after changing overlays/
or generated/, ``pip install .`` first. The regeneration rows use this repository's
files and this environment's tools.

Exit status: 0 whenever the benchmarks ran, in both modes, also when a target is
missed: each miss is printed as a ``MISSED`` line under the table. These are
timings on shared, noisy machines (CI included); a red build should mean broken
code, not a busy neighbour. A benchmark that cannot run at all (a request fails,
the generator fails, the parsers disagree) raises, which exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime
import enum
import gc
import importlib
import importlib.resources
import importlib.util
import itertools
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import creditwatch
import httpx
from creditwatch.flamel import models as flamel_models
from creditwatch.flamel.models import AuthUserDto, CreditCostInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from codegen import spec as speclib

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECTIONS = ("import", "call", "parse", "regen")
# The upstream Flamel spec nests a Plan (and its models) in every credit-cost entry;
# the payload follows whichever the generated CreditCostInfo has.
COST_HAS_PLANS = "plan" in attrs.fields_dict(CreditCostInfo)

# provider -> (client method, operationId of what it requests with an API key)
CALLS = {
    "flamel": ("get_my_info", "getMyInfo"),
    "exorde": ("get_user_info", "getUserInfo"),
    "generect": ("get_user_me", "getUserMe"),
    "easyslip": ("get_me", "getMe"),
    "llmgenerator": ("get_credit_balance", "getCreditBalanceWithApiKey"),
}


# What each provider's request carries (the README's provider table), so that bare httpx
# sends the same request as the client: constant headers on its httpx.Client, as a
# hand-written integration would set them.
BARE_HEADERS = {
    "flamel": {"X-Api-Key": "bench-key"},
    "exorde": {
        "Authorization": "Bearer bench-key",
        "Accept": "application/json",
        "X-Exorde-Api-Version": "v1",
    },
    "generect": {"Authorization": "Token bench-key"},
    "easyslip": {"Authorization": "Bearer bench-key"},
    "llmgenerator": {"Authorization": "Bearer bench-key"},
}

CALL_TARGET = 1.05  # issue #10: per call within 5 % of bare httpx + json.loads
PARSE_VS_JSON = 1.5  # issue #10: json.loads + from_dict within 1.5x json.loads alone
PARSE_VS_PYDANTIC = 1.0  # issue #10: from_dict no slower than pydantic v2's model_validate
IMPORT_TARGET = 1.2  # issue #10: import creditwatch.<provider> within 1.2x import httpx


@dataclass(frozen=True)
class Mode:
    import_repeats: int
    calls: int
    call_warmup: int
    parses: int
    regenerations: int


SMOKE = Mode(import_repeats=5, calls=50, call_warmup=10, parses=20, regenerations=1)
FULL = Mode(import_repeats=21, calls=2000, call_warmup=200, parses=400, regenerations=3)


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    baseline: str = "-"
    ratio: float | None = None
    target: str = "-"
    ok: bool | None = None  # None: informational, no target


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def us(seconds: float) -> str:
    micros = seconds * 1e6
    return f"{micros:.1f} us" if micros < 100 else f"{micros:.0f} us"


def ratio_row(
    metric: str, value: float, baseline: float, fmt: Callable[[float], str], limit: float
) -> Row:
    ratio = value / baseline
    return Row(metric, fmt(value), fmt(baseline), ratio, f"<= {limit:g}", ratio <= limit)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONSTARTUP"}}
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    return env


# -- import ------------------------------------------------------------------------------

IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
# httpx imports its command-line client, and with it click, rich and pygments, when
# they happen to be installed: they are here (dev tools pull them in), not where a
# user ran `pip install creditwatch`. Both sides are measured without them.
NO_CLI_EXTRAS = "import sys; sys.modules.update(dict.fromkeys(('click', 'pygments', 'rich')))"


def importtime(module: str, cwd: Path) -> tuple[float, list[str]]:
    """Cumulative seconds to import `module` (or ``"a, b"``: both, in that order) in a
    fresh interpreter, and every module the import loaded."""
    wanted = [m.strip() for m in module.split(",")]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"{NO_CLI_EXTRAS}; import {module}"],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found: dict[str, float] = {}
    names: list[str] = []
    for line in result.stderr.splitlines():
        match = IMPORTTIME.match(line)
        if match:
            names.append(match[4])
            if match[4] in wanted and len(match[3]) <= 1:  # top level: the whole import
                found[match[4]] = int(match[2]) / 1e6
    if len(found) != len(wanted):
        raise RuntimeError(f"no importtime line for {module}:\n{result.stderr[-2000:]}")
    return sum(found.values()), names


FLOOR = "httpx, attrs"
"""What any provider subpackage must import: httpx (the transport) and attrs (the
generated models are attrs classes). Its ratio to ``import httpx`` is the floor of the
provider rows; the difference between a provider row and it is creditwatch's own code."""


def bench_import(mode: Mode) -> list[Row]:
    """`import creditwatch` and `import creditwatch.<provider>` (the first use of a
    provider: its client, generated endpoint and models) against `import httpx`, in
    fresh interpreters, interleaved: each round imports httpx and then every module in
    turn, so a busy neighbour slows both sides alike."""
    modules = ["creditwatch", *(f"creditwatch.{p}" for p in CALLS), FLOOR]
    with tempfile.TemporaryDirectory(prefix="creditwatch-bench-") as tmp:
        cwd = Path(tmp)  # not the repository: nothing there may shadow the installed package
        for module in ("httpx", *modules):
            importtime(module, cwd)  # warm: bytecode, OS caches
        times: dict[str, list[float]] = {m: [] for m in ("httpx", *modules)}
        loaded: dict[str, list[str]] = {}
        for i in range(mode.import_repeats):
            order = ["httpx", *modules] if i % 2 == 0 else [*modules, "httpx"]
            for module in order:
                seconds, names = importtime(module, cwd)
                times[module].append(seconds)
                loaded[module] = names
    httpx_s = statistics.median(times["httpx"])
    base = loaded["creditwatch"]
    models = sorted(n for n in base if re.fullmatch(r"creditwatch\._generated\.\w+\.models", n))
    providers = [n for n in base if re.fullmatch(r"creditwatch\.(?!_)\w+", n)]
    rows = [
        ratio_row(
            f"import creditwatch (-X importtime, median of {mode.import_repeats})",
            statistics.median(times["creditwatch"]),
            httpx_s,
            ms,
            1.3,
        ),
        Row(
            "generated models modules loaded by `import creditwatch`",
            str(len(models)),
            target="0",
            ok=not models,
        ),
        Row(
            "provider subpackages loaded by `import creditwatch`",
            str(len([p for p in providers if p.split(".")[1] in CALLS])),
            target="0 (lazy)",
            ok=not [p for p in providers if p.split(".")[1] in CALLS],
        ),
    ]
    floor_s = statistics.median(times[FLOOR])
    rows.append(  # informational: no target, the floor of the rows below
        Row(
            f"import {FLOOR} (what any provider imports: the floor)",
            ms(floor_s),
            ms(httpx_s),
            floor_s / httpx_s,
        )
    )
    for provider in CALLS:
        module = f"creditwatch.{provider}"
        rows.append(
            ratio_row(
                f"import {module} (the first use of a provider)",
                statistics.median(times[module]),
                httpx_s,
                ms,
                IMPORT_TARGET,
            )
        )
    if models:
        print("models loaded by `import creditwatch`:", ", ".join(models))
    return rows


# -- per call ----------------------------------------------------------------------------

# A minimal HTTP/1.1 keep-alive server: GET path -> the canned JSON body. It runs in its
# own interpreter, reads its routes from the JSON file named by argv[1], prints its
# port, and exits when its standard input closes (or after an hour at most).
SERVER = r"""
import asyncio, json, sys

ROUTES = {
    path: body.encode()
    for path, body in json.load(open(sys.argv[1], encoding="utf-8")).items()
}
HEAD = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
MISSING = b'{"error": "no such route"}'


class Http(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            path = head.split(b" ", 2)[1].split(b"?")[0].decode()
            body = ROUTES.get(path)
            if body is None:
                self.transport.write(HEAD % (b"404 Not Found", len(MISSING)) + MISSING)
            else:
                self.transport.write(HEAD % (b"200 OK", len(body)) + body)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Http, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    await asyncio.wait_for(stdin_closed, timeout=3600)


asyncio.run(main())
"""


def documented_examples() -> dict[str, Any]:
    resource = importlib.resources.files("creditwatch._generated").joinpath("examples.json")
    examples: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return examples


@contextmanager
def example_server(routes: dict[str, str]) -> Iterator[str]:
    """A server process answering each path with its body; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="creditwatch-bench-") as tmp:
        routes_file = Path(tmp) / "routes.json"
        routes_file.write_text(json.dumps(routes), encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(routes_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline())
            yield f"http://127.0.0.1:{port}"
        finally:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def interleaved(
    ours: Callable[[], object], theirs: Callable[[], object], n: int, warmup: int
) -> tuple[float, float]:
    """Median seconds per call of each, measured call by call, alternating the order."""
    for _ in range(warmup):
        ours()
        theirs()
    a: list[float] = []
    b: list[float] = []
    clock = time.perf_counter
    for i in range(n):
        if i % 2 == 0:
            t0 = clock()
            ours()
            t1 = clock()
            theirs()
            t2 = clock()
            a.append(t1 - t0)
            b.append(t2 - t1)
        else:
            t0 = clock()
            theirs()
            t1 = clock()
            ours()
            t2 = clock()
            b.append(t1 - t0)
            a.append(t2 - t1)
    return statistics.median(a), statistics.median(b)


async def ainterleaved(
    ours: Callable[[], Awaitable[object]],
    theirs: Callable[[], Awaitable[object]],
    n: int,
    warmup: int,
) -> tuple[float, float]:
    """`interleaved` for coroutines, awaited one at a time."""
    for _ in range(warmup):
        await ours()
        await theirs()
    a: list[float] = []
    b: list[float] = []
    clock = time.perf_counter
    for i in range(n):
        first, second = (ours, theirs) if i % 2 == 0 else (theirs, ours)
        t0 = clock()
        await first()
        t1 = clock()
        await second()
        t2 = clock()
        (a if i % 2 == 0 else b).append(t1 - t0)
        (b if i % 2 == 0 else a).append(t2 - t1)
    return statistics.median(a), statistics.median(b)


async def async_pair(
    client_class: Any, method: str, *, base_url: str, url: str, headers: dict[str, str], mode: Mode
) -> tuple[float, float]:
    """`interleaved` for an AsyncClient method against httpx.AsyncClient + json.loads."""
    async with (
        client_class(api_key="bench-key", base_url=base_url, max_retries=0) as client,
        httpx.AsyncClient(headers=headers) as http,
    ):
        ours = getattr(client, method)
        await ours()

        async def theirs() -> object:
            return json.loads((await http.get(url)).content)

        return await ainterleaved(ours, theirs, mode.calls, mode.call_warmup)


def bench_calls(mode: Mode) -> list[Row]:
    examples = documented_examples()
    routes: dict[str, str] = {}
    paths: dict[str, str] = {}
    for provider, (_, operation) in CALLS.items():
        spec = examples[provider][operation]
        paths[provider] = spec["path"]
        body = next(iter(spec["responses"]["200"].values()))
        routes[spec["path"]] = json.dumps(body, ensure_ascii=False)
    rows: list[Row] = []
    with example_server(routes) as base_url:
        for provider, (method, _) in CALLS.items():
            module = importlib.import_module(f"creditwatch.{provider}")
            url = base_url + paths[provider]
            headers = BARE_HEADERS[provider]
            with (
                module.Client(api_key="bench-key", base_url=base_url, max_retries=0) as client,
                httpx.Client(headers=headers) as http,
            ):
                ours = getattr(client, method)
                ours()  # fails loudly if the route or the parsing is wrong

                def theirs(http: httpx.Client = http, url: str = url) -> object:
                    return json.loads(http.get(url).content)

                mine, bare = interleaved(ours, theirs, mode.calls, mode.call_warmup)
            rows.append(
                ratio_row(f"call {provider}.{method}() sync", mine, bare, us, CALL_TARGET),
            )

            mine, bare = asyncio.run(
                async_pair(
                    module.AsyncClient,
                    method,
                    base_url=base_url,
                    url=url,
                    headers=headers,
                    mode=mode,
                )
            )
            rows.append(ratio_row(f"call {provider}.{method}() async", mine, bare, us, CALL_TARGET))
    return rows


# -- parsing -----------------------------------------------------------------------------


def _ts(day: int) -> str:
    return f"2024-{1 + day % 12:02d}-{1 + day % 28:02d}T08:15:00.000Z"


def _price(amount: int) -> dict[str, Any]:
    return {
        "price": amount,
        "price_yearly": amount * 10,
        "price_reg": f"{amount + 2000:,}원",
        "price_dis": f"{amount:,}원",
        "price_app": f"{amount:,}원",
        "stripe_key": f"price_{amount}m",
        "stripe_key_yearly": f"price_{amount}y",
        "currency": "KRW",
    }


def _credit_cost(
    i: int,
    plan_id: int,
    plan: dict[str, Any] | None = None,
    upgrade: dict[str, Any] | None = None,
) -> dict[str, Any]:
    kinds = ["collection-2x", "upscale-4x", "edit", "video-5s", "style-transfer", "inpaint"]
    entry: dict[str, Any] = {
        "creditCostInfoId": 100 + i,
        "planId": plan_id,
        "upgradePlanId": plan_id + 1 if upgrade else None,
        "type": kinds[i % len(kinds)],
        "credit": 1 + i % 4,
        "watermarked": i % 2 == 0,
        "needUpgrade": i % 3 == 0,
        "featured": i % 4 == 0,
    }
    if COST_HAS_PLANS:
        entry["UpgradePlan"] = upgrade
        if plan is not None:
            entry["Plan"] = plan
    return entry


def _plan(
    plan_id: int, *, costs: int = 0, models: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "planId": plan_id,
        "grade": ["free", "basic", "pro", "enterprise"][plan_id % 4],
        "name": f"plan-{plan_id}",
        "historyPeriodMonth": 6,
        "minusCreditAllowed": 0,
        "maxStyleNumber": 10,
        "simultaneousLimit": 2,
        "maxMultiSelect": 8,
        "maxEditNumber": 100,
        "maxPromptNumber": 20,
        "period": "month",
        "title": {"en": f"Plan {plan_id}", "ko": f"플랜 {plan_id}", "jp": f"プラン {plan_id}"},
        "priceGlobal": {"en": _price(9), "ko": _price(11900), "jp": _price(1200)},
        "premiumAvailable": True,
        "oneTimePayment": False,
        "enabled": True,
        "defaultCredit": 400,
        "dailyCredit": 10,
        "monthlyCredit": 200,
        "CreditCostInfo": [_credit_cost(i, plan_id) for i in range(costs)],
    }
    if models is not None:
        body["Models"] = models
    return body


def _enterprise(n: int) -> dict[str, Any]:
    return {
        "name": f"Studio {n}",
        "categories": "Parametric,Photo,Isometric",
        "expiresAt": _ts(n),
        "monthlyCredit": 2000,
        "yearlyCredit": 20000,
        "amount": 119000,
        "currency": "KRW",
        "simultaneousLimit": 5,
        "maxEditNumber": 500,
        "editCountPeriod": "month",
        "paymentPeriod": "monthly",
        "postpaid": True,
        "modelUrl": "owner/model:version",
        "logo": None,
        "userId": 2000 + n,
        "canUseOwnOnly": False,
        "hasSpecialLimits": False,
    }


def _model(n: int, *, nested: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "modelId": n,
        "name": "sdxl" if n % 2 else "replicate",
        "version": "1.0",
        "apiName": "stable-diffusion-xl-1024-v1-0",
        "squareSize": "1024x1024",
        "horizontalSize": "1216x832",
        "verticalSize": "832x1216",
        "downsizing": False,
        "isMainGeneration": n % 3 == 0,
        "ping": 2,
        "params": {"steps": 30, "cfg": 7.5, "sampler": "dpmpp_2m"},
        "example": {"prompt": "a house"},
        "BackupModel": _model(1000 + n, nested=False) if nested else None,
        "backupModelId": 1000 + n if nested else None,
        "errorCount": 2,
        "recoverCount": 3,
        "useBackup": False,
        "prompt": "high quality",
        "needTranslate": True,
        "nameGlobal": {"en": f"Model {n}", "ko": f"모델 {n}"},
        "descriptionGlobal": {"en": "Photoreal", "ko": "사진"},
        "logo": "/images/models/logo.png",
    }
    if nested:
        body["Plans"] = [_plan(10 + n, costs=1), _plan(20 + n, costs=1)]
        body["Enterprises"] = [_enterprise(n)]
    return body


def plan_with_models(plan_id: int = 4, models: int = 3) -> dict[str, Any]:
    """A Plan with `models` models, each with Plans, Enterprises and a BackupModel."""
    return _plan(
        plan_id, costs=2, models=[_model(10 * plan_id + j, nested=True) for j in range(models)]
    )


def flamel_account() -> dict[str, Any]:
    """A large, valid Flamel account for the spec as it is.

    While CreditCostInfo has Plan/UpgradePlan (the upstream spec): 6 credit-cost
    entries, each with a Plan of 3 models (each with Plans, Enterprises and a
    BackupModel) and, for every other entry, an UpgradePlan. Without them (the
    normalized spec may cut that recursion): 60 credit-cost entries. Both: an
    enterprise contract and downloads."""
    if COST_HAS_PLANS:
        entries = [
            _credit_cost(
                i, 4, plan=plan_with_models(4), upgrade=_plan(5, costs=2) if i % 2 == 0 else None
            )
            for i in range(6)
        ]
    else:
        entries = [_credit_cost(i, 4) for i in range(60)]
    return {
        "userId": 2048,
        "email": "studio@example.com",
        "name": "Example Studio",
        "occupation": "architect",
        "business": "architecture",
        "notifyAgree": True,
        "creditNotifyAgree": True,
        "tutorialFinished": True,
        "profileImage": "https://cdn.example.com/profile/2048.png",
        "snsId": None,
        "provider": "email",
        "role": "normal",
        "defaultCredit": 1200,
        "dailyCredit": 0,
        "monthlyCredit": 2000,
        "customerKey": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        "billingRetryDate": None,
        "createdAt": _ts(1),
        "nextPlanAt": _ts(2),
        "planStartedAt": _ts(3),
        "planId": 4,
        "nextPlanId": None,
        "EnterpriseDownload": [
            {"enterpriseDownloadId": i, "scaleSize": f"{i + 1}x", "credit": 1, "userId": 2048}
            for i in range(4 if COST_HAS_PLANS else 20)
        ],
        "cardNumber": "5365-****-****-1234",
        "cardCompany": "Shinhan",
        "Plan": {
            "planId": 4,
            "grade": "enterprise",
            "minusCreditAllowed": 100,
            "maxStyleNumber": 50,
            "simultaneousLimit": 5,
            "maxMultiSelect": 20,
            "maxEditNumber": 500,
            "maxPromptNumber": 50,
            "period": "month",
            "oneTimePayment": False,
            "defaultCredit": 0,
            "dailyCredit": 0,
            "monthlyCredit": 2000,
            "CreditCostInfo": entries,
            "priceObj": _price(119000),
            "titleName": "Enterprise",
        },
        "Enterprise": {
            "expiresAt": _ts(4),
            "monthlyCredit": 2000,
            "yearlyCredit": 20000,
            "amount": 119000,
            "simultaneousLimit": 5,
            "maxEditNumber": 500,
            "paymentPeriod": "monthly",
        },
        "cardRegistered": True,
        "useStripe": False,
        "maxCredit": 5000,
    }


def count_keys(value: object) -> int:
    if isinstance(value, dict):
        return len(value) + sum(count_keys(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_keys(v) for v in value)
    return 0


def count_objects(value: object) -> int:
    if isinstance(value, dict):
        return 1 + sum(count_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_objects(v) for v in value)
    return 0


def pydantic_models(workdir: Path, provider: str = "flamel") -> ModuleType:
    """specs/<provider>.yaml -> pydantic v2 models by datamodel-code-generator, imported.

    Options make the models do the work from_dict does: nullable fields are
    Optional (--strict-nullable), emails are plain strings (from_dict does not
    validate them; EmailStr would also need email-validator), date-times are
    ``datetime`` (from_dict accepts naive ones too), fields are snake_case with the
    JSON names as aliases (from_dict maps names too)."""
    output = workdir / f"{provider}_pydantic.py"
    command = [
        str(BIN / "datamodel-codegen"),
        "--input", str(ROOT / "specs" / f"{provider}.yaml"),
        "--input-file-type", "openapi",
        "--output-model-type", "pydantic_v2.BaseModel",
        "--output", str(output),
        "--strict-nullable",
        "--type-mappings", "email=string",
        "--output-datetime-class", "datetime",
        "--snake-case-field",
        "--disable-timestamp",
        "--formatters", "builtin",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    spec = importlib.util.spec_from_file_location(f"{provider}_pydantic", output)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves forward references through it
    spec.loader.exec_module(module)
    return module


def assert_fully_parsed(value: object, where: str = "") -> None:
    """Every key of the payload became a declared field of a model.

    A payload key the spec does not have would land in ``additional_properties``
    (and pydantic would skip it): a benchmark of that would flatter both. And
    from_dict keeps a nested object or date-time it cannot parse as a plain dict or
    string (the generated union handling): that would flatter it. So: no extra keys
    on a model with declared fields, no dict or list of dicts where a model belongs,
    no string where a date-time belongs."""
    cls = type(value)
    if not attrs.has(cls):
        return
    declared = [f for f in attrs.fields(cls) if f.name != "additional_properties"]
    extra = getattr(value, "additional_properties", {})
    name = f"{where}{type(value).__name__}"
    if declared and extra:
        raise AssertionError(f"{name}: keys the spec does not declare: {sorted(extra)}")
    for field in declared:
        item = getattr(value, field.name)
        items = item if isinstance(item, list) else [item]
        for element in items:
            if isinstance(element, dict) and "dict" not in str(field.type):
                raise AssertionError(f"{name}.{field.name}: left unparsed as a dict")
            if isinstance(element, str) and "datetime" in str(field.type):
                raise AssertionError(f"{name}.{field.name}: date-time left as a string")
            assert_fully_parsed(element, f"{name}.{field.name} -> ")


def batched(func: Callable[[], object], size: int) -> Callable[[], None]:
    """`func` run `size` times per sample: a parse of a small body takes microseconds,
    near the clock's own cost, so each timed sample is a batch."""

    def run() -> None:
        for _ in range(size):
            func()

    return run


def parse_row(
    label: str, model: Any, theirs: Any, payload: dict[str, Any], mode: Mode
) -> tuple[Row, Callable[[], object]]:
    assert_fully_parsed(model.from_dict(payload))
    # pydantic drops keys its models do not declare: all of them must survive.
    dumped = theirs.model_validate(payload).model_dump(by_alias=True, exclude_unset=True)
    if count_keys(dumped) != count_keys(payload):
        raise AssertionError(f"pydantic's {theirs.__name__} ignores keys of the payload")
    ours_s, theirs_s = interleaved(
        lambda: model.from_dict(payload),
        lambda: theirs.model_validate(payload),
        mode.parses,
        max(5, mode.parses // 10),
    )
    size = len(json.dumps(payload, ensure_ascii=False).encode())
    metric = (
        f"parse {label} ({size / 1024:.0f} KiB, {count_objects(payload)} objects): "
        "from_dict vs pydantic"
    )
    row = ratio_row(metric, ours_s, theirs_s, ms, PARSE_VS_PYDANTIC)
    return row, lambda: model.from_dict(payload)


def largest_examples() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """provider -> (example name, response schema name, body) of its largest documented
    success example (Flamel's is the paid EnterpriseAccount)."""
    examples = documented_examples()
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for provider in CALLS:
        spec = speclib.load(ROOT / "specs" / f"{provider}.yaml")
        best: tuple[int, str, str, dict[str, Any]] | None = None
        for _path, verb, operation in speclib.operations(spec):
            if verb != "get":
                continue
            response = speclib.resolve(spec, operation["responses"]["200"])
            schema = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            bodies = examples[provider][operation["operationId"]]["responses"]["200"]
            for name, body in bodies.items():
                size = len(json.dumps(body, ensure_ascii=False).encode())
                if best is None or size > best[0]:
                    best = (size, name, schema, body)
        assert best is not None
        found[provider] = best[1:]
    return found


def _attr_of(model: Any, key: str) -> str:
    """The attribute of `model` that holds the JSON key `key` (the generator's snake_case,
    with the trailing "_" it gives names that clash)."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()
    names = {f.name for f in attrs.fields(model)}
    for name in (snake, f"{snake}_"):
        if name in names:
            return name
    raise AssertionError(f"{model.__name__} has no attribute for the JSON key {key!r}")


def floor_builder(parsed: object, decoded: dict[str, Any]) -> Callable[[bytes], object]:
    """The least a parser into these attrs models can do after ``json.loads``: Python
    code, written out here for this one body, that decodes it and builds the objects
    `parsed` (from_dict of `decoded`) is made of: ``object.__new__``, then one slot store
    per field, each value read from the decoded dicts and run through only the
    conversion its type needs (UUID, date-time, enum: the functions the generated code
    calls), with no check, no branch and no loop (arrays are unrolled). It is no parser
    (it knows the answer's shape), only the floor under the "json.loads + from_dict"
    rows: what remains when every check, lookup and call that from_dict adds is gone."""
    lines = ["def build(raw):", "    d0 = loads(raw)"]
    env: dict[str, Any] = {"loads": json.loads, "new": object.__new__}
    names = itertools.count(1)

    def constant(value: object) -> str:
        name = f"c{len(env)}"
        env[name] = value
        return name

    def convert(value: object, raw: Any, source: str, module: ModuleType) -> str:
        if attrs.has(type(value)):
            return build(value, raw, source)
        if isinstance(value, list) and any(attrs.has(type(v)) for v in value):
            items = (
                convert(v, r, f"{source}[{i}]", module)
                for i, (v, r) in enumerate(zip(value, raw, strict=True))
            )
            return f"[{', '.join(items)}]"
        if isinstance(value, uuid.UUID):
            return f"{constant(module.parse_uuid)}({source})"
        if isinstance(value, datetime.datetime):
            code = f"{constant(module.fromisoformat)}({source})"
            if value.tzinfo is not None and datetime.datetime.fromisoformat(raw).tzinfo is None:
                code += ".replace(tzinfo=UTC)"  # x-timezone: UTC
            return code
        if isinstance(value, enum.Enum):
            return f"{constant(type(value)._value2member_map_)}[{source}]"
        return source

    def build(obj: Any, data: dict[str, Any], source: str) -> str:
        model = type(obj)
        module = sys.modules[model.__module__]
        n = next(names)
        lines.append(f"    d{n} = {source}")
        stores = {_attr_of(model, key): (key, raw) for key, raw in data.items()}
        code = {
            a: convert(getattr(obj, a), raw, f"d{n}[{key!r}]", module)
            for a, (key, raw) in stores.items()
        }
        lines.append(f"    o{n} = new({constant(model)})")
        for field in attrs.fields(model):
            if field.name in code:
                lines.append(f"    o{n}.{field.name} = {code[field.name]}")
            elif field.name != "additional_properties":  # absent: UNSET or its default
                lines.append(f"    o{n}.{field.name} = {constant(getattr(obj, field.name))}")
        lines.append(f"    o{n}.additional_properties = {{}}")
        return f"o{n}"

    lines.append(f"    return {build(parsed, decoded, 'd0')}")
    namespace = {**env, "UTC": datetime.UTC}
    exec(compile("\n".join(lines), "<floor_builder>", "exec"), namespace)  # noqa: S102
    builder: Callable[[bytes], object] = namespace["build"]
    if builder(json.dumps(decoded).encode()) != parsed:
        raise AssertionError(f"the floor builder of {type(parsed).__name__} builds another object")
    return builder


def example_rows(mode: Mode, pydantic: dict[str, ModuleType]) -> list[Row]:
    """Per provider, on its largest documented example: json.loads + from_dict against
    json.loads alone (what the client does on every call against the floor), and
    from_dict against pydantic v2's model_validate of the same dict. Interleaved,
    batched samples, medians."""
    rows: list[Row] = []
    for provider, (name, schema, body) in largest_examples().items():
        model = getattr(importlib.import_module(f"creditwatch.{provider}.models"), schema)
        theirs = getattr(pydantic[provider], schema)
        raw = json.dumps(body, ensure_ascii=False).encode()
        assert_fully_parsed(model.from_dict(json.loads(raw)))
        dumped = theirs.model_validate(json.loads(raw)).model_dump(
            by_alias=True, exclude_unset=True
        )
        if count_keys(dumped) != count_keys(body):
            raise AssertionError(f"pydantic's {provider} {schema} ignores keys of the example")
        size = f"{len(raw) / 1024:.1f} KiB"
        data = json.loads(raw)
        batch, n, warmup = 20, mode.parses, max(5, mode.parses // 10)

        def decode_and_parse(m: Any = model, r: bytes = raw) -> object:
            return m.from_dict(json.loads(r))

        def decode(r: bytes = raw) -> object:
            return json.loads(r)

        def parse(m: Any = model, d: Any = data) -> object:
            return m.from_dict(d)

        def validate(t: Any = theirs, d: Any = data) -> object:
            return t.model_validate(d)

        both, alone = interleaved(
            batched(decode_and_parse, batch), batched(decode, batch), n, warmup
        )
        ours, pyd = interleaved(batched(parse, batch), batched(validate, batch), n, warmup)
        build = floor_builder(model.from_dict(data), data)

        def floor_build(b: Callable[[bytes], object] = build, r: bytes = raw) -> object:
            return b(r)

        floor, alone_too = interleaved(
            batched(floor_build, batch), batched(decode, batch), n, warmup
        )
        rows += [
            ratio_row(
                f"parse {provider} {name} ({size}): json.loads + from_dict vs json.loads",
                both / batch,
                alone / batch,
                us,
                PARSE_VS_JSON,
            ),
            Row(  # informational: the floor of the row above
                f"parse {provider} {name} ({size}): json.loads + the objects, no checks (floor)",
                us(floor / batch),
                us(alone_too / batch),
                floor / alone_too,
            ),
            ratio_row(
                f"parse {provider} {name} ({size}): from_dict vs pydantic",
                ours / batch,
                pyd / batch,
                us,
                PARSE_VS_PYDANTIC,
            ),
        ]
    return rows


def bench_parse(mode: Mode, profile: bool) -> list[Row]:
    with (
        tempfile.TemporaryDirectory(prefix="creditwatch-bench-") as tmp,
        ThreadPoolExecutor(max_workers=len(CALLS)) as pool,
    ):
        # datamodel-codegen runs as a subprocess: the five run side by side.
        futures = {p: pool.submit(pydantic_models, Path(tmp), p) for p in CALLS}
        pd_all = {p: f.result() for p, f in futures.items()}
    pd = pd_all["flamel"]
    rows = example_rows(mode, pd_all)
    account, parse_account = parse_row(
        "a Flamel account", AuthUserDto, pd.AuthUserDto, flamel_account(), mode
    )
    rows.append(account)
    deepest = parse_account
    if hasattr(flamel_models, "Plan") and hasattr(pd, "Plan"):
        plan, parse_plan = parse_row(
            "a Flamel Plan with 3 models", flamel_models.Plan, pd.Plan, plan_with_models(), mode
        )
        rows.append(plan)
        if not COST_HAS_PLANS:  # then the account holds no Plan/Model: profile the Plan
            deepest = parse_plan
    if profile:
        profile_from_dict(deepest)
    return rows


# -- profile of from_dict ----------------------------------------------------------------

CATEGORIES = (
    ("model from_dict bodies (self time: field moves, inline imports)", r":\d+\(from_dict\)$"),
    ("nested _parse_* helpers (nullable/union fields)", r"\(_parse_\w+\)$"),
    ("attrs __init__", r"^<attrs generated"),
    ("dict.pop", r"method 'pop' of 'dict'"),
    ("import machinery reached from inline imports", r"^<frozen importlib"),
    ("enum lookups (incl. _missing_)", r"enum\.py|_missing_"),
    ("datetime parsing", r"fromisoformat"),
)


def profile_from_dict(parse: Callable[[], object]) -> None:
    """Print where from_dict spends its time: cProfile by category, the cost of the
    inline relative imports, and the time in garbage collection."""
    runs = 50
    for _ in range(5):
        parse()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        parse()
    profiler.disable()
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    totals = dict.fromkeys([c for c, _ in CATEGORIES] + ["other"], 0.0)
    calls = dict.fromkeys(totals, 0)
    imports = 0
    for (filename, line, name), (_, ncalls, tottime, _, _) in stats.items():
        label = f"{filename}:{line}({name})"
        if filename.startswith("<frozen importlib") and name == "parent":
            imports += ncalls  # ModuleSpec.parent: once per relative import executed
        category = next((c for c, rx in CATEGORIES if re.search(rx, label)), "other")
        totals[category] += tottime
        calls[category] += ncalls
    total = sum(totals.values())
    print(f"\nfrom_dict profile (cProfile, {runs} parses; cProfile inflates small calls):")
    for category, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(
            f"  {seconds / total:6.1%}  {seconds / runs * 1e3:7.3f} ms/parse  "
            f"{calls[category] // runs:6d} calls/parse  {category}"
        )

    # The inline `from ..models.x import X` of every from_dict, timed on its own.
    models_module = sys.modules[AuthUserDto.__module__]
    namespace = dict(vars(models_module))
    source = "def with_import():\n    from ..models.plan import Plan\n\ndef without():\n    pass\n"
    exec(compile(source, models_module.__file__ or "", "exec"), namespace)  # noqa: S102
    one = min(timeit.repeat(namespace["with_import"], number=20000, repeat=5)) / 20000
    base = min(timeit.repeat(namespace["without"], number=20000, repeat=5)) / 20000
    per_parse = imports // runs
    plain = min(timeit.repeat(parse, number=5, repeat=5)) / 5
    print(
        f"  inline relative imports: {per_parse} per parse x {(one - base) * 1e6:.2f} us = "
        f"{per_parse * (one - base) * 1e3:.2f} ms of {plain * 1e3:.2f} ms per parse "
        f"({per_parse * (one - base) / plain:.0%})"
    )

    # Garbage collection triggered by the allocations of a parse.
    spent = [0.0]
    started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    gc.collect()
    gc.callbacks.append(on_gc)
    try:
        t0 = time.perf_counter()
        for _ in range(runs):
            parse()
        elapsed = time.perf_counter() - t0
    finally:
        gc.callbacks.remove(on_gc)
    print(f"  garbage collection during parses: {spent[0] / elapsed:.0%} of the time\n")


# -- regeneration ------------------------------------------------------------------------


def repo_copy(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("specs", "scripts", "generated", "overlays"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def timed_generate(copy: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = clean_env()
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(copy / "scripts" / "generate.py"), *args],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return time.perf_counter() - started, result


def bench_regen(mode: Mode) -> list[Row]:
    full: list[float] = []
    check: list[float] = []
    with tempfile.TemporaryDirectory(prefix="creditwatch-bench-") as tmp:
        copy = repo_copy(Path(tmp) / "repo")
        for _ in range(mode.regenerations):
            seconds, result = timed_generate(copy)
            if result.returncode != 0:
                raise RuntimeError(f"generate.py failed:\n{result.stdout}\n{result.stderr}")
            full.append(seconds)
            seconds, result = timed_generate(copy, "--check")
            if result.returncode != 0:  # just regenerated: anything stale is nondeterminism
                raise RuntimeError(f"--check after a regeneration: {result.stderr}")
            check.append(seconds)
    f, c = statistics.median(full), statistics.median(check)
    return [
        Row(
            f"regenerate everything (temp copy, median of {len(full)})",
            f"{f:.1f} s",
            target="< 30 s",
            ok=f < 30,
        ),
        Row(
            "regenerate --check, nothing changed (baseline: full)",
            f"{c:.1f} s",
            f"{f:.1f} s",
            c / f,
            "< 1",
            c < f,
        ),
    ]


# -- report ------------------------------------------------------------------------------


def machine() -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"machine: {cpus} CPUs ({usable} usable), load average {load}; "
        f"Python {platform.python_version()} ({platform.python_implementation()}); "
        f"{platform.platform()}\n"
        f"creditwatch {creditwatch.__version__} from {Path(creditwatch.__file__).parent}; "
        f"httpx {httpx.__version__}"
    )


def table(rows: list[Row]) -> str:
    header = ("metric", "creditwatch", "baseline", "ratio", "target", "ok?")
    cells = [
        (
            r.metric,
            r.value,
            r.baseline,
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            r.target,
            "-" if r.ok is None else ("ok" if r.ok else "MISSED"),
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in [header, *cells]) for i in range(len(header))]
    numeric = {1, 2, 3}

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(
            v.rjust(w) if i in numeric else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(c) for c in cells)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="few iterations (CI)")
    parser.add_argument("--profile", action="store_true", help="profile from_dict too")
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable)"
    )
    args = parser.parse_args(argv)
    mode = SMOKE if args.smoke else FULL
    sections = args.only or list(SECTIONS)
    started = time.perf_counter()
    print(f"creditwatch benchmarks ({'smoke' if args.smoke else 'full'} mode)")
    print(machine())
    rows: list[Row] = []
    if "import" in sections:
        rows += bench_import(mode)
    if "call" in sections:
        rows += bench_calls(mode)
    if "parse" in sections:
        rows += bench_parse(mode, args.profile)
    if "regen" in sections:
        rows += bench_regen(mode)
    print()
    if args.smoke:  # too few iterations to judge a target: no ok / MISSED verdicts
        rows = [replace(r, ok=None) for r in rows]
    print(table(rows))
    print()
    if args.smoke:
        print(
            f"smoke mode: {len(rows)} rows, informational only (a few iterations check that "
            "every benchmark still runs; they measure nothing). Targets are judged in full "
            f"mode: python scripts/bench.py; {time.perf_counter() - started:.0f} s"
        )
        return 0
    missed = [r for r in rows if r.ok is False]
    for r in missed:
        ratio = "" if r.ratio is None else f" (ratio {r.ratio:.2f})"
        print(f"MISSED: {r.metric}: {r.value}{ratio}, target {r.target}")
    print(
        f"{len(rows) - len(missed)} of {len(rows)} rows within target or informational; "
        f"{len(missed)} missed; {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
