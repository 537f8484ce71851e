"""The seven kinds of file and the module that loads and dumps each, in the order a county
imports them (each refers to what the kinds before it created; the level names come first so
that the messages of the others already say them)."""

from importlib import import_module
from types import ModuleType

KINDS = ("levels", "regions", "grids", "departments", "teams", "users", "memberships")
GEO_KINDS = frozenset({"regions", "grids"})


def loader(kind: str) -> ModuleType:
    """The module for `kind` (rollout.load_<kind>): COLUMNS, EXAMPLE, load(), dump()."""
    if kind not in KINDS:
        raise ValueError(kind)
    return import_module(f"rollout.load_{kind}")
