#!/usr/bin/env python
"""Speed of the territory checks (issue targets in brackets).

- ``check_territory`` on one proposal, warm (reference loaded) [< 50 ms];
- cold starts against ``python -c "import geopandas"``, in one run, interleaved: ``check
  --format json`` of a list of two codes and of a list of two names, ``--help``,
  ``--version`` [CPU below ``import geopandas`` for the lists: issue 21, point 7];
- a cold ``cpts-geo check`` run: Python start, reference load, read, check, report [< 2 s];
- every EPCI of the reference checked as a proposal, every rule, no register [< 5 s in all];
  the EPCIs in several land parts with their contiguity verdict (issue 22: 16, of which 8
  joined by sea and 3 across water warn, 5 legal exclaves fail), and a warm check of one of
  each kind (Brest Métropole across the Elorn, CA Tarbes-Lourdes-Pyrénées with its exclaves);
- ``check_register`` on a national register (every EPCI as a CPTS), for scale;
- ``--adversarial``: hostile registers (bounded work, issue 11): 5,000 scattered CPTS of 40
  communes each drawn at random over France [check < 60 s], a register of 200,000 rows read
  from CSV and checked [peak RSS < 1 GB], the same rows through ``cpts-geo check-register`` in
  a fresh process (codes in CSV to JSON, names in a cp1252 CSV to text, XLSX to XLSX) [peak
  RSS < 1 GB each], and ``suggest`` with the largest ``sea_link_km`` on one département (sea
  links computed for that zone only).

Usage: ``python scripts/benchmark_checks.py [--repeat 5] [--only cold|epci] [--adversarial
[--only-adversarial]]``.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpts_geo.checks.rules import check_register, check_territory
from cpts_geo.inputs.register import register_from_frame
from cpts_geo.reference.units import load_reference

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


#: The lists of the cold-start comparison: the same two communes by code and by name (Avrillé
#: is a homonym, decided by its neighbour Angers).
CODES_LIST = "code_insee\n49007\n49015\n"
NAMES_LIST = "commune\nAngers\nAvrillé\n"


def _progress(text: str) -> None:
    """A progress line on a terminal (nothing when stderr is a file or a pipe)."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{text}")
        sys.stderr.flush()


def cold_start(repeat: int) -> None:
    """CPU of cold starts against ``python -c "import geopandas"``, in one run (issue 21, point 7).

    Each command runs ``repeat`` times in a fresh process, the commands interleaved (one round
    runs each once), so that a change in the machine's load weighs on all of them alike; CPU is
    the child's user + system time (``getrusage(RUSAGE_CHILDREN)`` deltas), the median is shown.
    The package's bytecode is compiled first, as pip does when it installs the package (with
    ``PYTHONDONTWRITEBYTECODE`` set, every run would otherwise compile the sources again).
    """
    compileall.compile_dir(str(ROOT / "cpts_geo"), quiet=1)
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="cpts-geo-bench-") as tmp:
        codes, names = Path(tmp) / "codes.csv", Path(tmp) / "noms.csv"
        codes.write_text(CODES_LIST, encoding="utf-8")
        names.write_text(NAMES_LIST, encoding="utf-8")
        check = [py, "-m", "cpts_geo.cli", "check"]
        runs = {
            'python -c "import geopandas"': [py, "-c", "import geopandas"],
            "cpts-geo check codes.csv --format json (2 codes)": [*check, str(codes), "--format", "json"],
            "cpts-geo check noms.csv --format json (2 names)": [*check, str(names), "--format", "json"],
            "cpts-geo --help": [py, "-m", "cpts_geo.cli", "--help"],
            "cpts-geo --version": [py, "-m", "cpts_geo.cli", "--version"],
        }
        cpu: dict[str, list[float]] = {label: [] for label in runs}
        wall: dict[str, list[float]] = {label: [] for label in runs}
        for i in range(repeat):
            for label, cmd in runs.items():
                _progress(f"cold starts: round {i + 1}/{repeat}: {label}")
                c, w = child_cpu(cmd, 1)
                cpu[label].append(c)
                wall[label].append(w)
        _progress("")
    peer = cpu['python -c "import geopandas"']
    base = statistics.median(peer)
    # Each round's CPU over that round's ``import geopandas``: the machine's load, which drifts
    # between rounds on a shared machine, weighs on both sides of each ratio alike.
    ratios = {label: [c / p for c, p in zip(cpu[label], peer)] for label in runs}
    print(
        f"cold starts (fresh process, {repeat} interleaved rounds, median; CPU = user + system of the "
        "child; x geopandas = median over the rounds of the round's CPU / that round's import geopandas):"
    )
    print(f"  {'command':<52} {'CPU s':>6} {'wall s':>7} {'x geopandas':>12}")
    for label in runs:
        c, w = statistics.median(cpu[label]), statistics.median(wall[label])
        print(f"  {label:<52} {c:6.3f} {w:7.3f} {statistics.median(ratios[label]):12.2f}")
    for label in list(runs)[1:3]:
        r = statistics.median(ratios[label])
        below = sum(x < 1 for x in ratios[label])
        verdict = "met" if r < 1 else "NOT met"
        print(
            f"  goal CPU below import geopandas, {label.split('(')[-1][:-1]}: {verdict} (x {r:.2f}; below in "
            f"{below} of {repeat} rounds; medians {statistics.median(cpu[label]):.3f} s vs {base:.3f} s)"
        )


