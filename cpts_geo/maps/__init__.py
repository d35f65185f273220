"""Folium (Leaflet) maps in French, and the styles every drawing shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpts_geo._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "TerritoryLayer": "coverage",
        "atelier_page": "atelier",
        "atelier_payload": "atelier_data",
        "coverage_map": "coverage",
        "CoverageLayers": "layers",
        "build_coverage_layers": "layers",
        "territory_map": "territory",
        "TerritoryMapLayers": "territory",
        "report_layers": "territory",
        "territory_layers": "territory",
        "changes_map": "plan_maps",
        "suggest_map": "plan_maps",
        "escape_html": "base",
        "render_map": "base",
        "save_map": "base",
    },
    moved={
        "coverage_figure": "cpts_geo.outputs.figures",
        "coverage_bar_chart": "cpts_geo.outputs.figures",
        "save_figure": "cpts_geo.outputs.figures",
    },
)

if TYPE_CHECKING:
    from cpts_geo.maps.atelier import atelier_page as atelier_page
    from cpts_geo.maps.atelier_data import atelier_payload as atelier_payload
    from cpts_geo.maps.base import escape_html as escape_html
    from cpts_geo.maps.base import render_map as render_map
    from cpts_geo.maps.base import save_map as save_map
    from cpts_geo.maps.coverage import TerritoryLayer as TerritoryLayer
    from cpts_geo.maps.coverage import coverage_map as coverage_map
    from cpts_geo.maps.layers import CoverageLayers as CoverageLayers
    from cpts_geo.maps.layers import build_coverage_layers as build_coverage_layers
    from cpts_geo.maps.plan_maps import changes_map as changes_map
    from cpts_geo.maps.plan_maps import suggest_map as suggest_map
    from cpts_geo.maps.territory import TerritoryMapLayers as TerritoryMapLayers
    from cpts_geo.maps.territory import report_layers as report_layers
    from cpts_geo.maps.territory import territory_layers as territory_layers
    from cpts_geo.maps.territory import territory_map as territory_map
