"""Static figures (matplotlib), in French: coverage maps and charts, territory maps and charts.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot's state, so a
notebook shows each figure exactly once and a script never leaks figures; save one with
:func:`save_figure`. Areas are drawn in the zone's projected CRS (Lambert-93, or the DROM's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpts_geo._errors import CptsGeoError
from cpts_geo._text import fr_decimal, fr_int, fr_number, fr_plural, fr_share, plain
from cpts_geo.inputs.read import as_register
from cpts_geo.inputs.stages import LEVEL_LABELS, LEVELS, NOT_GIVEN, STAGE_LABELS
from cpts_geo.maps.layers import CoverageLayers, build_coverage_layers
from cpts_geo.maps.styles import DETAIL, OVERLAP_STYLE, SHARED_STYLE, STAGE_COLORS
from cpts_geo.reference.geometry import zone_epsg
from cpts_geo.reference.units import METRO_EPSG, Reference
from cpts_geo.steering.coverage import NOTE_MULTI, Coverage, as_coverage
from cpts_geo.steering.history import CoverageHistory

if TYPE_CHECKING:
    from cpts_geo.diagnostic import summary as diagnostic

__all__ = ["coverage_bar_chart", "coverage_figure", "save_figure", "territory_figure"]

_TERRITORY_COLOR = "#4292c6"
_WHITE_COLOR = "#e0e0e0"
_OVERLAP_COLOR = "#d7191c"
_SHARED_FILL = SHARED_STYLE["fillColor"].split()[-1]  # "url(#pattern) #hex": the colour


def new_figure(figsize, layout: Literal["constrained", "compressed", "tight"] | None = "constrained"):
    """A Figure outside pyplot's state (a notebook shows it once; nothing to close)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("les figures demandent matplotlib : pip install matplotlib") from exc
    return Figure(figsize=figsize, layout=layout)


_fr = plain


