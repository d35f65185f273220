"""Coverage maps: dissolving and simplifying as one coverage, HTML content, self-contained assets,
static figures, and the pages in a real (headless) browser."""

from __future__ import annotations

import re
import time

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cpts_geo.inputs.register import register_from_frame
from cpts_geo.maps.base import LEAFLET_VERSION, external_resources, render_map, save_map
from cpts_geo.maps.coverage import TerritoryLayer, coverage_map
from cpts_geo.outputs.figures import coverage_bar_chart, coverage_figure, save_figure
from cpts_geo.reference.geometry import dissolve
from cpts_geo.steering.coverage import coverage_summary
from tests.browser import chromium_page

# HTML, and Jinja delimiters: branca compiles each element's output as a template.
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> {{ 7*7 }} {% if 1 %}{# x'
PNG = b"\x89PNG\r\n\x1a\n"


def page_text(m) -> str:
    """The rendered page with the JSON escapes (\\u00e9, \\u003c, ...) decoded."""
    return decode(render_map(m))


def decode(page: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda x: chr(int(x.group(1), 16)), page)


def layers(m) -> dict[str, np.ndarray]:
    """The polygons of each GeoJSON layer of a map, by layer name."""
    out = {}
    for child in m._children.values():
        if isinstance(child, folium.GeoJson):
            out[child.layer_name] = np.array(
                [shapely.geometry.shape(f["geometry"]) for f in child.data["features"]], dtype=object
            )
    return out


def epci_register(ref, departements, *, hostile=False, stages=("aci", "projet-sante")):
    """One CPTS per EPCI of the given départements (its communes there), stages alternating."""
    u = ref.units[ref.units["departement"].isin(departements) & (ref.units["epci"] != "")]
    ids = sorted(set(u["epci"]))
    stage = {e: stages[i % len(stages)] for i, e in enumerate(ids)}
    names = {
        e: (HOSTILE if hostile and i == 0 else f"CPTS {ref.epci.at[e, 'nom']}") for i, e in enumerate(ids)
    }
    df = pd.DataFrame(
        {
            "cpts_id": u["epci"].to_numpy(),
            "cpts_nom": [names[e] for e in u["epci"]],
            "code_insee": u.index.to_numpy(),
            "statut": [stage[e] for e in u["epci"]],
        }
    )
    return register_from_frame(df, ref)


@pytest.fixture(scope="module")
def reg49(ref):
    """EPCIs of Maine-et-Loire as CPTS, minus one (a white zone), plus an overlap on Angers."""
    reg = epci_register(ref, ["49"], hostile=True)
    t = reg.table
    first = sorted(set(t["cpts_id"]))[-1]
    t = t[t["cpts_id"] != first]
    extra = pd.DataFrame(
        [("X", "CPTS <b>Angers & Co</b>", "49007", "pre-projet")],
        columns=["cpts_id", "cpts_nom", "code_insee", "statut"],
    )
    return register_from_frame(pd.concat([t[extra.columns], extra], ignore_index=True), ref)


# ---- geometry --------------------------------------------------------------------------------
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
    assert (
        shapely.get_num_coordinates(gdf.geometry.to_numpy()).sum()
        < shapely.get_num_coordinates(u.geometry.to_numpy()).sum() / 2
    )


def test_dissolve_overlapping_groups(ref):
    pairs = pd.DataFrame({"group": ["a", "a", "b", "b"], "code_insee": ["49007", "49353", "49353", "49015"]})
    gdf = dissolve(ref, pairs)
    assert list(gdf["n_units"]) == [2, 2] and list(gdf["population"]) == [159022 + 16333, 16333 + 15251]
    shared = gdf.geometry["a"].intersection(gdf.geometry["b"])
    tr = ref.units.geometry["49353"]
    assert abs(shared.area - tr.area) / tr.area < 1e-4  # coordinates rounded to 6 decimals


def test_map_layers_are_a_coverage(ref):
    """At the national level of detail (500 m, 3 decimals), the CPTS and the white zones drawn
    still tile the région: valid polygons, no overlap, no gap or sliver the reference does not
    have, coordinates on the 10^-3 degree grid."""
    reg = epci_register(ref, ["44", "49", "85"])
    m = coverage_map(ref, reg, region="52", tolerance_m=500, decimals=3, search=False)
    drawn = layers(m)
    geoms = np.concatenate([drawn["CPTS par stade"], drawn["Zones blanches (aucune CPTS)"]])
    assert len(drawn["CPTS par stade"]) == reg.table["cpts_id"].nunique()
    # Mayenne, Sarthe, and in Vendée L'Île-d'Yeu, which belongs to no EPCI.
    assert len(drawn["Zones blanches (aucune CPTS)"]) == 3
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)
    units = ref.units[(ref.units["region"] == "52") & ref.units.geometry.notna()].geometry.to_numpy()

    def gap_edges(g):  # edges of gaps narrower than ~100 m inside the coverage
        return int((~shapely.is_empty(shapely.coverage_invalid_edges(g, gap_width=0.001))).sum())

    assert gap_edges(geoms) <= gap_edges(units)
    lam = gpd.GeoSeries([shapely.union_all(units), shapely.coverage_union_all(geoms)], crs=4326).to_crs(2154)
    assert abs(lam.area[1] - lam.area[0]) / lam.area[0] < 0.005
    coords = shapely.get_coordinates(geoms)
    assert np.allclose(coords, np.round(coords, 3), rtol=0, atol=1e-9)
    assert len(coords) < shapely.get_num_coordinates(units).sum() / 5
    deps = drawn["Limites des départements"]
    assert len(deps) == 5 and shapely.coverage_is_valid(deps)


