"""Optional dependencies: PostgreSQL (``frontdesk[postgres]``) and Redis (``frontdesk[redis]``).

They are imported only when a setting asks for them, so a SQLite, single-process server runs on
the base install; a setting that needs a missing one fails at start with what to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from frontdesk.errors import ConfigurationError


def import_extra(module: str, *, extra: str, wanted_by: str) -> ModuleType:
    """Import ``module``, installed by ``frontdesk[extra]``, for the setting ``wanted_by``.

    Raises ConfigurationError naming the extra to install when the module is missing.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigurationError(
            f"{wanted_by} needs the {module} package, which is not installed:"
            f" pip install 'frontdesk[{extra}]'"
        ) from None
