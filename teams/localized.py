"""Bilingual names: rows carry name_zh and name_en; the active language picks one."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def is_chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


class BilingualNameMixin(models.Model):
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        return self.name_zh if is_chinese() else (self.name_en or self.name_zh)


def localized(obj: object, field: str) -> str:
    """The value of `<field>_zh` or `<field>_en` for the active language."""
    zh = getattr(obj, f"{field}_zh", "")
    en = getattr(obj, f"{field}_en", "")
    return zh if is_chinese() else (en or zh)
