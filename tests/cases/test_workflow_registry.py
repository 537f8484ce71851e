"""The workflow registry: every declared action and step is complete (labels in both languages,
a permission-matrix row, an API route and its OpenAPI entry), every event code the product
writes is declared, and an action declared in a test alone shows on the case page, in the
API and on the timeline."""

import importlib
import re
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, clear_url_caches, reverse
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

from cases import notifications
from cases.api import views as api_views
from cases.models import Event
from cases.perform import Context
from cases.workflow import CASE, DISPATCH, NEW, REGISTRY, Action, Step, guards
from tests.api.conftest import client_for
from tests.cases.test_pages_detail import accepted
from tests.security.test_permission_matrix import EXPECTATIONS, TARGETS

# The labels name the deployment's levels (teams.levels), read from the database.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ["cases", "consultation", "assessment", "teams", "checklists", "core", "whistle"]
HAN = re.compile(r"[\u4e00-\u9fff]")


def chinese(label: object) -> bool:
    with translation.override("zh-hans"):
        return bool(HAN.search(str(label)))


def api_route(action: Action) -> str:
    if action.on == NEW:  # filing: the API's create
        return "api:case-list"
    return f"api:{'case' if action.on == CASE else 'dispatch'}-{action.url_name}"


def operation_id(action: Action) -> str:
    if action.on == NEW:
        return "cases_create"
    return f"{'cases' if action.on == CASE else 'dispatches'}_{action.name}"


def actions() -> list[Action]:
    return list(REGISTRY.actions.values())


@pytest.mark.parametrize("action", actions(), ids=lambda a: f"{a.on}:{a.name}")
def test_every_action_is_declared_whole(action):
    assert chinese(action.button), f"{action.name}: button not translated"
    assert chinese(action.done), f"{action.name}: done message not translated"
    for message in (action.refusal, action.forbidden):
        assert message is None or chinese(message), f"{action.name}: message not translated"
    assert action.summary.strip()
    assert callable(action.service)
    assert action.form_class.__name__.endswith("Form")
    assert action.serializer_class.__name__.endswith("Serializer")
    assert action.steps and all(code in REGISTRY.steps for code in action.steps)
    if action.on == NEW:
        assert reverse("cases:file")
        assert reverse(api_route(action))
    else:
        page = "cases:act" if action.on == CASE else "cases:dispatch_act"
        assert reverse(page, args=[1, action.name])
        assert reverse(api_route(action), args=[1])
    assert api_route(action) in TARGETS, f"{api_route(action)}: no permission-matrix target"
    assert api_route(action) in EXPECTATIONS, f"{api_route(action)}: no permission-matrix row"


@pytest.mark.parametrize("step", list(REGISTRY.steps.values()), ids=lambda s: s.code)
def test_every_step_reads_in_both_languages(step):
    assert str(step.timeline) and chinese(step.timeline), f"{step.code}: timeline label"
    if step.public:
        assert step.tracking is not None, f"{step.code}: public without a tracking label"
    if step.tracking is not None:
        assert chinese(step.tracking), f"{step.code}: tracking label not translated"
    for notice in step.notices:
        assert notice.kind in notifications.KINDS, f"{step.code}: unknown notice {notice.kind}"
        assert notice.who


def test_every_action_has_an_openapi_entry():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        operation["operationId"]
        for methods in schema["paths"].values()
        for operation in methods.values()
    }
    for action in actions():
        assert operation_id(action) in operations, action.name


WRITES = re.compile(
    r"""(?:apply_transition|record_event)\(\s*(?:[^()]*?)action="(\w+)"|"""
    r"""\.write\(\s*"(\w+)"|Event\.objects\.create\([^)]*?action="(\w+)\"""",
    re.S,
)


def test_every_event_code_written_is_a_declared_step():
    """A code written without a declaration would show raw on the timeline (as `close`,
    `consultation_called` and `investigation_finding` once did)."""
    written = set()
    for app in PRODUCT:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for match in WRITES.finditer(path.read_text(encoding="utf-8")):
                written.add(next(code for code in match.groups() if code))
    assert written, "the scan found no event written at all"
    assert written <= set(REGISTRY.steps), sorted(written - set(REGISTRY.steps))


def test_the_status_table_is_the_registry():
    from cases.transitions import TRANSITIONS

    moving = {code for code, step in REGISTRY.steps.items() if step.moves}
    assert set(TRANSITIONS) == moving
    assert "close" in TRANSITIONS  # declared by the consultation app


