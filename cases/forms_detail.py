"""One form per case or dispatch action. The forms check the shape of the input; the case
services check the rules and their refusals land on the same fields.

Field names are shared with the pages that embed these forms inline (see the pages contract):
version, reason, redirect, note, photos, legal_instrument_number, into, passed, satisfaction,
comment, review_on, amount, unit, deadline, assignee, team, department, task, approve, next.
"""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms_replies import ReplyTemplateMixin
from cases.models import Case, Dispatch, Satisfaction
from cases.rejections import COMMON_REASONS
from cases.selectors_pages import detail as selectors
from cases.selectors_pages import longterm as longterm_selectors
from cases.templatetags.whistle_cases import time_left
from checklists.models import TimeUnit
from teams.levels import with_levels
from teams.models import User


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one <input type=file multiple>; checked again by the services."""

    def __init__(self, **kwargs: Any) -> None:
        attrs = {"accept": "image/*", "capture": "environment", "multiple": True}
        kwargs.setdefault("widget", MultipleFileInput(attrs=attrs))
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photos"))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _text(label: str, *, rows: int = 3, help_text: str = "", max_length: int = 4000) -> Any:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class CaseActionForm(forms.Form):
    """Every form that changes a case carries the version it was loaded at."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    def __init__(self, *args: Any, case: Case, user: User, **kwargs: Any) -> None:
        self.case = case
        self.user = user
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", case.version)
        super().__init__(*args, **kwargs)


class AcceptForm(CaseActionForm):
    pass


class ResumeForm(CaseActionForm):
    pass


# Stored as the code, read in each reader's language (cases.rejections).
COMMON_REJECTIONS = [
    ("", _("Choose a common reason, or write your own")),
    *[(reason.value, reason.label) for reason in COMMON_REASONS],
]


