"""The easyslip models: every class generated from specs/easyslip.yaml, re-exported."""

from creditwatch._generated.easyslip.models import *  # noqa: F403
from creditwatch._generated.easyslip.models import __all__ as __all__  # noqa: PLC0414 - re-export
