"""What the assessment's words mean, once, for the pages and the docs (docs/architecture.md,
Facts and indicators): "due", "late", "accepted" and "suspended", and each indicator's help
text built on them.

The facts (assessment.facts) compute exactly these; the help texts say them to the user, so a
supervisor reads on the dashboard what the number counts."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from teams.levels import CITY, PREFECTURE, on_chain, with_levels

TERMS: dict[str, Promise] = {
    "counted": _(
        "A period counts the cases filed in it, rejected and merged whistles left out; its "
        "figures follow those cases as they are handled."
    ),
    "due": _(
        "Due: closed, or past a limit of one of its own stages. An open case still within its "
        "limits is not yet due: on-time closure leaves it out until it closes or falls due."
    ),
    "late": with_levels(
        _(
            "Late: a limit of the case's own stages passed before it was met (screening, "
            "%(village)s handling, re-dispatch, handling, a team's or department's task, a "
            "consultation, on-site verification): its timer fired or it was met late. Each "
            "passed limit counts, so a screening timer whistle and a verification overrun are "
            "late too. A late report-in is the unit's own lateness (response rate)."
        )
    ),
    "accepted": with_levels(
        _(
            "Accepted: a %(village)s officer took the whistle up, accepting it or whistling it "
            "to the %(town)s. A whistle the timer sent up, or the hotline routed to the "
            "%(town)s, without the %(village)s accepting it is not accepted."
        )
    ),
    "suspended": _(
        "Suspended (挂账): still parked at the end of the month it was filed in, by a suspension "
        "made before any of its limits passed. It stays out of the closure rates for good, even "
        "when resumed later; a case parked later, or parked and resumed within the month, stays "
        "in them. So a closed month's figures do not change when an old case is suspended or "
        "resumed."
    ),
}

# Which terms each indicator's number rests on, and what it counts.
_OWN: dict[str, Promise] = {
    "on_time_closure_rate": _(
        "Cases closed on time (closed and never late) out of the due cases, suspended ones "
        "left out."
    ),
    "closure_rate": _("Cases closed out of the period's cases, suspended ones left out."),
    "rework_rate": _(
        "Cases that failed an on-site verification out of the period's cases; a team or "
        "department only for what its own dispatch did."
    ),
    "postponement_rate": _("Cases with an approved postponement out of the period's cases."),
    "response_rate": _(
        "Dispatches reported in within their report-in limit out of the dispatches sent in the "
        "period (not cancelled, not returned): counted in dispatches, not cases."
    ),
    "satisfaction_rate": _(
        "Cases evaluated satisfied or basically satisfied out of the cases evaluated."
    ),
    "on_the_spot_rate": with_levels(
        _("Cases the %(village)s closed itself out of the cases it accepted.")
    ),
    "level_village_share": with_levels(
        _("Closed cases closed at %(village)s level: the level view.")
    ),
    "level_town_share": with_levels(_("Closed cases closed at %(town)s level: the level view.")),
    "level_city_share": with_levels(_("Closed cases closed at %(city)s level: the level view.")),
    "level_prefecture_share": with_levels(
        _("Closed cases closed at %(prefecture)s level: the level view.")
    ),
    "solved_by_village_share": with_levels(
        _("Closed cases the %(village)s solved itself (target 70%%).")
    ),
    "solved_by_team_share": with_levels(
        _("Closed cases the %(town)s's teams and departments solved (target 20%%).")
    ),
    "solved_by_consultation_share": with_levels(
        _(
            "Closed cases settled by a consultation of the %(town)s or %(city)s committee "
            "(target 10%%)."
        )
    ),
    "avg_handling_hours": _(
        "Mean working hours from filing to the last resolution of the closed cases."
    ),
    "p90_handling_hours": _(
        "90th percentile of the working hours from filing to resolution of the closed cases."
    ),
    "overruled_return_rate": _("Returns the committee overruled out of the dispatches received."),
    "false_reply_rate": _(
        "Replies a spot check's revisit found false out of the dispatches spot-checked."
    ),
    "rejected_share": _("Whistles rejected (not merged) out of all whistles filed."),
    "merged_share": _("Whistles merged into the case they repeat out of all whistles filed."),
    "supported_share": _("Whistles backed by at least one “me too” out of all whistles filed."),
    "urge_rate": _("Dispatches urged out of the dispatches sent in the period."),
    "supervision_rate": _("Dispatches under a supervision order out of those sent."),
    "supervision_late_rate": _(
        "Dispatches whose supervision order was met late out of those under an order."
    ),
}
# The consultation share where the top committee is not on the escalation chain
# (teams.levels.on_chain): only the middle committee consults.
_CONSULTATION_OFF_CHAIN = with_levels(
    _("Closed cases settled by a consultation of the %(town)s committee (target 10%%).")
)
# The consultation share where the prefecture's committee is on the chain too (four levels).
_CONSULTATION_TO_PREFECTURE = with_levels(
    _(
        "Closed cases settled by a consultation of the %(town)s, %(city)s or %(prefecture)s "
        "committee (target 10%%)."
    )
)
_USES: dict[str, tuple[str, ...]] = {
    "on_time_closure_rate": ("due", "late", "suspended"),
    "closure_rate": ("suspended",),
    "on_the_spot_rate": ("accepted",),
}


def help_text(key: str) -> list[Promise]:
    """What the indicator counts, then the meaning of each term its number rests on, then which
    cases a period counts."""
    own = _OWN.get(key)
    if key == "solved_by_consultation_share" and not on_chain(CITY):
        own = _CONSULTATION_OFF_CHAIN
    elif key == "solved_by_consultation_share" and on_chain(PREFECTURE):
        own = _CONSULTATION_TO_PREFECTURE
    terms = [TERMS[term] for term in _USES.get(key, ())]
    return [*([own] if own is not None else []), *terms, TERMS["counted"]]
