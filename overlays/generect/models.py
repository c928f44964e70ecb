"""The generect models: every class generated from specs/generect.yaml, re-exported."""

from creditwatch._generated.generect.models import *  # noqa: F403
from creditwatch._generated.generect.models import __all__ as __all__  # noqa: PLC0414 - re-export
