"""Why a whistle was not accepted, stored as a code and parameters and put into words in the
reader's language: a Chinese grid worker reads a rejection a village officer wrote in English
in Chinese. The officer's own words are stored as they were written (they are not a system
text); texts stored as prose before the codes existed read as written."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class RejectionReason(models.TextChoices):
    NOT_ON_LIST = "not_on_list", _("The matter is not on the whistle list.")
    DISPUTE = "dispute", _("A civil or economic dispute: not for whistling.")
    DUPLICATE = "duplicate", _("A duplicate of a case already open.")
    # Set by `merge` alone, with the number of the case it was merged into.
    MERGED = "merged", _("Merged into another case as a duplicate.")


# The reasons a village officer may choose when rejecting (merging has its own action).
COMMON_REASONS = (RejectionReason.NOT_ON_LIST, RejectionReason.DISPUTE, RejectionReason.DUPLICATE)


def reason_text(*, code: str = "", text: str = "", merged_into: str = "") -> str:
    """The reason in the active language: the code's sentence, then the officer's own words."""
    lines = []
    if code == RejectionReason.MERGED and merged_into:
        lines.append(gettext("Duplicate of %(number)s.") % {"number": merged_into})
    elif code in RejectionReason.values:
        lines.append(str(RejectionReason(code).label))
    if (text or "").strip():
        lines.append(text.strip())
    return "\n".join(lines)
