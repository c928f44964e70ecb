"""The package as users get it: build the sdist and wheel, install the wheel in a fresh
virtual environment, and use it from outside the source tree.

One build per module (``python -m build`` on a temporary copy of the repository's
files: setuptools builds in-tree, so building the checkout itself would leave
``build/`` and ``*.egg-info`` behind, and a stale ``build/`` could leak into the
wheel). ``python -m build`` builds the sdist, then the wheel *from the sdist*, so a
file missing from the sdist shows up as a file missing from the wheel.

The fresh environment is made with ``venv --without-pip`` and filled by this
environment's pip (``pip --python``): the same result as a user's ``pip install``,
without the seconds ensurepip takes. Dependencies (httpx, attrs) come from the
configured package index.

What is checked:

* the wheel holds ``creditwatch/`` (every overlay and generated module, ``py.typed``,
  ``_generated/examples.json``) and its ``.dist-info``, and nothing else: no tests,
  specs, scripts, virtual environments, node_modules or caches;
* the sdist holds no virtual environment, node_modules, VCS folder or cache;
* no file of either holds anything key-like (see `SECRET_PATTERNS`);
* METADATA: the runtime requirements are exactly httpx and attrs, which are exactly
  the third-party modules the installed code imports; the dev tools are only in the
  ``dev`` extra; the ``creditwatch`` console script is declared;
* installed: every provider imports from outside the source tree, ``pip check`` is
  clean, ``creditwatch demo`` exits 0, and mypy --strict, pointed at the fresh
  environment, accepts tests/typing/check_public_api.py (``py.typed`` works).

It takes 15-22 s on the 2-core reference machine under load (the isolated build
environments, the install and a cold mypy run): under the 30 s that would make it a
`slow` test, so it runs in CI with the rest of the suite, unmarked.
"""

from __future__ import annotations

import ast
import dataclasses
import email.message
import email.parser
import math
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from collections.abc import Collection, Iterator
from pathlib import Path, PurePosixPath

import pytest
from packaging.requirements import Requirement

from _repo import BUILD_TIMEOUT, Venv, fresh_venv
from conftest import FAKE_KEY, FAKE_TOKEN, PROVIDERS

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_DEPS = {"attrs", "httpcore", "httpx"}
DEV_TOOLS = {
    "build",
    "datamodel-code-generator",
    "mypy",
    "openapi-python-client",
    "openapi-spec-validator",
    "pydantic",
    "pytest",
    "pytest-asyncio",
    "ruff",
}
# Top-level import name -> distribution name, for the runtime dependencies.
IMPORT_TO_DIST = {"httpx": "httpx", "httpcore": "httpcore", "attrs": "attrs", "attr": "attrs"}
# Optional: import name -> (distribution, extra); imported only by the modules that need it.
OPTIONAL_IMPORTS = {
    "prometheus_client": ("prometheus-client", "exporter"),
    "aiohttp": ("aiohttp", "aiohttp"),
    "httpx_aiohttp": ("httpx-aiohttp", "aiohttp"),
}
# Path parts that must never be shipped in the wheel.
NOT_IN_WHEEL = {
    "tests",
    "specs",
    "scripts",
    "overlays",
    "generated",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".git",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "build",
}
# Path parts that must never be shipped in the sdist.
NOT_IN_SDIST = {
    ".venv",
    ".venv-test",
    "venv",
    "node_modules",
    "__pycache__",
    ".git",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "build",
    "dist",
}


# -- secrets -----------------------------------------------------------------------------
#
# Every pattern captures the secret part as the group ``token``. A match counts only
# when that token is key-like, so documented placeholders pass:
#   * at least MIN_TOKEN characters (``YOUR_API_KEY`` is too short),
#   * not a placeholder: no word like your/example/here/placeholder/dummy/sample/
#     redacted/xxxx, no ``...``, no template brackets (``<key>``, ``{key}``, ``$KEY``),
#     so ``llmgen_your_api_key_here`` and ``Bearer <token>`` pass,
#   * random-looking: letters *and* digits, or a Shannon entropy of at least
#     MIN_ENTROPY bits per character (words joined by ``_`` stay below it).
# JWTs, private-key blocks, AWS and GitHub token shapes are specific enough to count
# on sight (unless they are placeholders). The test suite's own fake credentials
# (tests/conftest.py) are searched for literally: they must never be shipped.

