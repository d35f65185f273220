"""Folium (Leaflet) maps in French: coverage of a register, one territory, suggested territories.

The boundaries drawn come from one *coverage* of the units (:mod:`cpts_geo.reference.geometry`): units
with the same label are dissolved and simplified together, so that no gap or sliver can open
between two neighbouring polygons, whatever the layer they belong to. The folium plumbing
(assets, escaping, legend, layers) is in :mod:`cpts_geo.maps.base`; static figures in
:mod:`cpts_geo.outputs.figures`.

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.maps import coverage_map, save_map
>>> ref = cg.load_reference()
>>> m = coverage_map(ref, cg.read_register("registre.csv", ref), region="52")  # doctest: +SKIP
>>> save_map(m, "carte.html")  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from cpts_geo._text import fr_date, fr_number, fr_plural, fr_share
from cpts_geo.inputs.stages import NOT_GIVEN, STAGE_LABELS
from cpts_geo.maps._search import SEARCH_TEMPLATE
from cpts_geo.maps.base import (
    add_basemaps,
    add_hatch_pattern,
    add_map_chrome,
    add_shared_hatch_pattern,
    add_territory_layer,
    choropleth_layer_class,
    escape_html,
    get_legend,
    json_for_script,
    macro,
    prepare_assets,
    swatch,
)
from cpts_geo.maps.styles import (
    DETAIL,
    OVERLAP_STYLE,
    SHARE_CLASSES,
    SHARED_STYLE,
    STAGE_COLORS,
    SUBDIVIDED_COMMUNE_STYLE,
    SUBUNIT_STYLE,
    WHITE_STYLE,
)
from cpts_geo.reference.geometry import atom_positions, atoms, membership_pairs
from cpts_geo.reference.unit_types import SUBUNIT_TYPE
from cpts_geo.reference.units import Reference
from cpts_geo.steering.coverage import NOTE_MULTI, as_coverage

__all__ = ["TerritoryLayer", "coverage_map"]

log = logging.getLogger(__name__)

_esc = escape_html


@dataclass
class TerritoryLayer:
    """An extra layer of territories for :func:`coverage_map`, dissolved with the CPTS.

    ``membership`` has columns ``group`` and ``code_insee``; ``properties`` is indexed by group
    (the tooltip ``fields`` and any column ``style`` reads); the other fields are those of
    :func:`add_territory_layer`.
    """

    name: str
    membership: pd.DataFrame
    properties: pd.DataFrame
    fields: Mapping[str, str]
    style: Mapping | Callable[[dict], dict]
    legend: list[tuple[str, Mapping | str]] = field(default_factory=list)
    class_name: str = "cpts-couche"
    show: bool = True


# ---- the coverage map ------------------------------------------------------------------------
def _share_color(share: float) -> str:
    """The choropleth class colour of a share covered (:data:`SHARE_CLASSES`)."""
    return _share_colormap().rgb_hex_str(min(max(float(share), 0.0), 1.0))


@functools.cache
def _share_colormap():
    from branca.colormap import StepColormap

    colors = [c for _, c in SHARE_CLASSES]
    index = [0.0] + [upper for upper, _ in SHARE_CLASSES[:-1]] + [1.0001]
    return StepColormap(colors, index=index, vmin=0.0, vmax=1.0001)


def coverage_map(
    ref: Reference,
    coverage,
    *,
    region: str | None = None,
    departement: str | None = None,
    online: bool = False,
    offline: bool | None = None,
    goal: float | None = None,
    extra_layers: Iterable[TerritoryLayer] = (),
    title: str | None = None,
    tolerance_m: float | None = None,
    decimals: int | None = None,
    search: bool = True,
    provenance=None,
    summary_html: str | None = None,
):
    """A folium map of a register's coverage, in French.

    Layers: the CPTS (one polygon each, coloured by stage; tooltip with name, stage,
    population, communes and ACI size class), the white zones (dissolved per département,
    hatched), the units covered by several CPTS (red), the outlines of départements and
    régions, a choropleth of the share of the population covered per département, and any
    ``extra_layers``; a layer control, a legend, a title and a panel of figures (CPTS against the
    goal, share covered, white zones, vintages), and a commune search box.

    The function is long because it is one map: each block adds one layer, in drawing order.

    Parameters
    ----------
    ref
        The reference.
    coverage
        A :class:`~cpts_geo.steering.coverage.Coverage` (drawn as computed: area, goal and figures), or a
        register (anything :func:`~cpts_geo.inputs.read.as_register` takes; it may be empty), whose
        coverage is computed for ``region``/``departement``/``goal``.
    region, departement
        With a register: draw one région or département (code or name); default: all of France
        (the view opens on metropolitan France; the DROM are drawn too).
    online
        Load Leaflet from the CDN and add the OpenStreetMap and Plan IGN basemaps (with their
        attributions). By default the page is self-contained: Leaflet is embedded from the pip
        package, no basemap, nothing is loaded from the network.
    offline
        Deprecated and ignored: self-contained pages are the default.
    extra_layers
        :class:`TerritoryLayer` drawn on top of the CPTS, simplified with them.
    tolerance_m, decimals
        Simplification tolerance (metres) and coordinate decimals; default by extent
        (:data:`DETAIL`).
    provenance
        A :class:`cpts_geo.outputs.provenance.Provenance` (input files, parameters, version, vintages,
        date of the run), shown at the foot of the panel of figures.
    summary_html
        HTML (already escaped) replacing the panel of figures (the suggest map's summary).

    Returns
    -------
    folium.Map
        Write it with :func:`save_map` (which checks that a self-contained map loads nothing).
    """
    import folium

    summary = as_coverage(ref, coverage, region=region, departement=departement, goal=goal)
    scope = summary.scope
    extra_layers = list(extra_layers)
    tol, dec = DETAIL[scope["level"]]
    tol = tol if tolerance_m is None else float(tolerance_m)
    dec = dec if decimals is None else int(decimals)
    table = summary.units
    assert table is not None, "a Coverage from as_coverage has its per-unit table"
    cpts = summary.cpts_frame
    inside = pd.Series(summary.in_scope, index=ref.units.index)

    # CPTS drawn: those touching the area, whole (also outside it).
    if scope["level"] == "national":
        shown_cpts = list(cpts.index)
    else:
        col = "regions" if scope["level"] == "region" else "departements"
        shown_cpts = [c for c, areas in cpts[col].items() if scope["code"] in areas]
    cpts = cpts.loc[shown_cpts]
    drawn = inside.copy()
    if len(cpts):
        drawn.loc[np.concatenate([np.asarray(c, dtype=object) for c in cpts["codes"]] + [[]])] = True
    extra_pairs = []
    for k, layer in enumerate(extra_layers):
        p = membership_pairs(layer.membership)
        p = p[ref.units.index.get_indexer(p["code_insee"].to_numpy(dtype=object)) >= 0]
        drawn.loc[p["code_insee"]] = True
        extra_pairs.append(p.assign(key=[("x", k, g) for g in p["group"]]))

    # Labels: the CPTS covering the unit, 'w' for a white unit inside the area, extra groups.
    drawn_np = drawn.to_numpy()
    codes = ref.units.index[drawn_np]
    shown_set = set(shown_cpts)
    labels: list[list[tuple]] = [
        [("c", o) for o in owners if o in shown_set] or ([("w",)] if is_inside else [])
        for owners, is_inside in zip(table["cpts"].to_numpy()[drawn_np], inside.to_numpy()[drawn_np])
    ]
    if extra_pairs:
        row = {c: i for i, c in enumerate(codes.tolist())}
        for p in extra_pairs:
            for c, key in zip(p["code_insee"].tolist(), p["key"]):
                labels[row[c]].append(key)
    labels = _subunit_labels(ref, codes, labels)
    parts = atoms(ref, codes, [tuple(lab) for lab in labels], tol, dec)
    where = atom_positions(parts.label)

    location = None
    m = folium.Map(
        location=location,
        zoom_start=6,
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
        zoom_snap=0.25,
    )
    prepare_assets(m, online)
    add_map_chrome(m)
    if online:
        add_basemaps(m)
    legend = get_legend(m)

    # Choropleth of the share covered, per département (hidden by default).
    dep_codes = sorted(set(ref.units.loc[inside, "departement"]))
    dep_pos = {d: np.flatnonzero(parts.departement == d) for d in dep_codes}
    dep_geoms = parts.union(dep_pos)
    dep_rows = {r["code"]: r for r in summary.departements}
    deps = gpd.GeoDataFrame(
        {
            "nom": [f"{ref.departements.at[d, 'nom']} ({d})" for d in dep_codes],
            "couverture": [fr_share(dep_rows[d]["share_covered"]) for d in dep_codes],
            "cpts": [f"{dep_rows[d]['cpts']} (objectif {fr_number(dep_rows[d]['goal'])})" for d in dep_codes],
            "blanches": [f"{fr_number(dep_rows[d]['white_zone_population'])} hab." for d in dep_codes],
            "_color": [_share_color(dep_rows[d]["share_covered"]) for d in dep_codes],
        },
        geometry=[dep_geoms[d] for d in dep_codes],
        crs=4326,
    )

    # The CPTS, coloured by stage.
    cpts_geoms = parts.union({c: where.get(("c", c), []) for c in shown_cpts})
    stages = [s if s in STAGE_COLORS else "" for s in cpts["statut"]]
    cp = gpd.GeoDataFrame(
        {
            "nom": list(cpts["cpts_nom"]),
            "cpts_id": list(cpts.index),
            "stade": [
                STAGE_LABELS[s] + (f" ({fr_date(d)})" if d else "")
                for s, d in zip(stages, cpts["date_statut"])
            ],
            "population": [f"{fr_number(p)} hab." for p in cpts["population"]],
            "communes": [
                str(n) if n == u else f"{n} ({u} unités dont arrondissements)"
                for n, u in zip(cpts["n_communes"], cpts["n_units"])
            ],
            "taille": [f"taille {k}" for k in cpts["aci_size_class"]],
            "_color": [STAGE_COLORS[s] for s in stages],
        },
        geometry=[cpts_geoms[c] for c in shown_cpts],
        crs=4326,
    )
    used = [s for s in STAGE_LABELS if s in set(stages) or s]
    add_territory_layer(
        m,
        cp,
        name="CPTS par stade",
        fields={
            "nom": "CPTS",
            "cpts_id": "Identifiant",
            "stade": "Stade",
            "population": "Population",
            "communes": "Communes",
            "taille": "Taille ACI",
        },
        style=lambda p: {"color": "#333", "weight": 1, "fillColor": p["_color"], "fillOpacity": 0.6},
        class_name="cpts-territoire",
        legend=[
            (STAGE_LABELS[s], {"fillColor": STAGE_COLORS[s], "fillOpacity": 0.6, "color": "#333"})
            for s in (used if len(cpts) else [])
        ],
        legend_section="CPTS par stade (Atlas des CPTS)",
    )

    # White zones, dissolved per département (inside the area only).
    white = gpd.GeoDataFrame({"nom": [], "communes": [], "population": []}, geometry=[], crs=4326)
    white_rows = []
    unit_white = table.loc[inside.to_numpy() & (table["n_cpts"].to_numpy() == 0)]
    if len(unit_white):
        w_pos = {d: [i for i in where.get(("w",), []) if parts.departement[i] == d] for d in dep_codes}
        w_geoms = parts.union({d: p for d, p in w_pos.items() if p})
        by_dep = unit_white.groupby("departement")["population"].agg(["size", "sum"])
        for d, r in by_dep.iterrows():
            white_rows.append(
                {
                    "nom": f"Zone blanche — {ref.departements.at[d, 'nom']} ({d})",
                    "communes": str(int(r["size"])),
                    "population": f"{fr_number(int(r['sum']))} hab.",
                    "geometry": w_geoms.get(d),
                }
            )
        white = gpd.GeoDataFrame(white_rows, geometry="geometry", crs=4326)
    add_territory_layer(
        m,
        white,
        name="Zones blanches (aucune CPTS)",
        fields={"nom": "", "communes": "Communes", "population": "Population"},
        style=WHITE_STYLE,
        class_name="cpts-zone-blanche",
        legend=[("Zone blanche (aucune CPTS)", WHITE_STYLE)],
        legend_section="Couverture",
    )

    # Units in several CPTS, dissolved by the set of CPTS covering them.
    declared = (
        table["commune_partagee"].to_numpy(dtype=bool)
        if "commune_partagee" in table
        else np.zeros(len(table), dtype=bool)
    )
    multi = table.loc[drawn.to_numpy() & (table["n_cpts"].to_numpy() >= 2) & ~declared]
    ov_rows = []
    if len(multi):
        names = cpts["cpts_nom"].to_dict()
        keyed = multi.assign(key=[tuple(c) for c in multi["cpts"]])
        # The atoms of each set of CPTS, indexed once (not every atom scanned for every set).
        atoms_of: dict[frozenset, list[int]] = {}
        for i, lab in enumerate(parts.label):
            atoms_of.setdefault(frozenset(x[1] for x in lab if x[0] == "c"), []).append(i)
        for key, grp in keyed.groupby("key", sort=True):
            pos = atoms_of.get(frozenset(key), [])
            geom = parts.union({0: pos})[0] if pos else None
            communes = ", ".join(f"{n} ({c})" for c, n in grp["nom"].head(8).items())
            ov_rows.append(
                {
                    "cpts": " ; ".join(f"{names.get(k, '') or k}" for k in key),
                    "communes": communes + (f" … ({len(grp)} communes)" if len(grp) > 8 else ""),
                    "population": f"{fr_number(int(grp['population'].sum()))} hab.",
                    "geometry": geom,
                }
            )
    overlap = (
        gpd.GeoDataFrame(ov_rows, geometry="geometry", crs=4326)
        if ov_rows
        else gpd.GeoDataFrame({"cpts": [], "communes": [], "population": []}, geometry=[], crs=4326)
    )
    add_territory_layer(
        m,
        overlap,
        name="Communes dans plusieurs CPTS",
        fields={"cpts": "CPTS en chevauchement", "communes": "Communes", "population": "Population"},
        style=OVERLAP_STYLE,
        class_name="cpts-chevauchement",
        legend=[("Commune dans plusieurs CPTS", OVERLAP_STYLE)],
        legend_section="Couverture",
    )
    shared = table.loc[drawn.to_numpy() & (table["n_cpts"].to_numpy() >= 2) & declared]
    if len(shared):
        _add_shared_layer(m, ref, shared, cpts["cpts_nom"].to_dict())

    # Extra layers (e.g. suggested territories).
    for k, layer in enumerate(extra_layers):
        groups = list(dict.fromkeys(layer.membership["group"]))
        geoms = parts.union({g: where.get(("x", k, g), []) for g in groups})
        props = layer.properties.reindex(groups)
        gdf = gpd.GeoDataFrame(props.reset_index(drop=True), geometry=[geoms[g] for g in groups], crs=4326)
        add_territory_layer(
            m,
            gdf,
            name=layer.name,
            fields=layer.fields,
            style=layer.style,
            class_name=layer.class_name,
            show=layer.show,
            legend=layer.legend,
        )

    _add_subdivided(m, ref, codes, parts, where)

    # Outlines of départements and régions; the choropleth is drawn from the départements'
    # features in the page (not a second copy of their boundaries).
    outline_d = {"color": "#444", "weight": 1.2, "fill": False, "opacity": 0.9}
    dep_layer = add_territory_layer(
        m,
        deps,
        name="Limites des départements",
        fields={},
        style=outline_d,
        class_name="cpts-limite-departement",
        interactive=False,
        legend=[("Limite de département", outline_d)],
        legend_section="Limites",
    )
    choro = choropleth_layer_class()(
        dep_layer, name="Part de la population couverte (département)", show=False
    )
    m.add_child(choro)
    reg_codes = sorted(set(ref.departements.loc[dep_codes, "region"]))
    reg_of_atom = ref.departements["region"].reindex(parts.departement).to_numpy()
    in_deps = np.isin(parts.departement, dep_codes)
    reg_geom = parts.union({r: np.flatnonzero((reg_of_atom == r) & in_deps) for r in reg_codes})
    reg_geoms = [reg_geom[r] for r in reg_codes]
    outline_r = {"color": "#111", "weight": 2.6, "fill": False, "opacity": 0.9}
    add_territory_layer(
        m,
        gpd.GeoDataFrame(geometry=reg_geoms, crs=4326),
        name="Limites des régions",
        fields={},
        style=outline_r,
        class_name="cpts-limite-region",
        interactive=False,
        legend=[("Limite de région", outline_r)],
        legend_section="Limites",
    )

    lower = 0.0
    for upper, color in SHARE_CLASSES:
        label = (
            f"{100 * lower:.0f} à {min(100 * upper, 100):.0f} %"
            if upper <= 1
            else f"{100 * lower:.0f} % et plus"
        )
        legend.add(
            "Population couverte par département (couche à afficher)",
            label,
            {"fillColor": color, "fillOpacity": 0.85, "color": "#555", "weight": 1},
        )
        lower = upper
    add_hatch_pattern(m)
    _add_panels(m, ref, summary, scope, title, provenance=provenance, summary_html=summary_html)
    if scope["level"] == "national":
        _add_zone_selector(m, ref)
    if search:
        _add_search(m, ref, table.loc[inside.to_numpy()], cpts)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)

    if scope["level"] == "national":
        metro = ref.units["zone"] == "metro"
        b = ref.units.loc[metro, ["lon", "lat"]]
        bounds = (
            [[41.3, -5.2], [51.1, 9.6]]
            if not len(b)
            else [
                [float(b["lat"].min()), float(b["lon"].min())],
                [float(b["lat"].max()), float(b["lon"].max())],
            ]
        )
    else:
        x0, y0, x1, y1 = deps.total_bounds
        bounds = [[float(y0), float(x0)], [float(y1), float(x1)]]
    m.fit_bounds(bounds)
    # The coverage drawn, for the tests (tests/test_maps.py reads it); folium.Map has no such attribute.
    m._cpts_summary = summary  # type: ignore[attr-defined]
    return m


def _subunit_labels(ref: Reference, codes: pd.Index, labels: list[list[tuple]]) -> list[list[tuple]]:
    """Labels of the units drawn, each unit below the commune (IRIS, sector) kept apart with its
    commune (``("u", code)``, ``("s", commune)``) so that both can be drawn from the atoms."""
    kind = ref.units["type"].reindex(codes).to_numpy()
    if not (kind == SUBUNIT_TYPE).any():
        return labels
    commune = ref.units["commune"].reindex(codes).to_numpy()
    return [
        lab + [("u", c), ("s", com)] if k == SUBUNIT_TYPE else lab
        for lab, c, k, com in zip(labels, codes, kind, commune)
    ]


def _add_subdivided(m, ref: Reference, codes: pd.Index, parts, where: dict) -> None:
    """Layers of the units below the commune drawn (thin lines) and of the outline of the
    communes they divide, when the reference has such units."""
    sub = ref.units.loc[codes[ref.units["type"].reindex(codes).to_numpy() == SUBUNIT_TYPE]]
    if not len(sub):
        return
    geoms = parts.union({c: where.get(("u", c), []) for c in sub.index})
    add_territory_layer(
        m,
        gpd.GeoDataFrame(
            {
                "nom": [f"{n} ({c})" for c, n in sub["nom"].items()],
                "population": [f"{fr_number(p)} hab." for p in sub["population"]],
            },
            geometry=[geoms[c] for c in sub.index],
            crs=4326,
        ),
        name="Unités infracommunales (IRIS, secteurs)",
        fields={"nom": "Unité", "population": "Population"},
        style=SUBUNIT_STYLE,
        class_name="cpts-unite-infracommunale",
        legend=[("Unité infracommunale (IRIS, secteur)", SUBUNIT_STYLE)],
        legend_section="Limites",
    )
    communes = sorted(set(sub["commune"]))
    outlines = parts.union({c: where.get(("s", c), []) for c in communes})
    n_units = sub.groupby("commune").size()
    add_territory_layer(
        m,
        gpd.GeoDataFrame(
            {
                "nom": [f"{ref.communes.at[c, 'nom']} ({c})" for c in communes],
                "unites": [str(n_units[c]) for c in communes],
            },
            geometry=[outlines[c] for c in communes],
            crs=4326,
        ),
        name="Communes découpées (contour)",
        fields={"nom": "Commune", "unites": "Unités infracommunales"},
        style=SUBDIVIDED_COMMUNE_STYLE,
        class_name="cpts-commune-decoupee",
        interactive=False,
        legend=[("Commune découpée en unités infracommunales", SUBDIVIDED_COMMUNE_STYLE)],
        legend_section="Limites",
    )


def _add_panels(
    m, ref: Reference, summary, scope: dict, title: str | None, *, provenance=None, summary_html=None
) -> None:
    """The title and the panel of figures (collapsible), with the provenance at its foot."""
    where = {
        "national": "France entière",
        "region": f"Région {scope['nom']}",
        "departement": f"Département {scope['nom']} ({scope['code']})",
    }[scope["level"]]
    head = title or f"Couverture du territoire par les CPTS — {where}"
    stats = (
        summary_html
        if summary_html is not None
        else _coverage_stats_html(ref, summary, scope, source=provenance is None)
    )
    heading = "Proposition" if summary_html is not None else where
    if provenance is not None:
        stats += (
            '<div class="cpts-prov" id="cpts-tracabilite"><details><summary>'
            f"{_esc(provenance.summary_line())}</summary>{provenance.to_html(compact=True)}</details></div>"
        )
    el = macro(
        '{% macro html(this, kwargs) %}<div class="cpts-panel cpts-title" id="cpts-titre">'
        '{{ this.title_html }}</div><div class="cpts-panel cpts-stats" id="cpts-stats">'
        "<details open><summary>{{ this.heading }}</summary>{{ this.stats_html }}</details></div>"
        "{% endmacro %}"
    )
    el.title_html = _esc(head)
    el.heading = _esc(heading)
    el.stats_html = stats
    m.get_root().add_child(el, name="cpts_panels")


def _coverage_stats_html(ref: Reference, summary, scope: dict, *, source: bool = True) -> str:
    """The figures of the coverage map's panel: CPTS against the goal, by stage, share covered,
    white zones (communes), overlaps, vintages."""
    a = summary.area
    v = ref.vintage
    if scope["level"] == "national":
        goal_txt = f"pour un objectif national de <b>{fr_number(a['goal'])}</b>"
    else:
        goal_txt = (
            f"pour un objectif de <b>{fr_number(a['goal'])}</b> (part de l'objectif national de "
            f"{fr_number(summary.goal)}, au prorata de la population)"
        )
    stages = "".join(
        f"<div>{swatch({'fillColor': STAGE_COLORS[s], 'fillOpacity': 0.6, 'color': '#333'})}"
        f"{_esc(STAGE_LABELS[s])} : {a['by_stage'][s or NOT_GIVEN]}</div>"
        for s in STAGE_LABELS
        if s or a["by_stage"][NOT_GIVEN]
    )
    source_html = (
        f'<div class="cpts-note">Registre : {_esc(summary.source)}</div>' if summary.source and source else ""
    )
    return (
        f"<div><b>{fr_number(a['cpts'])}</b> CPTS {goal_txt} : {fr_share(a['progress'])}</div>{stages}"
        f"<div>Population couverte : <b>{fr_share(a['share_covered'])}</b> "
        f"({fr_number(a['population_covered'])} sur {fr_number(a['population'])}\u00a0hab.)</div>"
        f"{_by_stage_html(a, getattr(summary, 'min_stage', None))}"
        f"<div>Zones blanches : {fr_number(a['white_zone_population'])}\u00a0hab., "
        f"{summary.units_phrase('white')}</div>"
        f"<div>Communes dans plusieurs CPTS : {fr_number(a['overlap_communes'])}</div>"
        f'<div class="cpts-note">COG {v["cog"]}, populations légales {v["population"]} '
        f"(population municipale).<br>{_esc(NOTE_MULTI)}</div>{source_html}"
    )


#: The views of the national map's zone selector: metropolitan France and each DROM.
_ZONES = [
    ("France métropolitaine", "metro", None),
    ("Guadeloupe", "drom", "971"),
    ("Martinique", "drom", "972"),
    ("Guyane", "drom", "973"),
    ("La Réunion", "drom", "974"),
    ("Mayotte", "drom", "976"),
]


def _add_zone_selector(m, ref: Reference) -> None:
    """Buttons of the national map that frame metropolitan France or one DROM."""
    units = ref.units
    views = []
    for label, zone, dep in _ZONES:
        sel = units[(units["zone"] == zone) if dep is None else (units["departement"] == dep)]
        b = sel[["lon", "lat"]].dropna()
        if not len(b):
            continue
        views.append(
            [
                label,
                [
                    [float(b["lat"].min()), float(b["lon"].min())],
                    [float(b["lat"].max()), float(b["lon"].max())],
                ],
            ]
        )
    el = macro(
        "{% macro script(this, kwargs) %}(function(){var map={{ this._parent.get_name() }};"
        "var V={{ this.views_json }};"
        "var Ctl=L.Control.extend({options:{position:'topleft'},onAdd:function(){"
        "var d=L.DomUtil.create('div','cpts-panel cpts-zones');d.id='cpts-zones';"
        "var det=document.createElement('details');det.open=true;var s=document.createElement('summary');"
        "s.textContent='Territoires';det.appendChild(s);"
        "V.forEach(function(v){var b=document.createElement('button');b.type='button';b.textContent=v[0];"
        "b.style.cssText='display:block;width:100%;margin:2px 0;font:12px system-ui,Arial,sans-serif;"
        "text-align:left;cursor:pointer';"
        "L.DomEvent.on(b,'click',function(e){L.DomEvent.stop(e);map.fitBounds(v[1],{padding:[20,20]});});"
        "det.appendChild(b);});d.appendChild(det);"
        "L.DomEvent.disableClickPropagation(d);L.DomEvent.disableScrollPropagation(d);return d;}});"
        "new Ctl().addTo(map);})();{% endmacro %}"
    )
    el.views_json = json_for_script(views)
    m.add_child(el, name="cpts_zones")


def _by_stage_html(a: dict, min_stage: str | None = None) -> str:
    """The panel's lines of population covered by stage (cumulative, each inhabitant once), and
    the stage the CPTS counted were restricted to."""
    from cpts_geo.inputs.stages import LEVEL_LABELS

    pop = a["population"]
    rows = "".join(
        f"<div>&nbsp;&nbsp;{_esc(LEVEL_LABELS[s])} : {fr_share(n / pop if pop else 0.0)} "
        f"({fr_number(n)} hab.)</div>"
        for s, n in a.get("population_covered_by_stage", {}).items()
    )
    n = a["by_stage"].get(NOT_GIVEN, 0)
    none = (
        f"<div>&nbsp;&nbsp;{fr_plural(n, 'CPTS', 'CPTS')} sans stade : tout stade seulement</div>"
        if n
        else ""
    )
    only = (
        f"<div><b>CPTS comptées : stade « {_esc(STAGE_LABELS[min_stage])} » ou plus avancé</b></div>"
        if min_stage
        else ""
    )
    return (
        f'<div class="cpts-par-stade">{only}Population couverte par stade (cumulé) :{rows}{none}</div>'
        if rows
        else ""
    )


def _add_search(m, ref: Reference, units: pd.DataFrame, cpts: pd.DataFrame) -> None:
    """A commune search box: type a name or code, pick a commune, read its population and CPTS."""
    ids = list(cpts.index)
    idx = {c: i for i, c in enumerate(ids)}
    # Columns, coordinates as integer steps of 10^-4 degree from the previous unit (units are in
    # code order, so neighbours in the list are mostly neighbours on the ground): about 40 bytes
    # a commune, nationally 1.3 MB.
    # (the 4 Cantal units without geometry have no point: take their neighbour's in the list)
    pts = ref.units.loc[units.index, ["lon", "lat"]].astype(float).ffill().bfill().fillna(0.0)
    lon = np.round(pts["lon"].to_numpy() * 1e4).astype(np.int64)
    lat = np.round(pts["lat"].to_numpy() * 1e4).astype(np.int64)
    owners = [[idx[c] for c in o if c in idx] for o in units["cpts"]]
    data = {
        "code": "".join(str(c).ljust(5)[:5] for c in units.index.tolist()),
        "nom": "|".join(str(n).replace("|", "/") for n in units["nom"].tolist()),
        "pop": units["population"].astype(np.int64).tolist(),
        "dlon": np.diff(lon, prepend=0).tolist(),
        "dlat": np.diff(lat, prepend=0).tolist(),
        "cpts": [o[0] if len(o) == 1 else (o if o else -1) for o in owners],
    }
    names = [str(cpts.at[c, "cpts_nom"]) or str(c) for c in ids]
    el = macro(SEARCH_TEMPLATE)
    el.units_json = json_for_script(data)
    el.cpts_json = json_for_script(names)
    m.add_child(el, name="cpts_search")


def _add_shared_layer(m, ref, shared: pd.DataFrame, names: dict) -> None:
    """Communes declared shared by several CPTS below the commune level (``commune_partagee``):
    hatched in their own style, one feature per commune (they are few)."""
    geoms = ref.units.geometry.reindex(shared.index)
    rows = [
        {
            "nom": f"{r['nom']} ({code})",
            "cpts": " ; ".join(f"{names.get(k, '') or k}" for k in r["cpts"]),
            "population": f"{fr_number(int(r['population']))} hab.",
            "geometry": geoms.loc[code],
        }
        for code, r in shared.iterrows()
    ]
    add_territory_layer(
        m,
        gpd.GeoDataFrame(rows, geometry="geometry", crs=ref.units.crs).to_crs(4326),
        name="Communes partagées déclarées",
        fields={"nom": "Commune", "cpts": "CPTS qui la partagent", "population": "Population"},
        style=SHARED_STYLE,
        class_name="cpts-partagee",
        legend=[("Commune partagée déclarée (découpage infra-communal)", SHARED_STYLE)],
        legend_section="Couverture",
    )
    add_shared_hatch_pattern(m)
