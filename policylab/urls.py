from django.urls import path  # noqa: F401

from policylab.views import compare, scenarios  # noqa: F401

app_name = "policylab"

urlpatterns: list = []
