"""How a person's name is shown: one rule for every page, list, export and API answer."""

import re

# A name written in Chinese (or Japanese/Korean) script: 汉字, kana, hangul.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def person_name(*, given: str | None, family: str | None) -> str:
    """The displayed name. A Chinese name reads family name first with no space (陈晓燕, not
    "晓燕 陈"); a name in Latin script keeps the given name first with a space."""
    given = (given or "").strip()
    family = (family or "").strip()
    if _CJK.search(given) or _CJK.search(family):
        return f"{family}{given}"
    return f"{given} {family}".strip()
