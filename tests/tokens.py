"""API tokens for tests: a django-rest-knox token of the user, in clear (only its digest is
stored, so the clear token exists only in the test that made it)."""

from knox.models import AuthToken


def api_token(user) -> str:
    _instance, token = AuthToken.objects.create(user=user)
    return token
