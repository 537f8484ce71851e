from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from teams import views as team_views

urlpatterns = [
    path("", team_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cases.urls")),
    path("consultation/", include("consultation.urls")),
    path("admin/", admin.site.urls),
]
