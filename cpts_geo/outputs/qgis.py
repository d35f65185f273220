"""GeoPackages that QGIS opens styled: QML styles stored in the ``layer_styles`` table.

QGIS looks, when it opens a layer of a GeoPackage, for a row of the ``layer_styles`` table with
the layer's table and geometry column and ``useAsDefault`` true, and applies its QML. This module
builds QML documents in the format QGIS 3.28 writes (``<renderer-v2>`` with symbol layers whose
properties are ``<Option>`` maps, colours as ``"r,g,b,a"``), writes them into that table as
QGIS's own "Save style... in the datasource database" does, and writes layers and styles into a
GeoPackage atomically.

The ready-made styles (:func:`cpts_stage_qml`, :func:`white_zone_qml`, ...) take their colours
from the Leaflet styles of the HTML maps (:mod:`cpts_geo.maps`, :mod:`cpts_geo.suggest`), so a
layer looks the same in QGIS as in the HTML page: Leaflet's pixel widths are converted to
millimetres at 96 dpi, its ``fillOpacity`` becomes the alpha of the fill colour.

Reading back: ``pyogrio.list_layers`` lists ``layer_styles`` with a geometry type of ``None``
(an attributes table, like any non-spatial table of a GeoPackage; QGIS does not offer it as a
layer); a reader of our GeoPackages should skip non-spatial layers when it looks for "the" layer
of a file. ``scripts/qgis_open_check.py`` opens a file with PyQGIS and reports the styles QGIS
applied (checked with QGIS 3.22, which reads this 3.28 QML).
"""

from __future__ import annotations

import re
import sqlite3
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from cpts_geo._errors import CptsGeoError, InputError
from cpts_geo._io import atomic_write

__all__ = [
    "GPKG_VERSION",
    "QGIS_VERSION",
    "STYLE_TABLE",
    "cpts_stage_qml",
    "departement_outline_qml",
    "extension_qml",
    "orphan_qml",
    "overlap_qml",
    "qml_categorized",
    "qml_from_leaflet",
    "qml_outline",
    "qml_single_fill",
    "region_outline_qml",
    "rgba",
    "shared_qml",
    "suggested_qml",
    "territory_outline_qml",
    "territory_units_qml",
    "white_zone_qml",
    "write_layer_styles",
    "write_styled_gpkg",
    "zone_qml",
]

#: The QGIS version the QML is written for (a later QGIS reads it; 3.28 is the LTR of 2023).
QGIS_VERSION = "3.28.0-Firenze"
STYLE_TABLE = "layer_styles"
#: GeoPackage version written: 1.2 (GDAL >= 2.2). GDAL 3.12 writes 1.4 by default, which the
#: GDAL of older QGIS (e.g. 3.22 with GDAL 3.6) opens with a "may only be partially supported"
#: warning; nothing of 1.3/1.4 is used here.
GPKG_VERSION = "1.2"
#: Screen millimetres per CSS pixel (96 dpi), to turn Leaflet widths into QGIS ones.
MM_PER_PX = 25.4 / 96

_UNIT_SCALE = "3x:0,0,0,0,0,0"
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\b")


# ---- colours and small XML helpers -------------------------------------------------------------
def rgba(color: str, opacity: float = 1.0) -> str:
    """A CSS hex colour (``#1a9850`` or ``#333``) as QGIS writes colours: ``"26,152,80,255"``.

    Examples
    --------
    >>> rgba("#1a9850", 0.6)
    '26,152,80,153'
    """
    m = _HEX.search(color or "")
    if not m:
        raise ValueError(f"colour {color!r}: expected a hex colour such as '#1a9850'")
    h = m.group(1)
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    a = int(max(0.0, min(1.0, float(opacity))) * 255 + 0.5)  # half up, as QColor::setAlphaF
    return f"{r},{g},{b},{a}"


def _text(value) -> str:
    return _ILLEGAL_XML.sub("", str(value))


def _options(parent: ET.Element, props: Mapping[str, str]) -> ET.Element:
    """``<Option type="Map">`` of QString options, sorted by name as QGIS writes them."""
    m = ET.SubElement(parent, "Option", type="Map")
    for k in sorted(props):
        ET.SubElement(m, "Option", type="QString", name=k, value=_text(props[k]))
    return m


def _data_defined(parent: ET.Element, tag: str = "data_defined_properties") -> None:
    dd = ET.SubElement(parent, tag)
    m = ET.SubElement(dd, "Option", type="Map")
    ET.SubElement(m, "Option", type="QString", name="name", value="")
    ET.SubElement(m, "Option", name="properties")
    ET.SubElement(m, "Option", type="QString", name="type", value="collection")


