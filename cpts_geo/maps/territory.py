"""The map of one territory in a check report: its units coloured by finding, the white zones and
the neighbouring CPTS of the register, the sea links, water crossings and detached parts of the
contiguity rule (re-exported by :mod:`cpts_geo.maps`).

:func:`territory_layers` (or :func:`report_layers`, from a :class:`~cpts_geo.checks.report.Report`)
says which unit goes in which layer; :func:`territory_map` draws these layers with folium and
:func:`cpts_geo.outputs.figures.territory_figure` with matplotlib, so the interactive map and the
printed one show the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from cpts_geo._text import fr_km, fr_number, fr_plural
from cpts_geo.checks.findings import contiguity_overlays, findings_by_unit
from cpts_geo.checks.report import Report
from cpts_geo.inputs.read import as_register
from cpts_geo.inputs.register import Register
from cpts_geo.maps.base import (
    add_basemaps,
    add_hatch_pattern,
    add_map_chrome,
    add_territory_layer,
    prepare_assets,
)
from cpts_geo.maps.base import escape_html as _esc
from cpts_geo.maps.styles import FINDING_STYLES, NEIGHBOUR_CPTS_STYLE, WHITE_STYLE
from cpts_geo.reference.geometry import dissolve
from cpts_geo.reference.units import Reference

__all__ = [
    "LINK_LABELS",
    "WHITE_NEIGHBOUR_LABEL",
    "TerritoryMapLayers",
    "report_layers",
    "sea_link_lines",
    "territory_layers",
    "territory_map",
]

#: Legend sections of the check map: a unit's fill says where it is, then what was found.
_INSIDE_KINDS = ("chevauchement", "epci_partiel", "territoire")

#: How the white zones around a territory read on its maps (see :attr:`TerritoryMapLayers.white`).
WHITE_NEIGHBOUR_LABEL = "Commune voisine en zone blanche (aucune CPTS du registre)"

_SEA_LINK_STYLE = {"color": "#0b4f8a", "weight": 3, "dashArray": "8 6", "opacity": 0.95, "fill": False}


_DETACHED_STYLE = {"color": "#e6550d", "weight": 3.5, "dashArray": "6 4", "fill": False, "opacity": 1}


# ---- what the maps of a territory draw --------------------------------------------------------
@dataclass(frozen=True)
class TerritoryMapLayers:
    """What a map of one checked territory draws, unit by unit (codes of the reference).

    Attributes
    ----------
    codes
        The territory's units, in input order.
    kind
        Unit code -> its finding (a key of ``FINDING_STYLES``), in the order a unit takes the first
        that applies: units of the territory ``chevauchement``, ``epci_partiel`` or
        ``territoire``, then units outside it ``enclave`` or ``epci_hors``.
    neighbours
        The units outside the territory that share a land boundary with it, in reference order.
    white
        The white zones around the territory: the ``neighbours`` that no CPTS of the register
        covers, in a département where the register has at least one unit (a register of one
        département says nothing of the next one). Empty without a register. A finding
        (enclave, rest of a split EPCI) is drawn over it.
    unknown
        The ``neighbours`` in a département where the register has no unit (all of them
        without a register): the maps say nothing of their coverage.
    cpts
        The CPTS of the register that share a unit with the territory or touch it, all their
        units: ``cpts_id``, ``cpts_nom``, ``statut``, ``code_insee``.
    detached
        The parts of the territory apart from its main one (``id``, ``name``, ``communes``).
    sea_links
        The contiguity rule's sea links and water crossings (``a``, ``b``, ``a_nom``, ``b_nom``,
        ``distance_km``; ``kind`` ``"mer"`` or ``"eau"``, a sea link when absent).
    name
        The territory's name.
    """

    codes: list[str]
    kind: dict[str, str]
    neighbours: list[str]
    white: list[str]
    unknown: list[str]
    cpts: pd.DataFrame = field(repr=False)
    detached: list[dict] = field(default_factory=list)
    sea_links: list[dict] = field(default_factory=list)
    name: str | None = None


def territory_layers(
    ref: Reference,
    codes: Iterable[str],
    *,
    findings: Mapping[str, Iterable[str]] | None = None,
    existing=None,
    name: str | None = None,
    sea_links: Iterable[Mapping] = (),
    detached: Iterable[Mapping] = (),
) -> TerritoryMapLayers:
    """Which unit goes in which layer of a map of one territory (parameters as :func:`territory_map`).

    Nothing is checked again: the findings are those given (from the check report).

    Examples
    --------
    >>> import cpts_geo as cg
    >>> ref = cg.load_reference()
    >>> layers = territory_layers(ref, ["49007", "49015"], findings={"chevauchement": ["49015"]})
    >>> layers.kind, layers.white
    ({'49015': 'chevauchement', '49007': 'territoire'}, [])
    """
    codes = [c for c in dict.fromkeys(codes) if c in ref.units.index]
    register = as_register(ref, existing)
    kind = _unit_kinds(ref, codes, findings or {})
    neighbours = _land_neighbours(ref, codes)
    inside = set(codes)
    return TerritoryMapLayers(
        codes=codes,
        kind=kind,
        neighbours=neighbours,
        white=_white_neighbours(ref, neighbours, register),
        unknown=[c for c, known in zip(neighbours, _spoken(ref, neighbours, register)) if not known],
        cpts=_neighbour_cpts(register, set(neighbours) | inside),
        detached=[dict(d) for d in detached if any(u["code"] in inside for u in d.get("communes", []))],
        sea_links=[dict(s) for s in sea_links],
        name=name,
    )


def report_layers(ref: Reference, report: Report, *, existing=None) -> TerritoryMapLayers:
    """The layers of the map of a check report: its territory, the findings of its rules
    (:func:`cpts_geo.checks.findings.findings_by_unit`), its sea links and detached parts, and
    the register ``existing`` it was checked against for the neighbouring CPTS and white zones."""
    sea, detached = contiguity_overlays(report)
    return territory_layers(
        ref,
        report.territory.get("communes", []),
        findings=findings_by_unit(ref, report),
        existing=existing,
        name=report.territory.get("name"),
        sea_links=sea,
        detached=detached,
    )


def _unit_kinds(ref: Reference, codes: list[str], findings: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Each unit's finding, the first that applies (see :attr:`TerritoryMapLayers.kind`)."""
    known = {k: [c for c in v if c in ref.units.index] for k, v in findings.items()}
    inside = set(codes)
    kind: dict[str, str] = {}
    for key in ("chevauchement", "epci_partiel"):
        for c in known.get(key, []):
            if c in inside:
                kind.setdefault(c, key)
    for c in codes:
        kind.setdefault(c, "territoire")
    for key in ("enclave", "epci_hors"):
        for c in known.get(key, []):
            if c not in inside:
                kind.setdefault(c, key)
    return kind


