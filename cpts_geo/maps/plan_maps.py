"""The map of suggested territories and the map of the changes between two registers (re-exported by :mod:`cpts_geo.maps`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from cpts_geo._text import fr_int, fr_km, fr_number, fr_plural
from cpts_geo.inputs.read import as_register
from cpts_geo.maps.base import (
    add_basemaps,
    add_hatch_pattern,
    add_map_chrome,
    add_territory_layer,
    call_script,
    prepare_assets,
)
from cpts_geo.maps.base import escape_html as _esc
from cpts_geo.maps.coverage import TerritoryLayer, coverage_map
from cpts_geo.maps.styles import DETAIL, EXTENSION_STYLE, ORPHAN_STYLE, PALETTE
from cpts_geo.reference.areas import area_name
from cpts_geo.reference.geometry import dissolve
from cpts_geo.reference.units import Reference
from cpts_geo.suggest import territories as suggest
from cpts_geo.suggest.assemble import TYPE_EXTENSION, TYPE_ORPHAN


# ---- the map of suggested territories -----------------------------------------------------------
def suggest_map(
    ref: Reference,
    result: suggest.SuggestResult,
    *,
    existing=None,
    online: bool = False,
    offline: bool | None = None,
    provenance=None,
):
    """A folium map of the suggested territories, extensions and the existing CPTS.

    The coverage map (:func:`cpts_geo.maps.coverage`) of the area, with the existing CPTS
    by stage, the white zones, the legend, the panel of figures and the commune search box; the
    suggestions are drawn on top as their own layers (simplified together with the CPTS, so
    their boundaries match). Every text is escaped by the map code.

    Parameters
    ----------
    existing
        The register the suggestion was computed with (``None``: no CPTS drawn).
    online
        Leaflet from the CDN and basemaps (see :func:`cpts_geo.maps.coverage`); by default
        the page is self-contained.
    offline
        Deprecated and ignored (self-contained is the default).
    provenance
        A :class:`cpts_geo.outputs.provenance.Provenance` shown under the summary.

    Each proposed territory carries its identifier as a permanent label; their colours (chosen so
    that neighbours differ) have their own legend section, apart from the stages of the CPTS.

    Returns
    -------
    folium.Map
        Write it with :func:`cpts_geo.maps.save_map`.
    """
    register = as_register(ref, existing)
    layers = []
    t = result.territories
    if len(t):
        colour = suggest_colours(ref, list(t["communes"]))
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
                    (
                        "Territoire proposé (étiquette : son identifiant ; voisins de couleurs différentes)",
                        _palette_swatch(sorted(set(colour))),
                    )
                ],
                class_name="cpts-territoire-propose",
            )
        )
    for df, kind in ((result.extensions, TYPE_EXTENSION), (result.orphans, TYPE_ORPHAN)):
        if not len(df):
            continue
        if kind == TYPE_EXTENSION:
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
                legend=[(labels[0] if kind == TYPE_ORPHAN else "Extension proposée", style)],
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
    area = area_name(ref, deps).split(" ", 1)[1]  # without its article: "département Cantal (15)"
    n = result.n_territories
    title = f"Zones blanches — {area} : {fr_int(n)} territoire{'s' if n > 1 else ''} proposé{'s' if n > 1 else ''}"
    m = coverage_map(
        ref,
        register,
        region=region,
        departement=departement,
        online=online,
        extra_layers=layers,
        title=title,
        provenance=provenance,
        summary_html=_suggest_summary_html(ref, result, register),
    )
    _add_suggest_labels(m, ref, t)
    _add_suggest_figures(m, result)
    return m


def _palette_swatch(indices: list[int]) -> str:
    """A legend swatch striped with the palette colours used."""
    cols = [PALETTE[i] for i in indices] or [PALETTE[0]]
    step = 100 / len(cols)
    stops = ",".join(f"{c} {k * step:.0f}% {(k + 1) * step:.0f}%" for k, c in enumerate(cols))
    return (
        f'<i class="cpts-swatch" style="background:linear-gradient(90deg,{stops});opacity:.75;'
        'border:1.5px solid #222"></i>'
    )


def _suggest_summary_html(ref: Reference, result: suggest.SuggestResult, register) -> str:
    """The panel of the suggest map: what was proposed, from which white zones, with what rules."""
    t, ext, orph = result.territories, result.extensions, result.orphans
    white_pop = int(result.assignment["population"].sum()) if len(result.assignment) else 0
    white_units = int(len(result.assignment))
    lines = [
        f"<div><b>{fr_plural(result.n_territories, 'territoire proposé', 'territoires proposés')}</b>"
        + (
            f" : {fr_int(int(t['population'].sum()))}\u00a0hab., "
            f"{fr_plural(int(t['n_communes'].sum()), 'commune')}</div>"
            if len(t)
            else "</div>"
        ),
        f"<div>{fr_plural(len(ext), 'extension proposée', 'extensions proposées')} de CPTS existantes"
        + (f" ({fr_int(int(ext['population'].sum()))}\u00a0hab.)" if len(ext) else "")
        + "</div>",
        f"<div>{fr_plural(len(orph), 'zone blanche non rattachable', 'zones blanches non rattachables')}"
        + (f" ({fr_int(int(orph['population'].sum()))}\u00a0hab.)" if len(orph) else "")
        + "</div>",
        f"<div>Zones blanches découpées : {fr_plural(white_units, 'commune')}, "
        f"{fr_int(white_pop)}\u00a0hab.</div>",
        f"<div>Territoires d'au moins {fr_int(result.min_population)}\u00a0habitants, îles reliées à "
        f"{fr_km(result.sea_link_km)}\u00a0km par la mer"
        + ("" if result.allow_cross_departement else ", dans un seul département")
        + "</div>",
    ]
    if len(register):
        lines.append(f"<div>CPTS existantes du registre dessinées : {fr_int(register.cpts.shape[0])}</div>")
    else:
        lines.append("<div>Sans registre de CPTS existantes : toute la zone est blanche.</div>")
    v = result.vintage or ref.vintage
    lines.append(
        f'<div class="cpts-note">COG {_esc(v.get("cog"))}, populations légales '
        f"{_esc(v.get('population'))} (population municipale).</div>"
    )
    return "".join(lines)


def _add_suggest_labels(m, ref: Reference, territories: pd.DataFrame) -> None:
    """Each proposed territory's identifier as a permanent label at a point inside it."""
    import folium
    import shapely

    geoms = ref.units.geometry
    for tid, codes in zip(territories["territoire_id"], territories["communes"]):
        geom = shapely.union_all(geoms.reindex(list(codes)).dropna().to_numpy())
        if geom is None or geom.is_empty:
            continue
        p = geom.representative_point()
        folium.Marker(
            [p.y, p.x],
            icon=folium.DivIcon(
                html=f'<span class="cpts-label">{_esc(tid)}</span>',
                icon_size=(0, 0),
                icon_anchor=(0, 0),
                class_name="cpts-label-marker",
            ),
            interactive=False,
        ).add_to(m)


