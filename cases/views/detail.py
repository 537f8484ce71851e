"""The case detail page and every action on a case or a dispatch: thin views that parse a form,
call the case service and show its refusal next to the field."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.models import AccessKind
from audit.services import record_access
from cases import services
from cases.access import is_committee_at_level
from cases.errors import NotAllowed, StaleCase, with_field_names
from cases.forms_detail import PostponementDecisionForm
from cases.perform import perform
from cases.selectors_pages import detail as selectors
from cases.selectors_pages import support as support_selectors
from cases.selectors_pages.tracking_codes import may_see_tracking_code, merged_cases_of
from cases.uploads import open_attachment
from cases.workflow import (
    CASE,
    Action,
    available_actions,
    available_dispatch_actions,
    case_action,
    dispatch_action,
)
from core.views import done, run_service


def _next_url(request: HttpRequest, value: str | None, fallback: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return fallback


def _case_input(data: dict) -> dict:
    """The form's cleaned data in the shared input names (cases.perform)."""
    normalised = dict(data)
    team, department = data.get("team"), data.get("department")
    normalised["team_id"] = team.pk if team else None
    normalised["department_id"] = department.pk if department else None
    if "decision" in data:
        normalised["tasks"] = [
            services.Task(
                action=data["task"],
                due_at=data["due_at"],
                team_id=normalised["team_id"],
                department_id=normalised["department_id"],
            )
        ]
    return normalised


def _perform(spec: Action, request: HttpRequest, target_id: int, data: dict) -> Callable[[], Any]:
    """The action carried out with the form's cleaned data, in the shared input names."""
    target = {"case_id": target_id} if spec.on == CASE else {"dispatch_id": target_id}
    return lambda: with_field_names(
        lambda: perform(
            action=spec.name,
            user=request.user,
            data=_case_input(data),
            expected_version=data.get("version"),
            **target,
        ),
        spec.form_fields,
    )


def _initial(request: HttpRequest, form_class: type) -> dict:
    """Prefill from the query string (e.g. ?deadline=<id>&next=<url>); never the version."""
    return {
        name: request.GET[name]
        for name in form_class.base_fields
        if name in request.GET and name not in ("version", "photos")
    }


def _render_form(
    request: HttpRequest, template: str, context: dict, *, status: int = 200
) -> HttpResponse:
    if request.headers.get("HX-Request"):
        template = "cases/detail/_action_form.html"
    return render(request, template, context, status=status)


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_page(user=request.user, pk=pk)
    page = selectors.case_detail(user=request.user, case=case)
    record_access(request=request, kind=AccessKind.CASE_VIEWED, case_number=case.number)
    map_data = None
    if case.grid.polygon or case.latitude is not None:
        map_data = selectors.map_data(
            case,
            tile_url=settings.WHISTLE_TILE_URL,
            attribution=settings.WHISTLE_TILE_ATTRIBUTION,
            crs=settings.WHISTLE_TILE_CRS,
            icons=static("vendor/leaflet/images/"),
        )
    return render(
        request,
        "cases/detail/detail.html",
        {
            "case": case,
            "page": page,
            "map_data": map_data,
            "supporters": support_selectors.supporters_of(case=case),
            "show_tracking_code": may_see_tracking_code(user=request.user, case=case),
            "merged_cases": merged_cases_of(case=case),
            "action_buttons": [(name, case_action(name).button) for name in page.actions],
            "dispatch_rows": [
                (row, [(name, dispatch_action(name).button) for name in row.actions])
                for row in page.dispatches
            ],
            "here": request.get_full_path(),
        },
    )


@login_required
def case_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    spec = case_action(action)
    if spec is None:
        raise Http404()
    form_class = spec.form_class
    case = selectors.case_for_page(user=request.user, pk=pk)
    detail_url = reverse("cases:detail", args=[case.pk])
    if action not in available_actions(user=request.user, case=case):
        posted = request.POST.get("version", "")
        if request.method == "POST" and posted.isdigit() and int(posted) != case.version:
            # The case moved on since the form was loaded; the action is no longer open.
            messages.error(request, StaleCase.default_message)
            return redirect(detail_url)
        raise NotAllowed()
    context = {
        "case": case,
        "action": action,
        "title": spec.button,
        "form_action": reverse("cases:act", args=[case.pk, action]),
        "multipart": any(name == "photos" for name in form_class.base_fields),
        "cancel_url": detail_url,
    }
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, case=case, user=request.user)
        if form.is_valid():
            ok, _result = run_service(
                request, form, _perform(spec, request, case.pk, form.cleaned_data)
            )
            if ok:
                messages.success(request, spec.done)
                return done(request, _next_url(request, form.cleaned_data.get("next"), detail_url))
        return _render_form(request, "cases/detail/act.html", {**context, "form": form}, status=400)
    form = form_class(case=case, user=request.user, initial=_initial(request, form_class))
    return _render_form(request, "cases/detail/act.html", {**context, "form": form})


