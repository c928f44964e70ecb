"""Shared fixtures: one Prism mock per provider spec for the whole session, and the
fake credentials every test uses (obviously fake: they must never look real)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from creditwatch import PROVIDERS as PROVIDERS  # the registry (specs/providers/*.yaml)  # noqa: PLC0414

from _prism import PrismServer, prism_servers

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
FAKE_KEY = "test-key-not-a-real-secret-0000"
FAKE_TOKEN = "test-jwt-not-a-real-secret-0000"


@pytest.fixture(scope="session")
def prism() -> Iterator[dict[str, PrismServer]]:
    """Prism serving each normalized spec (started once, in parallel): name -> server."""
    with prism_servers(*(SPECS / f"{name}.yaml" for name in PROVIDERS)) as servers:
        yield dict(zip(PROVIDERS, servers, strict=True))
