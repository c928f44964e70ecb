"""The five providers: where each one's spec comes from and where it is published."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import flamel, generect
from .spec import Step

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
GENERATED = ROOT / "generated"


@dataclass(frozen=True)
class Provider:
    name: str
    # Upstream snapshot the normalizer starts from; None: the spec is hand-written.
    upstream: Path | None = None
    steps: Sequence[Step] = ()
    title: str = field(kw_only=True)  # as users write it: "EasySlip"
    # The published docs page scripts/snapshot.py fetches: the OpenAPI document inside it
    # (Flamel, Generect), or the page a hand-written spec was written from.
    source: str = field(kw_only=True)

    @property
    def spec(self) -> Path:
        """The spec the generator reads (normalized, or hand-written)."""
        return SPECS / f"{self.name}.yaml"

    @property
    def package(self) -> Path:
        return GENERATED / self.name

    @property
    def snapshot(self) -> Path:
        """What scripts/snapshot.py writes: the upstream OpenAPI byte for byte, or the
        text of the docs page the hand-written spec was last reviewed against."""
        return self.upstream or SPECS / "upstream" / f"{self.name}.docs.txt"

    @property
    def sidecar(self) -> Path:
        """Where the snapshot came from: source URL, fetch time, content digest."""
        return SPECS / "upstream" / f"{self.name}.source.json"


PROVIDERS = [
    Provider(
        "flamel",
        SPECS / "upstream" / "flamel.yaml",
        flamel.STEPS,
        title="Flamel",
        source="https://api.flamel.app/api-reference/users/"
        "get-my-info%EB%82%B4-%EC%A0%95%EB%B3%B4-%EC%A1%B0%ED%9A%8C.md",
    ),
    Provider(
        "exorde",
        title="Exorde",
        source="https://docs.exorde.io/reference/get-user-info",
    ),
    Provider(
        "generect",
        SPECS / "upstream" / "generect.yaml",
        generect.STEPS,
        title="Generect",
        source="https://docs.generect.com/api-reference/endpoint/auth/get-user-me.md",
    ),
    Provider(
        "easyslip",
        title="EasySlip",
        source="https://easyslip-document.cl1.easythunder.com/en/v1/me",
    ),
    Provider(
        "llmgenerator",
        title="LLMGenerator",
        source="https://docs.llmgenerator.com/ko/api-reference/subscriptions/current",
    ),
]
