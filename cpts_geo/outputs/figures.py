"""Static figures (matplotlib), in French: coverage maps and charts, territory maps and charts.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot's state, so a
notebook shows each figure exactly once and a script never leaks figures; save one with
:func:`save_figure`. Areas are drawn in the zone's projected CRS (Lambert-93, or the DROM's).
"""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpts_geo._errors import CptsGeoError
from cpts_geo._text import fr_decimal, fr_goal, fr_int, fr_number, fr_plural, fr_share, plain
from cpts_geo.checks.report import Report, population_cell
from cpts_geo.checks.territory import size_class_text
from cpts_geo.inputs.stages import LEVEL_LABELS, LEVELS, NOT_GIVEN, STAGE_LABELS
from cpts_geo.maps.layers import CoverageLayers, build_coverage_layers
from cpts_geo.maps.styles import DETAIL, FINDING_STYLES, OVERLAP_STYLE, SHARED_STYLE, STAGE_COLORS
from cpts_geo.maps.territory import (
    LINK_LABELS,
    WHITE_NEIGHBOUR_LABEL,
    TerritoryMapLayers,
    report_layers,
    sea_link_lines,
)
from cpts_geo.reference.geometry import zone_epsg
from cpts_geo.reference.units import METRO_EPSG, Reference
from cpts_geo.steering.coverage import NOTE_MULTI, Coverage, as_coverage
from cpts_geo.steering.history import CoverageHistory

__all__ = ["coverage_bar_chart", "coverage_figure", "save_figure", "territory_figure"]

_WHITE_COLOR = "#e0e0e0"
_CONTEXT_COLOR = "#f3f3f1"
_TERRITORY_FILL = FINDING_STYLES["territoire"][1]["fillColor"]
#: The units of a split EPCI on a territory figure: hatched, over the colours of the CPTS.
_EPCI_HATCH: dict[str, Any] = {"edgecolor": FINDING_STYLES["epci_partiel"][1]["color"], "hatch": "\\\\"}
_SHARED_FILL = SHARED_STYLE["fillColor"].split()[-1]  # "url(#pattern) #hex": the colour


