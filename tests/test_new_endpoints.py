"""A new endpoint costs a spec change and a regeneration, nothing else (issue #8).

On a temporary copy of the repository, two operations are added to two hand-written
specs: Exorde's (a plain provider: Bearer key, ``Accept`` header, its own error body)
and EasySlip's (every body in a ``{"status", "data"}`` envelope, errors possible in a
200 body):

* ``GET /projects/{projectId}/usage``: a path parameter, a required query parameter
  of an enum type, an optional integer query parameter;
* ``POST /projects``: a JSON request body model, answered 201.

``scripts/generate.py`` regenerates, the copy is pip-installed into a fresh virtual
environment, and a user script (below) calls both operations on both providers, sync,
async and through ``with_raw_response``, against a local server. The server records
what it received (request line, query, body, headers); the script prints what it got
back. Nothing in ``overlays/`` is touched. The same script, with ``assert_type`` on
every result, must pass ``mypy --strict`` against the fresh environment, and a file of
wrong calls must fail it on exactly the marked lines. Finally the operations are
removed from the specs and the regeneration removes the methods.
"""

from __future__ import annotations

import ast
import functools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from _faults import FaultServer, RecordedRequest, json_reply
from _mypy import marked_errors, reported_errors
from _repo import Venv, copy_repo, edit_spec, fresh_venv, generate
from conftest import FAKE_KEY, ROOT

JSON = "application/json"
TAGS = {"exorde": "user", "easyslip": "account"}
METHODS = {"get_project_usage", "create_project"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def answer(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def add_operations(spec: dict[str, Any], provider: str) -> None:
    """The two new operations, in the provider's own style (EasySlip: enveloped)."""
    enveloped = provider == "easyslip"

    def body(model: str) -> dict[str, Any]:
        if not enveloped:
            return ref(model)
        spec["components"]["schemas"][f"{model}Envelope"] = {
            "type": "object",
            "required": ["status", "data"],
            "properties": {"status": {"type": "integer"}, "data": ref(model)},
        }
        return ref(f"{model}Envelope")

    security = next(iter(spec["components"]["securitySchemes"]))
    error = answer(ref("ErrorResponse"), "Unauthorized")
    spec["components"]["schemas"] |= {
        "UsagePeriod": {"type": "string", "enum": ["day", "week", "month"]},
        "ProjectUsage": {
            "type": "object",
            "required": ["projectId", "period", "used"],
            "properties": {
                "projectId": {"type": "string"},
                "period": ref("UsagePeriod"),
                "used": {"type": "integer", "description": "Credits used in the period."},
            },
        },
        "NewProject": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "monthlyBudget": {"type": "integer"}},
        },
        "Project": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "monthlyBudget": {"type": "integer"},
            },
        },
    }
    spec["paths"]["/projects/{projectId}/usage"] = {
        "get": {
            "operationId": "getProjectUsage",
            "tags": [TAGS[provider]],
            "summary": "Get a project's usage",
            "description": "Credits one project used in a period.",
            "security": [{security: []}],
            "parameters": [
                {
                    "name": "projectId",
                    "in": "path",
                    "required": True,
                    "description": "The project's id.",
                    "schema": {"type": "string"},
                },
                {
                    "name": "period",
                    "in": "query",
                    "required": True,
                    "description": "The period to sum over.",
                    "schema": ref("UsagePeriod"),
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "description": "At most this many rows.",
                    "schema": {"type": "integer"},
                },
            ],
            "responses": {"200": answer(body("ProjectUsage")), "401": error},
        }
    }
    spec["paths"]["/projects"] = {
        "post": {
            "operationId": "createProject",
            "tags": [TAGS[provider]],
            "summary": "Create a project",
            "security": [{security: []}],
            "requestBody": {"required": True, "content": {JSON: {"schema": ref("NewProject")}}},
            "responses": {"201": answer(body("Project"), "Created"), "401": error},
        }
    }


def remove_operations(spec: dict[str, Any]) -> None:
    for path in ("/projects/{projectId}/usage", "/projects"):
        del spec["paths"][path]
    for name in [n for n in spec["components"]["schemas"] if "Project" in n or n == "UsagePeriod"]:
        del spec["components"]["schemas"][name]