def _symbol(parent: ET.Element, name: str, kind: str = "fill") -> ET.Element:
    sym = ET.SubElement(
        parent,
        "symbol",
        {
            "alpha": "1",
            "clip_to_extent": "1",
            "force_rhr": "0",
            "frame_rate": "10",
            "is_animated": "0",
            "name": name,
            "type": kind,
        },
    )
    _data_defined(sym)
    return sym


def _layer(sym: ET.Element, cls: str, props: Mapping[str, str]) -> ET.Element:
    lay = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    _options(lay, props)
    _data_defined(lay)
    return lay


def _simple_fill(
    sym, fill: str | None, fill_opacity: float, stroke: str | None, width_mm: float, outline: str = "solid"
) -> None:
    _layer(
        sym,
        "SimpleFill",
        {
            "border_width_map_unit_scale": _UNIT_SCALE,
            "color": rgba(fill, fill_opacity) if fill else "0,0,0,0",
            "joinstyle": "bevel",
            "offset": "0,0",
            "offset_map_unit_scale": _UNIT_SCALE,
            "offset_unit": "MM",
            "outline_color": rgba(stroke) if stroke else "0,0,0,0",
            "outline_style": outline if stroke else "no",
            "outline_width": f"{width_mm:g}",
            "outline_width_unit": "MM",
            "style": "solid" if fill else "no",
        },
    )


def _line_props(color: str, width_mm: float, dash_mm: Sequence[float] | None, opacity: float = 1.0) -> dict:
    return {
        "align_dash_pattern": "0",
        "capstyle": "square" if not dash_mm else "flat",
        "customdash": ";".join(f"{d:g}" for d in dash_mm) if dash_mm else "5;2",
        "customdash_map_unit_scale": _UNIT_SCALE,
        "customdash_unit": "MM",
        "dash_pattern_offset": "0",
        "dash_pattern_offset_map_unit_scale": _UNIT_SCALE,
        "dash_pattern_offset_unit": "MM",
        "draw_inside_polygon": "0",
        "joinstyle": "bevel",
        "line_color": rgba(color, opacity),
        "line_style": "solid",
        "line_width": f"{width_mm:g}",
        "line_width_unit": "MM",
        "offset": "0",
        "offset_map_unit_scale": _UNIT_SCALE,
        "offset_unit": "MM",
        "ring_filter": "0",
        "trim_distance_end": "0",
        "trim_distance_start": "0",
        "tweak_dash_pattern_on_corners": "0",
        "use_custom_dash": "1" if dash_mm else "0",
        "width_map_unit_scale": _UNIT_SCALE,
    }


def _hatch(sym, color: str, width_mm: float, spacing_mm: float, angle: float) -> None:
    """A ``LinePatternFill`` (parallel lines) with its line sub-symbol, as QGIS writes one."""
    lay = _layer(
        sym,
        "LinePatternFill",
        {
            "angle": f"{angle:g}",
            "clip_mode": "during_render",
            "color": rgba(color),
            "coordinate_reference": "feature",
            "distance": f"{spacing_mm:g}",
            "distance_map_unit_scale": _UNIT_SCALE,
            "distance_unit": "MM",
            "line_width": f"{width_mm:g}",
            "line_width_map_unit_scale": _UNIT_SCALE,
            "line_width_unit": "MM",
            "offset": "0",
            "offset_map_unit_scale": _UNIT_SCALE,
            "offset_unit": "MM",
            "outline_width_map_unit_scale": _UNIT_SCALE,
            "outline_width_unit": "MM",
        },
    )
    index = len(sym.findall("layer")) - 1
    sub = _symbol(lay, f"@{sym.get('name')}@{index}", "line")
    _layer(sub, "SimpleLine", _line_props(color, width_mm, None))


def _fill_symbol(
    parent,
    name: str,
    *,
    fill,
    stroke,
    stroke_width_mm,
    fill_opacity,
    dash=None,
    hatched=False,
    hatch_color=None,
    hatch_width_mm=0.58,
    hatch_spacing_mm=1.85,
    hatch_angle=45.0,
) -> ET.Element:
    """A fill symbol: a plain fill, optional hatching over it, and its outline (dashed: a line layer)."""
    sym = _symbol(parent, name, "fill")
    plain_outline = stroke if not dash else None
    _simple_fill(sym, fill, fill_opacity, plain_outline, stroke_width_mm)
    if hatched:
        _hatch(sym, hatch_color or stroke or "#737373", hatch_width_mm, hatch_spacing_mm, hatch_angle)
    if dash and stroke:
        _layer(sym, "SimpleLine", _line_props(stroke, stroke_width_mm, dash))
    return sym


