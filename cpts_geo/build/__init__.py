"""The offline build of the national reference (used by ``scripts/build_reference.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpts_geo._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "build_reference": "builder",
        "write_sources_md": "builder",
        "BuildSources": "sources",
    },
)

if TYPE_CHECKING:
    from cpts_geo.build.builder import build_reference as build_reference
    from cpts_geo.build.builder import write_sources_md as write_sources_md
    from cpts_geo.build.sources import BuildSources as BuildSources
