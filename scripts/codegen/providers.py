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
        from . import steps as generic  # noqa: PLC0415

        source = self.declaration.spec
        steps: list[Step] = []
        if source.operations:
            steps.append(generic.keep_only(source.operations))
        for entry in source.steps:
            for name, arguments in entry.items():
                if name not in generic.STEPS:
                    raise DeclarationError(
                        [f"{self.file}: spec.steps: no step {name!r} ({', '.join(generic.STEPS)})"]
                    )
                kwargs = {
                    k: ROOT / v if k == "overrides" else v for k, v in (arguments or {}).items()
                }
                steps.append(generic.STEPS[name](**kwargs))
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
