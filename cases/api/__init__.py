"""The REST API of cases, dispatches and notifications (mounted by whistle.api_urls)."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    # Imported when the URLs load, not with the package: the views add a route per action
    # declared at import, and other apps declare theirs in ready() (consultation.workflow).
    from cases.api import views

    router.register("cases", views.CaseViewSet, basename="case")
    router.register("dispatches", views.DispatchViewSet, basename="dispatch")
    router.register("postponements", views.PostponementViewSet, basename="postponement")
    router.register("notifications", views.NotificationViewSet, basename="notification")
