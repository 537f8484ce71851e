"""URLs of the case pages. Each page module owns its own `urlpatterns`; this file joins them."""

import importlib

app_name = "cases"

PAGE_MODULES = [
    "cases.views.filing",
    "cases.views.mine",
    "cases.views.village",
    "cases.views.board",
    "cases.views.detail",
    "cases.views.lists",
    "cases.views.notifications",
]

urlpatterns = []
for _name in PAGE_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as _error:
        if _error.name != _name:
            raise
        continue  # a page module not written yet
    urlpatterns += _module.urlpatterns
