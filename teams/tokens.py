"""A user's API tokens (django-rest-knox): created with an expiry and shown once, since only a
digest is stored; listed by their first characters; revoked one by one or all together."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken
from knox.settings import knox_settings
from knox.signals import token_expired

from teams.models import User

PREFIX_LENGTH = 8  # enough to tell a user's tokens apart, far too few to guess the rest


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token authentication without its read of every other token of the user on each
    request (one statement of every API call, the hotline's and the grid workers' filings
    among them). The token presented is still refused and deleted once expired; the owner's
    other expired tokens are deleted when they next create one (create_api_token), and no
    expired token is listed (api_tokens) or accepted meanwhile."""

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        if auth_token.expiry is None or auth_token.expiry >= timezone.now():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI schema's description of this authentication: knox's."""

    target_class = "teams.tokens.TokenAuthentication"


@dataclass(frozen=True)
class TokenRow:
    """One token as its owner and the admin may see it: never more than its first characters."""

    prefix: str
    created: datetime
    expiry: datetime | None


def token_prefix(token: AuthToken) -> str:
    return token.token_key[:PREFIX_LENGTH]


def api_tokens(*, user: User) -> list[TokenRow]:
    """The user's tokens that have not expired, newest first."""
    now = timezone.now()
    tokens = AuthToken.objects.filter(user=user).order_by("-created")
    return [
        TokenRow(prefix=token_prefix(token), created=token.created, expiry=token.expiry)
        for token in tokens
        if token.expiry is None or token.expiry > now
    ]


@transaction.atomic
def create_api_token(*, user: User) -> str:
    """A new token for the user; the returned string is the only time it exists in clear.

    Expired tokens are removed first; a user may hold knox's TOKEN_LIMIT_PER_USER at most."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one creation at a time
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and AuthToken.objects.filter(user=user).count() >= limit:
        raise ValidationError(
            _("You already hold %(limit)d API tokens. Revoke one before creating another.")
            % {"limit": limit}
        )
    _instance, token = AuthToken.objects.create(user=user)
    return token


@transaction.atomic
def revoke_api_token(*, user: User, prefix: str) -> int:
    """Revoke the user's tokens that begin with `prefix`; how many were revoked (0 or 1 in
    practice). Another user's token is never touched."""
    if len(prefix) < PREFIX_LENGTH:
        return 0
    deleted, _rows = AuthToken.objects.filter(user=user, token_key__startswith=prefix).delete()
    return deleted


@transaction.atomic
def revoke_all_api_tokens(*, user: User) -> int:
    deleted, _rows = AuthToken.objects.filter(user=user).delete()
    return deleted