# ---- the HTML page ---------------------------------------------------------------------------
def test_map_html(ref, reg49):
    cov = coverage_summary(ref, reg49, departement="49")
    m = coverage_map(ref, cov)
    raw = render_map(m)
    page = decode(raw)
    for text in (
        "CPTS par stade",
        "Zones blanches (aucune CPTS)",
        "Communes dans plusieurs CPTS",
        "Limites des départements",
        "Part de la population couverte (département)",
        "Légende",
        "Contrat ACI signé",
        "Projet de santé validé",
        "COG 2026, populations légales 2023",
        "Rechercher une commune",
        "Département Maine-et-Loire (49)",
        "Taille ACI",
        "Zone blanche — Maine-et-Loire (49)",
    ):
        assert text.lower() in page.lower(), text
    assert "<script>window.__pwned" not in raw and "<img src=x" not in raw  # raw HTML: never
    assert "&lt;b&gt;Angers &amp; Co&lt;/b&gt;" in page  # tooltips: escaped text
    assert "&#123;&#123; 7*7 }} &#123;% if 1 %}&#123;# x" in page and "&gt; 49 " not in page  # not evaluated
    assert "jquery" not in page and "bootstrap" not in page
    assert "tile.openstreetmap.org" not in page  # no basemap unless online
    assert "Zones blanches : " in page and "commune(s)" not in page
    a = cov.area
    assert a["overlap_communes"] == 1 and a["white_zone_communes"] > 0
    drawn = layers(m)
    assert len(drawn["CPTS par stade"]) == reg49.table["cpts_id"].nunique()
    assert len(drawn["Communes dans plusieurs CPTS"]) == 1


