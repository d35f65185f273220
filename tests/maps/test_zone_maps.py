"""Zone layers on the maps (issue 24): the overlay data, the QGIS style, and the layers drawn in
headless Chromium (no network) on the coverage map and the map of a check report."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cpts_geo.checks.rules import check_territory
from cpts_geo.inputs.zones import read_zones, zone_layer_from_codes
from cpts_geo.maps.base import save_map
from cpts_geo.maps.coverage import coverage_map
from cpts_geo.maps.zones import zone_overlays
from cpts_geo.outputs.html_report import report_html
from cpts_geo.outputs.qgis import zone_qml
from cpts_geo.steering.coverage import coverage_summary
from tests.browser import chromium_page
from tests.maps.test_maps import HOSTILE

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
REGISTER = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"
COUNT = "return document.querySelectorAll('path.cpts-zone').length"


@pytest.fixture(scope="module")
def layers(ref):
    hostile = zone_layer_from_codes({"ZIP": ["49007", "49353"], HOSTILE: ["49015"]}, ref, name=HOSTILE)
    return [hostile, read_zones(EXAMPLES / "qpv_fictifs.geojson", ref, name="QPV")]


def test_overlay_data_is_geojson_ready(ref, layers):
    overlays = zone_overlays(ref, layers, within=ref.units.index[ref.units["departement"] == "49"])
    hostile, qpv = overlays
    assert list(hostile.features["category"]) == ["ZIP", HOSTILE]
    assert [label for label, _ in hostile.legend] == ["ZIP", HOSTILE]
    assert hostile.features["population"].tolist() == [
        int(ref.units.loc[["49007", "49353"], "population"].sum()),
        int(ref.units.at["49015", "population"]),
    ]
    # Only the polygons touching Maine-et-Loire, each with the communes it touches.
    assert len(qpv.features) == 3 and "Trélazé (49353)" in " ".join(qpv.features["communes"])
    data = json.loads(json.dumps(qpv.to_geojson()))
    assert data["type"] == "FeatureCollection" and data["name"] == "QPV" and data["kind"] == "polygones"
    assert {f["properties"]["pattern"] for f in data["features"]} == {p["id"] for p in data["patterns"]}
    assert data["legend"][0]["style"]["fillColor"].startswith("url(#cpts-zone-1-0)")


def test_zone_qml_hatches_each_category():
    root = ET.fromstring(zone_qml([("ZIP", "#b2182b", 45), ("ZAC", "#e66101", 45)]))
    cats = root.findall(".//categories/category")
    assert [c.get("value") for c in cats] == ["ZIP", "ZAC"]
    hatches = root.findall(".//symbols/symbol/layer[@class='LinePatternFill']")
    assert len(hatches) == 2
    angle = hatches[0].find(".//Option[@name='angle']")
    assert angle is not None and angle.get("value") == "45"


@pytest.mark.browser
def test_coverage_map_draws_the_zones(ref, layers, tmp_path):
    cov = coverage_summary(ref, REGISTER, departement="49", zones=layers)
    path = save_map(coverage_map(ref, cov), tmp_path / "carte.html")
    raw = path.read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in raw
    with chromium_page(path) as page:
        assert page.errors == [] and page.network_errors == []
        assert page.js("return window.__pwned === undefined")
        assert page.js(COUNT) == 2 + 3  # two categories, three polygons in Maine-et-Loire
        ids = page.js("return Array.from(document.querySelectorAll('pattern')).map(p => p.id)")
        assert {"cpts-zone-0-0", "cpts-zone-0-1", "cpts-zone-1-0"} <= set(ids)
        fills = page.js(
            "return Array.from(document.querySelectorAll('path.cpts-zone')).map(p => p.getAttribute('fill'))"
        )
        assert all(re.fullmatch(r"url\(#cpts-zone-\d-\d\) #[0-9a-f]{6}", f) for f in fills)
        legend = page.js("return document.getElementById('cpts-legende').textContent")
        assert f"{HOSTILE} (par commune)" in legend and "QPV (polygones)" in legend
        control = page.js("return document.querySelector('.leaflet-control-layers').textContent")
        assert f"Zones : {HOSTILE}" in control and "Zones : QPV" in control
        # Toggle the QPV layer off and on: its paths go and come back.
        boxes = "document.querySelectorAll('.leaflet-control-layers-overlays input')"
        labels = "document.querySelectorAll('.leaflet-control-layers-overlays label')"
        k = page.js(f"return Array.from({labels}).findIndex(l => l.textContent.includes('Zones : QPV'))")
        page.js(f"{boxes}[{k}].click()")
        assert page.js(COUNT) == 2
        page.js(f"{boxes}[{k}].click()")
        assert page.js(COUNT) == 5
        page.screenshot(tmp_path / "carte.png")
        assert page.errors == []


@pytest.mark.browser
def test_report_map_draws_the_zones(ref, layers, tmp_path):
    rep = check_territory(ref, ["49007", "49353", "49246"], zones=layers)
    page_html = report_html(ref, rep, static_map=False)
    # The report's own « Zones » table, names escaped.
    assert "<h2>Zones</h2>" in page_html and "<script>window.__pwned" not in page_html
    table = page_html[page_html.index("<h2>Zones</h2>") : page_html.index("<h2>Communes du territoire")]
    assert "Trélazé (49353)" in table and "de sa surface : Quartier fictif de la Roseraie" in table
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', page_html).group(1))
    path = tmp_path / "carte.html"
    path.write_text(inner, encoding="utf-8")
    with chromium_page(path) as page:
        assert page.errors == [] and page.network_errors == []
        assert page.js("return window.__pwned === undefined")
        assert page.js(COUNT) >= 3
        assert HOSTILE in page.js("return document.getElementById('cpts-legende').textContent")
        page.screenshot(tmp_path / "rapport.png")


def test_static_assets_hold_no_template_delimiters():
    # branca reads a map's scripts as Jinja templates: « {{ », « {% », « {# » would be run or break.
    from cpts_geo.maps.static import asset, asset_names

    assert "zones.js" in asset_names()
    for name in asset_names():
        assert not re.search(r"\{[{%#]", asset(name)), name
