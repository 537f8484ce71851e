"""The Simplified Chinese catalogue is complete, compiled, and covers every string in the code."""

import gettext
import importlib.util
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

BASE_DIR = Path(settings.BASE_DIR)
PO = BASE_DIR / "locale/zh_Hans/LC_MESSAGES/django.po"
MO = PO.with_suffix(".mo")
# The same folders the documented `makemessages` command ignores, plus what is never source.
SKIP_DIRS = {".venv", "var", "node_modules", "locale", "artifacts", "__pycache__", "media"}
SOURCE_SUFFIXES = {".py", ".html", ".txt"}


def _load_checker():
    spec = importlib.util.spec_from_file_location(
        "check_translations", BASE_DIR / "scripts/check_translations.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


def _entries(path: Path) -> list:
    return [e for e in checker.parse_po(path.read_text(encoding="utf-8")) if not e.is_header]


def test_catalogue_has_no_untranslated_or_fuzzy_entry():
    entries = checker.parse_po(PO.read_text(encoding="utf-8"))
    assert len(entries) > 100
    assert checker.problems(entries) == []
    assert checker.main(["check_translations.py", str(PO)]) == 0


def test_checker_reports_empty_and_fuzzy_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        'msgid "ok"\nmsgstr "好"\n\n'
        'msgid "empty"\nmsgstr ""\n\n'
        '#, fuzzy, python-format\nmsgid "guess %(n)s"\nmsgstr "猜 %(n)s"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] ""\n\n'
        '#~ msgid "gone"\n#~ msgstr ""\n',
        encoding="utf-8",
    )
    found = checker.problems(checker.parse_po(po.read_text(encoding="utf-8")))
    assert len(found) == 3
    assert any("untranslated: 'empty'" in line for line in found)
    assert any("fuzzy: 'guess %(n)s'" in line for line in found)
    assert any("untranslated: 'one'" in line for line in found)
    assert checker.main(["check_translations.py", str(po)]) == 1


def test_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    missing = []
    for entry in _entries(PO):
        if entry.msgid_plural is not None:
            continue
        if entry.msgctxt is None:
            translated = compiled.gettext(entry.msgid)
        else:
            translated = compiled.pgettext(entry.msgctxt, entry.msgid)
        if translated != entry.msgstr["0"]:
            missing.append(entry.msgid)
    assert missing == [], "run: python manage.py compilemessages --ignore=.venv"


def _copy_sources(target: Path) -> None:
    for path in BASE_DIR.rglob("*"):
        relative = path.relative_to(BASE_DIR)
        parts = relative.parts
        if any(part in SKIP_DIRS or part.startswith(".") for part in parts):
            continue
        if parts[:2] == ("static", "vendor") or any(p.endswith(".egg-info") for p in parts):
            continue
        if path.is_file() and path.suffix in SOURCE_SUFFIXES:
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


def test_makemessages_would_add_nothing_untranslated(tmp_path, monkeypatch):
    """Extract the strings from a copy of the sources against a copy of the catalogue."""
    _copy_sources(tmp_path)
    locale = tmp_path / "locale"
    (locale / "zh_Hans/LC_MESSAGES").mkdir(parents=True)
    copied_po = locale / "zh_Hans/LC_MESSAGES/django.po"
    shutil.copyfile(PO, copied_po)
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[locale]):
        call_command("makemessages", locale=["zh_Hans"], verbosity=0)

    before = {(e.msgctxt, e.msgid) for e in _entries(PO)}
    after = _entries(copied_po)
    new = sorted(e.msgid for e in after if (e.msgctxt, e.msgid) not in before)
    assert new == [], "new strings: run makemessages, translate them and compilemessages"
    assert checker.problems(after) == []
    assert len(after) > 100
