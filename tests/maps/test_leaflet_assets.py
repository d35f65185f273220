"""Leaflet from the pip dependency: inline tags, the French no-map fallback, the online variant,
and folium 0.20's templates running on it in headless Chromium with no network."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import folium
import pytest
from branca.element import Element

from cpts_geo._errors import CptsGeoError
from cpts_geo.maps import leaflet as _leaflet
from cpts_geo.maps.base import external_resources
from cpts_geo.maps.leaflet import (
    LEAFLET_CDN,
    NO_MAP_FALLBACK,
    LeafletAssetsError,
    add_asset,
    cdn_assets,
    inline_tags,
    leaflet_version,
    prepare_assets,
    tile_layers,
)
from cpts_geo.maps.static import asset
from tests import browser
from tests.browser import Page, chromium_page

# Three square "communes" near Angers, the middle one with a hole.
SQUARES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"code": code, "nom": nom},
            "geometry": {"type": "Polygon", "coordinates": rings},
        }
        for code, nom, rings in [
            (
                "49001",
                "Alpha",
                [[[-0.60, 47.40], [-0.50, 47.40], [-0.50, 47.50], [-0.60, 47.50], [-0.60, 47.40]]],
            ),
            (
                "49002",
                "Bêta & Gamma",
                [
                    [[-0.50, 47.40], [-0.40, 47.40], [-0.40, 47.50], [-0.50, 47.50], [-0.50, 47.40]],
                    [[-0.46, 47.44], [-0.44, 47.44], [-0.44, 47.46], [-0.46, 47.46], [-0.46, 47.44]],
                ],
            ),
            (
                "49003",
                "Delta",
                [[[-0.40, 47.40], [-0.30, 47.40], [-0.30, 47.50], [-0.40, 47.50], [-0.40, 47.40]]],
            ),
        ]
    ],
}


def _map(*, online: bool = False) -> folium.Map:
    m = folium.Map(tiles=None, control_scale=True)
    if online:
        for kw in tile_layers():
            folium.TileLayer(**kw).add_to(m)
    folium.GeoJson(
        SQUARES,
        name="Communes",
        style_function=lambda f: {"color": "#333", "weight": 1, "fillColor": "#a6d96a", "fillOpacity": 0.6},
        tooltip=folium.GeoJsonTooltip(fields=["nom", "code"], aliases=["Commune", "Code"]),
    ).add_to(m)
    folium.Marker([47.45, -0.55], tooltip="Mairie").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[47.40, -0.60], [47.50, -0.30]])
    prepare_assets(m, online=online)
    return m


def _save(m, path: Path) -> Path:
    path.write_text(m.get_root().render(), encoding="utf-8")
    return path


@contextlib.contextmanager
def logged_page(path, *, wait_s: float = 1.0):
    """Like :func:`tests.browser.chromium_page`, also recording every request the page makes
    (Chrome's performance log: ``Network.requestWillBeSent``) in ``page.requests``."""
    browser._require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cpts-geo-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser.CHROMIUM
    for flag in browser.FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=browser.CHROMEDRIVER), options=opts)
    try:
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument",
            {
                "source": "window.__cptsErrors=[];window.addEventListener('error',"
                "e=>window.__cptsErrors.push(String(e.message||e)));"
            },
        )
        driver.get_log("performance")  # drop the start page's requests (chrome://new-tab-page)
        driver.get(Path(path).resolve().as_uri())
        deadline = time.monotonic() + 30
        while driver.execute_script("return document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} did not finish loading")
            time.sleep(0.05)
        time.sleep(wait_s)
        page = Page(driver)
        page.requests = []
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                page.requests.append(msg["params"]["request"]["url"])
        yield page
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# ---- the files -------------------------------------------------------------------------------
def test_version_and_inline_tags():
    assert leaflet_version() == "1.9.4"
    tags = inline_tags()
    assert tags.startswith("<style>") and tags.endswith("</script>")
    assert tags.count("<script>") == 1 and tags.count("</script>") == 1
    assert "url(images/" not in tags
    # layers.png, layers-2x.png, marker-icon.png in the CSS, and the three default marker icons.
    assert tags.count("url(data:image/png;base64,") == 3
    assert tags.count("'data:image/png;base64,") == 3
    assert "Leaflet 1.9.4" in tags
    assert external_resources(tags) == []


