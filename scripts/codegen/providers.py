"""The providers, discovered: one per declaration in specs/providers/ (see
codegen/declaration.py). Nothing lists them by hand; the generator writes the
runtime's list (generated/_registry.py) from this one."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from .declaration import ROOT, DeclarationError, discover
from .declaration import Provider as _Declared
from .spec import Step

SPECS = ROOT / "specs"
GENERATED = ROOT / "generated"


class Provider(_Declared):
    @property
    def steps(self) -> Sequence[Step]:
        """The normalizer steps (scripts/codegen/<normalizer>.py's STEPS), after the
        generic subsetting to the declared operations."""
        source = self.declaration.spec
        steps: list[Step] = []
        if source.operations:
            from .subset import keep_operations  # noqa: PLC0415

            steps.append(keep_operations(source.operations))
        if source.normalizer:
            module = importlib.import_module(f"codegen.{source.normalizer}")
            steps += module.STEPS
        return steps


def _providers() -> tuple[list[Provider], list[str]]:
    found, problems = discover()
    return [Provider(p.name, p.declaration) for p in found], problems


PROVIDERS, PROBLEMS = _providers()
"""Every declared provider (by name), and every problem found reading the declarations."""

__all__ = ["GENERATED", "PROBLEMS", "PROVIDERS", "ROOT", "SPECS", "DeclarationError", "Provider"]
