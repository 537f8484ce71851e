"""manage.py import_org and export_org: the report printed, exit codes, nothing written on
a refusal, and a too-large file refused from its size alone."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from teams.models import Region, User
from tests.rollout.helpers import REGIONS, USERS, csv_bytes, load_county

pytestmark = pytest.mark.django_db


def test_import_prints_the_counts_and_a_dry_run_writes_nothing(tmp_path, capsys):
    path = tmp_path / "regions.geojson"
    path.write_bytes(REGIONS)
    with translation.override("en"):
        call_command("import_org", "regions", str(path), "--dry-run")
        assert "6 created, 0 changed, 0 unchanged (dry run" in capsys.readouterr().out
        assert not Region.objects.exists()
        call_command("import_org", "regions", str(path))
        call_command("import_org", "regions", str(path))
    assert "0 created, 0 changed, 6 unchanged" in capsys.readouterr().out.splitlines()[-1]


def test_a_refused_file_exits_non_zero_with_every_error(tmp_path, capsys):
    path = tmp_path / "users.txt"
    path.write_bytes(csv_bytes([*USERS, ["wang", "", "", "", "", "", "", ""]]))
    with translation.override("en"), pytest.raises(CommandError, match="1 error"):
        call_command("import_org", "users", str(path), "--format", "csv")
    assert "line 5, column username: wang appears twice" in capsys.readouterr().err
    assert not User.objects.filter(username="wang").exists()


def test_a_file_over_the_limit_is_refused_from_its_size(tmp_path, settings):
    settings.WHISTLE_IMPORT_MAX_BYTES = 1024
    path = tmp_path / "users.csv"
    with open(path, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB that were never written
    with translation.override("en"), pytest.raises(CommandError, match=r"50\.0\sMB; files over"):
        call_command("import_org", "users", str(path))


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError):
        call_command("import_org", "users", str(tmp_path / "nope.csv"))


def test_export_writes_a_file_that_imports_unchanged(tmp_path, capsys):
    load_county()
    path = tmp_path / "teams.xlsx"
    call_command("export_org", "teams", str(path))
    assert path.read_bytes()[:2] == b"PK"
    with translation.override("en"):
        call_command("import_org", "teams", str(path))
    assert "0 created, 0 changed, 3 unchanged" in capsys.readouterr().out
