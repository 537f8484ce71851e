"""The assessment dashboards, mounted at /assessment/."""

from django.urls import path

from assessment import views

app_name = "assessment"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("rankings/", views.rankings, name="rankings"),
    path("units/<slug:unit_type>/<int:unit_id>/", views.unit_page, name="unit"),
    path("cases/", views.cases_behind, name="cases"),
    path("hotspots/", views.hot_spots, name="hotspots"),
    path("evaluate/", views.evaluate, name="evaluate"),
    path("corrections/", views.corrections, name="corrections"),
    path("report/", views.report, name="report"),
]
