"""Reads of the checklist that filing and the timers make for every case, from the process's
copy of the reference data (core.reference): the rows change only when edited, and every
edit drops the copy."""

from django.db.models import Q

from checklists.models import Item, ReplyTemplate, ScreeningRule, TimeLimit
from core import reference

_ITEM_FIELDS = reference.fields_of(Item)
_LIMIT_FIELDS = reference.fields_of(TimeLimit)
_RULE_FIELDS = reference.fields_of(ScreeningRule)


def item_by_pk(*, pk: int) -> Item | None:
    """The item with this id, active or not; None when there is none."""

    def load() -> tuple | None:
        row = Item.objects.filter(pk=pk).values_list(*_ITEM_FIELDS).first()
        return tuple(row) if row is not None else None

    row = reference.cached(("item", pk), load)
    return reference.instance(Item, _ITEM_FIELDS, row) if row is not None else None


def time_limit(*, item_id: int, stage: str) -> TimeLimit | None:
    """The item's time limit for a stage; None when the item has none for it."""

    def load() -> dict[str, tuple]:
        rows = TimeLimit.objects.filter(item_id=item_id).values_list(*_LIMIT_FIELDS)
        stage_index = _LIMIT_FIELDS.index("stage")
        return {row[stage_index]: tuple(row) for row in rows}

    row = reference.cached(("time_limits", item_id), load).get(stage)
    return reference.instance(TimeLimit, _LIMIT_FIELDS, row) if row is not None else None


def active_screening_rules() -> list[ScreeningRule]:
    """The active screening rules, in their order (by code)."""

    def load() -> list[tuple]:
        return [
            tuple(row)
            for row in ScreeningRule.objects.filter(active=True).values_list(*_RULE_FIELDS)
        ]

    rows = reference.cached(("screening_rules",), load)
    return [reference.instance(ScreeningRule, _RULE_FIELDS, row) for row in rows]


def reply_templates(*, action: str, item_id: int | None) -> list[ReplyTemplate]:
    """The active reply templates of an action (a ReplyTemplate.Action) offered for a case of
    this item: its own and those for every item, in their order. Read when a form is shown,
    not kept in the process: administrators edit them while the forms are in use."""
    return list(
        ReplyTemplate.objects.filter(Q(item_id=item_id) | Q(item__isnull=True))
        .filter(action=action, active=True)
        .order_by("order", "code")
    )
