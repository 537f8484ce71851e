"""What a deployment calls the levels of its tree (docs/architecture.md, "Levels").

The engine has three tiers: the top (the city, or a district; its committee is the last step of
escalation), the middle (the town or street: its committee, its teams) and the bottom (the
village or community, where whistles are blown and grids lie). A deployment names them in both
languages in the admin (`LevelName`, one row per tier) or in its import files, and every label
says those names: "street command", not "town command". A deployment of two levels (a street
over its communities) puts the top tier out of use: the root of its tree is then its whole area,
where supervisors and administrators sit, and no level of its own (`levels_in_use`). A
deployment of four levels (a prefecture over its counties) puts a tier above the top one: its
regions group the top level's, their supervisors, administrators and auditors see all of them,
and its committee sits on the escalation chain when the deployment says so (its row's
`committee`): a city consultation then climbs once more, to the prefecture's committee
(`level_above`); otherwise the chain ends at the top level's.

Messages carry the names as placeholders: `%(town)s`, `%(towns)s` (plural), `%(Town)s` and
`%(Towns)s` (capitalised, for the start of an English sentence), and the same for `city` and
`village`. `with_levels(_("..."))` fills them when the message is read, so it works in model
labels and choices defined at import time; `level_words()` gives the mapping for a message that
has placeholders of its own. Templates get the same mapping as `levels` (context processor).
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from core import reference
from teams.localized import is_chinese

PREFECTURE, CITY, TOWN, VILLAGE = "prefecture", "city", "town", "village"
LEVELS = (CITY, TOWN, VILLAGE)  # the tiers every deployment of three levels has
TIERS = (PREFECTURE, *LEVELS)  # every tier a deployment can name, top first; a case can be
# handled at any of them that sits on the escalation chain (on_chain)


@dataclass(frozen=True)
class Names:
    """One tier's names: English singular and plural, and Chinese."""

    en: str
    en_plural: str
    zh: str


DEFAULTS = {
    PREFECTURE: Names(en="prefecture", en_plural="prefectures", zh="地市"),
    CITY: Names(en="city", en_plural="cities", zh="市"),
    TOWN: Names(en="town", en_plural="towns", zh="镇(街道)"),
    VILLAGE: Names(en="village", en_plural="villages", zh="村(社区)"),
}

# What each tier is for, shown next to the names in the admin and the import template.
TIER_LABELS = {
    PREFECTURE: _(
        "level above the top (a prefecture over its counties): its supervisors see every region "
        "of the top level below it; in use only in a deployment of four levels; its committee "
        "is the last of escalation only when committee is set"
    ),
    CITY: _(
        "top level (city or district): the last committee of escalation, unless the level "
        "above's sits on the chain; out of use in a deployment of two levels, where it is the "
        "whole area"
    ),
    TOWN: _("middle level (town or street): its committee and its teams"),
    VILLAGE: _("bottom level (village or community): whistles are blown here, grids lie here"),
}


class _NoTable(Exception):
    pass


@dataclass(frozen=True)
class Shape:
    """The deployment's levels: their names, where whistles are blown, the escalation chain."""

    names: dict[str, Names]
    whistle_level: str = VILLAGE
    city_committee: bool = True
    top_in_use: bool = True
    # Four levels: a tier above the top one (absent unless its row says it is in use), and
    # whether its committee is the last step of escalation, above the top level's.
    prefecture_in_use: bool = False
    prefecture_committee: bool = False


def shape() -> Shape:
    """The deployment's names where it set them and the defaults elsewhere; kept in each process
    like the rest of the reference data (core.reference)."""

    def load() -> Shape:
        from teams.models import LevelName

        names = dict(DEFAULTS)
        try:
            with transaction.atomic():  # a savepoint: a missing table spoils no transaction
                rows = list(LevelName.objects.all())
        except Exception as error:
            # No table yet (system checks, before migrate), or no database at all (an error
            # page while it is down): the defaults, so that a label never breaks a page.
            raise _NoTable from error
        for row in rows:
            default = DEFAULTS[row.level]
            names[row.level] = Names(
                en=row.name_en or default.en,
                en_plural=row.plural_en or (row.name_en and f"{row.name_en}s") or default.en_plural,
                zh=row.name_zh or default.zh,
            )
        whistling = [row.level for row in rows if row.whistles_here]
        top = [row for row in rows if row.level == CITY]
        return Shape(
            names=names,
            whistle_level=whistling[0] if whistling else VILLAGE,
            city_committee=all(row.committee for row in top),  # out of use: none (a constraint)
            top_in_use=all(row.in_use for row in top),
            prefecture_in_use=any(row.in_use for row in rows if row.level == PREFECTURE),
            prefecture_committee=any(
                row.in_use and row.committee for row in rows if row.level == PREFECTURE
            ),
        )

    try:
        return reference.cached(("level-shape",), load, in_transaction=True)
    except _NoTable:
        return Shape(names=dict(DEFAULTS))  # not kept: read again once the database answers


def all_names() -> dict[str, Names]:
    return shape().names


def whistle_level() -> str:
    """The bottom level (the village screens its whistles) or the middle one (every whistle goes
    straight to the town's dispatch, cases.services.filing)."""
    return shape().whistle_level


def levels_in_use() -> tuple[str, ...]:
    """The deployment's levels, top first: three; two when the top tier is out of use (its
    root then stands for the whole area and is offered nowhere as a level); four when the tier
    above the top is in use."""
    current = shape()
    if not current.top_in_use:
        return (TOWN, VILLAGE)
    return TIERS if current.prefecture_in_use else LEVELS