def _add_suggest_figures(m, result: suggest.SuggestResult) -> None:
    """How good the proposal is (:meth:`~cpts_geo.suggest.SuggestResult.quality_lines`), appended
    to the panel of figures as its own section (``#cpts-propositions``)."""
    body = "".join(f"<div>{_esc(line.strip())}</div>" for line in result.quality_lines())
    section = f'<div id="cpts-propositions"><h4>Territoires proposés</h4>{body}</div>'
    call_script(
        m,
        "maps.js",
        "cptsGeo.appendToPanel",
        "cpts-stats",
        section,
        key="cpts_suggest_figures",
        with_map=False,
    )


def _suggest_membership(df: pd.DataFrame) -> pd.DataFrame:
    """``group`` (territoire_id), ``code_insee``: one row per unit of each row of ``df``."""
    return pd.DataFrame(
        {
            "group": np.repeat(df["territoire_id"].to_numpy(), [len(c) for c in df["communes"]]),
            "code_insee": [c for codes in df["communes"] for c in codes],
        }
    )


def suggest_colours(ref: Reference, groups: list[list[str]]) -> list[int]:
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


# ---- the map of the changes between two registers ----------------------------------------------
def changes_map(
    ref: Reference,
    old,
    new,
    *,
    changes=None,
    online: bool = False,
    offline: bool | None = None,
    tolerance_m: float | None = None,
    decimals: int | None = None,
):
    """A folium map of what changed between two registers, in French.

    Layers: the CPTS of the new register around the changes (context), the CPTS added and
    removed (whole perimeters), the communes that entered or left each CPTS (one polygon per CPTS
    and direction), the white zones that appeared or disappeared and the new overlaps
    (:func:`cpts_geo.steering.changes.register_changes`); a legend and a panel of counts. CPTS are matched
    by id: an id in one register only is an added or removed CPTS.

    Parameters
    ----------
    ref
        The reference.
    old, new
        The two registers (anything :func:`~cpts_geo.inputs.read.as_register` takes).
    changes
        Their :class:`~cpts_geo.steering.changes.RegisterChanges`, when already computed.
    online
        Load Leaflet from the CDN and add basemaps, as :func:`coverage_map` (by default the page
        is self-contained); ``offline`` is accepted and ignored.
    tolerance_m, decimals
        Simplification tolerance (metres) and coordinate decimals; default for a région.

    Returns
    -------
    folium.Map
        Write it with :func:`save_map`.
    """
    import folium

    from cpts_geo.maps._changes_layers import add_changes_panel, change_groups
    from cpts_geo.maps.styles import CHANGE_STYLES
    from cpts_geo.steering.changes import register_changes

    old, new = as_register(ref, old), as_register(ref, new)
    ch = register_changes(ref, old, new) if changes is None else changes
    tol, dec = DETAIL["region"]
    tol = tol if tolerance_m is None else float(tolerance_m)
    dec = dec if decimals is None else int(decimals)
    groups = change_groups(ref, ch, old, new)
    m = folium.Map(location=None, zoom_start=8, tiles=None, control_scale=False, zoom_snap=0.25)
    prepare_assets(m, online)
    add_map_chrome(m)
    if online:
        add_basemaps(m)
    members = pd.DataFrame(
        [(g["key"], c) for g in groups for c in g["codes"]], columns=["group", "code_insee"]
    )
    gdf = dissolve(ref, members, tolerance_m=tol, decimals=dec) if len(members) else None
    for kind, (label, style) in CHANGE_STYLES.items():
        rows = [g for g in groups if g["kind"] == kind]
        layer = gpd.GeoDataFrame(
            {
                "nom": [g["nom"] for g in rows],
                "detail": [g["detail"] for g in rows],
                "population": [
                    f"{fr_number(int(gdf.at[g['key'], 'population']))} hab." if gdf is not None else ""
                    for g in rows
                ],
            },
            geometry=[gdf.geometry[g["key"]] for g in rows] if gdf is not None else [],
            crs=4326,
        )
        add_territory_layer(
            m,
            layer,
            name=label,
            fields={"nom": "", "detail": "Détail", "population": "Population"},
            style=style,
            class_name=f"cpts-changement-{kind.replace('_', '-')}",
            show=bool(rows),
            legend=[(label, style)],
            legend_section="Changements" if kind != "context" else "Contexte",
        )
    add_hatch_pattern(m)
    add_changes_panel(m, ch)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    if gdf is not None and len(gdf):
        x0, y0, x1, y1 = gdf.total_bounds
        m.fit_bounds([[float(y0), float(x0)], [float(y1), float(x1)]])
    m._cpts_changes = ch  # type: ignore[attr-defined]
    return m
