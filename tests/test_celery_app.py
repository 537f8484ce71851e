"""The Celery app takes its configuration from the Django settings (CELERY_* names)."""

import json
from pathlib import Path

from django.conf import settings

from tests.test_settings import clean_environment, run_python
from whistle.celery import app

PRINT_CELERY_CONFIG = """
import json
from whistle.celery import app
conf = app.conf
print(json.dumps({
    "broker_url": conf.broker_url,
    "broker_transport_options": conf.broker_transport_options,
    "task_acks_late": conf.task_acks_late,
    "worker_prefetch_multiplier": conf.worker_prefetch_multiplier,
    "timezone": str(conf.timezone),
    "beat_schedule_filename": conf.beat_schedule_filename,
}))
"""


def celery_config(var_dir: Path, **overrides: str) -> dict:
    result = run_python(["-c", PRINT_CELERY_CONFIG], clean_environment(var_dir, **overrides))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_app_in_this_process_uses_django_settings():
    assert app.main == "whistle"
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_ignore_result is True
    assert app.conf.timezone == settings.TIME_ZONE


def test_default_app_uses_filesystem_broker_under_var_dir(tmp_path):
    conf = celery_config(tmp_path)
    assert conf["broker_url"] == "filesystem://"
    assert conf["broker_transport_options"]["data_folder_in"] == str(tmp_path / "celery" / "queue")
    assert conf["task_acks_late"] is True
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["timezone"] == "Asia/Shanghai"
    assert conf["beat_schedule_filename"] == str(tmp_path / "celerybeat-schedule")


def test_redis_url_becomes_the_broker(tmp_path):
    conf = celery_config(tmp_path, REDIS_URL="redis://broker.example.gov.cn:6380/2")
    assert conf["broker_url"] == "redis://broker.example.gov.cn:6380/2"
    assert conf["broker_transport_options"] == {"visibility_timeout": 3600}


def test_default_broker_delivers_through_files_without_a_server(tmp_path):
    """Publishing on the embedded default writes the message where a worker will read it."""
    script = (
        "from whistle.celery import app\n"
        "result = app.send_task('whistle.probe', kwargs={'answer': 42})\n"
        "print(result.id)\n"
    )
    result = run_python(["-c", script], clean_environment(tmp_path))
    assert result.returncode == 0, result.stderr
    task_id = result.stdout.strip().splitlines()[-1]
    messages = list((tmp_path / "celery" / "queue").iterdir())
    assert len(messages) == 1
    body = json.loads(messages[0].read_text())
    assert body["headers"]["task"] == "whistle.probe"
    assert body["headers"]["id"] == task_id
