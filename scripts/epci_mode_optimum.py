#!/usr/bin/env python
"""The EPCI mode's heuristic against the exact optimum of its objective, and its timings (issue 15).

    python scripts/epci_mode_optimum.py                        # 48 90 23 15 09 + 49, France timing
    python scripts/epci_mode_optimum.py --departements 48 90 --no-france

For each département (every unit of it, as if no CPTS existed; land adjacency restricted to the
département plus the 30 km sea links): the heuristic's objective ``(leftover population, pieces,
deviation)``, the exact optimum of the same objective for the same blocks
(:func:`cpts_geo._epci_mode.exact_grouping`, HiGHS), the gap in deviation, the territories (how
many whole EPCI parts, unions, split), median and range of population, and the heuristic's time
(best of 3 warm calls). Then every département of France separately, timed in one loop.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpts_geo import load_reference  # noqa: E402
from cpts_geo._epci_mode import KIND_SPLIT, KIND_UNION, KIND_WHOLE, epci_partition, exact_grouping  # noqa: E402
from cpts_geo.reference import sea_links  # noqa: E402


def national_inputs(ref, sea_km: float = 30.0):
    """The national graph (land + sea links) and the integer arrays, in ``ref.units`` order."""
    g = ref.graph.tocsr().astype(np.int8)
    links = sea_links(ref, max_km=sea_km)
    n = g.shape[0]
    if len(links):
        i = ref.position.reindex(links["a"]).to_numpy()
        j = ref.position.reindex(links["b"]).to_numpy()
        extra = sp.coo_matrix((np.ones(2 * len(i), dtype=np.int8), (np.r_[i, j], np.r_[j, i])), shape=(n, n))
        g = ((g + extra.tocsr()) > 0).astype(np.int8).tocsr()
    u = ref.units
    epci_codes = u["epci"].astype(str).to_numpy()
    codes, epci = np.unique(epci_codes, return_inverse=True)
    epci = np.where(epci_codes == "", -1, epci).astype(np.int64)
    dep_codes, dep = np.unique(u["departement"].astype(str).to_numpy(), return_inverse=True)
    return g, u["population"].to_numpy().astype(np.int64), epci, dep.astype(np.int64), dep_codes


def departement_inputs(ref, code: str, nat=None):
    g, pop, epci, dep, dep_codes = nat or national_inputs(ref)
    idx = np.flatnonzero(dep == int(np.searchsorted(dep_codes, code)))
    return g[idx][:, idx], pop[idx], epci[idx], dep[idx], idx


def describe(res) -> dict:
    t = res.territories
    p = [x.population for x in t]
    return {
        "territories": len(t),
        "whole": sum(x.kind == KIND_WHOLE for x in t),
        "unions": sum(x.kind == KIND_UNION for x in t),
        "split": sum(x.kind == KIND_SPLIT for x in t),
        "median": int(statistics.median(p)) if p else 0,
        "min": min(p) if p else 0,
        "max": max(p) if p else 0,
        "leftover": res.objective[0],
        "pieces": res.objective[1],
        "deviation": round(res.objective[2], 4),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--departements", nargs="*", default=["48", "90", "23", "15", "09", "49"])
    ap.add_argument("--no-france", action="store_true")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args(argv)
    ref = load_reference()
    nat = national_inputs(ref)
    rows = []
    for code in args.departements:
        g, pop, epci, dep, _ = departement_inputs(ref, code, nat)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            res = epci_partition(g, pop, epci, dep)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ex = exact_grouping(g, pop, epci, dep)
        t_ex = time.perf_counter() - t0
        row = {
            "dep": code,
            "units": len(pop),
            "blocks": res.stats["blocks"],
            **describe(res),
            "time_s": round(min(times), 3),
        }
        if ex is not None:
            row.update(
                {
                    "opt_leftover": ex.objective[0],
                    "opt_deviation": round(ex.objective[2], 4),
                    "gap": round(res.objective[2] - ex.objective[2], 4),
                    "columns": ex.stats["columns"],
                    "exact_s": round(t_ex, 2),
                }
            )
        worst = 0.0
        for s in range(1, args.seeds):
            other = epci_partition(g, pop, epci, dep, seed=s)
            worst = max(
                worst, other.objective[2] - (ex.objective[2] if ex is not None else other.objective[2])
            )
        row["worst_gap_other_seeds"] = round(worst, 4)
        rows.append(row)
    pd.set_option("display.width", 250)
    print(pd.DataFrame(rows).to_string(index=False))
    if not args.no_france:
        g, pop, epci, dep, dep_codes = nat
        t0 = time.perf_counter()
        c0 = time.process_time()
        n_terr = 0
        slowest = (0.0, "")
        for d in range(len(dep_codes)):
            idx = np.flatnonzero(dep == d)
            t1 = time.perf_counter()
            res = epci_partition(g[idx][:, idx], pop[idx], epci[idx], dep[idx])
            dt = time.perf_counter() - t1
            slowest = max(slowest, (dt, dep_codes[d]))
            n_terr += res.n_territories
        print(
            f"France, {len(dep_codes)} départements one by one: {n_terr} territories, "
            f"{time.perf_counter() - t0:.2f} s wall, {time.process_time() - c0:.2f} s CPU; "
            f"slowest {slowest[1]} {slowest[0]:.3f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
