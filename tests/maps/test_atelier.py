"""The builder page (``cpts-geo atelier``): its data, and the parity of its JavaScript rules with
:func:`cpts_geo.checks.rules.check_territory` on seeded random territories, in headless Chromium
with no network; then the page's tools (click, search, EPCI, lasso, undo, hash, export)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cpts_geo.checks.rules import check_territory
from cpts_geo.inputs.read import as_register
from cpts_geo.maps.atelier import atelier_page
from cpts_geo.maps.atelier_data import atelier_payload, page_units
from tests.browser import chromium_page

SEED = 20261206


# ---------------------------------------------------------------------------------------------
# Random territories on a page's units
# ---------------------------------------------------------------------------------------------
def _growth(rng, a, units: np.ndarray, size: int, start: int | None = None) -> list[int]:
    """A connected territory grown from a random unit, one random frontier unit at a time."""
    on_page = set(units.tolist())
    start = int(rng.choice(units)) if start is None else start
    chosen = {start}
    frontier = set(a.neighbours_of(np.array([start])).tolist()) & on_page
    while len(chosen) < size and frontier:
        nxt = int(rng.choice(sorted(frontier)))
        chosen.add(nxt)
        frontier |= set(a.neighbours_of(np.array([nxt])).tolist()) & on_page
        frontier -= chosen
    return sorted(chosen)


def _water_pairs(ref, units: np.ndarray, max_km: float, focus: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The water crossings of at most ``max_km`` between two units of the page (positions, one
    row each), and those with a unit in one of the EPCIs ``focus`` (codes)."""
    frm, to, _ = ref.water_neighbours(units, max_km)
    pairs = np.c_[frm, to][(frm < to) & np.isin(to, units)]
    a = ref.arrays
    ids = np.flatnonzero(np.isin(a.epci_codes.astype(str), focus))
    near = np.isin(a.epci[pairs[:, 0]], ids) | np.isin(a.epci[pairs[:, 1]], ids)
    return pairs, pairs[near]