def test_missing_package_says_how_to_install(monkeypatch):
    def no_package(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(_leaflet.resources, "files", no_package)
    leaflet_version.cache_clear()
    inline_tags.cache_clear()
    try:
        with pytest.raises(
            LeafletAssetsError,
            match=r"django-js-lib-leaflet.*n'est pas installé.*"
            r"pip install 'django-js-lib-leaflet==1\.9\.4\.1'",
        ):
            inline_tags()
    finally:
        leaflet_version.cache_clear()
        inline_tags.cache_clear()
    assert issubclass(LeafletAssetsError, CptsGeoError)


def test_broken_package_is_named(monkeypatch, tmp_path):
    (tmp_path / "leaflet.js").write_text("/* pas Leaflet */", encoding="utf-8")
    monkeypatch.setattr(_leaflet, "_dist", lambda: tmp_path)
    leaflet_version.cache_clear()
    try:
        with pytest.raises(LeafletAssetsError, match=r"leaflet\.js du paquet js_lib_leaflet ne porte pas"):
            leaflet_version()
        (tmp_path / "leaflet.js").write_text("/* Leaflet 1.9.4 */", encoding="utf-8")
        leaflet_version.cache_clear()
        with pytest.raises(LeafletAssetsError, match=r"leaflet\.css"):
            _leaflet._read_text("leaflet.css")
    finally:
        leaflet_version.cache_clear()


def test_offline_page_loads_nothing_from_the_network():
    page = _map().get_root().render()
    assert external_resources(page) == []
    assert page.index("cpts-carte-erreur") < page.index("Leaflet 1.9.4")  # fallback first


def test_online_variant():
    js, css = cdn_assets()
    assert js == [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js")]
    assert css == [("leaflet_css", f"{LEAFLET_CDN}/leaflet.css")]
    layers = tile_layers()
    assert [t["name"] for t in layers] == ["Fond OpenStreetMap", "Fond Plan IGN"]
    assert "openstreetmap.org/copyright" in layers[0]["attr"]
    assert "IGN" in layers[1]["attr"] and "LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2" in layers[1]["tiles"]
    page = _map(online=True).get_root().render()
    found = external_resources(page)
    assert [re.search(r"https://[^\"' >]+", f).group(0) for f in found] == [
        f"{LEAFLET_CDN}/leaflet.js",
        f"{LEAFLET_CDN}/leaflet.css",
    ]
    assert "jquery" not in page and "bootstrap" not in page
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in page and "data.geopf.fr/wmts" in page


# ---- in the browser --------------------------------------------------------------------------
@pytest.mark.browser
def test_browser_folium_on_leaflet_194_offline(tmp_path):
    path = _save(_map(), tmp_path / "carte.html")
    with logged_page(path) as page:
        assert page.errors == []
        assert page.network_errors == []
        assert page.js("return typeof L") == "object"
        assert page.js("return L.version") == "1.9.4"
        # Three polygons (one with a hole is still one path), drawn with a real size.
        assert page.js("return document.querySelectorAll('path.leaflet-interactive').length") == 3
        box = page.js(
            "var r=document.querySelector('path.leaflet-interactive').getBoundingClientRect();"
            "return [r.width, r.height]"
        )
        assert box[0] > 50 and box[1] > 50
        # Only the page itself was requested; every resource it holds is inline.
        assert page.requests and all(u.startswith(("file:", "data:")) for u in page.requests), page.requests
        assert [u for u in page.requests if u.startswith("file:")] == [path.resolve().as_uri()]
        resources = page.js("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(u.startswith(("data:", "file:")) for u in resources), resources
        # The marker icon is the inline one (no marker-icon.png fetched next to the page).
        assert page.js("return document.querySelector('img.leaflet-marker-icon').src").startswith(
            "data:image/png"
        )
        # folium's templates on 1.9.4: tooltip, layer control, metric scale, fit_bounds.
        page.js(
            "var p=document.querySelectorAll('path.leaflet-interactive')[1];var r=p.getBoundingClientRect();"
            "p.dispatchEvent(new MouseEvent('mouseover',{bubbles:true,clientX:r.x+5,clientY:r.y+5}));"
        )
        time.sleep(0.2)
        tip = page.js("var t=document.querySelector('.leaflet-tooltip');return t&&t.textContent")
        assert "Bêta & Gamma" in tip and "49002" in tip
        labels = page.js(
            "return [...document.querySelectorAll('.leaflet-control-layers label')]"
            ".map(l => l.textContent.trim())"
        )
        assert labels == ["Communes"]
        assert page.js("return document.querySelector('.leaflet-control-scale-line').textContent").endswith(
            "km"
        )
        zoom, bounds = page.js(
            "var m=Object.values(window).find(v => v instanceof L.Map);"
            "return [m.getZoom(), m.getBounds().toBBoxString()]"
        )
        west, south, east, north = map(float, bounds.split(","))
        assert zoom >= 10 and west <= -0.60 and east >= -0.30 and south <= 47.40 and north >= 47.50
        page.screenshot(tmp_path / "carte.png")
        page.js("document.querySelector('.leaflet-control-layers-overlays input').click()")
        assert page.js("return document.querySelectorAll('path.leaflet-interactive').length") == 0
        assert page.js("return document.querySelectorAll('.cpts-carte-erreur').length") == 0
        assert page.errors == []


@pytest.mark.browser
def test_browser_fallback_when_leaflet_is_missing(tmp_path):
    m = _map()
    del m.get_root().header._children["leaflet_inline"]
    path = _save(m, tmp_path / "sans-leaflet.html")
    with chromium_page(path, wait_s=0.3) as page:
        assert page.js("return typeof L") == "undefined"
        msg = page.js(
            "return [...document.querySelectorAll('.folium-map .cpts-carte-erreur')].map(e => e.textContent)"
        )
        assert msg == [
            "La carte n’a pas pu être affichée : la bibliothèque cartographique Leaflet n’a pas "
            "été chargée (fichier absent ou accès réseau bloqué)."
        ]
        size = page.js(
            "var r=document.querySelector('.cpts-carte-erreur').getBoundingClientRect();"
            "return [r.width, r.height]"
        )
        assert size[0] > 500 and size[1] > 20
        assert any("L is not defined" in e for e in page.errors)


@pytest.mark.browser
def test_browser_fallback_online_page_without_network(tmp_path):
    path = _save(_map(online=True), tmp_path / "en-ligne.html")
    with chromium_page(path, wait_s=0.3) as page:
        assert page.network_errors  # the CDN was tried, and failed
        msg = page.js("return document.querySelector('.cpts-carte-erreur').textContent")
        assert msg.startswith("La carte n’a pas pu être affichée : la bibliothèque cartographique Leaflet")


@pytest.mark.browser
def test_browser_fallback_when_the_map_script_fails(tmp_path):
    m = _map()
    m.get_root().header.add_child(
        Element("<script>L.map=function(){throw new Error('boum');};</script>"), name="casse"
    )
    path = _save(m, tmp_path / "casse.html")
    with chromium_page(path, wait_s=0.3) as page:
        msg = page.js("return document.querySelector('.folium-map .cpts-carte-erreur').textContent")
        assert msg.startswith("La carte n’a pas pu être affichée : erreur du script de la carte (« ")
        assert "boum" in msg


def test_fallback_snippet_is_french_and_standalone():
    text = asset(NO_MAP_FALLBACK)
    assert "La carte n\\u2019a pas pu être affichée : " in text
    assert external_resources(text) == []
    # The first script of the page's head, before Leaflet, once.
    page = _map().get_root().render()
    first = re.search(r"<script>(.*?)</script>", page, re.S)
    assert first and first.group(1) == text and page.count(text) == 1


# ---- the commune search box of the coverage map ------------------------------------------------
def _search_map(tmp_path: Path) -> Path:
    """A map with the coverage map's search element, built by the coverage map's own code
    (``search.js`` of cpts_geo.maps.static)."""
    from types import SimpleNamespace

    import pandas as pd

    from cpts_geo.maps import coverage as maps

    codes = ["49001", "49002", "49003"]
    units = pd.DataFrame(
        {
            "nom": ["Alpha", "Bêta & Gamma", "Delta"],
            "population": [1234, 23456, 789],
            "cpts": [["C1"], ["C1", "C2"], []],
        },
        index=codes,
    )
    ref = SimpleNamespace(units=pd.DataFrame({"lon": [-0.55, -0.45, -0.35], "lat": [47.45] * 3}, index=codes))
    cpts = pd.DataFrame({"cpts_nom": ["CPTS <Loire>", "CPTS Mauges"]}, index=["C1", "C2"])
    m = folium.Map(tiles=None, zoom_control=True)
    folium.GeoJson(SQUARES, name="Communes").add_to(m)
    m.fit_bounds([[46.5, -2.0], [48.5, 1.0]])  # zoom 8: picking a commune zooms in to 11
    prepare_assets(m)
    add_asset(m, "maps.css")
    maps._add_search(m, ref, units, cpts)
    return _save(m, tmp_path / "recherche.html")


_POPUP = """var m=Object.values(window).find(v => v instanceof L.Map);var p=document.querySelector('.leaflet-popup');
return {open: !!(m._popup && m._popup.isOpen()), inDom: !!p, opacity: p ? getComputedStyle(p).opacity : null,
        text: p ? p.querySelector('.leaflet-popup-content').textContent : '', zoom: m.getZoom(),
        hits: document.querySelectorAll('#cpts-recherche li').length}"""


def _pick(page, text: str, *, enter: bool = False):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = page.driver.find_element(By.CSS_SELECTOR, "#cpts-recherche input")
    box.clear()
    box.send_keys(text)
    hits = page.driver.find_elements(By.CSS_SELECTOR, "#cpts-recherche ul > li")
    assert hits, f"no hit for {text!r}"
    if enter:
        box.send_keys(Keys.ENTER)
    else:
        hits[0].click()  # a real click: mousedown, mouseup, click at the element's centre


@pytest.mark.browser
def test_browser_search_popup_stays_open(tmp_path):
    path = _search_map(tmp_path)
    with chromium_page(path, wait_s=0.3) as page:
        assert page.js(_POPUP)["zoom"] < 10
        _pick(page, "bet")
        time.sleep(1.5)
        state = page.js(_POPUP)
        assert state["open"] and state["inDom"] and state["opacity"] == "1", state
        assert (
            state["text"]
            == "Bêta & Gamma (49002)Population : 23\u00a0456\u00a0hab.CPTS (chevauchement) :CPTS <Loire>CPTS Mauges"
        )
        assert state["zoom"] == 11 and state["hits"] == 0
        page.screenshot(tmp_path / "recherche.png")
        # Enter picks the first hit; the previous popup gives way to the new one.
        _pick(page, "49003", enter=True)
        time.sleep(1.5)
        state = page.js(_POPUP)
        assert state["open"] and state["opacity"] == "1" and state["text"].startswith("Delta (49003)"), state
        assert "Zone blanche : aucune CPTS" in state["text"] and state["hits"] == 0
        # "+" typed in the box is text, not a zoom of the map.
        from selenium.webdriver.common.by import By

        zoom = state["zoom"]
        page.driver.find_element(By.CSS_SELECTOR, "#cpts-recherche input").send_keys("+")
        time.sleep(0.4)
        assert page.js(_POPUP)["zoom"] == zoom
        # A click on the map still closes the popup, as for any Leaflet popup.
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(page.driver).move_to_element_with_offset(
            page.driver.find_element(By.CSS_SELECTOR, ".folium-map"), 300, 300
        ).click().perform()
        time.sleep(0.5)
        assert not page.js(_POPUP)["inDom"]
        assert page.errors == []


@pytest.mark.browser
def test_browser_real_coverage_map_on_inline_leaflet(ref, tmp_path):
    """maps.py's default coverage map (panels, hatching, legend, search) on the pip Leaflet:
    nothing requested but the page, and the search popup still open 1.5 s after a real click."""
    from cpts_geo.maps import base as _folium
    from cpts_geo.maps import coverage as maps
    from tests.maps.test_maps import COUNT, epci_register

    reg = epci_register(ref, ["49"])
    m = maps.coverage_map(ref, reg, departement="49")
    path = _folium.save_map(m, tmp_path / "couverture-49.html")  # refuses any remote resource
    with logged_page(path) as page:
        assert page.errors == [] and page.network_errors == []
        assert page.js("return L.version") == "1.9.4"
        assert all(u.startswith(("file:", "data:")) for u in page.requests), page.requests
        assert page.js(COUNT.format("cpts-territoire")) == reg.table["cpts_id"].nunique()
        assert page.js("return document.getElementById('cpts-legende') !== null")
        _pick(page, "angers")
        time.sleep(1.5)
        state = page.js(_POPUP)
        assert state["open"] and state["opacity"] == "1", state
        assert state["text"].startswith("Angers (49007)Population : 159\u00a0022\u00a0hab.CPTS :"), state
        page.screenshot(tmp_path / "couverture-49.png")
        assert page.errors == []


@pytest.mark.browser
def test_browser_basemaps_and_attributions(tmp_path):
    """The online basemaps on the inline Leaflet: French layer names, attributions shown, tile
    URLs filled in (the tiles themselves fail: there is no network here)."""
    m = folium.Map(tiles=None)
    for kw in tile_layers():
        folium.TileLayer(**kw).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[47.40, -0.60], [47.50, -0.30]])
    prepare_assets(m)
    path = _save(m, tmp_path / "fonds.html")
    with logged_page(path, wait_s=0.5) as page:
        assert page.errors == []
        labels = page.js(
            "return [...document.querySelectorAll('.leaflet-control-layers-base label')]"
            ".map(l => l.textContent.trim())"
        )
        assert labels == ["Fond OpenStreetMap", "Fond Plan IGN"]
        attribution = "return document.querySelector('.leaflet-control-attribution').textContent"
        assert "© les contributeurs d'OpenStreetMap" in page.js(attribution)
        osm = [u for u in page.requests if "openstreetmap" in u]
        assert osm and all(
            re.fullmatch(r"https://tile\.openstreetmap\.org/1[0-2]/\d+/\d+\.png", u) for u in osm
        ), osm
        page.js("document.querySelectorAll('.leaflet-control-layers-base input')[1].click()")
        time.sleep(0.5)
        assert "© IGN – Géoplateforme (Plan IGN v2)" in page.js(attribution)
        assert "OpenStreetMap" not in page.js(attribution)
    with logged_page(path, wait_s=0.2) as page:  # once more, to see the IGN tile requests
        page.js("document.querySelectorAll('.leaflet-control-layers-base input')[1].click()")
        time.sleep(0.5)
        for entry in page.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                page.requests.append(msg["params"]["request"]["url"])
        ign = [u for u in page.requests if "geopf" in u]
        assert ign, page.requests
        assert all(
            re.fullmatch(
                r"https://data\.geopf\.fr/wmts\?SERVICE=WMTS&REQUEST=GetTile&VERSION=1\.0\.0"
                r"&LAYER=GEOGRAPHICALGRIDSYSTEMS\.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM"
                r"&FORMAT=image/png&TILEMATRIX=1[0-2]&TILEROW=\d+&TILECOL=\d+",
                u,
            )
            for u in ign
        ), ign