def parent_level(level: str) -> str | None:
    """The level of a region's parent: none for the top level's regions unless the tier above
    it is in use (then the top level's regions may sit under one of it, or stand alone)."""
    if level == CITY:
        return PREFECTURE if shape().prefecture_in_use else None
    return {PREFECTURE: None, TOWN: CITY, VILLAGE: TOWN}[level]


def parent_required(level: str) -> bool:
    """Whether a region of this level must have a parent: the middle and bottom levels' do; a
    top level's region may stand alone even under four levels."""
    return level in (TOWN, VILLAGE)


def case_levels() -> list[tuple[str, str]]:
    """The levels a case can be handled at, for the lists' filters: the top one (and the one
    above it) only while its committee sits on the escalation chain."""
    return [(level, level_label(level)) for level in TIERS if on_chain(level)]


def on_chain(level: str) -> bool:
    """Whether the committee of this level sits on the escalation chain: the middle level's
    always does; the top level's unless the deployment left it out; the prefecture's (four
    levels) only when the deployment put it there, above a top committee on the chain
    (cases.workflow.guards)."""
    current = shape()
    if level == PREFECTURE:
        return current.prefecture_committee and current.city_committee and current.top_in_use
    return level != CITY or current.city_committee


def leaves_a_gap(on: dict[str, bool]) -> bool:
    """Whether the chain would have a gap once the committees named in `on` (city,
    prefecture) are on it or off it as said, the others as they are: the prefecture's on the
    chain above a top committee off it (PREFECTURE_ABOVE_A_GAP)."""
    current = shape()
    city = on.get(CITY, current.city_committee)
    return on.get(PREFECTURE, current.prefecture_committee) and not city


def level_above(level: str) -> str | None:
    """The committee a case at this level escalates to, when it sits on the chain: the town's
    case climbs to the city, the city's to the prefecture (four levels)."""
    above = {TOWN: CITY, CITY: PREFECTURE}.get(level)
    return above if above is not None and on_chain(above) else None


def _word(names: Names, *, chinese: bool, plural: bool = False, capital: bool = False) -> str:
    if chinese:
        return names.zh
    word = names.en_plural if plural else names.en
    return word[:1].upper() + word[1:] if capital else word


def level_name(level: str, *, plural: bool = False, capital: bool = False) -> str:
    """The tier's name in the active language."""
    return _word(all_names()[level], chinese=is_chinese(), plural=plural, capital=capital)


level_label = lazy(level_name, str)

# The placeholders per language, for the shape they were made from (read by every label).
_words: dict[bool, tuple[Shape, dict[str, str]]] = {}


def level_words() -> dict[str, str]:
    """The placeholders of every message that names a level, in the active language."""
    current, chinese = shape(), is_chinese()
    kept = _words.get(chinese)
    if kept is not None and kept[0] is current:
        return dict(kept[1])
    words: dict[str, str] = {}
    for level in TIERS:
        names = current.names[level]
        plural = f"{level[:-1]}ies" if level == CITY else f"{level}s"
        words[level] = _word(names, chinese=chinese)
        words[plural] = _word(names, chinese=chinese, plural=True)
        words[level.capitalize()] = _word(names, chinese=chinese, capital=True)
        words[plural.capitalize()] = _word(names, chinese=chinese, plural=True, capital=True)
    _words[chinese] = (current, words)
    return dict(words)


def _filled(message: str) -> str:
    return str(message) % level_words()


with_levels = lazy(_filled, str)


def committee_choices() -> list[tuple[str, str]]:
    """Choices of the committee that meets: the middle and the top level's, and the one above
    the top (four levels)."""
    return [
        (TOWN, with_levels(_("%(town)s committee"))),
        (CITY, with_levels(_("%(city)s committee"))),
        (PREFECTURE, with_levels(_("%(prefecture)s committee"))),
    ]


def flag_problems(
    *, level: str, whistles_here: bool, committee: bool, in_use: bool = True
) -> dict[str, str]:
    """What the engine cannot follow in one tier's flags, by field: whistles below the top
    only, only the top committee off the chain, and only the top level out of use, then with no
    committee (LevelName.clean, the levels import)."""
    problems = {}
    if whistles_here and level in (PREFECTURE, CITY):
        problems["whistles_here"] = _("Whistles are blown at the middle or the bottom level.")
    if level == PREFECTURE:
        if committee and not in_use:
            problems["committee"] = _(
                "A level out of use has no committee: the top level's committee decides last."
            )
        return problems
    if not committee and level != CITY:
        problems["committee"] = _("Only the top level's committee can be left out.")
    if not in_use and level != CITY:
        problems["in_use"] = _(
            "Only the top level can be out of use: a deployment has two or three levels."
        )
    elif not in_use and committee:
        problems["committee"] = _(
            "A level out of use has no committee: the middle level's committee decides last."
        )
    return problems


ONE_WHISTLE_LEVEL = _("Whistles are blown at one level only: untick the other first.")
PREFECTURE_ABOVE_A_GAP = _(
    "The committee of the level above the top sits on the escalation chain only above the top "
    "level's committee: keep the top committee on the chain, or take the one above off it first."
)


def level_choices() -> list[tuple[str, str]]:
    """Choices of a level field: the values are fixed, the labels the deployment's names (a
    callable, so migrations keep the function and never the names)."""
    return [(level, level_label(level)) for level in TIERS]


def region_level_choices() -> list[tuple[str, str]]:
    """Choices of a region's level: the engine's three and the tier above them (four levels)."""
    return [(level, level_label(level)) for level in TIERS]