@login_required
def dispatch_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    spec = dispatch_action(action)
    if spec is None:
        raise Http404()
    form_class = spec.form_class
    dispatch = selectors.dispatch_for_page(user=request.user, pk=pk)
    case = dispatch.case
    detail_url = reverse("cases:detail", args=[case.pk])
    if action not in available_dispatch_actions(user=request.user, dispatch=dispatch):
        posted = request.POST.get("version", "")
        if request.method == "POST" and posted.isdigit() and int(posted) != case.version:
            messages.error(request, StaleCase.default_message)
            return redirect(detail_url)
        raise NotAllowed()
    context = {
        "case": case,
        "dispatch": dispatch,
        "action": action,
        "title": spec.button,
        "form_action": reverse("cases:dispatch_act", args=[dispatch.pk, action]),
        "multipart": "photos" in form_class.base_fields,
        "cancel_url": detail_url,
    }
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, dispatch=dispatch, user=request.user)
        if form.is_valid():
            ok, _result = run_service(
                request, form, _perform(spec, request, dispatch.pk, form.cleaned_data)
            )
            if ok:
                messages.success(request, spec.done)
                return done(request, _next_url(request, form.cleaned_data.get("next"), detail_url))
        return _render_form(request, "cases/detail/act.html", {**context, "form": form}, status=400)
    form = form_class(dispatch=dispatch, user=request.user, initial=_initial(request, form_class))
    return _render_form(request, "cases/detail/act.html", {**context, "form": form})


@login_required
@require_POST
def postponement_decide(request: HttpRequest, pk: int) -> HttpResponse:
    postponement = selectors.postponement_for_page(user=request.user, pk=pk)
    case = postponement.case
    if not is_committee_at_level(request.user, case):
        raise NotAllowed()
    detail_url = reverse("cases:detail", args=[case.pk])
    form = PostponementDecisionForm(request.POST)
    target = _next_url(request, request.POST.get("next"), detail_url)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or refuse the postponement."))
        return redirect(target)
    approve = form.cleaned_data["approve"]
    ok, _result = run_service(
        request,
        None,
        lambda: services.decide_postponement(
            user=request.user,
            postponement_id=postponement.pk,
            approve=approve,
            note=form.cleaned_data["note"],
        ),
    )
    if ok:
        messages.success(
            request,
            _("The postponement was approved.") if approve else _("The postponement was refused."),
        )
    return done(request, target)


def _shown_in_a_page(request: HttpRequest) -> bool:
    """A photo the browser loads into the case page (a thumbnail, an <img>): opening the page
    is recorded already, so that one look at a case is one access record."""
    return (
        request.GET.get("size") == "thumbnail" or request.headers.get("Sec-Fetch-Dest") == "image"
    )


@login_required
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    item = selectors.attachment_for_user(user=request.user, pk=pk)
    try:
        handle, content_type = open_attachment(
            attachment=item, thumbnail=request.GET.get("size") == "thumbnail"
        )
    except FileNotFoundError:
        raise Http404() from None
    is_image = content_type.startswith("image/")
    name = item.original_name or item.file.name.rsplit("/", 1)[-1]
    if not _shown_in_a_page(request):
        record_access(
            request=request,
            kind=AccessKind.ATTACHMENT_OPENED,
            case_number=item.case.number,
            detail=f"#{item.pk} {name}",
        )
    response = FileResponse(
        handle, content_type=content_type, as_attachment=not is_image, filename=name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


urlpatterns = [
    path("cases/<int:pk>/", case_detail, name="detail"),
    path("cases/<int:pk>/act/<slug:action>/", case_act, name="act"),
    path("dispatches/<int:pk>/act/<slug:action>/", dispatch_act, name="dispatch_act"),
    path("postponements/<int:pk>/decide/", postponement_decide, name="postponement_decide"),
    path("attachments/<int:pk>/", attachment, name="attachment"),
]
