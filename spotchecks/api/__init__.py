"""The REST API of spot checks, registered on the one router of whistle.api_urls. Recording
a revisit is the case action `record_spot_check` (api:case-record-spot-check), routed from
its declaration in the registry."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    from spotchecks.api import views

    router.register("spot-checks", views.SpotCheckViewSet, basename="spot-check")
