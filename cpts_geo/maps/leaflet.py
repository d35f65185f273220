"""Leaflet for self-contained HTML maps, from a pip dependency (no npm, no CDN, no network).

Leaflet's dist files (``leaflet.js``, ``leaflet.css``, ``images/*.png``) come from the PyPI
package ``django-js-lib-leaflet`` (import name ``js_lib_leaflet``), which ships them as package
data and has no dependency of its own; they are read with :mod:`importlib.resources`, so a
zipped or editable install works too. :func:`inline_tags` turns them into one ``<style>`` and
one ``<script>`` that a page embeds.

folium 0.20's templates target Leaflet 1.9.3; the package ships 1.9.4, a bugfix release of the
same API (checked in the browser by ``tests/maps/test_leaflet_assets.py``: GeoJson, tooltips, layer
control, scale, fit_bounds).

The opt-in online variant (:func:`cdn_assets`, :func:`tile_layers`) loads the same Leaflet
version from jsDelivr and adds OpenStreetMap and IGN "Plan IGN v2" basemaps with their
attributions.

Examples
--------
>>> from cpts_geo.maps.leaflet import leaflet_version, inline_tags
>>> leaflet_version()
'1.9.4'
>>> inline_tags().startswith("<style>")
True
"""

from __future__ import annotations

import base64
import functools
import re
from importlib import resources

from cpts_geo._errors import CptsGeoError
from cpts_geo.maps.static import html_tag

__all__ = [
    "LEAFLET_CDN",
    "LEAFLET_PACKAGE",
    "LEAFLET_REQUIREMENT",
    "NO_MAP_FALLBACK",
    "LeafletAssetsError",
    "add_asset",
    "cdn_assets",
    "inline_tags",
    "leaflet_version",
    "prepare_assets",
    "tile_layers",
]

#: The pip requirement that provides Leaflet (pinned in setup.cfg).
LEAFLET_REQUIREMENT = "django-js-lib-leaflet==1.9.4.1"
#: Its import name and the folder of Leaflet's dist files inside it.
LEAFLET_PACKAGE = "js_lib_leaflet"
_DIST = ("static", "js_lib_leaflet")
#: The Leaflet version of the package, loaded from jsDelivr by online maps.
CDN_VERSION = "1.9.4"
LEAFLET_CDN = f"https://cdn.jsdelivr.net/npm/leaflet@{CDN_VERSION}/dist"
#: The script put first in a map page's head (cpts_geo/maps/static): when Leaflet is missing
#: (script blocked, file removed) or the map script fails, each map container shows a French
#: message instead of a white box.
NO_MAP_FALLBACK = "no-map-fallback.js"

_INSTALL_HINT = f"réinstallez cpts-geo ou installez le paquet : pip install '{LEAFLET_REQUIREMENT}'"


class LeafletAssetsError(CptsGeoError):
    """Leaflet's files, shipped by the ``django-js-lib-leaflet`` dependency, are missing or broken."""


def _dist():
    """The Traversable folder holding leaflet.js, leaflet.css and images/."""
    try:
        root = resources.files(LEAFLET_PACKAGE)
    except ModuleNotFoundError:
        raise LeafletAssetsError(
            f"cartes impossibles : le paquet Python {LEAFLET_REQUIREMENT.split('==')[0]}, qui fournit "
            f"la bibliothèque cartographique Leaflet, n'est pas installé ; {_INSTALL_HINT}"
        ) from None
    dist = root.joinpath(*_DIST)
    missing = [name for name in ("leaflet.js", "leaflet.css") if not dist.joinpath(name).is_file()]
    if missing:
        raise LeafletAssetsError(
            f"cartes impossibles : le paquet {LEAFLET_PACKAGE} est incomplet ({', '.join(missing)} "
            f"absent de {dist}) ; {_INSTALL_HINT}"
        )
    return dist


