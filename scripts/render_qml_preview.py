#!/usr/bin/env python
"""Draw a styled GeoPackage with matplotlib, from the QML stored in its ``layer_styles`` table.

A stand-in for opening the file in QGIS: each layer is drawn with the default style QGIS would
apply (``useAsDefault = 1``), reading back only what the QML says — fill and outline colours
(``"r,g,b,a"`` of the ``<Option>`` maps), widths in millimetres, dashes, the ``LinePatternFill``
hatching, categories of a ``categorizedSymbol`` renderer and simple labels. Layers are drawn in
the order of the file (the first at the bottom), as QGIS stacks them when all are added at once.

Usage::

    python scripts/render_qml_preview.py carte.gpkg -o apercu.png
    python scripts/render_qml_preview.py --example 49 -o docs/figures/apercu_style_qgis_49.png

``--example DEP`` first writes a small GeoPackage from the shipped reference (the communes of the
département grouped by EPCI into fake CPTS at three stages, two EPCI left as white zones, one
commune in two CPTS, the département's outline) with :func:`cpts_geo.outputs.qgis.write_styled_gpkg`.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd
import pyogrio

PT_PER_MM = 72 / 25.4


# ---- reading the QML back ----------------------------------------------------------------------
def _colour(value: str | None):
    """QGIS "r,g,b,a" as a matplotlib RGBA tuple (None: transparent)."""
    if not value:
        return (0, 0, 0, 0)
    r, g, b, a = (int(x) for x in value.split(",")[:4])
    return (r / 255, g / 255, b / 255, a / 255)


def _options(layer: ET.Element) -> dict:
    return {o.get("name"): o.get("value") for o in layer.find("Option").findall("Option")}


def _symbol(sym: ET.Element) -> list[dict]:
    """The symbol layers of a symbol, each with its class, options and line sub-symbol."""
    out = []
    for lay in sym.findall("layer"):
        d = {"class": lay.get("class"), **_options(lay)}
        sub = lay.find("symbol")
        if sub is not None:
            d["sub"] = _symbol(sub)
        out.append(d)
    return out


def parse_qml(qml: str) -> dict:
    """``{"type", "attr", "categories": [(value, label, symbol layers)], "symbol", "label_field"}``."""
    root = ET.fromstring(qml.split("\n", 1)[1] if qml.startswith("<!DOCTYPE") else qml)
    r = root.find("renderer-v2")
    symbols = {s.get("name"): _symbol(s) for s in r.find("symbols").findall("symbol")}
    out = {"type": r.get("type"), "attr": r.get("attr"), "label_field": None}
    if out["type"] == "categorizedSymbol":
        out["categories"] = [
            (c.get("value"), c.get("label"), symbols[c.get("symbol")])
            for c in r.find("categories").findall("category")
        ]
    else:
        out["symbol"] = symbols["0"]
    lab = root.find("labeling")
    if root.get("labelsEnabled") == "1" and lab is not None:
        ts = lab.find("settings/text-style")
        out["label_field"] = ts.get("fieldName")
        out["label_size"] = float(ts.get("fontSize", 9))
        out["label_color"] = _colour(ts.get("textColor"))
    return out


def read_styles(gpkg) -> dict[str, tuple[dict, str]]:
    """Default style of each layer: ``{layer: (parsed QML, description)}``."""
    con = sqlite3.connect(gpkg)
    try:
        rows = con.execute(
            "SELECT f_table_name, styleQML, description FROM layer_styles WHERE useAsDefault ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    return {t: (parse_qml(qml), desc or t) for t, qml, desc in rows}


# ---- drawing -----------------------------------------------------------------------------------
def _dashes(opts: dict, lw_pt: float):
    if opts.get("use_custom_dash") != "1":
        return "solid"
    mm = [float(x) for x in opts["customdash"].split(";")]
    # matplotlib scales dash lengths by the line width; QGIS gives them in millimetres.
    return (0, tuple(max(m * PT_PER_MM / max(lw_pt, 1e-6), 0.1) for m in mm))


def draw_symbol(ax, geoms: gpd.GeoSeries, layers: list[dict]) -> None:
    """Draw the symbol layers of one fill symbol, in order, as QGIS paints them."""
    import matplotlib as mpl

    if geoms.empty:
        return
    for lay in layers:
        cls = lay["class"]
        if cls == "SimpleFill":
            face = _colour(lay["color"]) if lay.get("style") != "no" else "none"
            edge = _colour(lay["outline_color"]) if lay.get("outline_style") != "no" else "none"
            geoms.plot(
                ax=ax, facecolor=face, edgecolor=edge, linewidth=float(lay["outline_width"]) * PT_PER_MM
            )
        elif cls == "LinePatternFill":
            line = lay["sub"][0]
            with mpl.rc_context(
                {
                    "hatch.linewidth": float(line["line_width"]) * PT_PER_MM,
                    "hatch.color": _colour(line["line_color"]),
                }
            ):
                # matplotlib's '/' hatch is at 45°, as the QML's angle; its spacing is fixed.
                geoms.plot(
                    ax=ax, facecolor="none", edgecolor=_colour(line["line_color"]), linewidth=0, hatch="///"
                )
        elif cls == "SimpleLine":
            lw = float(lay["line_width"]) * PT_PER_MM
            geoms.boundary.plot(
                ax=ax, color=_colour(lay["line_color"]), linewidth=lw, linestyle=_dashes(lay, lw)
            )


def _legend_patch(layers: list[dict], label: str):
    from matplotlib.patches import Patch

    fill = next((lay for lay in layers if lay["class"] == "SimpleFill"), None)
    line = next((lay for lay in layers if lay["class"] == "SimpleLine"), None)
    hatch = next((lay for lay in layers if lay["class"] == "LinePatternFill"), None)
    face = _colour(fill["color"]) if fill and fill.get("style") != "no" else "none"
    if fill and fill.get("outline_style") != "no":
        edge = _colour(fill["outline_color"])
    elif line:
        edge = _colour(line["line_color"])
    else:
        edge = "none"
    return Patch(
        facecolor=face,
        edgecolor=edge,
        hatch="///" if hatch else None,
        label=label,
        linestyle="--" if line and line.get("use_custom_dash") == "1" else "-",
    )


def render(gpkg, out, *, title: str | None = None, dpi: int = 130) -> Path:
    """Draw every styled layer of ``gpkg`` into the PNG ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patheffects as pe
    import matplotlib.pyplot as plt

    styles = read_styles(gpkg)
    fig, ax = plt.subplots(figsize=(8, 7.2))
    handles = []
    spatial = [name for name, kind in pyogrio.list_layers(gpkg) if kind is not None]
    for name in spatial:
        if name not in styles:
            continue
        style, description = styles[name]
        frame = pyogrio.read_dataframe(gpkg, layer=name)
        if style["type"] == "categorizedSymbol":
            values = frame[style["attr"]].fillna("").astype(str)
            listed = {v for v, _, _ in style["categories"] if v}
            for value, label, layers in style["categories"]:
                # An empty value is QGIS's "all other values" category (NULL included).
                mask = values.eq(value) if value else ~values.isin(listed)
                draw_symbol(ax, frame.geometry[mask.to_numpy()], layers)
                if mask.any():
                    handles.append(_legend_patch(layers, f"{description} — {label}"))
        else:
            draw_symbol(ax, frame.geometry, style["symbol"])
            handles.append(_legend_patch(style["symbol"], description))
        if style["label_field"]:
            for geom, text in zip(frame.geometry, frame[style["label_field"]]):
                p = geom.representative_point()
                ax.annotate(
                    str(text),
                    (p.x, p.y),
                    ha="center",
                    va="center",
                    fontsize=style["label_size"],
                    fontweight="bold",
                    color=style["label_color"],
                    path_effects=[pe.withStroke(linewidth=2.5, foreground="white")],
                )
    ax.set_axis_off()
    ax.set_aspect(1 / 0.68)  # about 1/cos(47°): the latitude of the example
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=11)
    fig.savefig(out, dpi=dpi, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return Path(out)


# ---- the example -------------------------------------------------------------------------------
def example_gpkg(dep: str, path) -> Path:
    """A GeoPackage of fake CPTS on the communes of ``dep`` (see the module docstring)."""
    import cpts_geo as cg
    from cpts_geo.outputs import qgis as q

    ref = cg.load_reference()
    units = ref.units
    communes = units[(units["departement"] == dep) & (units["type"] == "commune")]
    epcis = sorted(communes["epci"].dropna().unique())
    white_epci = set(epcis[1::6][:2])  # two EPCI left without CPTS
    stages = ["aci", "projet-sante", "pre-projet"]
    covered = communes[~communes["epci"].isin(white_epci)]
    cpts = covered.dissolve(by="epci", as_index=False)[["epci", "geometry"]]
    cpts["cpts_id"] = [f"CPTS-{dep}-{i + 1:02d}" for i in range(len(cpts))]
    cpts["statut"] = [stages[i % 3] for i in range(len(cpts))]
    white = communes[communes["epci"].isin(white_epci)].dissolve()[["geometry"]]
    white["nom"] = "Zone blanche"
    # One commune on the edge of a CPTS declared in its neighbour too.
    border = covered[covered.geometry.touches(cpts.geometry.iloc[1])]
    border = border[border["epci"] != cpts["epci"].iloc[1]].head(1)
    overlap = border[["nom", "geometry"]].reset_index()
    outline = communes.dissolve()[["geometry"]]
    layers = {
        "cpts_par_stade": (cpts, q.cpts_stage_qml("statut", label_field="cpts_id"), "CPTS"),
        "zones_blanches": (white, q.white_zone_qml(), "Zone blanche (aucune CPTS)"),
        "chevauchements": (overlap, q.overlap_qml(), "Commune dans plusieurs CPTS"),
        "departement": (outline, q.departement_outline_qml(), "Limite de département"),
    }
    return q.write_styled_gpkg(path, layers)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("gpkg", nargs="?", help="a GeoPackage with a layer_styles table")
    p.add_argument("-o", "--output", required=True, help="the PNG to write")
    p.add_argument("--example", metavar="DEP", help="first write the example GeoPackage of this département")
    p.add_argument("--keep-gpkg", help="where to keep the example GeoPackage")
    p.add_argument("--title")
    p.add_argument("--dpi", type=int, default=130)
    a = p.parse_args(argv)
    if a.example:
        path = a.keep_gpkg or str(Path(tempfile.mkdtemp()) / f"exemple_{a.example}.gpkg")
        gpkg = example_gpkg(a.example, path)
        title = a.title or (
            f"Styles QGIS du GeoPackage (lus dans layer_styles) — département {a.example}, CPTS fictives"
        )
    elif a.gpkg:
        gpkg, title = a.gpkg, a.title
    else:
        p.error("give a GeoPackage or --example DEP")
    render(gpkg, a.output, title=title, dpi=a.dpi)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
