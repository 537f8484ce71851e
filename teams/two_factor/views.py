"""The second factor's pages: give a code after the password, set up an authenticator (QR code
and secret), and one's own settings (recovery codes, turning it off when the role allows)."""

from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from audit.models import AccessKind
from audit.services import record_access
from core.views import run_service
from teams.two_factor import selectors, services
from teams.two_factor.forms import CodeForm, EnrolmentForm


def _next_url(request: HttpRequest) -> str:
    """Where to go once verified: the page that sent the user here, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _to(name: str, *, next_url: str) -> HttpResponse:
    return redirect(f"{reverse(name)}?{urlencode({'next': next_url})}")


def _mark_verified(request: HttpRequest, device) -> None:
    """The session gave its second factor: a new session key for the raised privilege."""
    request.session.cycle_key()
    otp_login(request, device)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """After the password: the code of the authenticator, or a recovery code."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not selectors.has_second_factor(user=user):
        if selectors.second_factor_required(user=user):
            return _to("two_factor_enrol", next_url=_next_url(request))
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, device = run_service(
            request,
            form,
            lambda: services.verify_second_factor(user=user, code=form.cleaned_data["code"]),
        )
        record_access(
            request=request,
            kind=AccessKind.SECOND_FACTOR if done else AccessKind.SECOND_FACTOR_FAILED,
            detail=device.name if done else "",
        )
        if done:
            _mark_verified(request, device)
            if device.name == services.RECOVERY_NAME:
                left = selectors.recovery_codes_left(user=user)
                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code; %(left)d are left. Make new ones "
                        "on your two-factor page if you are running out."
                    )
                    % {"left": left},
                )
            return redirect(_next_url(request))
    return render(
        request, "teams/two_factor/verify.html", {"form": form, "next": _next_url(request)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: the QR code (inline SVG: no script, no inline style) and
    the secret as text, confirmed by one code; then the recovery codes, shown this once. A
    user who already has one must give its code first: a password alone never replaces it."""
    user = request.user
    if selectors.has_second_factor(user=user) and not user.is_verified():
        return _to("two_factor_verify", next_url=request.get_full_path())
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, result = run_service(
            request,
            form,
            lambda: services.confirm_enrolment(user=user, code=form.cleaned_data["code"]),
        )
        record_access(
            request=request,
            kind=AccessKind.SECOND_FACTOR if done else AccessKind.SECOND_FACTOR_FAILED,
            detail="enrolment",
        )
        if done:
            device, codes = result
            _mark_verified(request, device)
            return render(
                request,
                "teams/two_factor/recovery_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
    device = services.start_enrolment(user=user)
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "teams/two_factor/enrol.html",
        {
            "form": form,
            "next": _next_url(request),
            # segno writes only paths with fill/stroke attributes: no style, no script.
            "qr_svg": mark_safe(qr.svg_inline(scale=5, dark="#000", light="#fff")),  # noqa: S308
            "secret": services.secret_text(device=device),
            "required": selectors.second_factor_required(user=user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """One's own two-factor state; POST action=recovery makes new recovery codes (shown this
    once), action=off removes the authenticator when the role allows it."""
    user = request.user
    enrolled = selectors.has_second_factor(user=user)
    if request.method == "POST":
        if enrolled and not user.is_verified():
            return _to("two_factor_verify", next_url=request.path)
        action = request.POST.get("action")
        if action == "recovery":
            done, codes = run_service(
                request, None, lambda: services.replace_recovery_codes(user=user)
            )
            if done:
                return render(
                    request,
                    "teams/two_factor/recovery_codes.html",
                    {"codes": codes, "next": request.path, "first_time": False},
                )
        elif action == "off":
            done, _result = run_service(
                request, None, lambda: services.turn_off_second_factor(user=user)
            )
            if done:
                messages.success(request, _("Two-factor sign-in is off for your account."))
        return redirect("two_factor")
    return render(
        request,
        "teams/two_factor/settings.html",
        {
            "enrolled": enrolled,
            "required": selectors.second_factor_required(user=user),
            "recovery_left": selectors.recovery_codes_left(user=user) if enrolled else 0,
        },
    )
