"""URLs of the consultation pages, under /consultation/."""

from django.urls import path
from django.views.generic import RedirectView

from consultation import views

app_name = "consultation"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.call, name="call"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/minutes/", views.minutes, name="minutes"),
    path("<int:pk>/print/", views.minutes_print, name="print"),
    path("<int:pk>/archive/", views.archive, name="archive"),
    path("<int:pk>/attendance/confirm/", views.confirm_attendance, name="confirm_attendance"),
    path("agenda/<int:pk>/decide/", views.decide, name="decide"),
    path("invitations/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("invitations/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("hot-spots/", views.hotspots, name="hotspots"),
    # The address people guess (and older links use): a permanent redirect to the page.
    path(
        "hotspots/",
        RedirectView.as_view(
            pattern_name="consultation:hotspots", permanent=True, query_string=True
        ),
        name="hotspots_redirect",
    ),
    path("investigations/", views.investigations, name="investigations"),
    path("investigations/new/", views.plan_investigation, name="plan_investigation"),
    path("investigations/<int:pk>/", views.investigation, name="investigation"),
]
