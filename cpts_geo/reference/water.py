"""Water crossings: two units of one land mass that face each other across water (build time).

Two parts of a territory on the same land mass may face each other across an estuary, a rade
or a bay (Brest and Plougastel-Daoulas across the Elorn): they are not separated by land. A
**water crossing** joins two units of the same land mass that are not land neighbours when the
shortest segment between them, in the zone's projected CRS, crosses (or runs along the coast of)
the land of no other unit over more than :data:`WATER_CROSSING_GRAZE_M`, and touches no land
border of France. The table of every
crossing up to :data:`WATER_CROSSING_MAX_KM` is computed once per reference by the build
(``data/traversees_eau.parquet``) and read by :meth:`cpts_geo.reference.Reference.water_crossings`;
the contiguity and enclave rules, ``suggest`` and the maps use it (with at most ``sea_link_km``).

The reference holds French land only: a segment across a foreign country (the canton of
Geneva, Monaco, a Belgian salient) would cross no unit. The land borders are therefore drawn
from the outline of the units: the outline of a zone's largest land mass runs along the sea
and along the land borders, and the units where one meets the other are known
(:data:`LAND_BORDERS`); a segment that touches a land border, or a hole in the units (Llívia, a
Spanish enclave), is no water crossing.

Examples
--------
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> float(ref.water_crossings(30).set_index(["a", "b"]).loc[("29075", "29189"), "distance_km"])
0.443
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cpts_geo import _graph
from cpts_geo._limits import LIMITS

__all__ = [
    "LAND_BORDERS",
    "WATER_CROSSING_COLUMNS",
    "WATER_CROSSING_GRAZE_M",
    "WATER_CROSSING_MAX_KM",
    "compute_water_crossings",
    "empty_water_crossings",
]

log = logging.getLogger(__name__)

#: The longest crossing kept by the build: the largest ``sea_link_km`` a user may ask for.
WATER_CROSSING_MAX_KM = float(LIMITS["sea_link_km"].high)

#: A segment may graze the land of a third unit: the strip 1 m on each side of it may overlap
#: that land over at most this length (metres) times 2 m, i.e. cross about 20 m of it, or run
#: along its coast over about 20 m. Where two units meet on a coast, the generalised boundaries
#: leave the closest point of one a few metres inside or beside its neighbour's corner. 20 m is
#: far below the generalisation step of the boundaries (median edge 569 m) and any width of
#: land.
WATER_CROSSING_GRAZE_M = 20.0

#: Where the land borders of a zone end on the coast, as ``(end unit, end unit, coastal unit)``
#: by EPSG code: the outline of the zone's largest land mass, from one end unit to the other,
#: along the side that does not pass the coastal unit, is a land border (the end units' own
#: outline too). Metropolitan France: Bray-Dunes to Menton (Belgium, Luxembourg, Germany,
#: Switzerland, Italy), Cap-d'Ail to Roquebrune-Cap-Martin (Monaco), Hendaye to Cerbère (Spain,
#: Andorra); Guyane: Awala-Yalimapo to Ouanary (Suriname, Brazil). The other zones are islands
#: (Saint-Martin is out of scope).
LAND_BORDERS: dict[int, tuple[tuple[str, str, str], ...]] = {
    2154: (("59107", "06083", "29019"), ("06032", "06104", "29019"), ("64260", "66048", "29019")),
    2972: (("97361", "97314", "97302"),),
}

#: The columns of the table: unit codes ``a < b``, the length (km), the zone's EPSG code and the
#: segment's ends (metres, in that CRS; ``a`` end first).
WATER_CROSSING_COLUMNS = ("a", "b", "distance_km", "epsg", "ax", "ay", "bx", "by")

#: Units whose outline is not shared with a neighbour over more than this (metres) face no
#: water: they are skipped (most of the land).
_SHORE_M = 10.0

#: A segment this close (metres) to a land border or a hole touches it.
_BORDER_M = 1.0

#: Half-width (metres) of the strip along a segment whose overlap with land is measured.
_STRIP_M = 1.0

#: Points tested on each segment before the exact test (a point on land rejects it cheaply).
_SAMPLES = 9


def compute_water_crossings(
    units,
    adjacency: pd.DataFrame,
    *,
    max_km: float = WATER_CROSSING_MAX_KM,
    graze_m: float = WATER_CROSSING_GRAZE_M,
    land_borders: dict[int, tuple[tuple[str, str, str], ...]] | None = None,
) -> pd.DataFrame:
    """Every water crossing of a reference up to ``max_km`` (see the module's docstring).

    Parameters
    ----------
    units
        GeoDataFrame of the units (EPSG:4326) indexed by code, with an ``epsg`` column.
    adjacency
        Land neighbours (``a``, ``b``, ``shared_m``), as :func:`~cpts_geo.reference.adjacency.
        compute_adjacency` gives them.
    max_km
        Longest crossing kept.
    graze_m
        Length of the land of a third unit a segment may cross (a graze).
    land_borders
        Where the land borders end (:data:`LAND_BORDERS` by default; ``{}`` for none).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WATER_CROSSING_COLUMNS`, sorted by ``a``, ``b``; ``distance_km`` rounded
        to the metre.
    """
    import shapely

    borders = LAND_BORDERS if land_borders is None else land_borders
    codes = units.index.to_numpy(dtype=object)
    n = len(codes)
    pos = pd.Series(np.arange(n), index=units.index)
    ia = pos.reindex(adjacency["a"]).to_numpy()
    ib = pos.reindex(adjacency["b"]).to_numpy()
    ok = ~(np.isnan(ia) | np.isnan(ib)) if ia.dtype.kind == "f" else np.ones(len(ia), dtype=bool)
    ia, ib = ia[ok].astype(np.int64), ib[ok].astype(np.int64)
    _, land = _graph.labels_of_edges(n, np.minimum(ia, ib), np.maximum(ia, ib))
    adjacent = np.unique(np.minimum(ia, ib) * n + np.maximum(ia, ib))
    shared = np.zeros(n)
    length = np.nan_to_num(adjacency["shared_m"].to_numpy(dtype=float)[ok], nan=0.0)
    np.add.at(shared, ia, length)
    np.add.at(shared, ib, length)
    epsg_all = units["epsg"].to_numpy(dtype=np.int64)
    frames = []
    for epsg in np.unique(epsg_all).tolist():
        zone = np.flatnonzero(epsg_all == epsg)
        geoms = units.geometry.iloc[zone].to_crs(int(epsg)).to_numpy()
        present = ~shapely.is_missing(geoms)
        zone, geoms = zone[present], geoms[present]
        if len(zone) < 2:
            continue
        shore = np.flatnonzero(shapely.length(geoms) - shared[zone] > _SHORE_M)
        border = _border_lines(geoms, codes[zone], borders.get(epsg, ()))
        found = _zone_crossings(zone, geoms, shore, land, adjacent, n, max_km, graze_m, border)
        if found is not None:
            i, j, seg = found
            ends = shapely.get_coordinates(seg).reshape(-1, 4)
            frames.append(
                pd.DataFrame(
                    {
                        "a": codes[i],
                        "b": codes[j],
                        "distance_km": np.round(shapely.length(seg) / 1000.0, 3),
                        "epsg": np.int64(epsg),
                        "ax": ends[:, 0].round(1),
                        "ay": ends[:, 1].round(1),
                        "bx": ends[:, 2].round(1),
                        "by": ends[:, 3].round(1),
                    }
                )
            )
    if not frames:
        return empty_water_crossings()
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["a", "b"]).reset_index(drop=True)


def empty_water_crossings() -> pd.DataFrame:
    """The table of a reference without any water crossing."""
    return pd.DataFrame(
        {
            "a": pd.Series([], dtype=object),
            "b": pd.Series([], dtype=object),
            "distance_km": pd.Series([], dtype=float),
            "epsg": pd.Series([], dtype=np.int64),
            **{c: pd.Series([], dtype=float) for c in ("ax", "ay", "bx", "by")},
        }
    )


def _zone_crossings(zone, geoms, shore, land, adjacent, n, max_km, graze_m, border):
    """The crossings of one zone: unit positions ``i < j`` and their segments, or None."""
    import shapely

    if len(shore) < 2:
        return None
    tree = shapely.STRtree(geoms[shore])
    left, right = tree.query(geoms[shore], predicate="dwithin", distance=max_km * 1000.0)
    left, right = shore[left], shore[right]  # indices into the zone's arrays
    i, j = zone[left], zone[right]
    keep = (i < j) & (land[i] == land[j])
    keep &= ~np.isin(i.astype(np.int64) * n + j, adjacent)
    left, right, i, j = left[keep], right[keep], i[keep], j[keep]
    if not len(i):
        return None
    seg = shapely.shortest_line(geoms[left], geoms[right])
    length = shapely.length(seg)
    good = (length <= max_km * 1000.0) & (length > _STRIP_M)  # units that touch are no crossing
    # Cheap first: a segment with a point well inside a unit crosses land.
    frac = (np.arange(_SAMPLES) + 1.0) / (_SAMPLES + 1.0)
    points = shapely.line_interpolate_point(
        np.repeat(seg, _SAMPLES), np.tile(frac, len(seg)), normalized=True
    )
    all_tree = shapely.STRtree(geoms)
    hit_pt, hit_unit = all_tree.query(points, predicate="within")
    on_land = np.zeros(len(seg), dtype=bool)
    owner = hit_pt // _SAMPLES
    inner = (hit_unit != left[owner]) & (hit_unit != right[owner])
    inner &= shapely.distance(points[hit_pt], shapely.boundary(geoms[hit_unit])) > graze_m
    on_land[owner[inner]] = True
    good &= ~on_land
    cand = np.flatnonzero(good)
    # Exact: a strip along the segment (``_STRIP_M`` on each side) overlapping another unit's land
    # over more than ``graze_m`` x ``2 * _STRIP_M``: the segment crosses about ``graze_m`` of it,
    # or runs along its coast over about twice that (a segment exactly on a coast is on land).
    hit_seg, hit_unit = all_tree.query(seg[cand], predicate="dwithin", distance=_STRIP_M)
    seg_of = cand[hit_seg]
    other = (hit_unit != left[seg_of]) & (hit_unit != right[seg_of])
    seg_of, hit_unit = seg_of[other], hit_unit[other]
    strip = shapely.buffer(seg[seg_of], _STRIP_M, cap_style="flat")
    crossed = shapely.area(shapely.intersection(strip, geoms[hit_unit])) > graze_m * 2 * _STRIP_M
    good[seg_of[crossed]] = False
    if border is not None:
        # Any contact: a segment from a unit's land border crosses the country beyond it.
        cand = np.flatnonzero(good)
        shapely.prepare(border)
        good[cand[shapely.dwithin(border, seg[cand], _BORDER_M)]] = False
    return i[good], j[good], seg[good]


def _border_lines(geoms: np.ndarray, codes: np.ndarray, ends: tuple[tuple[str, str, str], ...]):
    """The land borders and the holes of a zone's units, as one (multi)line, or None."""
    import shapely

    union = shapely.union_all(geoms)
    parts = shapely.get_parts(union)
    lines = [shapely.get_interior_ring(p, k) for p in parts for k in range(shapely.get_num_interior_rings(p))]
    if ends and len(parts):
        mainland = parts[int(np.argmax(shapely.area(parts)))]
        ring = np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(mainland)))[:-1]
        where = {c: i for i, c in enumerate(codes.tolist())}
        for first, last, coast in ends:
            if not {first, last, coast} <= where.keys():
                if {first, last, coast} & where.keys():  # a French reference lacking one of them
                    log.warning(
                        "frontière terrestre : unité %s, %s ou %s absente ; ignorée", first, last, coast
                    )
                continue
            on = {c: _ring_vertices(ring, geoms[where[c]]) for c in (first, last, coast)}
            if any(not len(v) for v in on.values()):
                log.warning("frontière terrestre %s – %s : unité hors du contour ; ignorée", first, last)
                continue
            arc = _arc_avoiding(len(ring), on[first], on[last], on[coast])
            if len(arc) >= 2:
                lines.append(shapely.linestrings(ring[arc]))
    if not lines:
        return None
    return shapely.multilinestrings(lines) if len(lines) > 1 else lines[0]


def _ring_vertices(ring: np.ndarray, geom) -> np.ndarray:
    """Positions of the ring's vertices on a unit's boundary (within 1 m)."""
    import shapely

    pts = shapely.points(ring)
    return np.flatnonzero(shapely.dwithin(pts, geom, 1.0))


def _arc_avoiding(m: int, first: np.ndarray, last: np.ndarray, avoid: np.ndarray) -> np.ndarray:
    """Vertex positions of a closed ring of ``m`` vertices from the ``first`` unit's vertices to
    the ``last`` unit's (both included), along the side that meets no vertex of ``avoid`` (but
    those it shares with the end units)."""
    avoid = np.setdiff1d(avoid, np.r_[first, last])
    for start, stop in ((first, last), (last, first)):
        a, b = _span_start(start, m), _span_end(stop, m)
        arc = (a + np.arange((b - a) % m + 1)) % m
        if not np.isin(arc, avoid).any():
            return arc
    return np.empty(0, dtype=np.int64)


def _span_start(v: np.ndarray, m: int) -> int:
    """First vertex of a run of ring positions that may wrap around the ring's start."""
    v = np.sort(v)
    gaps = np.diff(np.r_[v, v[0] + m])
    return int(v[(int(np.argmax(gaps)) + 1) % len(v)])


def _span_end(v: np.ndarray, m: int) -> int:
    """Last vertex of a run of ring positions (see :func:`_span_start`)."""
    v = np.sort(v)
    gaps = np.diff(np.r_[v, v[0] + m])
    return int(v[int(np.argmax(gaps))])
