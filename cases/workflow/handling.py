"""What the town's teams and the departments do with a dispatched case: report in, assign,
handle, resolve; and how the town adds or withdraws a dispatch (docs/workflow.md)."""

from django.utils.translation import gettext_lazy as _

from cases.models import Status
from cases.workflow import effects as fx
from cases.workflow import guards
from cases.workflow.spec import CASE, DISPATCH, REGISTRY, Action, Step, Transition
from checklists.models import Stage

S = Status

# Per dispatch: the first report-in moves the case; later ones are records.
REGISTRY.step(
    Step(
        "report_in",
        timeline=_("reported in"),
        tracking=_("A team or department reported in"),
        moves=Transition(frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.IN_PROGRESS),
        public=True,
        effects=(fx.MeetDispatch((Stage.REPORT_IN,)),),
        board=True,
        assessment="the dispatch's report-in, on time or late (the report-in rate)",
    )
)
REGISTRY.action(
    Action(
        name="report_in",
        on=DISPATCH,
        steps=("report_in",),
        button=_("Report in"),
        done=_("You reported in."),
        summary="Report in for the dispatch (captain, member or liaison)",
        who=guards.handler,
        when=guards.waiting,
        refusal=_("This dispatch has already reported in."),
        run="cases.services.handling.run_report_in",
        form="cases.forms_detail.ReportInForm",
        serializer="cases.api.serializers.VersionSerializer",
    )
)

REGISTRY.step(
    Step(
        "assign",
        timeline=_("assigned a team member"),
        notices=(fx.notice("case_assigned", fx.chosen, who="the member assigned"),),
    )
)
REGISTRY.action(
    Action(
        name="assign",
        on=DISPATCH,
        steps=("assign",),
        button=_("Assign a member"),
        done=_("The member was assigned."),
        summary="Assign a team member (captain)",
        who=guards.dispatch_captain,
        when=guards.active,
        run="cases.services.handling.run_assign",
        form="cases.forms_detail.AssignForm",
        serializer="cases.api.serializers.AssignSerializer",
    )
)

REGISTRY.step(Step("handle", timeline=_("recorded handling")))
REGISTRY.action(
    Action(
        name="handle",
        on=DISPATCH,
        steps=("handle",),
        button=_("Record handling"),
        done=_("The handling was recorded."),
        summary="Record handling notes and photos",
        who=guards.handler,
        when=guards.reported,
        refusal=_("Report in before recording the handling."),
        run="cases.services.handling.run_handle",
        form="cases.forms_detail.HandleForm",
        serializer="cases.api.serializers.NotePhotosSerializer",
        photos=True,
    )
)

REGISTRY.step(
    Step(
        "resolve_dispatch",
        timeline=_("resolved their part"),
        effects=(fx.MeetDispatch(), fx.MeetSupervision()),
        assessment="the department's part done (its dispatch facts)",
    )
)
REGISTRY.action(
    Action(
        name="resolve_part",
        on=DISPATCH,
        steps=("resolve_dispatch",),
        button=_("Resolve our part"),
        done=_("Your part was resolved."),
        summary="Resolve the department's own part",
        who=guards.handler,
        when=guards.department_reported,
        refusal=_("Report in before resolving your part."),
        run="cases.services.handling.run_resolve_part",
        form="cases.forms_detail.ResolvePartForm",
        serializer="cases.api.serializers.ResolveSerializer",
        photos=True,
    )
)

REGISTRY.step(
    Step(
        "cancel_dispatch",
        timeline=_("withdrew a dispatch"),
        effects=(fx.MeetDispatch(),),
        notices=(
            fx.notice("dispatch_cancelled", fx.dispatch_handlers, who="the dispatch's handlers"),
        ),
        assessment="the dispatch no longer counts against its unit",
    )
)
REGISTRY.action(
    Action(
        name="cancel",
        on=DISPATCH,
        steps=("cancel_dispatch",),
        button=_("Withdraw the dispatch"),
        done=_("The dispatch was withdrawn."),
        summary="Withdraw the dispatch (town committee)",
        who=guards.dispatch_town,
        when=guards.active,
        run="cases.services.handling.run_cancel",
        form="cases.forms_detail.CancelDispatchForm",
        serializer="cases.api.serializers.ReasonSerializer",
    )
)

# The case as a whole.

REGISTRY.step(
    Step(
        "resolve",
        timeline=_("resolved"),
        tracking=_("Resolved"),
        moves=Transition(frozenset({S.IN_PROGRESS}), S.RESOLVED),
        public=True,
        effects=(fx.Meet(), fx.Start(Stage.VERIFICATION), fx.MeetSupervision(whole_case=True)),
        notices=(fx.notice("case_resolved", fx.grid_workers, who="the grid's workers"),),
        assessment="the last resolution sets the level it was solved at and the handling time",
    )
)
REGISTRY.action(
    Action(
        name="resolve",
        on=CASE,
        steps=("resolve",),
        button=_("Resolve"),
        done=_("The case was resolved."),
        summary="Resolve with evidence: photos and a note, or a legal instrument (captain)",
        who=guards.captain,
        run="cases.services.handling.run_resolve",
        form="cases.forms_detail.ResolveForm",
        serializer="cases.api.serializers.ResolveSerializer",
        photos=True,
    )
)

# A case nobody reported in on also goes to the committee when its handling time is up.
REGISTRY.step(
    Step(
        "request_consultation",
        timeline=_("asked for a consultation"),
        tracking=_("Taken to a consultation"),
        moves=Transition(frozenset({S.IN_PROGRESS, S.DISPATCHED}), S.IN_CONSULTATION),
        public=True,
        effects=(fx.Meet((Stage.HANDLING,)), fx.StartConsultation()),
        notices=(
            fx.notice(
                "consultation_requested",
                fx.committee_at_level,
                who="the committee at the case's level",
            ),
        ),
        assessment="the case needed the committee (consultations per unit)",
    )
)
REGISTRY.action(
    Action(
        name="request_consultation",
        on=CASE,
        steps=("request_consultation",),
        button=_("Ask for a consultation"),
        done=_("A consultation was requested."),
        summary="Ask the committee for a consultation (captain)",
        who=guards.captain,
        when=guards.status_in(S.IN_PROGRESS),
        run="cases.services.handling.run_request_consultation",
        form="cases.forms_detail.RequestConsultationForm",
        serializer="cases.api.serializers.ReasonSerializer",
        by_timer=True,
    )
)

REGISTRY.step(
    Step(
        "add_dispatch",
        timeline=_("added a dispatch"),
        # A re-dispatch after a return: the committee's re-dispatch clocks are met.
        effects=(fx.Meet((Stage.REDISPATCH,)),),
        board=True,
        assessment="a new dispatch: its report-in and handling count for its unit",
    )
)
REGISTRY.action(
    Action(
        name="add_dispatch",
        on=CASE,
        steps=("add_dispatch",),
        button=_("Add a team or department"),
        done=_("The dispatch was added."),
        summary="Add a team or a department to the case (town committee; city committee for a "
        "city case)",
        who=guards.dispatcher,
        when=guards.status_in(*guards.IN_HANDLING),
        run="cases.services.handling.run_add_dispatch",
        form="cases.forms_detail.AddDispatchForm",
        serializer="cases.api.serializers.AddDispatchSerializer",
        api_fields={"handler": "team"},
        form_fields={"handler": "team"},
    )
)