def _labeling(root: ET.Element, field: str, *, size_pt: float = 9, color: str = "#222222") -> None:
    """Simple labels with ``field``, in a white halo, placed inside the polygon."""
    lab = ET.SubElement(root, "labeling", type="simple")
    st = ET.SubElement(lab, "settings", calloutType="simple")
    ts = ET.SubElement(
        st,
        "text-style",
        {
            "fieldName": _text(field),
            "isExpression": "0",
            "fontSize": f"{size_pt:g}",
            "fontSizeUnit": "Point",
            "fontWeight": "75",
            "fontItalic": "0",
            "textColor": rgba(color),
            "textOpacity": "1",
            "multilineHeight": "1",
            "allowHtml": "0",
            "capitalization": "0",
            "blendMode": "0",
            "previewBkgrdColor": "255,255,255,255",
            "namedStyle": "Bold",
        },
    )
    ET.SubElement(ts, "families")
    ET.SubElement(
        ts,
        "text-buffer",
        {
            "bufferDraw": "1",
            "bufferSize": "0.8",
            "bufferSizeUnits": "MM",
            "bufferSizeMapUnitScale": _UNIT_SCALE,
            "bufferColor": "255,255,255,255",
            "bufferOpacity": "0.85",
            "bufferNoFill": "1",
            "bufferJoinStyle": "128",
            "bufferBlendMode": "0",
        },
    )
    ET.SubElement(ts, "background", {"shapeDraw": "0"})
    ET.SubElement(ts, "shadow", {"shadowDraw": "0"})
    _data_defined(ts, "dd_properties")
    ET.SubElement(ts, "substitutions")
    ET.SubElement(
        st,
        "text-format",
        {
            "wrapChar": "",
            "autoWrapLength": "0",
            "multilineAlign": "3",
            "plussign": "0",
            "reverseDirectionSymbol": "0",
        },
    )
    # placement 1 = "offset from centroid" (OverPoint), kept inside the polygon.
    ET.SubElement(
        st,
        "placement",
        {
            "placement": "1",
            "centroidInside": "1",
            "centroidWhole": "0",
            "fitInPolygonOnly": "0",
            "priority": "5",
            "dist": "0",
            "offsetType": "0",
            "quadOffset": "4",
            "xOffset": "0",
            "yOffset": "0",
        },
    )
    ET.SubElement(
        st,
        "rendering",
        {
            "obstacle": "1",
            "displayAll": "0",
            "upsidedownLabels": "0",
            "scaleVisibility": "0",
            "limitNumLabels": "0",
            "fontLimitPixelSize": "0",
            "drawLabels": "1",
            "labelPerPart": "0",
            "mergeLines": "0",
        },
    )
    _data_defined(st, "dd_properties")


def _document(renderer_fill, *, label_field: str | None = None, geometry_type: int = 2) -> str:
    """The ``<qgis>`` document around a renderer built by ``renderer_fill(root)``."""
    cats = "Symbology|Labeling" if label_field else "Symbology"
    root = ET.Element(
        "qgis",
        {"version": QGIS_VERSION, "styleCategories": cats, "labelsEnabled": "1" if label_field else "0"},
    )
    renderer_fill(root)
    if label_field:
        _labeling(root, label_field)
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerGeometryType").text = str(geometry_type)
    ET.indent(root, space="  ")
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        + ET.tostring(root, encoding="unicode")
        + "\n"
    )


def _renderer(root, kind: str, **attrs) -> ET.Element:
    return ET.SubElement(
        root,
        "renderer-v2",
        {
            "type": kind,
            "forceraster": "0",
            "symbollevels": "0",
            "enableorderby": "0",
            "referencescale": "-1",
            **attrs,
        },
    )


def _tail(renderer: ET.Element) -> None:
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")


