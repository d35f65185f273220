"""The zone layers (``--zones``) of the builder page (``cpts-geo atelier``): for each layer, the
page units in each category (what ``atelier_zones.js`` sums for the selection, as
:func:`cpts_geo.checks.zones.territory_zones` does for a check) and its overlay
(:func:`cpts_geo.maps.zones.zone_overlays`, drawn hatched by ``zones.js``).

Examples
--------
>>> import cpts_geo as cg
>>> import numpy as np
>>> from cpts_geo.inputs.zones import zone_layer_from_codes
>>> ref = cg.load_reference()
>>> z = zone_layer_from_codes({"ZIP": ["49007"], "ZAC": ["49015"]}, ref, name="Zonage")
>>> units = np.array([ref.arrays.pos["49007"], ref.arrays.pos["49015"]])
>>> d = atelier_zones_payload(ref, [z], units, geometry=False)[0]
>>> d["name"], d["categories"], d["cat"], d["unit"]
('Zonage', ['ZIP', 'ZAC'], [0, 1], [0, 1])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cpts_geo.inputs.zones import KINDS, ZoneLayer
from cpts_geo.reference.units import Reference

__all__ = ["atelier_zones_payload"]


def atelier_zones_payload(
    ref: Reference,
    layers: Sequence[ZoneLayer],
    units: np.ndarray,
    *,
    tolerance_m: float = 50.0,
    decimals: int = 5,
    geometry: bool = True,
) -> list[dict]:
    """The page's data of each zone layer, restricted to the page's ``units`` (positions, sorted).

    Each layer: ``name``, ``kind``, ``kind_label`` (« par commune »), ``categories`` (in the
    layer's order), and one entry per (category, unit) on the page, in category order then
    reference order: ``unit`` (index on the page), ``cat`` (index in ``categories``), ``share``
    (polygons: the unit's area share in the zone, rounded as the check rounds it; else ``None``),
    ``polys`` (polygons: the names of the polygons touching the unit; else ``None``). With
    ``geometry``, ``overlay``: :meth:`cpts_geo.maps.zones.ZoneOverlay.to_geojson` over the page's
    units, without the tooltip fields (the page's units say their zones).
    """
    from cpts_geo.maps.zones import zone_overlays

    a = ref.arrays
    units = np.asarray(units, dtype=np.int64)
    local = np.full(a.n, -1, dtype=np.int64)
    local[units] = np.arange(len(units))
    codes = [str(c) for c in a.codes[units]]
    overlays = (
        zone_overlays(ref, layers, within=codes, tolerance_m=tolerance_m, decimals=decimals)
        if geometry
        else None
    )
    out = []
    for k, layer in enumerate(layers):
        table = layer.unit_table
        pos = ref.position.reindex(table["code"]).to_numpy()
        ok = ~np.isnan(pos.astype(float))
        table = table[ok].assign(_unit=local[pos[ok].astype(np.int64)])
        table = table[table["_unit"] >= 0]
        cats = list(layer.categories)
        table = table.assign(_cat=table["category"].map({c: i for i, c in enumerate(cats)}))
        table = table.sort_values(["_cat", "_unit"], kind="stable")
        polygons = layer.kind == "polygones"
        entry: dict = {
            "name": layer.name,
            "kind": layer.kind,
            "kind_label": KINDS[layer.kind],
            "categories": cats,
            "unit": table["_unit"].astype(int).tolist(),
            "cat": table["_cat"].astype(int).tolist(),
            "share": [round(float(s), 4) for s in table["share"]] if polygons else None,
            "polys": [[n for n in str(s).split(" ; ") if n] for s in table["polygons"]] if polygons else None,
        }
        if overlays is not None:
            o = overlays[k]
            o.features = o.features.drop(columns=["communes", "population"])
            entry["overlay"] = o.to_geojson()
        out.append(entry)
    return out
