"""The llmgenerator models: every class generated from specs/llmgenerator.yaml, re-exported."""

from creditwatch._generated.llmgenerator.models import *  # noqa: F403
from creditwatch._generated.llmgenerator.models import __all__ as __all__  # noqa: PLC0414 - re-export
