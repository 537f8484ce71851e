"""Every URL of the project, asked by every role about an object inside and outside its scope.

The URL list comes from the URL conf itself, so a new URL without a row in EXPECTATIONS fails
the test. Each row gives the status per role, in the order of ROLES:

    grid_worker village_officer captain member liaison town_committee city_committee
    supervisor anonymous

"L" is a redirect to the sign-in page. Outside its scope an object does not exist (404);
inside it, a role that may not act gets 403 (docs/architecture.md). Pages are asked with a
signed-in session, the API with the user's token. Every request runs in a savepoint that is
rolled back, so no request changes what the next one sees, and the whole matrix is one test
that lists every mismatch at once.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases.open311.public import public_attachment_token
from tests.cases.conftest import org
from tests.policylab.scenario import replay_of, scenario_of
from tests.security.scenario import ROLES, SHAPES, Objects, build_objects, build_org
from tests.spotchecks.scenario import drawn_case_of, spot_check_of
from tests.tokens import api_token

__all__ = ["org"]

pytestmark = pytest.mark.django_db

# Left out of the matrix, with the reason.
SKIPPED = {
    "admin": "the Django admin: staff only, guarded by Django's own admin views",
    "set_language": "Django's language switch: no object, no role; a redirect for everyone",
}


# URLs after which the clients must sign in again.
SESSION_ENDING = {"logout", "sign_out_everywhere"}


@dataclass(frozen=True)
class Target:
    """How to ask one URL: the method, its arguments from the objects, and whether the
    arguments name an object that has an inside and an outside."""

    method: str = "GET"
    args: object = None  # Objects -> dict of URL kwargs
    query: str = ""
    body: object = None  # Objects -> the request's body (JSON for the API)
    scoped: bool = False


def _case(o: Objects) -> dict:
    return {"pk": o.case.pk}


def _dispatch(o: Objects) -> dict:
    return {"pk": o.dispatch.pk}


def _postponement(o: Objects) -> dict:
    return {"pk": o.postponement.pk}


def _consultation(o: Objects) -> dict:
    return {"pk": o.consultation.pk}


def _invitation(o: Objects) -> dict:
    return {"pk": o.invitation.pk}


def case_get() -> Target:
    return Target(args=_case, scoped=True)


def case_post() -> Target:
    return Target(method="POST", args=_case, scoped=True)


def dispatch_post() -> Target:
    return Target(method="POST", args=_dispatch, scoped=True)


def api_id(getter) -> Target:
    return Target(args=lambda o: {"pk": getter(o)}, scoped=True)


def page() -> Target:
    return Target()


J = {"fmt": "json"}

TARGETS: dict[str, Target] = {
    # --- pages of the teams app ---
    "home": page(),
    "login": page(),
    "logout": Target(method="POST"),
    "sign_out_everywhere": Target(method="POST"),
    "tokens": page(),
    "my_alerts": page(),
    # the installable app: the browser fetches both on its own, signed in or not
    "manifest": page(),
    "service_worker": page(),
    # the operations endpoints (whistle.health): for machines, the same to every role
    "healthz": page(),
    "readyz": page(),
    "metrics": page(),
    # one's own Web Push subscription (tests/teams/test_push_subscriptions.py); the matrix's
    # form body is not the JSON subscription: refused with its message, nothing stored
    "push_subscribe": Target(method="POST"),
    "push_unsubscribe": Target(method="POST"),
    # one's own second factor (tests/teams/test_two_factor.py tests it switched on)
    "two_factor": page(),
    "two_factor_verify": page(),
    "two_factor_enrol": page(),
    "track": page(),
    # the scenario's attachment is the whistle's own photo: internal, so not found by anyone
    "track_attachment": Target(
        args=lambda o: {"token": public_attachment_token(attachment_id=o.attachment.pk)}
    ),
    # --- filing, lists, board ---
    "cases:file": page(),
    "cases:grids_geojson": page(),
    "cases:nearby": page(),
    "cases:mine": page(),
    "cases:village_inbox": page(),
    "cases:board": page(),
    # bulk actions: the rows are in the body, each checked on its own (tests/cases/test_bulk_*)
    "cases:bulk": Target(method="POST"),
    "cases:dispatch_bulk": Target(method="POST"),
    "cases:command": page(),
    "cases:supervision": page(),
    "cases:suspended": page(),
    "cases:list": page(),
    "cases:notifications": page(),
    "cases:unread_count": page(),
    "cases:notifications_read": Target(method="POST"),
    # --- one case ---
    "cases:detail": case_get(),
    "cases:receipt": case_get(),
    # suspend: the town committee may (its empty form is refused with 400), nobody else
    "cases:act": Target(
        method="POST", args=lambda o: {"pk": o.case.pk, "action": "suspend"}, scoped=True
    ),
    # cancel: the town committee may cancel a reported dispatch
    "cases:dispatch_act": Target(
        method="POST", args=lambda o: {"pk": o.dispatch.pk, "action": "cancel"}, scoped=True
    ),
    "cases:postponement_decide": Target(method="POST", args=_postponement, scoped=True),
    "cases:attachment": Target(args=lambda o: {"pk": o.attachment.pk}, scoped=True),
    # --- consultation ---
    "consultation:queue": page(),
    "consultation:call": page(),
    "consultation:mine": page(),
    "consultation:detail": Target(args=_consultation, scoped=True),
    "consultation:minutes": Target(method="POST", args=_consultation, scoped=True),
    "consultation:print": Target(args=_consultation, scoped=True),
    "consultation:archive": Target(method="POST", args=_consultation, scoped=True),
    "consultation:confirm_attendance": Target(method="POST", args=_consultation, scoped=True),
    "consultation:decide": Target(args=lambda o: {"pk": o.agenda_item.pk}, scoped=True),
    "consultation:confirm": Target(method="POST", args=_invitation, scoped=True),
    "consultation:check_in": Target(method="POST", args=_invitation, scoped=True),
    "consultation:hotspots": page(),
    "consultation:hotspots_redirect": page(),
    "consultation:investigations": page(),
    "consultation:plan_investigation": page(),
    "consultation:investigation": Target(args=lambda o: {"pk": o.investigation.pk}, scoped=True),
    # --- assessment ---
    "assessment:overview": page(),
    "assessment:rankings": page(),
    "assessment:unit": Target(
        args=lambda o: {"unit_type": "village", "unit_id": o.org.village.pk}, scoped=True
    ),
    "assessment:cases": page(),
    "assessment:hotspots": page(),
    "assessment:evaluate": page(),
    "assessment:corrections": page(),
    "assessment:report": page(),
    # --- Open311: public by design, per city (jurisdiction_id) ---
    "open311-services": Target(args=lambda o: J, query="jurisdiction_id={city}"),
    "open311-service-definition": Target(
        args=lambda o: {**J, "service_code": o.org.item.code}, query="jurisdiction_id={city}"
    ),
    "open311-requests": Target(args=lambda o: J, query="jurisdiction_id={city}"),
    "open311-request": Target(
        args=lambda o: {**J, "service_request_id": o.case.number},
        query="jurisdiction_id={city}",
        scoped=True,
    ),
    "open311-token": Target(
        args=lambda o: {**J, "token_id": o.open311_token}, query="jurisdiction_id={city}"
    ),
    # a caller's "me too": only a client system with its api_key (none here) may post it
    "open311-support": Target(
        method="POST", args=lambda o: {**J, "service_request_id": o.case.number}
    ),
    # --- API documentation ---
    "api-schema": page(),
    "api-docs": page(),
    "api-redoc": page(),
    # --- REST API (token authentication) ---
    "api:api-root": page(),
    "api:region-list": page(),
    "api:region-detail": api_id(lambda o: o.org.village.pk),
    "api:grid-list": page(),
    "api:grid-detail": api_id(lambda o: o.org.grid.pk),
    "api:department-list": page(),
    "api:department-detail": api_id(lambda o: o.org.department.pk),
    "api:team-list": page(),
    "api:team-detail": api_id(lambda o: o.org.team.pk),
    "api:aspect-list": page(),
    "api:aspect-detail": Target(args=lambda o: {"pk": o.org.item.aspect_id}),
    "api:item-list": page(),
    "api:item-detail": Target(args=lambda o: {"pk": o.org.item.pk}),
    "api:case-list": page(),
    "api:case-detail": case_get(),
    "api:case-events": case_get(),
    "api:case-accept": case_post(),
    "api:case-bulk": Target(method="POST"),
    "api:dispatch-bulk": Target(method="POST"),
    "api:case-add-dispatch": case_post(),
    "api:case-close": case_post(),
    "api:case-decide": case_post(),
    "api:case-escalate": case_post(),
    "api:case-escalate-to-prefecture": case_post(),
    "api:case-evaluate": case_post(),
    "api:case-merge": case_post(),
    "api:case-reject": case_post(),
    "api:case-reopen": case_post(),
    "api:case-post-update": Target(
        method="POST",
        args=_case,
        scoped=True,
        body=lambda o: {"version": o.case.version, "message": "The road reopens on Friday."},
    ),
    "api:case-publish-photo": Target(
        method="POST",
        args=_case,
        scoped=True,
        body=lambda o: {"version": o.case.version, "attachment": o.attachment.pk, "public": True},
    ),
    "api:case-publish-case": Target(
        method="POST",
        args=_case,
        scoped=True,
        body=lambda o: {"version": o.case.version, "public": True},
    ),
    "api:case-request-consultation": case_post(),
    "api:case-request-postponement": case_post(),
    # valid bodies, so that the roles decide (long-term cases, 挂账): the handlers ask, the
    # committee at the case's level decides and sets a new review date
    "api:case-request-suspension": Target(
        method="POST",
        args=_case,
        scoped=True,
        body=lambda o: {
            "version": o.case.version,
            "reason": "Waiting for the court",
            "review_on": str(timezone.localdate() + timedelta(days=30)),
        },
    ),
    "api:case-review-suspension": Target(
        method="POST",
        args=_case,
        scoped=True,
        body=lambda o: {"version": o.case.version, "approve": True},
    ),
    "api:case-reschedule-review": Target(
        method="POST",
        args=_case,
        scoped=True,
        body=lambda o: {
            "version": o.case.version,
            "review_on": str(timezone.localdate() + timedelta(days=30)),
        },
    ),
    "api:case-resolve": case_post(),
    "api:case-resolve-on-spot": case_post(),
    "api:case-resume": case_post(),
    # a valid body, so that the roles decide: the town committee suspends, nobody else may
    "api:case-suspend": Target(
        method="POST",
        args=_case,
        scoped=True,
        body=lambda o: {
            "version": o.case.version,
            "reason": "Waiting for the court",
            "review_on": str(timezone.localdate() + timedelta(days=30)),
        },
    ),
    # a valid body, so that the roles decide: a grid worker of the case's grid who did not
    # whistle it; the scenario's grid worker whistled it (403), nobody else may
    "api:case-support": Target(
        method="POST",
        args=_case,
        scoped=True,
        body=lambda o: {"version": o.case.version, "note": "Me too"},
    ),
    # a valid body, so that the roles decide: the town and city committees move the case to
    # the other village of its town, nobody else may
    "api:case-transfer": Target(
        method="POST",
        args=_case,
        scoped=True,
        body=lambda o: {
            "version": o.case.version,
            "village": o.org.other_village.pk,
            "reason": "Filed in the wrong village",
        },
    ),
    "api:case-verify": case_post(),
    "api:case-whistle": case_post(),
    "api:dispatch-list": page(),
    "api:dispatch-detail": api_id(lambda o: o.dispatch.pk),
    "api:dispatch-assign": dispatch_post(),
    "api:dispatch-cancel": dispatch_post(),
    "api:dispatch-handle": dispatch_post(),
    "api:dispatch-report-in": dispatch_post(),
    "api:dispatch-resolve-part": dispatch_post(),
    "api:dispatch-return-dispatch": dispatch_post(),
    "api:dispatch-review-return": dispatch_post(),
    # a well-formed body, so that the roles decide: the town committee may move the dispatch,
    # but the department named is already on the case (400); nobody else may (403)
    "api:dispatch-transfer-dispatch": Target(
        method="POST",
        args=_dispatch,
        scoped=True,
        body=lambda o: {
            "version": o.case.version,
            "department": o.org.department.pk,
            "reason": "Routed to the wrong unit",
        },
    ),
    # a valid body, so that the roles decide: the committees and the supervisor may press a late
    # unit, nobody else; the dispatch is on time (409)
    "api:dispatch-supervise": Target(
        method="POST",
        args=_dispatch,
        scoped=True,
        body=lambda o: {
            "version": o.case.version,
            "note": "Solve it this week",
            "due_at": (timezone.now() + timedelta(days=3)).isoformat(),
        },
    ),
    "api:dispatch-urge": Target(
        method="POST",
        args=_dispatch,
        scoped=True,
        body=lambda o: {"version": o.case.version, "note": "Report in now"},
    ),
    "api:postponement-decide": Target(method="POST", args=_postponement, scoped=True),
    "api:notification-list": page(),
    "api:me-alerts": page(),
    "api:notification-read": Target(method="POST"),
    "api:consultation-list": page(),
    "api:consultation-detail": Target(args=_consultation, scoped=True),
    "api:consultation-minutes": Target(method="POST", args=_consultation, scoped=True),
    "api:consultation-archive": Target(method="POST", args=_consultation, scoped=True),
    "api:consultation-confirm-attendance": Target(method="POST", args=_consultation, scoped=True),
    "api:agenda-item-decide": Target(
        method="POST", args=lambda o: {"pk": o.agenda_item.pk}, scoped=True
    ),
    "api:invitation-confirm": Target(method="POST", args=_invitation, scoped=True),
    "api:invitation-check-in": Target(method="POST", args=_invitation, scoped=True),
    "api:investigation-list": page(),
    "api:investigation-detail": api_id(lambda o: o.investigation.pk),
    "api:investigation-record": Target(
        method="POST", args=lambda o: {"pk": o.investigation.pk}, scoped=True
    ),
    "api:assessment-indicators": page(),
    "api:assessment-indicators-export": page(),
    "api:assessment-rankings": page(),
    "api:assessment-rankings-export": page(),
    "api:assessment-cases": Target(query="indicator=closure_rate&part=denominator"),
    "api:assessment-cases-export": Target(query="indicator=closure_rate&part=denominator"),
    "api:assessment-overdue": page(),
    "api:assessment-hot-spots": page(),
    "api:assessment-hot-spots-export": page(),
    "api:town-evaluation-list": page(),
    # --- the access audit: the auditor's search (and its export, ?format=csv) ---
    "audit:search": page(),
    # --- spot checks (抽查): a draw of one closed case, waiting for its revisit ---
    "spotchecks:list": page(),
    "spotchecks:detail": Target(args=lambda o: {"pk": spot_check_of(o).pk}, scoped=True),
    "api:spot-check-list": page(),
    "api:spot-check-detail": api_id(lambda o: spot_check_of(o).pk),
    # a valid body, so that the roles decide: the city's supervisor records it, nobody else
    "api:case-record-spot-check": Target(
        method="POST",
        args=lambda o: {"pk": drawn_case_of(o).pk},
        scoped=True,
        body=lambda o: {"version": drawn_case_of(o).version, "outcome": "confirmed"},
    ),
    # --- the policy lab: a scenario of the city and a finished replay of this month ---
    "policylab:index": page(),
    "policylab:scenario_new": Target(method="POST"),
    "policylab:scenario": Target(args=lambda o: {"pk": scenario_of(o).pk}, scoped=True),
    "policylab:scenario_delete": Target(
        method="POST", args=lambda o: {"pk": scenario_of(o).pk}, scoped=True
    ),
    "policylab:replay_new": Target(args=lambda o: {"pk": scenario_of(o).pk}, scoped=True),
    "policylab:replay": Target(args=lambda o: {"pk": replay_of(o).pk}, scoped=True),
    "policylab:replay_progress": Target(args=lambda o: {"pk": replay_of(o).pk}, scoped=True),
    "policylab:replay_cancel": Target(
        method="POST", args=lambda o: {"pk": replay_of(o).pk}, scoped=True
    ),
    "policylab:replay_rename": Target(
        method="POST", args=lambda o: {"pk": replay_of(o).pk}, scoped=True
    ),
    "policylab:replay_delete": Target(
        method="POST", args=lambda o: {"pk": replay_of(o).pk}, scoped=True
    ),
    "policylab:compare": page(),
    "policylab:compare_export": page(),
    "policylab:compare_print": page(),
    "policylab:replay_cases": Target(
        args=lambda o: {"pk": replay_of(o).pk},
        scoped=True,
        query="indicator=closure_rate&part=denominator&side=scenario",
    ),
    "policylab:replay_changed": Target(args=lambda o: {"pk": replay_of(o).pk}, scoped=True),
    "api:lab-scenario-list": page(),
    "api:lab-scenario-detail": api_id(lambda o: scenario_of(o).pk),
    "api:lab-replay-list": page(),
    "api:lab-replay-detail": api_id(lambda o: replay_of(o).pk),
    "api:lab-replay-cancel": Target(
        method="POST", args=lambda o: {"pk": replay_of(o).pk}, scoped=True
    ),
    "api:lab-replay-cases": Target(
        args=lambda o: {"pk": replay_of(o).pk},
        scoped=True,
        query="indicator=closure_rate&part=denominator&side=scenario",
    ),
    "api:lab-replay-changed": api_id(lambda o: replay_of(o).pk),
    "api:lab-compare-list": page(),
}

# Expected statuses, in ROLES order. Scoped URLs have an (inside, outside) pair.
EXPECTATIONS: dict[str, str | tuple[str, str]] = {
    # Pages of the teams app: the sign-in page and tracking are public; tokens is for users.
    "home": "200 200 200 200 200 200 200 200 L",
    "login": "200 200 200 200 200 200 200 200 200",
    "logout": "L L L L L L L L L",
    # Signing out everywhere ends the session (and the others): back to the sign-in page.
    "sign_out_everywhere": "L L L L L L L L L",
    "tokens": "200 200 200 200 200 200 200 200 L",
    # One's own alert preference: anyone signed in, through the page or the API.
    "my_alerts": "200 200 200 200 200 200 200 200 L",
    "manifest": "200 200 200 200 200 200 200 200 200",
    "healthz": "200 200 200 200 200 200 200 200 200",
    "readyz": "200 200 200 200 200 200 200 200 200",
    # 404 without WHISTLE_METRICS_TOKEN, whoever asks (tests/test_health.py sends the token).
    "metrics": "404 404 404 404 404 404 404 404 404",
    "service_worker": "200 200 200 200 200 200 200 200 200",
    "push_subscribe": "400 400 400 400 400 400 400 400 L",
    "push_unsubscribe": "400 400 400 400 400 400 400 400 L",
    # One's own second factor: anyone signed in may set one up; with none, the code page sends
    # the user on (302). The matrix runs with it not required (tests/conftest.py).
    "two_factor": "200 200 200 200 200 200 200 200 L",
    "two_factor_verify": "302 302 302 302 302 302 302 302 L",
    "two_factor_enrol": "200 200 200 200 200 200 200 200 L",
    "track": "200 200 200 200 200 200 200 200 200",
    # A public attachment is served to anyone by its signed address; an internal one to nobody.
    "track_attachment": "404 404 404 404 404 404 404 404 404",
    # Filing is for grid workers; the village inbox for village officers; the board for teams and
    # departments; the command page for the town committee.
    "cases:board": "403 403 200 200 200 403 403 403 L",
    # Bulk actions: each ticked row answers for itself (404 outside the scope, 403 not allowed);
    # an empty form selects no row (400) for everyone.
    "cases:bulk": "400 400 400 400 400 400 400 400 L",
    "cases:dispatch_bulk": "400 400 400 400 400 400 400 400 L",
    "cases:command": "403 403 403 403 403 200 403 403 L",
    "cases:file": "200 403 403 403 403 403 403 403 L",
    "cases:grids_geojson": "200 403 403 403 403 403 403 403 L",
    "cases:list": "200 200 200 200 200 200 200 200 L",
    "cases:mine": "200 200 200 200 200 200 200 200 L",
    "cases:nearby": "200 403 403 403 403 403 403 403 L",
    "cases:notifications": "200 200 200 200 200 200 200 200 L",
    "cases:notifications_read": "302 302 302 302 302 302 302 302 L",
    "cases:unread_count": "200 200 200 200 200 200 200 200 L",
    "cases:village_inbox": "403 200 403 403 403 403 403 403 L",
    # Supervision orders: the town and city committees and the supervisor.
    "cases:supervision": "403 403 403 403 403 200 200 200 L",
    # Suspended cases (挂账清单): the town and city committees and the supervisor.
    "cases:suspended": "403 403 403 403 403 200 200 200 L",
    # One case: every role of the organisation sees the in-progress case (its grid, village, town,
    # city, dispatched team and department); another city's case does not exist for them. Only the
    # town committee may suspend it (empty form: 400), cancel its dispatch (400) and decide the
    # postponement (302 after a decision); the team member and the liaison do not see the postponed
    # case (not dispatched to them).
    "cases:act": (
        "403 403 403 403 403 400 403 403 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "cases:attachment": (
        "200 200 200 200 200 200 200 200 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "cases:detail": (
        "200 200 200 200 200 200 200 200 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    # The receipt carries the tracking code: for whoever filed the whistle and the village.
    "cases:receipt": (
        "200 200 403 403 403 403 403 403 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "cases:dispatch_act": (
        "403 403 403 403 403 400 403 403 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "cases:postponement_decide": (
        "403 403 403 404 404 302 403 403 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    # Consultation: the calling town committee, the invited team (captain) and department (liaison),
    # and the supervisor see it; the queue and calling are the committees'. An investigation is seen
    # by the town, its team and the city.
    "consultation:archive": (
        "404 404 403 404 403 302 404 403 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "consultation:call": "403 403 403 403 403 200 200 403 L",
    # Confirming the attendance is the committee's (before the meeting: refused, a message).
    "consultation:confirm_attendance": (
        "404 404 403 404 403 302 404 403 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "consultation:check_in": (
        "404 404 403 404 302 302 404 403 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "consultation:confirm": (
        "404 404 403 404 302 403 404 403 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "consultation:decide": (
        "404 404 403 404 403 200 404 403 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "consultation:detail": (
        "404 404 200 404 200 200 404 200 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "consultation:hotspots": "403 403 403 403 403 200 200 200 L",
    # The address without the dash, a permanent redirect for everyone (the page then decides).
    "consultation:hotspots_redirect": "301 301 301 301 301 301 301 301 301",
    "consultation:investigation": (
        "404 404 200 200 404 200 200 200 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "consultation:investigations": "200 200 200 200 200 200 200 200 L",
    "consultation:mine": "200 200 200 200 200 200 200 200 L",
    "consultation:minutes": (
        "404 404 403 404 403 400 404 403 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "consultation:plan_investigation": "403 403 403 403 403 200 403 403 L",
    "consultation:print": (
        "404 404 200 404 200 200 404 200 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    "consultation:queue": "403 403 403 403 403 200 200 403 L",
    # Assessment dashboards: not for grid workers and team members; a unit of another city is not
    # found.
    "assessment:cases": "403 200 200 403 200 200 200 200 L",
    "assessment:evaluate": "403 403 403 403 403 200 403 403 L",
    # Corrections of closed figures: the city's supervisors only.
    "assessment:corrections": "403 403 403 403 403 403 403 200 L",
    "assessment:hotspots": "403 200 200 403 200 200 200 200 L",
    "assessment:overview": "403 200 200 403 200 200 200 200 L",
    "assessment:rankings": "403 200 200 403 200 200 200 200 L",
    "assessment:report": "403 403 403 403 403 200 200 200 L",
    "assessment:unit": (
        "403 200 404 403 404 200 200 200 L",
        "403 404 404 403 404 404 404 404 L",
    ),
    # Open311 GeoReport v2: public by design (read without a key); a request of another city is not
    # found under this city's jurisdiction_id; a case not filed through Open311 has no token.
    "open311-request": (
        "200 200 200 200 200 200 200 200 200",
        "404 404 404 404 404 404 404 404 404",
    ),
    "open311-requests": "200 200 200 200 200 200 200 200 200",
    "open311-service-definition": "200 200 200 200 200 200 200 200 200",
    "open311-services": "200 200 200 200 200 200 200 200 200",
    "open311-token": "404 404 404 404 404 404 404 404 404",
    # A caller's "me too" needs a client system's api_key: refused without one, for everyone.
    "open311-support": "403 403 403 403 403 403 403 403 403",
    # API documentation and schema: public, they describe no data.
    "api-docs": "200 200 200 200 200 200 200 200 200",
    "api-redoc": "200 200 200 200 200 200 200 200 200",
    "api-schema": "200 200 200 200 200 200 200 200 200",
    # REST API: token or 401. The organisation and the checklist are reference data that every user
    # reads, another city's included; cases, dispatches, postponements and consultations are scoped
    # (404 outside). Action bodies are validated before the permission check, so an empty body is
    # 400 for every role; with a valid body (suspend) only the town committee may act.
    "api:api-root": "200 200 200 200 200 200 200 200 401",
    "api:aspect-detail": "200 200 200 200 200 200 200 200 401",
    "api:aspect-list": "200 200 200 200 200 200 200 200 401",
    "api:case-accept": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    # Bulk: the rows are in the body and answer one by one; an empty body is 400 for everyone.
    "api:case-bulk": "400 400 400 400 400 400 400 400 401",
    "api:dispatch-bulk": "400 400 400 400 400 400 400 400 401",
    "api:case-add-dispatch": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-close": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-decide": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-detail": (
        "200 200 200 200 200 200 200 200 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-escalate": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-escalate-to-prefecture": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-evaluate": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-events": (
        "200 200 200 200 200 200 200 200 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-list": "200 200 200 200 200 200 200 200 401",
    "api:case-merge": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-reject": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-reopen": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    # With a valid body: the village officer, the captain on the case and the town committee
    # (the committee at its level) speak to the public and choose what it sees; nobody else.
    "api:case-post-update": (
        "403 200 200 403 403 200 403 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-publish-photo": (
        "403 200 200 403 403 200 403 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-publish-case": (
        "403 200 200 403 403 200 403 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-request-consultation": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-request-postponement": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    # Long-term cases, with valid bodies: the village officer, the captain, the member and the
    # liaison (the handlers of the case in progress) ask for a suspension; the committee at its
    # level decides, but no request waits (409), and sets a new review date only for a suspended
    # case (409); nobody else may (403).
    "api:case-request-suspension": (
        "403 200 200 200 200 403 403 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-review-suspension": (
        "403 403 403 403 403 409 403 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-reschedule-review": (
        "403 403 403 403 403 409 403 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-resolve": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-resolve-on-spot": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-resume": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-suspend": (
        "403 403 403 403 403 200 403 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    # "Me too": the whistler may not back the own whistle, the other roles are no grid workers.
    "api:case-support": (
        "403 403 403 403 403 403 403 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    # With a valid body: the town committee and the city committee (the levels that own the
    # case) move it to another village; nobody else.
    "api:case-transfer": (
        "403 403 403 403 403 200 200 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-verify": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-whistle": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:consultation-detail": (
        "404 404 200 404 200 200 404 200 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:consultation-list": "200 200 200 200 200 200 200 200 401",
    # Running a consultation is its committee's (the invited and the supervisor: 403); the invited
    # department confirms its own invitation; checking in two days early is refused (409).
    "api:consultation-minutes": (
        "404 404 403 404 403 400 404 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:consultation-archive": (
        "404 404 403 404 403 200 404 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    # The committee confirms the attendance once the meeting has begun (here: not yet, 409).
    "api:consultation-confirm-attendance": (
        "404 404 403 404 403 409 404 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:agenda-item-decide": (
        "404 404 403 404 403 400 404 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:invitation-confirm": (
        "404 404 403 404 200 403 404 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:invitation-check-in": (
        "404 404 403 404 409 409 404 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    # An investigation is seen by its town, its team and the city; the town committee and the
    # team's captain record it (an empty record: 400).
    "api:investigation-list": "200 200 200 200 200 200 200 200 401",
    "api:investigation-detail": (
        "404 404 200 200 404 200 200 200 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:investigation-record": (
        "404 404 400 403 404 400 403 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    # The assessment reads as the dashboards do: not for grid workers and team members; the towns'
    # evaluations are the town committee's.
    "api:assessment-cases": "403 200 200 403 200 200 200 200 401",
    "api:assessment-cases-export": "403 200 200 403 200 200 200 200 401",
    "api:assessment-indicators": "403 200 200 403 200 200 200 200 401",
    "api:assessment-indicators-export": "403 200 200 403 200 200 200 200 401",
    "api:assessment-hot-spots": "403 200 200 403 200 200 200 200 401",
    "api:assessment-hot-spots-export": "403 200 200 403 200 200 200 200 401",
    "api:assessment-overdue": "403 200 200 403 200 200 200 200 401",
    "api:assessment-rankings": "403 200 200 403 200 200 200 200 401",
    "api:assessment-rankings-export": "403 200 200 403 200 200 200 200 401",
    "api:town-evaluation-list": "403 403 403 403 403 200 403 403 401",
    # The access audit is the auditor's alone (test_the_auditor_gets_only_the_audit_pages).
    "audit:search": "403 403 403 403 403 403 403 403 L",
    # Spot checks: the city's supervisor draws and revisits; its city committee reads. Others
    # see the drawn case (403), another city's supervisor does not (404).
    "spotchecks:list": "403 403 403 403 403 403 200 200 L",
    "spotchecks:detail": (
        "403 403 403 403 403 403 200 200 L",
        "404 404 404 404 404 404 404 404 L",
    ),
    # The policy lab is the city committee's, supervisors' and administrators' (policylab.access):
    # other roles are refused it (403); another city's scenario or replay does not exist (404).
    "policylab:index": "403 403 403 403 403 403 200 200 L",
    "policylab:scenario_new": "403 403 403 403 403 403 400 400 L",
    "policylab:scenario": (
        "403 403 403 403 403 403 200 200 L",
        "403 403 403 403 403 403 404 404 L",
    ),
    "policylab:scenario_delete": (
        "403 403 403 403 403 403 302 302 L",
        "403 403 403 403 403 403 404 404 L",
    ),
    "policylab:replay_new": (
        "403 403 403 403 403 403 200 200 L",
        "403 403 403 403 403 403 404 404 L",
    ),
    "policylab:replay": ("403 403 403 403 403 403 200 200 L", "403 403 403 403 403 403 404 404 L"),
    "policylab:replay_progress": (
        "403 403 403 403 403 403 200 200 L",
        "403 403 403 403 403 403 404 404 L",
    ),
    "policylab:replay_cancel": (
        "403 403 403 403 403 403 302 302 L",
        "403 403 403 403 403 403 404 404 L",
    ),
    "policylab:replay_rename": (
        "403 403 403 403 403 403 400 400 L",
        "403 403 403 403 403 403 404 404 L",
    ),
    "policylab:replay_delete": (
        "403 403 403 403 403 403 302 302 L",
        "403 403 403 403 403 403 404 404 L",
    ),
    "policylab:compare": "403 403 403 403 403 403 200 200 L",
    "policylab:compare_export": "403 403 403 403 403 403 400 400 L",
    "policylab:compare_print": "403 403 403 403 403 403 400 400 L",
    "policylab:replay_cases": (
        "403 403 403 403 403 403 200 200 L",
        "403 403 403 403 403 403 404 404 L",
    ),
    "policylab:replay_changed": (
        "403 403 403 403 403 403 200 200 L",
        "403 403 403 403 403 403 404 404 L",
    ),
    "api:lab-scenario-list": "403 403 403 403 403 403 200 200 401",
    "api:lab-scenario-detail": (
        "403 403 403 403 403 403 200 200 401",
        "403 403 403 403 403 403 404 404 401",
    ),
    "api:lab-replay-list": "403 403 403 403 403 403 200 200 401",
    "api:lab-replay-detail": (
        "403 403 403 403 403 403 200 200 401",
        "403 403 403 403 403 403 404 404 401",
    ),
    "api:lab-replay-cancel": (
        "403 403 403 403 403 403 409 409 401",
        "403 403 403 403 403 403 404 404 401",
    ),
    "api:lab-replay-cases": (
        "403 403 403 403 403 403 200 200 401",
        "403 403 403 403 403 403 404 404 401",
    ),
    "api:lab-replay-changed": (
        "403 403 403 403 403 403 200 200 401",
        "403 403 403 403 403 403 404 404 401",
    ),
    "api:lab-compare-list": "403 403 403 403 403 403 400 400 401",
    "api:spot-check-list": "200 200 200 200 200 200 200 200 401",
    "api:spot-check-detail": (
        "403 403 403 403 403 403 200 200 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:case-record-spot-check": (
        "403 403 403 403 403 403 403 200 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:department-detail": (
        "200 200 200 200 200 200 200 200 401",
        "200 200 200 200 200 200 200 200 401",
    ),
    "api:department-list": "200 200 200 200 200 200 200 200 401",
    "api:dispatch-assign": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:dispatch-cancel": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:dispatch-detail": (
        "200 200 200 200 200 200 200 200 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:dispatch-handle": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:dispatch-list": "200 200 200 200 200 200 200 200 401",
    "api:dispatch-report-in": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:dispatch-resolve-part": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:dispatch-return-dispatch": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:dispatch-review-return": (
        "400 400 400 400 400 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    # Moving a dispatch is the committee's at the case's level (the town's here): its body names
    # a unit already on the case (400); nobody else may (403).
    "api:dispatch-transfer-dispatch": (
        "403 403 403 403 403 400 403 403 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    # Urging a unit and a supervision order: the committees and the supervisor may, but the
    # dispatch is on time (409); nobody else may (403).
    "api:dispatch-supervise": (
        "403 403 403 403 403 409 409 409 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:dispatch-urge": (
        "403 403 403 403 403 409 409 409 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:grid-detail": (
        "200 200 200 200 200 200 200 200 401",
        "200 200 200 200 200 200 200 200 401",
    ),
    "api:grid-list": "200 200 200 200 200 200 200 200 401",
    "api:item-detail": "200 200 200 200 200 200 200 200 401",
    "api:item-list": "200 200 200 200 200 200 200 200 401",
    "api:notification-list": "200 200 200 200 200 200 200 200 401",
    "api:me-alerts": "200 200 200 200 200 200 200 200 401",
    "api:notification-read": "400 400 400 400 400 400 400 400 401",
    "api:postponement-decide": (
        "400 400 400 404 404 400 400 400 401",
        "404 404 404 404 404 404 404 404 401",
    ),
    "api:region-detail": (
        "200 200 200 200 200 200 200 200 401",
        "200 200 200 200 200 200 200 200 401",
    ),
    "api:region-list": "200 200 200 200 200 200 200 200 401",
    "api:team-detail": (
        "200 200 200 200 200 200 200 200 401",
        "200 200 200 200 200 200 200 200 401",
    ),
    "api:team-list": "200 200 200 200 200 200 200 200 401",
}


def url_names() -> dict[str, str]:
    """Every named URL of the project (namespaced), with its route, minus SKIPPED."""
    found: dict[str, str] = {}

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                assert entry.name, f"unnamed URL {prefix}{entry.pattern}"
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                if name not in SKIPPED:
                    found.setdefault(name, prefix + str(entry.pattern))

    walk(get_resolver(), "", "")
    return found


def test_every_url_has_a_target_and_an_expectation():
    names = url_names()
    assert len(names) > 80
    missing = sorted(set(names) - set(TARGETS))
    assert not missing, f"URLs without a target in the permission matrix: {missing}"
    missing = sorted(set(names) - set(EXPECTATIONS))
    assert not missing, f"URLs without expected statuses in the permission matrix: {missing}"
    gone = sorted((set(TARGETS) | set(EXPECTATIONS)) - set(names))
    assert not gone, f"rows for URLs that no longer exist: {gone}"


@pytest.fixture(params=SHAPES)
def world(request, settings, tmp_path):
    """The matrix holds on each organisation shape (tests/security/scenario.py): Haining's
    teams of a town, and Longgang's area brigades of a district team serving one street each."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if request.param == "haining":
        org = request.getfixturevalue("org")
    else:
        org = build_org(prefix="", city_code="LG", lng=120.70, shape=request.param)
    inside = build_objects(org)
    other = build_org(prefix="x", city_code="SZ", lng=121.50, shape=request.param)
    outside = build_objects(other, lng=121.50)
    return org, inside, outside