def test_overlap_layer_has_one_polygon_per_set_of_cpts(ref):
    # 49007 in A and C, 49015 in A and B, 49020 in A, B and C: three sets, three polygons, each
    # the commune of its set (the atoms indexed by their set of CPTS).
    rows = [("A", c) for c in ("49007", "49015", "49020", "49099")]
    rows += [("B", c) for c in ("49015", "49020", "49267")] + [("C", c) for c in ("49007", "49020")]
    reg = pd.DataFrame(rows, columns=["cpts_id", "code_insee"]).assign(
        cpts_nom=lambda d: "CPTS " + d["cpts_id"]
    )
    m = coverage_map(ref, reg, departement="49")
    features = next(
        c.data["features"]
        for c in m._children.values()
        if isinstance(c, folium.GeoJson) and c.layer_name == "Communes dans plusieurs CPTS"
    )
    got = {f["properties"]["cpts"]: shapely.geometry.shape(f["geometry"]) for f in features}
    expected = {"CPTS A ; CPTS C": "49007", "CPTS A ; CPTS B": "49015", "CPTS A ; CPTS B ; CPTS C": "49020"}
    assert set(got) == set(expected)
    for key, commune in expected.items():
        unit = ref.units.at[commune, "geometry"]
        assert (
            shapely.area(shapely.intersection(got[key], unit)) / shapely.area(shapely.union(got[key], unit))
            > 0.95
        )


def test_default_map_is_self_contained(ref, reg49):
    page = render_map(coverage_map(ref, reg49, departement="49"))
    assert external_resources(page) == []
    assert not re.search(r"<(script|link|img)\b[^>]*\b(src|href)\s*=", page)
    assert "tile.openstreetmap" not in page and "cartocdn" not in page
    assert "url(images/" not in page  # Leaflet's icons inlined as data: URIs
    assert f"Leaflet {LEAFLET_VERSION}" in page and LEAFLET_VERSION == "1.9.4"
    assert page.index("cpts-carte-erreur") < page.index("Leaflet 1.9.4")  # French fallback first
    # What is left of http(s) in the page is text, not a load: links, namespaces, comments.
    left = set(re.findall(r"https?://[\w./-]+", page))
    assert left <= {
        "https://leafletjs.com",
        "http://www.w3.org/2000/svg",
        "https://bugzilla.mozilla.org/show_bug.cgi",
        "https://bugs.chromium.org/p/chromium/issues/detail",  # comments in Leaflet 1.9.4
    }
    # The deprecated offline=True changes nothing.
    assert external_resources(render_map(coverage_map(ref, reg49, departement="49", offline=True))) == []


def test_external_resources_sees_every_folium_asset(ref, reg49):
    """The self-contained check would catch each file folium loads by default, and the online
    map loads only Leaflet from its CDN, plus the OpenStreetMap and IGN tiles."""
    plain = folium.Map()
    found = external_resources(plain.get_root().render())
    assert len(found) == len(plain.default_js) + len(plain.default_css) >= 8
    page = render_map(coverage_map(ref, reg49, departement="49", online=True))
    online = external_resources(page)
    assert [re.search(r"leaflet\.(js|css)", f).group(0) for f in online] == ["leaflet.js", "leaflet.css"]
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in page and "data.geopf.fr/wmts" in page
    assert "openstreetmap.org/copyright" in page
    assert external_resources(
        "<style>@import url('//x.org/a.css');b{background:url(https://x.org/i.png)}</style>"
    )


def test_render_map_refuses_a_default_page_that_loads_from_the_network(ref, reg49):
    from cpts_geo._errors import CptsGeoError

    m = coverage_map(ref, reg49, departement="49", search=False)
    from folium.plugins import Fullscreen

    Fullscreen().add_to(m)  # a plugin bringing its own files from a CDN
    with pytest.raises(CptsGeoError, match="carte autonome : des éléments de la carte chargent"):
        render_map(m)


def test_white_zone_count_names_arrondissements(ref):
    empty = register_from_frame(pd.DataFrame(columns=["cpts_id", "cpts_nom", "code_insee", "statut"]), ref)
    page = page_text(coverage_map(ref, empty, departement="75", search=False))
    assert "Zones blanches : 2\u00a0103\u00a0778\u00a0hab., 20 arrondissements municipaux</div>" in page
    page = page_text(coverage_map(ref, empty, departement="13", search=False))
    assert re.search(
        r"Zones blanches : [\d\u00a0]+\u00a0hab\., 134 unités \(118 communes et 16 arrondissements "
        r"municipaux\)<",
        page,
    )


