"""The whistle form of the grid worker's phone, and the small query form of the nearby check."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.selectors_pages.filing import AspectItems, grid_worker_grids, whistleable_items
from checklists.models import Item
from teams.models import Grid, User


class ItemSelect(forms.Select):
    """A grouped select whose options carry both names and the code, so the search box can
    filter them in either language."""

    def __init__(self, *args, search_text: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.search_text = search_text or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        text = self.search_text.get(str(value))
        if text:
            option["attrs"]["data-search"] = text
        return option


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos at once; the case service checks each one from its content."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "widget",
            MultiplePhotoInput(
                attrs={"multiple": True, "accept": "image/*", "capture": "environment"}
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultiplePhotoField, self).clean(one, initial) for one in data]
        return [super().clean(data, initial)] if data else []


class WhistleForm(forms.Form):
    item = forms.TypedChoiceField(
        label=_("Checklist item"),
        help_text=_("Only matters on the list can be whistled."),
        coerce=int,
        widget=ItemSelect,
    )
    description = forms.CharField(
        label=_("What is the problem?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photos = MultiplePhotoField(
        label=_("Photos"),
        required=False,
        help_text=_("Take or choose one or more photos (JPEG, PNG or WebP)."),
    )
    latitude = forms.FloatField(
        required=False, min_value=-90, max_value=90, widget=forms.HiddenInput
    )
    longitude = forms.FloatField(
        required=False, min_value=-180, max_value=180, widget=forms.HiddenInput
    )
    # Carries the location errors of the service, shown next to the map.
    location = forms.CharField(required=False, widget=forms.HiddenInput)
    grid = forms.ModelChoiceField(
        label=_("Grid"),
        queryset=Grid.objects.none(),
        required=False,
        empty_label=_("— found from the map —"),
        help_text=_("Only needed when the map cannot place the whistle."),
    )
    address = forms.CharField(
        label=_("Address or landmark (optional)"), max_length=300, required=False
    )
    idempotency_key = forms.CharField(max_length=128, widget=forms.HiddenInput)

    def __init__(self, *args, user: User, groups: list[AspectItems] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        groups = whistleable_items() if groups is None else groups
        self.items_by_pk = {item.pk: item for group in groups for item in group.items}
        field = self.fields["item"]
        field.choices = [("", _("— choose an item —"))] + [
            (group.aspect.name, [(item.pk, f"{item.code} {item.name}") for item in group.items])
            for group in groups
        ]
        field.widget.search_text = {
            str(item.pk): f"{item.code} {item.name_zh} {item.name_en}".lower()
            for item in self.items_by_pk.values()
        }
        own_grids = grid_worker_grids(user=user).order_by("code")
        self.fields["grid"].queryset = own_grids
        self.fields["grid"].label_from_instance = lambda grid: f"{grid.code} {grid.name}"
        only = list(own_grids.values_list("pk", flat=True)[:2])
        if len(only) == 1:  # a grid worker with one grid need not choose it
            self.fields["grid"].initial = only[0]

    def clean_item(self) -> Item:
        return self.items_by_pk[self.cleaned_data["item"]]

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("location", _("Give both latitude and longitude, or neither."))
        return data


class NearbyForm(forms.Form):
    item = forms.IntegerField()
    latitude = forms.FloatField(min_value=-90, max_value=90)
    longitude = forms.FloatField(min_value=-180, max_value=180)
