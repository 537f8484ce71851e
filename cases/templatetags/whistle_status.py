"""A case's status in words as people read it: a whistle merged into the case it repeats is
"merged", not "rejected", though both end in the same status."""

from django import template

from cases.models import Case
from cases.selectors_pages.tracking_codes import status_in_words

register = template.Library()


@register.filter
def case_status(case: Case) -> str:
    return status_in_words(status=case.status, merged=bool(case.merged_into_id))