def _land_neighbours(ref: Reference, codes: list[str]) -> list[str]:
    """Units outside ``codes`` sharing a land boundary with one of them, in reference order."""
    pos = ref.position.reindex(codes).to_numpy(dtype=np.int64)
    around = np.setdiff1d(np.unique(ref.arrays.neighbours_of(pos)), pos)
    return [str(c) for c in ref.arrays.codes[around]]


def _spoken(ref: Reference, codes: list[str], register: Register) -> np.ndarray:
    """Whether each unit is in a département where the register has a unit."""
    deps = ref.units["departement"].to_numpy()
    spoken = set(deps[register.index.row_pos].tolist())
    return np.array(
        [deps[p] in spoken for p in ref.position.reindex(codes).to_numpy(dtype=np.int64)], dtype=bool
    )


def _white_neighbours(ref: Reference, neighbours: list[str], register: Register) -> list[str]:
    """The neighbours in a white zone where the register can say so (its départements)."""
    if not neighbours:
        return []
    pos = ref.position.reindex(neighbours).to_numpy(dtype=np.int64)
    white = (register.n_cpts_by_unit[pos] == 0) & _spoken(ref, neighbours, register)
    return [c for c, w in zip(neighbours, white) if w]


def _neighbour_cpts(register: Register, near: set[str]) -> pd.DataFrame:
    """The CPTS with a unit in ``near``: all their units, CPTS sorted by id."""
    t = register.named_links
    touching = sorted(set(t.loc[t["code_insee"].isin(near), "cpts_id"]), key=str)
    sel = t[t["cpts_id"].isin(touching)]
    return sel.sort_values("cpts_id", kind="stable").reset_index(drop=True)


