"""The OpenAPI 3 schema describes every endpoint: it validates without warnings, its docs pages
load only local assets, and schemathesis, generating requests from it against the app (WSGI),
finds no server error and no response that breaks it."""

import re
from datetime import timedelta

import pytest
import schemathesis
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from cases.models import Dispatch, Notification, Postponement
from cases.services import request_postponement
from consultation.services import call_consultation, plan_investigation
from tests.api.steps import filed, in_consultation
from tests.cases.engine_steps import accepted, in_progress, whistled
from tests.schema_modes import generation_modes
from tests.tokens import api_token


@pytest.mark.django_db  # the level enums are labelled with the deployment's level names
def test_the_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in (
        "/api/cases/{id}/accept/",
        "/api/cases/{id}/request-postponement/",
        "/api/dispatches/{id}/report-in/",
        "/api/postponements/{id}/decide/",
        "/api/notifications/read/",
        "/api/grids/",
        "/api/items/",
        "/api/consultations/{id}/minutes/",
        "/api/agenda-items/{id}/decide/",
        "/api/invitations/{id}/check-in/",
        "/api/investigations/{id}/record/",
        "/api/assessment/indicators/",
        "/api/assessment/cases/export/",
        "/api/town-evaluations/",
    ):
        assert f"  {path}:" in text
    assert "Idempotency-Key" in text


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_need_no_internet(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), html
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets and all(url.startswith("/static/") for url in assets), assets
    for url in assets:  # the sidecar's files are there to be served
        from django.contrib.staticfiles import finders

        assert finders.find(url.removeprefix("/static/")), url
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "Whistle API"


@pytest.fixture
def _keep_the_test_connection():
    """The WSGI handler closes the database connection after each request, which would end the
    test's transaction; the Django test client disconnects the same signals."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _load_schema():
    from whistle.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


# The rows each path's {id} may name, so that generated requests also reach real objects
# (a caller that made none of a kind gets none).
ID_SOURCES = {
    "cases": lambda ids: ids.get("cases", []),
    "dispatches": lambda ids: ids.get("dispatches", []),
    "postponements": lambda ids: ids.get("postponements", []),
    "consultations": lambda ids: ids.get("consultations", []),
    "agenda-items": lambda ids: ids.get("agenda_items", []),
    "invitations": lambda ids: ids.get("invitations", []),
    "investigations": lambda ids: ids.get("investigations", []),
}


@pytest.mark.django_db
@pytest.mark.usefixtures("_keep_the_test_connection")
def test_schemathesis_finds_no_server_error_and_no_broken_response(org):
    whistled(org)
    in_progress(org, description="Rubble on the road")
    in_consultation(org)
    filed(org, description="A broken lamp", latitude=30.502)
    case = accepted(org, description="Blocked drain", latitude=30.503)
    deadline = case.deadlines.get(stage="village_handling")
    request_postponement(
        user=org.village_officer,
        case_id=case.pk,
        deadline_id=deadline.pk,
        amount=1,
        unit="working_days",
        reason="Owner away",
    )
    assert Notification.objects.filter(recipient=org.town_committee).exists()
    consultation = call_consultation(
        user=org.town_committee,
        level="town",
        region_id=org.town.pk,
        scheduled_at=timezone.now() + timedelta(days=1),
        place="Town hall",
        case_ids=[in_consultation(org).pk],
        team_ids=[org.team.pk],
    )
    investigation = plan_investigation(
        user=org.town_committee,
        town_id=org.town.pk,
        place_name="Riverside market",
        grid_id=org.grid.pk,
        planned_for=timezone.now() + timedelta(days=2),
        team_id=org.team.pk,
        aspect_ids=[org.item.aspect_id],
    )
    ids = {
        "consultations": [consultation.pk],
        "agenda_items": list(consultation.agenda_items.values_list("pk", flat=True)),
        "invitations": list(consultation.invitations.values_list("pk", flat=True)),
        "investigations": [investigation.pk],
        "cases": _case_ids(),
        "dispatches": list(Dispatch.objects.values_list("pk", flat=True)),
        "postponements": list(Postponement.objects.values_list("pk", flat=True)),
    }
    keys = {
        "committee": api_token(org.town_committee),
        "grid_worker": api_token(org.grid_worker),
    }
    schema = _load_schema()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        segment = operation.path.split("/")[2]
        filing = operation.method.upper() == "POST" and operation.path == "/api/cases/"
        key = keys["grid_worker" if filing else "committee"]
        real_ids = ID_SOURCES.get(segment, lambda ids: [])(ids)
        for mode in generation_modes(operation):
            run = _runner(operation.as_strategy(generation_mode=mode), key, real_ids)
            try:
                run()
            except Exception as error:  # collected: one report for every operation
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {error}")
    assert operations >= 40
    assert not failures, "\n\n".join(failures)


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


def _runner(strategy, key: str, real_ids: list[int]):
    """A Hypothesis test of one operation: at most 10 requests, half of them (when the path
    names an object) on real rows, each response checked against the schema."""

    @given(case=strategy, data=st.data())
    @settings(
        max_examples=10,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case, data) -> None:
        if real_ids and "id" in (case.path_parameters or {}) and data.draw(st.booleans()):
            case.path_parameters["id"] = data.draw(st.sampled_from(real_ids))
        response = case.call(headers={"Authorization": f"Token {key}"})
        case.validate_response(response, checks=CHECKS)

    return run


def _case_ids() -> list[int]:
    from cases.models import Case

    return list(Case.objects.values_list("pk", flat=True))
