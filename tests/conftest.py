"""Shared fixtures: the national reference (loaded once per session)."""

from __future__ import annotations

import pytest

from cpts_geo import load_reference


@pytest.fixture(scope="session")
def ref():
    """The shipped national reference."""
    return load_reference()
