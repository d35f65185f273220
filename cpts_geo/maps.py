"""Coverage maps: folium (Leaflet) HTML maps and static matplotlib figures, in French.

The boundaries drawn come from one *coverage* of the units: every unit of the map is labelled by
what covers it (its département, the CPTS that include it, and any extra layer's territories);
units with the same label are dissolved into an *atom* with :func:`shapely.coverage_union_all`;
the atoms are simplified together with :func:`shapely.coverage_simplify` in the zone's projected
CRS, so that neighbours keep exactly the same shared boundary; every layer (CPTS, white zones,
overlaps, départements, régions, extra territories) is then a union of atoms. No gap or sliver
can open between two neighbouring polygons, whatever the layer they belong to.

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.maps import coverage_map, save_map
>>> ref = cg.load_reference()
>>> from cpts_geo.inputs import read_register
>>> m = coverage_map(ref, read_register("registre.csv", ref), region="52")  # doctest: +SKIP
>>> save_map(m, "carte.html")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import CptsGeoError
from .coverage import (
    DEFAULT_GOAL,
    NOTE_MULTI,
    STAGE_LABELS,
    coverage_summary,
    coverage_table,
    cpts_table,
    resolve_scope,
)
from .reference import METRO_EPSG, ZONE_EPSG, Reference

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
    "territory_map",
]

log = logging.getLogger(__name__)

#: The Leaflet version folium's templates are written for (fetched from npm for --offline).
LEAFLET_VERSION = "1.9.3"
LEAFLET_CDN = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist"

#: Fill colour of each stage of the Atlas des CPTS (from project to signed contract).
STAGE_COLORS = {
    "pre-projet": "#fdae61",
    "lettre-intention": "#fee08b",
    "projet-sante": "#a6d96a",
    "aci": "#1a9850",
    "": "#b39ddb",
}
WHITE_STYLE = {
    "color": "#737373", "weight": 0.6, "fillColor": "url(#cpts-hachures) #d9d9d9", "fillOpacity": 0.8,
}
OVERLAP_STYLE = {"color": "#d7191c", "weight": 2.5, "fillColor": "#d7191c", "fillOpacity": 0.45}
#: Choropleth classes of the share of the population covered (upper bounds) and their colours.
SHARE_CLASSES = [(0.5, "#eff3ff"), (0.7, "#c6dbef"), (0.8, "#9ecae1"), (0.9, "#6baed6"),
                 (0.95, "#3182bd"), (1.0001, "#08519c")]

#: Simplification tolerance (metres, in the zone's projected CRS) and coordinate decimals, by
#: extent of the map. 10^-3 degree is about 110 m x 75 m; 10^-4 about 11 m.
DETAIL = {"national": (500.0, 3), "region": (120.0, 4), "departement": (50.0, 4)}


class MapAssetsMissingError(CptsGeoError):
    """The local copy of Leaflet needed by ``--offline`` maps is missing and could not be fetched."""


# ---- offline assets ----------------------------------------------------------------------------
_FETCH_HINT = (
    "récupérez-le depuis le registre npm avec `cpts-geo fetch-map-assets` (npm requis ; "
    "`python scripts/fetch_map_assets.py` dans le dépôt fait de même), "
    "ou indiquez son dossier dans CPTS_GEO_MAP_ASSETS"
)


def map_assets_dir() -> Path:
    """Folder holding ``leaflet-<version>/`` (fetched by :func:`fetch_map_assets`).

    ``$CPTS_GEO_MAP_ASSETS`` if set; else, in a source checkout, ``.cache/map-assets`` of the
    checkout (git-ignored); else ``$XDG_CACHE_HOME/cpts-geo/map-assets`` (default
    ``~/.cache/cpts-geo/map-assets``).
    """
    env = os.environ.get("CPTS_GEO_MAP_ASSETS")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "cpts_geo" / "maps.py").is_file():
        return root / ".cache" / "map-assets"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "cpts-geo" / "map-assets"


def _leaflet_dir(dest: Path | None = None) -> Path:
    return (map_assets_dir() if dest is None else Path(dest)) / f"leaflet-{LEAFLET_VERSION}"


def _assets_complete(root: Path) -> bool:
    return all((root / name).is_file() for name in ("leaflet.js", "leaflet.css", "SOURCE.json"))


def fetch_map_assets(dest: str | Path | None = None, *, force: bool = False) -> Path:
    """Fetch Leaflet from the npm registry for ``--offline`` maps; return its folder.

    Runs ``npm pack leaflet@<LEAFLET_VERSION>`` (npm checks the tarball against the registry's
    integrity hash) and extracts ``dist/leaflet.js``, ``dist/leaflet.css``, ``dist/images/*.png``
    and the licence into ``<dest>/leaflet-<version>/`` with a ``SOURCE.json`` recording the
    package, version and integrity. Nothing is done when the files are already there (unless
    ``force``). Needs ``npm`` and access to the registry once; the files are never committed.

    Parameters
    ----------
    dest
        Parent folder; default :func:`map_assets_dir`.
    force
        Fetch again even when present.

    Raises
    ------
    MapAssetsMissingError
        When npm is not installed or the package cannot be fetched.
    """
    import json as _json
    import shutil
    import subprocess
    import tarfile
    import tempfile

    target = _leaflet_dir(None if dest is None else Path(dest))
    if _assets_complete(target) and not force:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise MapAssetsMissingError(
            f"Leaflet {LEAFLET_VERSION} introuvable dans {target} et npm n'est pas installé : "
            "installez Node.js/npm (Debian : apt-get install npm), ou copiez leaflet.js, leaflet.css "
            "et images/ du paquet npm leaflet dans ce dossier"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".leaflet-", dir=target.parent) as tmp:
        try:
            out = subprocess.run(
                [npm, "pack", f"leaflet@{LEAFLET_VERSION}", "--json", "--pack-destination", tmp],
                check=True, capture_output=True, text=True, timeout=300,
            )
            info = _json.loads(out.stdout)[0]
        except (subprocess.SubprocessError, OSError, ValueError, IndexError, KeyError) as exc:
            detail = (getattr(exc, "stderr", "") or str(exc)).strip().splitlines()
            raise MapAssetsMissingError(
                f"npm pack leaflet@{LEAFLET_VERSION} a échoué ({detail[-1] if detail else type(exc).__name__}) ; "
                "vérifiez l'accès au registre npm (npm config get registry)"
            ) from None
        staging = Path(tmp) / "staging"
        staging.mkdir()
        with tarfile.open(Path(tmp) / info["filename"]) as tar:
            for member in tar.getmembers():
                name = member.name
                if not member.isfile():
                    continue
                if name in ("package/dist/leaflet.js", "package/dist/leaflet.css") or (
                        name.startswith("package/dist/images/") and name.endswith(".png")):
                    rel = Path(name).relative_to("package/dist")
                elif name == "package/LICENSE":
                    rel = Path("LICENSE")
                else:
                    continue
                path = staging / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(tar.extractfile(member).read())
        head = (staging / "leaflet.js").read_text(encoding="utf-8")[:300]
        if f"Leaflet {LEAFLET_VERSION}" not in head:
            raise MapAssetsMissingError(f"npm pack leaflet@{LEAFLET_VERSION} : leaflet.js inattendu ({head[:80]!r})")
        (staging / "SOURCE.json").write_text(_json.dumps(
            {"package": info["name"], "version": info["version"], "registry": "npm",
             "integrity": info.get("integrity"), "shasum": info.get("shasum")}, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    log.info("Leaflet %s (npm, %s) -> %s", LEAFLET_VERSION, info.get("integrity", ""), target)
    return target


def _leaflet_inline() -> str:
    """Leaflet's JS and CSS (its images as data: URIs), as <script>/<style> tags."""
    root = _leaflet_dir()
    js, css = root / "leaflet.js", root / "leaflet.css"
    if not (js.exists() and css.exists()):
        raise MapAssetsMissingError(
            f"carte hors ligne impossible : Leaflet {LEAFLET_VERSION} introuvable dans {root} ; "
            f"{_FETCH_HINT} ; ou retirez --offline"
        )

    def data_uri(match: re.Match) -> str:
        img = root / "images" / match.group(1)
        if not img.exists():
            return "url(data:,)"
        return f"url(data:image/png;base64,{base64.b64encode(img.read_bytes()).decode()})"

    style = re.sub(r"url\((?:['\"])?images/([\w.-]+)(?:['\"])?\)", data_uri, css.read_text(encoding="utf-8"))
    script = js.read_text(encoding="utf-8").replace("</script", "<\\/script")
    return f"<style>{style}</style>\n<script>{script}</script>"


def _prepare_assets(m, offline: bool) -> None:
    """Keep only Leaflet among folium's default assets (jQuery, Bootstrap, awesome-markers and
    Font Awesome are not used); inline it when ``offline``."""
    from branca.element import Element

    if offline:
        m.default_js, m.default_css = [], []
        m.get_root().header.add_child(Element(_leaflet_inline()), name="leaflet_inline")
    else:
        m.default_js = [("leaflet", f"{LEAFLET_CDN}/leaflet.js")]
        m.default_css = [("leaflet_css", f"{LEAFLET_CDN}/leaflet.css")]
    m._cpts_offline = offline


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
        When an offline map would still load something from the network (an element added to
        the map that brings its own CDN assets).
    """
    page = m.get_root().render()
    if getattr(m, "_cpts_offline", False):
        found = external_resources(page)
        if found:
            raise CptsGeoError(
                "carte hors ligne : des éléments de la carte chargent encore des fichiers du réseau : "
                + " ; ".join(found[:5])
            )
    return page


def save_map(m, path, *, inputs=()) -> Path:
    """Write the map to ``path`` (HTML, atomically, never over one of ``inputs``)."""
    from ._io import atomic_write_text

    return atomic_write_text(path, render_map(m), inputs=inputs)


# ---- geometry --------------------------------------------------------------------------------
def _zone_epsg(dep: str) -> int:
    return ZONE_EPSG.get(dep, METRO_EPSG)


@dataclass
class _Atoms:
    """Units dissolved by label and simplified together (see the module docstring)."""

    geometry: np.ndarray  # EPSG:4326, simplified
    label: list  # one label per atom (a tuple)
    departement: np.ndarray
    decimals: int

    def union(self, keys: Mapping[object, np.ndarray]) -> dict:
        """For each key, the union of the atoms at the given positions (rounded)."""
        out = {}
        for key, idx in keys.items():
            geoms = self.geometry[np.asarray(idx, dtype=np.int64)]
            geoms = geoms[~shapely.is_empty(geoms)]
            out[key] = self._round(shapely.coverage_union_all(geoms)) if len(geoms) else None
        return out

    def _round(self, geom):
        d = self.decimals
        g = shapely.transform(geom, lambda c: np.round(c, d))
        if shapely.is_valid(g):
            return g
        # Rounding pinched a thin part: snap-round this polygon instead (GEOS keeps it valid, on
        # the same grid), keeping only the polygonal pieces.
        g = shapely.set_precision(geom, 10.0 ** -d)
        if shapely.get_type_id(g) == 7:  # GeometryCollection
            parts = shapely.get_parts(g)
            parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
            g = shapely.multipolygons(shapely.get_parts(parts)) if len(parts) else None
        if g is None or g.is_empty:
            return None
        return shapely.transform(g, lambda c: np.round(c, d))  # the grid's shortest decimals


def _atoms(ref: Reference, codes: pd.Index, labels: list[tuple], tolerance_m: float, decimals: int) -> _Atoms:
    """Dissolve the units ``codes`` by ``labels`` (one per unit) within each département, then
    simplify the atoms of each zone together in its projected CRS."""
    units = ref.units.loc[codes]
    deps = units["departement"].to_numpy()
    keys = pd.Series([(d, lab) for d, lab in zip(deps, labels)], dtype=object)
    geom = units.geometry.to_numpy()
    ok = ~(pd.isna(geom) | shapely.is_empty(geom))
    codes_f, uniq = pd.factorize(keys[ok], sort=False)
    order = np.argsort(codes_f, kind="stable")
    bounds = np.r_[0, np.flatnonzero(np.diff(codes_f[order])) + 1, len(codes_f)] if len(codes_f) else [0]
    g_ok = geom[ok]
    dissolved = np.array(
        [shapely.coverage_union_all(g_ok[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])], dtype=object
    )
    atom_dep = np.array([k[0] for k in uniq], dtype=object)
    out = np.empty(len(dissolved), dtype=object)
    for epsg in sorted({_zone_epsg(d) for d in atom_dep}):
        sel = np.array([_zone_epsg(d) == epsg for d in atom_dep])
        projected = gpd.GeoSeries(dissolved[sel], crs=4326).to_crs(epsg).to_numpy()
        simple = shapely.coverage_simplify(projected, tolerance_m) if tolerance_m > 0 else projected
        out[sel] = gpd.GeoSeries(simple, crs=epsg).to_crs(4326).to_numpy()
    return _Atoms(out, [k[1] for k in uniq], atom_dep, decimals)


def dissolve(
    ref: Reference,
    membership: pd.DataFrame | pd.Series | Mapping[str, Iterable[str]],
    *,
    within: Iterable[str] | None = None,
    tolerance_m: float = 0.0,
    decimals: int = 6,
) -> gpd.GeoDataFrame:
    """Dissolve units into one polygon per group, simplified as one coverage.

    Parameters
    ----------
    ref
        The reference.
    membership
        Which units make each group: a DataFrame with columns ``group`` and ``code_insee`` (a
        unit may be in several groups), a Series unit code -> group, or a mapping group ->
        unit codes.
    within
        Département codes whose other units are part of the coverage simplified with the groups
        (so that the groups' outer boundaries match their neighbours'); default: only the
        départements the groups touch.
    tolerance_m
        :func:`shapely.coverage_simplify` tolerance in metres (0: no simplification).
    decimals
        Decimals kept in the coordinates (degrees).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, indexed by group (in first-seen order), with ``n_units`` and ``population``.
    """
    pairs = _membership_pairs(membership)
    pairs = pairs[ref.units.index.get_indexer(pairs["code_insee"].to_numpy(dtype=object)) >= 0]
    deps = set(ref.units.loc[pairs["code_insee"], "departement"])
    if within is not None:
        deps |= set(within)
    codes = ref.units.index[ref.units["departement"].isin(deps)]
    by_unit = pairs.groupby("code_insee", sort=False)["group"].agg(lambda s: tuple(sorted(set(s), key=str)))
    labels = [by_unit.get(c, ()) for c in codes]
    atoms = _atoms(ref, codes, labels, tolerance_m, decimals)
    groups = list(dict.fromkeys(pairs["group"]))
    where = _positions(atoms.label)
    geoms = atoms.union({g: where.get(g, []) for g in groups})
    stats = pairs.assign(population=ref.units.loc[pairs["code_insee"], "population"].to_numpy())
    stats = stats.drop_duplicates(["group", "code_insee"]).groupby("group", sort=False)
    return gpd.GeoDataFrame(
        {
            "n_units": stats.size().reindex(groups).to_numpy(),
            "population": stats["population"].sum().reindex(groups).to_numpy(),
        },
        geometry=[geoms[g] for g in groups],
        index=pd.Index(groups, name="group"),
        crs=4326,
    )


def _membership_pairs(membership) -> pd.DataFrame:
    if isinstance(membership, pd.DataFrame):
        return membership[["group", "code_insee"]].astype({"code_insee": str}).reset_index(drop=True)
    if isinstance(membership, pd.Series):
        return pd.DataFrame({"group": membership.to_numpy(), "code_insee": membership.index.astype(str)})
    rows = [(g, str(c)) for g, codes in membership.items() for c in codes]
    return pd.DataFrame(rows, columns=["group", "code_insee"])


def _positions(labels: list[tuple]) -> dict:
    """For each member of any label, the positions of the atoms whose label contains it."""
    where: dict = {}
    for i, lab in enumerate(labels):
        for member in lab:
            where.setdefault(member, []).append(i)
    return where


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


def _fr(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", " ").replace(".", ",")
    return f"{int(value):,}".replace(",", "\u202f")


def _pct(share: float) -> str:
    return f"{100 * share:.1f}\u00a0%".replace(".", ",")


def _swatch(style: Mapping) -> str:
    fill = str(style.get("fillColor", style.get("color", "#999")))
    if fill.startswith("url("):
        bg = ("background:repeating-linear-gradient(45deg,#737373 0 2px,#d9d9d9 2px 6px);")
    else:
        bg = f"background:{fill};opacity:{max(float(style.get('fillOpacity', 0.6)), 0.35)};"
    border = f"border:{min(float(style.get('weight', 1)), 3)}px solid {style.get('color', '#333')};"
    if not style.get("fill", True):
        bg = "background:transparent;"
    return f'<i class="cpts-swatch" style="{bg}{border}"></i>'


def _macro(template: str):
    """A branca MacroElement rendering ``template`` (compiled once per template)."""
    return _macro_class(template)()


@functools.cache
def _macro_class(template: str):
    from branca.element import MacroElement
    from jinja2 import Template

    class _Element(MacroElement):
        _template = Template(template)

    return _Element


_CSS = """
<style>
.cpts-panel{background:rgba(255,255,255,.93);padding:6px 10px;border-radius:5px;
  box-shadow:0 1px 5px rgba(0,0,0,.35);font:12px/1.4 system-ui,Arial,sans-serif;color:#222}
.cpts-panel h4{margin:0 0 4px;font-size:13px}
.cpts-title{position:fixed;top:10px;left:50%;transform:translateX(-50%);z-index:1000;
  font-size:15px;font-weight:600;max-width:60%;text-align:center}
.cpts-stats{position:fixed;bottom:24px;left:10px;z-index:1000;max-width:320px}
.cpts-legend{position:fixed;bottom:24px;right:10px;z-index:1000;max-height:60%;overflow:auto}
.cpts-legend div{margin:2px 0;white-space:nowrap}
.cpts-swatch{display:inline-block;width:16px;height:11px;margin-right:6px;vertical-align:middle;
  box-sizing:border-box}
.cpts-search input{width:210px;padding:4px;font-size:12px}
.cpts-search ul{list-style:none;margin:2px 0 0;padding:0;max-height:240px;overflow:auto}
.cpts-search li{padding:2px 4px;cursor:pointer}
.cpts-search li:hover{background:#e8eef7}
.cpts-note{font-size:10px;color:#555;margin-top:4px}
.leaflet-control-layers{font:12px/1.3 system-ui,Arial,sans-serif}
.cpts-legend{font-size:11px;line-height:1.2}
</style>
"""


class _Legend:
    """Legend entries kept on the map until it is rendered (others may add entries)."""

    def __init__(self, m):
        self.sections: list[tuple[str, list[tuple[str, str]]]] = []
        self.element = _macro(
            "{% macro header(this, kwargs) %}" + _CSS + "{% endmacro %}"
            "{% macro html(this, kwargs) %}<div class=\"cpts-panel cpts-legend\" id=\"cpts-legende\">"
            "<h4>Légende</h4>{{ this.legend.html() }}</div>{% endmacro %}"
        )
        self.element.legend = self
        m.get_root().add_child(self.element, name="cpts_legend")

    def add(self, section: str, label: str, style: Mapping | str) -> None:
        """Add an entry (``label`` is escaped; ``style`` a Leaflet path style or swatch HTML)."""
        swatch = style if isinstance(style, str) else _swatch(style)
        for name, entries in self.sections:
            if name == section:
                entries.append((label, swatch))
                return
        self.sections.append((section, [(label, swatch)]))

    def html(self) -> str:
        parts = []
        for name, entries in self.sections:
            parts.append(f'<div><b>{_esc(name)}</b></div>')
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


def _json_for_script(obj) -> str:
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
            policies["json.dumps_kwargs"] = {"sort_keys": False, "separators": (",", ":"), "ensure_ascii": False}
            try:
                super().render(**kwargs)
            finally:
                policies["json.dumps_kwargs"] = old

    class ChoroplethLayer(Layer):
        """Share of the population covered, drawn from another layer's features (the
        départements) so that their boundaries are written once in the page."""

        _template = Template(
            "{% macro script(this, kwargs) %}"
            "var {{ this.get_name() }}=L.geoJson({{ this.source.get_name() }}.toGeoJSON(),{"
            "className:'cpts-choroplethe',style:function(f){return {color:'#555',weight:0.8,"
            "fillColor:f.properties._color,fillOpacity:0.85};},onEachFeature:function(f,l){"
            "var p=f.properties;l.bindTooltip('<b>'+p.nom+'</b><br>Population couverte : '+p.couverture"
            "+'<br>CPTS : '+p.cpts+'<br>Zones blanches : '+p.blanches,{sticky:true});}});"
            "{% endmacro %}"
        )

        def __init__(self, source, *, name: str, show: bool = False):
            super().__init__(name=_esc(name), overlay=True, control=True, show=show)
            self._name = "ChoroplethLayer"
            self.source = source

    return CompactGeoJson, ChoroplethLayer


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
    legend: Iterable[tuple[str, Mapping]] = (),
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
    props = {c: [_esc(v) for v in gdf[c]] for c in gdf.columns if c != gdf.geometry.name}
    geoms = gdf.geometry.to_numpy()
    features = []
    for i, geom in enumerate(geoms):
        features.append({
            "type": "Feature",
            "id": i,
            "properties": {c: props[c][i] for c in props},
            "geometry": json.loads(shapely.to_geojson(geom)),
        })
    data = {"type": "FeatureCollection", "features": features}
    style_fn = style if callable(style) else (lambda _f, _s=dict(style): _s)
    tooltip = None
    if fields and len(features):
        tooltip = folium.GeoJsonTooltip(
            fields=list(fields), aliases=[f"{_esc(a)}{' :' if a else ''}" for a in fields.values()],
            sticky=True, localize=False, labels=True,
        )
    compact_geojson, _ = _compact_geojson_class()
    layer = compact_geojson(
        data,
        name=_esc(name),
        style_function=lambda f: style_fn(f["properties"]),
        highlight_function=(lambda f: {"weight": 3, "fillOpacity": 0.8}) if highlight and interactive else None,
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


def _scope_units(ref: Reference, scope: dict) -> pd.Series:
    """Boolean per unit: inside the area asked for."""
    if scope["level"] == "national":
        return pd.Series(True, index=ref.units.index)
    col = "region" if scope["level"] == "region" else "departement"
    return ref.units[col] == scope["code"]


def coverage_map(
    ref: Reference,
    register,
    *,
    region: str | None = None,
    departement: str | None = None,
    offline: bool = False,
    goal: float = DEFAULT_GOAL,
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

    Parameters
    ----------
    ref, register
        The reference and a :class:`cpts_geo.inputs.Register` (it may be empty).
    region, departement
        Draw one région or département (code or name); default: all of France (the view
        opens on metropolitan France; the DROM are drawn too).
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

    scope = resolve_scope(ref, region=region, departement=departement)
    extra_layers = list(extra_layers)
    tol, dec = DETAIL[scope["level"]]
    tol = tol if tolerance_m is None else float(tolerance_m)
    dec = dec if decimals is None else int(decimals)
    table = coverage_table(ref, register)
    summary = coverage_summary(ref, register, region=region, departement=departement, goal=goal,
                               table=table)
    cpts = cpts_table(ref, register)
    inside = _scope_units(ref, scope)

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
        p = _membership_pairs(layer.membership)
        p = p[ref.units.index.get_indexer(p["code_insee"].to_numpy(dtype=object)) >= 0]
        drawn.loc[p["code_insee"]] = True
        extra_pairs.append(p.assign(key=[("x", k, g) for g in p["group"]]))

    # Labels: the CPTS covering the unit, 'w' for a white unit inside the area, extra groups.
    drawn_np = drawn.to_numpy()
    codes = ref.units.index[drawn_np]
    shown_set = set(shown_cpts)
    labels = [
        [("c", o) for o in owners if o in shown_set] or ([("w",)] if is_inside else [])
        for owners, is_inside in zip(table["cpts"].to_numpy()[drawn_np], inside.to_numpy()[drawn_np])
    ]
    if extra_pairs:
        row = {c: i for i, c in enumerate(codes.tolist())}
        for p in extra_pairs:
            for c, key in zip(p["code_insee"].tolist(), p["key"]):
                labels[row[c]].append(key)
    atoms = _atoms(ref, codes, [tuple(lab) for lab in labels], tol, dec)
    where = _positions(atoms.label)

    location = None
    m = folium.Map(
        location=location, zoom_start=6, tiles=None, control_scale=False, prefer_canvas=False,
        zoom_snap=0.25,
    )
    _prepare_assets(m, offline)
    if not offline:
        folium.TileLayer("OpenStreetMap", name="Fond de carte OpenStreetMap",
                         control=True).add_to(m)
    legend = get_legend(m)

    # Choropleth of the share covered, per département (hidden by default).
    dep_codes = sorted(set(ref.units.loc[inside, "departement"]))
    dep_pos = {d: np.flatnonzero(atoms.departement == d) for d in dep_codes}
    dep_geoms = atoms.union(dep_pos)
    dep_rows = {r["code"]: r for r in summary.departements}
    deps = gpd.GeoDataFrame(
        {
            "nom": [f"{ref.departements.at[d, 'nom']} ({d})" for d in dep_codes],
            "couverture": [_pct(dep_rows[d]["share_covered"]) for d in dep_codes],
            "cpts": [f"{dep_rows[d]['cpts']} (objectif {_fr(dep_rows[d]['goal'])})" for d in dep_codes],
            "blanches": [f"{_fr(dep_rows[d]['white_zone_population'])} hab." for d in dep_codes],
            "_color": [_share_color(dep_rows[d]["share_covered"]) for d in dep_codes],
        },
        geometry=[dep_geoms[d] for d in dep_codes],
        crs=4326,
    )
    lower = 0.0
    for upper, color in SHARE_CLASSES:
        label = (f"{100 * lower:.0f} à {min(100 * upper, 100):.0f} %" if upper <= 1
                 else f"{100 * lower:.0f} % et plus")
        legend.add("Population couverte par département (couche à afficher)", label,
                   {"fillColor": color, "fillOpacity": 0.85, "color": "#555", "weight": 1})
        lower = upper

    # The CPTS, coloured by stage.
    cpts_geoms = atoms.union({c: where.get(("c", c), []) for c in shown_cpts})
    stages = [s if s in STAGE_COLORS else "" for s in cpts["statut"]]
    cp = gpd.GeoDataFrame(
        {
            "nom": list(cpts["cpts_nom"]),
            "cpts_id": list(cpts.index),
            "stade": [STAGE_LABELS[s] + (f" ({d})" if d else "") for s, d in zip(stages, cpts["date_statut"])],
            "population": [f"{_fr(p)} hab." for p in cpts["population"]],
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
        m, cp, name="CPTS par stade",
        fields={"nom": "CPTS", "cpts_id": "Identifiant", "stade": "Stade", "population": "Population",
                "communes": "Communes", "taille": "Taille ACI"},
        style=lambda p: {"color": "#333", "weight": 1, "fillColor": p["_color"], "fillOpacity": 0.6},
        class_name="cpts-territoire",
        legend=[(STAGE_LABELS[s], {"fillColor": STAGE_COLORS[s], "fillOpacity": 0.6, "color": "#333"})
                for s in used],
        legend_section="CPTS par stade (Atlas des CPTS)",
    )

    # White zones, dissolved per département (inside the area only).
    white = gpd.GeoDataFrame(
        {"nom": [], "communes": [], "population": []}, geometry=[], crs=4326
    )
    white_rows = []
    unit_white = table.loc[inside.to_numpy() & (table["n_cpts"].to_numpy() == 0)]
    if len(unit_white):
        w_pos = {d: [i for i in where.get(("w",), []) if atoms.departement[i] == d] for d in dep_codes}
        w_geoms = atoms.union({d: p for d, p in w_pos.items() if p})
        by_dep = unit_white.groupby("departement")["population"].agg(["size", "sum"])
        for d, r in by_dep.iterrows():
            white_rows.append({
                "nom": f"Zone blanche — {ref.departements.at[d, 'nom']} ({d})",
                "communes": str(int(r["size"])),
                "population": f"{_fr(int(r['sum']))} hab.",
                "geometry": w_geoms.get(d),
            })
        white = gpd.GeoDataFrame(white_rows, geometry="geometry", crs=4326)
    add_territory_layer(
        m, white, name="Zones blanches (aucune CPTS)",
        fields={"nom": "", "communes": "Communes", "population": "Population"},
        style=WHITE_STYLE, class_name="cpts-zone-blanche",
        legend=[("Zone blanche (aucune CPTS)", WHITE_STYLE)], legend_section="Couverture",
    )

    # Units in several CPTS, dissolved by the set of CPTS covering them.
    multi = table.loc[drawn.to_numpy() & (table["n_cpts"].to_numpy() >= 2)]
    ov_rows = []
    if len(multi):
        names = cpts["cpts_nom"].to_dict()
        keyed = multi.assign(key=[tuple(c) for c in multi["cpts"]])
        for key, grp in keyed.groupby("key", sort=True):
            pos = [i for i, lab in enumerate(atoms.label) if {("c", k) for k in key} <= set(lab)
                   and sum(1 for x in lab if x[0] == "c") == len(key)]
            geom = atoms.union({0: pos})[0] if pos else None
            communes = ", ".join(f"{n} ({c})" for c, n in grp["nom"].head(8).items())
            ov_rows.append({
                "cpts": " ; ".join(f"{names.get(k, '') or k}" for k in key),
                "communes": communes + (f" … ({len(grp)} communes)" if len(grp) > 8 else ""),
                "population": f"{_fr(int(grp['population'].sum()))} hab.",
                "geometry": geom,
            })
    overlap = (gpd.GeoDataFrame(ov_rows, geometry="geometry", crs=4326) if ov_rows
               else gpd.GeoDataFrame({"cpts": [], "communes": [], "population": []}, geometry=[], crs=4326))
    add_territory_layer(
        m, overlap, name="Communes dans plusieurs CPTS",
        fields={"cpts": "CPTS en chevauchement", "communes": "Communes", "population": "Population"},
        style=OVERLAP_STYLE, class_name="cpts-chevauchement",
        legend=[("Commune dans plusieurs CPTS", OVERLAP_STYLE)], legend_section="Couverture",
    )

    # Extra layers (e.g. suggested territories).
    for k, layer in enumerate(extra_layers):
        groups = list(dict.fromkeys(layer.membership["group"]))
        geoms = atoms.union({g: where.get(("x", k, g), []) for g in groups})
        props = layer.properties.reindex(groups)
        gdf = gpd.GeoDataFrame(props.reset_index(drop=True), geometry=[geoms[g] for g in groups], crs=4326)
        add_territory_layer(m, gdf, name=layer.name, fields=layer.fields, style=layer.style,
                            class_name=layer.class_name, show=layer.show, legend=layer.legend)

    # Outlines of départements and régions; the choropleth is drawn from the départements'
    # features in the page (not a second copy of their boundaries).
    outline_d = {"color": "#444", "weight": 1.2, "fill": False, "opacity": 0.9}
    dep_layer = add_territory_layer(
        m, deps, name="Limites des départements", fields={}, style=outline_d,
        class_name="cpts-limite-departement", interactive=False,
        legend=[("Limite de département", outline_d)], legend_section="Limites")
    choro = _compact_geojson_class()[1](dep_layer, name="Part de la population couverte (département)", show=False)
    m.add_child(choro)
    reg_codes = sorted(set(ref.departements.loc[dep_codes, "region"]))
    reg_of_atom = ref.departements["region"].reindex(atoms.departement).to_numpy()
    in_deps = np.isin(atoms.departement, dep_codes)
    reg_geom = atoms.union({r: np.flatnonzero((reg_of_atom == r) & in_deps) for r in reg_codes})
    reg_geoms = [reg_geom[r] for r in reg_codes]
    outline_r = {"color": "#111", "weight": 2.6, "fill": False, "opacity": 0.9}
    add_territory_layer(m, gpd.GeoDataFrame(geometry=reg_geoms, crs=4326),
                        name="Limites des régions", fields={}, style=outline_r,
                        class_name="cpts-limite-region", interactive=False,
                        legend=[("Limite de région", outline_r)], legend_section="Limites")

    _add_hatch_pattern(m)
    _add_panels(m, ref, summary, scope, title)
    if search:
        _add_search(m, ref, table.loc[inside.to_numpy()], cpts)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)

    if scope["level"] == "national":
        metro = ref.units["zone"] == "metro"
        b = ref.units.loc[metro, ["lon", "lat"]]
        bounds = [[41.3, -5.2], [51.1, 9.6]] if not len(b) else [
            [float(b["lat"].min()), float(b["lon"].min())], [float(b["lat"].max()), float(b["lon"].max())]]
    else:
        x0, y0, x1, y1 = deps.total_bounds
        bounds = [[float(y0), float(x0)], [float(y1), float(x1)]]
    m.fit_bounds(bounds)
    m._cpts_summary = summary
    return m


def _add_hatch_pattern(m) -> None:
    """Define the SVG hatching used by the white zones (fill 'url(#cpts-hachures)')."""
    el = _macro(
        "{% macro script(this, kwargs) %}(function(){var map={{ this._parent.get_name() }};"
        "L.control.scale({imperial:false}).addTo(map);"
        "var svg=map.getPanes().overlayPane.querySelector('svg');if(!svg)return;"
        "var ns='http://www.w3.org/2000/svg';var defs=document.createElementNS(ns,'defs');"
        "var p=document.createElementNS(ns,'pattern');p.setAttribute('id','cpts-hachures');"
        "p.setAttribute('patternUnits','userSpaceOnUse');p.setAttribute('width','7');"
        "p.setAttribute('height','7');p.setAttribute('patternTransform','rotate(45)');"
        "var r=document.createElementNS(ns,'rect');r.setAttribute('width','7');r.setAttribute('height','7');"
        "r.setAttribute('fill','#e0e0e0');var l=document.createElementNS(ns,'line');"
        "l.setAttribute('x1','0');l.setAttribute('y1','0');l.setAttribute('x2','0');l.setAttribute('y2','7');"
        "l.setAttribute('stroke','#8a8a8a');l.setAttribute('stroke-width','2.2');"
        "p.appendChild(r);p.appendChild(l);defs.appendChild(p);svg.insertBefore(defs,svg.firstChild);"
        "})();{% endmacro %}"
    )
    m.add_child(el, name="cpts_hatch")


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
        goal_txt = f"pour un objectif national de <b>{_fr(a['goal'])}</b>"
    else:
        goal_txt = (f"pour un objectif de <b>{_fr(a['goal'])}</b> (part de l'objectif national de "
                    f"{_fr(summary.goal)}, au prorata de la population)")
    stages = "".join(
        f"<div>{_swatch({'fillColor': STAGE_COLORS[s], 'fillOpacity': 0.6, 'color': '#333'})}"
        f"{_esc(STAGE_LABELS[s])} : {a['by_stage'][s or 'non-renseigne']}</div>"
        for s in STAGE_LABELS if s or a["by_stage"]["non-renseigne"]
    )
    source = f"<div class=\"cpts-note\">Registre : {_esc(summary.source)}</div>" if summary.source else ""
    stats = (
        f"<h4>{_esc(where)}</h4>"
        f"<div><b>{_fr(a['cpts'])}</b> CPTS {goal_txt} : {_pct(a['progress'])}</div>{stages}"
        f"<div>Population couverte : <b>{_pct(a['share_covered'])}</b> "
        f"({_fr(a['population_covered'])} sur {_fr(a['population'])} hab.)</div>"
        f"<div>Zones blanches : {_fr(a['white_zone_population'])} hab., "
        f"{_fr(a['white_zone_communes'])} commune(s)</div>"
        f"<div>Communes dans plusieurs CPTS : {_fr(a['overlap_communes'])}</div>"
        f"<div class=\"cpts-note\">COG {v['cog']}, populations légales {v['population']} "
        f"(population municipale).<br>{_esc(NOTE_MULTI)}</div>{source}"
    )
    el = _macro(
        "{% macro html(this, kwargs) %}<div class=\"cpts-panel cpts-title\" id=\"cpts-titre\">"
        "{{ this.title_html }}</div><div class=\"cpts-panel cpts-stats\" id=\"cpts-stats\">"
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
    el = _macro(
        "{% macro script(this, kwargs) %}(function(){var map={{ this._parent.get_name() }};"
        "var D={{ this.units_json }};var C={{ this.cpts_json }};var U=[];var nm=D.nom.split('|');"
        "var x=0,y=0;for(var i=0;i<nm.length;i++){x+=D.dlon[i];y+=D.dlat[i];var o=D.cpts[i];"
        "U.push([D.code.substr(5*i,5).trim(),nm[i],D.pop[i],x/1e4,y/1e4,o===-1?[]:(Array.isArray(o)?o:[o])]);}"
        "function norm(s){return s.normalize('NFD').replace(/[\\u0300-\\u036f]/g,'').toLowerCase()"
        ".replace(/[^a-z0-9]+/g,' ').trim();}"
        "var keys=U.map(function(u){return norm(u[1]);});"
        "function fmt(n){return n.toString().replace(/\\B(?=(\\d{3})+(?!\\d))/g,'\\u202f');}"
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
    el.units_json = _json_for_script(data)
    el.cpts_json = _json_for_script(names)
    m.add_child(el, name="cpts_search")


# ---- static figures --------------------------------------------------------------------------
def _pyplot():
    try:
        # No matplotlib.use("Agg") here: it would switch a Jupyter kernel off its inline
        # backend. Without a display, matplotlib already falls back to Agg by itself.
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("les figures demandent matplotlib : pip install matplotlib") from exc
    return plt


def coverage_figure(
    ref: Reference,
    register,
    *,
    region: str | None = None,
    departement: str | None = None,
    goal: float = DEFAULT_GOAL,
    figsize: tuple[float, float] = (9.0, 9.0),
):
    """A static coverage map (matplotlib): CPTS by stage, white zones, overlaps, outlines.

    Nationally, metropolitan France is drawn (the DROM are in the tables). Drawn in Lambert-93
    (or the zone's projected CRS).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Patch

    plt = _pyplot()
    scope = resolve_scope(ref, region=region, departement=departement)
    summary = coverage_summary(ref, register, region=region, departement=departement, goal=goal)
    table = coverage_table(ref, register)
    inside = _scope_units(ref, scope).to_numpy()
    if scope["level"] == "national":
        inside = inside & (ref.units["zone"] == "metro").to_numpy()
    tol = DETAIL[scope["level"]][0]
    codes = ref.units.index[inside]
    stages = {c: (s if s in STAGE_COLORS else "") for c, s in cpts_table(ref, register)["statut"].items()}
    labels = [("w",) if not owners else ("o",) if len(owners) > 1 else ("c", owners[0])
              for owners in table["cpts"].to_numpy()[inside]]
    atoms = _atoms(ref, codes, labels, tol, 6)
    epsg = _zone_epsg(str(ref.units.loc[codes[0], "departement"])) if len(codes) else METRO_EPSG
    gs = gpd.GeoSeries(atoms.geometry, crs=4326).to_crs(epsg)
    colors = [
        "#e0e0e0" if lab[0] == "w" else OVERLAP_STYLE["fillColor"] if lab[0] == "o" else STAGE_COLORS[stages[lab[1]]]
        for lab in atoms.label
    ]
    fig, ax = plt.subplots(figsize=figsize)
    gdf = gpd.GeoDataFrame({"c": colors, "w": [lab[0] == "w" for lab in atoms.label]}, geometry=gs)
    if len(gdf):
        gdf.plot(ax=ax, color=gdf["c"], linewidth=0)
    if gdf["w"].any():
        gdf[gdf["w"]].plot(ax=ax, facecolor="#e0e0e0", edgecolor="#8a8a8a", hatch="////", linewidth=0)
    # Each CPTS outlined (white), then the départements (dark).
    where_c: dict = {}
    for i, lab in enumerate(atoms.label):
        if lab[0] == "c":
            where_c.setdefault(lab[1], []).append(i)
    ids = list(where_c)
    cpts_geoms = atoms.union(where_c)
    if ids:
        gpd.GeoSeries([cpts_geoms[c] for c in ids], crs=4326).to_crs(epsg).boundary.plot(
            ax=ax, color="white", linewidth=0.5)
    deps = sorted(set(atoms.departement))
    dep_geoms = atoms.union({d: np.flatnonzero(atoms.departement == d) for d in deps})
    gpd.GeoSeries([dep_geoms[d] for d in deps], crs=4326).to_crs(epsg).boundary.plot(
        ax=ax, color="#444", linewidth=0.4)
    ax.set_axis_off()
    a = summary.area
    where = {"national": "France métropolitaine", "region": f"Région {scope['nom']}",
             "departement": f"Département {scope['nom']} ({scope['code']})"}[scope["level"]]
    ax.set_title(
        f"Couverture par les CPTS — {where}\n{_fr(a['cpts'])} CPTS (objectif {_fr(a['goal'])}), "
        f"population couverte {_pct(a['share_covered'])}".replace("\u202f", " ").replace("\u00a0", " "),
        fontsize=11,
    )
    unstaged = any(stages[c] == "" for c in ids)
    handles = [Patch(facecolor=STAGE_COLORS[s], label=STAGE_LABELS[s]) for s in STAGE_LABELS if s or unstaged]
    handles += [Patch(facecolor="#e0e0e0", edgecolor="#8a8a8a", hatch="////", label="Zone blanche"),
                Patch(facecolor=OVERLAP_STYLE["fillColor"], label="Commune dans plusieurs CPTS")]
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)
    v = ref.vintage
    fig.text(0.01, 0.01, f"COG {v['cog']}, populations légales {v['population']}", fontsize=7, color="#555")
    fig.tight_layout()
    return fig


def coverage_bar_chart(coverage, *, by: str | None = None, figsize: tuple[float, float] | None = None):
    """Bar chart of CPTS by région or département with each one's goal marked.

    Parameters
    ----------
    coverage
        A :class:`cpts_geo.coverage.Coverage` (from :func:`cpts_geo.coverage_summary`).
    by
        ``"region"`` or ``"departement"`` (default: as :meth:`Coverage.default_by`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    by = by or coverage.default_by()
    rows = coverage.regions if by == "region" else coverage.departements
    names = [f"{r['nom']} ({r['code']})" for r in rows]
    y = np.arange(len(rows))[::-1]
    fig, (ax1, ax2) = plt.subplots(
        1, 2, figsize=figsize or (11, 2.0 + 0.28 * max(len(rows), 4)), sharey=True,
        gridspec_kw={"width_ratios": [3, 2]})
    counts = np.array([r["cpts"] for r in rows], dtype=float)
    goals = np.array([r["goal"] for r in rows], dtype=float)
    # CPTS stacked by stage (colours of the maps), the goal marked on each bar.
    left = np.zeros(len(rows))
    for s, label in STAGE_LABELS.items():
        n = np.array([r["by_stage"][s or "non-renseigne"] for r in rows], dtype=float)
        if s or n.any():
            ax1.barh(y, n, left=left, color=STAGE_COLORS[s], edgecolor="white", linewidth=0.3, label=label)
            left += n
    ax1.scatter(goals, y, marker="|", s=160, color="#d7191c", linewidths=2.5, zorder=3,
                label="Objectif (part de l'objectif national)")
    end = max(float(np.max(np.maximum(counts, goals), initial=0)), 1.0)
    for yy, c, g in zip(y, counts, goals):
        ax1.text(max(c, g) + 0.015 * end, yy, f"{_fr(int(c))} / {_fr(float(g))}".replace("\u202f", " "),
                 va="center", fontsize=6.5, color="#333")
    ax1.set_xlim(0, end * 1.18)
    ax1.set_yticks(y, names, fontsize=8)
    ax1.set_xlabel("Nombre de CPTS (étiquettes : CPTS / objectif)")
    handles, labels = ax1.get_legend_handles_labels()
    share = np.array([100 * r["share_covered"] for r in rows])
    ax2.barh(y, share, color="#3182bd")
    for yy, v in zip(y, share):
        ax2.text(min(v, 100) - 1, yy, f"{v:.0f} %", va="center", ha="right" if v > 12 else "left",
                 fontsize=6.5, color="white" if v > 12 else "#333")
    ax2.set_xlim(0, 100)
    ax2.set_xlabel("Population couverte (%)")
    level = "région" if by == "region" else "département"
    fig.suptitle(f"CPTS et couverture de la population par {level} — objectif national {_fr(coverage.goal)}"
                 .replace("\u202f", " "), fontsize=11)
    v = coverage.vintage
    fig.text(0.01, 0.005, f"COG {v['cog']}, populations légales {v['population']}. {NOTE_MULTI}",
             fontsize=6, color="#555", wrap=True)
    # The legend under the title, in one row: it never hides a bar.
    h = fig.get_figheight()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=7.5, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.38 / h))
    fig.tight_layout(rect=(0, 0.3 / h, 1, 1 - 0.62 / h))
    return fig


def save_figure(fig, path, *, inputs=()) -> Path:
    """Save a matplotlib figure (format from the suffix: .png, .svg, .pdf) atomically."""
    from ._io import atomic_write

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    if fmt not in ("png", "svg", "pdf"):
        raise CptsGeoError(f"{path} : format de figure inconnu '.{fmt}' ; utilisez .png, .svg ou .pdf")
    out = atomic_write(path, lambda p: fig.savefig(p, format=fmt, dpi=150), inputs=inputs)
    _pyplot().close(fig)
    return out

# ---- the map of one territory (check reports) -------------------------------------------------
#: Colour of a territory's units by finding, in the order a unit takes the first that applies.
FINDING_STYLES = {
    "chevauchement": ("Commune déjà dans une CPTS existante",
                      {"color": "#7f0000", "weight": 1, "fillColor": "#d7191c", "fillOpacity": 0.7}),
    "epci_partiel": ("Commune d'un EPCI partagé",
                     {"color": "#7f3b08", "weight": 1, "fillColor": "#fdb863", "fillOpacity": 0.65}),
    "territoire": ("Commune du territoire",
                   {"color": "#08306b", "weight": 1, "fillColor": "#4292c6", "fillOpacity": 0.55}),
    "enclave": ("Commune enclavée (hors territoire)",
                {"color": "#3f007d", "weight": 1.5, "fillColor": "#9e9ac8", "fillOpacity": 0.75,
                 "dashArray": "4 3"}),
    "epci_hors": ("Reste d'un EPCI partagé (hors territoire)",
                  {"color": "#b35806", "weight": 1, "fillColor": "#fee0b6", "fillOpacity": 0.35,
                   "dashArray": "2 3"}),
}
NEIGHBOUR_CPTS_STYLE = {"color": "#1a9850", "weight": 2, "fillColor": "#a6d96a", "fillOpacity": 0.15}


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
    if existing is not None and len(existing.table):
        t = existing.table
        pos = ref.position.reindex(codes).to_numpy()
        near = set(ref.units.index[np.unique(ref.graph[pos].indices)]) | inside
        touching = sorted(set(t.loc[t["code_insee"].isin(near), "cpts_id"]), key=str)
        sel = t[t["cpts_id"].isin(touching)]
        cpts_members = pd.DataFrame({"group": ["cpts:" + str(c) for c in sel["cpts_id"]],
                                     "code_insee": sel["code_insee"].to_numpy()})
        cpts_names = sel.groupby("cpts_id")["cpts_nom"].first().to_dict()

    unit_members = pd.DataFrame({"group": ["u:" + c for c in kind], "code_insee": list(kind)})
    terr_members = pd.DataFrame({"group": ["t"] * len(codes), "code_insee": codes})
    members = pd.concat([unit_members, terr_members, cpts_members], ignore_index=True)
    gdf = dissolve(ref, members, tolerance_m=tolerance_m, decimals=decimals)

    m = folium.Map(location=None, zoom_start=9, tiles=None, control_scale=True, zoom_snap=0.25)
    _prepare_assets(m, offline)
    if not offline:
        folium.TileLayer("OpenStreetMap", name="Fond de carte OpenStreetMap", control=True).add_to(m)

    if cpts_names:
        keys = ["cpts:" + str(c) for c in cpts_names]
        cp = gpd.GeoDataFrame(
            {"nom": [cpts_names[c] or c for c in cpts_names], "cpts_id": list(cpts_names),
             "population": [f"{_fr(int(p))} hab." for p in gdf.loc[keys, "population"]]},
            geometry=gdf.loc[keys].geometry.to_numpy(), crs=4326)
        add_territory_layer(
            m, cp, name="CPTS existantes voisines", fields={"nom": "CPTS", "cpts_id": "Identifiant",
                                                            "population": "Population"},
            style=NEIGHBOUR_CPTS_STYLE, class_name="cpts-existante",
            legend=[("CPTS existante", NEIGHBOUR_CPTS_STYLE)], legend_section="Registre")

    units = ref.units
    epci_names = ref.epci["nom"]
    rows = []
    for c, k in kind.items():
        e = units.at[c, "epci"]
        rows.append({
            "nom": f"{units.at[c, 'nom']} ({c})",
            "population": f"{_fr(int(units.at[c, 'population']))} hab.",
            "epci": str(epci_names.get(e, "")) if isinstance(e, str) and e else "aucun EPCI",
            "constat": FINDING_STYLES[k][0],
            "_kind": k,
            "geometry": gdf.geometry.get("u:" + c),
        })
    ug = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    styles = {k: v[1] for k, v in FINDING_STYLES.items()}
    for k in FINDING_STYLES:
        part = ug[ug["_kind"] == k]
        if not len(part):
            continue
        add_territory_layer(
            m, part.drop(columns="_kind"), name=FINDING_STYLES[k][0],
            fields={"nom": "Commune", "population": "Population", "epci": "EPCI", "constat": "Constat"},
            style=styles[k], class_name=f"cpts-{k.replace('_', '-')}",
            legend=[(FINDING_STYLES[k][0], styles[k])], legend_section="Communes")

    outline = {"color": "#000", "weight": 3, "fill": False}
    t_geom = gdf.geometry.get("t")
    add_territory_layer(
        m, gpd.GeoDataFrame({"nom": [name or "Territoire proposé"]}, geometry=[t_geom], crs=4326),
        name="Contour du territoire", fields={}, style=outline, class_name="cpts-contour", interactive=False,
        legend=[("Contour du territoire proposé", outline)], legend_section="Territoire")
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    shown = gdf.geometry[["u:" + c for c in kind]]
    x0, y0, x1, y1 = gpd.GeoSeries(shown.to_numpy(), crs=4326).total_bounds
    if np.isfinite([x0, y0, x1, y1]).all():
        m.fit_bounds([[float(y0), float(x0)], [float(y1), float(x1)]])
    return m