MIN_TOKEN = 16
FAKE_MARKER = "not-a-real-secret"  # in every fake credential of the tests
MIN_ENTROPY = 3.6
PLACEHOLDER = re.compile(
    r"your|example|placeholder|here|dummy|sample|redacted|changeme|xxxx|\.\.\.|[<>{}$*]",
    re.IGNORECASE,
)
TOKEN = rf"(?P<token>[A-Za-z0-9._~+/=-]{{{MIN_TOKEN},}})"


@dataclasses.dataclass(frozen=True)
class SecretPattern:
    name: str
    regex: re.Pattern[str]
    always: bool = False  # the shape alone is enough (no randomness test)


SECRET_PATTERNS = (
    SecretPattern("sk- key", re.compile(r"\bsk-(?:proj-|live-|test-)?" + TOKEN)),
    SecretPattern("Stripe-style key", re.compile(r"\b[rs]k_(?:live|test)_" + TOKEN)),
    SecretPattern("LLMGenerator key", re.compile(r"\bllmgen_" + TOKEN)),
    SecretPattern(
        "Authorization header",
        re.compile(r"(?i)\b(?:bearer|token|basic)\s+" + TOKEN),
    ),
    SecretPattern(
        "credential assignment",
        re.compile(
            r"(?i)(?:api[_-]?key|access[_-]?token|secret|password|credential)"
            r"""["']?\s*[:=]\s*["']""" + TOKEN + r"""["']"""
        ),
    ),
    SecretPattern(
        "JWT",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.(?P<token>[A-Za-z0-9_-]{8,})"),
        always=True,
    ),
    SecretPattern(
        "private key",
        re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----(?P<token>)"),
        always=True,
    ),
    SecretPattern("AWS access key", re.compile(r"\b(?P<token>AKIA[0-9A-Z]{16})\b"), always=True),
    SecretPattern(
        "GitHub token", re.compile(r"\b(?P<token>gh[pousr]_[A-Za-z0-9]{36,})"), always=True
    ),
)


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def key_like(token: str) -> bool:
    if PLACEHOLDER.search(token) or len(set(token)) <= 2:
        return False
    mixed = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
    return mixed or entropy(token) >= MIN_ENTROPY


def fake_credentials() -> set[str]:
    """The test suite's fake credentials: conftest's, and every string literal in tests/
    without whitespace that contains FAKE_MARKER and more (of an f-string, its constant
    parts). The bare marker is not one: the demo's own labelled key may contain it."""
    found = {FAKE_KEY, FAKE_TOKEN}
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and FAKE_MARKER in node.value
                and not re.search(r"\s", node.value)
                and len(node.value) >= len(FAKE_MARKER) + 8
            ):
                found.add(node.value)
    return found


def find_secrets(text: str, literals: Collection[str] = ()) -> list[str]:
    """What in `text` looks like a credential: ``pattern: excerpt`` (token masked)."""
    hits = [f"test credential {value[:6]}...: present" for value in literals if value in text]
    for pattern in SECRET_PATTERNS:
        for match in pattern.regex.finditer(text):
            token = match.group("token")
            if (pattern.always and not PLACEHOLDER.search(token)) or key_like(token):
                hits.append(f"{pattern.name}: {match.group(0)[:12]}... ({len(token)} chars)")
    return hits


