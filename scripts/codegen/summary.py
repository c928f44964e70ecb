"""What a regeneration changed in the models, in words a person can review.

Reads the generated model modules with `ast` (no import), old tree and new tree,
and lists models and fields added, removed or retyped.
"""

from __future__ import annotations

import ast
from pathlib import Path

Fields = dict[str, str]


def read_models(package: Path) -> dict[str, Fields]:
    models: dict[str, Fields] = {}
    folder = package / "models"
    if not folder.is_dir():
        return models
    for module in sorted(folder.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            fields: Fields = {}
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    fields[item.target.id] = ast.unparse(item.annotation)
                elif isinstance(item, ast.Assign) and all(
                    isinstance(t, ast.Name) for t in item.targets
                ):
                    for target in item.targets:
                        assert isinstance(target, ast.Name)
                        fields[target.id] = f"= {ast.unparse(item.value)}"
            models[node.name] = fields
    return models


def describe(provider: str, old: dict[str, Fields], new: dict[str, Fields]) -> list[str]:
    lines: list[str] = []
    for name in sorted(new.keys() - old.keys()):
        lines.append(f"{provider}: + model {name} ({len(new[name])} fields)")
    for name in sorted(old.keys() - new.keys()):
        lines.append(f"{provider}: - model {name}")
    for name in sorted(old.keys() & new.keys()):
        before, after = old[name], new[name]
        for field in sorted(after.keys() - before.keys()):
            lines.append(f"{provider}: {name}: + {field}: {after[field]}")
        for field in sorted(before.keys() - after.keys()):
            lines.append(f"{provider}: {name}: - {field}: {before[field]}")
        for field in sorted(before.keys() & after.keys()):
            if before[field] != after[field]:
                lines.append(f"{provider}: {name}.{field}: {before[field]} -> {after[field]}")
    return lines