def sea_link_lines(ref: Reference, sea_links: Iterable[Mapping]) -> gpd.GeoDataFrame:
    """The sea links and water crossings named by the contiguity rule as lines between the
    closest points of their two units (``shapely.shortest_line`` in the zone's projected CRS,
    returned in EPSG:4326; for a water crossing, the segment the build measured).

    Parameters
    ----------
    sea_links
        ``RuleResult.details["sea_links"]`` and ``["water_crossings"]`` of the contiguity rule:
        ``a``, ``b`` (unit codes), ``a_nom``, ``b_nom``, ``distance_km``, and ``kind``
        (``"mer"``, the default, or ``"eau"``: :func:`cpts_geo.checks.findings.contiguity_overlays`).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``liaison`` (the two communes), ``distance`` ("12,5 km"), ``distance_km``,
        ``kind``; one line per link whose two units have a geometry.
    """
    import shapely

    rows, lines = [], []
    for link in sea_links:
        found = ref.position.reindex([str(link["a"]), str(link["b"])])
        if found.isna().any():
            continue
        pos = found.to_numpy(dtype=np.int64)
        ga, gb = ref.projected(pos)
        if ga is None or gb is None or shapely.is_missing(ga) or shapely.is_missing(gb):
            continue
        epsg = int(ref.arrays.epsg[pos[0]])
        line = gpd.GeoSeries([shapely.shortest_line(ga, gb)], crs=epsg).to_crs(4326).iloc[0]
        rows.append(
            {
                "liaison": f"{link['a_nom']} ({link['a']}) – {link['b_nom']} ({link['b']})",
                "distance": f"{fr_km(link['distance_km'])}\u00a0km",
                "distance_km": float(link["distance_km"]),
                "kind": str(link.get("kind", "mer")),
            }
        )
        lines.append(line)
    if not rows:
        return gpd.GeoDataFrame(
            {"liaison": [], "distance": [], "distance_km": [], "kind": []}, geometry=[], crs=4326
        )
    return gpd.GeoDataFrame(rows, geometry=lines, crs=4326)


#: How the two kinds of link read on the maps: layer name, tooltip title, legend, CSS class.
LINK_LABELS = {
    "mer": (
        "Liaisons maritimes",
        "Liaison maritime",
        "Liaison maritime (règle de continuité)",
        "cpts-liaison-maritime",
    ),
    "eau": (
        "Traversées par l'eau",
        "Traversée par l'eau",
        "Traversée par l'eau (règle de continuité)",
        "cpts-traversee-eau",
    ),
}


def _add_sea_links(m, lines: gpd.GeoDataFrame) -> None:
    """The sea links and water crossings as dashed lines (a layer each), each labelled with its
    length at its middle."""
    import folium

    if not len(lines):
        return
    for kind, (layer, title, legend, css) in LINK_LABELS.items():
        sel = lines[lines["kind"] == kind]
        if len(sel):
            add_territory_layer(
                m,
                sel.drop(columns=["distance_km", "kind"]),
                name=layer,
                fields={"liaison": title, "distance": "Distance"},
                style=_SEA_LINK_STYLE,
                class_name=css,
                highlight=False,
                legend=[(legend, _SEA_LINK_STYLE)],
                legend_section="Continuité",
            )
    for geom, text in zip(lines.geometry, lines["distance"]):
        mid = geom.interpolate(0.5, normalized=True)
        folium.Marker(
            [mid.y, mid.x],
            icon=folium.DivIcon(
                html=f'<span class="cpts-sea-link-label">{_esc(text)}</span>',
                icon_size=(70, 18),
                icon_anchor=(-6, 9),
                class_name="cpts-sea-link-marker",
            ),
            interactive=False,
        ).add_to(m)


