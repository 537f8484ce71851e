"""The REST API, mounted at /api/ by whistle.urls.

How an app adds its endpoints: give the app an `api` module (`<app>/api.py` or a package
`<app>/api/__init__.py`) with a function

    def register(router: rest_framework.routers.DefaultRouter) -> None:
        router.register("consultations", ConsultationViewSet, basename="consultation")

Every installed app's `register` is called once, in INSTALLED_APPS order, on the one router
below; nothing here needs editing. Base the viewsets on `core.api.views.ApiViewSet`: its
schema documents the errors, which come out as {"code", "message", "fields"}
(core.api.errors); a viewset whose POSTs change cases bases on
`cases.api.idempotency.IdempotentViewSet`, so that they honour the Idempotency-Key header.
Annotate the views with
drf-spectacular's `extend_schema` so that `manage.py spectacular --validate --fail-on-warn`
stays clean; tests/api/test_schema.py checks it and runs schemathesis on every endpoint.
"""

from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule
from rest_framework.routers import DefaultRouter

router = DefaultRouter()


def _register_apps() -> None:
    for config in apps.get_app_configs():
        if not module_has_submodule(config.module, "api"):
            continue
        module = import_module(f"{config.name}.api")
        register = getattr(module, "register", None)
        if callable(register):
            register(router)


_register_apps()

app_name = "api"
urlpatterns = router.urls
