"""A provider's declaration: ``specs/providers/<name>.yaml``, everything creditwatch needs
beyond the provider's OpenAPI spec (display name, credentials and how they are sent,
wrappers and error bodies, the balance mapping), validated by the pydantic models below.

Providers are discovered: every ``specs/providers/*.yaml`` is one provider, named after
its file. Nothing else lists them (the generator writes ``generated/_registry.py``).

The declaration reference (every key, with examples) is in CONTRIBUTING.md, "Adding a
provider". `load` reports every problem as one line naming the file and the key::

    specs/providers/flamel.yaml: balance.limit: Extra inputs are not permitted
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ROOT = Path(__file__).resolve().parents[2]
DECLARATIONS = ROOT / "specs" / "providers"
NAME = re.compile(r"[a-z][a-z0-9]*")
PATH = r"[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*)*"
TERM = re.compile(rf"\(?\s*(?P<path>{PATH})(\s+or\s+(?P<default>\d+))?\s*\)?")
OPEN = "TODO"
"""A value starting with this word is an open item: the generator reports it."""


class DeclarationError(Exception):
    """A declaration is invalid; ``lines`` are the one-line reports."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Send(_Model):
    """How a credential travels. Exactly one key: ``scheme`` (``Authorization: <scheme>
    <credential>``; the shorthand ``send: bearer`` is ``scheme: Bearer``), ``header``
    (``<header>: <credential>``), ``basic`` (HTTP basic: this credential is the
    ``username`` or the ``password``) or ``path`` (fills this path parameter)."""

    scheme: str | None = None
    header: str | None = None
    basic: Literal["username", "password"] | None = None
    path: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() == "bearer":
            return {"scheme": "Bearer"}
        return value

    @model_validator(mode="after")
    def _one(self) -> Send:
        given = [k for k in ("scheme", "header", "basic", "path") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"give exactly one of scheme, header, basic, path (got {given})")
        return self


class Credential(_Model):
    argument: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """The constructor argument (``api_key``, ``access_token``...)."""
    env: str | None = None
    """Its environment variable (default ``<ENV_PREFIX>_<ARGUMENT>``)."""
    send: Send = Send(scheme="Bearer")
    fills: str | None = None
    """A path parameter this credential also fills (Twilio's ``{AccountSid}``): it
    leaves the methods' arguments."""


class Source(_Model):
    """Where the spec comes from."""

    source: str
    """The published page or document scripts/snapshot.py fetches."""
    upstream: str | None = None
    """The snapshot (under specs/upstream/) that specs/<name>.yaml is normalized from;
    absent: specs/<name>.yaml is written by hand."""
    operations: list[str] | None = None
    """Keep only these operations (operationId or ``"GET /path"``) and what they reach
    from the upstream spec (the generic subsetting step, codegen/steps.py keep_only)."""
    steps: list[dict[str, dict[str, Any]]] = []
    """Generic fixes, in order: ``{step name: {argument: value}}`` (codegen/steps.py)."""
    normalizer: str | None = None
    """A module of scripts/codegen/ whose ``STEPS`` fix the upstream spec (Python, for
    what the generic steps cannot do)."""


class ServerRule(_Model):
    """Which of the spec's servers a credential selects (DeepL: keys ending in ``:fx``
    are Free keys and use ``https://api-free.deepl.com``); ``base_url`` still wins."""

    credential: str = "api_key"
    suffix: str
    url: str


class Wrapper(_Model):
    """A wrapper the spec does not describe around some success bodies (Flamel's
    optional ``{"success": true, "data": ...}``): removed before the body is parsed."""

    data: str
    keys: list[str]
    """A body is wrapped when it has ``data`` and no key outside these."""
    when_true: str | None = None
    """...and this key is ``true``."""


class Envelope(_Model):
    body_status: str
    """A top-level field holding an HTTP-like status; not 2xx means an error, whatever
    the HTTP status (EasySlip)."""


class ErrorShape(_Model):
    """Where an error body keeps its code, message and request id (field paths of the
    spec's schema ``schema``)."""

    schema_: str = Field(alias="schema")
    status: int | None = None
    """Only for this status (Exorde's 500 is ``{requestId}``); absent: every status."""
    code: str | None = None
    message: str | None = None
    request_id: str | None = None


