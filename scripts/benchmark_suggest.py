#!/usr/bin/env python
"""Benchmark of ``suggest_territories`` against spopt's ``MaxPHeuristic``, in the same run.

    python scripts/benchmark_suggest.py                       # 49 and 29 vs spopt, 15 ours only, France
    python scripts/benchmark_suggest.py --with-cantal-spopt   # also spopt on Cantal (about 5-9 minutes)
    python scripts/benchmark_suggest.py --no-france --departements 49

Both tools get the same units (every unit of the département, the 4 Cantal communes without a
polygon included), the same contiguity (the reference's land adjacency restricted to the
département, plus its sea links, given to spopt as a libpysal ``W``) and the same threshold
(population 20,000). For each: p (number of territories), validity (every unit exactly once,
each territory connected on that graph and above the threshold), wall time, and the ratio.
The upper bounds are ``floor(P / T)`` and the tighter ``floor((P - excess of units above T) / T)``.
Peers come from the ``bench`` extra: ``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csgraph

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpts_geo import load_reference  # noqa: E402
from cpts_geo.reference import sea_links  # noqa: E402
from cpts_geo.suggest import _full_graph, max_p_upper_bound, suggest_territories  # noqa: E402

T = 20000


def validity(ref, codes: list[str], labels: np.ndarray, threshold: int = T) -> tuple[bool, str]:
    """Every unit once, each region connected (land + sea links) and above the threshold."""
    g = _full_graph(ref, 30.0)
    idx = ref.position.loc[codes].to_numpy()
    sub = g[idx][:, idx]
    pop = ref.units["population"].to_numpy()[idx]
    problems = []
    if (labels < 0).any():
        problems.append(f"{int((labels < 0).sum())} units unassigned")
    for r in np.unique(labels[labels >= 0]):
        m = np.flatnonzero(labels == r)
        n_parts, _ = csgraph.connected_components(sub[m][:, m], directed=False)
        if n_parts != 1:
            problems.append(f"region {r} in {n_parts} pieces")
        if pop[m].sum() < threshold:
            problems.append(f"region {r} has {pop[m].sum()} inhabitants")
    return not problems, "; ".join(problems) or "valid"


def run_ours(ref, dep: str, seed: int):
    codes = list(ref.units.index[ref.units["departement"] == dep])
    suggest_territories(ref, within=dep, seed=seed, geometry=False)  # warm caches (graph, sea links)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = suggest_territories(ref, within=dep, seed=seed, geometry=False)
        times.append(time.perf_counter() - t0)
    secs = min(times)
    tid = result.assignment["territoire_id"].reindex(codes)
    labels = pd.factorize(tid)[0]
    labels[result.assignment["type"].reindex(codes).to_numpy() != "territoire"] = -1
    ok, why = validity(ref, codes, labels)
    checked = check_all(ref, result)
    return result.n_territories, ok, why, secs, checked


def check_all(ref, result) -> str:
    try:
        from cpts_geo.rules import check_territory
    except ImportError:
        return "check_territory: cpts_geo.rules not available"
    statuses = [check_territory(ref, t["communes"]).status for _, t in result.territories.iterrows()]
    counts = pd.Series(statuses).value_counts().to_dict()
    return f"check_territory: {counts}"


def run_spopt(ref, dep: str, seed: int):
    try:
        from libpysal.weights import W
        from spopt.region import MaxPHeuristic
    except ImportError:
        return None
    units = ref.units[ref.units["departement"] == dep].copy()
    codes = list(units.index)
    pos = {c: i for i, c in enumerate(codes)}
    neighbours = {i: [] for i in range(len(codes))}
    links = sea_links(ref, max_km=30.0)
    pairs = pd.concat([ref.adjacency[["a", "b"]], links[["a", "b"]]], ignore_index=True)
    pairs = pairs[pairs["a"].isin(pos) & pairs["b"].isin(pos)]
    for a, b in zip(pairs["a"], pairs["b"]):
        neighbours[pos[a]].append(pos[b])
        neighbours[pos[b]].append(pos[a])
    w = W(neighbours, silence_warnings=True)
    units["population"] = units["population"].astype(float)
    units = units.reset_index()
    np.random.seed(seed)
    random.seed(seed)
    t0 = time.perf_counter()
    model = MaxPHeuristic(units, w, ["population"], "population", T)
    model.solve()
    secs = time.perf_counter() - t0
    labels = np.asarray(model.labels_, dtype=np.int64)
    labels = pd.factorize(labels)[0]
    ok, why = validity(ref, codes, labels)
    return int(model.p), ok, why, secs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--departements", default="49,15,29")
    p.add_argument("--with-cantal-spopt", action="store_true", help="also run spopt on Cantal (minutes)")
    p.add_argument("--no-spopt", action="store_true")
    p.add_argument("--no-france", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args, _ = p.parse_known_args(argv)
    ref = load_reference()
    print("## suggest: max-p partition, threshold 20,000 (same units, same contiguity)")
    for dep in [d.strip() for d in args.departements.split(",") if d.strip()]:
        units = ref.units[ref.units["departement"] == dep]
        bound, tight = max_p_upper_bound(units["population"].to_numpy(), T)
        print(
            f"\n### {dep} {ref.departements.at[dep, 'nom']}: {len(units)} units, "
            f"{units['population'].sum():,} inhabitants; bounds p <= {bound} (tight {tight})"
        )
        p_ours, ok, why, secs, checked = run_ours(ref, dep, args.seed)
        print(
            f"cpts-geo suggest_territories: p = {p_ours} ({100 * p_ours / tight:.0f} % of the tight bound), "
            f"{why}, {secs:.3f} s (best of 3); {checked}",
            flush=True,
        )
        if args.no_spopt or (dep == "15" and not args.with_cantal_spopt):
            print("spopt MaxPHeuristic: skipped" + (" (use --with-cantal-spopt)" if dep == "15" else ""))
            continue
        got = run_spopt(ref, dep, args.seed)
        if got is None:
            print("spopt not installed (pip install -e .[bench]): comparison skipped")
            continue
        p_sp, ok_sp, why_sp, secs_sp = got
        print(f"spopt MaxPHeuristic: p = {p_sp}, {why_sp}, {secs_sp:.1f} s")
        print(f"ratio: p {p_ours} vs {p_sp}; {secs_sp / secs:,.0f}x faster", flush=True)
    if not args.no_france:
        print("\n### France entière (every département, no register)")
        t0 = time.perf_counter()
        result = suggest_territories(ref, seed=args.seed, geometry=False)
        secs = time.perf_counter() - t0
        s = result.summary()
        per_dep = result.territories.groupby("departement").size()
        missing = sorted(set(ref.departements.index) - set(per_dep.index))
        print(
            f"additional territories the white zones could form: {s['territories']:,} "
            f"(tight bound {s['tight_bound']:,}, {100 * s['territories'] / s['tight_bound']:.1f} %), "
            f"{secs:.1f} s (sea links and graph included)"
        )
        print(
            f"départements partitioned: {len(per_dep)}/{len(ref.departements)}"
            + (f" (none in {', '.join(missing)})" if missing else "")
        )
        print(
            f"units: {len(result.assignment):,} (every unit once: {result.assignment.index.is_unique}); "
            f"non rattachables (enclaves cut off from their département by land): {s['orphans']} pieces, "
            f"{s['orphan_population']:,} inhabitants: {', '.join(result.orphans['territoire_id'])}"
        )
        t0 = time.perf_counter()
        crossed = suggest_territories(ref, seed=args.seed, geometry=False, allow_cross_departement=True)
        print(
            f"with --allow-cross-departement: {crossed.n_territories:,} territories, "
            f"{crossed.summary()['orphans']} non rattachables, {time.perf_counter() - t0:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