def scattered_register(ref, n_cpts: int, size: int, seed: int = 0) -> pd.DataFrame:
    """The adversarial register: ``n_cpts`` CPTS of ``size`` communes each drawn at random over
    France (each CPTS in ``size`` pieces: the worst case of the contiguity and enclave rules)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    codes = ref.units.index.to_numpy()
    picks = np.concatenate([rng.choice(len(codes), size, replace=False) for _ in range(n_cpts)])
    ids = np.repeat([f"ADV-{i:05d}" for i in range(n_cpts)], size)
    return pd.DataFrame(
        {"cpts_id": ids, "cpts_nom": ids, "code_insee": codes[picks], "statut": "projet-sante"}
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB; ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: Run a command and print the peak resident memory of its process tree's largest member (MB).
_PEAK = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); "
    "sys.stderr.write(r.stderr.decode()[-300:] if r.returncode not in (0, 1) else ''); "
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
)


def child_peak(cmd: list[str]) -> tuple[float, float, int]:
    """Wall time (s), peak RSS (MB) and exit code of ``cmd`` run in a fresh process."""
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _PEAK, *cmd], capture_output=True, text=True, check=True)
    rc, peak = res.stdout.split()
    return time.perf_counter() - t0, float(peak), int(rc)


def adversarial(ref) -> None:
    """The bounded-work figures of issue 11: in process, then ``cpts-geo check-register`` as a
    user runs it, on the same 200,000 rows written three ways (codes in CSV, names with their
    département in a cp1252 « ; » CSV, an XLSX workbook), each output written to a file."""
    import tempfile

    from cpts_geo._limits import LIMITS
    from cpts_geo.inputs.read import read_register
    from cpts_geo.suggest.territories import suggest_territories

    rss0 = peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        # 5,000 scattered CPTS of 40 communes: 200,000 rows, read from CSV as a user sends it.
        path = Path(tmp) / "registre_200k.csv"
        frame = scattered_register(ref, 5000, 40)
        frame.to_csv(path, index=False)
        names = Path(tmp) / "registre_200k_noms.csv"
        units = ref.units.loc[frame["code_insee"]]
        frame.drop(columns="code_insee").assign(
            nom_commune=units["nom"].to_numpy(), departement=units["departement"].to_numpy()
        ).to_csv(names, index=False, sep=";", encoding="cp1252", errors="replace")
        xlsx = Path(tmp) / "registre_200k.xlsx"
        frame.to_excel(xlsx, index=False)
        del frame, units
        t0 = time.perf_counter()
        reg = read_register(path, ref)
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        rr = check_register(ref, reg)
        check_s = time.perf_counter() - t0
        print(
            f"adversarial register, 5000 scattered CPTS x 40 communes ({len(reg.table)} rows, "
            f"{path.stat().st_size / 1e6:.1f} MB CSV), in process: read {read_s:.1f} s, check_register "
            f"{check_s:.1f} s [target < 60 s], {len(rr.reports)} reports; peak RSS {peak_rss_mb():.0f} MB "
            f"(reference loaded: {rss0:.0f} MB) [target < 1024 MB]"
        )
        del rr, reg
        cli = [sys.executable, "-m", "cpts_geo.cli", "check-register"]
        runs = {
            "codes, CSV -> JSON": [str(path), "-o", str(Path(tmp) / "rapport.json")],
            "names + département, cp1252 ; CSV -> text": [str(names), "-o", str(Path(tmp) / "rapport.txt")],
            "codes, XLSX -> XLSX": [str(xlsx), "-o", str(Path(tmp) / "rapport.xlsx")],
        }
        for label, args in runs.items():
            wall, peak, rc = child_peak(cli + args)
            out = Path(args[-1])
            print(
                f"  cpts-geo check-register, {label}: {wall:.1f} s wall (start, read, check, write), "
                f"exit {rc}, output {out.stat().st_size / 1e6:.1f} MB; peak RSS {peak:.0f} MB "
                "[target < 1024 MB]"
            )
    km = LIMITS["sea_link_km"].high
    t0 = time.perf_counter()
    res = suggest_territories(ref, within="29", sea_link_km=km, geometry=False)
    print(
        f"suggest Finistère (29), sea_link_km={km:g} (the upper bound): {time.perf_counter() - t0:.1f} s, "
        f"{len(res.territories)} territories; peak RSS {peak_rss_mb():.0f} MB"
    )


def epci_contiguity(ref, repeat: int, reports: dict | None = None) -> None:
    """Every EPCI as a proposal: those in several land parts with their contiguity verdict, and
    the time of a warm check of a territory joined across water and of one with exclaves."""
    units = ref.unit_table
    groups = {e: list(c) for e, c in units[units["epci"].fillna("") != ""].groupby("epci").groups.items()}
    if reports is None:
        t0 = time.perf_counter()
        reports = {e: check_territory(ref, codes, name=e) for e, codes in groups.items()}
        print(f"all {len(groups)} EPCIs checked as proposals (first pass): {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        reports = {e: check_territory(ref, codes, name=e) for e, codes in groups.items()}
        print(f"all {len(groups)} EPCIs checked as proposals (warm): {time.perf_counter() - t0:.2f} s")
    several = {
        e: r.rule("contiguity")
        for e, r in reports.items()
        if r.rule("contiguity").details["n_components"] > 1
    }
    verdicts = pd.Series({e: r.status for e, r in several.items()}).value_counts().to_dict()
    print(f"EPCIs in several land parts: {len(several)} — contiguity {verdicts}")
    for e, r in sorted(several.items(), key=lambda kv: (kv[1].status, kv[0])):
        d = r.details
        how = ", ".join(
            f"{kind} {lk['a_nom']} – {lk['b_nom']} ({lk['distance_km']:g} km)"
            for kind, key in (("sea", "sea_links"), ("water", "water_crossings"))
            for lk in d.get(key, [])
        )
        print(f"  {r.status:4}  {e}  {ref.epci.at[e, 'nom']}: {d['n_components']} parts; {how or 'land gap'}")
    for e in ("242900314", "200069300"):
        if e in groups:
            check_territory(ref, groups[e])
            warm, _ = timed(lambda e=e: check_territory(ref, groups[e]), max(repeat, 50))
            print(
                f"check_territory, warm, {ref.epci.at[e, 'nom']} ({len(groups[e])} communes): {1000 * warm:.2f} ms median"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--only", choices=["cold", "epci"], help="run only the cold-start comparison, or only the EPCIs"
    )
    parser.add_argument("--adversarial", action="store_true", help="add the hostile registers")
    parser.add_argument("--only-adversarial", action="store_true", help="only the hostile registers")
    args = parser.parse_args()
    if args.only_adversarial:
        adversarial(load_reference())
        return
    if args.only == "epci":
        epci_contiguity(load_reference(), args.repeat)
        return
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

    epci_contiguity(ref, args.repeat, reports=dict(zip(groups, reports)))

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
    if args.adversarial:
        adversarial(ref)


if __name__ == "__main__":
    main()
