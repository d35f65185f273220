"""The map of one territory in a check report: its units coloured by finding, the sea links and detached parts of the contiguity rule, the neighbouring CPTS (re-exported by :mod:`cpts_geo.maps`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from cpts_geo._text import fr_km, fr_number, fr_plural
from cpts_geo.inputs.read import as_register
from cpts_geo.maps.base import add_basemaps, add_map_chrome, add_territory_layer, prepare_assets
from cpts_geo.maps.base import escape_html as _esc
from cpts_geo.maps.styles import FINDING_STYLES, NEIGHBOUR_CPTS_STYLE
from cpts_geo.reference.geometry import dissolve
from cpts_geo.reference.units import Reference

# ---- the map of one territory (check reports) -------------------------------------------------
#: Legend sections of the check map: a unit's fill says where it is, then what was found.
_INSIDE_KINDS = ("chevauchement", "epci_partiel", "territoire")


_SEA_LINK_STYLE = {"color": "#0b4f8a", "weight": 3, "dashArray": "8 6", "opacity": 0.95, "fill": False}


_DETACHED_STYLE = {"color": "#e6550d", "weight": 3.5, "dashArray": "6 4", "fill": False, "opacity": 1}


def sea_link_lines(ref: Reference, sea_links: Iterable[Mapping]) -> gpd.GeoDataFrame:
    """The sea links named by the contiguity rule as lines between the closest points of their
    two units (``shapely.shortest_line`` in the zone's projected CRS, returned in EPSG:4326).

    Parameters
    ----------
    sea_links
        ``RuleResult.details["sea_links"]`` of the contiguity rule: ``a``, ``b`` (unit codes),
        ``a_nom``, ``b_nom``, ``distance_km``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``liaison`` (the two communes), ``distance`` ("12,5 km"), ``distance_km``;
        one line per link whose two units have a geometry.
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
            }
        )
        lines.append(line)
    if not rows:
        return gpd.GeoDataFrame({"liaison": [], "distance": [], "distance_km": []}, geometry=[], crs=4326)
    return gpd.GeoDataFrame(rows, geometry=lines, crs=4326)


