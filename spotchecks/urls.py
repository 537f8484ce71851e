"""URLs of the spot-check pages, under /spotchecks/."""

from django.urls import path

from spotchecks import views

app_name = "spotchecks"

urlpatterns = [
    path("", views.spot_checks, name="list"),
    path("<int:pk>/", views.spot_check, name="detail"),
]
