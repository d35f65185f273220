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
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECTIONS = ["reference", "checks", "maps", "suggest"]


def _best(fn, repeat=3):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def bench_reference(args) -> None:
    t0 = time.perf_counter()
    import geopandas  # noqa: F401

    import cpts_geo
    from cpts_geo.reference import compute_adjacency

    import_s = time.perf_counter() - t0
    load_s, ref = _best(cpts_geo.load_reference)
    print("## Reference")
    print(f"import cpts_geo (geopandas, shapely, pandas): {import_s:.2f} s")
    print(f"load_reference() (national, {len(ref.units):,} units): {load_s:.3f} s (best of 3)")
    size = sum(p.stat().st_size for p in (ROOT / "data").rglob("*") if p.is_file())
    print(f"data/ on disk: {size / 1e6:.1f} MB")

    units = ref.units
    with_geom = units[units.geometry.notna()]
    ours_s, pairs = _best(lambda: compute_adjacency(units, shared_lengths=False), repeat=3)
    ours = set(zip(pairs["a"], pairs["b"]))
    lengths_s, _ = _best(lambda: compute_adjacency(units), repeat=2)
    print(f"\n## Adjacency of {len(units):,} units")
    print(f"cpts-geo compute_adjacency (shared vertices + 5 m tolerance, per-zone CRS): {ours_s:.2f} s, "
          f"{len(ours):,} pairs (best of 3)")
    print(f"  with the shared boundary length of every pair (stored at build time): {lengths_s:.2f} s")
    try:
        from libpysal.weights import Queen
    except ImportError:
        print("libpysal not installed (pip install -e .[bench]): comparison skipped")
        return
    t0 = time.perf_counter()
    w = Queen.from_dataframe(with_geom, use_index=True, silence_warnings=True)
    queen_s = time.perf_counter() - t0
    theirs = {(min(a, b), max(a, b)) for a, nbrs in w.neighbors.items() for b in nbrs}
    print(f"libpysal Queen.from_dataframe (same units, EPSG:4326, shared vertices): {queen_s:.2f} s, "
          f"{len(theirs):,} pairs")
    print(f"speed-up: {queen_s / ours_s:.1f}x")
    only_ours = sorted(ours - theirs)
    only_theirs = sorted(theirs - ours)
    print(f"\npairs only cpts-geo finds: {len(only_ours)}")
    proj = {}
    for a, b in only_ours:
        ga, gb = units.at[a, "geometry"], units.at[b, "geometry"]
        if ga is None or gb is None:
            why = f"no geometry: {a if ga is None else b} is linked to the commune whose polygon covers it"
        else:
            epsg = int(units.at[a, "epsg"])
            if epsg not in proj:
                proj[epsg] = units[units["epsg"] == epsg].geometry.to_crs(epsg)
            d = proj[epsg].loc[a].distance(proj[epsg].loc[b])
            why = (f"boundaries {d:.2f} m apart (within the tolerance)" if d > 0
                   else "touch without a shared vertex")
        print(f"  {a} {units.at[a, 'nom']} — {b} {units.at[b, 'nom']}: {why}")
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
