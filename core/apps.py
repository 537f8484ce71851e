from django.apps import AppConfig


class CoreConfig(AppConfig):
    """No pages; one model, the named lease (core.leases) that keeps one celery beat leading."""

    name = "core"