# ---- QML builders ------------------------------------------------------------------------------
def qml_single_fill(
    fill: str | None,
    stroke: str | None,
    stroke_width_mm: float = 0.26,
    fill_opacity: float = 1.0,
    dash: Sequence[float] | None = None,
    hatched: bool = False,
    *,
    hatch_color: str | None = None,
    label_field: str | None = None,
) -> str:
    """QML drawing every polygon of a layer the same way.

    Parameters
    ----------
    fill, stroke
        Hex colours; ``None`` for no fill / no outline.
    stroke_width_mm
        Outline width (millimetres).
    fill_opacity
        Opacity of the fill (0-1), written as the alpha of its colour.
    dash
        Dash pattern of the outline in millimetres (dash, gap, ...); solid when ``None``.
    hatched
        Diagonal lines (45°) over the fill, in ``hatch_color`` (the outline colour by default).
    label_field
        Label each polygon with this attribute.
    """

    def fill_renderer(root):
        r = _renderer(root, "singleSymbol")
        syms = ET.SubElement(r, "symbols")
        _fill_symbol(
            syms,
            "0",
            fill=fill,
            stroke=stroke,
            stroke_width_mm=stroke_width_mm,
            fill_opacity=fill_opacity,
            dash=dash,
            hatched=hatched,
            hatch_color=hatch_color,
        )
        _tail(r)

    return _document(fill_renderer, label_field=label_field)


def qml_outline(
    stroke: str,
    width: float = 0.26,
    *,
    dash: Sequence[float] | None = None,
    opacity: float = 1.0,
    label_field: str | None = None,
) -> str:
    """QML drawing only the outline of the polygons (``width`` in millimetres), no fill."""

    def fill_renderer(root):
        r = _renderer(root, "singleSymbol")
        sym = _symbol(ET.SubElement(r, "symbols"), "0", "fill")
        _layer(sym, "SimpleLine", _line_props(stroke, width, dash, opacity))
        _tail(r)

    return _document(fill_renderer, label_field=label_field)


def qml_categorized(
    attribute: str,
    categories: Iterable[tuple],
    *,
    stroke_width_mm: float = 0.26,
    fill_opacity: float = 1.0,
    dash: Sequence[float] | None = None,
    label_field: str | None = None,
) -> str:
    """QML colouring polygons by the value of ``attribute``.

    Parameters
    ----------
    attribute
        The field whose value picks the category.
    categories
        ``(value, label, fill, stroke)`` per category, in legend order, optionally with a fifth
        item: a dict overriding ``fill_opacity``, ``stroke_width_mm`` or ``dash`` for that
        category. A value of ``""`` (or ``None``) is QGIS's "all other values" category: it also
        takes NULL and unlisted values. QGIS compares values as text: an integer field matches
        ``"3"``.
    """
    categories = list(categories)
    if not categories:
        raise ValueError("qml_categorized: no category")

    def fill_renderer(root):
        r = _renderer(root, "categorizedSymbol", attr=_text(attribute))
        cats = ET.SubElement(r, "categories")
        syms = ET.SubElement(r, "symbols")
        for i, (value, label, fill, stroke, *more) in enumerate(categories):
            own = {
                "fill_opacity": fill_opacity,
                "stroke_width_mm": stroke_width_mm,
                "dash": dash,
                **(more[0] if more else {}),
            }
            ET.SubElement(
                cats,
                "category",
                {
                    "value": "" if value is None else _text(value),
                    "label": _text(label),
                    "symbol": str(i),
                    "render": "true",
                    "type": "string",
                },
            )
            _fill_symbol(syms, str(i), fill=fill, stroke=stroke, **own)
        src = ET.SubElement(r, "source-symbol")
        _fill_symbol(
            src,
            "0",
            fill=categories[0][2],
            stroke=categories[0][3],
            stroke_width_mm=stroke_width_mm,
            fill_opacity=fill_opacity,
        )
        _tail(r)

    return _document(fill_renderer, label_field=label_field)


def _dash_mm(dash_array) -> list[float] | None:
    if not dash_array:
        return None
    px = [float(x) for x in re.split(r"[,\s]+", str(dash_array).strip()) if x]
    return [round(p * MM_PER_PX, 3) for p in px] or None


def qml_from_leaflet(
    style: Mapping, *, hatched: bool = False, hatch_color: str | None = None, label_field: str | None = None
) -> str:
    """QML for a Leaflet path style of the HTML maps (``color``, ``weight``, ``fillColor``, ...).

    Leaflet's defaults apply to missing keys (blue ``#3388ff``, weight 3 px, fill opacity 0.2);
    ``"fill": False`` gives an outline only.
    """
    stroke = style.get("color", "#3388ff")
    width = float(style.get("weight", 3)) * MM_PER_PX
    dash = _dash_mm(style.get("dashArray"))
    if style.get("fill", True) is False:
        return qml_outline(
            stroke, round(width, 3), dash=dash, opacity=style.get("opacity", 1.0), label_field=label_field
        )
    return qml_single_fill(
        style.get("fillColor", stroke),
        stroke,
        round(width, 3),
        style.get("fillOpacity", 0.2),
        dash,
        hatched,
        hatch_color=hatch_color,
        label_field=label_field,
    )


