"""The domain events the case engine publishes; other apps subscribe, cases imports none of
them back (docs/architecture.md)."""

from django.dispatch import Signal

# Sent after commit whenever a case's trace grew: case_id.
case_changed = Signal()