def new_figure(figsize, layout: Literal["constrained", "compressed", "tight"] | None = "constrained"):
    """A Figure outside pyplot's state (a notebook shows it once; nothing to close)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("les figures demandent matplotlib : pip install matplotlib") from exc
    return Figure(figsize=figsize, layout=layout)


def territory_figure(ref: Reference, report: Report, *, existing=None, width: float = 9.0, labels: int = 6):
    """A static map of a checked territory and its surroundings (matplotlib), in French.

    The layers of the interactive map (:func:`cpts_geo.maps.territory.report_layers`), drawn from
    the report as computed: the territory's units coloured by finding (the most populous
    named), the enclaves and the rest of the split EPCIs, the neighbouring CPTS of ``existing``
    coloured by stage (as on the coverage maps) with their names, the white zones around the
    territory (hatched, only in the départements of the register), the detached parts and the
    sea links. Drawn in the zone's projected CRS, framed on the territory and its neighbours.

    Parameters
    ----------
    ref
        The reference the report was made on.
    report
        The checks of the territory (:func:`cpts_geo.check_territory`; in a notebook the
        ``report`` of :func:`cpts_geo.diagnostic.territory_summary`).
    existing
        The register the territory was checked against (``None``: no CPTS nor white zone drawn).
    width
        Width of the figure in inches (the height follows the map's shape).
    labels
        How many of the territory's communes are named (most populous first).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import cpts_geo as cg
    >>> ref = cg.load_reference()
    >>> fig = territory_figure(ref, cg.check_territory(ref, ["56009", "56114", "56152", "56241"]))
    >>> fig.axes[0].get_title().splitlines()[1]
    '5 607 habitants, 86 km², taille ACI 1'
    """
    from matplotlib.patheffects import withStroke

    report = _as_report(report)
    layers = report_layers(ref, report, existing=existing)
    if not ref.units.loc[layers.codes].geometry.notna().any():
        raise CptsGeoError("carte du territoire impossible : aucune commune du territoire n'a de contour")
    epsg = int(ref.units.loc[layers.codes, "epsg"].mode().iloc[0])
    frame = _territory_frame(ref, layers, epsg)
    context = _context_units(ref, frame, epsg)
    ratio = (frame[3] - frame[1]) / (frame[2] - frame[0])
    fig = new_figure((width, min(max(width * ratio, 4.0), 14.0) + 1.6))
    ax = fig.add_subplot()
    halo = [withStroke(linewidth=2.5, foreground="white")]
    _draw_background(ax, context)
    stage_handles = _draw_cpts_fills(ax, context, layers)
    white_handles = _draw_white_zones(ax, context, layers)
    finding_handles = _draw_finding_fills(ax, context, layers)
    context.boundary.plot(ax=ax, color="white", linewidth=0.5)  # commune limits, over the fills
    _draw_cpts_outlines(ax, ref, report, layers, frame, epsg, halo)
    outline_handles = _draw_territory_outline(ax, ref, layers, epsg)
    detached_handles = _draw_detached(ax, ref, layers, epsg)
    sea_handles = _draw_sea_links(ax, ref, layers, epsg, halo)
    _name_communes(ax, ref, layers, epsg, labels, halo)
    handles = (
        finding_handles[:1]
        + outline_handles
        + finding_handles[1:]
        + detached_handles
        + sea_handles
        + stage_handles
        + white_handles
    )
    _frame_and_caption(fig, ax, ref, report, layers, frame, epsg, handles)
    return fig


def _as_report(report) -> Report:
    """The report, or the ``report`` of a diagnostic summary (deprecated)."""
    if isinstance(report, Report):
        return report
    inner = getattr(report, "report", None)
    if isinstance(inner, Report):
        warnings.warn(
            "territory_figure(ref, synthese) est obsolète : passez le rapport des vérifications, "
            "territory_figure(ref, synthese.report, existing=registre)",
            DeprecationWarning,
            stacklevel=3,
        )
        return inner
    raise TypeError(f"territory_figure attend un Report (check_territory), reçu {type(report).__name__}")


def _territory_frame(
    ref: Reference, layers: TerritoryMapLayers, epsg: int
) -> tuple[float, float, float, float]:
    """The extent drawn (projected): the territory, its land neighbours and the units with a
    finding, with a margin."""
    shown = list(dict.fromkeys([*layers.codes, *layers.neighbours, *layers.kind]))
    geoms = ref.units.loc[shown].geometry.dropna()
    minx, miny, maxx, maxy = geoms.to_crs(epsg).total_bounds
    pad = 0.06 * max(maxx - minx, maxy - miny)
    return (minx - pad, miny - pad, maxx + pad, maxy + pad)


def _context_units(ref: Reference, frame, epsg: int) -> gpd.GeoDataFrame:
    """Every unit in the frame, projected, indexed by code."""
    units = ref.units
    window = gpd.GeoSeries([shapely.box(*frame)], crs=epsg).to_crs(4326).iloc[0]
    context = units.iloc[np.sort(units.sindex.query(window, predicate="intersects"))]
    context = context[context.geometry.notna()]
    return gpd.GeoDataFrame(geometry=context.geometry.to_crs(epsg).to_numpy(), index=context.index, crs=epsg)


def _draw_background(ax, context: gpd.GeoDataFrame) -> None:
    """Every unit of the frame in a neutral grey (covered by nothing drawn)."""
    context.plot(ax=ax, color=_CONTEXT_COLOR, linewidth=0, gid="cpts-contexte")


def _draw_cpts_fills(ax, context: gpd.GeoDataFrame, layers: TerritoryMapLayers) -> list:
    """The units of the neighbouring CPTS outside the territory, in the colour of their stage
    (of the first CPTS by id when several), under the hatching of the split EPCIs (enclaves are
    filled over them); returns the legend handles of the stages drawn."""
    from matplotlib.patches import Patch

    filled = {c for c, k in layers.kind.items() if k != "epci_hors"}
    rows = layers.cpts.drop_duplicates("code_insee")
    rows = rows[rows["code_insee"].isin(context.index) & ~rows["code_insee"].isin(filled)]
    if not len(rows):
        return []
    stages = rows["statut"].where(rows["statut"].isin(list(STAGE_COLORS)), "")
    colours = [STAGE_COLORS[s] for s in stages]
    context.loc[rows["code_insee"]].plot(ax=ax, color=colours, linewidth=0, gid="cpts-cpts-voisines")
    shown = set(stages)
    return [
        Patch(facecolor=STAGE_COLORS[s], label=f"CPTS — {STAGE_LABELS[s]}")
        for s in STAGE_COLORS
        if s in shown
    ]


def _draw_white_zones(ax, context: gpd.GeoDataFrame, layers: TerritoryMapLayers) -> list:
    """The white zones around the territory (:attr:`TerritoryMapLayers.white`), hatched; the legend
    says when some neighbours are in a département the register does not cover."""
    from matplotlib.patches import Patch

    handles = []
    codes = [c for c in layers.white if c in context.index]
    if codes:
        style: dict[str, Any] = {"facecolor": _WHITE_COLOR, "edgecolor": "#a8a8a8", "hatch": "///"}
        context.loc[codes].plot(ax=ax, linewidth=0, gid="cpts-zone-blanche", **style)
        handles.append(Patch(label=WHITE_NEIGHBOUR_LABEL, **style))
    if layers.unknown and len(layers.cpts):
        handles.append(
            Patch(
                facecolor=_CONTEXT_COLOR,
                edgecolor="#c8c8c8",
                label="Commune d'un département hors du registre",
            )
        )
    return handles


def _draw_finding_fills(ax, context: gpd.GeoDataFrame, layers: TerritoryMapLayers) -> list:
    """The territory's units and its enclaves in the colour of their finding (as on the
    interactive map), the units of its split EPCIs hatched (over the territory's blue inside,
    over what is drawn outside: the stage colours of the CPTS are not overwritten); returns the
    legend handles, the territory's first."""
    from matplotlib.patches import Patch

    handles = []
    for k, (label, style) in FINDING_STYLES.items():
        codes = [c for c, kk in layers.kind.items() if kk == k and c in context.index]
        if not codes:
            continue
        gid = f"cpts-{k.replace('_', '-')}"
        fill = _TERRITORY_FILL if k == "epci_partiel" else style["fillColor"]
        if k == "epci_hors":
            fill = "none"
        else:
            context.loc[codes].plot(ax=ax, color=fill, linewidth=0, gid=gid)
        if k in ("epci_partiel", "epci_hors"):
            context.loc[codes].plot(
                ax=ax, facecolor="none", linewidth=0, gid=gid + "-hachures", **_EPCI_HATCH
            )
            handles.append(
                Patch(facecolor=_CONTEXT_COLOR if fill == "none" else fill, label=label, **_EPCI_HATCH)
            )
        elif k == "enclave":
            context.loc[codes].boundary.plot(ax=ax, color=style["color"], linewidth=1.0, gid=gid + "-contour")
            handles.append(Patch(facecolor=fill, edgecolor=style["color"], label=label))
        else:
            handles.append(Patch(facecolor=fill, label=label))
    handles.sort(key=lambda h: h.get_label() != FINDING_STYLES["territoire"][0])
    return handles


