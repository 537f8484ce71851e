"""My alerts: the signed-in user sets how they are alerted beyond the inbox. Only their own
preference: the page takes no user id, so nobody else's can be reached through it."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.views import run_service
from teams import alerts
from teams.forms_alerts import AlertPreferenceForm


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_alerts(request: HttpRequest) -> HttpResponse:
    """GET shows the form; POST action=save stores it, action=defaults puts the channels back
    to the defaults (quiet hours and texting kept)."""
    user = request.user
    current = alerts.alerts_of(user=user)
    initial = {
        "channels": list(current.channels),
        "urgent_sms": current.urgent_sms,
        "quiet_start": current.quiet_start,
        "quiet_end": current.quiet_end,
    }
    if request.method == "POST" and request.POST.get("action") == "defaults":
        done, _result = run_service(
            request,
            None,
            lambda: alerts.set_alert_preference(
                user=user,
                channels=None,
                urgent_sms=current.urgent_sms,
                quiet_start=current.quiet_start,
                quiet_end=current.quiet_end,
            ),
        )
        if done:
            messages.success(request, _("Your alerts use the default channels again."))
        return redirect("my_alerts")
    form = AlertPreferenceForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        offered=current.offered,
    )
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            done, _result = run_service(
                request,
                form,
                lambda: alerts.set_alert_preference(
                    user=user,
                    channels=data["channels"],
                    urgent_sms=data.get("urgent_sms", current.urgent_sms),
                    quiet_start=data["quiet_start"],
                    quiet_end=data["quiet_end"],
                ),
            )
            if done:
                messages.success(request, _("Your alert settings were saved."))
                return redirect("my_alerts")
        messages.error(request, _("Nothing was changed: please correct the errors below."))
    return render(
        request,
        "teams/alerts.html",
        {
            "form": form,
            "current": current,
            "escalation_minutes": settings.WHISTLE_URGENT_ESCALATION_MINUTES,
            "sms_offered": "sms" in current.offered,
            "push_offered": "push" in current.offered,
            "time_zone": settings.TIME_ZONE,
        },
    )
