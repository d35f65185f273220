"""The zone layers (``--zones``) as map overlays: one toggleable layer per zone layer, hatched by
category, with its own legend section.

:func:`zone_overlays` builds the data of the overlays (plain GeoDataFrames, legend entries,
hatch patterns): any page can draw them (:meth:`ZoneOverlay.to_geojson` gives GeoJSON-ready
data); :func:`add_zone_overlays` draws them on a folium map (the coverage map, the map of a
check report). The hatching is an SVG pattern per category, defined by ``static/zones.js``.

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.inputs.zones import zone_layer_from_codes
>>> ref = cg.load_reference()
>>> z = zone_layer_from_codes({"ZIP": ["49007"], "ZAC": ["49015"]}, ref, name="Zonage")
>>> o = zone_overlays(ref, [z])[0]
>>> list(o.features["category"]), [label for label, _ in o.legend]
(['ZIP', 'ZAC'], ['ZIP', 'ZAC'])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from cpts_geo._text import fr_number, fr_plural, fr_share
from cpts_geo.inputs.zones import KINDS, ZoneLayer
from cpts_geo.maps.base import add_territory_layer, escape_html, get_legend, json_for_script, macro
from cpts_geo.maps.styles import ZONE_ANGLES, ZONE_COLORS, zone_color
from cpts_geo.reference.geometry import dissolve
from cpts_geo.reference.units import Reference

__all__ = ["ZoneOverlay", "add_zone_overlays", "zone_overlays", "zone_style"]

#: Units named in a tooltip before « … (n communes) ».
_SHOWN = 8


@dataclass
class ZoneOverlay:
    """One zone layer ready to draw.

    Attributes
    ----------
    name
        The layer's name (as given: escape it in HTML).
    kind
        ``"communes"``, ``"epci"`` or ``"polygones"``.
    features
        EPSG:4326 polygons with plain values: ``category``, ``nom`` (the polygon's name, or the
        layer and category), ``communes`` (the units, named), ``population`` (of the units),
        ``color`` and ``pattern`` (the id of its SVG hatch pattern).
    legend
        ``(label, style)`` per category, in the layer's order (a Leaflet path style).
    patterns
        ``{"id", "color", "angle"}`` per category: the SVG hatch patterns the style refers to.
    """

    name: str
    kind: str
    features: gpd.GeoDataFrame
    legend: list[tuple[str, dict]] = field(default_factory=list)
    patterns: list[dict] = field(default_factory=list)

    @property
    def section(self) -> str:
        """The legend section: « Zonage médecins (par commune) »."""
        return f"{self.name} ({KINDS[self.kind]})"

    def to_geojson(self) -> dict:
        """The features as a GeoJSON FeatureCollection (plain values, not escaped), with the
        layer's ``name``, ``kind``, ``legend`` and ``patterns``: what a page needs to draw it."""
        data = self.features.to_geo_dict(drop_id=True)
        data["name"], data["kind"] = self.name, self.kind
        data["legend"] = [{"label": label, "style": style} for label, style in self.legend]
        data["patterns"] = list(self.patterns)
        return data


def zone_style(color: str, pattern: str) -> dict:
    """The Leaflet style of a zone category: hatched in its colour, outlined, see-through."""
    return {"color": color, "weight": 1.6, "fillColor": f"url(#{pattern}) {color}", "fillOpacity": 0.9}


def zone_overlays(
    ref: Reference,
    layers: Sequence[ZoneLayer],
    *,
    within: Iterable[str] | None = None,
    tolerance_m: float = 0.0,
    decimals: int = 5,
) -> list[ZoneOverlay]:
    """The overlays of zone layers, restricted to the units ``within`` (default: all).

    Layers by commune or EPCI are their units dissolved by category (simplified as one coverage,
    ``tolerance_m`` metres in the zone's projected CRS); polygon layers are their polygons that
    touch a unit ``within``, with the units they touch. A layer with nothing there gives an
    overlay without features (its legend still says what it is).
    """
    keep = None if within is None else set(within)
    # Categories without a colour of their own take the palette's in turn, across the layers.
    others = [(k, c) for k, layer in enumerate(layers) for c in layer.categories if c not in ZONE_COLORS]
    out = []
    for k, layer in enumerate(layers):
        angle = ZONE_ANGLES[k % len(ZONE_ANGLES)]
        colors = {c: zone_color(c, others.index((k, c)) if (k, c) in others else 0) for c in layer.categories}
        ids = {c: f"cpts-zone-{k}-{i}" for i, c in enumerate(layer.categories)}
        table = layer.unit_table
        if keep is not None:
            table = table[table["code"].isin(keep)]
        if layer.kind == "polygones":
            features = _polygon_features(ref, layer, table)
        else:
            features = _unit_features(ref, layer, table, tolerance_m, decimals)
        features["color"] = [colors[c] for c in features["category"]]
        features["pattern"] = [ids[c] for c in features["category"]]
        out.append(
            ZoneOverlay(
                name=layer.name,
                kind=layer.kind,
                features=features,
                legend=[(c, zone_style(colors[c], ids[c])) for c in layer.categories],
                patterns=[{"id": ids[c], "color": colors[c], "angle": angle} for c in layer.categories],
            )
        )
    return out