def territory_figure(
    ref: Reference,
    summary: diagnostic.TerritorySummary,
    *,
    existing=None,
    width: float = 9.0,
    labels: int = 6,
    enclaves: Iterable[str] = (),
    detached: Iterable[Iterable[str]] = (),
    sea_links: Iterable[Mapping] = (),
):
    """A static map of a territory and its surroundings (matplotlib), in French.

    Long because it is one figure drawn layer by layer (surroundings, CPTS, white zones, the
    territory, labels, legend).

    The territory's communes (blue, the most populous named), the neighbouring CPTS of
    ``existing`` coloured by stage (as on the coverage maps) with their names, the white-zone
    communes around (hatched), and the communes shared with a CPTS (red). Drawn in the zone's
    projected CRS, framed on the territory and its neighbours.

    Parameters
    ----------
    ref
        The reference.
    summary
        From :func:`territory_summary`.
    existing
        The register given to :func:`territory_summary` (``None``: no CPTS drawn).
    width
        Width of the figure in inches (the height follows the map's shape).
    labels
        How many of the territory's communes are named (most populous first).
    enclaves
        Codes of the units outside the territory that it encloses (the enclaves rule): filled
        as on the HTML map.
    detached
        Unit codes of each part of the territory apart from its main one: outlined (dashed).
    sea_links
        The contiguity rule's ``details["sea_links"]``: dashed lines with their length.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import geopandas as gpd
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.patheffects import withStroke

    units = ref.units
    inside = units.loc[summary.codes]
    epsg = int(inside["epsg"].mode().iloc[0])
    geom = shapely.coverage_union_all(inside.geometry.dropna().to_numpy())
    around = units.loc[summary.neighbours.index].geometry.dropna().to_numpy()
    minx, miny, maxx, maxy = gpd.GeoSeries([geom, *around], crs=4326).to_crs(epsg).total_bounds
    pad = 0.06 * max(maxx - minx, maxy - miny)
    frame = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    window = gpd.GeoSeries([shapely.box(*frame)], crs=epsg).to_crs(4326).iloc[0]
    context = units.iloc[np.sort(units.sindex.query(window, predicate="intersects"))]
    context = context[context.geometry.notna()]

    links = as_register(ref, existing).named_links
    links = links[links["code_insee"].isin(context.index)]
    n_cpts = links.groupby("code_insee").size().reindex(context.index).fillna(0).to_numpy()
    stage_of = links.drop_duplicates("code_insee").set_index("code_insee")["statut"].reindex(context.index)
    stage_of = stage_of.fillna("").where(stage_of.isin(list(STAGE_COLORS)), "")
    in_t = context.index.isin(summary.codes)
    single = n_cpts == 1
    colour = np.where(n_cpts == 0, _WHITE_COLOR, _OVERLAP_COLOR).astype(object)
    colour[single] = [STAGE_COLORS[s] for s in stage_of[single]]
    colour[in_t & (n_cpts == 0)] = _TERRITORY_COLOR
    colour[in_t & (n_cpts > 0)] = _OVERLAP_COLOR
    white = (n_cpts == 0) & ~in_t
    proj = gpd.GeoDataFrame(
        {"c": colour, "white": white}, geometry=context.geometry.to_crs(epsg).to_numpy(), crs=epsg
    )

    ratio = (frame[3] - frame[1]) / (frame[2] - frame[0])
    fig = new_figure((width, min(max(width * ratio, 4.0), 14.0) + 1.6))
    ax = fig.add_subplot()
    proj.plot(ax=ax, color=proj["c"], linewidth=0)
    if white.any():
        proj[proj["white"]].plot(ax=ax, facecolor="none", edgecolor="#a8a8a8", hatch="///", linewidth=0)
    proj.boundary.plot(ax=ax, color="white", linewidth=0.5)  # commune limits, over the hatching
    halo = [withStroke(linewidth=2.5, foreground="white")]
    view = shapely.box(*frame)
    for cid, part in links.groupby("cpts_id", sort=True):
        g = gpd.GeoSeries(
            [shapely.coverage_union_all(context.loc[part["code_insee"]].geometry.to_numpy())], crs=4326
        ).to_crs(epsg)
        g.boundary.plot(ax=ax, color="#2b2b2b", linewidth=0.9)
        shown = shapely.intersection(g.iloc[0], view)
        if cid in summary.neighbour_cpts.index and not shown.is_empty:
            inner = shapely.intersection(shown, shapely.buffer(view, -pad))  # names away from the frame
            p = (shown if inner.is_empty else inner).representative_point()
            ax.text(
                p.x,
                p.y,
                summary.neighbour_cpts.at[cid, "cpts_nom"],
                fontsize=7.5,
                ha="center",
                va="center",
                color="#1a1a1a",
                style="italic",
                path_effects=halo,
                clip_on=True,
            )
    gpd.GeoSeries([geom], crs=4326).to_crs(epsg).boundary.plot(ax=ax, color="#08306b", linewidth=2.2)
    named = inside.loc[summary.communes.head(labels).index]
    for code, p in named.geometry.dropna().to_crs(epsg).representative_point().items():
        ax.text(
            p.x,
            p.y,
            inside.at[code, "nom"],
            fontsize=8,
            ha="center",
            va="center",
            weight="bold",
            color="#08306b",
            path_effects=halo,
            clip_on=True,
        )
    ax.set_xlim(frame[0], frame[2])
    ax.set_ylim(frame[1], frame[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles = [
        Patch(facecolor=_TERRITORY_COLOR, label="Commune du territoire"),
        Line2D([], [], color="#08306b", linewidth=2.2, label="Limite du territoire"),
    ]
    handles += _draw_findings(ax, ref, context, epsg, enclaves, detached, sea_links, halo)
    stages = set(stage_of[single & ~in_t])
    handles += [
        Patch(facecolor=STAGE_COLORS[s], label=f"CPTS — {STAGE_LABELS[s]}")
        for s in STAGE_COLORS
        if s in stages
    ]
    if white.any():
        handles.append(
            Patch(
                facecolor=_WHITE_COLOR,
                edgecolor="#a8a8a8",
                hatch="///",
                label="Commune en zone blanche (aucune CPTS)",
            )
        )
    if (n_cpts > 1).any() or (in_t & (n_cpts > 0)).any():
        handles.append(Patch(facecolor=_OVERLAP_COLOR, label="Commune déjà dans une CPTS, ou dans plusieurs"))
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8, frameon=False
    )
    ax.set_title(
        _fr(
            f"{summary.name or 'Territoire'}\n{fr_int(summary.population)} habitants, "
            f"{fr_decimal(summary.area_km2, 0)} km², taille ACI {summary.aci_size_class}"
        ),
        fontsize=11,
    )
    v = summary.vintage
    fig.supxlabel(
        f"COG {v['cog']}, populations légales {v['population']} ; projection EPSG:{epsg}",
        fontsize=7,
        color="#555",
        x=0.01,
        ha="left",
    )
    return fig


def _draw_findings(ax, ref: Reference, context, epsg: int, enclaves, detached, sea_links, halo) -> list:
    """Enclaves (filled), detached parts (dashed outline) and sea links (dashed line, length) on
    a territory figure; returns their legend handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from cpts_geo.maps.styles import FINDING_STYLES
    from cpts_geo.maps.territory import sea_link_lines

    handles: list = []
    enclaves = [c for c in enclaves if c in context.index]
    if enclaves:
        style = FINDING_STYLES["enclave"][1]
        gpd.GeoSeries(context.loc[enclaves].geometry.to_numpy(), crs=4326).to_crs(epsg).plot(
            ax=ax, color=style["fillColor"], edgecolor=style["color"], linewidth=1.0
        )
        handles.append(
            Patch(facecolor=style["fillColor"], edgecolor=style["color"], label=FINDING_STYLES["enclave"][0])
        )
    parts = [[c for c in codes if c in ref.units.index] for codes in detached]
    parts = [p for p in parts if p]
    if parts:
        geoms = [shapely.coverage_union_all(ref.units.loc[p].geometry.dropna().to_numpy()) for p in parts]
        gpd.GeoSeries(geoms, crs=4326).to_crs(epsg).boundary.plot(
            ax=ax, color="#e6550d", linewidth=2.0, linestyle=(0, (4, 2))
        )
        handles.append(
            Line2D(
                [],
                [],
                color="#e6550d",
                linewidth=2.0,
                linestyle=(0, (4, 2)),
                label="Partie détachée du territoire",
            )
        )
    lines = sea_link_lines(ref, sea_links)
    if len(lines):
        proj = lines.to_crs(epsg)
        proj.plot(ax=ax, color="#0b4f8a", linewidth=2.0, linestyle=(0, (5, 3)))
        for geom, text in zip(proj.geometry, proj["distance"]):
            mid = geom.interpolate(0.5, normalized=True)
            ax.text(
                mid.x,
                mid.y,
                plain(text),
                fontsize=8,
                color="#0b4f8a",
                weight="bold",
                ha="left",
                va="bottom",
                path_effects=halo,
                clip_on=True,
            )
        handles.append(
            Line2D([], [], color="#0b4f8a", linewidth=2.0, linestyle=(0, (5, 3)), label="Liaison maritime")
        )
    return handles


