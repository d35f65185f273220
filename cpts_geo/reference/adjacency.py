"""Computing the unit graph from boundaries (build time).

Two units are neighbours when their boundaries touch or come within
:data:`ADJACENCY_TOLERANCE_M` metres in the zone's projected CRS. The adjacency is computed
once per reference by the build (:mod:`cpts_geo.build`) and shipped; the rules, coverage and
suggestions read it from :attr:`cpts_geo.reference.Reference.graph`.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import Transformer

from cpts_geo._errors import ReferenceDataError
from cpts_geo._graph import pairs_within_runs

__all__ = ["ADJACENCY_TOLERANCE_M", "compute_adjacency"]

#: Two units are neighbours when their boundaries touch or come within this distance (metres,
#: in the zone's projected CRS). The boundaries are made a clean coverage at build time, so
#: true neighbours share vertices exactly and enclosed gaps are closed; what remains are gaps
#: that open onto the sea or a border (the cleaning cannot see them as gaps), and points where
#: four communes meet, which the generalization opened into two triple points a few metres
#: apart (or a commune it narrowed to a neck). 5 m is far below the source's generalization
#: step (median edge 569 m, 1st percentile 134 m, metropolitan France) and below any real
#: width of land: nationally it adds 6 pairs to those sharing a vertex (0.16 to 4.53 m apart),
#: while 10 m would add 37 and 20 m 155 (see scripts/benchmark.py and data/SOURCES.md).
ADJACENCY_TOLERANCE_M = 5.0

#: Length of one degree of latitude at the equator (the shortest), in metres: bounds how far
#: apart in degrees two points ``tolerance_m`` metres apart can be.
_DEGREE_M = 110_574.0


def compute_adjacency(
    units: gpd.GeoDataFrame, *, tolerance_m: float = ADJACENCY_TOLERANCE_M, shared_lengths: bool = True
) -> pd.DataFrame:
    """Pairs of units whose boundaries touch, or come within ``tolerance_m`` metres.

    Computed once per reference, vectorised over whole arrays. The boundaries are a clean
    coverage (build time), so neighbours share vertices exactly: queen contiguity is found by
    numbering the vertices (exact on the 1e-7° grid the build rounds to). The tolerance catches
    what shared vertices miss, checked only where it can happen: gaps opening onto the sea or a
    border between units of the coverage's outline, and slivers of a third unit, thinner than
    the tolerance, between two units that both touch it (four-commune corners the
    generalization opened); distances are measured in the zone's projected CRS. Units without a
    geometry (communes restored from a commune nouvelle whose polygon still covers them) are
    linked to the unit covering them.

    Parameters
    ----------
    units
        Units indexed by code, EPSG:4326, with ``epsg`` and ``geometry_source`` columns.
    tolerance_m
        Distance under which two boundaries count as touching.
    shared_lengths
        Also measure the length of each shared boundary (metres, projected CRS).

    Returns
    -------
    pandas.DataFrame
        Columns ``a``, ``b`` (unit codes, ``a < b``) and ``shared_m`` (length of the shared
        boundary in metres; 0 for a contact at a point or within the tolerance).
    """
    if units.crs is None or units.crs.to_epsg() != 4326:
        raise ReferenceDataError("compute_adjacency expects units in EPSG:4326")
    geom_all = units.geometry.to_numpy()
    present = ~shapely.is_missing(geom_all)
    epsg_all = units["epsg"].to_numpy()
    codes_all = units.index.to_numpy()
    n = len(codes_all)
    keys, lengths = [], []
    for epsg in np.unique(epsg_all[present]):
        sel = np.flatnonzero((epsg_all == epsg) & present)
        a, b, shared = _zone_adjacency(geom_all[sel], int(epsg), tolerance_m, shared_lengths)
        keys.append(sel[a].astype(np.int64) * n + sel[b])  # sel is increasing: sel[a] < sel[b]
        lengths.append(shared)
    # Units without geometry: linked to the unit whose polygon covers them.
    for i in np.flatnonzero(~present):
        m = re.search(r"inclus dans (\d\w\d{3})", str(units["geometry_source"].iat[i]))
        if m and m.group(1) in units.index:
            j = units.index.get_loc(m.group(1))
            keys.append(np.array([min(i, j) * n + max(i, j)], dtype=np.int64))
            lengths.append(np.array([np.nan]))
    # Zones hold disjoint units and each lists a pair once: sorting the keys is enough.
    key = np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)
    shared = np.concatenate(lengths) if lengths else np.empty(0)
    order = np.argsort(key)
    a, b = key[order] // n, key[order] % n
    out = pd.DataFrame({"a": codes_all[a], "b": codes_all[b], "shared_m": np.round(shared[order], 1)})
    if units.index.is_monotonic_increasing:
        return out  # positions in code order: a < b already, and sorted
    swap = out["a"] > out["b"]
    if swap.any():
        out.loc[swap, ["a", "b"]] = out.loc[swap, ["b", "a"]].to_numpy()
    return out.sort_values(["a", "b"]).reset_index(drop=True)


#: Offsets that make grid coordinates (1e-7 degree) positive, and the factor that packs them.
_GRID_X0, _GRID_Y0, _GRID_PACK = 1_800_000_000, 900_000_000, 4_000_000_000


def _zone_adjacency(geoms: np.ndarray, epsg: int, tolerance_m: float, shared_lengths: bool):
    """Neighbour pairs (positions in ``geoms``) of one zone, and their shared boundary length."""
    n = len(geoms)
    coords, unit = shapely.get_coordinates(geoms, return_index=True)
    # Exact integer keys of the vertices on the build's 1e-7 degree grid, numbered by a hash
    # table: linear time, where sorting the million keys costs about twice as much.
    vertex, vertex_key = pd.factorize(_grid_keys(coords))
    # Each vertex's units, each once (a ring's closing vertex repeats its first one): rows of
    # a vertex x unit incidence matrix, which scipy groups by counting sort, columns sorted.
    inc = sp.csr_matrix((np.ones(len(vertex), dtype=bool), (vertex, unit)), shape=(len(vertex_key), n))
    inc.sum_duplicates()
    units_at = np.diff(inc.indptr)
    at = np.repeat(np.arange(len(vertex_key)), units_at)
    # Queen contiguity: every two units listed at the same vertex (columns are sorted within a
    # row, so the first is the lower position). pair_of numbers the pairs, for each (vertex,
    # pair) found; the tolerance screen bounds each pair's shared vertices.
    i, j = pairs_within_runs(at)
    pair_of, pair_key = pd.factorize(inc.indices[i].astype(np.int64) * n + inc.indices[j])
    pair_key = np.asarray(pair_key, dtype=np.int64)
    # Outline units: those owning a vertex no other unit shares (gaps onto the sea or a border).
    outline = np.unique(inc.indices[np.repeat(units_at == 1, units_at)])

    max_lat = float(np.abs(coords[:, 1]).max()) if len(coords) else 0.0
    deg_tol = 1.05 * tolerance_m / (_DEGREE_M * np.cos(np.radians(min(max_lat, 89.0))))
    near = _tolerance_candidates(geoms, pair_key, pair_of, vertex_key[at[i]], outline, deg_tol)
    # Decided on the units themselves: first in degrees (cheap, no projection), then in metres
    # in the zone's projected CRS, projecting only the few units still in question.
    na, nb = near // n, near % n
    close = shapely.dwithin(geoms[na], geoms[nb], deg_tol)
    na, nb = na[close], nb[close]
    if len(na):
        need = np.unique(np.r_[na, nb])
        proj = np.empty(n, dtype=object)
        proj[need] = gpd.GeoSeries(geoms[need], crs=4326).to_crs(epsg).to_numpy()
        close = shapely.dwithin(proj[na], proj[nb], tolerance_m)
        pair_key = np.r_[pair_key, na[close].astype(np.int64) * n + nb[close]]
    pair_key = np.sort(pair_key)
    shared = _shared_lengths(geoms, epsg, pair_key) if shared_lengths else np.zeros(len(pair_key))
    return pair_key // n, pair_key % n, shared


def _grid_keys(coords: np.ndarray) -> np.ndarray:
    """One exact int64 per vertex on the build's 1e-7 degree grid (x then y, packed)."""
    ix = np.rint(coords[:, 0] * 1e7).astype(np.int64) + _GRID_X0
    iy = np.rint(coords[:, 1] * 1e7).astype(np.int64) + _GRID_Y0
    return ix * _GRID_PACK + iy