def test_empty_register_map(ref):
    empty = register_from_frame(pd.DataFrame(columns=["cpts_id", "cpts_nom", "code_insee", "statut"]), ref)
    m = coverage_map(ref, empty, region="94")
    page = page_text(m)
    assert "Zone blanche — Corse-du-Sud (2A)" in page and "Zone blanche — Haute-Corse (2B)" in page
    assert "<b>0</b> CPTS" in page
    cov = coverage_summary(ref, empty)
    drawn = layers(coverage_map(ref, cov, search=False))
    assert len(drawn["CPTS par stade"]) == 0
    assert len(drawn["Zones blanches (aucune CPTS)"]) == 101  # one per département
    assert cov.national["white_zone_communes"] == 34917


def test_extra_layer(ref, reg49):
    membership = pd.DataFrame({"group": ["T1", "T1"], "code_insee": ["49002", "49003"]})
    props = pd.DataFrame({"label": ["Territoire <i>proposé</i>"]}, index=["T1"])
    layer = TerritoryLayer(
        "Territoires proposés",
        membership,
        props,
        {"label": "Territoire"},
        {"color": "#000", "fillColor": "#1b9e77"},
        legend=[("Proposé", {"fillColor": "#1b9e77"})],
        class_name="cpts-propose",
    )
    page = page_text(coverage_map(ref, reg49, departement="49", extra_layers=[layer]))
    assert "Territoires proposés" in page and "Territoire &lt;i&gt;proposé&lt;/i&gt;" in page
    assert "cpts-propose" in page


# ---- static figures --------------------------------------------------------------------------
def test_static_figures(ref, reg49, tmp_path):
    out = save_figure(coverage_figure(ref, reg49, departement="49"), tmp_path / "carte.png")
    assert out.read_bytes()[:8] == PNG
    svg = save_figure(coverage_figure(ref, reg49), tmp_path / "france.svg").read_text()
    assert "France entière" in svg and "Guadeloupe (971)" in svg and "Mayotte (976)" in svg
    assert "Zone blanche" in svg and "Contrat ACI signé" in svg
    cov = coverage_summary(ref, reg49, region="52")
    svg = save_figure(coverage_bar_chart(cov, by="departement"), tmp_path / "barres.svg").read_text()
    assert "Maine-et-Loire (49)" in svg and "Objectif (part de l'objectif national)" in svg
    assert "Population couverte (%)" in svg
    with pytest.raises(ValueError, match="format de figure inconnu"):
        save_figure(coverage_bar_chart(cov), tmp_path / "barres.gif")


# ---- in a real browser -----------------------------------------------------------------------
COUNT = "return document.querySelectorAll('path.{}').length"
MAP = "var map=Object.values(window).find(function(v){return v instanceof L.Map;});"


def hover(page, class_name: str, name_part: str) -> dict:
    """Move the mouse onto the polygon of layer ``class_name`` whose ``nom``/``cpts`` contains
    ``name_part`` and return its tooltip (text, and how many elements were parsed in it)."""
    return page.js(
        MAP + "var cls=arguments[0],part=arguments[1],hit=null;"
        "map.eachLayer(function(l){var p=l.feature&&l.feature.properties;"
        "if(p&&l._path&&l._path.classList.contains(cls)&&decode(p.nom||p.cpts||'').indexOf(part)>=0)hit=l;});"
        "function decode(s){var t=document.createElement('textarea');t.innerHTML=s;return t.value;}"
        "if(!hit)return null;var r=hit._path.getBoundingClientRect();"
        "var o={bubbles:true,clientX:r.left+r.width/2,clientY:r.top+r.height/2};"
        "hit._path.dispatchEvent(new MouseEvent('mouseover',o));hit._path.dispatchEvent(new MouseEvent('mousemove',o));"
        "var t=document.querySelector('.leaflet-tooltip');if(!t)return {text:null};"
        "return {text:t.textContent,elements:t.querySelectorAll('script,img,b,i').length};",
        class_name,
        name_part,
    )