def _clients(org) -> dict[str, tuple[Client, APIClient]]:
    clients = {}
    for role in ROLES:
        page_client, api_client = Client(), APIClient()
        if role != "anonymous":
            user = getattr(org, role)
            page_client.force_login(user)
            token = api_token(user)
            api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        clients[role] = (page_client, api_client)
    return clients


def _status(response) -> str:
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return "L"
    return str(response.status_code)


def _ask(client, target: Target, name: str, objects: Objects, home: Objects) -> str:
    kwargs = target.args(objects) if target.args else {}
    url = reverse(name, kwargs=kwargs)
    if target.query:  # always the users' own city: another city's requests are not there
        url += "?" + target.query.format(city=home.org.city.code)
    cache.clear()  # the Open311 readers' per-address limit must not interfere
    body = target.body(objects) if target.body else {}
    with transaction.atomic():
        if target.method == "POST" and isinstance(client, APIClient):
            response = client.post(url, body, format="json")
        elif target.method == "POST":
            response = client.post(url, body)
        else:
            response = client.get(url)
        transaction.set_rollback(True)
    return _status(response)


def mismatches_on(
    org, inside: Objects, outside: Objects, *, roles=ROLES, row_of=lambda row: row
) -> list[str]:
    """Every URL asked by `roles` inside and outside the organisation, against the
    expectations (each row passed through `row_of`, for a variant leaving a role out)."""
    clients = _clients(org)
    found = []
    for name in sorted(url_names()):
        target = TARGETS[name]
        use_api = name.startswith("api:")
        places = [inside, outside] if target.scoped else [inside]
        observed = [
            " ".join(
                _ask(clients[role][1 if use_api else 0], target, name, objects, inside)
                for role in roles
            )
            for objects in places
        ]
        if name in SESSION_ENDING:
            clients = _clients(org)
        expected = EXPECTATIONS[name]
        wanted = [row_of(row) for row in (expected if isinstance(expected, tuple) else (expected,))]
        if observed != wanted:
            found.append(f"{name}: expected {wanted!r}, got {observed!r}")
    return found