class Amount(_Model):
    """A number: ``a.b``, ``a + b - c``, ``a + (b or 0)`` (an absent ``b`` counts as 0)."""

    value: str
    zero_means_none: bool = False
    """Zero (or less) means "no such number" (Flamel: ``maxCredit: 0`` is no limit)."""
    text: Literal["decimal"] | None = None
    """``decimal``: the field is decimal text (Twilio's ``"0.05"``), one field path; the
    typed model keeps the text, `Balance` gets its number."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"value": value} if isinstance(value, str) else value

    def terms(self) -> list[tuple[int, str, int | None]]:
        """[(sign, path, default when absent)] of the expression (ValueError if bad)."""
        parts = re.split(r"\s+([+-])\s+", self.value.strip())
        signs = [1, *[1 if s == "+" else -1 for s in parts[1::2]]]
        result = []
        for sign, text in zip(signs, parts[0::2], strict=True):
            match = TERM.fullmatch(text.strip())
            if match is None:
                raise ValueError(f"{text!r} is not a field path, nor '(path or 0)'")
            default = match["default"]
            result.append((sign, match["path"], None if default is None else int(default)))
        return result


class Time(_Model):
    """A date and time: a field path (a ``date-time`` field: ISO text), ``{path,
    format: unix}`` (Unix seconds, UTC) or ``{schedule: monthly-utc}`` (the 1st of next
    month, 00:00 UTC, from the time of the check)."""

    path: str | None = None
    format: Literal["iso", "unix"] = "iso"
    schedule: Literal["monthly-utc"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one(self) -> Time:
        if (self.path is None) == (self.schedule is None):
            raise ValueError("give a path or a schedule")
        return self


class Unit(_Model):
    """``credits``, ``quota``... or ``{field: path}`` (read from the body)."""

    fixed: str | None = None
    field: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"fixed": value} if isinstance(value, str) else value


class Unlimited(_Model):
    """When the provider reports no limit at all: ``{absent: path}`` (the field is
    missing or null)."""

    absent: str


class BalanceMapping(_Model):
    calls: list[str] | dict[str, str]
    """The client method(s) to call: ``[get_me]``, or ``{name: method, ...}`` for more
    than one (made concurrently; paths then start with the name)."""
    remaining: Amount | None = None
    limit: Amount | None = None
    used: Amount | None = None
    """With a limit and no ``remaining``: remaining = limit - used."""
    unit: Unit = Unit(fixed="credits")
    plan: str | None = None
    resets_at: Time | None = None
    expires_at: Time | None = None
    unlimited: Unlimited | None = None

    @field_validator("calls")
    @classmethod
    def _calls(cls, value: list[str] | dict[str, str]) -> list[str] | dict[str, str]:
        if not value:
            raise ValueError("name at least one method")
        if isinstance(value, list) and len(value) > 1:
            raise ValueError("name several calls as {name: method} (the paths start with name)")
        return value

    def named_calls(self) -> dict[str, str]:
        """{name the paths use ('' for one call): method}."""
        return {"": self.calls[0]} if isinstance(self.calls, list) else dict(self.calls)


class Declaration(_Model):
    title: str
    """Display name, as users write it (``EasySlip``)."""
    env_prefix: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    """Prefix of the environment variables (default: the name in capitals)."""
    spec: Source
    credentials: Annotated[list[Credential], Field(min_length=1)] = [Credential(argument="api_key")]
    headers: dict[str, str] = {}
    """Sent with every request (Exorde: ``Accept: application/json``)."""
    servers: list[ServerRule] = []
    """Server choice by credential (the first of the spec's servers otherwise)."""
    wrapper: Wrapper | None = None
    envelope: Envelope | None = None
    errors: list[ErrorShape] = []
    balance: BalanceMapping
    hook: str | None = None
    """A module of overlays/_hooks/ for what cannot be declared; it may define
    ``inspect(data)`` (sees every success body) and public names in ``__all__`` (re-exported
    by ``creditwatch.<name>``)."""
    demo: tuple[float, float | None] | None = None
    """``creditwatch demo`` usage pattern: (share used per day, days to a top-up)."""


class Provider:
    """One discovered provider: its name, declaration and where its files are."""

    def __init__(self, name: str, declaration: Declaration) -> None:
        self.name = name
        self.declaration = declaration

    @property
    def title(self) -> str:
        return self.declaration.title

    @property
    def env_prefix(self) -> str:
        return self.declaration.env_prefix or self.name.upper()

    @property
    def file(self) -> str:
        """The declaration, as reports name it."""
        return f"specs/providers/{self.name}.yaml"

    @property
    def spec(self) -> Path:
        """The spec the generator reads (normalized, or hand-written)."""
        return ROOT / "specs" / f"{self.name}.yaml"

    @property
    def upstream(self) -> Path | None:
        up = self.declaration.spec.upstream
        return None if up is None else ROOT / up

    @property
    def source(self) -> str:
        return self.declaration.spec.source

    @property
    def snapshot(self) -> Path:
        """What scripts/snapshot.py writes: the upstream OpenAPI byte for byte, or the
        text of the docs page the hand-written spec was last reviewed against."""
        return self.upstream or ROOT / "specs" / "upstream" / f"{self.name}.docs.txt"

    @property
    def sidecar(self) -> Path:
        """Where the snapshot came from: source URL, fetch time, content digest."""
        return ROOT / "specs" / "upstream" / f"{self.name}.source.json"

    @property
    def package(self) -> Path:
        return ROOT / "generated" / self.name

    def credential_variables(self) -> list[str]:
        return [
            c.env or f"{self.env_prefix}_{c.argument.upper()}" for c in self.declaration.credentials
        ]

    def __repr__(self) -> str:
        return f"Provider({self.name!r})"


def _location(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not str(p).startswith(("function-", "tagged-"))]
    parts = [p for p in parts if p not in {"str", "list[str]", "dict[str,str]"}]
    return ".".join(parts).replace(".schema_", ".schema") or "(top)"


def load(path: Path) -> Provider:
    """The provider declared in ``path`` (DeclarationError: every problem, one line each)."""
    name = path.stem
    file = f"specs/providers/{path.name}"
    if not NAME.fullmatch(name):
        raise DeclarationError([f"{file}: the file name must be a provider name ([a-z][a-z0-9]*)"])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DeclarationError([f"{file}: not YAML: {' '.join(str(exc).split())}"]) from None
    try:
        declaration = Declaration.model_validate(data)
    except ValidationError as exc:
        lines = [f"{file}: {_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise DeclarationError(list(dict.fromkeys(lines))) from None
    return Provider(name, declaration)


def discover(folder: Path = DECLARATIONS) -> tuple[list[Provider], list[str]]:
    """Every declared provider (by name) and every problem found loading them."""
    providers: list[Provider] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            providers.append(load(path))
        except DeclarationError as exc:
            problems += exc.lines
    return providers, problems
