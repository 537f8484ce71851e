"""Fixtures of the API tests: the organisation of the case tests and a token client per user."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from tests.cases.conftest import Org, org
from tests.tokens import api_token

__all__ = ["Org", "org"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(user, *, language: str = "en") -> APIClient:
    """A client that signs in with the user's API token, asking for `language`."""
    token = api_token(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE=language)
    return client


@pytest.fixture
def api():
    """api(user) -> a token-authenticated client in English."""
    return client_for


def png(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