# ---- the folium map ---------------------------------------------------------------------------
def territory_map(
    ref: Reference,
    codes: Iterable[str],
    *,
    findings: Mapping[str, Iterable[str]] | None = None,
    existing=None,
    name: str | None = None,
    online: bool = False,
    offline: bool | None = None,
    tolerance_m: float = 20.0,
    decimals: int = 5,
    sea_links: Iterable[Mapping] = (),
    detached: Iterable[Mapping] = (),
    zones: Iterable = (),
):
    """A folium map of one territory, its units coloured by what the checks found.

    The layers are those of :func:`territory_layers`, in drawing order: the neighbouring CPTS of
    ``existing``, the white zones around the territory, its units by finding, its outline, its
    detached parts and its sea links.

    Parameters
    ----------
    ref
        The reference.
    codes
        Unit codes of the territory.
    findings
        Unit codes by finding: ``chevauchement`` (units of the territory already in an existing
        CPTS), ``epci_partiel`` (units of the territory whose EPCI is split), ``enclave`` (units
        outside it that it encloses), ``epci_hors`` (the rest of its split EPCIs).
    existing
        A :class:`cpts_geo.inputs.Register`: the CPTS that touch or share units with the
        territory are drawn, and its neighbours in no CPTS (in the register's départements).
    name
        The territory's name (title of the tooltip).
    online
        Leaflet from the CDN and basemaps (see :func:`coverage_map`); default self-contained.
    offline
        Deprecated and ignored (self-contained is the default).
    sea_links
        The contiguity rule's ``details["sea_links"]``: drawn as dashed lines with their length.
    detached
        The parts of the territory apart from its main one (the contiguity rule's
        ``details["components"][1:]``: ``id``, ``name``, ``communes``): outlined.
    zones
        Zone layers (:class:`~cpts_geo.inputs.zones.ZoneLayer`) drawn over the territory and its
        neighbours, each a toggleable layer hatched by category (:mod:`cpts_geo.maps.zones`).

    Returns
    -------
    folium.Map
    """
    import folium

    layers = territory_layers(
        ref, codes, findings=findings, existing=existing, name=name, sea_links=sea_links, detached=detached
    )
    gdf = _dissolved(ref, layers, tolerance_m=tolerance_m, decimals=decimals)
    m = folium.Map(location=None, zoom_start=9, tiles=None, control_scale=False, zoom_snap=0.25)
    prepare_assets(m, online)
    add_map_chrome(m)
    if online:
        add_basemaps(m)
    _add_neighbour_cpts(m, layers, gdf)
    _add_white_zones(m, ref, layers, gdf)
    _add_units(m, ref, layers, gdf)
    _add_outline(m, layers, gdf)
    _add_detached(m, layers, gdf)
    _add_sea_links(m, sea_link_lines(ref, layers.sea_links))
    zones = list(zones)
    if zones:
        from cpts_geo.maps.zones import add_zone_overlays, zone_overlays

        window = [*layers.codes, *layers.neighbours]
        add_zone_overlays(
            m, zone_overlays(ref, zones, within=window, tolerance_m=tolerance_m, decimals=decimals)
        )
    add_hatch_pattern(m)  # after the layers: the pattern goes into their SVG
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    _fit(m, layers, gdf)
    return m


def _dissolved(
    ref: Reference, layers: TerritoryMapLayers, *, tolerance_m: float, decimals: int
) -> gpd.GeoDataFrame:
    """Every polygon of the map, simplified as one coverage: ``u:`` a unit with a finding, ``w:``
    a white-zone unit, ``t`` the territory, ``p:`` a detached part, ``cpts:`` a CPTS."""
    inside = set(layers.codes)
    parts = [
        (f"p:{d['id']}", u["code"]) for d in layers.detached for u in d["communes"] if u["code"] in inside
    ]
    members = pd.DataFrame(
        {
            "group": [f"u:{c}" for c in layers.kind]
            + [f"w:{c}" for c in layers.white]
            + ["t"] * len(layers.codes)
            + [g for g, _ in parts]
            + [f"cpts:{c}" for c in layers.cpts["cpts_id"]],
            "code_insee": list(layers.kind)
            + list(layers.white)
            + list(layers.codes)
            + [c for _, c in parts]
            + layers.cpts["code_insee"].tolist(),
        }
    )
    return dissolve(ref, members, tolerance_m=tolerance_m, decimals=decimals)


def _add_neighbour_cpts(m, layers: TerritoryMapLayers, gdf: gpd.GeoDataFrame) -> None:
    """The CPTS of the register that touch the territory or share units with it."""
    if not len(layers.cpts):
        return
    names = layers.cpts.groupby("cpts_id", sort=True)["cpts_nom"].first()
    keys = [f"cpts:{c}" for c in names.index]
    cp = gpd.GeoDataFrame(
        {
            "nom": [n or c for c, n in names.items()],
            "cpts_id": list(names.index),
            "population": [f"{fr_number(int(p))}\u00a0hab." for p in gdf.loc[keys, "population"]],
        },
        geometry=gdf.loc[keys].geometry.to_numpy(),
        crs=4326,
    )
    add_territory_layer(
        m,
        cp,
        name="CPTS existantes voisines",
        fields={"nom": "CPTS", "cpts_id": "Identifiant", "population": "Population"},
        style=NEIGHBOUR_CPTS_STYLE,
        class_name="cpts-existante",
        legend=[("CPTS existante", NEIGHBOUR_CPTS_STYLE)],
        legend_section="Registre",
    )


