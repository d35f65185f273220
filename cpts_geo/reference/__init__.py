"""The national reference: units, local-authority tables, names, ``resolve``, areas, unit geometry
and the unit graph. Knows nothing of CPTS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpts_geo._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Reference": "units",
        "ReferenceArrays": "units",
        "load_reference": "units",
        "default_data_dir": "units",
        "epsg_for_departement": "units",
        "reference_summary": "units",
        "reference_summary_text": "units",
        "sea_links": "units",
        "Resolution": "resolve",
        "normalize_name": "names",
        "area_name": "areas",
        "resolve_area": "areas",
        "resolve_scope": "areas",
        "dissolve": "geometry",
        "zone_epsg": "geometry",
        "ADJACENCY_TOLERANCE_M": "adjacency",
        "compute_adjacency": "adjacency",
        "WATER_CROSSING_MAX_KM": "water",
        "compute_water_crossings": "water",
    },
)

if TYPE_CHECKING:
    from cpts_geo.reference.adjacency import ADJACENCY_TOLERANCE_M as ADJACENCY_TOLERANCE_M
    from cpts_geo.reference.adjacency import compute_adjacency as compute_adjacency
    from cpts_geo.reference.areas import area_name as area_name
    from cpts_geo.reference.areas import resolve_area as resolve_area
    from cpts_geo.reference.areas import resolve_scope as resolve_scope
    from cpts_geo.reference.geometry import dissolve as dissolve
    from cpts_geo.reference.geometry import zone_epsg as zone_epsg
    from cpts_geo.reference.names import normalize_name as normalize_name
    from cpts_geo.reference.resolve import Resolution as Resolution
    from cpts_geo.reference.units import Reference as Reference
    from cpts_geo.reference.units import ReferenceArrays as ReferenceArrays
    from cpts_geo.reference.units import default_data_dir as default_data_dir
    from cpts_geo.reference.units import epsg_for_departement as epsg_for_departement
    from cpts_geo.reference.units import load_reference as load_reference
    from cpts_geo.reference.units import reference_summary as reference_summary
    from cpts_geo.reference.units import reference_summary_text as reference_summary_text
    from cpts_geo.reference.units import sea_links as sea_links
    from cpts_geo.reference.water import WATER_CROSSING_MAX_KM as WATER_CROSSING_MAX_KM
    from cpts_geo.reference.water import compute_water_crossings as compute_water_crossings