def test_secret_patterns_flag_keys_and_pass_placeholders() -> None:
    """The scanner itself: real-looking keys are flagged, documented placeholders are not.

    The key-like samples are assembled at run time so that this file (which the
    sdist ships) holds no key-like literal itself."""
    random_part = "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY"
    jwt_part = "eyJ" + "hbGciOiJIUzI1NiJ9"
    keys = [
        "sk-" + random_part,
        "sk-proj-" + random_part,
        "rk_live_" + random_part,
        "llmgen_" + random_part,
        "Authorization: Bearer " + random_part,
        "Authorization: Token " + random_part,
        "headers = {'X-Api-Key': '" + random_part + "'}",
        'api_key="' + random_part + '"',
        f"{jwt_part}.{jwt_part.replace('hbG', 'zdW')}.{random_part}",
        "-----BEGIN RSA " + "PRIVATE KEY-----",
        "AKIA" + "ABCDEFGHIJ234567",
        "ghp_" + random_part + "abcd",
        FAKE_KEY,
    ]
    for text in keys:
        assert find_secrets(text, {FAKE_KEY}), f"not flagged: {text[:20]}..."
    placeholders = [
        "Authorization: Bearer llmgen_your_api_key_here",
        "Authorization: Bearer llmgen_...",
        "api_key='YOUR_API_KEY'",
        "Authorization: Bearer <your-api-key>",
        'headers = {"Authorization": f"Bearer {key}"}',
        "Authorization: Token $GENERECT_API_KEY",
        "export FLAMEL_API_KEY=your-flamel-api-key-goes-here",
        "Bearer authentication with an access token from the dashboard",
        "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "the credential: access_token=... or api_key=...",
        "X-Api-Key: <key>",
    ]
    for text in placeholders:
        assert not find_secrets(text, {FAKE_KEY}), f"placeholder flagged: {text}"


# -- building ----------------------------------------------------------------------------


def source_files() -> list[Path]:
    """The repository's files as git sees them (tracked, plus new files not ignored),
    relative to ROOT; without git, every file outside the ignored folders."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout.decode()
        names = [Path(n) for n in listing.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        skip = NOT_IN_SDIST | {"creditwatch.egg-info"}
        names = [
            p.relative_to(ROOT)
            for p in ROOT.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(ROOT).parts)
        ]
    return sorted(n for n in names if (ROOT / n).is_file())


@dataclasses.dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path
    sources: list[Path]

    def wheel_names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.namelist()

    def wheel_files(self) -> Iterator[tuple[str, bytes]]:
        with zipfile.ZipFile(self.wheel) as archive:
            for name in archive.namelist():
                yield name, archive.read(name)

    def sdist_files(self) -> Iterator[tuple[str, bytes]]:
        with tarfile.open(self.sdist) as archive:
            for member in archive.getmembers():
                handle = archive.extractfile(member) if member.isfile() else None
                yield member.name, handle.read() if handle else b""


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    base = tmp_path_factory.mktemp("packaging")
    src, out = base / "src", base / "dist"
    sources = source_files()
    for name in sources:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    # cwd=base: in the checkout, a leftover build/ folder would shadow the `build` module.
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(src)],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"python -m build failed:\n{result.stdout}\n{result.stderr}"
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1, wheels
    assert len(sdists) == 1, sdists
    return Dists(wheel=wheels[0], sdist=sdists[0], sources=sources)


@pytest.fixture(scope="module")
def venv(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return fresh_venv(tmp_path_factory.mktemp("venv"), str(dists.wheel))


# -- the wheel and the sdist -------------------------------------------------------------


def _wheel_name(source: Path) -> str | None:
    """Where a source file lands in the wheel, per pyproject's package-dir mapping."""
    top, rest = source.parts[0], PurePosixPath(*source.parts[1:])
    if top == "overlays":
        return f"creditwatch/{rest}"
    if top == "generated" and rest.parts[0] == "_public":  # creditwatch.<p>, generated
        return f"creditwatch/{PurePosixPath(*rest.parts[1:])}"
    if top == "generated":
        return f"creditwatch/_generated/{rest}"
    return None


