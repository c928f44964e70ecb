"""The generect models, generated from Generect's API description; each loads on first use."""

from typing import TYPE_CHECKING

from creditwatch._generated.generect import models as _models
from creditwatch._generated.generect.models import __all__ as __all__  # noqa: PLC0414 - re-export

if TYPE_CHECKING:
    from creditwatch._generated.generect.models import *  # noqa: F403
else:

    def __getattr__(name: str) -> object:
        return getattr(_models, name)


def __dir__() -> list[str]:
    return sorted(__all__)
