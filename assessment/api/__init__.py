"""The REST API of the assessment: indicators, rankings, the cases behind each number, their
exports, and the towns' evaluations of departments; registered on the one router of
whistle.api_urls."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    from assessment.api import views

    router.register("assessment", views.AssessmentViewSet, basename="assessment")
    router.register("town-evaluations", views.TownEvaluationViewSet, basename="town-evaluation")
