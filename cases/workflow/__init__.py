"""The workflow registry: every case and dispatch action and every step of a case's trace,
declared once (docs/workflow.md is generated from it by `manage.py workflow_doc`).

The declarations live beside each other by domain: the village, the handling, the
committees, the closing of the loop; the consultation app adds its own from its AppConfig.
`cases.perform.perform` carries an action out; pages, the API and Open311 read their buttons,
routes and labels from here.
"""

# The declarations, in the order of the lifecycle (it is the order of the buttons).
from cases.workflow import (
    closing,  # noqa: F401
    committee,  # noqa: F401
    handling,  # noqa: F401
    village,  # noqa: F401
)
from cases.workflow.spec import CASE, DISPATCH, REGISTRY, Action, Effect, Notice, Step, Transition

__all__ = ["CASE", "DISPATCH", "REGISTRY", "Action", "Effect", "Notice", "Step", "Transition"]