@pytest.mark.browser
def test_browser_harness_sees_errors_and_loads(tmp_path):
    """The checks below are not vacuous: a thrown error, a console error and a request to the
    network are all seen."""
    path = tmp_path / "bad.html"
    path.write_text(
        "<html><head><script src='https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js'>"
        "</script></head><body><script>console.error('boom');throw new Error('kaboom')</script>"
        "</body></html>"
    )
    with chromium_page(path, wait_s=0.5) as page:
        errors = " ".join(page.errors)
        assert "kaboom" in errors and "boom" in errors
        assert any("leaflet.js" in e for e in page.network_errors)


@pytest.mark.browser
def test_browser_national(ref, tmp_path):
    reg = epci_register(ref, ["49", "44", "35", "29", "971"])
    t = reg.table[["cpts_id", "cpts_nom", "code_insee", "statut"]]
    # An overlap: Angers also in the first CPTS of Loire-Atlantique.
    first44 = t.loc[t["code_insee"].str.startswith("44"), ["cpts_id", "cpts_nom", "statut"]].iloc[0]
    reg = register_from_frame(pd.concat([t, pd.DataFrame([{**first44, "code_insee": "49007"}])]), ref)
    n_cpts = reg.table["cpts_id"].nunique()
    cov = coverage_summary(ref, reg)
    m = coverage_map(ref, cov)
    n_white = sum(d["white_zone_communes"] > 0 for d in cov.departements)
    path = save_map(m, tmp_path / "france.html")
    with chromium_page(path) as page:
        assert page.errors == []
        assert page.network_errors == []
        assert page.js("return typeof L") == "object" and page.js("return L.version") == LEAFLET_VERSION
        assert page.js(COUNT.format("cpts-territoire")) == n_cpts
        assert page.js(COUNT.format("cpts-chevauchement")) == 1
        assert page.js(COUNT.format("cpts-zone-blanche")) == n_white  # one per département
        assert page.js(COUNT.format("cpts-limite-departement")) == 101
        assert page.js(COUNT.format("cpts-limite-region")) == 18
        assert page.js(COUNT.format("cpts-choroplethe")) == 0  # hidden until chosen
        overlays = page.js(
            "return Array.from(document.querySelectorAll("
            "'.leaflet-control-layers-overlays label')).map(function(l){return l.textContent.trim();})"
        )
        assert overlays == [
            "CPTS par stade",
            "Zones blanches (aucune CPTS)",
            "Communes dans plusieurs CPTS",
            "Limites des départements",
            "Part de la population couverte (département)",
            "Limites des régions",
        ]
        legend = page.js("return document.getElementById('cpts-legende').textContent")
        assert legend.startswith("Légende") and "Contrat ACI signé" in legend and "Zone blanche" in legend
        stats = page.js("return document.getElementById('cpts-stats').textContent")
        assert f"{n_cpts} CPTS pour un objectif national de 1\u00a0000 : " in stats and "COG 2026" in stats
        assert page.js("return document.querySelector('pattern#cpts-hachures') !== null")
        assert page.js(
            "return document.querySelector('path.cpts-zone-blanche').getAttribute('fill')"
        ).startswith("url(#cpts-hachures)")
        # The choropleth can be shown: one path per département.
        page.js(
            "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label')).find("
            "function(l){return l.textContent.indexOf('Part de la population')>=0;}).querySelector('input').click()"
        )
        assert page.js(COUNT.format("cpts-choroplethe")) == 101
        page.js(
            "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label')).find("
            "function(l){return l.textContent.indexOf('Part de la population')>=0;}).querySelector('input').click()"
        )
        assert page.errors == []
        shot = page.screenshot(tmp_path / "france.png")
    assert shot.read_bytes()[:8] == PNG and shot.stat().st_size > 20000


