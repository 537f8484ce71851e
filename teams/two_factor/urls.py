from django.urls import path

from teams.two_factor import views

urlpatterns = [
    path("", views.settings_page, name="two_factor"),
    path("verify/", views.verify, name="two_factor_verify"),
    path("enrol/", views.enrol, name="two_factor_enrol"),
]
