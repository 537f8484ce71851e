"""`manage.py seed_demo`: build a demo county from its example files (rollout.demo: Haining's
shape, `--shape longgang` Longgang's, or `--shape pinghu` a street over its communities on two
levels) and print the demo logins; with `--history`, also
a year of cases walked through the services (assessment.demo_history).

It lives in assessment, the app above cases, because the history uses the case services."""

import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from assessment.demo_history import HISTORY_CASES, HistoryUnavailable, build_history
from rollout.demo import SHAPES, build_demo_city
from teams.demo import DEMO_PASSWORD
from teams.levels import (
    CITY,
    LEVELS,
    PREFECTURE,
    all_names,
    level_words,
    levels_in_use,
    on_chain,
)
from teams.models import Region
from teams.two_factor.demo import DEMO_RECOVERY_CODES, demo_secret


def _width(text: str) -> int:
    """Columns the text takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = (
        "Build or refresh a demo county from its files in docs/examples/ (Haining's shape, "
        "Longgang's or Pinghu's) with demo users for every role (idempotent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--shape",
            choices=SHAPES,
            default=None,
            help="Which demo county: haining (city / towns / villages, a team pair per town) or "
            "longgang (district / streets / communities, one team of 8 brigades) or pinghu (a "
            "street over its communities: two levels) or wenzhou (a prefecture over two counties: "
            "four levels); default: the setting WHISTLE_DEMO_SHAPE.",
        )
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help="Password of the demo users (default: %(default)s).",
        )
        parser.add_argument(
            "--history",
            action="store_true",
            help="Also build a year of cases through the services, once (skipped when the "
            "demo city already has cases older than a month).",
        )
        parser.add_argument(
            "--history-cases",
            type=int,
            default=HISTORY_CASES,
            help="How many cases the year of history spreads over (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        shape = options["shape"] or settings.WHISTLE_DEMO_SHAPE
        if shape not in SHAPES:
            raise CommandError(
                _("Unknown demo shape %(shape)s; choose among %(shapes)s.")
                % {"shape": shape, "shapes": ", ".join(SHAPES)}
            )
        demo = build_demo_city(shape=shape, password=options["password"])
        rows = [(_("Role"), _("Username"), _("Password")), *demo.logins]
        widths = [max(_width(row[i]) for row in rows) for i in range(3)]
        rule = "  ".join("-" * w for w in widths)
        for n, row in enumerate(rows):
            self.stdout.write("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)))
            if n == 0:
                self.stdout.write(rule)
        self.stdout.write("")
        if demo.second_factor_users:
            self._second_factor(demo.second_factor_users)
        self._levels()
        counts = {f"n_{key}": value for key, value in demo.counts.items()}
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Demo %(city)s ready: %(name)s with %(n_towns)d %(towns)s, "
                    "%(n_villages)d %(villages)s, %(n_grids)d grids, %(n_departments)d "
                    "departments, %(n_teams)d teams, %(n_users)d users and %(n_memberships)d "
                    "memberships."
                )
                % {**level_words(), "name": demo.city.name, **counts}
            )
        )
        if options["history"]:
            self._history(demo.city, cases=options["history_cases"])

    def _levels(self) -> None:
        """What the shape calls its levels (its levels.csv), in both languages."""
        names = all_names()
        used = levels_in_use()
        listed = "; ".join(f"{names[t].en} / {names[t].zh}" for t in used)
        if len(used) == len(LEVELS):
            self.stdout.write(
                _("Level names (top, middle, bottom): %(names)s.") % {"names": listed}
            )
        elif len(used) > len(LEVELS):
            if on_chain(PREFECTURE):
                message = _(
                    "Four levels (above the top, top, middle, bottom): %(names)s; escalation "
                    "ends at the committee of the level above the top."
                )
            else:
                message = _(
                    "Four levels (above the top, top, middle, bottom): %(names)s; escalation "
                    "ends at the top level's committee."
                )
            self.stdout.write(message % {"names": listed})
            # Translators: what separates the names of a list (a Chinese list takes 、).
            separator = _(", ")
            for above in Region.objects.filter(level=Region.Level.PREFECTURE).order_by("code"):
                below = above.children.order_by("code")
                self.stdout.write(
                    _("%(name)s oversees %(below)s.")
                    % {"name": above.name, "below": separator.join(r.name for r in below)}
                )
        else:
            self.stdout.write(
                _("Two levels (top, bottom): %(names)s; the root is the %(whole)s.")
                % {"names": listed, "whole": f"{names[CITY].en} / {names[CITY].zh}"}
            )
        self.stdout.write("")

    def _second_factor(self, usernames: list[str]) -> None:
        """How the privileged demo users pass two-factor sign-in without a phone of their
        own: the published authenticator key, or a published recovery code."""
        self.stdout.write(
            _(
                "Two-factor sign-in of %(users)s: after the password, give a code of an "
                "authenticator app that has the key %(key)s, or one of the recovery codes "
                "%(codes)s (each works once per user; seed_demo puts them back)."
            )
            % {
                "users": ", ".join(usernames),
                "key": demo_secret(),
                "codes": " ".join(DEMO_RECOVERY_CODES),
            }
        )
        self.stdout.write("")

    def _history(self, city, *, cases: int) -> None:
        try:
            history = build_history(city=city, cases=cases)
        except HistoryUnavailable as error:
            raise CommandError(str(error)) from error
        if not history.built:
            self.stdout.write(
                _("The demo %(city)s already has its history: nothing added.") % level_words()
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                _("History added: %(cases)d cases of the past year.") % {"cases": history.cases}
            )
        )
