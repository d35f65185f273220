"""Folium (Leaflet) maps in French: coverage of a register, one territory, suggested territories.

The boundaries drawn come from one *coverage* of the units (:mod:`cpts_geo._dissolve`): units
with the same label are dissolved and simplified together, so that no gap or sliver can open
between two neighbouring polygons, whatever the layer they belong to. The folium plumbing
(assets, escaping, legend, layers) is in :mod:`cpts_geo._folium`; static figures in
:mod:`cpts_geo.figures`.

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.maps import coverage_map, save_map
>>> ref = cg.load_reference()
>>> m = coverage_map(ref, cg.read_register("registre.csv", ref), region="52")  # doctest: +SKIP
>>> save_map(m, "carte.html")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from . import suggest
from ._dissolve import atom_positions, atoms, dissolve, membership_pairs
from ._folium import (
    LEAFLET_VERSION,
    MapAssetsMissingError,
    add_hatch_pattern,
    add_territory_layer,
    choropleth_layer_class,
    escape_html,
    external_resources,
    fetch_map_assets,
    get_legend,
    json_for_script,
    macro,
    map_assets_dir,
    prepare_assets,
    render_map,
    save_map,
    swatch,
)
from ._styles import (
    DETAIL,
    EXTENSION_STYLE,
    FINDING_STYLES,
    NEIGHBOUR_CPTS_STYLE,
    ORPHAN_STYLE,
    OVERLAP_STYLE,
    PALETTE,
    SHARE_CLASSES,
    STAGE_COLORS,
    WHITE_STYLE,
)
from ._text import fr_date, fr_int, fr_number, fr_share
from .coverage import NOTE_MULTI, as_coverage
from .figures import coverage_bar_chart, coverage_figure, save_figure
from .reference import Reference
from .register import STAGE_LABELS, as_register

__all__ = [
    "LEAFLET_VERSION",
    "STAGE_COLORS",
    "MapAssetsMissingError",
    "TerritoryLayer",
    "add_territory_layer",
    "coverage_bar_chart",
    "coverage_figure",
    "coverage_map",
    "dissolve",
    "escape_html",
    "external_resources",
    "fetch_map_assets",
    "get_legend",
    "map_assets_dir",
    "render_map",
    "save_figure",
    "save_map",
    "suggest_map",
    "territory_map",
]

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
    legend: list[tuple[str, Mapping]] = field(default_factory=list)
    class_name: str = "cpts-couche"
    show: bool = True


# ---- the coverage map ------------------------------------------------------------------------
def _share_color(share: float) -> str:
    for upper, color in SHARE_CLASSES:
        if share < upper:
            return color
    return SHARE_CLASSES[-1][1]


def coverage_map(
    ref: Reference,
    coverage,
    *,
    region: str | None = None,
    departement: str | None = None,
    offline: bool = False,
    goal: float | None = None,
    extra_layers: Iterable[TerritoryLayer] = (),
    title: str | None = None,
    tolerance_m: float | None = None,
    decimals: int | None = None,
    search: bool = True,
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
        A :class:`~cpts_geo.coverage.Coverage` (drawn as computed: area, goal and figures), or a
        register (anything :func:`~cpts_geo.register.as_register` takes; it may be empty), whose
        coverage is computed for ``region``/``departement``/``goal``.
    region, departement
        With a register: draw one région or département (code or name); default: all of France
        (the view opens on metropolitan France; the DROM are drawn too).
    offline
        A self-contained page: Leaflet inlined from the local copy (see :func:`map_assets_dir`)
        and no tile layer. Raises :class:`MapAssetsMissingError` when it is missing.
    extra_layers
        :class:`TerritoryLayer` drawn on top of the CPTS, simplified with them.
    tolerance_m, decimals
        Simplification tolerance (metres) and coordinate decimals; default by extent
        (:data:`DETAIL`).

    Returns
    -------
    folium.Map
        Write it with :func:`save_map` (which checks that an offline map loads nothing).
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
    prepare_assets(m, offline)
    if not offline:
        folium.TileLayer("OpenStreetMap", name="Fond de carte OpenStreetMap", control=True).add_to(m)
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
            for s in used
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
    multi = table.loc[drawn.to_numpy() & (table["n_cpts"].to_numpy() >= 2)]
    ov_rows = []
    if len(multi):
        names = cpts["cpts_nom"].to_dict()
        keyed = multi.assign(key=[tuple(c) for c in multi["cpts"]])
        for key, grp in keyed.groupby("key", sort=True):
            pos = [
                i
                for i, lab in enumerate(parts.label)
                if {("c", k) for k in key} <= set(lab) and sum(1 for x in lab if x[0] == "c") == len(key)
            ]
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

    add_hatch_pattern(m)
    _add_panels(m, ref, summary, scope, title)
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


def _add_panels(m, ref: Reference, summary, scope: dict, title: str | None) -> None:
    a = summary.area
    v = ref.vintage
    where = {
        "national": "France entière",
        "region": f"Région {scope['nom']}",
        "departement": f"Département {scope['nom']} ({scope['code']})",
    }[scope["level"]]
    head = title or f"Couverture du territoire par les CPTS — {where}"
    if scope["level"] == "national":
        goal_txt = f"pour un objectif national de <b>{fr_number(a['goal'])}</b>"
    else:
        goal_txt = (
            f"pour un objectif de <b>{fr_number(a['goal'])}</b> (part de l'objectif national de "
            f"{fr_number(summary.goal)}, au prorata de la population)"
        )
    stages = "".join(
        f"<div>{swatch({'fillColor': STAGE_COLORS[s], 'fillOpacity': 0.6, 'color': '#333'})}"
        f"{_esc(STAGE_LABELS[s])} : {a['by_stage'][s or 'non-renseigne']}</div>"
        for s in STAGE_LABELS
        if s or a["by_stage"]["non-renseigne"]
    )
    source = f'<div class="cpts-note">Registre : {_esc(summary.source)}</div>' if summary.source else ""
    stats = (
        f"<h4>{_esc(where)}</h4>"
        f"<div><b>{fr_number(a['cpts'])}</b> CPTS {goal_txt} : {fr_share(a['progress'])}</div>{stages}"
        f"<div>Population couverte : <b>{fr_share(a['share_covered'])}</b> "
        f"({fr_number(a['population_covered'])} sur {fr_number(a['population'])} hab.)</div>"
        f"<div>Zones blanches : {fr_number(a['white_zone_population'])} hab., "
        f"{fr_number(a['white_zone_communes'])} commune(s)</div>"
        f"<div>Communes dans plusieurs CPTS : {fr_number(a['overlap_communes'])}</div>"
        f'<div class="cpts-note">COG {v["cog"]}, populations légales {v["population"]} '
        f"(population municipale).<br>{_esc(NOTE_MULTI)}</div>{source}"
    )
    el = macro(
        '{% macro html(this, kwargs) %}<div class="cpts-panel cpts-title" id="cpts-titre">'
        '{{ this.title_html }}</div><div class="cpts-panel cpts-stats" id="cpts-stats">'
        "{{ this.stats_html }}</div>{% endmacro %}"
    )
    el.title_html = _esc(head)
    el.stats_html = stats
    m.get_root().add_child(el, name="cpts_panels")


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
    el = macro(
        "{% macro script(this, kwargs) %}(function(){var map={{ this._parent.get_name() }};"
        "var D={{ this.units_json }};var C={{ this.cpts_json }};var U=[];var nm=D.nom.split('|');"
        "var x=0,y=0;for(var i=0;i<nm.length;i++){x+=D.dlon[i];y+=D.dlat[i];var o=D.cpts[i];"
        "U.push([D.code.substr(5*i,5).trim(),nm[i],D.pop[i],x/1e4,y/1e4,o===-1?[]:(Array.isArray(o)?o:[o])]);}"
        "function norm(s){return s.normalize('NFD').replace(/[\\u0300-\\u036f]/g,'').toLowerCase()"
        ".replace(/[^a-z0-9]+/g,' ').trim();}"
        "var keys=U.map(function(u){return norm(u[1]);});"
        "function fmt(n){return n.toString().replace(/\\B(?=(\\d{3})+(?!\\d))/g,'\\u00a0');}"
        "function el(t,txt){var e=document.createElement(t);if(txt!==undefined)e.textContent=txt;return e;}"
        "function show(i){var u=U[i];var box=el('div');var b=el('b',u[1]+' ('+u[0]+')');box.appendChild(b);"
        "box.appendChild(el('div','Population : '+fmt(u[2])+' hab.'));"
        "if(u[5].length){box.appendChild(el('div',u[5].length>1?'CPTS (chevauchement) :':'CPTS :'));"
        "var ul=el('ul');u[5].forEach(function(k){ul.appendChild(el('li',C[k]));});box.appendChild(ul);}"
        "else{box.appendChild(el('div','Zone blanche : aucune CPTS'));}"
        "map.setView([u[4],u[3]],Math.max(map.getZoom(),11));"
        "L.popup().setLatLng([u[4],u[3]]).setContent(box).openOn(map);}"
        "var Ctl=L.Control.extend({options:{position:'topleft'},onAdd:function(){"
        "var d=L.DomUtil.create('div','cpts-panel cpts-search');d.id='cpts-recherche';"
        "var inp=el('input');inp.type='search';inp.placeholder='Rechercher une commune (nom ou code)';"
        "inp.setAttribute('aria-label','Rechercher une commune');var ul=el('ul');d.appendChild(inp);"
        "d.appendChild(ul);L.DomEvent.disableClickPropagation(d);L.DomEvent.disableScrollPropagation(d);"
        "inp.addEventListener('input',function(){ul.textContent='';var q=norm(inp.value);if(q.length<2)return;"
        "var hits=[];for(var i=0;i<U.length&&hits.length<12;i++){if(keys[i].indexOf(q)===0||U[i][0]===q.toUpperCase())"
        "hits.push(i);}for(var i=0;i<U.length&&hits.length<12;i++){if(keys[i].indexOf(q)>0&&hits.indexOf(i)<0)hits.push(i);}"
        "hits.forEach(function(i){var li=el('li',U[i][1]+' ('+U[i][0]+')');li.addEventListener('click',"
        "function(){ul.textContent='';show(i);});ul.appendChild(li);});});"
        "inp.addEventListener('keydown',function(e){if(e.key==='Enter'&&ul.firstChild)ul.firstChild.click();});"
        "return d;}});new Ctl().addTo(map);})();{% endmacro %}"
    )
    el.units_json = json_for_script(data)
    el.cpts_json = json_for_script(names)
    m.add_child(el, name="cpts_search")


# ---- the map of one territory (check reports) -------------------------------------------------
def territory_map(
    ref: Reference,
    codes: Iterable[str],
    *,
    findings: Mapping[str, Iterable[str]] | None = None,
    existing=None,
    name: str | None = None,
    offline: bool = False,
    tolerance_m: float = 20.0,
    decimals: int = 5,
):
    """A folium map of one territory, its units coloured by what the checks found.

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
    offline
        Inline Leaflet and draw no tile layer (see :func:`coverage_map`).

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
    members = pd.concat([unit_members, terr_members, cpts_members], ignore_index=True)
    gdf = dissolve(ref, members, tolerance_m=tolerance_m, decimals=decimals)

    m = folium.Map(location=None, zoom_start=9, tiles=None, control_scale=True, zoom_snap=0.25)
    prepare_assets(m, offline)
    if not offline:
        folium.TileLayer("OpenStreetMap", name="Fond de carte OpenStreetMap", control=True).add_to(m)

    if cpts_names:
        keys = ["cpts:" + str(c) for c in cpts_names]
        cp = gpd.GeoDataFrame(
            {
                "nom": [cpts_names[c] or c for c in cpts_names],
                "cpts_id": list(cpts_names),
                "population": [f"{fr_number(int(p))} hab." for p in gdf.loc[keys, "population"]],
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
                "population": f"{fr_number(int(units.at[c, 'population']))} hab.",
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
            legend_section="Communes",
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
        legend_section="Territoire",
    )
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    shown = gdf.geometry[["u:" + c for c in kind]]
    x0, y0, x1, y1 = gpd.GeoSeries(shown.to_numpy(), crs=4326).total_bounds
    if np.isfinite([x0, y0, x1, y1]).all():
        m.fit_bounds([[float(y0), float(x0)], [float(y1), float(x1)]])
    return m


# ---- the map of suggested territories -----------------------------------------------------------
def suggest_map(ref: Reference, result: suggest.SuggestResult, *, existing=None, offline: bool = False):
    """A folium map of the suggested territories, extensions and the existing CPTS.

    The coverage map (:func:`cpts_geo.maps.coverage_map`) of the area, with the existing CPTS
    by stage, the white zones, the legend, the panel of figures and the commune search box; the
    suggestions are drawn on top as their own layers (simplified together with the CPTS, so
    their boundaries match). Every text is escaped by the map code.

    Parameters
    ----------
    existing
        The register the suggestion was computed with (``None``: no CPTS drawn).
    offline
        A self-contained page (see :func:`cpts_geo.maps.coverage_map`).

    Returns
    -------
    folium.Map
        Write it with :func:`cpts_geo.maps.save_map`.
    """
    register = as_register(ref, existing)
    layers = []
    t = result.territories
    if len(t):
        colour = _suggest_colours(ref, list(t["communes"]))
        layers.append(
            TerritoryLayer(
                name="Territoires proposés",
                membership=_suggest_membership(t),
                properties=pd.DataFrame(
                    {
                        "label": t["label"].to_numpy(),
                        "territoire_id": t["territoire_id"].to_numpy(),
                        "population": [f"{fr_int(v)} hab." for v in t["population"]],
                        "taille": [f"taille {k}" for k in t["aci_size_class"]],
                        "communes": [str(n) for n in t["n_communes"]],
                        "epci": [str(n) for n in t["n_epci"]],
                        "_color": [PALETTE[c] for c in colour],
                    },
                    index=t["territoire_id"].to_numpy(),
                ),
                fields={
                    "label": "",
                    "territoire_id": "Identifiant",
                    "population": "Population",
                    "taille": "Taille ACI",
                    "communes": "Communes",
                    "epci": "EPCI",
                },
                style=lambda p: {
                    "color": "#222222",
                    "weight": 1.5,
                    "fillColor": p["_color"],
                    "fillOpacity": 0.55,
                },
                legend=[
                    ("Territoire proposé", {"color": "#222222", "fillColor": PALETTE[0], "fillOpacity": 0.55})
                ],
                class_name="cpts-territoire-propose",
            )
        )
    for df, kind in ((result.extensions, suggest.TYPE_EXTENSION), (result.orphans, suggest.TYPE_ORPHAN)):
        if not len(df):
            continue
        if kind == suggest.TYPE_EXTENSION:
            labels = [
                f"Extension proposée de la CPTS {c}" + (f" ({n})" if n else "")
                for c, n in zip(df["cpts_id"], df["cpts_nom"])
            ]
            name, style, css = "Extensions proposées de CPTS existantes", EXTENSION_STYLE, "cpts-extension"
        else:
            labels = ["Zone blanche non rattachable"] * len(df)
            name, style, css = "Zones blanches non rattachables", ORPHAN_STYLE, "cpts-non-rattachable"
        layers.append(
            TerritoryLayer(
                name=name,
                membership=_suggest_membership(df),
                properties=pd.DataFrame(
                    {
                        "label": labels,
                        "territoire_id": df["territoire_id"].to_numpy(),
                        "population": [f"{fr_int(v)} hab." for v in df["population"]],
                        "communes": [str(n) for n in df["n_communes"]],
                        "raison": df["reason"].to_numpy(),
                    },
                    index=df["territoire_id"].to_numpy(),
                ),
                fields={
                    "label": "",
                    "territoire_id": "Identifiant",
                    "population": "Population",
                    "communes": "Communes",
                    "raison": "Pourquoi",
                },
                style=style,
                legend=[(labels[0] if kind == suggest.TYPE_ORPHAN else "Extension proposée", style)],
                class_name=css,
            )
        )
    deps = result.departements
    region = departement = None
    if len(deps) == 1:
        departement = deps[0]
    elif len(deps) < len(ref.departements):
        regs = ref.departements.loc[deps, "region"].unique()
        if len(regs) == 1:
            region = regs[0]
    area = suggest.area_name(ref, deps).split(" ", 1)[1]  # without its article: "département Cantal (15)"
    n = result.n_territories
    title = f"Zones blanches — {area} : {fr_int(n)} territoire{'s' if n > 1 else ''} proposé{'s' if n > 1 else ''}"
    return coverage_map(
        ref,
        register,
        region=region,
        departement=departement,
        offline=offline,
        extra_layers=layers,
        title=title,
    )


def _suggest_membership(df: pd.DataFrame) -> pd.DataFrame:
    """``group`` (territoire_id), ``code_insee``: one row per unit of each row of ``df``."""
    return pd.DataFrame(
        {
            "group": np.repeat(df["territoire_id"].to_numpy(), [len(c) for c in df["communes"]]),
            "code_insee": [c for codes in df["communes"] for c in codes],
        }
    )


def _suggest_colours(ref: Reference, groups: list[list[str]]) -> list[int]:
    """A palette index per group, different for groups that touch (greedy, largest first)."""
    graph = ref.graph_with_sea_links(30.0)
    owner = np.full(graph.shape[0], -1, dtype=np.int64)
    for k, codes in enumerate(groups):
        owner[ref.position.reindex(codes).to_numpy()] = k
    coo = graph.tocoo()
    a, b = owner[coo.row], owner[coo.col]
    keep = (a >= 0) & (b >= 0) & (a != b)
    touching: list[set] = [set() for _ in groups]
    for x, y in zip(a[keep].tolist(), b[keep].tolist()):
        touching[x].add(y)
    colour = [-1] * len(groups)
    for k in sorted(range(len(groups)), key=lambda k: (-len(touching[k]), k)):
        used = {colour[j] for j in touching[k]}
        colour[k] = next((c for c in range(len(PALETTE)) if c not in used), k % len(PALETTE))
    return colour
