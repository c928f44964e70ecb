"""The five providers and where each one's spec comes from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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

    @property
    def spec(self) -> Path:
        """The spec the generator reads (normalized, or hand-written)."""
        return SPECS / f"{self.name}.yaml"

    @property
    def package(self) -> Path:
        return GENERATED / self.name


PROVIDERS = [
    Provider("flamel", SPECS / "upstream" / "flamel.yaml", flamel.STEPS),
    Provider("exorde"),
    Provider("generect", SPECS / "upstream" / "generect.yaml", generect.STEPS),
    Provider("easyslip"),
    Provider("llmgenerator"),
]
