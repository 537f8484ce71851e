"""The printable receipt of a whistle for the resident: its number, tracking code, a QR code of
the tracking address and what happens next. For whoever filed it and the village officers."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.selectors_pages import detail as selectors
from cases.selectors_pages.tracking_codes import may_see_tracking_code, tracking_qr_svg
from teams.levels import level_words


@login_required
@require_GET
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_page(user=request.user, pk=pk)  # 404 outside the user's scope
    if not may_see_tracking_code(user=request.user, case=case):
        raise PermissionDenied(
            _("Only whoever filed the whistle and the %(village)s officers can print its receipt.")
            % level_words()
        )
    tracking_url = request.build_absolute_uri(
        f"{reverse('track')}?{urlencode({'code': case.tracking_code})}"
    )
    return render(
        request,
        "cases/detail/receipt.html",
        {"case": case, "tracking_url": tracking_url, "qr_svg": tracking_qr_svg(url=tracking_url)},
    )


urlpatterns = [path("cases/<int:pk>/receipt/", receipt, name="receipt")]
