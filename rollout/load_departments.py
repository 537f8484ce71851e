"""The departments kind (work in progress)."""

from rollout.files import Column

COLUMNS: list[Column] = []
EXAMPLE: list = []


def load(*, source, report, progress) -> None:
    raise NotImplementedError


def dump() -> list:
    raise NotImplementedError