def _unit_rows(
    ref: Reference, codes: Iterable[str], gdf: gpd.GeoDataFrame, prefix: str, constat
) -> gpd.GeoDataFrame:
    """One row per unit for a layer's tooltips: ``nom`` ("Name (code)"), ``population``, ``epci``,
    ``constat`` (``constat(code)``)."""
    units = ref.units
    epci_names = ref.epci["nom"]
    rows = []
    for c in codes:
        e = units.at[c, "epci"]
        rows.append(
            {
                "nom": f"{units.at[c, 'nom']} ({c})",
                "population": f"{fr_number(int(units.at[c, 'population']))}\u00a0hab.",
                "epci": str(epci_names.get(e, "")) if isinstance(e, str) and e else "aucun EPCI",
                "constat": constat(c),
                "geometry": gdf.geometry.get(prefix + c),
            }
        )
    if not rows:
        return gpd.GeoDataFrame(
            {k: [] for k in ("nom", "population", "epci", "constat")}, geometry=[], crs=4326
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


_UNIT_FIELDS = {"nom": "Commune", "population": "Population", "epci": "EPCI", "constat": "Constat"}


def _add_white_zones(m, ref: Reference, layers: TerritoryMapLayers, gdf: gpd.GeoDataFrame) -> None:
    """The neighbours of the territory in a white zone, hatched as on the coverage maps."""
    if not layers.white:
        return
    add_territory_layer(
        m,
        _unit_rows(ref, layers.white, gdf, "w:", lambda _c: "Zone blanche : aucune CPTS du registre"),
        name="Communes voisines en zone blanche",
        fields=_UNIT_FIELDS,
        style=WHITE_STYLE,
        class_name="cpts-zone-blanche",
        legend=[(WHITE_NEIGHBOUR_LABEL, WHITE_STYLE)],
        legend_section="Hors du territoire",
    )


def _add_units(m, ref: Reference, layers: TerritoryMapLayers, gdf: gpd.GeoDataFrame) -> None:
    """The units with a finding, one layer per finding (``FINDING_STYLES``)."""
    for k, (label, style) in FINDING_STYLES.items():
        codes = [c for c, kk in layers.kind.items() if kk == k]
        if not codes:
            continue
        add_territory_layer(
            m,
            _unit_rows(ref, codes, gdf, "u:", lambda _c, _label=label: _label),
            name=label,
            fields=_UNIT_FIELDS,
            style=style,
            class_name=f"cpts-{k.replace('_', '-')}",
            legend=[(label, style)],
            legend_section="Dans le territoire" if k in _INSIDE_KINDS else "Hors du territoire",
        )


def _add_outline(m, layers: TerritoryMapLayers, gdf: gpd.GeoDataFrame) -> None:
    """The territory's outline (thick, not interactive)."""
    outline = {"color": "#000", "weight": 3, "fill": False}
    add_territory_layer(
        m,
        gpd.GeoDataFrame(
            {"nom": [layers.name or "Territoire proposé"]}, geometry=[gdf.geometry.get("t")], crs=4326
        ),
        name="Contour du territoire",
        fields={},
        style=outline,
        class_name="cpts-contour",
        interactive=False,
        legend=[("Contour du territoire proposé", outline)],
        legend_section="Dans le territoire",
    )


def _add_detached(m, layers: TerritoryMapLayers, gdf: gpd.GeoDataFrame) -> None:
    """The parts of the territory apart from its main one, outlined (dashed)."""
    if not layers.detached:
        return
    parts = gpd.GeoDataFrame(
        {
            "partie": [f"Partie {d['id']} « {d['name']} »" for d in layers.detached],
            "communes": [fr_plural(len(d["communes"]), "commune") for d in layers.detached],
        },
        geometry=[gdf.geometry.get(f"p:{d['id']}") for d in layers.detached],
        crs=4326,
    )
    add_territory_layer(
        m,
        parts,
        name="Parties détachées du territoire",
        fields={"partie": "Partie détachée", "communes": "Communes"},
        style=_DETACHED_STYLE,
        class_name="cpts-partie-detachee",
        highlight=False,
        legend=[("Partie détachée du territoire", _DETACHED_STYLE)],
        legend_section="Continuité",
    )


def _fit(m, layers: TerritoryMapLayers, gdf: gpd.GeoDataFrame) -> None:
    """Frame the map on the units with a finding (the territory, its enclaves, its split EPCIs)."""
    shown = gdf.geometry[[f"u:{c}" for c in layers.kind]]
    x0, y0, x1, y1 = gpd.GeoSeries(shown.to_numpy(), crs=4326).total_bounds
    if np.isfinite([x0, y0, x1, y1]).all():
        m.fit_bounds([[float(y0), float(x0)], [float(y1), float(x1)]])
