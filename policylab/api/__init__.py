"""The REST API of the policy lab, for a city's own analysts: scenarios, their replays (queued,
run by the worker, cancelled), the cases whose verdict a replay changed and the comparison of
up to three replays with the rules in force; registered on the one router of
whistle.api_urls."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    from policylab.api import views

    router.register("lab/scenarios", views.ScenarioViewSet, basename="lab-scenario")
    router.register("lab/replays", views.ReplayViewSet, basename="lab-replay")
    router.register("lab/compare", views.CompareViewSet, basename="lab-compare")