class RejectForm(ReplyTemplateMixin, CaseActionForm):
    reply_action = "reject"
    reply_redirect_field = "redirect"

    common_reason = forms.ChoiceField(
        label=_("Common reasons"),
        choices=COMMON_REJECTIONS,
        required=False,
        help_text=_("Each reader reads it in their own language; add your own words if needed."),
    )
    reason = _text(_("Reason for rejection"))
    redirect = _text(
        _("Where to go instead"),
        help_text=_("Tell the whistler which office or channel can help."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["redirect"].initial = self.case.item.redirect

    def clean(self) -> dict:
        data = super().clean()
        data["reason_code"] = data.get("common_reason") or ""
        return data


class MergeForm(CaseActionForm):
    into = forms.CharField(
        label=_("Merge into case"),
        max_length=32,
        help_text=with_levels(
            _("The number (or id) of the open case of this %(village)s that it repeats.")
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.case.possible_duplicate_of_id:
            self.fields["into"].initial = self.case.possible_duplicate_of.number

    def clean_into(self) -> int:
        value = self.cleaned_data["into"].strip()
        case_id = selectors.case_id_by_number(user=self.user, number=value)
        if case_id is None and value.isdigit():
            case_id = int(value)
        if case_id is None:
            raise forms.ValidationError(_("No case with this number."))
        return case_id


class WhistleForm(CaseActionForm):
    note = _text(with_levels(_("Note for the %(town)s")))


class SupportForm(CaseActionForm):
    """A “me too” on an open case (cases.services.support)."""

    note = _text(
        _("What you saw (optional)"),
        rows=2,
        max_length=1000,
        help_text=_("Your “me too” is counted on this case instead of a new whistle."),
    )


class ResolveOnSpotForm(CaseActionForm):
    note = _text(_("What was done"))
    photos = PhotosField(help_text=_("Photos of the result."))


class ResolveForm(CaseActionForm):
    note = _text(_("What was done"))
    photos = PhotosField(help_text=_("Photos of the result."))
    legal_instrument_number = forms.CharField(
        label=_("Legal instrument number"),
        max_length=64,
        required=False,
        help_text=_("Instead of photos and a note, the number of the decision or notice issued."),
    )


class ReasonForm(CaseActionForm):
    reason = _text(_("Reason"))


class PostUpdateForm(CaseActionForm):
    message = _text(
        _("Message for the public"),
        max_length=1000,
        help_text=_(
            "The citizen following the case reads it on the tracking page. Name no one and "
            "write nothing that is for colleagues only."
        ),
    )
    photos = PhotosField(help_text=_("Photos posted here are public."))


VISIBILITY_CHOICES = [("1", _("public")), ("0", _("internal"))]


class PublishPhotoForm(CaseActionForm):
    attachment = forms.TypedChoiceField(label=_("Photo or document"), coerce=int)
    public = forms.TypedChoiceField(
        label=_("Who may see it"),
        choices=VISIBILITY_CHOICES,
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        help_text=_("Public: the citizen sees it on the tracking page and in Open311."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachment"].choices = [
            (attachment.pk, label)
            for attachment, label in selectors.attachment_choices(case=self.case)
        ]


class PublishCaseForm(CaseActionForm):
    public = forms.TypedChoiceField(
        label=_("Who may read the whistle"),
        choices=VISIBILITY_CHOICES,
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        help_text=_(
            "Public: the citizen and Open311 see the whistle's own text, address, exact place "
            "and photos. Internal: only its service, status, public updates and a rounded place."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["public"].initial = "0" if self.case.public else "1"


class RequestConsultationForm(ReasonForm):
    reason = _text(_("What the committee must decide"))


class EscalateForm(ReasonForm):
    reason = _text(with_levels(_("Why the %(town)s cannot decide it")))


class EscalateToPrefectureForm(ReasonForm):
    reason = _text(with_levels(_("Why the %(city)s cannot decide it")))


class ReopenForm(ReasonForm):
    reason = _text(_("Why the case is reopened"))


class VerifyForm(ReplyTemplateMixin, CaseActionForm):
    reply_action = "verify"

    passed = forms.TypedChoiceField(
        label=_("Result of the check on site"),
        choices=[("1", _("Fixed: close the case")), ("0", _("Not fixed: send back for rework"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    reason = _text(_("Note, or what is still wrong"))
    photos = PhotosField(help_text=_("Required when the case is not fixed."))


class SuspendForm(CaseActionForm):
    reason = _text(_("Reason for suspending"))
    review_on = forms.DateField(
        label=_("Review on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


def _review_date_field(label: str, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


class RequestSuspensionForm(CaseActionForm):
    """The handler asks the committee to suspend the case (挂账)."""

    reason = _text(
        _("Why the case cannot be solved for now"),
        help_text=_("A court case, the season, money still to be found..."),
    )
    review_on = _review_date_field(_("Proposed review date"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["review_on"].initial = longterm_selectors.proposed_review_on(case=self.case)


class ReviewSuspensionForm(CaseActionForm):
    """The committee approves (the case is suspended) or refuses the waiting request."""

    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve: suspend the case")), ("0", _("Refuse"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    review_on = _review_date_field(
        _("Review date"),
        required=False,
        help_text=_("When approving: the proposed date, or another one."),
    )
    note = _text(_("Note"), help_text=_("Required when refusing: the requester reads it."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.suspension_request = longterm_selectors.pending_suspension_request(case=self.case)
        if self.suspension_request is not None:
            self.fields["review_on"].initial = self.suspension_request.review_on


class RescheduleReviewForm(CaseActionForm):
    """The committee reviews a suspended case and keeps it suspended until a new date."""

    review_on = _review_date_field(_("New review date"), required=False)
    note = _text(_("Note"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["review_on"].initial = longterm_selectors.proposed_review_on(case=self.case)


class EvaluateForm(CaseActionForm):
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you?"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
    )
    comment = _text(_("Comment"), max_length=1000)


class HandlerChoiceMixin:
    """Exactly one team (of the case's town) or department (of its town or city)."""

    def handler_fields(self, teams: Any, departments: Any) -> None:
        self.fields["team"].queryset = teams
        self.fields["department"].queryset = departments

    def clean(self) -> dict:
        data = super().clean()
        if bool(data.get("team")) == bool(data.get("department")):
            self.add_error("team", _("Choose one team or one department."))
        return data


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name


class AddDispatchForm(HandlerChoiceMixin, CaseActionForm):
    team = TeamChoiceField(label=_("Team"), queryset=None, required=False)
    department = TeamChoiceField(label=_("Department"), queryset=None, required=False)
    task = _text(_("Task"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handler_fields(*selectors.dispatch_targets(case=self.case))


class DecideForm(HandlerChoiceMixin, CaseActionForm):
    decision = _text(_("Decision"), rows=4)
    team = TeamChoiceField(label=_("Team"), queryset=None, required=False)
    department = TeamChoiceField(label=_("Department"), queryset=None, required=False)
    task = _text(_("Task"))
    due_at = forms.DateTimeField(
        label=_("Task due"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handler_fields(*selectors.dispatch_targets(case=self.case))


class RequestPostponementForm(CaseActionForm):
    deadline = forms.TypedChoiceField(label=_("Deadline"), coerce=int)
    amount = forms.IntegerField(label=_("Extra time"), min_value=1, max_value=1000)
    unit = forms.ChoiceField(label=_("Unit"), choices=TimeUnit.choices)
    reason = _text(_("Why more time is needed"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

        rows = selectors.postponable_deadlines(user=self.user, case=self.case)
        choices = []
        for deadline in rows:
            label = deadline.get_stage_display()
            if deadline.dispatch_id:
                label = f"{label} · {deadline.dispatch.handler.name}"
            choices.append((deadline.pk, f"{label} ({time_left(deadline)})"))
        self.fields["deadline"].choices = choices
        if len(choices) == 1:
            self.fields["deadline"].initial = choices[0][0]
        # Extra time is asked in the deadline's own unit when that is hours or days; a limit
        # counted in minutes (a demo's) is extended in hours, not minutes, by default.
        unit = rows[0].unit if rows else TimeUnit.WORKING_DAYS
        self.fields["unit"].initial = (
            TimeUnit.NATURAL_HOURS if unit == TimeUnit.NATURAL_MINUTES else unit
        )


# Dispatch actions.


class DispatchActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    def __init__(self, *args: Any, dispatch: Dispatch, user: User, **kwargs: Any) -> None:
        self.dispatch = dispatch
        self.user = user
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", dispatch.case.version)
        super().__init__(*args, **kwargs)


class ReportInForm(DispatchActionForm):
    pass


class AssignForm(DispatchActionForm):
    assignee = forms.TypedChoiceField(label=_("Team member"), coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = selectors.team_members(team_id=self.dispatch.team_id or 0)
        self.fields["assignee"].choices = [
            (user.pk, selectors.display_name(user)) for user in members
        ]
        if self.dispatch.assignee_id:
            self.fields["assignee"].initial = self.dispatch.assignee_id


class HandleForm(DispatchActionForm):
    note = _text(_("What was done"))
    photos = PhotosField()


class ResolvePartForm(DispatchActionForm):
    note = _text(_("What was done"))
    photos = PhotosField(help_text=_("Photos of the result."))
    legal_instrument_number = forms.CharField(
        label=_("Legal instrument number"),
        max_length=64,
        required=False,
        help_text=_("Instead of photos and a note, the number of the decision or notice issued."),
    )


class CancelDispatchForm(ReplyTemplateMixin, DispatchActionForm):
    reply_action = "cancel"

    reason = _text(_("Why it is withdrawn"))


class ReturnDispatchForm(ReplyTemplateMixin, DispatchActionForm):
    reply_action = "return_dispatch"
    reply_field = "note"

    return_reason = forms.ChoiceField(
        label=_("Why it is returned"),
        choices=[("", _("choose a reason")), *Dispatch.ReturnReason.choices],
        required=False,
    )
    note = _text(
        _("Explain"), help_text=_("What the committee needs to know to dispatch it again.")
    )


class ReviewReturnForm(DispatchActionForm):
    return_ruling = forms.ChoiceField(
        label=_("Ruling"),
        choices=Dispatch.ReturnRuling.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    note = _text(_("Note"))


class UrgeForm(ReplyTemplateMixin, DispatchActionForm):
    reply_action = "urge"
    reply_field = "note"

    note = _text(_("What the unit must do now"))


class SuperviseForm(DispatchActionForm):
    note = _text(_("What the unit must do by the deadline"))
    due_at = forms.DateTimeField(
        label=_("Deadline of the order"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class PostponementDecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve")), ("0", _("Refuse"))],
        coerce=lambda value: value == "1",
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=4000)
    next = forms.CharField(required=False, max_length=2000)
