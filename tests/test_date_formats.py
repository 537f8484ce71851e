"""English dates are unambiguous (not the US month/day order); Chinese dates are unchanged."""

from datetime import date, datetime

from django import forms
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import date_format

MOMENT = datetime(2026, 12, 3, 14, 5)


def test_english_short_dates_are_year_month_day():
    with translation.override("en"):
        assert date_format(MOMENT, "SHORT_DATETIME_FORMAT") == "2026-12-03 14:05"
        assert date_format(MOMENT.date(), "SHORT_DATE_FORMAT") == "2026-12-03"


def test_english_long_dates_name_the_month_after_the_day():
    with translation.override("en"):
        assert date_format(MOMENT.date()) == "3 Dec 2026"
        assert date_format(MOMENT, "DATETIME_FORMAT") == "3 Dec 2026, 14:05"


def test_a_date_printed_plainly_in_a_template_is_unambiguous():
    with translation.override("en"):
        text = Template("{{ day }}|{{ day|date:'SHORT_DATE_FORMAT' }}").render(
            Context({"day": date(2026, 3, 12)})
        )
    assert text == "12 Mar 2026|2026-03-12"


def test_chinese_dates_keep_the_chinese_format():
    with translation.override("zh-hans"):
        assert date_format(MOMENT.date()) == "2026年12月3日"


def test_an_english_date_field_reads_the_iso_order():
    with translation.override("en"):
        field = forms.DateField()
        assert field.clean("2026-12-03") == date(2026, 12, 3)
        assert field.clean("3 Dec 2026") == date(2026, 12, 3)
