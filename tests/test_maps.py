"""Coverage maps: dissolving and simplifying as one coverage, HTML content, offline assets,
static figures, the coverage-map command, and the pages in a real (headless) browser."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from cpts_geo.cli import main
from cpts_geo.coverage import coverage_summary
from cpts_geo.inputs import register_from_frame
from cpts_geo.maps import (
    MapAssetsMissingError,
    TerritoryLayer,
    coverage_bar_chart,
    coverage_figure,
    coverage_map,
    dissolve,
    map_assets_dir,
    render_map,
    save_figure,
    save_map,
)
from tests.browser import chromium_page

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
OFFLINE = (map_assets_dir() / "leaflet-1.9.3" / "leaflet.js").exists()
needs_assets = pytest.mark.skipif(not OFFLINE, reason="run python scripts/fetch_map_assets.py")


def page_text(m) -> str:
    """The rendered page with the JSON escapes (\\u00e9, \\u003c, ...) decoded."""
    return decode(render_map(m))


def decode(page: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda x: chr(int(x.group(1), 16)), page)


def epci_register(ref, departements, *, hostile=False, stages=("aci", "projet-sante")):
    """One CPTS per EPCI of the given départements (its communes there), stages alternating."""
    u = ref.units[ref.units["departement"].isin(departements) & (ref.units["epci"] != "")]
    ids = sorted(set(u["epci"]))
    stage = {e: stages[i % len(stages)] for i, e in enumerate(ids)}
    names = {e: (HOSTILE if hostile and i == 0 else f"CPTS {ref.epci.at[e, 'nom']}") for i, e in enumerate(ids)}
    df = pd.DataFrame({"cpts_id": u["epci"].to_numpy(), "cpts_nom": [names[e] for e in u["epci"]],
                       "code_insee": u.index.to_numpy(), "statut": [stage[e] for e in u["epci"]]})
    return register_from_frame(df, ref)


@pytest.fixture(scope="module")
def reg49(ref):
    """EPCIs of Maine-et-Loire as CPTS, minus one (a white zone), plus an overlap on Angers."""
    reg = epci_register(ref, ["49"], hostile=True)
    t = reg.table
    first = sorted(set(t["cpts_id"]))[-1]
    t = t[t["cpts_id"] != first]
    extra = pd.DataFrame([("X", "CPTS <b>Angers & Co</b>", "49007", "pre-projet")],
                         columns=["cpts_id", "cpts_nom", "code_insee", "statut"])
    return register_from_frame(pd.concat([t[extra.columns], extra], ignore_index=True), ref)


def test_dissolve_is_a_coverage(ref):
    u = ref.units[ref.units["departement"] == "49"]
    groups = u["epci"]
    gdf = dissolve(ref, groups, tolerance_m=200, decimals=6)
    assert list(gdf.index) == list(dict.fromkeys(groups))
    assert gdf["population"].sum() == u["population"].sum()
    assert shapely.coverage_is_valid(gdf.geometry.to_numpy())  # no overlap between neighbours
    # No gap either: the groups cover what the units cover, give or take the simplification.
    whole = shapely.union_all(u.geometry.to_numpy())
    union = shapely.coverage_union_all(gdf.geometry.to_numpy())
    lam = gpd.GeoSeries([whole, union, whole.symmetric_difference(union)], crs=4326).to_crs(2154).area
    assert lam[2] / lam[0] < 0.003
    assert shapely.get_num_coordinates(gdf.geometry.to_numpy()).sum() < shapely.get_num_coordinates(
        u.geometry.to_numpy()).sum() / 2


def test_dissolve_overlapping_groups(ref):
    pairs = pd.DataFrame({"group": ["a", "a", "b", "b"], "code_insee": ["49007", "49353", "49353", "49015"]})
    gdf = dissolve(ref, pairs)
    assert list(gdf["n_units"]) == [2, 2] and list(gdf["population"]) == [159022 + 16333, 16333 + 15251]
    shared = gdf.geometry["a"].intersection(gdf.geometry["b"])
    tr = ref.units.geometry["49353"]
    assert abs(shared.area - tr.area) / tr.area < 1e-4  # coordinates rounded to 6 decimals


def test_map_html(ref, reg49):
    m = coverage_map(ref, reg49, departement="49")
    raw = render_map(m)
    page = decode(raw)
    for text in ("CPTS par stade", "Zones blanches (aucune CPTS)", "Communes dans plusieurs CPTS",
                 "Limites des départements", "Part de la population couverte (département)", "Légende",
                 "Contrat ACI signé", "Projet de santé validé", "COG 2026, populations légales 2023",
                 "Rechercher une commune", "Département Maine-et-Loire (49)", "tile.openstreetmap.org"):
        assert text.lower() in page.lower(), text
    assert "<script>window.__pwned" not in raw and "<img src=x" not in raw  # raw HTML: never
    assert "&lt;b&gt;Angers &amp; Co&lt;/b&gt;" in page  # tooltips: escaped text
    assert "jquery" not in page and "bootstrap" not in page
    a = m._cpts_summary.area
    assert a["overlap_communes"] == 1 and a["white_zone_communes"] > 0


def test_offline_map_is_self_contained(ref, reg49, tmp_path, monkeypatch):
    if not OFFLINE:
        monkeypatch.setenv("CPTS_GEO_MAP_ASSETS", str(tmp_path / "nothing"))
        with pytest.raises(MapAssetsMissingError, match="scripts/fetch_map_assets.py"):
            coverage_map(ref, reg49, departement="49", offline=True)
        return
    page = render_map(coverage_map(ref, reg49, departement="49", offline=True))
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page)
    assert "tile.openstreetmap" not in page and "cartocdn" not in page
    assert "url(images/" not in page  # Leaflet's icons inlined as data: URIs


def test_offline_assets_missing(ref, reg49, tmp_path, monkeypatch):
    monkeypatch.setenv("CPTS_GEO_MAP_ASSETS", str(tmp_path / "nothing"))
    with pytest.raises(MapAssetsMissingError, match=r"Leaflet 1\.9\.3 introuvable .* `python scripts/fetch_map_assets.py`"):
        coverage_map(ref, reg49, departement="49", offline=True)


def test_empty_register_map(ref):
    empty = register_from_frame(pd.DataFrame(columns=["cpts_id", "cpts_nom", "code_insee", "statut"]), ref)
    page = page_text(coverage_map(ref, empty, region="94"))
    assert "Zone blanche — Corse-du-Sud (2A)" in page and "Zone blanche — Haute-Corse (2B)" in page


def test_extra_layer(ref, reg49):
    membership = pd.DataFrame({"group": ["T1", "T1"], "code_insee": ["49002", "49003"]})
    props = pd.DataFrame({"label": ["Territoire <i>proposé</i>"]}, index=["T1"])
    layer = TerritoryLayer("Territoires proposés", membership, props, {"label": "Territoire"},
                           {"color": "#000", "fillColor": "#1b9e77"}, legend=[("Proposé", {"fillColor": "#1b9e77"})],
                           class_name="cpts-propose")
    page = page_text(coverage_map(ref, reg49, departement="49", extra_layers=[layer]))
    assert "Territoires proposés" in page and "Territoire &lt;i&gt;proposé&lt;/i&gt;" in page
    assert "cpts-propose" in page


def test_static_figures(ref, reg49, tmp_path):
    fig = coverage_figure(ref, reg49, departement="49")
    out = save_figure(fig, tmp_path / "carte.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    cov = coverage_summary(ref, reg49, region="52")
    svg = save_figure(coverage_bar_chart(cov, by="departement"), tmp_path / "barres.svg")
    assert "Maine-et-Loire (49)" in svg.read_text()


def test_cli_coverage_map(ref, reg49, tmp_path):
    path = tmp_path / "registre.csv"
    reg49.table[["cpts_id", "cpts_nom", "code_insee", "statut"]].to_csv(path, index=False)
    out, png = tmp_path / "carte.html", tmp_path / "carte.png"
    r = CliRunner().invoke(main, ["coverage-map", str(path), "--departement", "49", "-o", str(out),
                                  "--png", str(png)])
    assert r.exit_code == 0, r.output
    assert "Carte : " in r.stderr and out.stat().st_size > 10000 and png.exists()
    r = CliRunner().invoke(main, ["coverage-map", str(path), "--region", "123", "-o", str(out)])
    assert r.exit_code == 2 and "région '123' inconnu(e)" in r.stderr


# ---- in a real browser -----------------------------------------------------------------------
COUNT = "return document.querySelectorAll('path.{}').length"


@pytest.mark.browser
@needs_assets
def test_browser_national(ref, tmp_path):
    reg = epci_register(ref, ["49", "44", "35", "29", "971"])
    n_cpts = reg.table["cpts_id"].nunique()
    path = save_map(coverage_map(ref, reg, offline=True), tmp_path / "france.html")
    with chromium_page(path) as page:
        assert page.errors == []
        assert page.network_errors == []
        assert page.js(COUNT.format("cpts-territoire")) == n_cpts
        assert page.js(COUNT.format("cpts-limite-departement")) == 101
        assert page.js("return document.querySelectorAll('.leaflet-control-layers-overlays label').length") == 6
        assert page.js("return document.getElementById('cpts-legende').textContent").startswith("Légende")
        assert page.js("return document.querySelector('pattern#cpts-hachures') !== null")
        shot = page.screenshot(tmp_path / "france.png")
    assert shot.stat().st_size > 20000


@pytest.mark.browser
@needs_assets
def test_browser_regional_hostile_names(ref, reg49, tmp_path):
    reg = epci_register(ref, ["44", "49", "53", "72", "85"], hostile=True)
    n = len({c for c, r in zip(reg.table["cpts_id"], reg.table["code_insee"])})
    path = save_map(coverage_map(ref, reg, region="52", offline=True), tmp_path / "pdl.html")
    with chromium_page(path) as page:
        assert page.errors == []
        assert page.js("return window.__pwned === undefined")
        assert page.js(COUNT.format("cpts-territoire")) == n
        assert page.js("return document.querySelectorAll('.leaflet-control-layers').length") == 1
        # The hostile name shows as text in the tooltip, and the search box finds communes.
        page.js("var l=document.querySelector('path.cpts-territoire');"
                "l.dispatchEvent(new MouseEvent('mouseover',{bubbles:true,clientX:600,clientY:400}));")
        inp = "document.querySelector('#cpts-recherche input')"
        page.js(f"var i={inp};i.value='trelaze';i.dispatchEvent(new Event('input'));")
        assert page.js("return document.querySelector('#cpts-recherche li').textContent") == "Trélazé (49353)"
        page.js("document.querySelector('#cpts-recherche li').click()")
        popup = page.js("return document.querySelector('.leaflet-popup-content').textContent")
        assert "Population : 16\u202f333 hab." in popup and "CPTS" in popup
        assert page.js("return window.__pwned === undefined")
        page.screenshot(tmp_path / "pdl.png")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in decode(path.read_text())
