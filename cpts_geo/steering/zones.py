"""Coverage of the zone layers: for each layer and category, in each area (nation, région,
département), the population of the units in the zone, the population covered by a CPTS and
covered by stage (cumulative, ACI signed first), each inhabitant counted once.

A unit is in a zone as the layer says (:class:`~cpts_geo.inputs.zones.ZoneLayer`): listed (by
commune or by EPCI), or touched by a polygon; a unit touched by a QPV counts with its whole
population (a unit is covered or not as a whole), which the notes say.

Examples
--------
>>> import pandas as pd
>>> import cpts_geo as cg
>>> from cpts_geo.inputs.zones import zone_layer_from_codes
>>> ref = cg.load_reference()
>>> reg = pd.DataFrame({"cpts_id": ["A"], "cpts_nom": ["CPTS A"], "code_insee": ["49007"],
...                     "statut": ["aci"]})
>>> z = zone_layer_from_codes({"ZIP": ["49007", "49015"]}, ref, name="Zonage")
>>> cov = cg.coverage_summary(ref, reg, departement="49", zones=[z])
>>> e = cov.departements[0]["zones"][0]
>>> e["population"] - e["population_covered"] == int(ref.units.at["49015", "population"])
True
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cpts_geo._text import fr_number, fr_share
from cpts_geo.inputs.stages import LEVELS
from cpts_geo.inputs.zones import ZoneLayer
from cpts_geo.steering.by_stage import covered_by_stage, population_covered_by_stage

__all__ = ["NOTE_ZONES", "NOTE_ZONE_POLYGONS", "zone_coverage", "zone_coverage_lines"]

NOTE_ZONES = (
    "Zones : population des communes (unités) de chaque zone, chaque habitant compté une fois ; "
    "couverte par au moins une CPTS, et par stade (cumulé depuis le contrat ACI signé)."
)
NOTE_ZONE_POLYGONS = (
    "Zones dessinées (polygones, QPV…) : une commune touchée compte avec toute sa population (une "
    "commune est couverte ou non par une CPTS en entier) ; la part de sa surface dans la zone est "
    "donnée par la vérification d'un territoire."
)


def zone_coverage(
    units: pd.DataFrame, links: pd.DataFrame, stages: pd.Series, layers: Sequence[ZoneLayer]
) -> dict:
    """Zone figures by area, for each layer and category.

    Parameters
    ----------
    units
        The coverage's per-unit table (indexed by unit code, with ``population``, ``region``
        and ``departement``).
    links, stages
        The register's links (``cpts_id``, ``code_insee``) and stage per CPTS.
    layers
        The zone layers.

    Returns
    -------
    dict
        ``{"national": {"FR": [...]}, "regions": {code: [...]}, "departements": {code: [...]}}``:
        for each area, one dict per layer and category (all of them, zeros where absent):
        ``layer``, ``kind``, ``category``, ``population``, ``population_covered``,
        ``share_covered`` and ``population_covered_by_stage``.
    """
    levels = {"national": None, "regions": units["region"], "departements": units["departement"]}
    areas = {
        "national": ["FR"],
        "regions": sorted(set(units["region"])),
        "departements": sorted(set(units["departement"])),
    }
    out: dict[str, dict[str, list[dict]]] = {lvl: {a: [] for a in areas[lvl]} for lvl in levels}
    for layer in layers:
        table = layer.unit_table
        for cat in layer.categories:
            codes = pd.Index(table.loc[table["category"] == cat, "code"].unique()).intersection(units.index)
            pop = units.loc[codes, "population"]
            inside = links[links["code_insee"].isin(codes)]
            for lvl, area in levels.items():
                figures = covered_by_stage(pop, inside, stages, None if area is None else area.loc[codes])
                for code in areas[lvl]:
                    row = figures.loc[code] if code in figures.index else None
                    total = int(row["population"]) if row is not None else 0
                    covered = int(row["any"]) if row is not None else 0
                    out[lvl][code].append(
                        {
                            "layer": layer.name,
                            "kind": layer.kind,
                            "category": cat,
                            "population": total,
                            "population_covered": covered,
                            "share_covered": round(covered / total, 4) if total else 0.0,
                            "population_covered_by_stage": population_covered_by_stage(row)
                            if row is not None
                            else {s: 0 for s in LEVELS if s != "any"},
                        }
                    )
    return out


def zone_coverage_lines(zones: list[dict]) -> list[str]:
    """The lines of an area's zones in the coverage text: population, covered, under ACI."""
    lines = ["Zones (population des communes en zone ; couverte par une CPTS ; dont CPTS sous contrat ACI) :"]
    for z in zones:
        pop = z["population"]
        aci = z["population_covered_by_stage"]["aci"]
        name = z["layer"] if z["category"] == z["layer"] else f"{z['layer']} — {z['category']}"
        if not pop:
            lines.append(f"  {name} : aucun habitant dans la zone ici")
            continue
        lines.append(
            f"  {name} : {fr_number(pop)} habitants ; couverte {fr_number(z['population_covered'])} "
            f"({fr_share(z['population_covered'] / pop)}) ; ACI {fr_number(aci)} ({fr_share(aci / pop)})"
        )
    return lines
