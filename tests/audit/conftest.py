"""An auditor (the audit trail's reader) in the organisation of the case tests."""

import pytest

from teams.models import Role, User
from tests.cases.conftest import org
from tests.factories import MembershipFactory, UserFactory

__all__ = ["org"]

ADDRESS = "203.0.113.9"


@pytest.fixture
def auditor(org) -> User:
    user = UserFactory(username="aud")
    MembershipFactory(user=user, role=Role.AUDITOR, region=org.city)
    return user