def _read_text(name: str) -> str:
    try:
        return _dist().joinpath(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LeafletAssetsError(
            f"cartes impossibles : lecture de {name} du paquet {LEAFLET_PACKAGE} impossible "
            f"({exc.__class__.__name__}: {exc}) ; {_INSTALL_HINT}"
        ) from None


@functools.cache
def leaflet_version() -> str:
    """The version of the Leaflet shipped by the dependency, read from leaflet.js's header.

    Raises
    ------
    LeafletAssetsError
        When the package is missing or its leaflet.js has no recognisable header.
    """
    head = _read_text("leaflet.js")[:400]
    match = re.search(r"\bLeaflet (\d+\.\d+\.\d+)\b", head)
    if not match:
        raise LeafletAssetsError(
            f"cartes impossibles : leaflet.js du paquet {LEAFLET_PACKAGE} ne porte pas de numéro de "
            f"version Leaflet (début du fichier : {head[:60]!r}) ; {_INSTALL_HINT}"
        )
    return match.group(1)


def _png_data_uri(name: str) -> str:
    img = _dist().joinpath("images", name)
    if not img.is_file():
        raise LeafletAssetsError(
            f"cartes impossibles : images/{name} absent du paquet {LEAFLET_PACKAGE} ; {_INSTALL_HINT}"
        )
    return "data:image/png;base64," + base64.b64encode(img.read_bytes()).decode("ascii")


@functools.cache
def inline_tags() -> str:
    """Leaflet as a ``<style>`` and a ``<script>`` to put in a page's ``<head>``.

    The CSS's ``url(images/...)`` become data: URIs; the default marker icon (which Leaflet
    would otherwise look for next to the page) is set to data: URIs too; ``</script`` inside the
    JS is escaped. The result needs no file and no network.

    Raises
    ------
    LeafletAssetsError
        When the package is missing or incomplete.
    """
    leaflet_version()  # fails early, with the install hint, on a broken package
    css = re.sub(
        r"url\(\s*(['\"]?)images/([\w.-]+)\1\s*\)",
        lambda m: f"url({_png_data_uri(m.group(2))})",
        _read_text("leaflet.css"),
    )
    js = re.sub(r"</(script)", r"<\\/\1", _read_text("leaflet.js"), flags=re.I)
    icons = (
        "L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({"
        f"iconUrl:'{_png_data_uri('marker-icon.png')}',"
        f"iconRetinaUrl:'{_png_data_uri('marker-icon-2x.png')}',"
        f"shadowUrl:'{_png_data_uri('marker-shadow.png')}'}});"
    )
    return f"<style>{css}</style>\n<script>{js}\n{icons}</script>"


def cdn_assets() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """folium ``(default_js, default_css)`` loading Leaflet from jsDelivr (online maps only)."""
    return ([("leaflet", f"{LEAFLET_CDN}/leaflet.js")], [("leaflet_css", f"{LEAFLET_CDN}/leaflet.css")])


def tile_layers() -> list[dict]:
    """Arguments of :class:`folium.TileLayer` for the basemaps of online maps.

    OpenStreetMap (shown first) and the IGN Géoplateforme's "Plan IGN v2" (WMTS, Web Mercator
    tile matrix "PM", read as XYZ tiles), each with its attribution and a French name for the
    layer control.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> for kw in tile_layers():
    ...     _ = folium.TileLayer(**kw).add_to(m)
    """
    return [
        {
            "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "attr": (
                '&copy; les contributeurs d\'<a href="https://www.openstreetmap.org/copyright">'
                "OpenStreetMap</a>"
            ),
            "name": "Fond OpenStreetMap",
            "max_zoom": 19,
            "overlay": False,
            "control": True,
            "show": True,
        },
        {
            "tiles": (
                "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM"
                "&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
            ),
            "attr": '&copy; <a href="https://www.ign.fr/">IGN</a> – Géoplateforme (Plan IGN v2)',
            "name": "Fond Plan IGN",
            "min_zoom": 0,
            "max_zoom": 19,
            "overlay": False,
            "control": True,
            "show": False,
        },
    ]


def add_asset(m, name: str, *, first: bool = False) -> None:
    """Put the shipped script or style sheet ``name`` (:mod:`cpts_geo.maps.static`) in the head
    of map ``m``'s page, once however many times it is asked for (``first``: before anything
    else in the head).

    The text goes into the page as it is: branca does not read it as a template, so the file
    needs no escaping of its braces.
    """
    from branca.element import Element

    class _Verbatim(Element):
        def render(self, **kwargs) -> str:
            return html_tag(name)

    root = m.get_root()
    key = "cpts_asset_" + name
    if key not in root.header._children:
        root.header.add_child(_Verbatim(), name=key, index=0 if first else None)


def prepare_assets(m, *, online: bool = False) -> None:
    """Replace folium's default assets of map ``m`` by Leaflet alone, inline or (``online``) CDN.

    folium's other defaults (jQuery, Bootstrap, awesome-markers, Font Awesome) are not used by
    cpts-geo's maps and would need the network. ``no-map-fallback.js`` (when Leaflet is missing
    or the map script fails, each map shows a French message instead of a white box) is put
    first in the header either way.
    """
    from branca.element import Element

    root = m.get_root()
    add_asset(m, NO_MAP_FALLBACK, first=True)
    if online:
        m.default_js, m.default_css = cdn_assets()
    else:
        m.default_js, m.default_css = [], []
        root.header.add_child(Element(inline_tags()), name="leaflet_inline")
