"""Dissolving units into polygons, simplified as one coverage (no gap or sliver between neighbours).

Every unit drawn is labelled by what covers it (its département, the CPTS that include it, and
any extra layer's territories); units with the same label are dissolved into an *atom* with
:func:`shapely.coverage_union_all`; the atoms are simplified together with
:func:`shapely.coverage_simplify` in the zone's projected CRS, so that neighbours keep exactly
the same shared boundary; every layer is then a union of atoms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpts_geo.reference.units import METRO_EPSG, ZONE_EPSG, Reference

__all__ = ["Atoms", "atom_positions", "atoms", "dissolve", "membership_pairs", "union_of_units", "zone_epsg"]


def zone_epsg(dep: str) -> int:
    return ZONE_EPSG.get(dep, METRO_EPSG)


def union_of_units(ref: Reference, codes: Iterable[str]):
    """The units of ``codes`` as one (multi)polygon, EPSG:4326, dissolved as a coverage
    (:func:`shapely.coverage_union_all`: shared boundaries vanish, no sliver is left).

    Units without a boundary in the source (see ``data/SOURCES.md``) lie inside the unit
    covering them and add nothing; unknown codes are ignored. An empty geometry when no unit
    has a boundary.
    """
    geoms = ref.units.geometry.reindex(list(codes)).to_numpy()
    return shapely.coverage_union_all(geoms[~shapely.is_missing(geoms)])


@dataclass
class Atoms:
    """Units dissolved by label and simplified together (see the module docstring)."""

    geometry: np.ndarray  # EPSG:4326, simplified
    label: list  # one label per atom (a tuple)
    departement: np.ndarray
    decimals: int

    def union(self, keys: Mapping[Any, np.ndarray | Sequence[int]]) -> dict:
        """For each key, the union of the atoms at the given positions (rounded)."""
        out = {}
        for key, idx in keys.items():
            geoms = self.geometry[np.asarray(idx, dtype=np.int64)]
            geoms = geoms[~shapely.is_empty(geoms)]
            out[key] = self._round(shapely.coverage_union_all(geoms)) if len(geoms) else None
        return out

    def _round(self, geom):
        d = self.decimals
        g = shapely.transform(geom, lambda c: np.round(c, d))
        if shapely.is_valid(g):
            return g
        # Rounding pinched a thin part: snap-round this polygon instead (GEOS keeps it valid, on
        # the same grid), keeping only the polygonal pieces.
        g = shapely.set_precision(geom, 10.0**-d)
        if shapely.get_type_id(g) == 7:  # GeometryCollection
            parts = shapely.get_parts(g)
            parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
            g = shapely.multipolygons(shapely.get_parts(parts)) if len(parts) else None
        if g is None or g.is_empty:
            return None
        return shapely.transform(g, lambda c: np.round(c, d))  # the grid's shortest decimals


def atoms(ref: Reference, codes: pd.Index, labels: list[tuple], tolerance_m: float, decimals: int) -> Atoms:
    """Dissolve the units ``codes`` by ``labels`` (one per unit) within each département, then
    simplify the atoms of each zone together in its projected CRS."""
    units = ref.units.loc[codes]
    deps = units["departement"].to_numpy()
    keys = pd.Series([(d, lab) for d, lab in zip(deps, labels)], dtype=object)
    geom = units.geometry.to_numpy()
    ok = ~(pd.isna(geom) | shapely.is_empty(geom))
    codes_f, uniq = pd.factorize(keys[ok], sort=False)
    order = np.argsort(codes_f, kind="stable")
    bounds = np.r_[0, np.flatnonzero(np.diff(codes_f[order])) + 1, len(codes_f)] if len(codes_f) else [0]
    g_ok = geom[ok]
    dissolved = np.array(
        [shapely.coverage_union_all(g_ok[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])], dtype=object
    )
    atom_dep = np.array([k[0] for k in uniq], dtype=object)
    out = np.empty(len(dissolved), dtype=object)
    for epsg in sorted({zone_epsg(d) for d in atom_dep}):
        sel = np.array([zone_epsg(d) == epsg for d in atom_dep])
        projected = gpd.GeoSeries(dissolved[sel], crs=4326).to_crs(epsg).to_numpy()
        simple = shapely.coverage_simplify(projected, tolerance_m) if tolerance_m > 0 else projected
        out[sel] = gpd.GeoSeries(simple, crs=epsg).to_crs(4326).to_numpy()
    return Atoms(out, [k[1] for k in uniq], atom_dep, decimals)


def dissolve(
    ref: Reference,
    membership: pd.DataFrame | pd.Series | Mapping[str, Iterable[str]],
    *,
    within: Iterable[str] | None = None,
    tolerance_m: float = 0.0,
    decimals: int = 6,
) -> gpd.GeoDataFrame:
    """Dissolve units into one polygon per group, simplified as one coverage.

    Parameters
    ----------
    ref
        The reference.
    membership
        Which units make each group: a DataFrame with columns ``group`` and ``code_insee`` (a
        unit may be in several groups), a Series unit code -> group, or a mapping group ->
        unit codes.
    within
        Département codes whose other units are part of the coverage simplified with the groups
        (so that the groups' outer boundaries match their neighbours'); default: only the
        départements the groups touch.
    tolerance_m
        :func:`shapely.coverage_simplify` tolerance in metres (0: no simplification).
    decimals
        Decimals kept in the coordinates (degrees).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, indexed by group (in first-seen order), with ``n_units`` and ``population``.
    """
    pairs = membership_pairs(membership)
    pairs = pairs[ref.units.index.get_indexer(pairs["code_insee"].to_numpy(dtype=object)) >= 0]
    deps = set(ref.units.loc[pairs["code_insee"], "departement"])
    if within is not None:
        deps |= set(within)
    codes = ref.units.index[ref.units["departement"].isin(deps)]
    by_unit = pairs.groupby("code_insee", sort=False)["group"].agg(lambda s: tuple(sorted(set(s), key=str)))
    labels = [by_unit.get(c, ()) for c in codes]
    parts = atoms(ref, codes, labels, tolerance_m, decimals)
    groups = list(dict.fromkeys(pairs["group"]))
    where = atom_positions(parts.label)
    geoms = parts.union({g: where.get(g, []) for g in groups})
    stats = pairs.assign(population=ref.units.loc[pairs["code_insee"], "population"].to_numpy())
    stats = stats.drop_duplicates(["group", "code_insee"]).groupby("group", sort=False)
    return gpd.GeoDataFrame(
        {
            "n_units": stats.size().reindex(groups).to_numpy(),
            "population": stats["population"].sum().reindex(groups).to_numpy(),
        },
        geometry=[geoms[g] for g in groups],
        index=pd.Index(groups, name="group"),
        crs=4326,
    )


def membership_pairs(membership) -> pd.DataFrame:
    if isinstance(membership, pd.DataFrame):
        return membership[["group", "code_insee"]].astype({"code_insee": str}).reset_index(drop=True)
    if isinstance(membership, pd.Series):
        return pd.DataFrame({"group": membership.to_numpy(), "code_insee": membership.index.astype(str)})
    rows = [(g, str(c)) for g, codes in membership.items() for c in codes]
    return pd.DataFrame(rows, columns=["group", "code_insee"])


def atom_positions(labels: list[tuple]) -> dict:
    """For each member of any label, the positions of the atoms whose label contains it."""
    where: dict = {}
    for i, lab in enumerate(labels):
        for member in lab:
            where.setdefault(member, []).append(i)
    return where
