"""What the town and city committees (and, on four levels, the prefecture's) decide:
consultations, escalation, postponements and reopening; suspension (挂账) is in `longterm`
(docs/workflow.md)."""

from django.utils.translation import gettext_lazy as _

from cases.models import Level, Status
from cases.workflow import effects as fx
from cases.workflow import guards
from cases.workflow.spec import CASE, REGISTRY, Action, Step, Transition
from checklists.models import Stage
from teams.levels import with_levels

S = Status

REGISTRY.step(
    Step(
        "decide",
        timeline=_("decided in consultation"),
        tracking=_("Decided in consultation"),
        moves=Transition(frozenset({S.IN_CONSULTATION}), S.IN_PROGRESS),
        public=True,
        # Each task's dispatch starts its report-in and handling clocks with it.
        effects=(
            fx.Meet(
                (
                    Stage.TOWN_CONSULTATION,
                    Stage.CITY_CONSULTATION,
                    Stage.PREFECTURE_CONSULTATION,
                )
            ),
        ),
        assessment="the committee's decision: its tasks become dispatches with their deadlines",
    )
)
REGISTRY.action(
    Action(
        name="decide",
        on=CASE,
        steps=("decide",),
        button=_("Record the decision"),
        done=_("The decision was recorded."),
        summary="Record the consultation's decision and its tasks (committee)",
        who=guards.committee,
        run="cases.services.committee.run_decide",
        form="cases.forms_detail.DecideForm",
        serializer="cases.api.serializers.DecideSerializer",
        api_fields={"handler": "tasks"},
        form_fields={
            "handler": "team",
            "tasks": "task",
            "tasks-0-action": "task",
            "tasks-0-due_at": "due_at",
        },
    )
)

REGISTRY.step(
    Step(
        "escalate",
        timeline=with_levels(_("escalated to the %(city)s")),
        tracking=with_levels(_("Escalated to the %(city)s")),
        moves=Transition(
            frozenset({S.IN_CONSULTATION}), S.IN_CONSULTATION, Level.CITY, frozenset({Level.TOWN})
        ),
        public=True,
        effects=(fx.Meet((Stage.TOWN_CONSULTATION,)), fx.Start(Stage.CITY_CONSULTATION)),
        notices=(fx.notice("case_escalated", fx.city_committee, who="the city committee"),),
        assessment="the case climbs to the city (the level view); solved by a consultation",
    )
)
REGISTRY.action(
    Action(
        name="escalate",
        on=CASE,
        steps=("escalate",),
        button=with_levels(_("Escalate to the %(city)s")),
        done=with_levels(_("The case was escalated to the %(city)s.")),
        summary="Escalate a town consultation to the city (town committee)",
        who=guards.town_committee,
        # The deployment may leave the top committee off the chain (teams.levels.on_chain):
        # then the middle committee decides last (and the timer only reminds it, cases.firing).
        when=guards.city_committee_on_chain,
        refusal=with_levels(
            _("The %(city)s committee is not on this deployment's escalation chain.")
        ),
        run="cases.services.committee.run_escalate",
        form="cases.forms_detail.EscalateForm",
        serializer="cases.api.serializers.ReasonSerializer",
        by_timer=True,
    )
)

REGISTRY.step(
    Step(
        "escalate_to_prefecture",
        timeline=with_levels(_("escalated to the %(prefecture)s")),
        tracking=with_levels(_("Escalated to the %(prefecture)s")),
        moves=Transition(
            frozenset({S.IN_CONSULTATION}),
            S.IN_CONSULTATION,
            Level.PREFECTURE,
            frozenset({Level.CITY}),
        ),
        public=True,
        effects=(fx.Meet((Stage.CITY_CONSULTATION,)), fx.Start(Stage.PREFECTURE_CONSULTATION)),
        notices=(
            fx.notice("case_escalated", fx.prefecture_committee, who="the prefecture committee"),
        ),
        assessment="the case climbs to the prefecture (four levels; the level view); solved by a "
        "consultation",
    )
)
REGISTRY.action(
    Action(
        name="escalate_to_prefecture",
        on=CASE,
        steps=("escalate_to_prefecture",),
        button=with_levels(_("Escalate to the %(prefecture)s")),
        done=with_levels(_("The case was escalated to the %(prefecture)s.")),
        summary="Escalate a city consultation to the prefecture (city committee; four levels)",
        who=guards.committee,
        # Only where the deployment put the prefecture's committee on the chain
        # (teams.levels.on_chain); otherwise the city committee decides last.
        when=guards.prefecture_committee_on_chain,
        refusal=with_levels(
            _("The %(prefecture)s committee is not on this deployment's escalation chain.")
        ),
        run="cases.services.committee.run_escalate_to_prefecture",
        form="cases.forms_detail.EscalateToPrefectureForm",
        serializer="cases.api.serializers.ReasonSerializer",
        by_timer=True,
    )
)

REGISTRY.step(
    Step(
        "reopen",
        timeline=_("reopened"),
        tracking=_("Reopened"),
        # To screening (a rejected case) or back to handling where it was solved.
        moves=Transition(frozenset({S.REJECTED, S.CLOSED}), S.FILED),
        public=True,
        effects=(fx.Start(),),
        assessment="open again: no longer closed or rejected",
    )
)
REGISTRY.action(
    Action(
        name="reopen",
        on=CASE,
        steps=("reopen",),
        button=_("Reopen"),
        done=_("The case was reopened."),
        summary="Reopen a rejected or closed case (town committee)",
        who=guards.town_committee,
        run="cases.services.committee.run_reopen",
        form="cases.forms_detail.ReopenForm",
        serializer="cases.api.serializers.ReasonSerializer",
    )
)

REGISTRY.step(
    Step(
        "request_postponement",
        timeline=_("asked for a postponement"),
        notices=(
            fx.notice(
                "postponement_requested",
                fx.committee_at_level,
                who="the committee at the case's level",
            ),
        ),
    )
)
REGISTRY.action(
    Action(
        name="request_postponement",
        on=CASE,
        steps=("request_postponement",),
        button=_("Request a postponement"),
        done=_("The postponement was requested."),
        summary="Ask the level above to postpone a running deadline",
        who=guards.deadline_holder,
        when=guards.status_in(S.VILLAGE_HANDLING, S.DISPATCHED, S.IN_PROGRESS),
        run="cases.services.committee.run_request_postponement",
        form="cases.forms_detail.RequestPostponementForm",
        serializer="cases.api.serializers.RequestPostponementSerializer",
    )
)

# Decided on the postponement's own page and route (cases.services.decide_postponement).
REGISTRY.step(
    Step(
        "decide_postponement",
        timeline=_("decided on a postponement"),
        assessment="postponed: an approved postponement of one of its deadlines",
    )
)
