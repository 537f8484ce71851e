"""The village's "solve on the spot" asks for what its form has: a note and photos, never the
legal-instrument number of the team's resolve form (issue 19, item 16)."""

import pytest
from django.utils import translation

from cases.errors import InvalidInput
from cases.forms_detail import ResolveOnSpotForm
from cases.services import resolve_on_spot
from tests.cases.engine_steps import T0, accepted


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def test_solving_on_the_spot_without_photos_names_no_legal_instrument(org):
    case = accepted(org)
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        resolve_on_spot(user=org.village_officer, case_id=case.pk, note="Cleared it", photos=[])
    messages = [str(message) for message in refused.value.fields["photos"]]
    assert messages == ["Add at least one photo of the result."]
    assert "legal" not in " ".join(messages).lower()
    # Every field the refusal names is a field of the page's form.
    assert set(refused.value.fields) <= set(ResolveOnSpotForm.base_fields)
