#!/usr/bin/env python
"""Benchmarks of cpts-geo, each compared in the same run with the peer the issue names.

    python scripts/benchmark.py                      # every section
    python scripts/benchmark.py --only reference     # load time, adjacency vs libpysal Queen

Sections: ``reference`` (here), then ``checks``, ``maps`` and ``suggest``, which run their own
scripts (scripts/benchmark_<section>.py) and print their figures. Peers come from the ``bench``
extra: ``pip install -e .[bench]``. Timings are wall-clock on this machine; nothing here is
asserted by the test suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECTIONS = ["reference", "checks", "maps", "suggest"]


def _best(fn, repeat=3):
    """Best wall-clock time of ``repeat`` runs, and the result of the last one."""
    return _best_cpu(fn, repeat)[0::2]


def _best_cpu(fn, repeat=3):
    """Best wall-clock and best CPU time of ``repeat`` runs, and the result of the last one.

    CPU time (``time.process_time``, all threads of this process) is what the code costs
    whatever else the machine is doing; wall-clock time grows with the load of other jobs.
    """
    wall, cpu = [], []
    out = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu), out


def _projected(units, epsg, cache):
    if epsg not in cache:
        cache[epsg] = units[(units["epsg"] == epsg) & units.geometry.notna()].geometry.to_crs(epsg)
    return cache[epsg]


def _why(units, a, b, proj_cache) -> str:
    """Why cpts-geo links two units that share no vertex."""
    import shapely

    ga, gb = units.at[a, "geometry"], units.at[b, "geometry"]
    if ga is None or gb is None:
        lost = a if ga is None else b
        return f"no geometry: {lost} is linked to the commune whose polygon covers it"
    proj = _projected(units, int(units.at[a, "epsg"]), proj_cache)
    pa, pb = proj.loc[a], proj.loc[b]
    line = shapely.shortest_line(pa, pb)
    d = line.length
    if d == 0:
        return "boundaries touch without a shared vertex"
    between = proj.iloc[proj.sindex.query(line, predicate="intersects")]
    between = between.drop([a, b], errors="ignore")
    inside = {c: line.intersection(g).length for c, g in between.items()}
    inside = {c: w for c, w in inside.items() if w > 0}
    if not inside:
        return f"{d:.2f} m apart, nothing in between: a gap of the source opening onto the sea or a border"
    around = proj.iloc[proj.sindex.query(line.buffer(1.0), predicate="intersects")]
    around = [c for c in around.index if c not in (a, b)]
    thin = " and ".join(f"{c} {units.at[c, 'nom']}" for c in inside)
    width = max(inside.values())
    others = [f"{c} {units.at[c, 'nom']}" for c in around if c not in inside]
    if others:
        return (
            f"{d:.2f} m apart across a {width:.2f} m-thin tip of {thin}, where it meets "
            f"{', '.join(others)}: four communes meet at a point the generalization opened "
            "into two triple points"
        )
    return (
        f"{d:.2f} m apart across a {width:.2f} m-thin neck of {thin}, which the "
        "generalization narrowed to almost a point"
    )


def bench_reference(args) -> None:
    t0 = time.perf_counter()
    import geopandas  # noqa: F401
    import shapely

    import cpts_geo
    from cpts_geo.reference.adjacency import ADJACENCY_TOLERANCE_M, compute_adjacency

    import_s = time.perf_counter() - t0
    load_s, ref = _best(cpts_geo.load_reference)
    print("## Reference")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPU(s), load average {load} (shared with other jobs)")
    print(f"import cpts_geo (geopandas, shapely, pandas): {import_s:.2f} s")
    print(f"load_reference() (national, {len(ref.units):,} units): {load_s:.3f} s (best of 3)")
    size = sum(p.stat().st_size for p in (ROOT / "data").rglob("*") if p.is_file())
    print(f"data/ on disk: {size / 1e6:.1f} MB")

    units = ref.units
    tol = ADJACENCY_TOLERANCE_M
    with_geom = units[units.geometry.notna()]
    ours_s, ours_cpu, pairs = _best_cpu(lambda: compute_adjacency(units, shared_lengths=False), repeat=3)
    ours = set(zip(pairs["a"], pairs["b"]))
    lengths_s, lengths_cpu, _ = _best_cpu(lambda: compute_adjacency(units), repeat=2)
    print(f"\n## Adjacency of {len(units):,} units")
    print(
        f"cpts-geo compute_adjacency (shared vertices + {tol:g} m tolerance, per-zone CRS): "
        f"{ours_s:.2f} s wall, {ours_cpu:.2f} s CPU, {len(ours):,} pairs (best of 3)"
    )
    print(
        f"  with the shared boundary length of every pair (stored at build time): {lengths_s:.2f} s wall, "
        f"{lengths_cpu:.2f} s CPU (best of 2)"
    )

    # The rule, checked by brute force: every pair of boundaries within the tolerance, measured
    # with a spatial index in each zone's projected CRS; and how many pairs larger values add.
    t0 = time.perf_counter()
    proj_cache, brute, extra = {}, set(), []
    for epsg in sorted(units["epsg"].unique()):
        proj = _projected(units, int(epsg), proj_cache)
        g, codes = proj.to_numpy(), proj.index.to_numpy()
        left, right = shapely.STRtree(g).query(g, predicate="dwithin", distance=20.0)
        keep = left < right
        left, right = left[keep], right[keep]
        dist = shapely.distance(g[left], g[right])
        for a, b, d in zip(codes[left], codes[right], dist):
            key = (min(a, b), max(a, b))
            if d <= tol:
                brute.add(key)
            elif key not in ours:
                extra.append(d)
    brute_s = time.perf_counter() - t0
    no_geom = {p for p in ours if units.at[p[0], "geometry"] is None or units.at[p[1], "geometry"] is None}
    same = brute == ours - no_geom
    print(
        f"check, brute force (STRtree dwithin {tol:g} m on every unit, projected): {len(brute):,} pairs "
        f"({brute_s:.1f} s): {'identical' if same else 'DIFFERENT'} to cpts-geo's minus the "
        f"{len(no_geom)} links of units without geometry"
    )
    extra = np.array(extra)
    print(f"a larger tolerance would add: {(extra <= 10).sum()} pairs at 10 m, {(extra <= 20).sum()} at 20 m")
    try:
        import libpysal
        from libpysal.weights import Queen
    except ImportError:
        print("libpysal not installed (pip install -e .[bench]): comparison skipped")
        return
    queen_s, queen_cpu, w = _best_cpu(
        lambda: Queen.from_dataframe(with_geom, use_index=True, silence_warnings=True), repeat=3
    )
    theirs = {(min(a, b), max(a, b)) for a, nbrs in w.neighbors.items() for b in nbrs}
    print(
        f"libpysal {libpysal.__version__} Queen.from_dataframe (same units, EPSG:4326, shared vertices): "
        f"{queen_s:.2f} s wall, {queen_cpu:.2f} s CPU, {len(theirs):,} pairs (best of 3)"
    )
    print(
        f"speed-up on finding the pairs: {queen_cpu / ours_cpu:.1f}x CPU time, {queen_s / ours_s:.1f}x wall "
        f"(including the shared lengths libpysal does not compute: {queen_cpu / lengths_cpu:.1f}x CPU, "
        f"{queen_s / lengths_s:.1f}x wall)"
    )
    only_ours = sorted(ours - theirs)
    only_theirs = sorted(theirs - ours)
    print(f"\npairs only cpts-geo finds: {len(only_ours)}")
    for a, b in only_ours:
        print(f"  {a} {units.at[a, 'nom']} — {b} {units.at[b, 'nom']}: {_why(units, a, b, proj_cache)}")
    print(f"pairs only libpysal finds: {len(only_theirs)}")
    for a, b in only_theirs:
        print(f"  {a} {units.at[a, 'nom']} — {b} {units.at[b, 'nom']}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    args, rest = p.parse_known_args(argv)
    for section in args.only.split(","):
        section = section.strip()
        if section == "reference":
            bench_reference(args)
        elif section in SECTIONS:
            script = ROOT / "scripts" / f"benchmark_{section}.py"
            print(f"\n## {section} ({script.name})", flush=True)
            if not script.exists():
                print("not available")
                continue
            subprocess.run([sys.executable, str(script), *rest], check=False)
        else:
            p.error(f"unknown section {section!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
