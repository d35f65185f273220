#!/usr/bin/env python
"""Speed of the territory checks (issue targets in brackets).

- ``check_territory`` on one proposal, warm (reference loaded) [< 50 ms];
- a cold ``cpts-geo check`` run: Python start, reference load, read, check, report [< 2 s];
- every EPCI of the reference checked as a proposal, every rule, no register [< 5 s in all];
- ``check_register`` on a national register (every EPCI as a CPTS), for scale.

Usage: ``python scripts/benchmark_checks.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpts_geo import check_register, check_territory, load_reference, register_from_frame  # noqa: E402

EXAMPLE = ROOT / "data" / "examples" / "proposition_valide.csv"


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def child_cpu(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Median CPU time (user + system) and wall time of a command run in a fresh process."""
    cpu, wall = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, check=False, env={**os.environ})
        wall.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert res.returncode in (0, 1), res.stderr
        cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(cpu), statistics.median(wall)


def cold_start(repeat: int) -> None:
    """Cold starts against ``python -c "import geopandas"``, in the same run (issue 10, point 6)."""
    py = sys.executable
    runs = {
        'python -c "import geopandas"': [py, "-c", "import geopandas"],
        "cpts-geo --help": [py, "-m", "cpts_geo.cli", "--help"],
        "cpts-geo --version": [py, "-m", "cpts_geo.cli", "--version"],
        f"cpts-geo check {EXAMPLE.name} --format json": [
            py,
            "-m",
            "cpts_geo.cli",
            "check",
            str(EXAMPLE),
            "--format",
            "json",
        ],
    }
    print(f"cold starts (fresh process, median of {repeat}; CPU = user + system):")
    base = None
    for label, cmd in runs.items():
        cpu, wall = child_cpu(cmd, repeat)
        base = cpu if base is None else base
        print(f"  {label:<55} CPU {cpu:5.2f} s  wall {wall:5.2f} s  ({cpu / base:4.2f} x import geopandas)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["cold"], help="run only the cold-start comparison")
    args = parser.parse_args()
    cold_start(args.repeat)
    if args.only == "cold":
        return

    t0 = time.perf_counter()
    ref = load_reference()
    load_s = time.perf_counter() - t0
    print(f"reference load (in process): {load_s:.2f} s")

    saumur = ref.units.index[ref.units["epci"] == ref.units.at["49328", "epci"]].tolist()
    check_territory(ref, saumur)  # first call builds the per-reference caches
    warm, report = timed(lambda: check_territory(ref, saumur), max(args.repeat, 20))
    print(
        f"check_territory, warm, CA Saumur Val de Loire ({len(saumur)} communes, "
        f"{report.territory['population']} hab.): {1000 * warm:.1f} ms median [target < 50 ms]"
    )

    cmd = [sys.executable, "-m", "cpts_geo.cli", "check", str(EXAMPLE), "--format", "json"]
    cold = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        cold.append(time.perf_counter() - t0)
        assert res.returncode == 0, res.stderr
    print(
        f"cold `cpts-geo check {EXAMPLE.name}` (python start + load + check): "
        f"{statistics.median(cold):.2f} s median of {args.repeat} [target < 2 s]"
    )

    epcis = ref.units[ref.units["epci"].fillna("") != ""].groupby("epci").groups
    groups = {e: list(codes) for e, codes in epcis.items()}
    t0 = time.perf_counter()
    reports = [check_territory(ref, codes, name=e) for e, codes in groups.items()]
    all_s = time.perf_counter() - t0
    counts = pd.Series([r.status for r in reports]).value_counts().to_dict()
    print(
        f"all {len(groups)} EPCIs checked as proposals: {all_s:.2f} s "
        f"({1000 * all_s / len(groups):.2f} ms each) [target < 5 s] — statuses {counts}"
    )

    frame = pd.DataFrame(
        [(e, e, c) for e, codes in groups.items() for c in codes],
        columns=["cpts_id", "cpts_nom", "code_insee"],
    )
    reg = register_from_frame(frame, ref, source="benchmark")
    t0 = time.perf_counter()
    rr = check_register(ref, reg)
    print(
        f"check_register, {len(groups)} CPTS (one per EPCI): {time.perf_counter() - t0:.2f} s — "
        f"{len(rr.overlaps)} units in two CPTS, {len(rr.enclaves)} enclaves of the union"
    )


if __name__ == "__main__":
    main()
