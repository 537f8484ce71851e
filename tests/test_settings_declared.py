"""Every WHISTLE_* setting is declared once, in whistle/settings.py, and documented in README.md.

Product code reads `settings.WHISTLE_X` with no default of its own, so the default in settings.py
is the only one; variables that only tests, benchmarks and scripts read are in the README too.
"""

import re
from pathlib import Path

from django.conf import settings
from django.core.checks.registry import registry
from django.test import override_settings

from cases.checks import check_site_url

BASE_DIR = Path(settings.BASE_DIR)
PRODUCT_APPS = (
    "core",
    "audit",
    "cases",
    "teams",
    "checklists",
    "consultation",
    "assessment",
    "spotchecks",
    "rollout",
    "policylab",
    "whistle",
)
NAME = re.compile(r"\bWHISTLE_[A-Z0-9_]+")
# An environment variable read by tests, benchmarks or scripts (Python or shell).
ENV_READ = re.compile(
    r"""(?:environ(?:\.get\(|\.setdefault\(|\[)|getenv\()\s*["'](WHISTLE_[A-Z0-9_]+)["']"""
    r"|\$\{?(WHISTLE_[A-Z0-9_]+)"
)
SETTINGS_PY = (BASE_DIR / "whistle" / "settings.py").read_text(encoding="utf-8")
README = (BASE_DIR / "README.md").read_text(encoding="utf-8")


def _files(folders, suffixes=(".py",)):
    for folder in folders:
        for path in sorted((BASE_DIR / folder).rglob("*")):
            if path.is_file() and path.suffix in suffixes and "__pycache__" not in path.parts:
                yield path


def product_names() -> dict[str, str]:
    """Every WHISTLE_* name in the product code, with a file that names it."""
    found: dict[str, str] = {}
    for path in _files(PRODUCT_APPS):
        for name in NAME.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, str(path.relative_to(BASE_DIR)))
    return found


def tool_variables() -> dict[str, str]:
    """WHISTLE_* environment variables read by tests, benchmarks, scripts, the Makefile, CI."""
    paths = [*_files(("tests", "bench", "scripts"), (".py", ".sh"))]
    paths += [BASE_DIR / "Makefile", BASE_DIR / ".ci" / "run"]
    found: dict[str, str] = {}
    for path in paths:
        for groups in ENV_READ.findall(path.read_text(encoding="utf-8")):
            name = next(group for group in groups if group)
            found.setdefault(name, str(path.relative_to(BASE_DIR)))
    return found


def documented(name: str) -> bool:
    return re.search(rf"`{name}`", README) is not None


def test_the_scan_finds_the_settings():
    names = product_names()
    assert {"WHISTLE_SITE_URL", "WHISTLE_TILE_URL", "WHISTLE_MAX_PHOTO_BYTES"} <= names.keys()
    assert {"WHISTLE_FUZZ_EXAMPLES", "WHISTLE_CHROMIUM"} <= tool_variables().keys()


def test_every_setting_the_product_reads_is_declared_in_settings_py():
    undeclared = sorted(
        f"{name} ({where})"
        for name, where in product_names().items()
        if not hasattr(settings, name) and f'"{name}"' not in SETTINGS_PY
    )
    assert undeclared == [], "declare these in whistle/settings.py, with their default"


def test_no_product_code_keeps_a_default_of_its_own():
    """`getattr(settings, "WHISTLE_X", default)` would be a second default."""
    pattern = re.compile(r"""getattr\(\s*settings\s*,\s*["']WHISTLE_""")
    offenders = [
        str(path.relative_to(BASE_DIR))
        for path in _files(PRODUCT_APPS)
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_every_setting_is_in_the_readme():
    missing = sorted(name for name in product_names() if not documented(name))
    assert missing == [], "add these to the README's table of environment variables"


def test_every_variable_of_tests_bench_and_scripts_is_in_the_readme():
    missing = sorted(name for name in tool_variables() if not documented(name))
    assert missing == [], "add these to the README's table of environment variables"


def test_an_empty_site_url_warns_on_deployment():
    with override_settings(WHISTLE_SITE_URL=""):
        warnings = check_site_url()
    assert [warning.id for warning in warnings] == ["cases.W003"]
    assert "WHISTLE_SITE_URL" in warnings[0].msg


def test_a_site_url_without_scheme_warns_on_deployment():
    with override_settings(WHISTLE_SITE_URL="whistle.example.gov.cn"):
        assert [warning.id for warning in check_site_url()] == ["cases.W003"]


def test_a_set_site_url_does_not_warn():
    with override_settings(WHISTLE_SITE_URL="https://whistle.example.gov.cn"):
        assert check_site_url() == []


def test_the_site_url_check_runs_only_with_deploy():
    assert check_site_url in registry.get_checks(include_deployment_checks=True)
    assert check_site_url not in registry.get_checks(include_deployment_checks=False)
