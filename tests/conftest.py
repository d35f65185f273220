"""Shared fixtures and the test tiers.

Tiers (markers, set here so that no test can forget them):

- ``national``: the test uses the full national reference (the ``ref`` fixture);
- ``slow``: the test drives a browser or executes notebooks, or is marked so explicitly.

``pytest -m "not national and not slow"`` is the fast tier for a developer's loop; CI runs all.
"""

from __future__ import annotations

import pytest

from cpts_geo import load_reference


@pytest.fixture(scope="session")
def ref():
    """The shipped national reference."""
    return load_reference()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "ref" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.national)
        if item.get_closest_marker("browser") or item.path.name == "test_notebooks.py":
            item.add_marker(pytest.mark.slow)