def _add_sea_links(m, lines: gpd.GeoDataFrame) -> None:
    """The sea links as dashed lines, each labelled with its length at its middle."""
    import folium

    if not len(lines):
        return
    add_territory_layer(
        m,
        lines.drop(columns="distance_km"),
        name="Liaisons maritimes",
        fields={"liaison": "Liaison maritime", "distance": "Distance"},
        style=_SEA_LINK_STYLE,
        class_name="cpts-liaison-maritime",
        highlight=False,
        legend=[("Liaison maritime (règle de continuité)", _SEA_LINK_STYLE)],
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
):
    """A folium map of one territory, its units coloured by what the checks found.

    Long because it is one map: each block adds one layer, in drawing order.

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
        territory are drawn.
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

    Returns
    -------
    folium.Map
    """
    import folium

    codes = [c for c in dict.fromkeys(codes) if c in ref.units.index]
    findings = {k: [c for c in v if c in ref.units.index] for k, v in (findings or {}).items()}
    inside = set(codes)
    kind: dict[str, str] = {}
    for key in ("chevauchement", "epci_partiel"):
        for c in findings.get(key, []):
            if c in inside:
                kind.setdefault(c, key)
    for c in codes:
        kind.setdefault(c, "territoire")
    for key in ("enclave", "epci_hors"):
        for c in findings.get(key, []):
            if c not in inside:
                kind.setdefault(c, key)
    detached = [d for d in detached if any(u["code"] in inside for u in d.get("communes", []))]

    # Existing CPTS around: those sharing a unit with, or adjacent to, the territory.
    cpts_members = pd.DataFrame(columns=["group", "code_insee"])
    cpts_names: dict = {}
    register = as_register(ref, existing)
    if len(register):
        t = register.named_links
        pos = ref.position.reindex(codes).to_numpy()
        near = set(ref.units.index[np.unique(ref.graph[pos].indices)]) | inside
        touching = sorted(set(t.loc[t["code_insee"].isin(near), "cpts_id"]), key=str)
        sel = t[t["cpts_id"].isin(touching)]
        cpts_members = pd.DataFrame(
            {"group": ["cpts:" + str(c) for c in sel["cpts_id"]], "code_insee": sel["code_insee"].to_numpy()}
        )
        cpts_names = sel.groupby("cpts_id")["cpts_nom"].first().to_dict()

    unit_members = pd.DataFrame({"group": ["u:" + c for c in kind], "code_insee": list(kind)})
    terr_members = pd.DataFrame({"group": ["t"] * len(codes), "code_insee": codes})
    part_members = pd.DataFrame(
        {
            "group": [f"p:{d['id']}" for d in detached for u in d["communes"] if u["code"] in inside],
            "code_insee": [u["code"] for d in detached for u in d["communes"] if u["code"] in inside],
        }
    )
    members = pd.concat([unit_members, terr_members, part_members, cpts_members], ignore_index=True)
    gdf = dissolve(ref, members, tolerance_m=tolerance_m, decimals=decimals)

    m = folium.Map(location=None, zoom_start=9, tiles=None, control_scale=False, zoom_snap=0.25)
    prepare_assets(m, online)
    add_map_chrome(m)
    if online:
        add_basemaps(m)

    if cpts_names:
        keys = ["cpts:" + str(c) for c in cpts_names]
        cp = gpd.GeoDataFrame(
            {
                "nom": [cpts_names[c] or c for c in cpts_names],
                "cpts_id": list(cpts_names),
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

    units = ref.units
    epci_names = ref.epci["nom"]
    rows = []
    for c, k in kind.items():
        e = units.at[c, "epci"]
        rows.append(
            {
                "nom": f"{units.at[c, 'nom']} ({c})",
                "population": f"{fr_number(int(units.at[c, 'population']))}\u00a0hab.",
                "epci": str(epci_names.get(e, "")) if isinstance(e, str) and e else "aucun EPCI",
                "constat": FINDING_STYLES[k][0],
                "_kind": k,
                "geometry": gdf.geometry.get("u:" + c),
            }
        )
    ug = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    styles = {k: v[1] for k, v in FINDING_STYLES.items()}
    for k in FINDING_STYLES:
        part = ug[ug["_kind"] == k]
        if not len(part):
            continue
        add_territory_layer(
            m,
            part.drop(columns="_kind"),
            name=FINDING_STYLES[k][0],
            fields={"nom": "Commune", "population": "Population", "epci": "EPCI", "constat": "Constat"},
            style=styles[k],
            class_name=f"cpts-{k.replace('_', '-')}",
            legend=[(FINDING_STYLES[k][0], styles[k])],
            legend_section="Dans le territoire" if k in _INSIDE_KINDS else "Hors du territoire",
        )

    outline = {"color": "#000", "weight": 3, "fill": False}
    t_geom = gdf.geometry.get("t")
    add_territory_layer(
        m,
        gpd.GeoDataFrame({"nom": [name or "Territoire proposé"]}, geometry=[t_geom], crs=4326),
        name="Contour du territoire",
        fields={},
        style=outline,
        class_name="cpts-contour",
        interactive=False,
        legend=[("Contour du territoire proposé", outline)],
        legend_section="Dans le territoire",
    )
    if detached:
        parts = gpd.GeoDataFrame(
            {
                "partie": [f"Partie {d['id']} « {d['name']} »" for d in detached],
                "communes": [fr_plural(len(d["communes"]), "commune") for d in detached],
            },
            geometry=[gdf.geometry.get(f"p:{d['id']}") for d in detached],
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
    _add_sea_links(m, sea_link_lines(ref, sea_links))
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    shown = gdf.geometry[["u:" + c for c in kind]]
    x0, y0, x1, y1 = gpd.GeoSeries(shown.to_numpy(), crs=4326).total_bounds
    if np.isfinite([x0, y0, x1, y1]).all():
        m.fit_bounds([[float(y0), float(x0)], [float(y1), float(x1)]])
    return m
