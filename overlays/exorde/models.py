"""The exorde models: every class generated from specs/exorde.yaml, re-exported."""

from creditwatch._generated.exorde.models import *  # noqa: F403
from creditwatch._generated.exorde.models import __all__ as __all__  # noqa: PLC0414 - re-export