def _draw_cpts_outlines(
    ax, ref: Reference, report: Report, layers: TerritoryMapLayers, frame, epsg: int, halo
) -> None:
    """Each neighbouring CPTS outlined and named: on its part outside the territory, or inside
    it when it has none (not for the CPTS whose perimeter the report checks: the territory is it)."""
    view = shapely.box(*frame)
    inner_view = shapely.buffer(view, -0.05 * max(frame[2] - frame[0], frame[3] - frame[1]))
    territory = _union(ref, layers.codes, epsg)
    for cid, part in layers.cpts.groupby("cpts_id", sort=True):
        geom = _union(ref, part["code_insee"], epsg)
        gpd.GeoSeries([geom], crs=epsg).boundary.plot(
            ax=ax, color="#2b2b2b", linewidth=0.9, gid="cpts-contour-cpts"
        )
        shown = shapely.intersection(geom, view)
        outside = shapely.difference(shown, territory)
        if outside.area > 0.02 * shown.area:
            where = outside
        elif cid != report.cpts_id:
            where = shown
        else:
            continue
        if where.is_empty:
            continue
        inner = shapely.intersection(where, inner_view)  # names away from the frame
        p = (where if inner.is_empty else inner).representative_point()
        ax.text(
            p.x,
            p.y,
            plain(str(part["cpts_nom"].iloc[0])),
            fontsize=7.5,
            parse_math=False,  # names as written: no $…$ formulas
            ha="center",
            va="center",
            color="#1a1a1a",
            style="italic",
            path_effects=halo,
            clip_on=True,
        )


