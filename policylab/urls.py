from django.urls import path

from policylab.views import compare, scenarios

app_name = "policylab"

urlpatterns: list = [
    path("", scenarios.index, name="index"),
    path("scenarios/new/", scenarios.scenario_new, name="scenario_new"),
    path("scenarios/<int:pk>/", scenarios.scenario, name="scenario"),
    path("scenarios/<int:pk>/delete/", scenarios.scenario_delete, name="scenario_delete"),
    path("scenarios/<int:pk>/replay/", scenarios.replay_new, name="replay_new"),
    path("replays/<int:pk>/", scenarios.replay, name="replay"),
    path("replays/<int:pk>/progress/", scenarios.replay_progress, name="replay_progress"),
    path("replays/<int:pk>/cancel/", scenarios.replay_cancel, name="replay_cancel"),
    path("replays/<int:pk>/rename/", scenarios.replay_rename, name="replay_rename"),
    path("replays/<int:pk>/delete/", scenarios.replay_delete, name="replay_delete"),
    path("compare/", compare.compare, name="compare"),
    path("compare/export.xlsx", compare.compare_export, name="compare_export"),
    path("compare/print/", compare.compare_print, name="compare_print"),
    path("replays/<int:pk>/cases/", compare.replay_cases, name="replay_cases"),
    path("replays/<int:pk>/changed/", compare.replay_changed, name="replay_changed"),
]
