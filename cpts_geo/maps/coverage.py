"""Folium (Leaflet) maps in French: coverage of a register, one territory, suggested territories.

The layers of the coverage map are those of :func:`cpts_geo.maps.layers.build_coverage_layers`
(also drawn by the coverage GeoPackage and the static figure): one *coverage* of the units
(:mod:`cpts_geo.reference.geometry`) where units with the same label are dissolved and simplified
together, so that no gap or sliver can open between two neighbouring polygons, whatever the layer
they belong to. Each ``_add_*`` function adds one layer or panel to the map. The folium plumbing
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

from cpts_geo._text import fr_date, fr_goal, fr_number, fr_plural, fr_share
from cpts_geo.checks.territory import size_class_text
from cpts_geo.inputs.stages import NOT_GIVEN, STAGE_LABELS
from cpts_geo.maps.base import (
    add_basemaps,
    add_hatch_pattern,
    add_map_chrome,
    add_shared_hatch_pattern,
    add_territory_layer,
    call_script,
    choropleth_layer_class,
    escape_html,
    get_legend,
    macro,
    prepare_assets,
    swatch,
)
from cpts_geo.maps.layers import CoverageLayers, build_coverage_layers
from cpts_geo.maps.leaflet import add_asset
from cpts_geo.maps.styles import (
    OVERLAP_STYLE,
    SHARE_CLASSES,
    SHARED_STYLE,
    STAGE_COLORS,
    SUBDIVIDED_COMMUNE_STYLE,
    SUBUNIT_STYLE,
    WHITE_STYLE,
)
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

    Layers (:func:`~cpts_geo.maps.layers.build_coverage_layers`, in drawing order): the CPTS (one
    polygon each, coloured by stage; tooltip with name, stage, population, communes and ACI size
    class), the white zones (dissolved per département, hatched), the units covered by several
    CPTS (red), the communes declared shared (hatched), any ``extra_layers``, the units below the
    commune, the outlines of départements and régions and a choropleth of the share of the
    population covered per département; a layer control, a legend, a title and a panel of
    figures (CPTS against the goal, share covered, white zones, vintages), and a commune search
    box.

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
        (:data:`~cpts_geo.maps.styles.DETAIL`).
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

    cov = as_coverage(ref, coverage, region=region, departement=departement, goal=goal)
    extra_layers = list(extra_layers)
    layers = build_coverage_layers(
        cov, tolerance_m=tolerance_m, decimals=decimals, extra=[x.membership for x in extra_layers]
    )
    m = folium.Map(
        location=None,
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
    get_legend(m)  # created before the layers fill it: its place in the page
    _add_cpts(m, layers.cpts)
    _add_white_zones(m, layers.white_zones)
    _add_overlaps(m, layers.overlaps)
    if len(layers.shared):
        _add_shared(m, layers.shared)
    _add_extra_layers(m, extra_layers, layers.extra)
    if cov.zone_layers:
        _add_zones(m, ref, cov, tolerance_m, decimals)
    _add_subdivided(m, layers)
    _add_outlines(m, layers)
    _add_share_legend(m)
    add_hatch_pattern(m)
    _add_panels(m, ref, cov, cov.scope, title, provenance=provenance, summary_html=summary_html)
    if cov.scope["level"] == "national":
        _add_zone_selector(m, ref)
    if search:
        assert cov.units is not None, "a Coverage from as_coverage has its per-unit table"
        _add_search(m, ref, cov.units.loc[cov.in_scope], layers.cpts)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.fit_bounds(_bounds(ref, cov.scope, layers.departements))
    return m


def _add_cpts(m, cpts: gpd.GeoDataFrame) -> None:
    """The CPTS, coloured by stage."""
    stages = list(cpts["statut"])
    cp = gpd.GeoDataFrame(
        {
            "nom": list(cpts["cpts_nom"]),
            "cpts_id": list(cpts.index),
            "stade": [
                STAGE_LABELS[s] + (f" ({fr_date(d)})" if d else "")
                for s, d in zip(stages, cpts["date_statut"])
            ],
            "population": [
                f"{fr_number(p)} hab."
                if lo == p
                else f"{fr_number(lo)} à {fr_number(p)} hab. (communes partagées : part inconnue)"
                for lo, p in zip(cpts.get("population_min", cpts["population"]), cpts["population"])
            ],
            "communes": [
                str(n) if n == u else f"{n} ({u} unités dont arrondissements)"
                for n, u in zip(cpts["n_communes"], cpts["n_units"])
            ],
            "taille": [
                f"taille {size_class_text(lo, k)}"
                for lo, k in zip(
                    cpts.get("aci_size_class_min", cpts["aci_size_class"]), cpts["aci_size_class"]
                )
            ],
            "_color": [STAGE_COLORS[s] for s in stages],
        },
        geometry=cpts.geometry.to_numpy(),
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


def _add_white_zones(m, white: gpd.GeoDataFrame) -> None:
    """The white zones of the area, one feature per département, hatched."""
    gdf = gpd.GeoDataFrame(
        {
            "nom": list(white["nom"]),
            "communes": [str(n) for n in white["communes"]],
            "population": [f"{fr_number(p)} hab." for p in white["population"]],
        },
        geometry=white.geometry.to_numpy(),
        crs=4326,
    )
    add_territory_layer(
        m,
        gdf,
        name="Zones blanches (aucune CPTS)",
        fields={"nom": "", "communes": "Communes", "population": "Population"},
        style=WHITE_STYLE,
        class_name="cpts-zone-blanche",
        legend=[("Zone blanche (aucune CPTS)", WHITE_STYLE)],
        legend_section="Couverture",
    )


def _add_overlaps(m, overlaps: gpd.GeoDataFrame) -> None:
    """The units in several CPTS (not declared shares), one feature per set of CPTS, in red."""
    gdf = gpd.GeoDataFrame(
        {
            "cpts": [" ; ".join(names) for names in overlaps["cpts_noms"]],
            "communes": [
                _unit_list(codes, names) for codes, names in zip(overlaps["codes"], overlaps["noms"])
            ],
            "population": [f"{fr_number(p)} hab." for p in overlaps["population"]],
        },
        geometry=overlaps.geometry.to_numpy(),
        crs=4326,
    )
    add_territory_layer(
        m,
        gdf,
        name="Communes dans plusieurs CPTS",
        fields={"cpts": "CPTS en chevauchement", "communes": "Communes", "population": "Population"},
        style=OVERLAP_STYLE,
        class_name="cpts-chevauchement",
        legend=[("Commune dans plusieurs CPTS", OVERLAP_STYLE)],
        legend_section="Couverture",
    )


def _unit_list(codes: list[str], names: list[str], most: int = 8) -> str:
    """'Nom (code), ...' for the first ``most`` units, and how many there are when more."""
    text = ", ".join(f"{n} ({c})" for c, n in zip(codes[:most], names[:most]))
    return text + (f" … ({len(codes)} communes)" if len(codes) > most else "")


def _add_shared(m, shared: gpd.GeoDataFrame) -> None:
    """The communes declared shared by several CPTS below the commune level
    (``commune_partagee``), hatched in their own style, one feature per commune (they are few)."""
    gdf = gpd.GeoDataFrame(
        {
            "nom": [f"{n} ({c})" for c, n in shared["nom"].items()],
            "cpts": [" ; ".join(names) for names in shared["cpts_noms"]],
            "population": [f"{fr_number(p)} hab." for p in shared["population"]],
        },
        geometry=shared.geometry.to_numpy(),
        crs=4326,
    )
    add_territory_layer(
        m,
        gdf,
        name="Communes partagées déclarées",
        fields={"nom": "Commune", "cpts": "CPTS qui la partagent", "population": "Population"},
        style=SHARED_STYLE,
        class_name="cpts-partagee",
        legend=[("Commune partagée déclarée (découpage infra-communal)", SHARED_STYLE)],
        legend_section="Couverture",
    )
    add_shared_hatch_pattern(m)


def _add_extra_layers(m, extra_layers: list[TerritoryLayer], geometries: list[gpd.GeoSeries]) -> None:
    """The extra layers (e.g. suggested territories), dissolved with the CPTS."""
    for layer, geoms in zip(extra_layers, geometries):
        groups = list(dict.fromkeys(layer.membership["group"]))
        props = layer.properties.reindex(groups)
        gdf = gpd.GeoDataFrame(
            props.reset_index(drop=True), geometry=geoms.reindex(groups).to_numpy(), crs=4326
        )
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


def _add_zones(m, ref: Reference, cov, tolerance_m: float | None, decimals: int | None) -> None:
    """The zone layers of the coverage (``zones``), over the units of the area, hatched by category."""
    from cpts_geo.maps.styles import DETAIL
    from cpts_geo.maps.zones import add_zone_overlays, zone_overlays

    tol, dec = DETAIL[cov.scope["level"]]
    assert cov.units is not None
    overlays = zone_overlays(
        ref,
        cov.zone_layers,
        within=cov.units.index[cov.in_scope],
        tolerance_m=tol if tolerance_m is None else tolerance_m,
        decimals=dec if decimals is None else decimals,
    )
    add_zone_overlays(m, overlays)


def _add_subdivided(m, layers: CoverageLayers) -> None:
    """Layers of the units below the commune drawn (thin lines) and of the outline of the
    communes they divide, when the reference has such units."""
    sub = layers.subunits
    if not len(sub):
        return
    add_territory_layer(
        m,
        gpd.GeoDataFrame(
            {
                "nom": [f"{n} ({c})" for c, n in sub["nom"].items()],
                "population": [f"{fr_number(p)} hab." for p in sub["population"]],
            },
            geometry=sub.geometry.to_numpy(),
            crs=4326,
        ),
        name="Unités infracommunales (IRIS, secteurs)",
        fields={"nom": "Unité", "population": "Population"},
        style=SUBUNIT_STYLE,
        class_name="cpts-unite-infracommunale",
        legend=[("Unité infracommunale (IRIS, secteur)", SUBUNIT_STYLE)],
        legend_section="Limites",
    )
    communes = layers.subdivided
    add_territory_layer(
        m,
        gpd.GeoDataFrame(
            {
                "nom": [f"{n} ({c})" for c, n in communes["nom"].items()],
                "unites": [str(n) for n in communes["unites"]],
            },
            geometry=communes.geometry.to_numpy(),
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


def _add_outlines(m, layers: CoverageLayers) -> None:
    """Outlines of the départements and régions, and the choropleth of the share covered per
    département, drawn from the départements' features in the page (not a second copy of their
    boundaries)."""
    deps = layers.departements
    gdf = gpd.GeoDataFrame(
        {
            "nom": [f"{n} ({d})" for d, n in deps["nom"].items()],
            "couverture": [fr_share(s) for s in deps["share_covered"]],
            "cpts": [f"{n} (objectif {fr_goal(g)})" for n, g in zip(deps["cpts"], deps["goal"])],
            "blanches": [f"{fr_number(p)} hab." for p in deps["white_zone_population"]],
            "_color": [_share_color(s) for s in deps["share_covered"]],
        },
        geometry=deps.geometry.to_numpy(),
        crs=4326,
    )
    outline_d = {"color": "#444", "weight": 1.2, "fill": False, "opacity": 0.9}
    dep_layer = add_territory_layer(
        m,
        gdf,
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
    outline_r = {"color": "#111", "weight": 2.6, "fill": False, "opacity": 0.9}
    add_territory_layer(
        m,
        gpd.GeoDataFrame(geometry=layers.regions.geometry.to_numpy(), crs=4326),
        name="Limites des régions",
        fields={},
        style=outline_r,
        class_name="cpts-limite-region",
        interactive=False,
        legend=[("Limite de région", outline_r)],
        legend_section="Limites",
    )


def _add_share_legend(m) -> None:
    """The legend of the choropleth: one entry per class of share covered."""
    legend = get_legend(m)
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


def _bounds(ref: Reference, scope: dict, deps: gpd.GeoDataFrame) -> list[list[float]]:
    """The view the map opens on: metropolitan France nationally, else the area's départements."""
    if scope["level"] != "national":
        x0, y0, x1, y1 = deps.total_bounds
        return [[float(y0), float(x0)], [float(y1), float(x1)]]
    b = ref.units.loc[ref.units["zone"] == "metro", ["lon", "lat"]]
    if not len(b):
        return [[41.3, -5.2], [51.1, 9.6]]
    return [
        [float(b["lat"].min()), float(b["lon"].min())],
        [float(b["lat"].max()), float(b["lon"].max())],
    ]


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
        goal_txt = f"pour un objectif national de <b>{fr_goal(a['goal'])}</b>"
    else:
        goal_txt = (
            f"pour un objectif de <b>{fr_goal(a['goal'])}</b> (part de l'objectif national de "
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
    add_asset(m, "maps.css")
    call_script(m, "maps.js", "cptsGeo.zones", views, key="cpts_zones")


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
    call_script(m, "search.js", "cptsGeo.search", data, names, key="cpts_search")
