"""The dispatch board of captains, members and liaisons, and the town command."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.cache import patch_vary_headers

from cases.forms_board import LightFilterForm
from cases.selectors_pages import board as selectors

COMMAND_SECTIONS = ("postponements", "consultations", "suspended", "dispatched", "overdue")


def _is_fragment_request(request: HttpRequest) -> bool:
    """An htmx swap of the results; a history restore asks for the whole page."""
    return bool(
        request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    )


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """Captains, members and liaisons; filterable by light with htmx (or a plain link)."""
    scope = selectors.board_scope(user=request.user)
    if scope.empty:
        raise PermissionDenied
    form = LightFilterForm(request.GET)
    light = form.chosen()
    result = selectors.dispatch_board(
        user=request.user, scope=scope, light=light, page=request.GET.get("page")
    )
    context = {
        "board": result,
        "form": form,
        "light": light,
        "lights": selectors.LIGHTS,
        "next_url": request.get_full_path(),
        "is_captain": bool(scope.captain_teams),
        # Whom the ticked rows may be assigned to (bulk assign): the members of the page's rows.
        "bulk_members": sorted(
            {pk: name for row in result.rows for pk, name in row.assignees}.items(),
            key=lambda member: member[1],
        ),
    }
    template = (
        "cases/board/_results.html" if _is_fragment_request(request) else "cases/board/board.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def command(request: HttpRequest) -> HttpResponse:
    """Town committee staff only: what waits for the town's decision or attention."""
    towns = selectors.command_towns(user=request.user)
    if not towns:
        raise PermissionDenied
    result = selectors.town_command(
        user=request.user,
        towns=towns,
        pages={key: request.GET.get(f"{key}_page") for key in COMMAND_SECTIONS},
    )
    return render(
        request,
        "cases/board/command.html",
        {"command": result, "next_url": request.get_full_path()},
    )


urlpatterns = [
    path("board/", board, name="board"),
    path("command/", command, name="command"),
]
