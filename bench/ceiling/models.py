from django.db import models


class Ping(models.Model):
    """One row per ceiling request: the least a write endpoint can do."""

    note = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.note
