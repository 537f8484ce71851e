"""The notification inbox, marking notifications read, and the unread badge in the header.

Every query is limited to the signed-in user's own notifications: an id of someone else's
notification matches nothing.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from cases import notifications
from cases.forms_lists import MarkReadForm
from cases.selectors_pages.lists import inbox_entries, notification_rows
from cases.views.lists import wants_fragment
from cases.webpush import push_offered
from core.views import done

PAGE_SIZE = 25
UNREAD_CHANGED = "whistle:unread-changed"


@require_GET
@login_required
def inbox_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(notification_rows(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "entries": inbox_entries(list(page.object_list)),
        "unread": notifications.unread_count(user=request.user),
        # "Turn on alerts on this phone" is offered only when push is configured.
        "push_key": settings.WHISTLE_VAPID_PUBLIC_KEY if push_offered() else "",
    }
    return render(request, "cases/notifications/inbox.html", context)


@require_GET
def unread_badge(request: HttpRequest) -> HttpResponse:
    """The badge fragment polled by the header. A signed-out poll (an expired session) gets an
    empty badge rather than the login page swapped into the header; a plain visit is sent to
    the login page."""
    if not request.user.is_authenticated:
        if not request.headers.get("HX-Request"):
            return redirect_to_login(request.get_full_path())
        count = 0
    else:
        count = notifications.unread_count(user=request.user)
    response = render(request, "includes/unread_badge.html", {"unread_count": count})
    add_never_cache_headers(response)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("cases:notifications")


@require_POST
@login_required
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark the given ids (only the user's own) or all notifications read."""
    form = MarkReadForm(request.POST)
    if not form.is_valid():
        for error in form.non_field_errors() + form.errors.get("ids", []):
            messages.error(request, error)
        return done(request, _next_url(request))
    if form.cleaned_data["all"]:
        changed = notifications.mark_all_read(user=request.user)
    else:
        changed = notifications.mark_read(
            user=request.user, notification_ids=form.cleaned_data["ids"]
        )
    if wants_fragment(request):
        # One entry marked from the inbox: swap that entry and tell the badge to refresh.
        rows = list(notification_rows(user=request.user).filter(pk__in=form.cleaned_data["ids"]))
        if len(rows) == 1 and not form.cleaned_data["all"]:
            response = render(
                request, "cases/notifications/_entry.html", {"entry": inbox_entries(rows)[0]}
            )
            response["HX-Trigger"] = UNREAD_CHANGED
            return response
    if changed:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked as read.",
                "%(count)d notifications marked as read.",
                changed,
            )
            % {"count": changed},
        )
    return done(request, _next_url(request))


urlpatterns = [
    path("notifications/", inbox_page, name="notifications"),
    path("notifications/unread/", unread_badge, name="unread_count"),
    path("notifications/read/", mark_read, name="notifications_read"),
]
