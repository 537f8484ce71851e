"""The spot-check pages: the list of draws with the draw form (supervisors; the city committee
reads), and one draw with its cases and a revisit form on each case still to revisit. The form
posts to the case's registry action (cases:act, record_spot_check) and comes back here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.views import done, run_service
from spotchecks import selectors, services
from spotchecks.forms import DrawForm, RevisitForm
from spotchecks.models import SpotCheckCase
from spotchecks.workflow import supervisor


@require_http_methods(["GET", "POST"])
@login_required
def spot_checks(request: HttpRequest) -> HttpResponse:
    """The draws of the user's cities; a supervisor draws a new sample here."""
    choices = selectors.draw_choices(user=request.user)
    if choices is None and not selectors.reader_cities(user=request.user):
        raise PermissionDenied
    form = None
    status = 200
    if choices is not None:
        form = DrawForm(request.POST or None, choices=choices)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            ok, spot_check = run_service(
                request,
                form,
                lambda: services.draw_spot_check(
                    user=request.user,
                    city_id=data["city"].pk,
                    team_id=data["team"].pk if data["team"] else None,
                    department_id=data["department"].pk if data["department"] else None,
                    closed_from=data["closed_from"],
                    closed_to=data["closed_to"],
                    size=data["size"],
                    seed=data["seed"],
                ),
            )
            if ok:
                messages.success(request, _("The sample was drawn."))
                return done(request, reverse("spotchecks:detail", args=[spot_check.pk]))
        status = 400
    page = Paginator(selectors.visible_spot_checks(user=request.user), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "spotchecks/list.html", {"page": page, "form": form}, status=status)


@require_GET
@login_required
def spot_check(request: HttpRequest, pk: int) -> HttpResponse:
    """One draw: its seed and population, its cases and their revisits."""
    found = selectors.spot_check_for(user=request.user, pk=pk)
    here = reverse("spotchecks:detail", args=[found.pk])
    rows = []
    for drawn in selectors.drawn_cases(spot_check=found):
        form = None
        if drawn.outcome == SpotCheckCase.Outcome.PENDING and supervisor(request.user, drawn.case):
            form = RevisitForm(
                case=drawn.case,
                user=request.user,
                initial={"next": here},
                auto_id=f"id_%s_{drawn.case_id}",
            )
        rows.append((drawn, form))
    return render(
        request,
        "spotchecks/detail.html",
        {
            "spot_check": found,
            "rows": rows,
            "population_count": len(found.population),
            "action": "record_spot_check",
        },
    )