# ---- the palette of the HTML maps, per layer kind ----------------------------------------------
def cpts_stage_qml(attribute: str = "statut", *, label_field: str | None = None) -> str:
    """CPTS coloured by stage (``attribute`` holds ``pre-projet``, ``lettre-intention``,
    ``projet-sante``, ``aci``; any other value or none: "Stade non renseigné"), as the coverage map."""
    from cpts_geo.inputs.stages import STAGE_LABELS
    from cpts_geo.maps.styles import STAGE_COLORS

    cats = [(s, STAGE_LABELS[s], STAGE_COLORS[s], "#333333") for s in STAGE_LABELS if s]
    cats.append(("", STAGE_LABELS[""], STAGE_COLORS[""], "#333333"))
    return qml_categorized(
        attribute, cats, stroke_width_mm=round(MM_PER_PX, 3), fill_opacity=0.6, label_field=label_field
    )


#: The HTML maps' hatching of white zones (an SVG pattern): lines of 2.2 px every 7 px at 45°.
WHITE_HATCH = {"color": "#8a8a8a", "width_px": 2.2, "spacing_px": 7.0}


def white_zone_qml() -> str:
    """White zones (communes of no CPTS): light grey hatched with a grey outline."""
    from cpts_geo.maps.styles import WHITE_STYLE

    style = dict(WHITE_STYLE)
    fill = _HEX.findall(style["fillColor"])[-1]  # "url(#cpts-hachures) #d9d9d9": the fallback colour
    style["fillColor"] = f"#{fill}"

    def fill_renderer(root):
        r = _renderer(root, "singleSymbol")
        _fill_symbol(
            ET.SubElement(r, "symbols"),
            "0",
            fill=style["fillColor"],
            stroke=style["color"],
            stroke_width_mm=round(style["weight"] * MM_PER_PX, 3),
            fill_opacity=style["fillOpacity"],
            hatched=True,
            hatch_color=WHITE_HATCH["color"],
            hatch_width_mm=round(WHITE_HATCH["width_px"] * MM_PER_PX, 3),
            hatch_spacing_mm=round(WHITE_HATCH["spacing_px"] * MM_PER_PX, 3),
        )
        _tail(r)

    return _document(fill_renderer)


def shared_qml() -> str:
    """Communes declared shared below the commune level: light purple hatched the other way
    than the white zones (as the HTML map's pattern), dashed purple outline."""
    from cpts_geo.maps.styles import SHARED_STYLE

    fill = "#" + _HEX.findall(SHARED_STYLE["fillColor"])[-1]  # "url(#...) #c2a5cf": the fallback colour

    def fill_renderer(root):
        r = _renderer(root, "singleSymbol")
        _fill_symbol(
            ET.SubElement(r, "symbols"),
            "0",
            fill=fill,
            stroke=SHARED_STYLE["color"],
            stroke_width_mm=round(SHARED_STYLE["weight"] * MM_PER_PX, 3),
            fill_opacity=SHARED_STYLE["fillOpacity"],
            dash=_dash_mm(SHARED_STYLE["dashArray"]),
            hatched=True,
            hatch_color=SHARED_STYLE["color"],
            hatch_angle=135.0,
        )
        _tail(r)

    return _document(fill_renderer)


def zone_qml(categories: Iterable[tuple[str, str, float]], attribute: str = "categorie") -> str:
    """A zone layer (``--zones``) hatched by category, as the HTML maps' overlays:
    ``(category, colour, angle)`` per category, lines of the colour at that angle over a light
    fill of it, outline of the colour."""
    cats = [
        (
            c,
            c,
            color,
            color,
            {
                "fill_opacity": 0.12,
                "stroke_width_mm": round(1.6 * MM_PER_PX, 3),
                "hatched": True,
                "hatch_color": color,
                "hatch_width_mm": round(2.4 * MM_PER_PX, 3),
                "hatch_spacing_mm": round(8 * MM_PER_PX, 3),
                "hatch_angle": float(angle) % 180,  # -45 is written 135, as QGIS writes it
            },
        )
        for c, color, angle in categories
    ]
    return qml_categorized(attribute, cats)