def _named(ref: Reference, codes: list[str], extra: list[str] | None = None) -> str:
    names = ref.units["nom"].reindex(codes).fillna("").tolist()
    items = [
        f"{n} ({c})" + (f" {e}" if extra else "") for c, n, e in zip(codes, names, extra or [""] * len(codes))
    ]
    text = ", ".join(items[:_SHOWN])
    return text + (f" … ({fr_plural(len(codes), 'commune')})" if len(codes) > _SHOWN else "")


def _unit_features(
    ref: Reference, layer: ZoneLayer, table: pd.DataFrame, tol: float, dec: int
) -> gpd.GeoDataFrame:
    cats = [c for c in layer.categories if (table["category"] == c).any()]
    if not cats:
        return _empty()
    pairs = pd.DataFrame({"group": table["category"].to_numpy(), "code_insee": table["code"].to_numpy()})
    gdf = dissolve(ref, pairs, tolerance_m=tol, decimals=dec)
    rows = []
    for c in cats:
        codes = table.loc[table["category"] == c, "code"].tolist()
        rows.append(
            {
                "category": c,
                "nom": layer.name if c == layer.name else f"{layer.name} — {c}",
                "communes": _named(ref, codes),
                "population": int(gdf.at[c, "population"]),
            }
        )
    return gpd.GeoDataFrame(rows, geometry=gdf.geometry.reindex(cats).to_numpy(), crs=4326)


def _polygon_features(ref: Reference, layer: ZoneLayer, table: pd.DataFrame) -> gpd.GeoDataFrame:
    polygons = layer.polygons
    m = layer.members
    m = m[m["code"].isin(set(table["code"]))]
    if not len(m) or polygons is None:
        return _empty()
    rows, geoms = [], []
    for line, part in m.groupby("line", sort=True):
        i = int(line) - 1
        codes = part["code"].tolist()
        shares = [f"{fr_share(s)} de sa surface" for s in part["share"]]
        rows.append(
            {
                "category": polygons["category"].iloc[i],
                "nom": polygons["nom"].iloc[i],
                "communes": _named(ref, codes, shares),
                "population": int(ref.units["population"].reindex(codes).sum()),
            }
        )
        geoms.append(polygons.geometry.iloc[i])
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"category": [], "nom": [], "communes": [], "population": np.array([], dtype=np.int64)},
        geometry=[],
        crs=4326,
    )


def add_zone_overlays(m, overlays: Sequence[ZoneOverlay], *, show: bool = True) -> None:
    """Draw zone overlays on a folium map: one layer each in the layer control (names escaped),
    its legend section (one hatched swatch per category), and the hatch patterns. Call it after
    the map's other layers (the patterns go into their SVG)."""
    for o in overlays:
        gdf = o.features.copy()
        gdf["population"] = [f"{fr_number(p)} hab." for p in gdf["population"]]
        touched = "Communes touchées" if o.kind == "polygones" else "Communes"
        add_territory_layer(
            m,
            gdf,
            name=f"Zones : {o.name}",
            fields={"nom": "", "category": "Catégorie", "communes": touched, "population": "Population"},
            style=lambda p: zone_style(p["color"], p["pattern"]),
            class_name="cpts-zone",
            show=show,
        )
        legend = get_legend(m)
        for label, style in o.legend:
            legend.add(
                o.section, label, _swatch(style["color"], o.patterns[0]["angle"] if o.patterns else 45)
            )
    patterns = [p for o in overlays for p in o.patterns]
    if patterns:
        from cpts_geo.maps.static import asset

        el = macro(
            "{% macro script(this, kwargs) %}{{ this.code }}\n"
            "cptsZonePatterns({{ this._parent.get_name() }}, {{ this.config }});{% endmacro %}"
        )
        el.code = asset("zones.js")
        el.config = json_for_script(patterns)
        m.add_child(el, name="cpts_zone_patterns")


def _swatch(color: str, angle: int) -> str:
    """A legend swatch hatched like the layer (escaped values: colours are ours)."""
    c = escape_html(color)
    return (
        f'<i class="cpts-swatch" style="background:repeating-linear-gradient({90 - angle}deg,{c} 0 2px,'
        f'transparent 2px 6px);border:1.6px solid {c}"></i>'
    )
