"""The flamel models: every class generated from specs/flamel.yaml, re-exported."""

from creditwatch._generated.flamel.models import *  # noqa: F403
from creditwatch._generated.flamel.models import __all__ as __all__  # noqa: PLC0414 - re-export
