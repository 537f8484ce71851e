"""Write docs/workflow.md from the workflow registry, or check that it is current.

manage.py workflow_doc            # rewrite docs/workflow.md
manage.py workflow_doc --check    # exit 1 when docs/workflow.md differs (CI)
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from cases.models import Level, Status
from cases.workflow import CASE, DISPATCH, REGISTRY, Action, Step

DOC = Path(settings.BASE_DIR) / "docs" / "workflow.md"

INTRO = """# Workflow

Generated from the workflow registry (`cases/workflow/`) by `manage.py workflow_doc`; CI fails
when this file and the registry disagree (`manage.py workflow_doc --check`). Do not edit it by
hand: change the declaration and run the command. How the registry, `perform()` and the clocks
fit together is in docs/architecture.md.

## Lifecycle

A whistle is filed at the village, screened there (accepted, rejected or merged), solved on
the spot or whistled up to the town; the town's teams and the departments report in and handle
it; what they cannot settle goes to the town committee's consultation and may climb to the
city committee; a resolved case is verified on site, closed and evaluated. A committee may
suspend a long-term case (挂账) and resume it; the town may reopen a rejected or closed case.
A team or department may return (退回) a dispatch that is not its own before its report-in
limit; the committee then rules on the return and dispatches again within the re-dispatch limit.
Every change is an action below, carried out by `cases.perform.perform`, which writes one or
more steps (events) into the case's append-only trace.
"""


def _words(value: object) -> str:
    return str(value).replace("|", "\\|") if value not in (None, "") else ""


def _statuses(values: frozenset[str] | None) -> str:
    if not values:
        return ""
    order = list(Status.values)
    return ", ".join(f"`{v}`" for v in sorted(values, key=order.index))


def _move(step: Step) -> str:
    move = step.moves
    if move is None:
        return "no status change"
    target = f"`{move.target}`" if move.target else "chosen by the action"
    text = f"{_statuses(move.sources)} → {target}"
    if move.level:
        text += f", level → `{move.level}`"
    if move.from_levels:
        text += f" (only at {', '.join(f'`{lvl}`' for lvl in sorted(move.from_levels))})"
    return text


def _who(action: Action) -> str:
    doc = " ".join((action.who.__doc__ or "").split())
    return f"`{action.who.__name__}`" + (f": {doc}" if doc else "")


def _when(action: Action) -> str:
    name = getattr(action.when, "__name__", "")
    return "" if name in ("_always", "") else f"`{name}`"


def render() -> str:
    with translation.override("en"):
        english = _render_tables()
    return INTRO + english


def _render_tables() -> str:
    lines = ["", "## Statuses and levels", ""]
    lines.append("| status | meaning |")
    lines.append("|---|---|")
    for value, label in Status.choices:
        lines.append(f"| `{value}` | {label} |")
    lines += ["", "Levels: " + ", ".join(f"`{v}` ({label})" for v, label in Level.choices) + "."]
    for on, title in ((CASE, "Case actions"), (DISPATCH, "Dispatch actions")):
        lines += ["", f"## {title}", ""]
        lines.append(
            "| action | button (en / zh) | who may (403 otherwise) | state rule (409) "
            "| steps written | form / API serializer |"
        )
        lines.append("|---|---|---|---|---|---|")
        for action in REGISTRY.of(on):
            with translation.override("zh-hans"):
                chinese = str(action.button)
            lines.append(
                f"| `{action.name}` | {_words(action.button)} / {chinese} | {_words(_who(action))} "
                f"| {_when(action)} | {', '.join(f'`{c}`' for c in action.steps)} "
                f"| `{action.form.rsplit('.', 1)[-1]}` / "
                f"`{action.serializer.rsplit('.', 1)[-1]}` |"
            )
    lines += ["", "## Steps (the events of the trace)", ""]
    lines.append(
        "| step | status move | timeline / citizen tracking | clocks | who is told "
        "| what the assessment reads |"
    )
    lines.append("|---|---|---|---|---|---|")
    for step in REGISTRY.steps.values():
        tracking = _words(step.tracking) if step.tracking is not None else "(internal)"
        clocks = "; ".join(effect.describe() for effect in step.effects)
        if step.changes_board:
            clocks = (clocks + "; " if clocks else "") + "the boards' copy follows"
        notices = "; ".join(f"`{n.kind}` to {n.who}" for n in step.notices)
        lines.append(
            f"| `{step.code}` | {_move(step)} | {_words(step.timeline)} / {tracking} "
            f"| {clocks} | {notices} | {_words(step.assessment)} |"
        )
    lines.append("")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Write docs/workflow.md from the workflow registry (--check: fail when it differs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Only check; exit 1 on drift.")

    def handle(self, *args: object, **options: object) -> None:
        text = render()
        if options["check"]:
            current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
            if current != text:
                raise CommandError(
                    "docs/workflow.md differs from the registry: run manage.py workflow_doc"
                )
            self.stdout.write("docs/workflow.md is current.")
            return
        DOC.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {DOC.relative_to(settings.BASE_DIR)}.")