USER_SCRIPT = '''
"""A user's script: the new operations, called every way, results printed as JSON."""

import asyncio
import json
from typing import assert_type

import creditwatch
from creditwatch import easyslip, exorde
from creditwatch.easyslip.models import NewProject as EasyNewProject
from creditwatch.easyslip.models import Project as EasyProject
from creditwatch.easyslip.models import ProjectUsage as EasyUsage
from creditwatch.easyslip.models import UsagePeriod as EasyPeriod
from creditwatch.exorde.models import NewProject, Project, ProjectUsage, UsagePeriod

out: list[object] = []


def sync_calls() -> None:
    with exorde.Client() as c:
        usage = c.get_project_usage(project_id="alpha beta", period=UsagePeriod.WEEK, limit=5)
        assert_type(usage, ProjectUsage)
        out.append(["exorde sync usage", type(usage).__name__, usage.to_dict()])
        project = c.create_project(body=NewProject(name="docs", monthly_budget=100))
        assert_type(project, Project)
        out.append(["exorde sync create", type(project).__name__, project.to_dict()])
        raw = c.with_raw_response.get_project_usage(project_id="p2", period=UsagePeriod.DAY)
        assert_type(raw, creditwatch.APIResponse[ProjectUsage])
        assert_type(raw.parsed, ProjectUsage)
        out.append(["exorde raw usage", raw.status_code, raw.parsed.to_dict()])
        raw_created = c.with_raw_response.create_project(body=NewProject(name="raw"))
        assert_type(raw_created, creditwatch.APIResponse[Project])
        out.append(["exorde raw create", raw_created.status_code, raw_created.parsed.to_dict()])
    with easyslip.Client() as e:
        data = e.get_project_usage(project_id="alpha beta", period=EasyPeriod.MONTH)
        assert_type(data, EasyUsage)
        out.append(["easyslip sync usage", type(data).__name__, data.to_dict()])
        made = e.create_project(body=EasyNewProject(name="docs"))
        assert_type(made, EasyProject)
        out.append(["easyslip sync create", type(made).__name__, made.to_dict()])
        raw_made = e.with_raw_response.create_project(body=EasyNewProject(name="raw"))
        assert_type(raw_made, creditwatch.APIResponse[EasyProject])
        out.append(["easyslip raw create", raw_made.status_code, raw_made.parsed.to_dict()])
        try:
            e.get_project_usage(project_id="locked", period=EasyPeriod.DAY)
        except creditwatch.AuthenticationError as exc:
            out.append(["easyslip body status", exc.status_code, exc.code, str(exc)])


async def async_calls() -> None:
    async with exorde.AsyncClient() as c:
        usage = await c.get_project_usage(project_id="p3", period=UsagePeriod.MONTH, limit=1)
        assert_type(usage, ProjectUsage)
        out.append(["exorde async usage", type(usage).__name__, usage.to_dict()])
        raw = await c.with_raw_response.create_project(body=NewProject(name="async"))
        assert_type(raw, creditwatch.APIResponse[Project])
        out.append(["exorde async raw create", raw.status_code, raw.parsed.to_dict()])
    async with easyslip.AsyncClient() as e:
        made = await e.create_project(body=EasyNewProject(name="async"))
        assert_type(made, EasyProject)
        out.append(["easyslip async create", type(made).__name__, made.to_dict()])
        raw_usage = await e.with_raw_response.get_project_usage(
            project_id="p3", period=EasyPeriod.WEEK
        )
        assert_type(raw_usage, creditwatch.APIResponse[EasyUsage])
        out.append(["easyslip async raw usage", raw_usage.status_code, raw_usage.parsed.to_dict()])


sync_calls()
asyncio.run(async_calls())
print(json.dumps(out))
'''

# Each line ending in "# E: <code>" must draw exactly that mypy error; no other line may.
BAD_CALLS = """
from creditwatch import exorde
from creditwatch.exorde.models import NewProject, UsagePeriod

c = exorde.Client()
c.get_project_usage(project_id="p", period="week")  # E: arg-type
c.get_project_usage(period=UsagePeriod.DAY)  # E: call-arg
c.get_project_usage(project_id="p", period=UsagePeriod.DAY, limit="5")  # E: arg-type
c.create_project(body={"name": "x"})  # E: arg-type
c.create_project()  # E: call-arg
c.get_project_usage("p", period=UsagePeriod.DAY)  # E: call-arg
"""

USAGE = {"projectId": "alpha beta", "period": "week", "used": 42}
PROJECT = {"id": "prj_1", "name": "docs", "monthlyBudget": 100}


