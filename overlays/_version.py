"""The version of creditwatch, written in this one place.

pyproject.toml reads it (``dynamic = ["version"]``, setuptools' ``attr:``), so the wheel's
metadata, ``creditwatch.__version__``, the User-Agent header and ``creditwatch --version``
all follow it. ``python scripts/generate.py --release`` bumps it.
"""

__version__ = "0.2.0"
