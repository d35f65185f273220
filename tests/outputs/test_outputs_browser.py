"""Every HTML output of a default command (no --offline, no npm) in headless Chromium with no
network: nothing requested but the page, Leaflet defined, polygons drawn; the check report's
sea link on the Belle-Île example; the coverage map's search popup still open 1.5 s after a
real click; the national map's DROM selector; the suggest map's labels and summary."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cpts_geo.cli.main import main
from cpts_geo.maps.base import external_resources
from tests.maps.test_leaflet_assets import _POPUP, _pick, logged_page
from tests.maps.test_maps import COUNT, MAP

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
REGISTER = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"
BELLE_ILE = EXAMPLES / "proposition_belle_ile.csv"


def run(*args) -> None:
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code in (0, 1), res.output


def _self_contained(page, path: Path) -> None:
    assert page.errors == [] and page.network_errors == []
    assert [u for u in page.requests if not u.startswith("data:")] == [path.resolve().as_uri()], page.requests
    assert page.js("return typeof L") == "object" and page.js("return L.version") == "1.9.4"
    assert page.js("return document.querySelectorAll('.cpts-carte-erreur').length") == 0


@pytest.mark.browser
def test_check_report_default_is_self_contained_with_the_sea_link(tmp_path):
    out = tmp_path / "rapport.html"
    run("check", BELLE_ILE, "-o", out)
    page_html = out.read_text(encoding="utf-8")
    assert external_resources(page_html) == []
    with logged_page(out, wait_s=1.5) as page:
        assert page.errors == [] and page.network_errors == []
        assert all(u.startswith(("file:", "data:", "about:")) for u in page.requests), page.requests
        assert page.js("return document.querySelector('img.carte-statique') !== null")
        assert "Traçabilité" in page.js("return document.body.innerText")
        # status badges coloured by report.css (warn: orange, pass: green)
        colours = page.js(
            "return Object.fromEntries([...document.querySelectorAll('.statut')].map("
            "b => [b.className, getComputedStyle(b).backgroundColor]))"
        )
        assert colours["statut statut-warn"] == "rgb(224, 130, 20)", colours
        assert colours["statut statut-pass"] == "rgb(26, 152, 80)", colours
        page.driver.switch_to.frame(page.driver.find_element("css selector", "iframe"))
        assert page.js("return typeof L") == "object"
        assert page.js(COUNT.format("leaflet-interactive")) >= 12  # 11 communes, rest of EPCI, outline
        assert page.js(COUNT.format("cpts-liaison-maritime")) == 1
        assert page.js(COUNT.format("cpts-partie-detachee")) == 1
        label = page.js("return document.querySelector('.cpts-sea-link-label').textContent")
        assert label == "12,5\u00a0km"
        # The dashed line runs from Le Palais (Belle-Île) to Quiberon: about 12.5 km on screen.
        dash = page.js(
            "return document.querySelector('path.cpts-liaison-maritime').getAttribute('stroke-dasharray')"
        )
        assert dash == "8 6"
        legend = page.js("return document.getElementById('cpts-legende').innerText")
        inside, outside = legend.index("Dans le territoire"), legend.index("Hors du territoire")
        assert inside < legend.index("Commune d'un EPCI partagé") < outside
        assert outside < legend.index("Reste d'un EPCI partagé (hors territoire)")
        assert "Liaison maritime" in legend and "Partie détachée du territoire" in legend
        assert page.js("return document.querySelector('.leaflet-control-scale-line').textContent").endswith(
            "km"
        )
        assert page.js("return document.querySelectorAll('.leaflet-control-scale-line').length") == 1
        page.driver.switch_to.default_content()
        page.screenshot(tmp_path / "rapport.png")


@pytest.mark.browser
def test_coverage_map_of_region_52_search_popup_stays_open(tmp_path):
    out = tmp_path / "carte.html"
    run("coverage-map", REGISTER, "--region", "52", "-o", out)
    with logged_page(out, wait_s=1.0) as page:
        _self_contained(page, out)
        assert page.js(COUNT.format("cpts-territoire")) == 60
        assert page.js(COUNT.format("cpts-limite-departement")) == 5
        # Collapsible panels; a metric scale only.
        assert (
            page.js("return document.querySelectorAll('#cpts-stats details, #cpts-legende details').length")
            >= 2
        )
        assert page.js("return document.querySelectorAll('.leaflet-control-scale-line').length") == 1
        stats = page.js("return document.getElementById('cpts-stats').textContent")
        assert "Zones blanches : " in stats and "commune(s)" not in stats
        assert "registre_fictif_pays_de_la_loire.csv, modifié le" in stats
        assert "Objectif national : 1\u00a0000\u00a0CPTS (valeur par défaut)" in stats
        _pick(page, "angers")
        time.sleep(1.5)
        state = page.js(_POPUP)
        assert state["open"] and state["inDom"] and state["opacity"] == "1", state
        assert state["text"].startswith("Angers (49007)Population : 159\u00a0022\u00a0hab.CPTS :"), state
        # Tooltips are drawn above the panels (their own pane, over the panels' z-index).
        z = page.js(
            "var t=document.querySelector('.leaflet-pane.leaflet-cptsTips-pane');"
            "return [t.parentElement.classList.contains('leaflet-container'), getComputedStyle(t).zIndex,"
            "getComputedStyle(document.getElementById('cpts-stats')).zIndex]"
        )
        assert z[0] and int(z[1]) > int(z[2]), z
        assert page.errors == []


@pytest.mark.browser
def test_national_coverage_map_has_the_drom_selector(tmp_path):
    out, png = tmp_path / "france.html", tmp_path / "france.png"
    run("coverage-map", REGISTER, "-o", out, "--png", png)
    with logged_page(out, wait_s=1.0) as page:
        _self_contained(page, out)
        assert page.js("return document.getElementById('cpts-titre').textContent").endswith("France entière")
        buttons = page.js(
            "return [...document.querySelectorAll('#cpts-zones button')].map(b => b.textContent)"
        )
        assert buttons == [
            "France métropolitaine",
            "Guadeloupe",
            "Martinique",
            "Guyane",
            "La Réunion",
            "Mayotte",
        ]
        # one button a line, as wide as the panel (maps.css)
        look = page.js(
            "var s=getComputedStyle(document.querySelector('#cpts-zones button'));"
            "return [s.display, s.textAlign, s.cursor, s.fontSize]"
        )
        assert look == ["block", "left", "pointer", "12px"], look
        page.js("document.querySelectorAll('#cpts-zones button')[4].click()")
        time.sleep(0.8)
        center = page.js(MAP + "var c=map.getCenter();return [c.lat,c.lng];")
        assert -21.5 < center[0] < -20.8 and 55.2 < center[1] < 55.9, center  # La Réunion
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.browser
def test_suggest_map_of_49_labels_and_summary(tmp_path):
    out = tmp_path / "propositions.html"
    run("suggest", "--departement", "49", "--map", out)
    with logged_page(out, wait_s=1.0) as page:
        _self_contained(page, out)
        n = page.js(COUNT.format("cpts-territoire-propose"))
        labels = page.js("return [...document.querySelectorAll('.cpts-label')].map(e => e.textContent)")
        assert n == len(labels) == 10 and all(x.startswith("49-T") for x in labels)  # EPCI mode
        stats = page.js("return document.getElementById('cpts-stats').textContent")
        assert stats.startswith(f"Proposition{n} territoires proposés")
        assert "0 CPTS" not in stats and "0,0\u00a0%" not in stats
        assert "Population minimale : 20\u00a0000\u00a0habitants (valeur par défaut)" in stats
        legend = page.js("return document.getElementById('cpts-legende').innerText")
        assert "Territoire proposé (étiquette : son identifiant" in legend
        assert "Contrat ACI signé" not in legend  # no register: no stage colours to explain
