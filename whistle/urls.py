from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from cases.views.tracking import track, track_attachment
from teams import views as team_views
from teams import views_alerts, views_app, views_push, views_sessions, views_tokens
from whistle import health

urlpatterns = [
    path("", team_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("manifest.webmanifest", views_app.manifest, name="manifest"),
    path("sw.js", views_app.service_worker, name="service_worker"),
    path("push/subscriptions/", views_push.subscribe, name="push_subscribe"),
    path("push/subscriptions/remove/", views_push.unsubscribe, name="push_unsubscribe"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", include("teams.two_factor.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cases.urls")),
    path("consultation/", include("consultation.urls")),
    path("assessment/", include("assessment.urls")),
    path("spotchecks/", include("spotchecks.urls")),
    path("audit/", include("audit.urls")),
    path("lab/", include("policylab.urls")),
    path("open311/v2/", include("cases.open311.urls")),
    path("track/", track, name="track"),
    path("track/files/<str:token>/", track_attachment, name="track_attachment"),
    path("admin/", admin.site.urls),
    path("tokens/", views_tokens.tokens, name="tokens"),
    path("alerts/", views_alerts.my_alerts, name="my_alerts"),
    path(
        "accounts/sign-out-everywhere/",
        views_sessions.sign_out_everywhere,
        name="sign_out_everywhere",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"),
        name="api-redoc",
    ),
    path("api/", include("whistle.api_urls")),
]
