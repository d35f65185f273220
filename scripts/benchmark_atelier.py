#!/usr/bin/env python
"""Size and speed of the builder page (``cpts-geo atelier``), in headless Chromium.

    python scripts/benchmark_atelier.py                   # Bretagne, PACA, Occitanie
    python scripts/benchmark_atelier.py --region 52 --france

For each région: the page's weight (MB, and its data alone), the time to build it in Python,
the time until ``window.atelier.ready`` after navigation starts (Chromium, no network), and the
cost of ``select`` + ``checks`` of a connected territory of 300 units (median of 30 runs: the
map restyled, the six rules, the panel redrawn), ``checks`` alone (the verdict of the current
selection, kept since ``select``) and the six rules alone (``AtelierRules.check``). ``--france``: a page of all of France too. Nothing here is asserted by the
test suite (the issue's budgets: ≤ 4 MB for Bretagne or PACA, ≤ 8 MB for Occitanie, ready in
under 2 s, select + checks under 50 ms).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpts_geo.maps.atelier import atelier_page
from cpts_geo.maps.atelier_data import page_units
from cpts_geo.reference.areas import resolve_area
from cpts_geo.reference.units import load_reference
from tests.browser import chromium_page

TIMING = """
var codes = arguments[0], runs = arguments[1], both = [], alone = [];
for (var i = 0; i < runs; i++) {
  window.atelier.clear();
  var t0 = performance.now();
  window.atelier.select(codes);
  var r = window.atelier.checks();
  var t1 = performance.now();
  window.atelier.checks();
  var t2 = performance.now();
  both.push(t1 - t0); alone.push(t2 - t1);
}
var M = AtelierRules.model(JSON.parse(document.getElementById('atelier-data').textContent));
var P = codes.map(function (c) { return M.index[c]; }), rules = [];
for (i = 0; i < runs; i++) {
  var t3 = performance.now();
  AtelierRules.check(M, P, null);
  rules.push(performance.now() - t3);
}
return JSON.stringify({both: both, alone: alone, rules: rules, n: r.territory.n_communes, status: r.status});
"""


def _territory(ref, departements, size=300, seed=1):
    """A connected territory of ``size`` units grown from the area's most populous unit."""
    a = ref.arrays
    units, in_area = page_units(ref, departements)
    area = units[in_area]
    rng = np.random.default_rng(seed)
    chosen = {int(area[np.argmax(a.pop[area])])}
    allowed = set(area.tolist())
    frontier = set(a.neighbours_of(np.array(sorted(chosen))).tolist()) & allowed
    while len(chosen) < size and frontier:
        nxt = int(rng.choice(sorted(frontier)))
        chosen.add(nxt)
        frontier |= set(a.neighbours_of(np.array([nxt])).tolist()) & allowed
        frontier -= chosen
    return [str(c) for c in a.codes[sorted(chosen)]]


def bench(ref, label, *, region=None, departement=None, folder: Path):
    departements = resolve_area(ref, region=region, departement=departement)
    t0 = time.perf_counter()
    page = atelier_page(ref, region=region, departement=departement)
    build_s = time.perf_counter() - t0
    path = folder / f"atelier_{label}.html"
    path.write_text(page, encoding="utf-8")
    data = page[page.index('id="atelier-data">') : page.index("</script>", page.index('id="atelier-data">'))]
    codes = _territory(ref, departements)
    with chromium_page(path, wait_s=0.0) as pg:
        deadline = time.monotonic() + 60
        while not pg.js("return !!(window.atelier && window.atelier.ready)"):
            if time.monotonic() > deadline:
                raise TimeoutError(label)
            time.sleep(0.05)
        ready = pg.js("return window.atelier.readyMs")
        nav = pg.js("return performance.timing.responseEnd - performance.timing.navigationStart")
        t = json.loads(pg.js(TIMING, codes, 30))
        assert pg.errors == [], pg.errors
    units = len(page_units(ref, departements)[0])
    return {
        "zone": label,
        "unites": units,
        "page_mo": round(len(page.encode("utf-8")) / 1e6, 2),
        "donnees_mo": round(len(data.encode("utf-8")) / 1e6, 2),
        "generation_s": round(build_s, 2),
        "pret_ms": round(ready),
        "chargement_fichier_ms": nav,
        "select_checks_ms": round(statistics.median(t["both"]), 1),
        "checks_ms": round(statistics.median(t["alone"]), 1),
        "regles_seules_ms": round(statistics.median(t["rules"]), 1),
        "territoire": f"{t['n']} unités, {t['status']}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--region", action="append", help="région(s) à mesurer (défaut : 53, 93, 76)")
    parser.add_argument("--france", action="store_true", help="mesurer aussi une page de la France entière")
    args = parser.parse_args()
    ref = load_reference()
    regions = args.region or ["53", "93", "76"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for code in regions:
            rows.append(bench(ref, f"region-{code}", region=code, folder=Path(tmp)))
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
        if args.france:
            deps = sorted(ref.departements.index)
            rows.append(bench(ref, "france", departement=deps, folder=Path(tmp)))
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
