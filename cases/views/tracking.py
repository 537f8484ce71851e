"""Case tracking for citizens: the tracking code they were given shows the status and the
public steps of their case, the public updates and the attachments marked public, and lets
them rate it once it is closed. Nothing personal and no internal note is shown, and lookups are
rate limited per address so codes cannot be guessed."""

from dataclasses import replace

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cases.errors import CaseError
from cases.models import Case, Satisfaction, Status
from cases.open311 import ratelimit
from cases.open311.public import (
    PublicTrace,
    attachment_by_token,
    case_by_tracking_code,
    public_trace,
    status_label,
    step_label,
)
from cases.selectors_pages.support import supporter_count
from cases.selectors_pages.tracking_codes import status_in_words
from cases.services import evaluate_case
from cases.uploads import open_attachment

LOOKUPS_PER_WINDOW = 20
WINDOW_SECONDS = 600


class TrackingForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Tracking code"),
        max_length=40,
        help_text=gettext_lazy("The 16-character code you were given when you reported."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class RatingForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=40)
    satisfaction = forms.ChoiceField(
        label=gettext_lazy("How satisfied are you with how your case was handled?"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _trace_for_citizen(case: Case) -> PublicTrace:
    """A merged whistle was not refused: its step reads as merged, not as "Not accepted"."""
    trace = public_trace(case=case)
    if case.merged_into_id:
        refused, merged = (
            step_label("reject"),
            _("Merged with an earlier report of the same problem"),
        )
        steps = [replace(s, label=merged) if s.label == refused else s for s in trace.steps]
        trace = replace(trace, steps=steps)
    return trace


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/tracking/too_many.html", status=429)


@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """GET shows the form (or looks up ?code=); POST looks up a code or rates the case."""
    data = request.POST if request.method == "POST" else request.GET
    if not data.get("code"):
        return render(request, "cases/tracking/track.html", {"form": TrackingForm()})
    allowed, _retry = ratelimit.hit(
        bucket=f"track:{ratelimit.client_bucket(request)}",
        limit=LOOKUPS_PER_WINDOW,
        window_seconds=WINDOW_SECONDS,
    )
    if not allowed:
        return _too_many(request)
    case = case_by_tracking_code(code=data["code"])
    if case is None:
        return render(
            request,
            "cases/tracking/track.html",
            {
                "form": TrackingForm(),
                "not_found": _("There is no case with this tracking code."),
            },
        )
    rating_form = None
    thanks = ""
    if request.method == "POST" and "satisfaction" in request.POST:
        rating_form = RatingForm(request.POST)
        if rating_form.is_valid():
            try:
                case = evaluate_case(
                    user=None,
                    case_id=case.pk,
                    satisfaction=rating_form.cleaned_data["satisfaction"],
                    comment=rating_form.cleaned_data["comment"],
                    tracking_code=case.tracking_code,
                )
                thanks = _("Thank you: your rating was recorded.")
                rating_form = None
            except CaseError as error:
                rating_form.add_error(None, error.message)
    can_rate = case.status == Status.CLOSED and not case.satisfaction
    if can_rate and rating_form is None:
        rating_form = RatingForm(initial={"code": case.tracking_code})
    return render(
        request,
        "cases/tracking/case.html",
        {
            "case": case,
            "status": status_in_words(status=case.status, merged=bool(case.merged_into_id)),
            "is_closed": case.status in (Status.CLOSED, Status.REJECTED),
            "trace": _trace_for_citizen(case),
            # What the village wrote for the whistler: why not, and where to go instead.
            "refused": case.status == Status.REJECTED and not case.merged_into_id,
            # A common reason is stored as a code: in words in the citizen's language.
            "rejection_reason": case.reason_for_rejection(),
            "merged_into": case.merged_into,
            "merged_into_status": (
                status_label(case.merged_into.status) if case.merged_into_id else ""
            ),
            "merged_into_trace": _trace_for_citizen(case.merged_into)
            if case.merged_into_id
            else None,
            "supporter_count": supporter_count(case=case),
            "satisfaction": Satisfaction(case.satisfaction).label if case.satisfaction else "",
            "rating_form": rating_form if can_rate else None,
            "thanks": thanks,
            "lookup_form": TrackingForm(),
        },
    )


@require_http_methods(["GET", "HEAD"])
def track_attachment(request: HttpRequest, token: str) -> FileResponse:
    """A public photo or document by its signed address (tracking page, Open311 media_url);
    an internal or unknown one is not found, for everyone."""
    attachment = attachment_by_token(token=token)
    if attachment is None:
        raise Http404()
    try:
        handle, content_type = open_attachment(
            attachment=attachment, thumbnail=request.GET.get("size") == "thumbnail"
        )
    except FileNotFoundError:
        raise Http404() from None
    is_image = content_type.startswith("image/")
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not is_image,
        filename=attachment.file.name.rsplit("/", 1)[-1],  # never the uploader's own name
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Short: an attachment made internal again must soon be gone from caches as well.
    response["Cache-Control"] = "public, max-age=60"
    return response
