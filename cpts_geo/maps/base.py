"""folium plumbing for every map: Leaflet assets, rendering, escaping, legend, layers.

Nothing here knows about CPTS: :mod:`cpts_geo.maps` builds the maps from these parts.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import geopandas as gpd

from cpts_geo._errors import CptsGeoError
from cpts_geo.maps import leaflet as _leaflet

__all__ = [
    "LEAFLET_CDN",
    "LEAFLET_VERSION",
    "add_basemaps",
    "add_hatch_pattern",
    "add_map_chrome",
    "add_script",
    "add_shared_hatch_pattern",
    "call_script",
    "add_territory_layer",
    "choropleth_layer_class",
    "escape_html",
    "external_resources",
    "get_legend",
    "json_for_script",
    "macro",
    "prepare_assets",
    "render_map",
    "save_map",
    "swatch",
]

log = logging.getLogger(__name__)

#: The Leaflet version embedded in every map (from the pip package django-js-lib-leaflet).
LEAFLET_VERSION = _leaflet.CDN_VERSION
LEAFLET_CDN = _leaflet.LEAFLET_CDN


def prepare_assets(m, online: bool = False) -> None:
    """Keep only Leaflet among folium's default assets (jQuery, Bootstrap, awesome-markers and
    Font Awesome are not used): embedded from the pip package by default (the page needs no
    network), from the CDN when ``online``; the French no-map message is added either way
    (:func:`cpts_geo.maps.leaflet.prepare_assets`)."""
    _leaflet.prepare_assets(m, online=online)
    m._cpts_offline = not online


def add_basemaps(m) -> None:
    """The OpenStreetMap and Plan IGN basemaps of online maps, with their attributions."""
    import folium

    for kw in _leaflet.tile_layers():
        folium.TileLayer(**kw).add_to(m)


#: What a page would load from the network: elements with a remote src/href/data, CSS url() and
#: @import of a remote file (links the user clicks, <a href>, are not loads).
_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe|frame|embed|object|source|audio|video|track|image|use)\b[^>]*?"
    r"\b(?:src|href|data|srcset|xlink:href)\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>"
    r"|url\(\s*[\"']?\s*(?:https?:)?//[^)]*\)"
    r"|@import\s+(?:url\()?\s*[\"']?\s*(?:https?:)?//[^;]*",
    re.I,
)


def external_resources(page: str) -> list[str]:
    """The remote files an HTML page would load (script, stylesheet, image, CSS url/@import)."""
    return [m.group(0)[:200] for m in _EXTERNAL.finditer(page)]


def render_map(m) -> str:
    """The map as one HTML page.

    Raises
    ------
    CptsGeoError
        When a self-contained map (the default, not ``online``) would still load something from
        the network (an element added to the map that brings its own CDN assets).
    """
    page = m.get_root().render()
    if getattr(m, "_cpts_offline", False):
        found = external_resources(page)
        if found:
            raise CptsGeoError(
                "carte autonome : des éléments de la carte chargent encore des fichiers du réseau : "
                + " ; ".join(found[:5])
            )
    return page


def save_map(m, path, *, inputs=()) -> Path:
    """Write the map to ``path`` (HTML, atomically, never over one of ``inputs``)."""
    from cpts_geo._io import atomic_write_text

    return atomic_write_text(path, render_map(m), inputs=inputs)


# ---- map elements ----------------------------------------------------------------------------
def escape_html(value) -> str:
    """Text for a map's HTML (tooltips, popups, legend, panels): HTML-escaped, and with ``{``
    written ``&#123;``.

    The braces matter: branca compiles the output of every map element as a Jinja template
    when the page is rendered, so a name such as ``{{ 7*7 }}`` in a register would otherwise
    be evaluated (template injection), and ``{#`` or ``{%`` would break the rendering.
    """
    return html.escape("" if value is None else str(value), quote=True).replace("{", "&#123;")


_esc = escape_html


def swatch(style: Mapping) -> str:
    """The legend sample of a Leaflet path style: its fill (hatching for a pattern; none for an
    outline-only style) and its border, dashed when the path is."""
    fill = str(style.get("fillColor", style.get("color", "#999")))
    if fill.startswith("url("):
        bg = "background:repeating-linear-gradient(45deg,#737373 0 2px,#d9d9d9 2px 6px);"
    else:
        bg = f"background:{fill};opacity:{max(float(style.get('fillOpacity', 0.6)), 0.35)};"
    line = "dashed" if style.get("dashArray") else "solid"
    border = f"border:{min(float(style.get('weight', 1)), 3)}px {line} {style.get('color', '#333')};"
    if not style.get("fill", True) or float(style.get("fillOpacity", 0.6)) == 0:
        bg = "background:transparent;"
    return f'<i class="cpts-swatch" style="{bg}{border}"></i>'


def macro(template: str):
    """A branca MacroElement rendering ``template`` (compiled once per template)."""
    return _macro_class(template)()


@functools.cache
def _macro_class(template: str):
    from branca.element import MacroElement
    from jinja2 import Template

    class _Element(MacroElement):
        _template = Template(template)

    return _Element


class _Legend:
    """Legend entries kept on the map until it is rendered (others may add entries)."""

    def __init__(self, m):
        self.sections: list[tuple[str, list[tuple[str, str]]]] = []
        _leaflet.add_asset(m, "maps.css")
        self.element = macro(
            '{% macro html(this, kwargs) %}<div class="cpts-panel cpts-legend" id="cpts-legende">'
            "<details open><summary>Légende</summary>{{ this.legend.html() }}</details></div>"
            "{% endmacro %}"
        )
        self.element.legend = self
        m.get_root().add_child(self.element, name="cpts_legend")

    def add(self, section: str, label: str, style: Mapping | str) -> None:
        """Add an entry (``label`` is escaped; ``style`` a Leaflet path style or swatch HTML)."""
        sample = style if isinstance(style, str) else swatch(style)
        for name, entries in self.sections:
            if name == section:
                entries.append((label, sample))
                return
        self.sections.append((section, [(label, sample)]))

    def html(self) -> str:
        parts = []
        for name, entries in self.sections:
            parts.append(f"<div><b>{_esc(name)}</b></div>")
            parts += [f"<div>{sw}{_esc(label)}</div>" for label, sw in entries]
        return "".join(parts)


def get_legend(m) -> _Legend:
    """The legend of a map made by this module (created on first use); ``add(section, label,
    style)`` adds an entry."""
    legend = getattr(m, "_cpts_legend", None)
    if legend is None:
        legend = m._cpts_legend = _Legend(m)
    return legend


_JINJA_START = re.compile(r"\{(?=[{%#])")


def json_for_script(obj) -> str:
    """JSON safe to embed in a <script> element (no '<', '>' or '&' left as such)."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # No Jinja delimiter either (see escape_html): '{{', '{%' and '{#' only occur inside strings.
    return _JINJA_START.sub(r"\\u007b", s)


@functools.cache
def _compact_geojson_class():
    import folium
    from folium.map import Layer
    from jinja2 import Template

    class CompactGeoJson(folium.GeoJson):
        """folium.GeoJson written without spaces in its JSON (a tenth of a map's size)."""

        def render(self, **kwargs):
            policies = self._template.environment.policies
            old = policies["json.dumps_kwargs"]
            policies["json.dumps_kwargs"] = {
                "sort_keys": False,
                "separators": (",", ":"),
                "ensure_ascii": False,
            }
            try:
                super().render(**kwargs)
            finally:
                policies["json.dumps_kwargs"] = old

    class ChoroplethLayer(Layer):
        """Share of the population covered, drawn from another layer's features (the
        départements) so that their boundaries are written once in the page."""

        _template = Template(
            "{% macro script(this, kwargs) %}"
            "var {{ this.get_name() }}=cptsGeo.choropleth({{ this.source.get_name() }});"
            "{% endmacro %}"
        )

        def __init__(self, source, *, name: str, show: bool = False):
            super().__init__(name=_esc(name), overlay=True, control=True, show=show)
            self._name = "ChoroplethLayer"
            self.source = source

        def render(self, **kwargs):
            add_script(self.get_root(), "maps.js")
            super().render(**kwargs)

    return CompactGeoJson, ChoroplethLayer


def choropleth_layer_class():
    """The folium Layer class of the share-covered choropleth (drawn from another layer's features)."""
    return _compact_geojson_class()[1]


def add_territory_layer(
    m,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    fields: Mapping[str, str],
    style: Mapping | Callable[[dict], dict],
    class_name: str = "cpts-couche",
    show: bool = True,
    interactive: bool = True,
    legend: Iterable[tuple[str, Mapping | str]] = (),
    legend_section: str | None = None,
    highlight: bool = True,
):
    """Add a layer of polygons (e.g. dissolved territories) to a folium map.

    Parameters
    ----------
    m
        A folium map (e.g. from :func:`coverage_map`).
    gdf
        EPSG:4326 polygons; its columns named in ``fields`` are shown in the tooltip. Values are
        HTML-escaped here: pass raw text.
    name
        The layer's name in the layer control (French).
    fields
        Column -> French label, in tooltip order.
    style
        A Leaflet path style (dict), or a function of a feature's properties returning one (it
        may read any column of ``gdf``, escaped).
    class_name
        CSS class put on each drawn path (tests count them with it).
    legend
        ``(label, style)`` entries added to the map's legend, under ``legend_section`` (default
        ``name``).

    Returns
    -------
    folium.GeoJson
        The layer, already added to ``m``.
    """
    import folium

    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    escaped = gdf.copy()
    for c in gdf.columns:
        if c != gdf.geometry.name:
            escaped[c] = [_esc(v) for v in gdf[c]]
    data = escaped.reset_index(drop=True).to_geo_dict(drop_id=False)  # features with ids 0..n-1
    features = data["features"]
    style_fn = style if callable(style) else (lambda _f, _s=dict(style): _s)
    tooltip = None
    if fields and len(features):
        tooltip = folium.GeoJsonTooltip(
            fields=list(fields),
            aliases=[f"{_esc(a)}{' :' if a else ''}" for a in fields.values()],
            sticky=True,
            localize=False,
            labels=True,
        )
    compact_geojson, _ = _compact_geojson_class()
    layer = compact_geojson(
        data,
        name=_esc(name),
        style_function=lambda f: style_fn(f["properties"]),
        highlight_function=(lambda f: {"weight": 3, "fillOpacity": 0.8})
        if highlight and interactive
        else None,
        tooltip=tooltip if interactive else None,
        show=show,
        interactive=interactive,
        className=class_name,
        smooth_factor=0.5,
    )
    layer.add_to(m)
    for label, st in legend:
        get_legend(m).add(legend_section or name, label, st)
    return layer


def add_script(m, name: str):
    """Put the shipped script ``name`` (e.g. ``"maps.js"``, :mod:`cpts_geo.maps.static`) in the
    head of ``m``'s page, once."""
    _leaflet.add_asset(m, name)


def call_script(m, name: str, function: str, *args, key: str, with_map: bool = True) -> None:
    """Add to map ``m``'s script the one-line call of ``function`` (e.g. ``"cptsGeo.zones"``),
    defined by the shipped script ``name`` (put in the page's head once).

    The call's arguments are the map object (unless ``with_map`` is false) and ``args`` as JSON
    (:func:`json_for_script`): data goes to the page's scripts as arguments, never templated
    into their code.
    """
    add_script(m, name)
    el = macro(
        "{% macro script(this, kwargs) %}{{ this.function }}("
        "{% if this.with_map %}{{ this._parent.get_name() }}{% if this.args %},{% endif %}{% endif %}"
        "{{ this.args | join(',') }});{% endmacro %}"
    )
    el.function = function
    el.with_map = with_map
    el.args = [json_for_script(v) for v in args]
    m.add_child(el, name=key)


def add_map_chrome(m) -> None:
    """A metric scale (no miles), and tooltips drawn above the page's panels (title, figures,
    legend) instead of under them (``cptsGeo.chrome`` of ``maps.js``)."""
    call_script(m, "maps.js", "cptsGeo.chrome", key="cpts_chrome")


#: The SVG hatchings of the white zones (fill 'url(#cpts-hachures)') and of the communes declared
#: shared (fill 'url(#cpts-hachures-partagees)').
_HATCHES = {
    "cpts_hatch": {
        "id": "cpts-hachures",
        "size": 7,
        "angle": 45,
        "fill": "#e0e0e0",
        "stroke": "#8a8a8a",
        "width": 2.2,
    },
    "cpts_shared_hatch": {
        "id": "cpts-hachures-partagees",
        "size": 8,
        "angle": -45,
        "fill": "#e7d4e8",
        "stroke": "#7b3294",
        "width": 2.5,
    },
}


def add_hatch_pattern(m) -> None:
    """Define the SVG hatching used by the white zones (fill 'url(#cpts-hachures)')."""
    call_script(m, "maps.js", "cptsGeo.hatch", _HATCHES["cpts_hatch"], key="cpts_hatch")


def add_shared_hatch_pattern(m) -> None:
    """Define the SVG hatching of the communes declared shared (fill 'url(#cpts-hachures-partagees)')."""
    call_script(m, "maps.js", "cptsGeo.hatch", _HATCHES["cpts_shared_hatch"], key="cpts_shared_hatch")
