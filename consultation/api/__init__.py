"""The REST API of consultations, their agenda's decisions, attendance and comprehensive
investigations, registered on the one router of whistle.api_urls."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    from consultation.api import views

    router.register("consultations", views.ConsultationViewSet, basename="consultation")
    router.register("agenda-items", views.AgendaItemViewSet, basename="agenda-item")
    router.register("invitations", views.InvitationViewSet, basename="invitation")
    router.register("investigations", views.InvestigationViewSet, basename="investigation")