def _draw_territory_outline(ax, ref: Reference, layers: TerritoryMapLayers, epsg: int) -> list:
    """The territory's outline (thick)."""
    from matplotlib.lines import Line2D

    gpd.GeoSeries([_union(ref, layers.codes, epsg)], crs=epsg).boundary.plot(
        ax=ax, color="#08306b", linewidth=2.2, gid="cpts-contour"
    )
    return [Line2D([], [], color="#08306b", linewidth=2.2, label="Limite du territoire")]


def _draw_detached(ax, ref: Reference, layers: TerritoryMapLayers, epsg: int) -> list:
    """The parts of the territory apart from its main one, outlined (dashed)."""
    from matplotlib.lines import Line2D

    inside = set(layers.codes)
    parts = [[u["code"] for u in d["communes"] if u["code"] in inside] for d in layers.detached]
    parts = [p for p in parts if p]
    if not parts:
        return []
    style: dict[str, Any] = {"color": "#e6550d", "linewidth": 2.0, "linestyle": (0, (4, 2))}
    gpd.GeoSeries([_union(ref, p, epsg) for p in parts], crs=epsg).boundary.plot(
        ax=ax, gid="cpts-partie-detachee", **style
    )
    return [Line2D([], [], label="Partie détachée du territoire", **style)]


def _draw_sea_links(ax, ref: Reference, layers: TerritoryMapLayers, epsg: int, halo) -> list:
    """The sea links and water crossings (dashed lines), each with its length at its middle."""
    from matplotlib.lines import Line2D

    lines = sea_link_lines(ref, layers.sea_links)
    if not len(lines):
        return []
    style: dict[str, Any] = {"color": "#0b4f8a", "linewidth": 2.0, "linestyle": (0, (5, 3))}
    proj = lines.to_crs(epsg)
    proj.plot(ax=ax, gid="cpts-liaison-maritime", **style)
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
    return [
        Line2D([], [], label=LINK_LABELS[kind][1], **style)
        for kind in LINK_LABELS
        if (lines["kind"] == kind).any()
    ]


def _name_communes(ax, ref: Reference, layers: TerritoryMapLayers, epsg: int, labels: int, halo) -> None:
    """The ``labels`` most populous communes of the territory, named in bold."""
    inside = ref.units.loc[layers.codes]
    order = np.lexsort((inside.index.to_numpy(), -inside["population"].fillna(0).to_numpy()))
    named = inside.iloc[order[:labels]]
    for code, p in named.geometry.dropna().to_crs(epsg).representative_point().items():
        ax.text(
            p.x,
            p.y,
            plain(str(inside.at[code, "nom"])),
            fontsize=8,
            ha="center",
            va="center",
            weight="bold",
            color="#08306b",
            path_effects=halo,
            clip_on=True,
        )


