from django.apps import AppConfig


class CoreConfig(AppConfig):
    """No models and no pages: the app makes `core` an installed app like the others."""

    name = "core"
