"""The zone layers (``--zones``) on the builder page: the zones the selection touches, computed in
the page, equal :func:`cpts_geo.checks.rules.check_territory` with the same layers (JSON and the
report's « Zones » lines), on the fictitious layers of ``data/examples/`` (one of each shape);
the overlays are drawn hatched, toggled with their legend, and names are escaped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cpts_geo.checks.rules import check_territory
from cpts_geo.checks.zones import zone_lines
from cpts_geo.inputs.zones import read_zones, zone_layer_from_codes
from cpts_geo.maps.atelier import atelier_page
from cpts_geo.maps.atelier_data import page_units
from cpts_geo.maps.atelier_zones import atelier_zones_payload
from tests.browser import chromium_page
from tests.maps.test_atelier import random_territories

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
DEPS = ["49", "53"]  # Maine-et-Loire and Mayenne: QPV (Angers, Cholet, Laval), zones rouges (Mayenne)
HOSTILE = '<img src=x onerror="window.__owned=1"> Zonage & « test »'


@pytest.fixture(scope="module")
def layers(ref):
    return [
        read_zones(EXAMPLES / "zonage_medecins_fictif.csv", ref, name=HOSTILE),
        read_zones(EXAMPLES / "zones_rouges_fictives.csv", ref, name="Zones rouges"),
        read_zones(EXAMPLES / "qpv_fictifs.geojson", ref, name="QPV"),
    ]


def _plain(obj):
    return json.loads(json.dumps(obj, ensure_ascii=False))


def test_payload_rows_are_the_layers_units_on_the_page(ref, layers):
    units, _ = page_units(ref, DEPS)
    data = atelier_zones_payload(ref, layers, units, geometry=False)
    codes = ref.arrays.codes[units].astype(str)
    for layer, d in zip(layers, data, strict=True):
        table = layer.unit_table
        on_page = table[table["code"].isin(set(codes))]
        got = sorted(zip(codes[d["unit"]], [d["categories"][c] for c in d["cat"]], strict=True))
        assert got == sorted(zip(on_page["code"], on_page["category"], strict=True))
        assert len(d["unit"]) > 0, layer.name
    assert data[2]["share"] and all(0 < s <= 1 for s in data[2]["share"])


@pytest.mark.browser
def test_zones_in_the_page_match_check(ref, layers, tmp_path):
    path = tmp_path / "atelier_zones.html"
    path.write_text(atelier_page(ref, departement=DEPS, zones=layers), encoding="utf-8")
    units, in_area = page_units(ref, DEPS)
    territories = random_territories(ref, units, in_area, 27, 20261207)
    a = ref.arrays
    laval = a.epci[a.pos["53130"]]
    territories += [
        ["49007", "49099", "49353"],  # Angers (two QPV), Cholet (a QPV), Trélazé
        sorted(str(c) for c in a.codes[np.flatnonzero(a.epci == laval)]),  # the EPCI of Laval
        ["49002"],
    ]
    names = [z.name for z in layers]
    with chromium_page(path, wait_s=0.3) as page:
        assert page.errors == []
        found = json.loads(
            page.js(
                "var out=[];for(var i=0;i<arguments[0].length;i++){window.atelier.select(arguments[0][i]);"
                "out.push({c:window.atelier.checks(),l:window.atelier.zoneLines(),"
                "p:Array.prototype.map.call(document.querySelectorAll('#at-verdict .at-zone-line'),"
                "function(e){return e.textContent;})});}return JSON.stringify(out);",
                territories,
            )
        )
        problems = []
        kinds_seen = set()
        for codes, js in zip(territories, found, strict=True):
            report = check_territory(ref, codes, zones=layers)
            py = _plain(report.to_dict())
            kinds_seen |= {z["kind"] for z in py["zones"]}
            if js["c"]["zones"] != py["zones"]:
                problems.append(f"{codes[:5]}: zones\n  JS: {js['c']['zones']}\n  PY: {py['zones']}")
            lines = zone_lines(report.zones or [], names)
            if js["l"] != lines:
                problems.append(f"{codes[:5]}: lines\n  JS: {js['l']}\n  PY: {lines}")
            if js["p"] != [ln.strip() for ln in lines]:
                problems.append(f"{codes[:5]}: panel {js['p']}")
        assert not problems, "\n".join(problems[:10])
        assert kinds_seen == {"communes", "epci", "polygones"}
        assert page.network_errors == []


@pytest.mark.browser
def test_overlays_drawn_toggled_and_escaped(ref, layers, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    path = tmp_path / "atelier_zones.html"
    path.write_text(atelier_page(ref, departement=DEPS, zones=layers, proposal=["49007"]), encoding="utf-8")
    count = (
        "return Array.prototype.filter.call(document.querySelectorAll('.leaflet-overlay-pane svg path'),"
        "function(p){return /url\\(#cpts-zone-/.test(p.getAttribute('fill')||'');}).length"
    )
    with chromium_page(path, wait_s=0.5) as page:
        assert page.errors == []
        # Drawn: hatched paths filled with the zone patterns, whose definitions are in the SVG.
        drawn = page.js(count)
        assert drawn >= 3
        ids = page.js(
            "return Array.prototype.map.call(document.querySelectorAll('.leaflet-overlay-pane svg pattern'),"
            "function(p){return p.id;})"
        )
        assert {"cpts-zone-0-0", "cpts-zone-1-0", "cpts-zone-2-0"} <= set(ids)
        # The hostile name: text in the layer control and the legend, never markup.
        assert page.js("return window.__owned === undefined && document.querySelectorAll('img').length") == 0
        labels = [
            e.text
            for e in page.driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")
        ]
        assert any(HOSTILE in t for t in labels), labels
        legend = page.driver.find_element(By.CSS_SELECTOR, ".at-zones-legend").text
        assert HOSTILE in legend and "QPV (polygones)" in legend
        page.screenshot(tmp_path / "atelier_zones.png")
        # Toggled: unticking the first layer removes its paths and hides its legend section.
        box = page.driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays input")[0]
        box.click()
        assert page.js(count) < drawn
        assert page.js("return document.querySelector('.at-zones-legend [data-zone=\"0\"]').hidden") is True
        box.click()
        assert page.js(count) == drawn
        assert page.js("return document.querySelector('.at-zones-legend [data-zone=\"0\"]').hidden") is False
        # A click through the hatching selects the commune below it (a QPV).
        page.js("window.atelier.clear()")
        qpv = [
            p
            for p in page.driver.find_elements(By.CSS_SELECTOR, ".leaflet-overlay-pane svg path")
            if "cpts-zone-2-0" in (p.get_attribute("fill") or "")
        ]
        assert len(qpv) >= 3
        ActionChains(page.driver).move_to_element(qpv[0]).click().perform()
        picked = page.js("return window.atelier.checks().territory.communes")
        touched = set(layers[2].unit_table["code"])
        assert len(picked) == 1 and picked[0] in touched, picked
        page.js("window.atelier.select(['49007'])")
        assert "QPV" in " ".join(page.js("return window.atelier.zoneLines()"))
        panel = page.driver.find_element(By.ID, "at-verdict").text
        assert "Zones" in panel and "Angers (49007)" in panel
        assert page.errors == [] and page.network_errors == []


def test_page_without_zones_has_no_zone_panel(ref):
    page = atelier_page(ref, departement="2A")
    assert '"zones"' not in page.split('id="atelier-data">')[1].split("</script>")[0]


def test_zone_layer_from_codes_on_the_page(ref):
    z = zone_layer_from_codes({"ZIP": ["2A004"]}, ref, name="</script><b>Z</b>")
    page = atelier_page(ref, departement="2A", zones=z)
    assert "</script><b>" not in page