def coverage_figure(
    ref: Reference,
    coverage,
    *,
    region: str | None = None,
    departement: str | None = None,
    goal: float | None = None,
    figsize: tuple[float, float] = (9.0, 9.0),
):
    """A static coverage map (matplotlib): CPTS by stage, white zones, overlaps, declared shares,
    outlines.

    The layers of the coverage map (:func:`~cpts_geo.maps.layers.build_coverage_layers`): the
    CPTS touching the area, whole, the view framed on the area. Nationally, metropolitan France
    is drawn in Lambert-93 with the five DROM as insets (each in its own projected CRS), and the
    title says "France entière" as do the figures. Elsewhere the zone's projected CRS.

    Parameters
    ----------
    ref
        The reference.
    coverage
        A :class:`~cpts_geo.steering.coverage.Coverage` (drawn as computed), or a register (its coverage
        is computed for ``region``/``departement``/``goal``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    coverage = as_coverage(ref, coverage, region=region, departement=departement, goal=goal)
    scope = coverage.scope
    layers = build_coverage_layers(coverage, tolerance_m=DETAIL[scope["level"]][0], decimals=6)
    fig = new_figure(figsize)
    if scope["level"] == "national":
        ax = _draw_national(fig, ref, layers)
    else:
        ax = fig.subplots()
        deps = list(layers.departements.index)
        epsg = zone_epsg(deps[0]) if deps else METRO_EPSG
        _draw_coverage(ax, layers, deps, epsg)
    _add_coverage_title(ax, coverage)
    _add_coverage_legend(ax, layers)
    v = ref.vintage
    # Nationally the DROM fill the bottom row: the vintages go to the top-left corner.
    y, va = (0.995, "top") if scope["level"] == "national" else (0.01, "baseline")
    fig.text(
        0.01, y, f"COG {v['cog']}, populations légales {v['population']}", fontsize=7, color="#555", va=va
    )
    return fig


def _draw_national(fig, ref: Reference, layers: CoverageLayers):
    """Metropolitan France in Lambert-93, the DROM in a row below, each in its own CRS; returns
    the main axes."""
    grid = fig.add_gridspec(2, 5, height_ratios=[5, 1])
    ax = fig.add_subplot(grid[0, :])
    deps = ref.departements
    present = set(layers.departements.index)
    metro = [d for d in deps.index[deps["zone"] == "metro"] if d in present]
    _draw_coverage(ax, layers, metro, METRO_EPSG)
    drom = [d for d in deps.index[deps["zone"] == "drom"] if d in present]
    for k, d in enumerate(drom[:5]):
        inset = fig.add_subplot(grid[1, k])
        _draw_coverage(inset, layers, [d], zone_epsg(d))
        inset.set_title(plain(f"{deps.at[d, 'nom']} ({d})"), fontsize=8, pad=2)
    return ax


def _draw_coverage(ax, layers: CoverageLayers, deps: list[str], epsg: int) -> None:
    """The layers on ``ax`` (projected to ``epsg``), framed on the départements ``deps``: CPTS
    filled by stage, white zones hatched, overlaps in red, declared shares hatched, CPTS outlined
    in white, départements in dark grey."""
    ax.set_axis_off()
    frame = layers.departements.loc[deps]
    if not len(frame):
        return
    x0, y0, x1, y1 = frame.total_bounds

    def here(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The features of ``gdf`` in the frame (the DROM are far from metropolitan France), projected."""
        gdf = gdf[gdf.geometry.notna()].cx[x0:x1, y0:y1]
        return gdf.to_crs(epsg)

    cpts = here(layers.cpts)
    if len(cpts):
        cpts.plot(ax=ax, color=[STAGE_COLORS[s] for s in cpts["statut"]], linewidth=0)
    white = here(layers.white_zones)
    if len(white):
        white.plot(ax=ax, facecolor=_WHITE_COLOR, edgecolor="#8a8a8a", hatch="////", linewidth=0)
    overlaps = here(layers.overlaps)
    if len(overlaps):
        overlaps.plot(ax=ax, color=OVERLAP_STYLE["fillColor"], linewidth=0)
    shared = here(layers.shared)
    if len(shared):  # communes declared shared below the commune level: hatched, not red
        shared.plot(ax=ax, facecolor=_SHARED_FILL, edgecolor=SHARED_STYLE["color"], hatch="\\\\", linewidth=0)
    if len(cpts):
        cpts.boundary.plot(ax=ax, color="white", linewidth=0.5)
    frame = frame.to_crs(epsg)
    frame.boundary.plot(ax=ax, color="#444", linewidth=0.4)
    fx0, fy0, fx1, fy1 = frame.total_bounds
    mx, my = ax.margins()  # as matplotlib frames what it draws, though the CPTS may reach beyond
    ax.set_xlim(fx0 - mx * (fx1 - fx0), fx1 + mx * (fx1 - fx0))
    ax.set_ylim(fy0 - my * (fy1 - fy0), fy1 + my * (fy1 - fy0))
    ax.set_aspect("equal")


