#!/usr/bin/env python
"""The EPCI mode's heuristic against the exact optimum of its objective, and its timings (issue 15).

    python scripts/epci_mode_optimum.py                        # 48 90 23 15 09 + 49, France timing
    python scripts/epci_mode_optimum.py --departements 48 90 --no-france
    python scripts/epci_mode_optimum.py --synthetic 200 --departements --pieces --no-france

For each département (every unit of it, as if no CPTS existed; land adjacency restricted to the
département plus the 30 km sea links): the heuristic's objective ``(leftover population, pieces,
deviation)``, the exact optimum of the same objective for the same blocks
(:func:`cpts_geo.suggest.epci_exact.exact_grouping`, HiGHS), the gap in deviation, the territories (how
many whole EPCI parts, unions, split), median and range of population, and the heuristic's time
(best of 3 warm calls). ``--pieces``: the oversized EPCI parts of those départements, their pieces
against the exact fewest pieces (when the part is small enough to enumerate). ``--synthetic N``:
N random grids, the heuristic against the optimum. Then every département of France separately,
timed in one loop.
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

from cpts_geo.reference.units import load_reference, sea_links
from cpts_geo.suggest.epci_exact import _enumerate_limited, exact_grouping
from cpts_geo.suggest.epci_mode import epci_partition
from cpts_geo.suggest.epci_model import KIND_SPLIT, KIND_UNION, KIND_WHOLE, deviation


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


def exact_pieces(g, pop, *, lo, hi, target, max_units: int = 60, max_columns: int = 200_000):
    """Fewest pieces of ``lo..hi`` (a unit above ``hi`` alone), then least deviation: MILP.

    For one oversized EPCI part of at most ``max_units`` units (every connected subset of at most
    ``hi`` inhabitants is a column). ``None`` if too large (over ``max_columns`` subsets) or
    infeasible.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(pop)
    if n > max_units:
        return None
    g = sp.csr_matrix(g)
    nmask = [0] * n
    for i in range(n):
        for j in g.indices[g.indptr[i] : g.indptr[i + 1]]:
            if j != i:
                nmask[i] |= 1 << int(j)
    w = [int(x) for x in pop]
    giant = [x > hi for x in w]
    subsets, complete = _enumerate_limited(n, nmask, w, [False] * n, giant, hi, max_columns)
    if not complete:
        return None
    cols = [(s_, p) for s_, p, _ in subsets if p >= lo or (p > hi and s_ & (s_ - 1) == 0)]
    if not cols:
        return None
    rows, cidx = [], []
    for j, (s_, _) in enumerate(cols):
        for i in range(n):
            if s_ >> i & 1:
                rows.append(i)
                cidx.append(j)
    A = sp.csr_matrix((np.ones(len(rows)), (rows, cidx)), shape=(n, len(cols)))
    cover = LinearConstraint(A, 1, 1)
    opts = {"mip_rel_gap": 0.0, "time_limit": 60}
    m = len(cols)
    r1 = milp(np.ones(m), constraints=[cover], integrality=np.ones(m), bounds=Bounds(0, 1), options=opts)
    if r1.x is None:
        return None
    k = int(round(r1.x.sum()))
    dev = np.array([deviation(p, target) for _, p in cols])
    r2 = milp(
        dev,
        constraints=[cover, LinearConstraint(np.ones((1, m)), k, k)],
        integrality=np.ones(m),
        bounds=Bounds(0, 1),
        options=opts,
    )
    return k, float(dev @ np.round(r2.x)), m


