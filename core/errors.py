"""The base of the errors a service raises to refuse a request. Each carries a translatable
message and a stable code, so pages (core.views.run_service), the API (core.api.errors) and
tasks can show or map them the same way. The apps derive their own (cases.errors)."""

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    """A service refused the request; nothing was changed when one is raised.

    `fields` maps input names to their messages; `http_status` is the API's answer. A subclass
    that is also Django's Http404 or PermissionDenied is answered 404 or 403 by the pages."""

    code = "error"
    default_message = _("Please correct the errors below.")
    http_status = 400

    def __init__(self, message: str | None = None, *, fields: dict | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.fields = fields or {}
        super().__init__(str(self.message))
