"""The layers of a computed coverage, built once for every drawing of it.

The folium coverage map (:func:`cpts_geo.maps.coverage.coverage_map`), the coverage GeoPackage
(:func:`cpts_geo.outputs.geopackages.coverage_layers`) and the static figure
(:func:`cpts_geo.outputs.figures.coverage_figure`) all draw the :class:`CoverageLayers` of
:func:`build_coverage_layers`: the same CPTS, white zones, overlaps and declared shares, from
the same per-unit table of the :class:`~cpts_geo.steering.coverage.Coverage`. Each renderer only
chooses its level of detail and formats the attributes.

What is drawn
-------------
- the CPTS touching the area, whole (also their units outside it);
- the white zones of the area (units of no CPTS), one feature per département;
- the overlaps: units of the CPTS drawn that are in several CPTS and *not* declared shared
  (``commune_partagee``), one feature per set of CPTS;
- the declared shares: units in several CPTS declared shared below the commune level (Nice,
  Toulon), one feature per unit; a declared share is never an overlap;
- the départements of the area (outlines), with their figures; the régions on demand.

Every geometry is a union of the same *atoms* (:func:`cpts_geo.reference.geometry.atoms`):
the units drawn dissolved by what covers them and simplified together, so that no gap or sliver
opens between two layers.

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.maps.layers import build_coverage_layers
>>> ref = cg.load_reference()
>>> cov = cg.coverage_summary(ref, "registre.csv", departement="06")  # doctest: +SKIP
>>> layers = build_coverage_layers(cov)  # doctest: +SKIP
>>> layers.shared.index.tolist()  # doctest: +SKIP
['06088']
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from cpts_geo.inputs.stages import STAGE_LABELS
from cpts_geo.maps.styles import DETAIL
from cpts_geo.reference.geometry import Atoms, atom_positions, atoms, membership_pairs
from cpts_geo.reference.unit_types import SUBUNIT_TYPE
from cpts_geo.reference.units import Reference
from cpts_geo.steering.coverage import Coverage

__all__ = ["CoverageLayers", "build_coverage_layers"]


@dataclass
class CoverageLayers:
    """The layers of a coverage (EPSG:4326), from :func:`build_coverage_layers`.

    Each GeoDataFrame holds plain values (ids, names, integers); the renderers format them.

    Attributes
    ----------
    cpts
        The CPTS drawn, indexed by ``cpts_id`` in the register's order: ``cpts_nom``, ``statut``
        (a key of :data:`~cpts_geo.inputs.stages.STAGE_LABELS`, ``""`` when none),
        ``date_statut``, ``population``, ``n_communes``, ``n_units``, ``aci_size_class``,
        ``departements`` and ``codes`` (all the CPTS's units).
    white_zones
        Indexed by ``departement`` (sorted): ``nom`` ("Zone blanche — Maine-et-Loire (49)"),
        ``communes`` (units), ``population`` and ``codes``.
    overlaps
        One row per set of CPTS (sorted): ``cpts`` and ``cpts_noms`` (tuples), ``codes`` and
        ``noms`` of the units, ``population``.
    shared
        The declared shares, indexed by unit code: ``nom``, ``cpts``, ``cpts_noms`` (tuples),
        ``population``.
    departements
        The départements of the area, indexed by code (sorted): ``nom``, ``cpts``, ``goal``,
        ``share_covered``, ``white_zone_population`` (the coverage's figures).
    subunits, subdivided
        The units below the commune drawn (IRIS, sectors; ``nom``, ``population``) and the
        communes they divide (``nom``, ``unites``); empty without such units.
    extra
        One GeoSeries per ``extra`` membership given to the builder, indexed by group.
    atoms
        The atoms every geometry is a union of.
    ref
        The reference of the coverage.
    """

    cpts: gpd.GeoDataFrame
    white_zones: gpd.GeoDataFrame
    overlaps: gpd.GeoDataFrame
    shared: gpd.GeoDataFrame
    departements: gpd.GeoDataFrame
    subunits: gpd.GeoDataFrame
    subdivided: gpd.GeoDataFrame
    extra: list[gpd.GeoSeries]
    atoms: Atoms
    ref: Reference = field(repr=False)

    @functools.cached_property
    def regions(self) -> gpd.GeoDataFrame:
        """The régions of the départements drawn (outlines), indexed by code: ``nom``."""
        deps = list(self.departements.index)
        region_of = self.ref.departements["region"]
        codes = sorted(set(region_of.reindex(deps)))
        atom_region = region_of.reindex(self.atoms.departement).to_numpy()
        in_deps = np.isin(self.atoms.departement, deps)
        geoms = self.atoms.union({r: np.flatnonzero((atom_region == r) & in_deps) for r in codes})
        columns = {"nom": [str(self.ref.regions.at[r, "nom"]) for r in codes]}
        return _frame(columns, [geoms[r] for r in codes], pd.Index(codes, name="code"))


def build_coverage_layers(
    coverage: Coverage,
    *,
    tolerance_m: float | None = None,
    decimals: int | None = None,
    extra: Sequence[pd.DataFrame] = (),
) -> CoverageLayers:
    """The layers of a computed coverage: CPTS, white zones, overlaps, declared shares, départements.

    Parameters
    ----------
    coverage
        A :class:`~cpts_geo.steering.coverage.Coverage` with its register and per-unit table (from
        :func:`~cpts_geo.steering.coverage.coverage_summary`); nothing is computed again.
    tolerance_m, decimals
        Simplification tolerance (metres; 0: none) and coordinate decimals; default by the
        extent of the area (:data:`~cpts_geo.maps.styles.DETAIL`).
    extra
        Memberships (columns ``group`` and ``code_insee``) of other territories dissolved with
        the coverage (the suggested territories of a map): their units are drawn too, and their
        geometries share the boundaries of the layers (:attr:`CoverageLayers.extra`).

    Returns
    -------
    CoverageLayers
    """
    ref = coverage.ref
    table = coverage.units
    assert table is not None, "a Coverage from coverage_summary has its per-unit table"
    default_tol, default_dec = DETAIL[coverage.scope["level"]]
    tol = default_tol if tolerance_m is None else float(tolerance_m)
    dec = default_dec if decimals is None else int(decimals)

    cpts = _shown_cpts(coverage)
    kind = _unit_kinds(coverage, set(cpts.index))
    drawn = kind["inside"].copy()
    if len(cpts):
        members = np.concatenate([np.asarray(c, dtype=object) for c in cpts["codes"]])
        drawn[ref.position.reindex(members).to_numpy()] = True
    pairs = [_known_pairs(ref, p) for p in extra]
    for p in pairs:
        drawn[ref.position.reindex(p["code_insee"]).to_numpy()] = True

    codes = ref.units.index[drawn]
    labels = _labels(coverage, drawn, kind, set(cpts.index), pairs)
    parts = atoms(ref, codes, labels, tol, dec)
    where = atom_positions(parts.label)
    return CoverageLayers(
        cpts=_cpts_frame(cpts, parts, where),
        white_zones=_white_zone_frame(coverage, kind["white"], parts, where),
        overlaps=_overlap_frame(coverage, kind["overlap"], parts, where),
        shared=_shared_frame(coverage, kind["shared"], parts, where),
        departements=_departement_frame(coverage, kind["inside"], parts),
        subunits=_subunit_frame(coverage, codes, parts, where),
        subdivided=_subdivided_frame(coverage, codes, parts, where),
        extra=[_extra_series(k, p, parts, where) for k, p in enumerate(pairs)],
        atoms=parts,
        ref=ref,
    )


# ---- which units are what ----------------------------------------------------------------------
def _shown_cpts(coverage: Coverage) -> pd.DataFrame:
    """The CPTS touching the area (all of them nationally), whole."""
    cpts = coverage.cpts_frame
    scope = coverage.scope
    if scope["level"] == "national":
        return cpts
    col = "regions" if scope["level"] == "region" else "departements"
    return cpts.loc[np.array([scope["code"] in areas for areas in cpts[col]], dtype=bool)]


def _unit_kinds(coverage: Coverage, shown: set) -> dict[str, np.ndarray]:
    """Boolean masks per unit (reference order): inside the area, white zone, overlap, declared
    share. Overlaps and shares are those of the CPTS drawn; a declared share is not an overlap."""
    table = coverage.units
    assert table is not None
    inside = np.asarray(coverage.in_scope, dtype=bool)
    n = table["n_cpts"].to_numpy()
    declared = (
        table["commune_partagee"].to_numpy(dtype=bool)
        if "commune_partagee" in table
        else np.zeros(len(table), dtype=bool)
    )
    multi = n >= 2
    multi[multi] = [any(o in shown for o in owners) for owners in table["cpts"].to_numpy()[multi]]
    return {
        "inside": inside,
        "white": inside & (n == 0),
        "overlap": multi & ~declared,
        "shared": multi & declared,
    }


def _known_pairs(ref: Reference, membership: pd.DataFrame) -> pd.DataFrame:
    """A membership's (group, unit) pairs, without the codes the reference does not know."""
    p = membership_pairs(membership)
    return p[ref.units.index.get_indexer(p["code_insee"].to_numpy(dtype=object)) >= 0]


def _labels(
    coverage: Coverage, drawn: np.ndarray, kind: dict[str, np.ndarray], shown: set, pairs: list[pd.DataFrame]
) -> list[tuple]:
    """One label per unit drawn: the CPTS drawn covering it (``("c", id)``), its white zone
    (``("w", departement)``), its overlap (``("o", ids)``), its declared share (``("p", code)``),
    its extra groups (``("x", k, group)``) and, below the commune, itself and its commune
    (``("u", code)``, ``("s", commune)``)."""
    ref = coverage.ref
    table = coverage.units
    assert table is not None
    sel = np.flatnonzero(drawn)
    codes = ref.units.index[sel].tolist()
    owners_of = table["cpts"].to_numpy()[sel]
    labels: list[list[tuple]] = [[("c", o) for o in owners if o in shown] for owners in owners_of]
    deps = table["departement"].to_numpy()[sel]
    white, overlap, shared = kind["white"][sel], kind["overlap"][sel], kind["shared"][sel]
    for i in np.flatnonzero(white):
        labels[i].append(("w", deps[i]))
    for i in np.flatnonzero(overlap):
        labels[i].append(("o", tuple(owners_of[i])))
    for i in np.flatnonzero(shared):
        labels[i].append(("p", codes[i]))
    if pairs:
        row = {c: i for i, c in enumerate(codes)}
        for k, p in enumerate(pairs):
            for c, g in zip(p["code_insee"].tolist(), p["group"].tolist()):
                labels[row[c]].append(("x", k, g))
    units = ref.units
    sub = (units["type"].to_numpy()[sel] == SUBUNIT_TYPE).nonzero()[0]
    commune = units["commune"].to_numpy()[sel]
    for i in sub:
        labels[i] += [("u", codes[i]), ("s", commune[i])]
    return [tuple(lab) for lab in labels]


# ---- one frame per layer -----------------------------------------------------------------------
def _frame(columns: dict, geoms: list, index: pd.Index) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        pd.DataFrame(columns, index=index), geometry=gpd.GeoSeries(geoms, index=index, crs=4326), crs=4326
    )


def _cpts_frame(cpts: pd.DataFrame, parts: Atoms, where: dict) -> gpd.GeoDataFrame:
    ids = list(cpts.index)
    geoms = parts.union({c: where.get(("c", c), []) for c in ids})
    columns = {
        "cpts_nom": list(cpts["cpts_nom"]),
        "statut": [s if s in STAGE_LABELS else "" for s in cpts["statut"]],
        "date_statut": [d or "" for d in cpts["date_statut"]],
        "population": [int(p) for p in cpts["population"]],
        "n_communes": [int(n) for n in cpts["n_communes"]],
        "n_units": [int(n) for n in cpts["n_units"]],
        "aci_size_class": [int(k) for k in cpts["aci_size_class"]],
        # Without the communes declared shared (equal when nothing is shared).
        "population_min": [int(p) for p in cpts.get("population_min", cpts["population"])],
        "aci_size_class_min": [int(k) for k in cpts.get("aci_size_class_min", cpts["aci_size_class"])],
        "departements": list(cpts["departements"]),
        "codes": list(cpts["codes"]),
    }
    return _frame(columns, [geoms[c] for c in ids], pd.Index(ids, name="cpts_id"))


def _white_zone_frame(coverage: Coverage, white: np.ndarray, parts: Atoms, where: dict) -> gpd.GeoDataFrame:
    table = coverage.units
    assert table is not None
    units = table.loc[white]
    by_dep = units.groupby("departement", sort=True)
    deps = list(by_dep.groups)
    geoms = parts.union({d: where.get(("w", d), []) for d in deps})
    names = coverage.ref.departements["nom"]
    columns = {
        "nom": [f"Zone blanche — {names[d]} ({d})" for d in deps],
        "communes": [int(n) for n in by_dep.size().reindex(deps)],
        "population": [int(p) for p in by_dep["population"].sum().reindex(deps)],
        "codes": [list(g.index) for _, g in by_dep],
    }
    return _frame(columns, [geoms[d] for d in deps], pd.Index(deps, name="departement"))


def _names(coverage: Coverage, ids) -> tuple[str, ...]:
    """The CPTS names of ``ids`` (the id when a CPTS has no name)."""
    names = coverage.cpts_frame["cpts_nom"]
    return tuple(str(names.get(c, "") or c) for c in ids)


def _overlap_frame(coverage: Coverage, overlap: np.ndarray, parts: Atoms, where: dict) -> gpd.GeoDataFrame:
    table = coverage.units
    assert table is not None
    units = table.loc[overlap]
    groups: dict[tuple, list[str]] = {}
    for code, owners in zip(units.index.tolist(), units["cpts"].tolist()):
        groups.setdefault(tuple(owners), []).append(code)
    keys = sorted(groups)
    geoms = parts.union({k: where.get(("o", k), []) for k in keys})
    columns = {
        "cpts": keys,
        "cpts_noms": [_names(coverage, k) for k in keys],
        "codes": [groups[k] for k in keys],
        "noms": [units.loc[groups[k], "nom"].tolist() for k in keys],
        "population": [int(units.loc[groups[k], "population"].sum()) for k in keys],
    }
    return _frame(columns, [geoms[k] for k in keys], pd.RangeIndex(len(keys)))


def _shared_frame(coverage: Coverage, shared: np.ndarray, parts: Atoms, where: dict) -> gpd.GeoDataFrame:
    table = coverage.units
    assert table is not None
    units = table.loc[shared]
    codes = units.index.tolist()
    geoms = parts.union({c: where.get(("p", c), []) for c in codes})
    columns = {
        "nom": units["nom"].tolist(),
        "cpts": [tuple(o) for o in units["cpts"]],
        "cpts_noms": [_names(coverage, o) for o in units["cpts"]],
        "population": [int(p) for p in units["population"]],
    }
    return _frame(columns, [geoms[c] for c in codes], pd.Index(codes, name="code_insee"))


def _departement_frame(coverage: Coverage, inside: np.ndarray, parts: Atoms) -> gpd.GeoDataFrame:
    table = coverage.units
    assert table is not None
    deps = sorted(set(table.loc[inside, "departement"]))
    geoms = parts.union({d: np.flatnonzero(parts.departement == d) for d in deps})
    rows = {r["code"]: r for r in coverage.departements}
    empty = {"cpts": 0, "goal": 0.0, "share_covered": 0.0, "white_zone_population": 0}
    figures = [rows.get(d, empty) for d in deps]
    columns = {
        "nom": [str(coverage.ref.departements.at[d, "nom"]) for d in deps],
        "cpts": [int(r["cpts"]) for r in figures],
        "goal": [float(r["goal"]) for r in figures],
        "share_covered": [float(r["share_covered"]) for r in figures],
        "white_zone_population": [int(r["white_zone_population"]) for r in figures],
    }
    return _frame(columns, [geoms[d] for d in deps], pd.Index(deps, name="code"))


def _subunit_frame(coverage: Coverage, codes: pd.Index, parts: Atoms, where: dict) -> gpd.GeoDataFrame:
    units = coverage.ref.units
    sub = units.loc[codes[units["type"].reindex(codes).to_numpy() == SUBUNIT_TYPE]]
    geoms = parts.union({c: where.get(("u", c), []) for c in sub.index})
    columns = {
        "nom": sub["nom"].tolist(),
        "population": [int(p) for p in sub["population"]],
        "commune": sub["commune"].tolist(),
    }
    return _frame(columns, [geoms[c] for c in sub.index], pd.Index(sub.index, name="code_insee"))


def _subdivided_frame(coverage: Coverage, codes: pd.Index, parts: Atoms, where: dict) -> gpd.GeoDataFrame:
    ref = coverage.ref
    units = ref.units
    sub = units.loc[codes[units["type"].reindex(codes).to_numpy() == SUBUNIT_TYPE]]
    communes = sorted(set(sub["commune"]))
    geoms = parts.union({c: where.get(("s", c), []) for c in communes})
    n_units = sub.groupby("commune").size()
    columns = {
        "nom": [str(ref.communes.at[c, "nom"]) for c in communes],
        "unites": [int(n_units[c]) for c in communes],
    }
    return _frame(columns, [geoms[c] for c in communes], pd.Index(communes, name="commune"))


def _extra_series(k: int, pairs: pd.DataFrame, parts: Atoms, where: dict) -> gpd.GeoSeries:
    groups = list(dict.fromkeys(pairs["group"]))
    geoms = parts.union({g: where.get(("x", k, g), []) for g in groups})
    return gpd.GeoSeries([geoms[g] for g in groups], index=pd.Index(groups, name="group"), crs=4326)
