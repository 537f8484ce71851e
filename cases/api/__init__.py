"""The REST API of cases, dispatches and notifications (mounted by whistle.api_urls)."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    from cases.api import views

    router.register("cases", views.CaseViewSet, basename="case")
    router.register("dispatches", views.DispatchViewSet, basename="dispatch")
    router.register("postponements", views.PostponementViewSet, basename="postponement")
    router.register("notifications", views.NotificationViewSet, basename="notification")