def overlap_qml() -> str:
    """Communes in several CPTS: red, thick red outline."""
    from cpts_geo.maps.styles import OVERLAP_STYLE

    return qml_from_leaflet(OVERLAP_STYLE)


def territory_outline_qml() -> str:
    """The outline of a proposed territory (black, 3 px), no fill."""
    return qml_from_leaflet({"color": "#000000", "weight": 3, "fill": False})


def departement_outline_qml() -> str:
    """Limits of départements, as on the coverage map."""
    return qml_from_leaflet({"color": "#444444", "weight": 1.2, "fill": False, "opacity": 0.9})


def region_outline_qml() -> str:
    """Limits of régions, as on the coverage map."""
    return qml_from_leaflet({"color": "#111111", "weight": 2.6, "fill": False, "opacity": 0.9})


def territory_units_qml(attribute: str = "constat") -> str:
    """The units of a checked territory coloured by finding (keys of ``maps.FINDING_STYLES``)."""
    from cpts_geo.maps.styles import FINDING_STYLES

    cats = [
        (
            k,
            label,
            s["fillColor"],
            s["color"],
            {
                "fill_opacity": s["fillOpacity"],
                "stroke_width_mm": round(s["weight"] * MM_PER_PX, 3),
                "dash": _dash_mm(s.get("dashArray")),
            },
        )
        for k, (label, s) in FINDING_STYLES.items()
    ]
    return qml_categorized(attribute, cats)


def suggested_qml(label_field: str | None = "territoire_id", *, colour_field: str | None = None) -> str:
    """Suggested territories: blue (``suggest.PALETTE[0]``), labelled with their id.

    With ``colour_field`` (an integer index into ``suggest.PALETTE``, as the HTML map gives
    neighbouring territories different colours), one category per palette colour.
    """
    from cpts_geo.maps.styles import PALETTE

    width = round(1.5 * MM_PER_PX, 3)
    if colour_field:
        # The colour only tells neighbours apart: the legend says so (« Territoire proposé (1) »
        # read like a territory id).
        cats = [
            (str(i), f"Territoires proposés — teinte {i + 1} sur {len(PALETTE)}", c, "#222222")
            for i, c in enumerate(PALETTE)
        ]
        return qml_categorized(
            colour_field, cats, stroke_width_mm=width, fill_opacity=0.55, label_field=label_field
        )
    return qml_single_fill(PALETTE[0], "#222222", width, 0.55, label_field=label_field)


def extension_qml(label_field: str | None = None) -> str:
    """Proposed extensions of existing CPTS: orange, dashed dark red outline."""
    from cpts_geo.maps.styles import EXTENSION_STYLE

    return qml_from_leaflet(EXTENSION_STYLE, label_field=label_field)


def orphan_qml() -> str:
    """White zones no territory can take: grey, dotted dark grey outline."""
    from cpts_geo.maps.styles import ORPHAN_STYLE

    return qml_from_leaflet(ORPHAN_STYLE)


# ---- writing -----------------------------------------------------------------------------------
#: ``layer_styles`` as QGIS creates it through GDAL (QgsOgrProviderMetadata::saveStyle): GDAL
#: turns the fields QGIS declares into this DDL (widths as TEXT(n), a boolean, a datetime whose
#: default is the current time).
_STYLE_DDL = (
    'CREATE TABLE "layer_styles" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
    '"f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256), '
    '"f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, '
    '"useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30), '
    "\"update_time\" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
)
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


def _tables(con, name: str) -> bool:
    return (
        con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
        is not None
    )