# An action declared here and nowhere else.


def run_flag(ctx: Context) -> object:
    ctx.write("flagged", data={"note": "flagged by a test"})
    return ctx.case


@pytest.fixture
def flag_action():
    REGISTRY.step(Step("flagged", timeline="flagged for the test", board=False))
    action = REGISTRY.action(
        Action(
            name="flag_for_test",
            on=CASE,
            steps=("flagged",),
            button="Flag for the test",
            done="Flagged.",
            summary="Flag a case (a test's own action)",
            who=guards.town_committee,
            run="tests.cases.test_workflow_registry.run_flag",
            form="cases.forms_detail.AcceptForm",
            serializer="cases.api.serializers.VersionSerializer",
        )
    )
    _reload_api()
    yield action
    REGISTRY.unregister(action="flag_for_test", step="flagged")
    delattr(api_views.CaseViewSet, "flag_for_test")
    _reload_api()


def _reload_api() -> None:
    """What loading the project does: the viewsets take the registry's actions, the router
    and the URL conf are built again."""
    api_views.add_action_routes(api_views.CaseViewSet, CASE)
    api_views.add_action_routes(api_views.DispatchViewSet, DISPATCH)
    import whistle.api_urls
    import whistle.urls

    importlib.reload(whistle.api_urls)
    importlib.reload(whistle.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_an_action_declared_in_a_test_alone_is_on_the_page_in_the_api_and_timeline(
    client, org, flag_action
):
    case = accepted(org)
    client.force_login(org.town_committee)
    detail = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("cases:act", args=[case.pk, "flag_for_test"]) in detail
    assert "Flag for the test" in detail

    page = client.post(
        reverse("cases:act", args=[case.pk, "flag_for_test"]), {"version": case.version}
    )
    assert page.status_code == 302, page.content.decode()[:500]
    assert Event.objects.filter(case=case, action="flagged").count() == 1

    response = client_for(org.town_committee).post(
        f"/api/cases/{case.pk}/flag-for-test/", {"version": case.version + 1}, format="json"
    )
    assert response.status_code == 200, response.content
    assert Event.objects.filter(case=case, action="flagged").count() == 2
    timeline = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert timeline.count("flagged for the test") == 2

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "/api/cases/{id}/flag-for-test/" in schema["paths"]

    # Outside the guard: the village officer may see the case but not take the action.
    village = client_for(org.village_officer).post(
        f"/api/cases/{case.pk}/flag-for-test/", {"version": case.version + 2}, format="json"
    )
    assert village.status_code == 403


def test_a_route_goes_with_its_declaration(flag_action):
    assert reverse("api:case-flag-for-test", args=[1])
    REGISTRY.unregister(action="flag_for_test", step="flagged")
    assert REGISTRY.get(on=CASE, name="flag_for_test") is None
    with pytest.raises(ValueError, match="undeclared steps"):
        REGISTRY.action(
            Action(
                name="broken",
                on=CASE,
                steps=("nowhere",),
                button="x",
                done="x",
                summary="x",
                who=guards.town_committee,
                run="x.y",
                form="x.y",
                serializer="x.y",
            )
        )
    # Put it back for the fixture's clean-up.
    REGISTRY.step(Step("flagged", timeline="flagged for the test"))
    REGISTRY.action(flag_action)
    with pytest.raises(NoReverseMatch):
        reverse("api:case-not-declared", args=[1])


def test_docs_workflow_is_generated_from_the_registry():
    """docs/workflow.md never drifts from the declarations (manage.py workflow_doc)."""
    from django.core.management import call_command

    call_command("workflow_doc", "--check")


@pytest.mark.django_db
def test_a_captains_buttons_cost_one_query_whatever_the_actions(org):
    """Several actions ask whether the user captains the case (resolve, consultation,
    postponement): the case page's guards ask the database once, as before the registry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases.models import Case
    from cases.workflow import available_actions
    from tests.cases.test_pages_detail import in_progress

    case = Case.objects.get(pk=in_progress(org).pk)
    org.captain.refresh_from_db()
    available_actions(user=org.captain, case=Case.objects.get(pk=case.pk))  # warm the scope
    fresh = Case.objects.get(pk=case.pk)
    with CaptureQueriesContext(connection) as queries:
        actions = available_actions(user=org.captain, case=fresh)
    assert {"resolve", "request_consultation", "request_postponement"} <= set(actions)
    assert len(queries) == 1, [q["sql"] for q in queries]
