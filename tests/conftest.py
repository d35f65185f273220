"""Shared fixtures and the test tiers.

Tiers (markers, set here so that no test can forget them):

- ``national``: the test uses the full national reference: the ``ref`` fixture, or the command
  line (its module imports ``cpts_geo.cli``: every command loads the shipped reference);
- ``slow``: the test drives a browser or Chromium, executes notebooks, or is marked so.

``pytest -m "not national and not slow"`` is the fast tier for a developer's loop; CI runs all.
"""

from __future__ import annotations

import pytest

from cpts_geo.cli.main import main as cli_main
from cpts_geo.reference.units import load_reference


@pytest.fixture(scope="session")
def ref():
    """The shipped national reference."""
    return load_reference()


#: Modules whose tests drive Chromium (pages, PDF) or run long searches.
_SLOW_MODULES = {"test_notebooks.py", "test_pdf.py", "test_leaflet_assets.py", "test_outputs_browser.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = getattr(item, "module", None)
        uses_cli = module is not None and getattr(module, "main", None) is cli_main
        if "ref" in getattr(item, "fixturenames", ()) or uses_cli:
            item.add_marker(pytest.mark.national)
        if item.get_closest_marker("browser") or item.path.name in _SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
