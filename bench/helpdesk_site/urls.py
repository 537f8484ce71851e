"""django-helpdesk's URLs (its staff pages and its API, /api/tickets/ among them) at the root."""

from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