def test_every_role_gets_the_expected_status_on_every_url(world):
    org, inside, outside = world
    clients = _clients(org)
    mismatches = []
    observed_rows = []
    for name in sorted(url_names()):
        target = TARGETS[name]
        use_api = name.startswith("api:")
        places = [("inside", inside), ("outside", outside)] if target.scoped else [("", inside)]
        observed = []
        for _place, objects in places:
            row = [
                _ask(clients[role][1 if use_api else 0], target, name, objects, inside)
                for role in ROLES
            ]
            observed.append(" ".join(row))
        if name in SESSION_ENDING:  # the clients are signed out now: sign them in again
            clients = _clients(org)
        got: str | tuple[str, str] = tuple(observed) if target.scoped else observed[0]
        observed_rows.append(f"    {name!r}: {got!r},")
        if EXPECTATIONS.get(name) != got:
            mismatches.append(f"{name}: expected {EXPECTATIONS.get(name)!r}, got {got!r}")
    assert not mismatches, "\n".join(mismatches) + "\n\nObserved:\n" + "\n".join(observed_rows)


# The auditor (the audit app's role, teams.Role.AUDITOR) reads the access audit and nothing of the
# cases: on every URL it gets what a signed-in user without any role gets (an object of the
# organisation does not exist for it: 404; a role's page is refused: 403), except these pages,
# which only it opens. So no URL, present or future, needs an auditor column.
AUDITOR_ONLY = {"audit:search": "200"}


