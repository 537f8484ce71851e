"""The six kinds of file and the module that loads and dumps each."""

from importlib import import_module
from types import ModuleType

KINDS = ("regions", "grids", "departments", "teams", "users", "memberships")
GEO_KINDS = frozenset({"regions", "grids"})


def loader(kind: str) -> ModuleType:
    """The module for `kind` (rollout.load_<kind>): COLUMNS, EXAMPLE, load(), dump()."""
    if kind not in KINDS:
        raise ValueError(kind)
    return import_module(f"rollout.load_{kind}")