def test_wheel_contents(dists: Dists) -> None:
    names = dists.wheel_names()
    dist_info = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
    assert len(dist_info) == 1, dist_info
    assert {n.split("/")[0] for n in names} == {"creditwatch", *dist_info}
    shipped = set(names)
    for required in ("creditwatch/py.typed", "creditwatch/_generated/examples.json"):
        assert required in shipped, f"{required} is missing from the wheel"
    # Every generated subpackage, and every source module of both trees.
    subpackages = sorted(
        f"creditwatch/_generated/{p.parent.relative_to('generated').as_posix()}/__init__.py"
        for p in dists.sources
        if p.parts[0] == "generated"
        and p.name == "__init__.py"
        and len(p.parts) > 2
        and p.parts[1] != "_public"
    )
    assert subpackages, "no generated subpackage found in the source tree"
    missing = [s for s in subpackages if s not in shipped]
    assert not missing, f"generated subpackages missing from the wheel: {missing}"
    expected = {
        name
        for source in dists.sources
        # generated/.digest.json is the generator's bookkeeping, not needed at run time
        if source.suffix in {".py", ".json", ".typed", ".yml"}
        and not source.name.startswith(".")
        and (name := _wheel_name(source))
    }
    assert not expected - shipped, f"missing from the wheel: {sorted(expected - shipped)}"
    extra = {n for n in shipped - expected if not n.startswith(tuple(dist_info))}
    assert not extra, f"files in the wheel that the source tree does not have: {sorted(extra)}"
    forbidden = [
        n
        for n in names
        if NOT_IN_WHEEL & set(n.split("/")[:-1])
        or n.endswith((".pyc", ".pyo", ".egg-info"))
        or n.split("/")[-1] in {"conftest.py", ".env"}
    ]
    assert not forbidden, f"must not be in the wheel: {forbidden}"


def test_sdist_contents(dists: Dists) -> None:
    names = [name for name, _ in dists.sdist_files()]
    top = {n.split("/")[0] for n in names}
    assert len(top) == 1, f"the sdist must have one top folder, got {top}"
    relative = {n.split("/", 1)[1] for n in names if "/" in n}
    for required in (
        "pyproject.toml",
        "README.md",
        "CONTRIBUTING.md",
        "CHANGELOG.md",
        "LICENSE",
        "overlays/py.typed",
        "generated/examples.json",
    ):
        assert required in relative, f"{required} is missing from the sdist"
    forbidden = [
        n
        for n in relative
        if NOT_IN_SDIST & set(n.split("/")) or n.endswith((".pyc", ".pyo")) or n == ".env"
    ]
    assert not forbidden, f"must not be in the sdist: {sorted(forbidden)}"


def test_no_secrets_in_wheel_or_sdist(dists: Dists) -> None:
    literals = fake_credentials()
    found = []
    for kind, files in (("wheel", dists.wheel_files()), ("sdist", dists.sdist_files())):
        for name, data in files:
            for hit in find_secrets(data.decode("utf-8", errors="replace"), literals):
                found.append(f"{kind}:{name}: {hit}")
    assert not found, "key-like strings in the distributions:\n" + "\n".join(found)


# -- metadata ----------------------------------------------------------------------------


def _metadata(dists: Dists) -> email.message.Message:
    with zipfile.ZipFile(dists.wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(name).decode("utf-8"))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_third_party(dists: Dists) -> dict[str, set[str]]:
    """Top-level modules the wheel's code imports that are neither stdlib nor its own,
    each with the files that import it."""
    found: dict[str, set[str]] = {}
    for name, data in dists.wheel_files():
        if not name.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(data, filename=name)):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in {"creditwatch", "__future__"}:
                    found.setdefault(top, set()).add(name)
    return found


