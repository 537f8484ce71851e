"""What app.js needs on every signed-in page: the service worker's address, the user (drafts
are sent only for their author) and the form token for the requests it makes."""

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def app_config(context: template.Context) -> dict:
    request = context["request"]
    return {
        "user": request.user.pk,
        "csrf": get_token(request),
        "serviceWorker": reverse("service_worker"),
    }
