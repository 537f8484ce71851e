"""Names are shown family name first without a space for Chinese readers, everywhere."""

import pytest

from teams.models import User
from teams.names import person_name


def test_a_chinese_name_reads_family_name_first_without_a_space():
    assert person_name(given="晓燕", family="陈") == "陈晓燕"


def test_a_latin_name_keeps_the_given_name_first():
    assert person_name(given="Mary", family="Chen") == "Mary Chen"


def test_a_missing_part_leaves_no_stray_space():
    assert person_name(given="", family="陈") == "陈"
    assert person_name(given="Mary", family=None) == "Mary"
    assert person_name(given=None, family=None) == ""


def test_the_user_model_shows_the_same_name():
    user = User(username="chenxy", first_name="晓燕", last_name="陈")
    assert user.get_full_name() == "陈晓燕"
    assert str(user) == "陈晓燕 (chenxy)"


@pytest.mark.django_db
def test_the_suspended_cases_list_names_the_asker_the_same_way():
    from cases.selectors_pages.longterm import _name

    assert _name("晓燕", "陈", "chenxy") == "陈晓燕"
    assert _name("", "", "chenxy") == "chenxy"