def _tolerance_candidates(
    geoms: np.ndarray,
    pair_key: np.ndarray,
    pair_of: np.ndarray,
    shared_vertex: np.ndarray,
    outline: np.ndarray,
    deg_tol: float,
) -> np.ndarray:
    """Pairs (``lo * n + hi``, sorted) that share no vertex but may be within the tolerance.

    After cleaning, enclosed gaps are gone, so the space between two such units is either a
    gap onto the sea or a border (both are outline units) or a sliver of a third unit c they
    both touch. In the second case the segment joining the closest points crosses c only, so
    its ends lie on the boundaries each unit shares with c, which run between vertices shared
    with c (the coverage is noded): the bounding octagons of those shared vertices come within
    the tolerance. ``pair_of`` and ``shared_vertex`` give, for each (vertex, pair) found, the
    pair's number in ``pair_key`` and the vertex's grid key. Both screens work in degrees, with
    a bound valid at the zone's highest latitude; a pair that passes is then measured.
    """
    n = len(geoms)
    reach = int(np.ceil(deg_tol * 1e7)) + 1  # in grid units, with a unit for rounding
    # Bounding octagon of the vertices each pair shares: their extent along x, y and the two
    # diagonals x + y, x - y (which two points within the reach differ by at most twice it).
    # A bounding box alone leaves ~4 times more candidates: the neighbours of a small unit
    # all have overlapping boxes.
    x, y = np.divmod(shared_vertex, _GRID_PACK)
    octagon = []
    for along, limit in ((x, reach), (y, reach), (x + y, 2 * reach), (x - y, 2 * reach)):
        lo = np.full(len(pair_key), np.iinfo(np.int64).max)
        hi = np.full(len(pair_key), np.iinfo(np.int64).min)
        np.minimum.at(lo, pair_of, along)
        np.maximum.at(hi, pair_of, along)
        octagon.append((lo, hi, limit))

    # Every two neighbours of a unit c, with the pairs they form with c: CSR rows group the
    # neighbours by unit (pair ids stored 1-based, so that none is a zero).
    ids = np.arange(1, len(pair_key) + 1)
    a, b = pair_key // n, pair_key % n
    g = sp.csr_matrix((np.r_[ids, ids], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    i, j = pairs_within_runs(np.repeat(np.arange(n), np.diff(g.indptr)))
    # Their two octagons (pairs p, q with c) must come within reach along every direction;
    # screened one direction at a time, each on what the previous ones kept.
    for lo, hi, limit in octagon:
        p, q = g.data[i] - 1, g.data[j] - 1
        kept = np.maximum(lo[p], lo[q]) - np.minimum(hi[p], hi[q]) <= limit
        i, j = i[kept], j[kept]

    # Outline units whose boxes come within the tolerance.
    bounds = shapely.bounds(geoms[outline]) + np.array([-deg_tol, -deg_tol, deg_tol, deg_tol])
    boxes = shapely.box(*bounds.T)
    li, ri = shapely.STRtree(boxes).query(boxes)

    ca, cb = np.r_[g.indices[i], outline[li]], np.r_[g.indices[j], outline[ri]]
    key = np.sort((np.minimum(ca, cb).astype(np.int64) * n + np.maximum(ca, cb))[ca != cb])
    key = key[np.diff(key, prepend=-1) != 0]  # unique: np.unique hashes, slower here
    # Most candidates are neighbours already (c's neighbours meet at its triple points).
    neighbours = np.sort(pair_key)
    if len(neighbours):
        found = np.searchsorted(neighbours, key).clip(max=len(neighbours) - 1)
        key = key[neighbours[found] != key]
    return key


def _shared_lengths(geoms: np.ndarray, epsg: int, pair_key: np.ndarray) -> np.ndarray:
    """Length (metres, projected CRS) of the boundary each pair shares, for sorted pair keys.

    Edges are matched between rings exactly (same two vertices on the grid); a contact at a
    point or within the tolerance has no shared edge and measures 0.
    """
    n = len(geoms)
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    rings, ridx = shapely.get_rings(parts, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    poly = pidx[ridx[cidx]]
    seg = np.flatnonzero(cidx[1:] == cidx[:-1])  # consecutive vertices of one ring
    if not len(seg):
        return np.zeros(len(pair_key))
    key = _grid_keys(coords)
    xy = np.column_stack(
        Transformer.from_crs(4326, epsg, always_xy=True).transform(coords[:, 0], coords[:, 1])
    )
    s1, s2 = key[seg], key[seg + 1]
    e1, e2 = np.minimum(s1, s2), np.maximum(s1, s2)
    length = np.hypot(*(xy[seg + 1] - xy[seg]).T)
    order = np.lexsort((poly[seg], e2, e1))
    e1, e2, sp_, length = e1[order], e2[order], poly[seg][order], length[order]
    same = (e1[1:] == e1[:-1]) & (e2[1:] == e2[:-1]) & (sp_[1:] != sp_[:-1])
    ea, eb = sp_[:-1][same], sp_[1:][same]
    edge_pairs = np.minimum(ea, eb).astype(np.int64) * n + np.maximum(ea, eb)
    sums = pd.Series(length[:-1][same]).groupby(edge_pairs).sum()
    return sums.reindex(pair_key, fill_value=0.0).to_numpy()
