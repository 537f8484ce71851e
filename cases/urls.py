"""URLs of the case pages. Each page module owns its own `urlpatterns`; this file joins them."""

from cases.views import (
    board,
    bulk,
    detail,
    filing,
    lists,
    longterm,
    mine,
    notifications,
    receipt,
    supervision,
    village,
)

app_name = "cases"

urlpatterns = [
    *filing.urlpatterns,
    *mine.urlpatterns,
    *village.urlpatterns,
    *board.urlpatterns,
    *bulk.urlpatterns,
    *supervision.urlpatterns,
    *longterm.urlpatterns,
    *detail.urlpatterns,
    *receipt.urlpatterns,
    *lists.urlpatterns,
    *notifications.urlpatterns,
]