def _signed_in(user) -> tuple[Client, APIClient]:
    page_client, api_client = Client(), APIClient()
    page_client.force_login(user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return page_client, api_client


def test_the_auditor_gets_only_the_audit_pages(world):
    from teams.models import Role
    from tests.factories import MembershipFactory, UserFactory

    org, inside, outside = world
    auditor = UserFactory(username="auditor")
    MembershipFactory(user=auditor, role=Role.AUDITOR, region=org.city)
    nobody = UserFactory(username="nobody")  # signed in, no role anywhere
    clients = {"auditor": _signed_in(auditor), "nobody": _signed_in(nobody)}
    mismatches = []
    for name in sorted(set(url_names()) & set(TARGETS)):  # a missing target fails above
        target = TARGETS[name]
        side = 1 if name.startswith("api:") else 0
        places = [inside, outside] if target.scoped else [inside]
        for objects in places:
            got = _ask(clients["auditor"][side], target, name, objects, inside)
            roleless = _ask(clients["nobody"][side], target, name, objects, inside)
            expected = AUDITOR_ONLY.get(name, roleless)
            if name in AUDITOR_ONLY:
                assert roleless == "403", f"{name}: a user without a role got {roleless}"
            if got != expected:
                mismatches.append(f"{name}: the auditor got {got}, expected {expected}")
        if name in SESSION_ENDING:
            clients = {"auditor": _signed_in(auditor), "nobody": _signed_in(nobody)}
    assert not mismatches, "\n".join(mismatches)