@pytest.mark.browser
def test_browser_regional_hostile_names(ref, tmp_path):
    reg = epci_register(ref, ["44", "49", "53", "72", "85"], hostile=True)
    t = reg.table[["cpts_id", "cpts_nom", "code_insee", "statut"]]
    hostile = t[t["cpts_nom"] == HOSTILE]
    # The hostile CPTS also claims a commune of another CPTS: its name is in the overlap too.
    other = t[(t["cpts_id"] != hostile["cpts_id"].iloc[0]) & t["code_insee"].str.startswith("49")].iloc[0]
    reg = register_from_frame(
        pd.concat(
            [
                t,
                pd.DataFrame(
                    [
                        {
                            **hostile.iloc[0][["cpts_id", "cpts_nom", "statut"]],
                            "code_insee": other["code_insee"],
                        }
                    ]
                ),
            ]
        ),
        ref,
        source="registre <b>test</b> {{ 3*3 }}.csv",
    )
    n = reg.table["cpts_id"].nunique()
    path = save_map(coverage_map(ref, reg, region="52"), tmp_path / "pdl.html")
    raw = path.read_text()
    assert "<script>window.__pwned" not in raw and "<img src=x" not in raw
    with chromium_page(path) as page:
        assert page.errors == [] and page.network_errors == []
        assert page.js("return window.__pwned === undefined")
        assert page.js(COUNT.format("cpts-territoire")) == n
        assert page.js(COUNT.format("cpts-chevauchement")) == 1
        assert page.js("return document.querySelectorAll('.leaflet-control-layers').length") == 1
        assert page.js("return document.getElementById('cpts-legende') !== null")
        assert "Registre : registre <b>test</b> {{ 3*3 }}.csv" in page.js(
            "return document.getElementById('cpts-stats').textContent"
        )
        # Tooltips: the hostile name shows as text; nothing in it is parsed as HTML.
        tip = hover(page, "cpts-territoire", "__pwned")
        assert HOSTILE in tip["text"] and "Taille ACI" in tip["text"] and tip["elements"] == 0
        tip = hover(page, "cpts-chevauchement", "__pwned")
        assert HOSTILE in tip["text"] and tip["elements"] == 0
        # Popups: the search box finds a commune of the hostile CPTS; its popup names it as text.
        code = hostile["code_insee"].iloc[0]
        inp = "document.querySelector('#cpts-recherche input')"
        page.js(f"var i={inp};i.value=arguments[0];i.dispatchEvent(new Event('input'));", code)
        label = page.js("return document.querySelector('#cpts-recherche li').textContent")
        assert label == f"{ref.units.at[code, 'nom']} ({code})"
        page.js("document.querySelector('#cpts-recherche li').click()")
        time.sleep(1.0)  # the popup opens once the map has zoomed there
        popup = page.js(
            "var p=document.querySelector('.leaflet-popup-content');"
            "return {text:p.textContent,elements:p.querySelectorAll('script,img').length};"
        )
        assert HOSTILE in popup["text"] and popup["elements"] == 0
        pop = f"{ref.units.at[code, 'population']:,}".replace(",", "\u00a0")
        assert f"Population : {pop}\u00a0hab." in popup["text"]
        # And by name, accents and case ignored.
        page.js(f"var i={inp};i.value='trelaze';i.dispatchEvent(new Event('input'));")
        assert page.js("return document.querySelector('#cpts-recherche li').textContent") == "Trélazé (49353)"
        assert page.js("return window.__pwned === undefined")
        assert page.errors == []
        shot = page.screenshot(tmp_path / "pdl.png")
    assert shot.read_bytes()[:8] == PNG


def test_legend_samples_draw_outline_only_and_dashed_styles_as_the_map_does():
    """The removed CPTS of the changes map is an outline: its legend sample showed a fill."""
    from cpts_geo.maps.base import swatch
    from cpts_geo.maps.styles import CHANGE_STYLES

    removed = swatch(CHANGE_STYLES["removed"][1])
    assert "background:transparent" in removed and "dashed" in removed
    filled = swatch({"color": "#333", "fillColor": "#1a9850", "fillOpacity": 0.5})
    assert "background:#1a9850" in filled and "solid" in filled