def _add_coverage_title(ax, coverage: Coverage) -> None:
    """The title: the area, its CPTS against the goal and the share of its population covered."""
    scope = coverage.scope
    a = coverage.area
    where = {
        "national": "France entière",
        "region": f"Région {scope['nom']}",
        "departement": f"Département {scope['nom']} ({scope['code']})",
    }[scope["level"]]
    ax.set_title(
        plain(
            f"Couverture par les CPTS — {where}\n{fr_number(a['cpts'])} CPTS (objectif {fr_number(a['goal'])}), "
            f"population couverte {fr_share(a['share_covered'])}"
        ),
        fontsize=11,
    )


def _add_coverage_legend(ax, layers: CoverageLayers) -> None:
    """The legend: the stages (the unstaged one when a CPTS drawn has none), white zones, overlaps
    and, when there are any, declared shares."""
    from matplotlib.patches import Patch

    unstaged = (layers.cpts["statut"] == "").any()
    handles = [Patch(facecolor=STAGE_COLORS[s], label=STAGE_LABELS[s]) for s in STAGE_LABELS if s or unstaged]
    handles += [
        Patch(facecolor=_WHITE_COLOR, edgecolor="#8a8a8a", hatch="////", label="Zone blanche"),
        Patch(facecolor=OVERLAP_STYLE["fillColor"], label="Commune dans plusieurs CPTS"),
    ]
    if len(layers.shared):
        handles.append(
            Patch(
                facecolor=_SHARED_FILL,
                edgecolor=SHARED_STYLE["color"],
                hatch="\\\\",
                label="Commune partagée déclarée",
            )
        )
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)