def test_metadata_requirements(dists: Dists) -> None:
    metadata = _metadata(dists)
    requirements = [Requirement(r) for r in metadata.get_all("Requires-Dist") or []]
    runtime = {_canonical(r.name) for r in requirements if r.marker is None}
    assert runtime == RUNTIME_DEPS, (
        f"runtime requirements must be exactly {sorted(RUNTIME_DEPS)}, got {sorted(runtime)}"
    )
    extras = {_canonical(x) for x in metadata.get_all("Provides-Extra") or []}
    assert extras == {"aiohttp", "dev", "exporter"}, extras
    dev = {
        _canonical(r.name)
        for r in requirements
        if r.marker is not None and r.marker.evaluate({"extra": "dev"})
    }
    assert dev >= DEV_TOOLS, f"dev tools missing from the dev extra: {DEV_TOOLS - dev}"
    for r in requirements:  # every requirement with a marker belongs to an extra
        if r.marker is not None:
            assert not r.marker.evaluate({"extra": ""}), f"{r} applies outside the extras"
    assert metadata["Requires-Python"] == ">=3.11"
    # The runtime requirements are what the installed code imports: none unused, none missing.
    imported = _imported_third_party(dists)
    for module, (dist, extra) in OPTIONAL_IMPORTS.items():
        in_extra = {
            _canonical(r.name)
            for r in requirements
            if r.marker is not None and r.marker.evaluate({"extra": extra})
        }
        assert dist in in_extra, f"{dist} ({module}) is not in the {extra} extra"
        imported.pop(module, None)
    unknown = {m: sorted(f) for m, f in imported.items() if m not in IMPORT_TO_DIST}
    assert not unknown, f"imports of modules that are not runtime requirements: {unknown}"
    used = {IMPORT_TO_DIST[m] for m in imported}
    assert used == runtime, f"declared but never imported: {sorted(runtime - used)}"


def test_console_script_declared(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = archive.read(name).decode("utf-8")
    assert re.search(r"^\[console_scripts\]$", text, re.M), text
    assert re.search(r"^creditwatch\s*=\s*creditwatch\.__main__:main$", text, re.M), text


# -- installed ---------------------------------------------------------------------------


IMPORT_CHECK = """
import importlib, importlib.resources, json, sys, sysconfig
from pathlib import Path
import creditwatch
site = Path(sysconfig.get_paths()["purelib"]).resolve()
assert Path(creditwatch.__file__).resolve().is_relative_to(site), creditwatch.__file__
for name in sys.argv[1:]:
    module = importlib.import_module("creditwatch." + name)
    assert Path(module.__file__).resolve().is_relative_to(site), module.__file__
    assert {"Client", "AsyncClient", "models"} <= set(module.__all__), name
    assert getattr(creditwatch, name) is module
examples = importlib.resources.files("creditwatch._generated").joinpath("examples.json")
assert set(sys.argv[1:]) <= set(json.loads(examples.read_text(encoding="utf-8")))
print(creditwatch.__version__)
"""


def test_installed_wheel_imports_every_provider(venv: Venv, dists: Dists) -> None:
    result = venv.run(str(venv.python), "-c", IMPORT_CHECK, *PROVIDERS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == _metadata(dists)["Version"]
    check = venv.run(sys.executable, "-m", "pip", "--python", str(venv.python), "check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_demo_runs_from_the_installed_wheel(venv: Venv, dists: Dists) -> None:
    if "creditwatch/__main__.py" not in dists.wheel_names():
        pytest.skip("creditwatch/__main__.py is not in the wheel yet: no `creditwatch demo`")
    script = venv.root / "bin" / "creditwatch"
    assert script.exists(), "the wheel declares no creditwatch console script"
    result = venv.run(str(script), "demo", timeout=120)
    assert result.returncode == 0, f"creditwatch demo failed:\n{result.stdout}{result.stderr}"
    for provider in PROVIDERS:
        assert provider in result.stdout.lower(), f"{provider} missing from the demo output"


def test_installed_wheel_is_typed(venv: Venv) -> None:
    """mypy, pointed at the fresh environment, finds creditwatch there (through
    py.typed) and accepts the public API pins: what a user's type checker sees."""
    check = venv.workdir / "check_public_api.py"
    shutil.copy2(ROOT / "tests" / "typing" / "check_public_api.py", check)
    result = venv.mypy(check)
    assert result.returncode == 0, f"mypy against the installed wheel:\n{result.stdout}"