def script_server(server: FaultServer) -> None:
    """Exorde answers bare bodies, EasySlip enveloped ones (and a 200 carrying 401)."""
    for prefix, wrap in (("/exorde", False), ("/easyslip", True)):

        def body(data: dict[str, Any], status: int, wrap: bool = wrap) -> Any:
            return {"status": status, "data": data} if wrap else data

        for project in ("alpha%20beta", "p2", "p3"):
            path = f"{prefix}/projects/{project}/usage"
            server.script_path(path, json_reply(body(USAGE, 200)), method="GET")
        server.script_path(f"{prefix}/projects", json_reply(body(PROJECT, 201), 201), method="POST")
    server.script_path(
        "/easyslip/projects/locked/usage", json_reply({"status": 401, "message": "unauthorized"})
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = copy_repo(tmp_path_factory.mktemp("repo"))
    for provider in TAGS:
        edit_spec(copy, provider, functools.partial(add_operations, provider=provider))
    result = generate(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    for provider in TAGS:
        for module in ("project_usage", "new_project", "project", "usage_period"):
            assert (copy / "generated" / provider / "models" / f"{module}.py").is_file()
    return copy


@pytest.fixture(scope="module")
def venv(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return fresh_venv(tmp_path_factory.mktemp("venv"), str(repo))


@pytest.fixture(scope="module")
def run(venv: Venv) -> tuple[list[RecordedRequest], list[Any]]:
    """The user script's run against a local server: (requests received, output)."""
    script = venv.workdir / "user_script.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    with FaultServer() as server:
        script_server(server)
        result = venv.run(
            str(venv.python),
            str(script),
            EXORDE_API_KEY=FAKE_KEY,
            EXORDE_BASE_URL=server.url("/exorde"),
            EASYSLIP_API_KEY=FAKE_KEY,
            EASYSLIP_BASE_URL=server.url("/easyslip"),
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return server.requests, json.loads(result.stdout)


def test_overlays_are_untouched_by_the_new_endpoints(repo: Path) -> None:
    """The same files in overlays/ (none added, none removed), byte for byte."""

    def files(root: Path) -> dict[str, bytes]:
        folder = root / "overlays"
        return {
            path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts
        }

    mine, theirs = files(ROOT), files(repo)
    assert sorted(theirs) == sorted(mine)
    assert [n for n in mine if theirs[n] != mine[n]] == []


def test_requests_carry_path_query_body_and_auth(
    run: tuple[list[RecordedRequest], list[Any]],
) -> None:
    requests, _ = run
    seen = [(r.method, r.path, r.query) for r in requests]
    assert seen == [
        ("GET", "/exorde/projects/alpha%20beta/usage", {"period": ["week"], "limit": ["5"]}),
        ("POST", "/exorde/projects", {}),
        ("GET", "/exorde/projects/p2/usage", {"period": ["day"]}),  # no limit: not sent
        ("POST", "/exorde/projects", {}),
        ("GET", "/easyslip/projects/alpha%20beta/usage", {"period": ["month"]}),
        ("POST", "/easyslip/projects", {}),
        ("POST", "/easyslip/projects", {}),
        ("GET", "/easyslip/projects/locked/usage", {"period": ["day"]}),
        ("GET", "/exorde/projects/p3/usage", {"period": ["month"], "limit": ["1"]}),
        ("POST", "/exorde/projects", {}),
        ("POST", "/easyslip/projects", {}),
        ("GET", "/easyslip/projects/p3/usage", {"period": ["week"]}),
    ]
    posts = [r for r in requests if r.method == "POST"]
    assert [r.json() for r in posts] == [
        {"name": "docs", "monthlyBudget": 100},
        {"name": "raw"},
        {"name": "docs"},
        {"name": "raw"},
        {"name": "async"},
        {"name": "async"},
    ]
    for r in posts:
        assert r.headers["content-type"] == JSON
    for r in requests:
        assert r.headers["authorization"] == f"Bearer {FAKE_KEY}"
        assert r.headers["user-agent"].startswith("creditwatch/")
        # Exorde's profile header reaches the new operations too; EasySlip has none.
        assert ("accept" in r.headers and r.headers["accept"] == JSON) == r.path.startswith(
            "/exorde"
        )


def test_results_are_the_parsed_models(run: tuple[list[RecordedRequest], list[Any]]) -> None:
    _, out = run
    results = {entry[0]: entry[1:] for entry in out}
    for name in ("exorde sync usage", "exorde async usage", "easyslip sync usage"):
        assert results[name] == ["ProjectUsage", USAGE], name
    for name in ("exorde sync create", "easyslip sync create", "easyslip async create"):
        assert results[name] == ["Project", PROJECT], name
    assert results["exorde raw usage"] == [200, USAGE]
    assert results["easyslip async raw usage"] == [200, USAGE]  # the envelope's data
    for name in ("exorde raw create", "exorde async raw create", "easyslip raw create"):
        assert results[name] == [201, PROJECT], name
    status, code, message = results["easyslip body status"]
    assert (status, code) == (401, "unauthorized")
    assert "EasySlip 401" in message and FAKE_KEY not in message


def test_user_script_type_checks_and_wrong_calls_do_not(venv: Venv) -> None:
    good, bad = venv.workdir / "user_script.py", venv.workdir / "bad_calls.py"
    good.write_text(USER_SCRIPT, encoding="utf-8")
    bad.write_text(BAD_CALLS, encoding="utf-8")
    result = venv.mypy(good, bad)
    assert reported_errors(result.stdout, good.name) == set(), result.stdout
    assert reported_errors(result.stdout, bad.name) == marked_errors(BAD_CALLS), result.stdout


def test_removing_the_operations_removes_the_methods(repo: Path, tmp_path: Path) -> None:
    repo = Path(shutil.copytree(repo, tmp_path / "repo"))
    for provider in TAGS:
        edit_spec(repo, provider, remove_operations)
    result = generate(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    for provider, tag in TAGS.items():
        assert not (repo / "generated" / provider / "models" / "project_usage.py").exists()
        tree = ast.parse((repo / "generated" / provider / "client.py").read_text())
        methods = {
            f.name
            for c in tree.body
            if isinstance(c, ast.ClassDef)
            for f in c.body
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert methods, "no methods found at all"
        assert not methods & METHODS, methods & METHODS
        api = repo / "generated" / provider / "api" / tag
        assert not list(api.glob("*project*")), list(api.glob("*project*"))
    check = generate(repo, "--check")
    assert check.returncode == 0, check.stderr
