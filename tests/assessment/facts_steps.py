"""Helpers for the assessment tests: cases driven through the real services, with the facts
refreshed the way production refreshes them (the after-commit hook publishing the Celery task,
run eagerly here)."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from assessment.models import CaseFact, DispatchFact
from assessment.services import refresh_case_facts
from cases import sweep
from cases.models import Case

FACT_EXCLUDE = {"computed_at"}


@pytest.fixture
def eager_celery():
    from whistle.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


class Driver:
    """Runs service calls and lets their after-commit callbacks (the fact refresh) run."""

    def __init__(self, capture: Callable, time_machine) -> None:
        self.capture = capture
        self.time_machine = time_machine

    def __call__(self, function: Callable, **kwargs):
        with self.capture(execute=True):
            result = function(**kwargs)
        return result

    def filed(self, function: Callable, **kwargs) -> Case:
        """Filing writes its first event directly (no hook): refresh as the beat sweep would."""
        result = self(function, **kwargs)
        case = getattr(result, "case", result)
        refresh_case_facts(case_id=case.pk)
        return case

    def sweep_at(self, moment) -> int:
        self.time_machine.move_to(moment, tick=False)
        with self.capture(execute=True):
            return sweep.sweep(now=moment)

    def later(self, **delta: float) -> None:
        from django.utils import timezone

        self.time_machine.move_to(timezone.now() + timedelta(**delta), tick=False)


def snapshot() -> dict:
    def rows(model) -> list[dict]:
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in FACT_EXCLUDE]
        return list(model.objects.order_by("pk").values(*names))

    return {"cases": rows(CaseFact), "dispatches": rows(DispatchFact)}
