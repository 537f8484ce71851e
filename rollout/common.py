"""What every kind shares: reading a row's values with their checks, matching choices in
either language, and writing the outcome (all at once, or nothing in a dry run)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from rollout.files import Row, Table
from rollout.report import ImportReport, RowError
from teams.levels import LEVELS, TIERS, level_name

Progress = Callable[[int, int], None]  # (rows done, rows in all)
BATCH = 500
LIST_SEPARATOR = ";"
TRUE = {"1", "true", "yes", "y", "t", "是", "真", "启用", "有效"}
FALSE = {"0", "false", "no", "n", "f", "否", "假", "停用", "无效"}


class Problems:
    """The refusals of a table, each with its line and its column as the file names it."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.errors: list[RowError] = []

    def add(self, row: Row, name: str, message: str) -> None:
        self.errors.append(RowError(line=row.line, column=self.table.header(name), message=message))

    def text(self, row: Row, name: str, *, max_length: int, required: bool = False) -> str:
        value = row.values.get(name, "").strip()
        if required and not value:
            self.add(row, name, _("This value is required."))
        elif len(value) > max_length:
            self.add(
                row,
                name,
                _("Longer than %(limit)d characters.") % {"limit": max_length},
            )
        return value

    def codes(self, row: Row, name: str) -> list[str]:
        """A ";"-separated list (Chinese "；" and "," too), each code once, in order."""
        raw = row.values.get(name, "")
        for separator in ("；", ",", "，"):
            raw = raw.replace(separator, LIST_SEPARATOR)
        found: list[str] = []
        for code in (part.strip() for part in raw.split(LIST_SEPARATOR)):
            if code and code not in found:
                found.append(code)
        return found

    def choice(
        self, row: Row, name: str, choices: type[models.TextChoices], *, required: bool = True
    ) -> str | None:
        """A choice by its code or its label in English or Chinese."""
        value = row.values.get(name, "").strip()
        if not value:
            if required:
                self.add(row, name, _("This value is required."))
            return "" if not required else None
        found = match_choice(value, choices)
        if found is None:
            self.add(
                row,
                name,
                _("Unknown value %(value)s; choose among %(choices)s.")
                % {"value": value, "choices": ", ".join(choices.values)},
            )
        return found

    def boolean(self, row: Row, name: str, *, default: bool) -> bool:
        value = row.values.get(name, "").strip().lower()
        if not value:
            return default
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        self.add(row, name, _("Write true or false (1 or 0)."))
        return default


def match_choice(value: str, choices: type[models.TextChoices]) -> str | None:
    lowered = value.strip().lower()
    for code in choices.values:
        if lowered == code.lower():
            return code
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for code, label in choices.choices:
                if lowered == str(label).strip().lower():
                    return code
    return None


def tier_values(*, with_prefecture: bool = True) -> str:
    """The tier values a file writes (prefecture, city, town, village), each followed by what
    the deployment calls it in the active language where that is another word: "town
    (street)"."""
    return ", ".join(
        level if level_name(level) == level else f"{level} ({level_name(level)})"
        for level in (TIERS if with_prefecture else LEVELS)
    )


def first_lines(table: Table, problems: Problems, key: Callable[[Row], Any], column: str) -> None:
    """Refuse a natural key given twice, naming the line it first appeared on."""
    seen: dict[Any, int] = {}
    for row in table.rows:
        value = key(row)
        if not value:
            continue
        if value in seen:
            problems.add(
                row,
                column,
                _("%(key)s appears twice: already on line %(line)d.")
                % {"key": _key_text(value), "line": seen[value]},
            )
        else:
            seen[value] = row.line


def _key_text(value: Any) -> str:
    return " / ".join(value) if isinstance(value, tuple) else str(value)


@dataclass
class Plan:
    """What a file would do: rows to create and rows to update (with the fields changed), by
    natural key, and a writer that applies them."""

    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def finish(
    *,
    report: ImportReport,
    errors: list[RowError],
    plan: Plan,
    write: Callable[[], None],
    progress: Progress,
) -> None:
    """Refuse on any error; else report the plan, and write it unless it is a dry run."""
    if errors:
        # In the file's order, whichever check found them.
        report.errors.extend(sorted(errors, key=lambda e: (e.line or 0, e.feature or 0)))
        return
    total = len(plan.created) + len(plan.changed) + len(plan.unchanged)
    progress(0, total)  # checked: the writes follow
    if not report.dry_run and (plan.created or plan.changed):
        with transaction.atomic():
            write()
    report.created, report.changed, report.unchanged = plan.created, plan.changed, plan.unchanged
    progress(total, total)


def batches(items: list, size: int = BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def differs(instance: models.Model, values: dict[str, Any]) -> list[str]:
    """The fields whose new value differs from the instance's."""
    return [name for name, value in values.items() if getattr(instance, name) != value]
