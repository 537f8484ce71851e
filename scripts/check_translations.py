#!/usr/bin/env python3
"""Fail when the Simplified Chinese catalogue has an untranslated or fuzzy entry.

Usage: python scripts/check_translations.py [path/to/django.po]
Exits 0 when every entry (the header included) is translated and none is fuzzy, 1 otherwise,
listing the offending msgids. It parses the .po file itself, so it needs no gettext tools.
"""

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PO = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"

_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')


@dataclass
class PoEntry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None


def _unquote(literal: str) -> str:
    """A PO string literal ("...", C escapes) as text."""
    return ast.literal_eval(literal)


def parse_po(text: str) -> list[PoEntry]:
    """The active entries of a .po file; obsolete (#~) entries are left out."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    key: str | None = None
    pending_flags: set[str] = set()

    def close() -> None:
        nonlocal entry, key
        if entry is not None:
            entries.append(entry)
        entry, key = None, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            close()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            close()
            pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            close()
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, literal = match.groups()
            if (
                keyword in ("msgctxt", "msgid")
                and entry is not None
                and key
                not in (
                    None,
                    "msgctxt",
                )
            ):
                close()
            if entry is None:
                entry = PoEntry(flags=pending_flags, line=number)
                pending_flags = set()
            key = keyword
            value = _unquote(literal)
            if keyword == "msgid":
                entry.msgid = value
            elif keyword == "msgctxt":
                entry.msgctxt = value
            elif keyword == "msgid_plural":
                entry.msgid_plural = value
            else:
                index = keyword[7:-1] if keyword != "msgstr" else "0"
                entry.msgstr[index] = value
            continue
        if line.startswith('"') and entry is not None and key is not None:
            value = _unquote(line)
            if key == "msgid":
                entry.msgid += value
            elif key == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + value
            elif key == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + value
            else:
                index = key[7:-1] if key != "msgstr" else "0"
                entry.msgstr[index] += value
            continue
        raise ValueError(f"line {number}: cannot parse {raw!r}")
    close()
    return entries


def problems(entries: list[PoEntry]) -> list[str]:
    """One message per fuzzy or untranslated entry."""
    found = []
    for entry in entries:
        label = "(header)" if entry.is_header else repr(entry.msgid)
        if "fuzzy" in entry.flags:
            found.append(f"line {entry.line}: fuzzy: {label}")
        if not entry.msgstr or any(not value.strip() for value in entry.msgstr.values()):
            found.append(f"line {entry.line}: untranslated: {label}")
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_PO
    if not path.exists():
        print(f"{path}: missing", file=sys.stderr)
        return 1
    entries = parse_po(path.read_text(encoding="utf-8"))
    found = problems(entries)
    for message in found:
        print(f"{path}: {message}", file=sys.stderr)
    if found:
        return 1
    print(f"{path}: {len(entries) - 1} messages, all translated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
