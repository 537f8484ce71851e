"""Reply templates (话术模板) in the actions' forms: the administrators' ready-made reasons and
replies (checklists.ReplyTemplate) offered as a choice next to the reason or note.

With JavaScript the choice fills the text box (static/js/detail.js, `data-fill-target`), where
it can still be edited; without it, a template chosen with the text box left empty fills the
box when the form is cleaned, so the action's service receives the template's words in the
user's language, as if typed."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from checklists.models import ReplyTemplate
from checklists.selectors import reply_templates

FIELD = "reply_template"


class ReplyTemplateMixin:
    """Put first in the bases of an action's form; set `reply_action` (a ReplyTemplate.Action),
    `reply_field` (the text box it fills) and, for a rejection, `reply_redirect_field`."""

    reply_action: str = ""
    reply_field: str = "reason"
    reply_redirect_field: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        case = getattr(self, "case", None) or self.dispatch.case
        self.reply_default_redirect = case.item.redirect if self.reply_redirect_field else ""
        self.offered_replies = {
            str(template.pk): template
            for template in reply_templates(action=self.reply_action, item_id=case.item_id)
        }
        if self.offered_replies:
            self._add_reply_field()

    def _add_reply_field(self) -> None:
        choice = forms.ChoiceField(
            label=_("Template"),
            required=False,
            choices=[
                ("", _("Choose a template, or write your own")),
                *((pk, template.text) for pk, template in self.offered_replies.items()),
            ],
            widget=forms.Select(attrs={"data-fill-target": f"id_{self.reply_field}"}),
        )
        # The templates stand in for the form's fixed list of common reasons, if it has one.
        self.fields.pop("common_reason", None)
        fields = {}
        for name, field in self.fields.items():
            if name == self.reply_field:
                fields[FIELD] = choice
            fields[name] = field
        self.fields = fields

    def clean(self) -> dict:
        data = super().clean()
        template = self.offered_replies.get(data.get(FIELD) or "")
        if template is not None:
            self._fill_from(template, data)
        return data

    def _fill_from(self, template: ReplyTemplate, data: dict) -> None:
        if not (data.get(self.reply_field) or "").strip():
            data[self.reply_field] = template.text
        redirect = self.reply_redirect_field
        if redirect and template.redirect:
            # The template's "where to go instead" is more precise than the item's default.
            typed = (data.get(redirect) or "").strip()
            if not typed or typed == self.reply_default_redirect.strip():
                data[redirect] = template.redirect