def write_layer_styles(gpkg_path: str | Path, styles: Mapping[str, tuple[str, str, str]]) -> None:
    """Store a default QGIS style for each layer of a GeoPackage (in place).

    Creates the ``layer_styles`` table when missing (registered in ``gpkg_contents`` as an
    ``attributes`` table, as GDAL does for QGIS), then for each layer replaces its style of the
    same name and makes it the only default one (``useAsDefault = 1``).

    Parameters
    ----------
    gpkg_path
        An existing GeoPackage holding the layers.
    styles
        ``{layer name: (qml, sld or "", description)}``; the style is named after the layer.

    Raises
    ------
    CptsGeoError
        The file is not a GeoPackage, or a layer is not one of its feature tables (all listed).
    """
    con = sqlite3.connect(str(gpkg_path))
    try:
        if not _tables(con, "gpkg_contents"):
            raise CptsGeoError(f"{gpkg_path} : n'est pas un GeoPackage (pas de table gpkg_contents)")
        geom_col = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        # SQLite table names ignore case; so does this lookup.
        by_lower = {t.lower(): t for t in geom_col}
        missing = [n for n in styles if n.lower() not in by_lower]
        if missing:
            raise CptsGeoError(
                f"{gpkg_path} : pas de couche {', '.join(map(repr, missing))} ; "
                f"couches : {', '.join(sorted(geom_col)) or 'aucune'}"
            )
        with con:
            if not _tables(con, STYLE_TABLE):
                con.execute(_STYLE_DDL)
            if (
                con.execute(
                    "SELECT 1 FROM gpkg_contents WHERE lower(table_name)=?", (STYLE_TABLE,)
                ).fetchone()
                is None
            ):
                srs0 = con.execute("SELECT 1 FROM gpkg_spatial_ref_sys WHERE srs_id=0").fetchone()
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id)"
                    f" VALUES (?, 'attributes', ?, '', {_NOW}, ?)",
                    (STYLE_TABLE, STYLE_TABLE, 0 if srs0 else None),
                )
            for name, (qml, sld, description) in styles.items():
                table = by_lower[name.lower()]
                style_name = table[:30]
                con.execute(
                    "DELETE FROM layer_styles WHERE f_table_name=? AND styleName=?", (table, style_name)
                )
                con.execute("UPDATE layer_styles SET useAsDefault=0 WHERE f_table_name=?", (table,))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column,"
                    " styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)"
                    f" VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', NULL, {_NOW})",
                    (table, geom_col[table], style_name, qml, sld or "", description or ""),
                )
            if _tables(con, "gpkg_ogr_contents"):
                # GDAL's cached feature counts (and the triggers that keep them) for the new table.
                n = con.execute("SELECT count(*) FROM layer_styles").fetchone()[0]
                con.execute(
                    "INSERT OR REPLACE INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?, ?)",
                    (STYLE_TABLE, n),
                )
                for op, sign in (("insert", "+"), ("delete", "-")):
                    con.execute(
                        f'CREATE TRIGGER IF NOT EXISTS "trigger_{op}_feature_count_layer_styles" AFTER {op.upper()} '
                        f'ON "layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count {sign} 1 '
                        "WHERE lower(table_name) = lower('layer_styles'); END"
                    )
    finally:
        con.close()


_RESERVED = re.compile(r"^(gpkg_|rtree_|sqlite_)|^layer_styles$", re.IGNORECASE)


def _check_layers(layers: Mapping) -> None:
    problems, seen = [], set()
    for name, spec in layers.items():
        if not isinstance(name, str) or not name.strip():
            problems.append(f"nom de couche vide ou invalide : {name!r}")
            continue
        if _RESERVED.search(name):
            problems.append(f"nom de couche réservé par le GeoPackage : {name!r}")
        if name.lower() in seen:
            problems.append(f"deux couches nommées {name!r} (la casse ne compte pas)")
        seen.add(name.lower())
        gdf = spec[0]
        if getattr(gdf, "crs", None) is None:
            problems.append(f"couche {name!r} : pas de système de coordonnées (CRS)")
    if problems:
        raise CptsGeoError(" ; ".join(problems))


def _flatten(gdf):
    """Cells holding lists or sets (e.g. a territory's communes) as ``"a, b"`` text fields."""
    out = gdf
    for col in gdf.columns:
        if col == gdf.geometry.name or gdf[col].dtype != object:
            continue
        if gdf[col].map(lambda v: isinstance(v, list | tuple | set)).any():
            if out is gdf:
                out = gdf.copy()
            out[col] = gdf[col].map(
                lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple | set) else v
            )
    return out


def _as_dates(gdf):
    """Date-time columns whose values are all at midnight (a stage date) as calendar dates, so
    that the GeoPackage declares them ``DATE`` (QGIS filters and sorts them as dates)."""
    import pandas as pd
    import pyarrow as pa

    out = gdf
    for col in gdf.columns:
        if col == gdf.geometry.name or not pd.api.types.is_datetime64_any_dtype(gdf[col]):
            continue
        values = gdf[col]
        if values.dt.tz is None and (values.dropna() == values.dropna().dt.normalize()).all():
            if out is gdf:
                out = gdf.copy()
            out[col] = values.dt.date.astype(pd.ArrowDtype(pa.date32()))
    return out


