"""What an import did or would do: the rows it creates, changes and leaves, and every refusal."""

from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class RowError:
    """One refusal. `line` is the file's line as the user sees it (header = line 1) for a CSV or
    XLSX file; for GeoJSON it is None and `feature` is the feature's position in the
    FeatureCollection counting from 1, with `name` its name. `column` is the header (or the
    GeoJSON property) at fault, "" when the whole row or file is."""

    line: int | None
    column: str
    message: str
    feature: int | None = None
    name: str = ""

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(_("line %(line)d") % {"line": self.line})
        if self.feature is not None:
            if self.name:
                where.append(
                    _("feature %(index)d (%(name)s)") % {"index": self.feature, "name": self.name}
                )
            else:
                where.append(_("feature %(index)d") % {"index": self.feature})
        if self.column:
            where.append(_("column %(column)s") % {"column": self.column})
        if not where:
            return self.message
        return f"{', '.join(where)}: {self.message}"


@dataclass
class ImportReport:
    """The outcome of one file. Natural keys: region/grid/department/team code, username, and
    "username|role|place" for a membership. With errors nothing was written (ok is False);
    with dry_run nothing was written either and the lists say what a real run would do."""

    kind: str
    dry_run: bool
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types (a Celery result, an API answer); errors keep their fields and gain
        a "text" with the rendered message in the active language."""
        data = asdict(self)
        data["errors"] = [{**asdict(error), "text": str(error)} for error in self.errors]
        data["ok"] = self.ok
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ImportReport":
        fields = {"line", "column", "message", "feature", "name"}
        return cls(
            kind=data["kind"],
            dry_run=data["dry_run"],
            created=list(data.get("created", [])),
            changed=list(data.get("changed", [])),
            unchanged=list(data.get("unchanged", [])),
            errors=[
                RowError(**{key: value for key, value in error.items() if key in fields})
                for error in data.get("errors", [])
            ],
        )