def coverage_bar_chart(coverage, *, by: str | None = None, figsize: tuple[float, float] | None = None):
    """Bar chart of CPTS by région or département with each one's goal marked.

    Long because it is one figure of two panels with their labels and legend.

    Parameters
    ----------
    coverage
        A :class:`cpts_geo.steering.coverage.Coverage` (from :func:`cpts_geo.coverage_summary`).
    by
        ``"region"`` or ``"departement"`` (default: as :meth:`Coverage.default_by`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    by = by or coverage.default_by()
    rows = coverage.regions if by == "region" else coverage.departements
    names = [f"{r['nom']} ({r['code']})" for r in rows]
    y = np.arange(len(rows))[::-1]
    fig = new_figure(figsize or (11, 2.0 + 0.28 * max(len(rows), 4)), layout=None)
    ax1, ax2 = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 2]})
    counts = np.array([r["cpts"] for r in rows], dtype=float)
    goals = np.array([r["goal"] for r in rows], dtype=float)
    # CPTS stacked by stage (colours of the maps), the goal marked on each bar.
    left = np.zeros(len(rows))
    for s, label in STAGE_LABELS.items():
        n = np.array([r["by_stage"][s or NOT_GIVEN] for r in rows], dtype=float)
        if s or n.any():
            ax1.barh(y, n, left=left, color=STAGE_COLORS[s], edgecolor="white", linewidth=0.3, label=label)
            left += n
    ax1.scatter(
        goals,
        y,
        marker="|",
        s=160,
        color="#d7191c",
        linewidths=2.5,
        zorder=3,
        label="Objectif (part de l'objectif national)",
    )
    end = max(float(np.max(np.maximum(counts, goals), initial=0)), 1.0)
    for yy, c, g in zip(y, counts, goals):
        ax1.text(
            max(c, g) + 0.015 * end,
            yy,
            plain(f"{fr_int(c)} / {fr_number(float(g))}"),
            va="center",
            fontsize=6.5,
            color="#333",
        )
    ax1.set_xlim(0, end * 1.18)
    ax1.set_yticks(y, names, fontsize=8)
    ax1.set_xlabel("Nombre de CPTS (étiquettes : CPTS / objectif)")
    handles, labels = ax1.get_legend_handles_labels()
    share = np.array([100 * r["share_covered"] for r in rows])
    ax2.barh(y, share, color="#3182bd")
    for yy, v in zip(y, share):
        ax2.text(
            min(v, 100) - 1,
            yy,
            f"{v:.0f} %",
            va="center",
            ha="right" if v > 12 else "left",
            fontsize=6.5,
            color="white" if v > 12 else "#333",
        )
    ax2.set_xlim(0, 100)
    ax2.set_xlabel("Population couverte (%)")
    _stage_share_bars(ax2, rows, y)
    level = "région" if by == "region" else "département"
    fig.suptitle(
        plain(
            f"CPTS et couverture de la population par {level} — objectif national {fr_number(coverage.goal)}"
        ),
        fontsize=11,
    )
    v = coverage.vintage
    fig.text(
        0.01,
        0.005,
        f"COG {v['cog']}, populations légales {v['population']}. {NOTE_MULTI}",
        fontsize=6,
        color="#555",
        wrap=True,
    )
    # The legend under the title, in one row: it never hides a bar.
    h = fig.get_figheight()
    fig.legend(
        handles,
        labels,
        loc="upper center",
        ncol=len(labels),
        fontsize=7.5,
        frameon=False,
        bbox_to_anchor=(0.5, 1 - 0.38 / h),
    )
    fig.tight_layout(rect=(0, 0.3 / h, 1, 1 - 0.62 / h))
    return fig


def _stage_share_bars(ax, rows: list[dict], y: np.ndarray) -> None:
    """Population covered by stage (cumulative) as thinner bars over the share covered, from
    "pré-projet ou plus" (widest) to "contrat ACI signé", in the stage colours."""
    if not rows or "population_covered_by_stage" not in rows[0]:
        return
    for k, s in enumerate(("pre-projet", "lettre-intention", "projet-sante", "aci")):
        v = np.array(
            [
                100 * r["population_covered_by_stage"][s] / r["population"] if r["population"] else 0.0
                for r in rows
            ]
        )
        ax.barh(y, v, height=0.5 - 0.08 * k, color=STAGE_COLORS[s], edgecolor="#555", linewidth=0.2)
    # The colours are the stages' of the legend: no second legend to hide the bars.
    ax.set_xlabel(
        "Population couverte (%) : tout stade (bleu) ;\npar stade, cumulé (barres fines, couleur du stade ou plus)"
    )


def save_figure(fig, path, *, inputs=()) -> Path:
    """Save a matplotlib figure (format from the suffix: .png, .svg, .pdf) atomically."""
    from cpts_geo._io import atomic_write

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    if fmt not in ("png", "svg", "pdf"):
        raise CptsGeoError(f"{path} : format de figure inconnu '.{fmt}' ; utilisez .png, .svg ou .pdf")
    return atomic_write(path, lambda p: fig.savefig(p, format=fmt, dpi=150), inputs=inputs)


def history_figure(history: CoverageHistory, goal: float | None = None):
    """Curves of the number of CPTS at each cumulative stage level, and the goal.

    Parameters
    ----------
    history
        The computed history.
    goal
        The goal in number of CPTS for the area (e.g. 1,000 nationally); default the history's
        ``goal``; no line when both are ``None``.

    Returns
    -------
    matplotlib.figure.Figure
        Not saved, not shown: the caller decides (``fig.savefig("courbe.png", dpi=150)``).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("la courbe demande matplotlib : pip install matplotlib") from None
    goal = history.goal if goal is None else goal
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.add_subplot()
    f = history.frame
    x = [pd.Period(m, freq="M").to_timestamp() for m in f.index]
    colors = {
        "aci": "#1b7837",
        "projet-sante": "#5aae61",
        "lettre-intention": "#a6dba0",
        "pre-projet": "#c2a5cf",
        "any": "#762a83",
    }
    for level in LEVELS:
        ax.step(
            x,
            f[f"cpts_{level}"],
            where="post",
            color=colors[level],
            label=f"CPTS {LEVEL_LABELS[level]}",
            linewidth=2 if level == "aci" else 1.5,
        )
    if goal is not None:
        ax.axhline(
            goal,
            color="#b2182b",
            linestyle="--",
            linewidth=1.2,
            label=f"Objectif : {fr_int(round(goal))} CPTS",
        )
    ax.set_title(f"Nombre de CPTS par stade (cumulé) — {history.area.get('nom', '')}")
    ax.set_xlabel("Mois")
    ax.set_ylabel("Nombre de CPTS")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    if history.undated:
        fig.text(
            0.01,
            0.005,
            f"{fr_plural(len(history.undated), 'CPTS', 'CPTS')} sans date, hors courbe.",
            fontsize="small",
            color="#555555",
        )
    return fig
