"""The intake benchmark's ceiling endpoint lives only in the benchmark's settings: the served
application (whistle.settings, whistle.urls) neither installs its app nor routes its URL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parent.parent
CEILING_URL = "/bench/ceiling/"


def test_the_served_application_has_no_ceiling_app():
    assert settings.ROOT_URLCONF == "whistle.urls"
    assert not apps.is_installed("bench.ceiling")
    assert "bench.ceiling" not in settings.INSTALLED_APPS
    with pytest.raises(Resolver404):
        resolve(CEILING_URL)


@pytest.mark.django_db
def test_the_ceiling_url_is_not_found(client, django_user_model):
    user = django_user_model.objects.create_user(username="someone", password="x")
    client.force_login(user)
    assert client.post(CEILING_URL, {"note": "x"}).status_code == 404
    assert client.get(CEILING_URL).status_code == 404


def test_only_the_benchmark_settings_have_it(tmp_path):
    """The same check under bench.settings finds the app and the route (a fresh process:
    installed apps are fixed once Django is set up)."""
    code = (
        "import django; django.setup()\n"
        "from django.apps import apps; from django.urls import resolve\n"
        f"print(apps.is_installed('bench.ceiling'), resolve('{CEILING_URL}').url_name)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "WHISTLE_VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "bench-ceiling"]
