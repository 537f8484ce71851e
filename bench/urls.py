"""The served application's URLs plus the ceiling route; used only under bench.settings."""

from django.urls import path

from bench.ceiling.views import CeilingView
from whistle.urls import urlpatterns as whistle_urlpatterns

urlpatterns = [
    path("bench/ceiling/", CeilingView.as_view(), name="bench-ceiling"),
    *whistle_urlpatterns,
]
