"""The pages' own scripts and styles, written in this project and shipped as package data.

Every script a generated page runs (besides Leaflet, which comes from its pip package) is a
``.js`` file in this folder, and every style sheet a ``.css`` file: code kept as code, linted by
eye and tested in Chromium, never spelled inside Python strings. :func:`asset` reads one by name
with :mod:`importlib.resources`, so an installed, zipped or editable package works alike.

>>> from cpts_geo.maps.static import asset_names
>>> all(name.endswith((".js", ".css")) for name in asset_names())
True
"""

from __future__ import annotations

import functools
from importlib import resources

__all__ = ["asset", "asset_names", "html_tag"]


@functools.cache
def asset(name: str) -> str:
    """The text of the shipped asset ``name`` (e.g. ``"search.js"``); ``FileNotFoundError`` if
    the package was installed without it."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def asset_names() -> list[str]:
    """The names of the shipped scripts and style sheets, sorted."""
    return sorted(p.name for p in resources.files(__name__).iterdir() if p.name.endswith((".js", ".css")))


def html_tag(name: str) -> str:
    """The asset ``name`` as an inline ``<script>`` (``.js``) or ``<style>`` (``.css``) element.

    >>> html_tag("maps.css").startswith("<style>/* cpts-geo")
    True
    """
    kind = "script" if name.endswith(".js") else "style"
    return f"<{kind}>{asset(name)}</{kind}>"