def _frame_and_caption(fig, ax, ref: Reference, report: Report, layers, frame, epsg: int, handles) -> None:
    """Frame, legend (under the map), title (name and figures of the report) and vintages."""
    ax.set_xlim(frame[0], frame[2])
    ax.set_ylim(frame[1], frame[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8, frameon=False
    )
    t = report.territory
    area = float(ref.arrays.area[ref.position.reindex(layers.codes).to_numpy(dtype=np.int64)].sum())
    ax.set_title(
        plain(
            f"{t.get('name') or 'Territoire'}\n{population_cell(t)} habitants, "
            f"{fr_decimal(area, 0)} km², taille ACI "
            f"{size_class_text(t.get('aci_size_class_min', t['aci_size_class']), t['aci_size_class'])}"
        ),
        fontsize=11,
        parse_math=False,  # names as written: no $…$ formulas
    )
    v = t.get("vintage") or ref.vintage
    fig.supxlabel(
        f"COG {v['cog']}, populations légales {v['population']} ; projection EPSG:{epsg}",
        fontsize=7,
        color="#555",
        x=0.01,
        ha="left",
    )


def _union(ref: Reference, codes, epsg: int):
    """The union of units (their coverage), projected."""
    geoms = ref.units.loc[list(codes)].geometry.dropna().to_numpy()
    return gpd.GeoSeries([shapely.coverage_union_all(geoms)], crs=4326).to_crs(epsg).iloc[0]


#: The Île-de-France inset of the national figure: Paris and the petite couronne, where CPTS are
#: too small to see on the map of metropolitan France.
IDF_INSET = ("Paris et petite couronne", ("75", "92", "93", "94"))
#: What ``labels="auto"`` means at each level: names where they fit (ids elsewhere), none nationally.
AUTO_LABELS = {"national": None, "region": "nom", "departement": "nom"}
LABEL_KINDS = ("nom", "id")

# Layout of the coverage figures (fractions of the figure): the map(s) on the left, the panel of
# legend and figures in a column on the right, never over a map.
_PANEL_X = 0.735
_MAP_RIGHT = 0.715
_TOP = 0.895


def coverage_figure(
    ref: Reference,
    coverage,
    *,
    region: str | None = None,
    departement: str | None = None,
    goal: float | None = None,
    title: str | None = None,
    labels: str | None = "auto",
    figsize: tuple[float, float] | None = None,
):
    """A static coverage map (matplotlib) for a committee: CPTS by stage with their labels,
    white zones, overlaps, declared shares, outlines; legend and figures in a panel beside it.

    The layers of the coverage map (:func:`~cpts_geo.maps.layers.build_coverage_layers`): the
    CPTS touching the area, whole, the view framed on the area. Nationally, metropolitan France
    is drawn in Lambert-93 with insets in a row below it: Paris and the petite couronne (its
    frame drawn on the map) and the five DROM (each in its own projected CRS); the title says
    "France entière" as do the figures. Elsewhere the zone's projected CRS.

    Parameters
    ----------
    ref
        The reference.
    coverage
        A :class:`~cpts_geo.steering.coverage.Coverage` (drawn as computed), or a register (its coverage
        is computed for ``region``/``departement``/``goal``).
    title
        The figure's title (default "Couverture par les CPTS — <area>"); the line of figures
        under it stays.
    labels
        ``"nom"``: each CPTS named by its short name (without "CPTS du…"), or by its id where
        the name does not fit; ``"id"``: by its id, the ids listed with their names in the
        panel; ``None``: no label; ``"auto"``: names for a région or a département, none
        nationally. Labels never overlap each other, the panel or an inset; a CPTS left without
        one for lack of room is counted in the panel.
    figsize
        Inches (default 12.5 × 9, nationally 12.5 × 10.5).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import cpts_geo as cg
    >>> ref = cg.load_reference()
    >>> path = cg.reference.default_data_dir() / "examples" / "registre_fictif_pays_de_la_loire.csv"
    >>> fig = coverage_figure(ref, cg.read_register(path, ref), departement="49", labels="id")
    >>> sorted(t.get_text() for t in fig.axes[0].texts)[:3]
    ['FICTIF-52-006', 'FICTIF-52-015', 'FICTIF-52-017']
    """
    coverage = as_coverage(ref, coverage, region=region, departement=departement, goal=goal)
    scope = coverage.scope
    level = scope["level"]
    kind = AUTO_LABELS[level] if labels == "auto" else labels
    if kind not in (None, *LABEL_KINDS):
        raise CptsGeoError(f"étiquettes inconnues '{labels}' ; choisissez nom, id ou aucune")
    layers = build_coverage_layers(coverage, tolerance_m=DETAIL[level][0], decimals=6)
    national = level == "national"
    fig = new_figure(figsize or ((12.5, 10.5) if national else (12.5, 9.0)), layout=None)
    if national:
        views = _draw_national(fig, ref, layers)
    else:
        ax = fig.add_axes((0.01, 0.05, _MAP_RIGHT - 0.01, _TOP - 0.07))
        deps = list(layers.departements.index)
        epsg = zone_epsg(deps[0]) if deps else METRO_EPSG
        _draw_coverage(ax, layers, deps, epsg)
        views = [(ax, deps, epsg, [])]
    _add_coverage_title(fig, coverage, title)
    placed = _label_cpts(fig, views, layers, kind) if kind else {}
    _add_coverage_panel(fig, coverage, layers, kind, placed)
    v = ref.vintage
    note = f"COG {v['cog']}, populations légales {v['population']} (population municipale). {NOTE_MULTI}"
    fig.text(
        0.01,
        0.006,
        plain("\n".join(textwrap.wrap(note, width=int(0.98 * fig.get_figwidth() * 72 / (6.5 * 0.6))))),
        fontsize=6.5,
        color="#555",
        va="bottom",
        gid="cpts-millesimes",
    )
    return fig


def _draw_national(fig, ref: Reference, layers: CoverageLayers) -> list:
    """Metropolitan France in Lambert-93; in a row below, Paris and the petite couronne (its
    frame drawn on the main map) and the DROM, each in its own CRS. Returns the views
    ``(axes, départements, epsg, boxes of the insets' frames on it)``, the main one first."""
    from matplotlib.patches import Rectangle

    ax = fig.add_axes((0.01, 0.225, _MAP_RIGHT - 0.01, _TOP - 0.235))
    deps = ref.departements
    present = set(layers.departements.index)
    metro = [d for d in deps.index[deps["zone"] == "metro"] if d in present]
    _draw_coverage(ax, layers, metro, METRO_EPSG)
    views: list = [(ax, metro, METRO_EPSG, [])]
    insets: list[tuple[str, list[str], int]] = []
    idf_name, idf_codes = IDF_INSET
    idf = [d for d in idf_codes if d in present]
    if idf:
        insets.append((idf_name, idf, METRO_EPSG))
    drom = [d for d in deps.index[deps["zone"] == "drom"] if d in present]
    insets += [(f"{deps.at[d, 'nom']} ({d})", [d], zone_epsg(d)) for d in drom[:5]]
    # Paris's inset twice as wide as a DROM's: its CPTS are the smallest.
    spans = [2 if codes is idf else 1 for _, codes, _ in insets]
    width = (_MAP_RIGHT - 0.01) / max(sum(spans), 1)
    left = 0.01
    for (name, codes, epsg), span in zip(insets, spans):
        inset = fig.add_axes((left + 0.004, 0.05, span * width - 0.008, 0.15), label=plain(name))
        _draw_coverage(inset, layers, codes, epsg)
        inset.set_anchor("N")
        # The names on one line above the row, whatever the shape of each inset.
        fig.text(left + span * width / 2, 0.205, plain(name), fontsize=8, ha="center", gid="cpts-encart")
        left += span * width
        if codes is idf:  # framed here and on the main map, where its frame is
            inset.add_patch(
                Rectangle(
                    (0, 0),
                    1,
                    1,
                    transform=inset.transAxes,
                    fill=False,
                    edgecolor="#333",
                    linewidth=0.8,
                    clip_on=False,
                )
            )
            x0, x1 = inset.get_xlim()
            y0, y1 = inset.get_ylim()
            ax.add_patch(
                Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#333", linewidth=0.8, zorder=5)
            )
            views[0][3].append((x0, y0, x1, y1))
        views.append((inset, codes, epsg, []))
    return views


def _draw_coverage(ax, layers: CoverageLayers, deps: list[str], epsg: int) -> None:
    """The layers on ``ax`` (projected to ``epsg``), framed on the départements ``deps``: CPTS
    filled by stage, white zones hatched, overlaps in red, declared shares hatched, CPTS outlined
    in white, départements in dark grey."""
    ax.set_axis_off()
    frame = layers.departements.loc[deps]
    if not len(frame):
        return
    cpts = _in_frame(layers.cpts, frame, epsg)
    if len(cpts):
        cpts.plot(ax=ax, color=[STAGE_COLORS[s] for s in cpts["statut"]], linewidth=0)
    white = _in_frame(layers.white_zones, frame, epsg)
    if len(white):
        white.plot(ax=ax, facecolor=_WHITE_COLOR, edgecolor="#8a8a8a", hatch="////", linewidth=0)
    overlaps = _in_frame(layers.overlaps, frame, epsg)
    if len(overlaps):
        overlaps.plot(ax=ax, color=OVERLAP_STYLE["fillColor"], linewidth=0)
    shared = _in_frame(layers.shared, frame, epsg)
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


def _in_frame(gdf: gpd.GeoDataFrame, frame: gpd.GeoDataFrame, epsg: int) -> gpd.GeoDataFrame:
    """The features of ``gdf`` in the extent of ``frame`` (the DROM are far from metropolitan
    France), projected."""
    x0, y0, x1, y1 = frame.total_bounds
    gdf = gdf[gdf.geometry.notna()].cx[x0:x1, y0:y1]
    return gdf.to_crs(epsg)


def _label_cpts(fig, views: list, layers: CoverageLayers, kind: str) -> dict[str, str]:
    """Each CPTS labelled on the view that shows it best (an inset before the main map), most
    populous first; returns ``{cpts_id: text drawn}``."""
    from matplotlib.patheffects import withStroke

    from cpts_geo.outputs._labels import Label, place_labels, short_name

    cpts = layers.cpts[layers.cpts.geometry.notna()].sort_values("population", ascending=False, kind="stable")
    halo = [withStroke(linewidth=2.2, foreground="white")]
    placed: dict[str, str] = {}
    # Insets first: a CPTS of Paris is labelled in its inset, not lost in the main map's frame.
    for ax, deps, epsg, obstacles in [*views[1:], views[0]]:
        shown = _in_frame(cpts, layers.departements.loc[deps], epsg)
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        view = shapely.box(x0, y0, x1, y1)
        todo = []
        for cid, row in shown.iterrows():
            if cid in placed:
                continue
            geom = shapely.intersection(row.geometry, view)
            if geom.is_empty:
                continue
            texts = [str(cid)] if kind == "id" else [short_name(row["cpts_nom"]), str(cid)]
            todo.append(Label(str(cid), [plain(t) for t in texts], geom))
        display_obstacles = [
            (*ax.transData.transform((b[0], b[1])), *ax.transData.transform((b[2], b[3]))) for b in obstacles
        ]
        placed.update(
            place_labels(
                ax,
                todo,
                sizes=(7.5, 6.5) if ax is views[0][0] else (6.5, 5.5),
                obstacles=display_obstacles,
                color="#1a1a1a",
                path_effects=halo,
                clip_on=True,
                zorder=6,
                gid="cpts-etiquette",
                parse_math=False,
            )
        )
    return placed


def _add_coverage_title(fig, coverage: Coverage, title: str | None = None) -> None:
    """The title (``title``, default "Couverture par les CPTS — <area>"), and under it the
    area's CPTS against the goal and the share of its population covered."""
    scope = coverage.scope
    a = coverage.area
    where = {
        "national": "France entière",
        "region": f"Région {scope['nom']}",
        "departement": f"Département {scope['nom']} ({scope['code']})",
    }[scope["level"]]
    custom = " ".join(str(title or "").split())
    head = custom or f"Couverture par les CPTS — {where}"
    fig.text(
        0.01, 0.985, plain(head), fontsize=14, weight="bold", va="top", gid="cpts-titre", parse_math=False
    )
    figures = (
        f"{fr_number(a['cpts'])} CPTS (objectif {fr_goal(a['goal'])}), "
        f"population couverte {fr_share(a['share_covered'])}"
    )
    fig.text(
        0.01,
        0.948,
        plain(f"{where} : {figures}" if custom else figures[:1].upper() + figures[1:]),
        fontsize=10.5,
        parse_math=False,  # names as written: no $…$ formulas
        color="#333",
        va="top",
        gid="cpts-sous-titre",
    )


def _coverage_legend_handles(layers: CoverageLayers) -> list:
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
    return handles


def _coverage_panel_lines(coverage: Coverage) -> list[str]:
    """The figures of the panel: CPTS against the goal and by stage, population covered (all
    stages and by stage, cumulative), white zones, overlaps."""
    a = coverage.area
    pop = a["population"]
    lines = [
        f"{fr_number(a['cpts'])} CPTS, objectif {fr_goal(a['goal'])} ({fr_share(a['progress'])})",
        *(
            f"  {STAGE_LABELS[s]} : {fr_number(a['by_stage'][s or NOT_GIVEN])}"
            for s in STAGE_LABELS
            if s or a["by_stage"][NOT_GIVEN]
        ),
        f"Population couverte : {fr_share(a['share_covered'])}",
        f"  ({fr_number(a['population_covered'])} sur {fr_number(pop)} hab.)",
    ]
    by_stage = a.get("population_covered_by_stage", {})
    if by_stage:
        lines.append("Par stade (cumulé) :")
        lines += [f"  {LEVEL_LABELS[s]} : {fr_share(n / pop if pop else 0.0)}" for s, n in by_stage.items()]
    lines += [
        f"Zones blanches : {fr_number(a['white_zone_population'])} hab.",
        f"  {coverage.units_phrase('white')}",
        f"Communes dans plusieurs CPTS : {fr_number(a['overlap_communes'])}",
    ]
    min_stage = getattr(coverage, "min_stage", None)
    if min_stage:
        lines.append(f"CPTS comptées : stade « {STAGE_LABELS[min_stage]} » ou plus")
    return lines


def _add_coverage_panel(
    fig, coverage: Coverage, layers: CoverageLayers, kind, placed: dict[str, str]
) -> None:
    """The column right of the maps: legend, figures, and the key of the CPTS labelled by their
    id (with their names), or how many have no label for lack of room."""
    from cpts_geo.outputs._labels import _renderer

    renderer = _renderer(fig)
    legend = fig.legend(
        handles=_coverage_legend_handles(layers),
        loc="upper left",
        bbox_to_anchor=(_PANEL_X, _TOP),
        fontsize=8.5,
        title="Légende",
        title_fontsize=9.5,
        alignment="left",
        frameon=False,
        borderaxespad=0,
    )
    y = fig.transFigure.inverted().transform(legend.get_window_extent(renderer))[0][1] - 0.02
    text = fig.text(
        _PANEL_X,
        y,
        plain("\n".join(_wrap_lines(_coverage_panel_lines(coverage), _panel_chars(fig, 8.5)))),
        fontsize=8.5,
        va="top",
        linespacing=1.35,
        gid="cpts-chiffres",
    )
    y = fig.transFigure.inverted().transform(text.get_window_extent(renderer))[0][1] - 0.02
    drawn = [str(c) for c in layers.cpts.index[layers.cpts.geometry.notna()]]
    # ids drawn: all of them with kind "id", those whose name did not fit with "nom"
    by_id = [c for c in drawn if placed.get(c) == plain(c)]
    missing = [c for c in drawn if c not in placed] if kind else []
    names = layers.cpts["cpts_nom"].astype(str)
    notes = []
    if by_id:
        head = "Étiquettes : identifiants" if kind == "id" else "Étiquetées par leur identifiant"
        entries = [f"{c} : {' '.join(names[c].split())}" for c in sorted(by_id)]
        notes.append((head, entries))
    if missing:
        notes.append(
            (
                f"Sans étiquette, faute de place ({fr_plural(len(missing), 'CPTS', 'CPTS')})",
                [f"{c} : {' '.join(names[c].split())}" for c in sorted(missing)],
            )
        )
    for head, entries in notes:
        y = _key_block(fig, renderer, head, entries, y)


def _panel_chars(fig, size: float) -> int:
    """About how many characters of ``size`` points a line of the panel holds."""
    return int((0.99 - _PANEL_X) * fig.get_figwidth() * 72 / (size * 0.56))


def _wrap_lines(lines: list[str], width: int) -> list[str]:
    """``lines`` wrapped at ``width`` characters, continuation lines indented as their first."""
    out = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        out += textwrap.wrap(line, width=width, subsequent_indent=indent, drop_whitespace=False) or [""]
    return out


def _key_block(fig, renderer, head: str, entries: list[str], y: float) -> float:
    """A heading and its entries from height ``y`` down (figure fraction), in as many lines as
    the column holds; what does not fit is counted on a last line. Returns the height below."""
    size = 7.0
    line = size * 1.3 / 72 / fig.get_figheight()
    room = max(int((y - 0.06) / line) - 1, 0)
    shown = entries if len(entries) <= room else entries[: max(room - 1, 0)]
    rest = len(entries) - len(shown)
    width = _panel_chars(fig, size)
    body = [e if len(e) <= width else e[: width - 1] + "…" for e in shown]
    if rest:
        body.append(f"{fr_plural(rest, 'autre CPTS', 'autres CPTS')} : voir le registre")
    t = fig.text(
        _PANEL_X,
        y,
        plain("\n".join([head, *body])),
        fontsize=size,
        parse_math=False,  # names as written: no $…$ formulas
        va="top",
        linespacing=1.3,
        gid="cpts-cle-etiquettes",
    )
    return fig.transFigure.inverted().transform(t.get_window_extent(renderer))[0][1] - 0.015


def coverage_bar_chart(
    coverage, *, by: str | None = None, title: str | None = None, figsize: tuple[float, float] | None = None
):
    """Bar chart of CPTS by région or département with each one's goal marked.

    Long because it is one figure of two panels with their labels and legend.

    Parameters
    ----------
    coverage
        A :class:`cpts_geo.steering.coverage.Coverage` (from :func:`cpts_geo.coverage_summary`).
    by
        ``"region"`` or ``"departement"`` (default: as :meth:`Coverage.default_by`).
    title
        The figure's title (default "CPTS et couverture de la population par région — objectif
        national 1 000").

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
    custom = " ".join(str(title or "").split())
    fig.suptitle(
        plain(
            custom
            or f"CPTS et couverture de la population par {level} — objectif national {fr_goal(coverage.goal)}"
        ),
        fontsize=11,
        parse_math=False,  # names as written: no $…$ formulas
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
