"""Contract test (issue #2): Prism serves every documented answer of every operation
from specs/*.yaml, over real HTTP on loopback, and the generated client parses it.

For every operation, every documented status and every named example, a request
with the operation's credential and required headers asks Prism (``--errors``) for
that answer with ``Prefer: code=S[, example=NAME]``, and once more with
``dynamic=true`` (a random body built from the schema, several times). The answer
must have the status asked for, no ``sl-violations`` (Prism found the example or
its own body valid against the spec), and the generated model the spec names for
that status (what the generated client parses it with) must read it, and its
``to_dict()`` must give back the JSON that was sent. A request without credentials must
be refused (401 + ``sl-violations``): proof that Prism checks what we send.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from _prism import PrismServer, violations
from _specs import (
    JSON,
    Spec,
    generated_model,
    load,
    op_security,
    operations,
    resolve,
    response_class,
    same_text_value,
)
from conftest import FAKE_KEY, FAKE_TOKEN, PROVIDERS, concrete_path
from conftest import credentials as fake_credentials

DYNAMIC_RUNS = 5  # dynamic bodies are random: several draws per status


@dataclass(frozen=True)
class Operation:
    provider: str
    path: str
    method: str
    body: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.body["operationId"])

    @property
    def url(self) -> str:
        """The path requested: parameters a credential fills (Twilio's ``{AccountSid}``)
        filled from the fake credentials, which match the spec's pattern."""
        return concrete_path(self.provider, self.path)

    def response(self, status: str) -> dict[str, Any]:
        result: dict[str, Any] = resolve(load(self.provider), self.body["responses"][status])
        return result

    def headers(self, *, auth: bool = True) -> dict[str, str]:
        """Required header parameters (their documented example) and the credential."""
        spec = load(self.provider)
        headers: dict[str, str] = {}
        for ref in self.body.get("parameters", []):
            param = resolve(spec, ref)
            if param["in"] == "header" and param.get("required"):
                schema = resolve(spec, param["schema"])
                headers[param["name"]] = str(param.get("example", schema.get("example")))
        if auth:
            headers.update(credential(spec, self.body))
        return headers


def credential(spec: Spec, op: dict[str, Any]) -> dict[str, str]:
    """The header the operation's security scheme asks for, with a fake secret."""
    schemes = spec["components"]["securitySchemes"]
    for requirement in op_security(spec, op):
        if not requirement:  # the anonymous alternative (ElevenLabs'): not a credential
            continue
        (name,) = requirement  # one scheme per alternative in our specs
        scheme = schemes[name]
        if scheme["type"] == "http" and scheme["scheme"].lower() == "basic":
            user, password = list(fake_credentials(provider_of(spec)).values())[:2]
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        if scheme["type"] == "http" and scheme["scheme"].lower() == "bearer":
            secret = FAKE_TOKEN if scheme.get("bearerFormat") == "JWT" else FAKE_KEY
            return {"Authorization": f"Bearer {secret}"}
        if scheme["type"] == "apiKey" and scheme["in"] == "header":
            # Generect documents `Authorization: Token <key>`; Prism accepts any value.
            prefix = "Token " if scheme["name"] == "Authorization" else ""
            return {scheme["name"]: prefix + FAKE_KEY}
    raise AssertionError(f"no header credential for {op['operationId']}")


def provider_of(spec: Spec) -> str:
    """The provider whose (cached) spec this is."""
    return next(name for name in PROVIDERS if load(name) is spec)


def all_operations() -> Iterator[Operation]:
    for provider in PROVIDERS:
        for path, method, body in operations(load(provider)):
            yield Operation(provider, path, method, body)


OPERATIONS = list(all_operations())


@dataclass(frozen=True)
class Case:
    op: Operation
    status: str
    example: str | None  # None: Prism's default for the status (the first example)
    dynamic: bool = False

    @property
    def id(self) -> str:
        kind = "dynamic" if self.dynamic else (self.example or "default")
        return f"{self.op.provider}-{self.op.id}-{self.status}-{kind}"

    @property
    def prefer(self) -> str:
        prefer = f"code={self.status}"
        if self.example is not None:
            prefer += f", example={self.example}"
        if self.dynamic:
            prefer += ", dynamic=true"
        return prefer


def example_cases() -> Iterator[Case]:
    for op in OPERATIONS:
        for status in op.body["responses"]:
            yield Case(op, str(status), None)
            media = op.response(str(status)).get("content", {}).get(JSON, {})
            for name in media.get("examples", {}):
                yield Case(op, str(status), name)


def dynamic_cases() -> Iterator[Any]:
    for op in OPERATIONS:
        for status in op.body["responses"]:
            case = Case(op, str(status), None, dynamic=True)
            yield pytest.param(case, id=case.id)


EXAMPLE_CASES = list(example_cases())


# -- parsing with the generated client --------------------------------------------------


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def parse(op: Operation, status: str, response: httpx.Response) -> Any:
    """The answer read by the generated model the spec names for that status (None for
    an answer without a body)."""
    if not op.response(status).get("content"):
        return None
    return model_class(op, status).from_dict(response.json())


def model_class(op: Operation, status: str) -> type[Any]:
    """The generated model of the response schema (`response_class`)."""
    media = op.response(status)["content"][JSON]
    return generated_model(op.provider, response_class(op.body, status, media))


def differences(sent: Any, parsed: Any, path: str = "$") -> list[str]:
    """Where ``parsed`` (the model's to_dict()) differs from ``sent`` (the JSON), as
    readable paths; values must keep their JSON type (no 1 for true, no "1" for 1).
    Strings the generated models parse (``format: date-time``, ``uuid``) come back in
    canonical spelling (``...:00.000Z`` -> ``...:00+00:00``, UUIDs in lower case): they
    must name the same value (:func:`same_text_value`)."""
    if isinstance(sent, dict) and isinstance(parsed, dict):
        found = [f"{path}.{k}: missing after the round trip" for k in sent.keys() - parsed.keys()]
        found += [f"{path}.{k}: added by the round trip" for k in parsed.keys() - sent.keys()]
        for key in sent.keys() & parsed.keys():
            found += differences(sent[key], parsed[key], f"{path}.{key}")
        return found
    if isinstance(sent, list) and isinstance(parsed, list) and len(sent) == len(parsed):
        return [
            d
            for i, (a, b) in enumerate(zip(sent, parsed, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    if type(sent) is type(parsed) and sent == parsed:
        return []
    if isinstance(sent, str) and isinstance(parsed, str) and same_text_value(sent, parsed):
        return []
    return [f"{path}: sent {sent!r}, got back {parsed!r}"]


def check_parsed(case: Case, response: httpx.Response) -> None:
    """The generated endpoint parses the answer into the model for that status."""
    parsed = parse(case.op, case.status, response)
    if not case.op.response(case.status).get("content"):
        assert response.content == b""
        assert parsed is None
        return
    assert response.headers["content-type"].split(";")[0] == JSON
    cls = model_class(case.op, case.status)
    assert isinstance(parsed, cls), f"{type(parsed).__name__} is not {cls.__name__}"
    diff = differences(response.json(), parsed.to_dict())
    assert not diff, f"{case.id}: to_dict() round trip:\n" + "\n".join(diff)


def check_answer(case: Case, response: httpx.Response) -> None:
    assert response.status_code == int(case.status), response.text[:500]
    assert violations(response.headers) == [], response.headers.get("sl-violations")
    spec = load(case.op.provider)
    for name, ref in case.op.response(case.status).get("headers", {}).items():
        header = resolve(spec, ref)
        assert name in response.headers, f"documented header {name} missing"
        if resolve(spec, header["schema"]).get("type") == "integer":
            int(response.headers[name])
    check_parsed(case, response)


@pytest.fixture(scope="module")
def clients(prism: dict[str, PrismServer]) -> Iterator[dict[str, httpx.Client]]:
    opened = {name: httpx.Client(base_url=srv.base_url, timeout=20) for name, srv in prism.items()}
    yield opened
    for client in opened.values():
        client.close()


def send(client: httpx.Client, case: Case, headers: dict[str, str]) -> httpx.Response:
    return client.request(case.op.method, case.op.url, headers=headers)


@pytest.mark.parametrize("case", EXAMPLE_CASES, ids=[c.id for c in EXAMPLE_CASES])
def test_documented_answer_is_served_and_parsed(
    case: Case, clients: dict[str, httpx.Client]
) -> None:
    response = send(clients[case.op.provider], case, {**case.op.headers(), "Prefer": case.prefer})
    check_answer(case, response)
    media = case.op.response(case.status).get("content", {}).get(JSON)
    if media is None:
        return
    # Prism served the documented example: the named one, or the first one by default.
    examples = media.get("examples", {})
    if not examples and "example" not in media:
        return  # documented by schema only (DeepL's errors): checked and parsed above
    if case.example is not None:
        expected = examples[case.example]["value"]
    else:
        expected = next(iter(examples.values()))["value"] if examples else media["example"]
    assert response.json() == expected
    spec = load(case.op.provider)
    for name, ref in case.op.response(case.status).get("headers", {}).items():
        header = resolve(spec, ref)
        documented = header.get("example", resolve(spec, header.get("schema", {})).get("example"))
        if documented is not None:  # else Prism makes one up (Twilio's CORS headers)
            assert response.headers[name] == str(documented), name


@pytest.mark.parametrize("case", list(dynamic_cases()))
def test_dynamic_answers_are_parsed(case: Case, clients: dict[str, httpx.Client]) -> None:
    headers = {**case.op.headers(), "Prefer": case.prefer}
    for _ in range(DYNAMIC_RUNS):
        check_answer(case, send(clients[case.op.provider], case, headers))


@pytest.mark.parametrize("op", OPERATIONS, ids=[f"{o.provider}-{o.id}" for o in OPERATIONS])
def test_prism_refuses_a_request_without_credentials(
    op: Operation, clients: dict[str, httpx.Client]
) -> None:
    """Proof that the contract test can fail: what Prism checks, it enforces (an
    operation whose spec allows anonymous access, ElevenLabs' as published, is served)."""
    assert op.headers(auth=False) != op.headers()
    headers = {**op.headers(auth=False), "Prefer": "code=200"}
    response = clients[op.provider].request(op.method, op.url, headers=headers)
    if {} in op_security(load(op.provider), op.body):
        assert response.status_code == 200
        assert violations(response.headers) == []
        return
    assert response.status_code == 401
    if "401" not in op.body["responses"]:  # Twilio documents no error: Prism's own body
        return
    assert [v["code"] for v in violations(response.headers)] == [401]
    # ...and the documented 401 body is what the generated client gets.
    parsed = parse(op, "401", response)
    assert isinstance(parsed, model_class(op, "401"))


REQUIRED_HEADER_OPS = [op for op in OPERATIONS if op.headers(auth=False)]


@pytest.mark.parametrize(
    "op", REQUIRED_HEADER_OPS, ids=[f"{o.provider}-{o.id}" for o in REQUIRED_HEADER_OPS]
)
def test_prism_refuses_a_request_without_required_headers(
    op: Operation, clients: dict[str, httpx.Client]
) -> None:
    for name in op.headers(auth=False):
        headers = {k: v for k, v in op.headers().items() if k != name}
        response = clients[op.provider].request(op.method, op.url, headers=headers)
        assert response.status_code in {400, 422}, name
        problems = violations(response.headers) or response.json().get("validation", [])
        assert any(name.lower() in json.dumps(p).lower() for p in problems), problems


def test_exorde_sends_its_version_header() -> None:
    """The Exorde requests above carry the version header the API requires."""
    (op,) = [o for o in OPERATIONS if o.provider == "exorde"]
    assert op.headers(auth=False) == {"X-Exorde-Api-Version": "v1"}


def test_every_status_is_covered() -> None:
    """Each documented status has a default case and one case per named example."""
    for op in OPERATIONS:
        for status in op.body["responses"]:
            ids = {c.id for c in EXAMPLE_CASES if c.op == op and c.status == str(status)}
            media = op.response(str(status)).get("content", {}).get(JSON, {})
            assert len(ids) == 1 + len(media.get("examples", {})), (op.id, status)
