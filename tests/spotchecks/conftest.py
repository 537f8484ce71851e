"""Fixtures of the spot-check tests: the `org` of the case tests."""

from tests.cases.conftest import org

__all__ = ["org"]
