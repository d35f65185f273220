"""The zone layers a territory touches: for each layer and category present, its units and their
population (polygons: the share of each unit's area in the zone and the polygons' names).

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.inputs.zones import zone_layer_from_codes
>>> ref = cg.load_reference()
>>> z = zone_layer_from_codes({"ZIP": ["49007"], "ZAC": ["49015", "49099"]}, ref, name="Zonage")
>>> [(e["category"], e["n_units"]) for e in territory_zones(ref, ["49007", "49015", "49020"], [z])]
[('ZIP', 1), ('ZAC', 1)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cpts_geo._text import fr_int, fr_plural, fr_share
from cpts_geo.inputs.zones import KINDS, ZoneLayer
from cpts_geo.reference.units import Reference

__all__ = ["territory_zones", "zone_lines"]


def territory_zones(ref: Reference, codes: Iterable[str], layers: Sequence[ZoneLayer]) -> list[dict]:
    """For each layer and category present among ``codes``: ``layer``, ``kind``, ``category``,
    ``n_units``, ``population`` (of the units, each once) and ``units`` (``code``, ``nom``,
    ``population``; polygons add ``share``, of the unit's area in the zone, and ``polygones``),
    units in reference order."""
    codes = list(codes)
    inside = set(codes)
    a = ref.arrays
    out = []
    for layer in layers:
        table = layer.unit_table
        table = table[table["code"].isin(inside)]
        if not len(table):
            continue
        table = table.assign(_pos=ref.position.reindex(table["code"]).to_numpy()).sort_values("_pos")
        for cat in layer.categories:
            rows = table[table["category"] == cat]
            if not len(rows):
                continue
            units: list[dict] = []
            for code, pos, share, names in zip(rows["code"], rows["_pos"], rows["share"], rows["polygons"]):
                unit = {"code": str(code), "nom": str(a.names[pos]), "population": int(a.pop[pos])}
                if layer.kind == "polygones":
                    unit["share"] = round(float(share), 4)
                    unit["polygones"] = [n for n in str(names).split(" ; ") if n]
                units.append(unit)
            out.append(
                {
                    "layer": layer.name,
                    "kind": layer.kind,
                    "category": cat,
                    "n_units": len(units),
                    "population": sum(u["population"] for u in units),
                    "units": units,
                }
            )
    return out


def _units_word(n: int, kind: str) -> str:
    return fr_plural(n, "commune") + (" touchée" + ("s" if n > 1 else "") if kind == "polygones" else "")


def zone_lines(zones: list[dict], layer_names: Sequence[str] = (), *, limit: int | None = 20) -> list[str]:
    """French lines of :func:`territory_zones`: one summary line per layer (« Zonage médecins :
    12 communes en ZIP (18 450 hab.), 5 en ZAC (…) »), then the units of each category (at most
    ``limit`` named); a layer given but absent from the territory says so."""
    lines = []
    names = list(dict.fromkeys([*layer_names, *(z["layer"] for z in zones)]))
    for name in names:
        mine = [z for z in zones if z["layer"] == name]
        if not mine:
            lines.append(f"  {name} : aucune commune du territoire dans ces zones")
            continue
        kind = mine[0]["kind"]
        parts = []
        for i, z in enumerate(mine):
            n = z["n_units"]
            what = _units_word(n, kind) if i == 0 else fr_int(n)
            sep = " par " if kind == "polygones" else " en "
            single = len(mine) == 1 and z["category"] == name
            parts.append(f"{what}{'' if single else sep + z['category']} ({fr_int(z['population'])} hab.)")
        lines.append(f"  {name} ({KINDS[kind]}) : " + ", ".join(parts))
        for z in mine:
            shown = z["units"] if limit is None else z["units"][:limit]
            items = []
            for u in shown:
                text = f"{u['nom']} ({u['code']})"
                if kind == "polygones":
                    text += f" {fr_share(u['share'])} de sa surface"
                    if u.get("polygones"):
                        text += (
                            " : " + ", ".join(u["polygones"][:3]) + (" …" if len(u["polygones"]) > 3 else "")
                        )
                items.append(text)
            more = len(z["units"]) - len(shown)
            lines.append(
                f"    {z['category']} : "
                + (" ; " if kind == "polygones" else ", ").join(items)
                + (f" et {fr_int(more)} autre(s)" if more > 0 else "")
            )
    return lines
