from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cases.views.tracking import track
from teams import views as team_views

urlpatterns = [
    path("", team_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cases.urls")),
    path("consultation/", include("consultation.urls")),
    path("assessment/", include("assessment.urls")),
    path("open311/v2/", include("cases.open311.urls")),
    path("track/", track, name="track"),
    path("admin/", admin.site.urls),
]
