"""The workflow registry: every case and dispatch action and every step of a case's trace,
declared once (docs/workflow.md is generated from it by `manage.py workflow_doc`).

The declarations live beside each other by domain: the village, the handling, the
committees, the closing of the loop; the consultation app adds its own from its AppConfig.
`cases.perform.perform` carries an action out; pages, the API and Open311 read their buttons,
routes and labels from here.
"""

from importlib import import_module

from cases.workflow.spec import (
    CASE,
    DISPATCH,
    NEW,
    REGISTRY,
    Action,
    Effect,
    Notice,
    Step,
    Transition,
)

# The declarations, in the order of the lifecycle: it is the order of the buttons.
DOMAINS = (
    "village",
    "routing",
    "handling",
    "returns",
    "transfers",
    "committee",
    "longterm",
    "closing",
    "updates",
    "supervision",
    "support",
)
for _domain in DOMAINS:
    import_module(f"cases.workflow.{_domain}")

__all__ = [
    "CASE",
    "DISPATCH",
    "NEW",
    "REGISTRY",
    "Action",
    "Effect",
    "Notice",
    "Step",
    "Transition",
    "available_actions",
    "available_dispatch_actions",
    "case_action",
    "dispatch_action",
    "timeline_label",
    "tracking_label",
]


def case_action(name: str) -> Action | None:
    return REGISTRY.get(on=CASE, name=name)


def dispatch_action(name: str) -> Action | None:
    return REGISTRY.get(on=DISPATCH, name=name)


def available_actions(*, user, case) -> list[str]:
    """The case actions this user may take on this case now (the buttons; perform() checks
    the same guard)."""
    return REGISTRY.available(on=CASE, user=user, target=case)


def available_dispatch_actions(*, user, dispatch) -> list[str]:
    """The dispatch actions this user may take on this dispatch now."""
    return REGISTRY.available(on=DISPATCH, user=user, target=dispatch)


def timeline_label(code: str) -> str:
    """How a step reads on the case page's timeline, in the reader's language."""
    step = REGISTRY.steps.get(code)
    return str(step.timeline) if step is not None else code


def tracking_label(code: str) -> str | None:
    """How a public step reads for the citizen; None for a step that is never public."""
    step = REGISTRY.steps.get(code)
    return str(step.tracking) if step is not None and step.tracking is not None else None