def random_territories(
    ref,
    units: np.ndarray,
    in_area: np.ndarray,
    n: int,
    seed: int,
    *,
    sea_link_km: float = 30.0,
    water_epcis: tuple[str, ...] = (),
) -> list[list[str]]:
    """``n`` seeded territories of the page's units, of every kind the parity must hold on:
    connected growths (small and up to 300 units), growths with holes (enclaves), scattered
    sets, whole EPCIs and unions of them, sets with island units and sub-communal units
    (arrondissements), growths across the area's border; where ``water_epcis`` are given
    (EPCI codes whose parts face each other across water), also those EPCIs whole, with a few
    units more or less, and growths from both ends of a water crossing (half of them near those
    EPCIs), some with holes, so that parts of one land mass are joined across water, or left
    apart by land, and outside units face each other across water."""
    rng = np.random.default_rng(seed)
    a = ref.arrays
    area = units[in_area]
    epcis = np.unique(a.epci[area])
    epcis = epcis[epcis >= 0]
    islands = np.array([p for p in units.tolist() if a.land[p] != ref.main_land[a.dep[p]]], dtype=np.int64)
    subs = units[np.isin(a.codes[units].astype(str), [c for v in ref.subdivided.values() for c in v])]
    on_page = set(units.tolist())
    out: list[list[int]] = []
    kinds = ["growth", "big", "holes", "scattered", "epci", "epcis", "islands", "sub", "border"]
    if water_epcis:
        crossings, focused = _water_pairs(ref, units, sea_link_km, list(water_epcis))
        focus_ids = np.flatnonzero(np.isin(a.epci_codes.astype(str), list(water_epcis)))
        kinds += ["water_epci", "straddle", "straddle", "straddle_holes", "straddle_big"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "water_epci":
            chosen = rng.choice(
                focus_ids, size=int(rng.integers(1, min(3, len(focus_ids)) + 1)), replace=False
            )
            t = sorted(set(np.flatnonzero(np.isin(a.epci, chosen)).tolist()) & on_page)
            if rng.random() < 0.6:  # a few units more (neighbours) or less
                nb = np.setdiff1d(a.neighbours_of(np.asarray(t)), t)
                change = rng.choice(np.r_[np.asarray(t), nb], size=int(rng.integers(1, 4)), replace=False)
                t = sorted((set(t) ^ set(change.tolist())) & on_page) or t
        elif kind.startswith("straddle"):
            pool = focused if len(focused) and rng.random() < 0.5 else crossings
            x, y = pool[int(rng.integers(len(pool)))].tolist()
            big = kind == "straddle_big"
            sizes = rng.integers(40, 151, size=2) if big else rng.integers(1, 30, size=2)
            t = sorted(
                set(_growth(rng, a, units, int(sizes[0]), start=x))
                | set(_growth(rng, a, units, int(sizes[1]), start=y))
            )
            if kind == "straddle_holes":
                drop = rng.choice(t, size=max(1, len(t) // 6), replace=False)
                t = sorted(set(t) - set(drop.tolist())) or t
        elif kind == "growth":
            t = _growth(rng, a, area, int(rng.integers(1, 40)))
        elif kind == "big":
            t = _growth(rng, a, area, int(rng.integers(40, 301)))
        elif kind == "holes":
            t = _growth(rng, a, area, int(rng.integers(10, 120)))
            drop = rng.choice(t, size=max(1, len(t) // 8), replace=False)
            t = sorted(set(t) - set(drop.tolist())) or t
        elif kind == "scattered":
            t = sorted(
                set(rng.choice(units, size=min(len(units), int(rng.integers(2, 25))), replace=False).tolist())
            )
        elif kind in ("epci", "epcis"):
            k = 1 if kind == "epci" else int(rng.integers(2, 5))
            chosen = rng.choice(epcis, size=min(k, len(epcis)), replace=False)
            t = sorted(set(np.flatnonzero(np.isin(a.epci, chosen)).tolist()) & on_page)
            if kind == "epcis" and rng.random() < 0.5:  # and a few units more or less
                extra = rng.choice(units, size=min(3, len(units)), replace=False).tolist()
                t = sorted(set(t) ^ set(extra)) or t
        elif kind == "islands" and len(islands):
            isl = rng.choice(islands, size=min(len(islands), int(rng.integers(1, 8))), replace=False).tolist()
            t = sorted(set(isl) | set(_growth(rng, a, area, int(rng.integers(1, 30)))))
        elif kind == "sub" and len(subs):
            start = int(rng.choice(subs))
            t = _growth(rng, a, units, int(rng.integers(1, 25)), start=start)
            if rng.random() < 0.5:
                t = sorted(set(t) | set(rng.choice(subs, size=min(3, len(subs)), replace=False).tolist()))
        else:  # border: grown from a unit of the ring, or anywhere
            ring = units[~in_area]
            t = _growth(rng, a, ring if len(ring) else units, int(rng.integers(1, 60)))
        out.append(t)
    return [[str(c) for c in a.codes[np.asarray(t, dtype=np.int64)]] for t in out]


def _register(ref, departements: list[str], seed: int, *, shared: str | None = None) -> pd.DataFrame:
    """A register of CPTS on the area's EPCIs (one per EPCI, every other one), a few units in two
    CPTS, and ``shared`` declared shared by two CPTS."""
    rng = np.random.default_rng(seed)
    a = ref.arrays
    units, in_area = page_units(ref, departements)
    area = units[in_area]
    epcis = np.unique(a.epci[area])
    epcis = epcis[epcis >= 0][::2]
    rows = []
    stages = ["pre-projet", "lettre-intention", "projet-sante", "aci", ""]
    for k, e in enumerate(epcis.tolist()):
        for p in np.flatnonzero(a.epci == e).tolist():
            rows.append((f"C{k:02d}", f"CPTS n° {k} & co", str(a.codes[p]), stages[k % 5], False))
    for p in rng.choice(area, size=8, replace=False).tolist():  # overlaps
        rows.append(("C99", "CPTS des chevauchements", str(a.codes[p]), "aci", False))
    if shared is not None:
        owner = next((r for r in rows if r[2] == shared), ("C00", "CPTS n° 0 & co", shared, stages[0], False))
        rows = [r for r in rows if r[2] != shared]
        rows.append((owner[0], owner[1], shared, owner[3], True))
        rows.append(("C98", "CPTS du partage", shared, "aci", True))
        for p in ref.arrays.neighbours_of(np.array([a.pos[shared]])).tolist()[:2]:
            rows.append(("C98", "CPTS du partage", str(a.codes[p]), "aci", False))
    df = pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee", "statut", "commune_partagee"])
    return df


def _polygon_register(ref, departements: list[str], seed: int, folder) -> object:
    """A register drawn as polygons (read from a GeoPackage as users send them): some EPCIs of
    the area, each grown by 400 m, so that they cut their neighbours' communes."""
    import geopandas as gpd

    from cpts_geo.inputs.read import read_register

    a = ref.arrays
    units, in_area = page_units(ref, departements)
    epcis = np.unique(a.epci[units[in_area]])
    epcis = epcis[epcis >= 0][1::3]
    geoms = []
    for e in epcis.tolist():
        members = ref.units.iloc[np.flatnonzero(a.epci == e)]
        geoms.append(members.geometry.to_crs(2154).union_all().buffer(400))
    path = folder / f"registre_polygones_{seed}.gpkg"
    gpd.GeoDataFrame(
        {
            "cpts_id": [f"P{k}" for k in range(len(geoms))],
            "cpts_nom": [f"CPTS dessinée {k}" for k in range(len(geoms))],
        },
        geometry=geoms,
        crs=2154,
    ).to_file(path)
    return read_register(path, ref)


#: EPCIs of Finistère whose parts face each other across water: Brest Métropole (Plougastel-
#: Daoulas across the Elorn), the Presqu'île de Crozon-Aulne maritime (across the Aulne), and
#: their neighbours across the rade (Pays de Landerneau-Daoulas).
WATER_EPCIS_29 = ("242900314", "200066868", "242900801")

#: The areas of the parity test (``n`` territories each, 1,000 in all): an island département (Guadeloupe: islands and sea links; no
#: minimum population and shorter sea links, so that parts too far apart fail), one
#: with many islands off a mainland (Morbihan), one whose register declares a shared commune
#: (Alpes-Maritimes, Nice; checked as a perimeter change of the CPTS sharing it), and one with
#: PLM arrondissements (Bouches-du-Rhône, Marseille); a register of polygons (Maine-et-Loire:
#: the areas shared); and where water crossings join the parts of one land mass (Finistère:
#: the rade de Brest, the Elorn, the Aulne; Morbihan: the rade de Lorient, Gâvres), with
#: territories of those EPCIs and growths straddling the water.
AREAS = [
    {"departement": "971", "register": False, "min_population": 0, "sea_link_km": 12.5, "n": 120},
    {"departement": "56", "register": True, "n": 220, "water_epcis": ("200042174", "245600440")},
    {"departement": "06", "register": True, "shared": "06088", "cpts_id": "C98", "n": 120},
    {"departement": "13", "register": True, "n": 120},
    {"departement": "49", "register": "polygons", "n": 120},
    {"departement": "29", "register": True, "n": 300, "water_epcis": WATER_EPCIS_29},
]


def _plain(obj):
    return json.loads(json.dumps(obj, ensure_ascii=False))


def _compare(ref, page, territories, *, register, cpts_id, options) -> list[str]:
    """Run every territory in the page and in Python; the differences, described."""
    found = page.js(
        "var out=[];for(var i=0;i<arguments[0].length;i++){window.atelier.select(arguments[0][i]);"
        "out.push(window.atelier.checks());}return JSON.stringify(out);",
        territories,
    )
    found = json.loads(found)
    problems = []
    for codes, js in zip(territories, found):
        py = _plain(check_territory(ref, codes, existing=register, cpts_id=cpts_id, **options).to_dict())
        where = f"{codes[:6]}{'…' if len(codes) > 6 else ''} ({len(codes)} unités)"
        if js["territory"]["communes"] != py["territory"]["communes"]:
            problems.append(f"{where}: units differ")
        if js["territory"]["population"] != py["territory"]["population"]:
            problems.append(
                f"{where}: population {js['territory']['population']} != {py['territory']['population']}"
            )
        if js.get("cpts_id") != py.get("cpts_id"):
            problems.append(f"{where}: cpts_id {js.get('cpts_id')} != {py.get('cpts_id')}")
        if js["status"] != py["status"]:
            problems.append(f"{where}: status {js['status']} != {py['status']}")
        for rj, rp in zip(js["rules"], py["rules"], strict=True):
            for key in ("id", "status", "message", "details"):
                if rj[key] != rp[key]:
                    problems.append(f"{where}: {rp['id']}.{key}\n  JS: {rj[key]}\n  PY: {rp[key]}")
                    break
    return problems


def _parity(ref, tmp_path, scale: float = 1.0, *, only=None) -> int:
    total = 0
    problems: list[str] = []
    for k, spec in enumerate(AREAS):
        if only is not None and spec["departement"] not in only:
            continue
        deps = [spec["departement"]]
        register = (
            as_register(ref, _register(ref, deps, SEED + k, shared=spec.get("shared")))
            if spec["register"]
            else None
        )
        cpts_id = spec.get("cpts_id")
        units, in_area = page_units(ref, deps)
        territories = random_territories(
            ref,
            units,
            in_area,
            round(spec["n"] * scale),
            SEED + 100 * k,
            sea_link_km=spec.get("sea_link_km", 30.0),
            water_epcis=spec.get("water_epcis", ()),
        )
        path = tmp_path / f"atelier_{spec['departement']}.html"
        options = {k: spec[k] for k in ("min_population", "sea_link_km") if k in spec}
        path.write_text(
            atelier_page(ref, departement=deps[0], existing=register, cpts_id=cpts_id, **options),
            encoding="utf-8",
        )
        with chromium_page(path, wait_s=0.2) as page:
            assert page.errors == []
            problems += _compare(ref, page, territories, register=register, cpts_id=cpts_id, options=options)
            assert page.network_errors == []
        total += len(territories)
    assert not problems, f"{len(problems)} differences on {total} territories:\n" + "\n".join(problems[:20])
    return total


@pytest.mark.browser
def test_rules_in_the_page_match_python(ref, tmp_path):
    """Parity on 1,000 seeded random territories over the six areas (slow tier)."""
    assert sum(spec["n"] for spec in AREAS) == 1000
    assert _parity(ref, tmp_path) >= 1000


# ---------------------------------------------------------------------------------------------
# The data
# ---------------------------------------------------------------------------------------------
def test_payload_holds_the_area_a_ring_and_whole_epcis(ref):
    data = atelier_payload(ref, ["56"], geometry=False)
    u = data["units"]
    codes = set(u["code"])
    a = ref.arrays
    area = {str(c) for c in a.codes[a.dep == list(a.dep_codes).index("56")]}
    assert area <= codes
    assert sum(u["area"]) == len(area)
    # Every EPCI of the area whole on the page.
    for e, n in zip(data["epci"]["code"], data["epci"]["n"]):
        members = [c for c, x in zip(u["code"], u["epci"]) if x >= 0 and data["epci"]["code"][x] == e]
        if any(c in area for c in members):
            assert len(members) == n, e
    # Belle-Île's sea links to Quiberon, with the distance the contiguity rule measures.
    i, j = u["code"].index("56152"), u["code"].index("56186")
    links = {(x, y): km for x, y, kind, km, *_ in data["links"] if kind == "mer"}
    assert round(links[(min(i, j), max(i, j))], 3) == 12.483
    # Gâvres (56062) faces Port-Louis (56181) across the Petite mer de Gâvres: a water
    # crossing, with the length the build measured and a segment from one to the other.
    water = {(x, y): (km, seg) for x, y, kind, km, *seg in data["links"] if kind == "eau"}
    i, j = u["code"].index("56062"), u["code"].index("56181")
    km, seg = water[(min(i, j), max(i, j))]
    expected = ref.water_crossings(30.0)
    expected = expected[(expected["a"] == "56062") & (expected["b"] == "56181")]["distance_km"].iloc[0]
    assert km == expected and len(seg) == 4
    assert abs(seg[0] - u["lon"][i]) < 0.1 and abs(seg[3] - u["lat"][j]) < 0.1
    # The outer pieces (the rest of the mainland) count every unit beyond the page on the page's
    # land masses; they are pieces of the land graph with the water crossings (the enclave
    # rule's), joined to the page's units they touch by land or across water.
    units = np.array(u["pos"])
    beyond = np.isin(a.land, np.unique(a.land[units]))
    beyond[units] = False
    assert sum(data["outer"]["n"]) == beyond.sum()


def test_page_is_self_contained_and_escapes_names(ref):
    register = pd.DataFrame(
        {"cpts_id": ["X1"], "cpts_nom": ["</script><b>CPTS</b>"], "code_insee": ["2A004"], "statut": ["aci"]}
    )
    page = atelier_page(ref, departement="2A", existing=register)
    assert "</script><b>" not in page
    for needle in ('src="http', "src='http", "@import", "url(http"):  # links are no requests
        assert needle not in page


# ---------------------------------------------------------------------------------------------
# The tools, in the browser
# ---------------------------------------------------------------------------------------------
def _eventually(page, script: str, timeout: float = 3.0):
    """The value of ``script`` once it stops changing for an event handled later (a dialog's
    close, a file read): polled until it is truthy or the time is up."""
    import time

    deadline = time.monotonic() + timeout
    value = page.js(script)
    while not value and time.monotonic() < deadline:
        time.sleep(0.05)
        value = page.js(script)
    return value


@pytest.mark.browser
def test_tools_in_the_browser(ref, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path = tmp_path / "atelier.html"
    deps = ["44", "49", "53", "72", "85"]  # Pays de la Loire
    register = as_register(ref, _register(ref, deps, 3))
    path.write_text(atelier_page(ref, region="52", existing=register), encoding="utf-8")
    with chromium_page(path, wait_s=0.3) as page:
        assert page.js("return window.atelier.ready") is True
        assert page.js("return window.atelier.checks().status") is None
        # Click a commune on the map (Angers, at its label point).
        page.js("window.atelier.clear()")
        page.js("window.atelier.select(['49007'])")
        assert page.js("return window.atelier.checks().territory.communes") == ["49007"]
        # toggle, undo, redo
        page.js("window.atelier.toggle('49099')")
        assert page.js("return window.atelier.checks().territory.communes") == ["49007", "49099"]
        page.js("window.atelier.undo()")
        assert page.js("return window.atelier.checks().territory.communes") == ["49007"]
        page.js("window.atelier.redo()")
        assert page.js("return window.atelier.state()") == "#s=49007,49099"
        # Search, accent-insensitive, then add a whole EPCI from the results.
        box = page.driver.find_element(By.ID, "at-q")
        box.send_keys("angers loire metropole")
        names = page.js(
            "return Array.from(document.querySelectorAll('#at-results .at-name')).map(e=>e.textContent)"
        )
        assert any("Angers Loire Métropole" in n for n in names), names
        a = ref.arrays
        alm_units = {str(c) for c in a.codes[a.epci == list(a.epci_codes).index("244900015")]}
        locked = set(register.table["code_insee"]) & alm_units
        page.js("document.querySelector('#at-results li').querySelector('button').click()")
        got = set(page.js("return window.atelier.checks().territory.communes"))
        assert got == ({"49007", "49099"} | alm_units) - (locked - {"49007", "49099"})
        if locked:  # units of existing CPTS are locked until unlocked
            assert "Déverrouiller" in page.js("return document.getElementById('at-note').textContent")
            page.driver.find_element(By.ID, "at-unlock").click()
            page.js("document.querySelector('#at-results li').querySelector('button').click()")
        alm = page.js("return window.atelier.checks()")
        assert set(alm["territory"]["communes"]) == alm_units | {"49007", "49099"}
        epci = next(r for r in alm["rules"] if r["id"] == "epci_alignment")
        assert any(e["code"] == "244900015" and e["whole"] for e in epci["details"]["epcis"])
        # Remove the whole EPCI again (second button of its result).
        page.js("document.querySelector('#at-results li').querySelectorAll('button')[1].click()")
        assert page.js("return window.atelier.checks().territory.communes") == ["49099"]
        page.js("window.atelier.undo()")
        assert set(page.js("return window.atelier.checks().territory.communes")) == set(
            alm["territory"]["communes"]
        )
        # A click on the map toggles the unit under the pointer.
        page.js("window.atelier.clear()")
        page.js(
            "var m=document.getElementById('at-map');var r=m.getBoundingClientRect();"
            "var el=document.elementFromPoint(r.left+r.width/2,r.top+r.height/2);"
            "['mousedown','mouseup','click'].forEach(function(t){el.dispatchEvent(new MouseEvent(t,{bubbles:true,"
            "clientX:r.left+r.width/2,clientY:r.top+r.height/2,button:0}));});"
        )
        assert len(page.js("return window.atelier.checks().territory.communes")) == 1
        units, _ = page_units(ref, deps)
        names = pd.Series(a.names[units].astype(str))
        homonym = names[names.duplicated()].iloc[0]  # a name borne by two units of the page
        box.clear()
        box.send_keys(homonym.upper())
        shown = page.js(
            "return Array.from(document.querySelectorAll('#at-results .at-name')).map(e=>e.textContent)"
        )
        twins = [t for t in shown if t.startswith(homonym + " (")]
        assert len(twins) >= 2 and len(set(twins)) == len(twins), shown  # each with its département
        box.send_keys(Keys.ESCAPE)
        # The hash reopens the same selection with the same page.
        state = page.js("return window.atelier.state()")
        page.driver.get(path.resolve().as_uri() + state)
        page.driver.refresh()
        assert page.js("return window.atelier.state()") == state
        # Rectangle selection over Angers' label point.
        page.js("window.atelier.clear()")
        page.driver.find_element(By.ID, "at-rect").click()
        page.js(
            "var m=document.getElementById('at-map');var r=m.getBoundingClientRect();"
            "function ev(t,x,y){m.dispatchEvent(new MouseEvent(t,{bubbles:true,clientX:r.left+x,clientY:r.top+y,button:0}));}"
            "ev('mousedown',r.width/2-150,r.height/2-150);ev('mousemove',r.width/2+150,r.height/2+150);"
            "ev('mouseup',r.width/2+150,r.height/2+150);"
        )
        n_rect = page.js("return window.atelier.checks().territory.n_communes")
        assert n_rect > 5
        page.screenshot(tmp_path / "atelier_rect.png")
        # Lasso: a triangle around the map's centre adds the units whose label point is inside.
        page.js("window.atelier.clear()")
        page.driver.find_element(By.ID, "at-lasso").click()
        page.js(
            "var m=document.getElementById('at-map');var r=m.getBoundingClientRect();"
            "function ev(t,x,y){m.dispatchEvent(new MouseEvent(t,{bubbles:true,clientX:r.left+x,clientY:r.top+y,button:0}));}"
            "var cx=r.width/2,cy=r.height/2;ev('mousedown',cx-120,cy+100);ev('mousemove',cx,cy-140);"
            "ev('mousemove',cx+120,cy+100);ev('mouseup',cx+120,cy+100);"
        )
        n_lasso = page.js("return window.atelier.checks().territory.n_communes")
        assert 0 < n_lasso < n_rect
        page.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
        # Keyboard: Ctrl+Z undoes the lasso, Ctrl+Y redoes it.
        page.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.CONTROL, "z")
        assert page.js("return window.atelier.checks().territory.n_communes") == 0
        page.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.CONTROL, "y")
        assert page.js("return window.atelier.checks().territory.n_communes") == n_lasso
        assert page.js("return location.hash") == page.js("return window.atelier.state()")
        # Paste a list: codes and an exact name, without accents.
        page.driver.find_element(By.ID, "at-paste").click()
        page.driver.find_element(By.ID, "at-paste-text").send_keys("49007\n49099; saumur\n99999")
        page.driver.find_element(By.ID, "at-paste-replace").click()
        pasted = "var c=window.atelier.checks().territory.communes;return c.length===3&&c[0]==='49007'?c:null"
        assert _eventually(page, pasted) == ["49007", "49099", "49328"]
        assert "99999" in page.js("return document.getElementById('at-note').textContent")
        # Save and open: the saved file reloads the selection.
        saved = page.js(
            "return JSON.stringify({atelier:1,communes:window.atelier.checks().territory.communes})"
        )
        page.js("window.atelier.clear()")
        saved_path = tmp_path / "territoire.atelier.json"
        saved_path.write_text(saved, encoding="utf-8")
        page.js("document.getElementById('at-file').hidden=false")
        page.driver.find_element(By.ID, "at-file").send_keys(str(saved_path))
        assert _eventually(page, pasted) == ["49007", "49099", "49328"]
        page.screenshot(tmp_path / "atelier_tools.png")
        # Export read back by `cpts-geo check`.
        csv = page.js("return window.atelier.exportCsv()")
        assert csv.splitlines()[0] == "code_insee,nom"
        out = tmp_path / "territoire.csv"
        out.write_text(csv, encoding="utf-8")
        from cpts_geo.inputs.read import read_proposal

        codes = read_proposal(out, ref).codes
        assert sorted(codes) == page.js("return window.atelier.checks().territory.communes")
        verdict = page.js("return window.atelier.checks()")
        py = check_territory(ref, codes, existing=register).to_dict()
        assert [r["message"] for r in verdict["rules"]] == [r["message"] for r in py["rules"]]
        # Print on A4: one or two pages holding the map and the verdict.
        import base64

        pdf = base64.b64decode(
            page.driver.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69})["data"]
        )
        assert pdf.startswith(b"%PDF") and 1 <= pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") <= 3
        assert page.errors == []


@pytest.mark.browser
def test_whole_city_by_name_or_code(ref, tmp_path):
    """Marseille's arrondissements are the units; the city's name in the search, or its code in
    a pasted list, takes them all."""
    from selenium.webdriver.common.by import By

    path = tmp_path / "atelier_13.html"
    path.write_text(atelier_page(ref, departement="13"), encoding="utf-8")
    arrondissements = sorted(ref.subdivided["13055"])
    with chromium_page(path, wait_s=0.2) as page:
        page.driver.find_element(By.ID, "at-q").send_keys("marseille")
        shown = page.js(
            "return Array.from(document.querySelectorAll('#at-results .at-name')).map(e=>e.textContent)"
        )
        assert "Marseille (13055) — 16 arrondissements" in shown
        page.driver.find_element(By.ID, "at-paste").click()
        page.driver.find_element(By.ID, "at-paste-text").send_keys("13055\nAubagne")
        page.driver.find_element(By.ID, "at-paste-replace").click()
        got = _eventually(page, "var c=window.atelier.checks().territory.communes;return c.length?c:null")
        assert got == sorted(arrondissements + ["13005"])
        py = check_territory(ref, ["13055", "Aubagne"]).to_dict()
        assert page.js("return window.atelier.checks().rules.map(r=>r.message)") == [
            r["message"] for r in py["rules"]
        ]
        assert page.errors == []


@pytest.mark.browser
def test_french_numbers_as_python_writes_them(ref, tmp_path):
    """The page's number formatting is cpts_geo._text's, ties included (Python rounds half to
    even on the exact binary value; JavaScript's toFixed rounds ties up)."""
    from cpts_geo._text import fr_decimal, fr_int, fr_km, fr_share

    values = [0.4825, 0.125, 0.375, 2.675, 12.345, 12.25, 0.05, 0.0005, 1234567.5, 30.0, 0.99995, 1e-7]
    shares = [0.4825, 0.00125, 0.999, 0.51745, 0.1, 1.0, 0.0]
    ints = [0, 7, 999, 1000, 12345, 1234567, 2.5, 3.5]
    path = tmp_path / "a.html"
    path.write_text(atelier_page(ref, departement="2A"), encoding="utf-8")
    with chromium_page(path, wait_s=0.1) as page:
        got = page.js(
            "var T=AtelierRules.text;return [arguments[0].map(function(v){return [T.frDecimal(v,1),T.frDecimal(v,2),"
            "T.frKm(v),T.pyRound(v,3)];}),arguments[1].map(function(v){return T.frShare(v);}),"
            "arguments[2].map(function(v){return T.frInt(v);})];",
            values,
            shares,
            ints,
        )
    assert got[0] == [[fr_decimal(v, 1), fr_decimal(v, 2), fr_km(v), round(v, 3)] for v in values]
    assert got[1] == [fr_share(v) for v in shares]
    assert got[2] == [fr_int(v) for v in ints]


@pytest.mark.browser
def test_water_crossings_in_the_page(ref, tmp_path):
    """Brest Métropole's two parts face each other across the Elorn: the page joins them by a
    water crossing as check_territory does (warn, same message and details), draws it, and
    still fails a territory whose parts are separated by land; a commune cut off on land but
    facing outside units across water is no enclave."""
    a = ref.arrays
    path = tmp_path / "atelier_29.html"
    path.write_text(atelier_page(ref, departement="29"), encoding="utf-8")
    brest = sorted(a.codes[a.epci == list(a.epci_codes).index("242900314")].astype(str).tolist())
    crozon = sorted(a.codes[a.epci == list(a.epci_codes).index("200066868")].astype(str).tolist())
    with chromium_page(path, wait_s=0.2) as page:
        for codes in (brest, crozon, brest + crozon, ["29019", "29189"]):
            page.js("window.atelier.select(arguments[0])", codes)
            js = page.js("return window.atelier.checks()")
            py = _plain(check_territory(ref, codes).to_dict())
            assert [(r["status"], r["message"], r["details"]) for r in js["rules"]] == [
                (r["status"], r["message"], r["details"]) for r in py["rules"]
            ]
        page.js("window.atelier.select(arguments[0])", brest)
        contiguity = page.js("return window.atelier.checks().rules[1]")
        assert contiguity["status"] == "warn"
        assert "traversée par l'eau Guipavas – Plougastel-Daoulas (0,4\u00a0km)" in contiguity["message"]
        assert page.js("return window.atelier.links()") == [
            {"kind": "eau", "a": "29075", "b": "29189", "distance_km": 0.443}
        ]
        legend = page.js("return document.querySelector('.at-legend').textContent")
        assert "Traversées par l'eau" in legend
        page.js("window.atelier.select(arguments[0])", sorted(set(brest + crozon)))
        page.screenshot(tmp_path / "atelier_brest_crozon.png")
        page.js("window.atelier.select(arguments[0])", brest)
        # Brest and Plougastel alone: joined across the Elorn (1,9 km); Brest and Daoulas, beyond
        # Plougastel on land: separated by land.
        page.js("window.atelier.select(['29019', '29043'])")
        assert page.js("return window.atelier.checks().rules[1].status") == "fail"
        assert page.js("return window.atelier.links()") == []
        assert page.errors == []