def _geometry_type(gdf) -> str | None:
    kinds = set(gdf.geometry[~gdf.geometry.isna() & ~gdf.geometry.is_empty].geom_type)
    if not kinds or kinds <= {"Polygon", "MultiPolygon"}:
        return "MultiPolygon"  # also an empty layer: QGIS and our readers expect polygons
    if kinds <= {"LineString", "MultiLineString"}:
        return "MultiLineString"
    if kinds <= {"Point"}:
        return "Point"
    return None


def _check_replaced(path: Path, ours: set[str]) -> None:
    """A GeoPackage is replaced whole: refuse one that holds other layers than those written
    (the user's own layers would be lost without a word), or a file that is no GeoPackage."""
    if not path.is_file():
        return
    import pyogrio

    try:
        names = {str(n) for n, _ in pyogrio.list_layers(path)}
    except Exception:  # not a GeoPackage GDAL can read: never overwrite what it may be
        raise InputError(
            f"{path} : ce fichier existe et n'est pas un GeoPackage lisible ; rien n'a été écrit, "
            "choisissez un autre nom"
        ) from None
    others = sorted(names - ours - {STYLE_TABLE})
    if others:
        raise InputError(
            f"{path} : ce GeoPackage contient d'autres couches ({', '.join(others)}) qui seraient "
            "perdues en le remplaçant ; rien n'a été écrit, choisissez un autre fichier"
        )


def write_styled_gpkg(
    path: str | Path,
    layers: Mapping[str, tuple],
    *,
    crs=4326,
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write layers and their default QGIS styles into one GeoPackage, atomically.

    Parameters
    ----------
    path
        The ``.gpkg`` file (replaced whole; never one of ``inputs``, nor a GeoPackage holding
        other layers than these).
    layers
        ``{layer name: (GeoDataFrame, qml)}`` or ``(GeoDataFrame, qml, description)``, in the
        order QGIS should list them (the first is drawn at the bottom). Polygons are written as
        MultiPolygon; list-valued cells as comma-separated text.
    crs
        The CRS of the file (EPSG:4326 by default; e.g. 2154 for Lambert-93). Each layer must
        have a CRS.
    inputs
        Files the command read, never overwritten.

    Raises
    ------
    CptsGeoError
        A layer without CRS, a reserved or repeated layer name (all listed at once).
    InputError
        ``path`` is an input, a folder, in a missing folder, a GeoPackage with other layers or
        a file that is no GeoPackage.

    Examples
    --------
    >>> import tempfile, cpts_geo as cg
    >>> ref = cg.load_reference()
    >>> communes = ref.units.loc[["49007", "49015"], ["nom", "geometry"]].reset_index()
    >>> out = write_styled_gpkg(Path(tempfile.mkdtemp()) / "zones.gpkg",
    ...                         {"zones_blanches": (communes, white_zone_qml(), "Zones blanches")})
    >>> import pyogrio; pyogrio.list_layers(out).tolist()
    [['zones_blanches', 'MultiPolygon'], ['layer_styles', None]]
    """
    import pyogrio

    if not layers:
        raise CptsGeoError("write_styled_gpkg : aucune couche à écrire")
    _check_layers(layers)
    _check_replaced(Path(path), set(layers))

    def write(tmp: str) -> None:
        Path(tmp).unlink(missing_ok=True)  # GDAL creates the GeoPackage itself
        styles = {}
        for name, spec in layers.items():
            gdf, qml = spec[0], spec[1]
            description = spec[2] if len(spec) > 2 else ""
            frame = _as_dates(_flatten(gdf.to_crs(crs)))
            dates = any(str(t).startswith("date32") for t in frame.dtypes)
            options = {"DESCRIPTION": description} if description else {}
            with warnings.catch_warnings():  # the temp file's '.tmp' extension, renamed afterwards
                warnings.filterwarnings("ignore", message="The filename extension should be")
                warnings.filterwarnings("ignore", message=".*non conformant file extension")
                pyogrio.write_dataframe(
                    frame,
                    tmp,
                    layer=name,
                    driver="GPKG",
                    promote_to_multi=True,
                    geometry_type=_geometry_type(frame),
                    layer_options=options,
                    dataset_options={"VERSION": GPKG_VERSION},
                    # GDAL declares a DATE field only for Arrow's date type
                    use_arrow=dates,
                )
            styles[name] = (qml, "", description)
        write_layer_styles(tmp, styles)

    out = Path(path)
    if out.suffix.lower() != ".gpkg":
        raise InputError(f"{out} : un GeoPackage doit avoir l'extension .gpkg")
    return atomic_write(out, write, inputs=inputs)
