"""Benchmark the coverage maps against a naive folium map (issue 4 targets).

Same run: a naive map (``folium.GeoJson`` of every metropolitan commune with a tooltip) against the
national coverage map of a register covering most of France (one CPTS per pair of neighbouring
EPCIs of a département, 3 % of EPCIs left as white zones, a few overlaps), and a regional map.
Targets: national map written in <= 5 s and <= 6 MB; regional map <= 1.5 MB.

Each coverage map is written twice: with the default (self-contained: Leaflet embedded from the
pip package, about 150 kB more) and ``--online`` (Leaflet from its CDN, OpenStreetMap and IGN
basemaps).
The machine's load is printed: on a shared machine, timings vary with the other jobs.

Usage::

    python scripts/benchmark_maps.py [--skip-naive] [--out DIR]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpts_geo.inputs.register import register_from_frame
from cpts_geo.maps.base import save_map
from cpts_geo.maps.coverage import coverage_map
from cpts_geo.reference.units import load_reference

log = logging.getLogger("benchmark_maps")
STAGES = ["aci", "aci", "aci", "projet-sante", "lettre-intention", "pre-projet"]


def national_register(ref) -> pd.DataFrame:
    """CPTS = pairs of EPCIs (by SIREN order) within a département; every 33rd EPCI left white."""
    u = ref.units[ref.units["epci"] != ""]
    key = u["departement"] + ":" + u["epci"]
    rows = []
    for dep, grp in key.groupby(u["departement"]):
        epcis = sorted(set(grp))
        for i, k in enumerate(epcis):
            if zlib.crc32(k.encode()) % 33 == 0:
                continue
            cid = f"{dep}-{i // 2}"
            for code in grp.index[grp == k]:
                rows.append((cid, f"CPTS {dep} n°{i // 2}", code, STAGES[(i // 2) % len(STAGES)]))
    df = pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee", "statut"])
    # A few overlaps: the first commune of each tenth CPTS also in the next CPTS.
    firsts = df.groupby("cpts_id", sort=False).head(1).iloc[::10]
    nxt = dict(zip(df["cpts_id"].drop_duplicates(), df["cpts_id"].drop_duplicates().iloc[1:]))
    extra = firsts.assign(cpts_id=[nxt.get(c, c) for c in firsts["cpts_id"]])
    extra = extra[extra["cpts_id"] != firsts["cpts_id"]]
    extra["cpts_nom"] = [df.loc[df["cpts_id"] == c, "cpts_nom"].iloc[0] for c in extra["cpts_id"]]
    extra["statut"] = [df.loc[df["cpts_id"] == c, "statut"].iloc[0] for c in extra["cpts_id"]]
    return pd.concat([df, extra], ignore_index=True)


def naive_map(ref, path: Path) -> float:
    import folium

    t = time.perf_counter()
    metro = ref.units[(ref.units["zone"] == "metro") & ref.units.geometry.notna()]
    m = folium.Map(location=[46.6, 2.4], zoom_start=6)
    folium.GeoJson(
        metro[["nom", "population", "geometry"]].reset_index(),
        tooltip=folium.GeoJsonTooltip(["code", "nom", "population"]),
    ).add_to(m)
    m.save(str(path))
    return time.perf_counter() - t


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-naive", action="store_true", help="Do not build the naive map (~10-25 s)")
    parser.add_argument("--out", type=Path, default=None, help="Keep the maps in this folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = args.out or Path(tempfile.mkdtemp(prefix="cpts-geo-bench-maps-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"cpus: {os.cpu_count()}, load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    t = time.perf_counter()
    ref = load_reference()
    log.info("reference loaded: %.2f s", time.perf_counter() - t)
    reg = register_from_frame(national_register(ref), ref, source="benchmark")
    n_cpts = reg.table["cpts_id"].nunique()
    covered = reg.table["code_insee"].nunique()
    log.info(
        "register: %d CPTS, %d rows, %d of %d units covered", n_cpts, len(reg.table), covered, len(ref.units)
    )

    results = []
    if not args.skip_naive:
        path = out / "naive.html"
        secs = naive_map(ref, path)
        results.append(("naive folium.GeoJson (metropolitan communes)", secs, path.stat().st_size, None))
    for online in (False, True):
        tag = " --online" if online else ""
        for label, kw, target in (
            ("national coverage map", {}, (5.0, 6e6)),
            ("regional coverage map (52)", {"region": "52"}, (None, 1.5e6)),
            ("regional coverage map (84)", {"region": "84"}, (None, 1.5e6)),
        ):
            path = out / f"coverage_{kw.get('region', 'fr')}{'_online' if online else ''}.html"
            t = time.perf_counter()
            save_map(coverage_map(ref, reg, online=online, **kw), path)
            secs = time.perf_counter() - t
            results.append((label + tag, secs, path.stat().st_size, target))
    print(f"{'map (written to disk)':<48}{'seconds':>9}{'MB':>8}  target")
    ok = True
    for label, secs, size, target in results:
        verdict = ""
        if target:
            good = (target[0] is None or secs <= target[0]) and size <= target[1]
            ok &= good
            limits = (f"<= {target[0]:g} s, " if target[0] else "") + f"<= {target[1] / 1e6:g} MB"
            verdict = f"{limits}: {'ok' if good else 'MISSED'}"
        print(f"{label:<48}{secs:>9.2f}{size / 1e6:>8.2f}  {verdict}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; maps in {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