def piece_rows(ref, nat, codes):
    """The heuristic's pieces against :func:`exact_pieces` for the oversized parts of ``codes``."""
    rows = []
    for code in codes:
        g, pop, epci, dep, _ = departement_inputs(ref, code, nat)
        res = epci_partition(g, pop, epci, dep)
        for p in res.parts:
            if p.size != "oversized":
                continue
            units = np.flatnonzero(res.part_of == p.part)
            terr = sorted(set(res.labels[units].tolist()))
            # Deviation of the pieces alone (without the small parts joined to them).
            heur_dev = sum(deviation(pop[units][res.labels[units] == t].sum(), 60000) for t in terr)
            row = {
                "dep": code,
                "epci_part_pop": p.population,
                "units": len(units),
                "pieces": len(terr),
                "piece_dev": round(heur_dev, 4),
            }
            for lo in (60000, 20000):
                ex = exact_pieces(g[units][:, units], pop[units], lo=lo, hi=175000, target=60000)
                if ex is not None:
                    row.update(
                        {
                            "opt_lo": lo,
                            "opt_pieces": ex[0],
                            "opt_piece_dev": round(ex[1], 4),
                            "columns": ex[2],
                        }
                    )
                    break
            rows.append(row)
    return rows


def synthetic(n_instances: int, seed: int = 1):
    """Random grids (4-8 x 4-8 units, 4-15 EPCIs grown from random seeds, lognormal populations):
    the heuristic's deviation against the optimum for the same blocks, and the leftovers."""
    sys.path.insert(0, str(ROOT / "tests" / "suggest"))
    from test_epci_mode import random_instance

    rng = np.random.default_rng(seed)
    gaps, rel, worse_left, solved, t_h, t_e = [], [], 0, 0, 0.0, 0.0
    for _ in range(n_instances):
        nx, ny = rng.integers(4, 9, 2)
        g, pop, epci, dep = random_instance(
            rng, int(nx), int(ny), int(rng.integers(4, 16)), float(rng.choice([1500, 3000, 5000]))
        )
        t0 = time.perf_counter()
        h = epci_partition(g, pop, epci, dep)
        t_h += time.perf_counter() - t0
        t0 = time.perf_counter()
        e = exact_grouping(g, pop, epci, dep)
        t_e += time.perf_counter() - t0
        if e is None:
            continue
        solved += 1
        if h.objective[0] > e.objective[0]:
            worse_left += 1
            continue
        gaps.append(h.objective[2] - e.objective[2])
        rel.append(gaps[-1] / e.objective[2] if e.objective[2] > 0 else 0.0)
    gaps, rel = np.array(gaps), np.array(rel)
    print(
        f"synthetic: {solved}/{n_instances} solved exactly; leftover above the optimum on {worse_left}; "
        f"deviation at the optimum on {(gaps <= 1e-9).sum()}, above on {(gaps > 1e-9).sum()} "
        f"(max +{gaps.max():.4f}, mean +{gaps.mean():.5f}; relative max {rel.max():.1%}, "
        f"mean {rel.mean():.2%}); heuristic {t_h / n_instances * 1000:.1f} ms, exact {t_e / n_instances:.2f} s "
        "per instance"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--departements", nargs="*", default=["48", "90", "23", "15", "09", "49"])
    ap.add_argument("--no-france", action="store_true")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument(
        "--pieces",
        nargs="*",
        default=["75", "49", "974", "29", "30", "31"],
        help="départements whose oversized EPCI parts are checked against exact_pieces",
    )
    ap.add_argument("--synthetic", type=int, default=0, help="random grid instances against the optimum")
    args = ap.parse_args(argv)
    if args.synthetic:
        synthetic(args.synthetic)
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
        row["min_pieces"] = res.min_pieces
        worst = 0.0
        for s in range(1, args.seeds):
            other = epci_partition(g, pop, epci, dep, seed=s)
            ex_s = exact_grouping(g, pop, epci, dep, seed=s)  # same seed: the same pieces
            if ex_s is not None:
                worst = max(worst, other.objective[2] - ex_s.objective[2])
        row["worst_gap_other_seeds"] = round(worst, 4)
        rows.append(row)
    pd.set_option("display.width", 250)
    print(pd.DataFrame(rows).to_string(index=False))
    if args.pieces:
        print("\nOversized EPCI parts: the heuristic's pieces against the exact fewest pieces")
        print(pd.DataFrame(piece_rows(ref, nat, args.pieces)).to_string(index=False))
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
