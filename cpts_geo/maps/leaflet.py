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

__all__ = [
    "LEAFLET_CDN",
    "LEAFLET_PACKAGE",
    "LEAFLET_REQUIREMENT",
    "NO_MAP_FALLBACK",
    "LeafletAssetsError",
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


#: Put first in a map page's <head>: when Leaflet is missing (script blocked, file removed) or
#: the map script fails, each map container shows a French message instead of a white box.
NO_MAP_FALLBACK = """<script>(function(){
var errs=[];
window.addEventListener('error',function(e){errs.push(String((e&&e.message)||'erreur inconnue'));});
function say(div,text,banner){
  var box=document.createElement('div');box.className='cpts-carte-erreur';box.setAttribute('role','alert');
  box.textContent=text;
  box.style.cssText='box-sizing:border-box;padding:12px 16px;margin:0;font:14px/1.4 system-ui,Arial,'
    +'sans-serif;color:#7a1f1f;background:#fdecea;border:1px solid #e0b4b4;z-index:10000;'
    +(banner?'position:absolute;top:0;left:0;right:0;':'position:relative;max-width:36em;border-radius:6px;');
  if(banner){div.appendChild(box);return;}
  // In the middle of the map's box, clear of the panels pinned to the page's edges.
  div.textContent='';div.style.display='flex';div.style.alignItems='center';div.style.justifyContent='center';
  div.style.minHeight='8em';div.appendChild(box);
}
window.addEventListener('load',function(){
  var maps=document.querySelectorAll('.folium-map');
  var why=typeof L==='undefined'
    ?'la bibliothèque cartographique Leaflet n\\u2019a pas été chargée (fichier absent ou accès réseau bloqué).'
    :(errs.length?'erreur du script de la carte (« '+errs[0]+' »).':'');
  for(var i=0;i<maps.length;i++){
    var div=maps[i];var drawn=div.classList.contains('leaflet-container');
    if(!drawn){say(div,'La carte n\\u2019a pas pu être affichée : '+(why||'la carte n\\u2019a pas été créée.'),false);}
    else if(errs.length){say(div,'La carte peut être incomplète : '+why,true);}
  }
});
})();</script>"""


def prepare_assets(m, *, online: bool = False) -> None:
    """Replace folium's default assets of map ``m`` by Leaflet alone, inline or (``online``) CDN.

    folium's other defaults (jQuery, Bootstrap, awesome-markers, Font Awesome) are not used by
    cpts-geo's maps and would need the network. :data:`NO_MAP_FALLBACK` is added first in the
    header either way.
    """
    from branca.element import Element

    root = m.get_root()
    root.header.add_child(Element(NO_MAP_FALLBACK), name="cpts_no_map_fallback", index=0)
    if online:
        m.default_js, m.default_css = cdn_assets()
    else:
        m.default_js, m.default_css = [], []
        root.header.add_child(Element(inline_tags()), name="leaflet_inline")
