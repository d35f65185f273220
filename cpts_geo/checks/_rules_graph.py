"""The graph work of the rules: the sea links and water crossings that join the parts of a territory (shortest distances in the zone's CRS, a minimum spanning forest) and the groups of units a territory encloses on land; used by :mod:`cpts_geo.checks.rules`.

The sea links need the units' geometry (shapely) and scipy: they are imported only for a
territory of several parts. The enclaves of a compact territory are found with numpy, layer by
layer around it; those of a scattered one with scipy, in one pass over the land graph.
"""

from __future__ import annotations

import functools

import numpy as np

from cpts_geo import _graph
from cpts_geo.reference.units import Reference, ReferenceArrays


# ---------------------------------------------------------------------------------------------
# contiguity
# ---------------------------------------------------------------------------------------------
def _part_distance(ref: Reference, pa: np.ndarray, pb: np.ndarray) -> tuple[float, int, int] | None:
    """Shortest distance (km, zone's projected CRS) between two sets of units, and the closest pair."""
    import shapely

    ga, gb = ref.projected(pa), ref.projected(pb)
    ka, kb = ~shapely.is_missing(ga), ~shapely.is_missing(gb)
    pa, pb, ga, gb = pa[ka], pb[kb], ga[ka], gb[kb]
    if not len(pa) or not len(pb):
        return None
    tree = shapely.STRtree(gb)
    (ia, ib), dist = tree.query_nearest(ga, return_distance=True, all_matches=False)
    best = np.lexsort((pb[ib], pa[ia], dist))[0]
    return float(dist[best]) / 1000.0, int(pa[ia[best]]), int(pb[ib[best]])


def _box_gap_km(ref: Reference, P, groups, boxes: dict, i: int, j: int) -> float:
    """Distance (km) between the bounding boxes of parts ``i`` and ``j`` in their zone's CRS: a
    lower bound of their distance, cheap enough to skip the pairs far apart (``inf`` when a
    part has no geometry)."""
    import shapely

    for c in (i, j):
        if c not in boxes:
            g = ref.projected(P[groups[c]])
            g = g[~shapely.is_missing(g)]
            b = shapely.bounds(g) if len(g) else None
            boxes[c] = None if b is None else np.r_[b[:, :2].min(axis=0), b[:, 2:].max(axis=0)]
    bi, bj = boxes[i], boxes[j]
    if bi is None or bj is None:
        return float("inf")
    dx = max(bi[0] - bj[2], bj[0] - bi[2], 0.0)
    dy = max(bi[1] - bj[3], bj[1] - bi[3], 0.0)
    return float(np.hypot(dx, dy)) / 1000.0


def _water_candidates(ref: Reference, P: np.ndarray, part_of: np.ndarray, max_km: float) -> list[tuple]:
    """The shortest water crossing (at most ``max_km``) between each pair of parts of a
    territory, as ``(distance_km, i, j, unit_i, unit_j)`` with ``i < j`` (``part_of``: the part
    of each unit of the territory, -1 outside)."""
    frm, to, dist = ref.water_neighbours(P, max_km)
    pi, pj = part_of[frm], part_of[to]
    keep = (pj >= 0) & (pi < pj)
    frm, to, dist, pi, pj = frm[keep], to[keep], dist[keep], pi[keep], pj[keep]
    if not len(frm):
        return []
    codes = ref.arrays.codes
    lo, hi = np.minimum(frm, to), np.maximum(frm, to)
    order = np.lexsort((codes[hi], codes[lo], dist))  # shortest first, then by codes
    out, seen = [], set()
    for e in order.tolist():
        pair = (int(pi[e]), int(pj[e]))
        if pair not in seen:
            seen.add(pair)
            out.append((round(float(dist[e]), 3), pair[0], pair[1], int(frm[e]), int(to[e])))
    return out


def _joining_links(
    k: int, together: list[list[int]], candidates: list[tuple]
) -> tuple[list[tuple], np.ndarray]:
    """The links that join the parts of a territory, and which group each part ends in.

    Parts are nodes; the parts of each list of ``together`` (0-based ids) are joined first (they
    count as one node: a sea link to any part of a land mass joins that land mass), then the
    candidate links, shortest first: a minimum spanning forest
    (``scipy.sparse.csgraph.minimum_spanning_tree``). ``candidates`` are ``(distance_km, i, j,
    unit_i, unit_j)`` with ``i < j``; returns the links kept, as ``(distance_km, i, j, lower
    unit, higher unit)``, and the component of each part.
    """
    import scipy.sparse as sp
    from scipy.sparse import csgraph

    rows, cols, weights = [], [], []
    for ids in together:  # a weight below any distance, never zero (zeros are no edge)
        for cid in ids[1:]:
            rows.append(ids[0])
            cols.append(cid)
            weights.append(1e-9)
    ranked = sorted(candidates)
    for n_, (dist, i, j, _pi, _pj) in enumerate(ranked):
        rows.append(i)
        cols.append(j)
        weights.append(2e-9 + dist + 1e-12 * n_)  # distinct weights: the order of Kruskal's sort
    if not rows:
        return [], np.arange(k)
    g = sp.csr_matrix((weights, (rows, cols)), shape=(k, k))
    tree = csgraph.minimum_spanning_tree(g).tocoo()
    by_pair = {(i, j): (dist, i, j, *sorted((pi, pj))) for dist, i, j, pi, pj in ranked}
    kept = sorted(
        (by_pair[(min(i, j), max(i, j))] for i, j, w in zip(tree.row, tree.col, tree.data) if w > 1.5e-9),
        key=lambda t: (t[0], t[1], t[2]),
    )
    _, joined = csgraph.connected_components(tree, directed=False)
    return kept, joined


# ---------------------------------------------------------------------------------------------
# enclaves
# ---------------------------------------------------------------------------------------------
def _enclosed_groups(a: ReferenceArrays, inside: np.ndarray, positions: np.ndarray) -> list[np.ndarray]:
    """Groups of units outside ``positions`` enclosed by them on land.

    The units outside the territory fall into pieces (connected components of the land graph
    without the territory). A piece touching the territory is enclosed unless it is the rest of
    its land mass: on each land mass, the largest piece (units, then population) is the rest.
    Pieces are found by exploring outwards from the territory's outside neighbours, layer by
    layer, only until each land mass has at most one piece still open, the rest: the size of that
    last piece is known without exploring it (the land mass's outside units minus the others).

    Returns the enclosed groups (sorted positions each), sorted by their first position.
    """
    nb = a.neighbours_of(positions)
    explored = np.unique(nb[~inside[nb]])
    if not len(explored):
        return []
    # Outside units (count, population) of each land mass the territory is on.
    t_lands, t_counts = np.unique(a.land[positions], return_counts=True)
    t_pop = np.bincount(np.searchsorted(t_lands, a.land[positions]), weights=a.pop[positions])
    outside_n = dict(zip(t_lands.tolist(), (a.land_size[t_lands] - t_counts).tolist()))
    outside_pop = dict(zip(t_lands.tolist(), (a.land_pop[t_lands] - t_pop).tolist()))
    rounds = 0
    while True:
        rounds += 1
        if rounds > EXPLORE_ROUNDS or len(explored) > EXPLORE_UNITS:
            # Open pieces that do not meet soon (a scattered territory): the pieces of the whole
            # land masses at once, in one pass over the graph, bound the work.
            return _enclosed_groups_at_once(a, inside, positions, t_lands)
        m = len(explored)
        local = np.full(a.n, -1, dtype=np.int64)
        local[explored] = np.arange(m)
        nbrs = a.neighbours_of(explored)
        rows = np.repeat(np.arange(m), a.indptr[explored + 1] - a.indptr[explored])
        cols = local[nbrs]
        linked = cols >= 0
        k, labels = _graph.labels_of_edges(m, rows[linked], cols[linked])
        frontier = ~linked & ~inside[nbrs]  # neighbours neither explored nor in the territory
        open_comp = np.bincount(labels[rows[frontier]], minlength=k) > 0
        if rounds == 1 and int(open_comp.sum()) > EXPLORE_OPEN:
            return _enclosed_groups_at_once(a, inside, positions, t_lands)
        size = np.bincount(labels, minlength=k)
        pop = np.bincount(labels, weights=a.pop[explored], minlength=k)
        first = np.full(k, m, dtype=np.int64)
        np.minimum.at(first, labels, np.arange(m))
        land = a.land[explored[first]]
        rest = {}
        expand = np.zeros(k, dtype=bool)
        for lm in np.unique(land).tolist():
            comps = np.flatnonzero(land == lm)
            opened = comps[open_comp[comps]]
            closed = comps[~open_comp[comps]]
            # The closed piece that would be the rest: most units, then population, then first code.
            best = (
                closed[np.lexsort((first[closed], -pop[closed], -size[closed]))[0]] if len(closed) else None
            )
            if len(opened) > 1:
                expand[opened] = True
            elif len(opened) == 1:
                o = opened[0]
                o_size = outside_n[lm] - size[closed].sum()
                o_pop = outside_pop[lm] - pop[closed].sum()
                if best is None or (o_size, o_pop) >= (size[best], pop[best]):
                    rest[lm] = o
                else:  # a closed piece is larger: the open one is enclosed; explore it fully
                    expand[o] = True
            else:
                rest[lm] = best
        if not expand.any():
            break
        new = nbrs[frontier & expand[labels[rows]]]
        explored = np.union1d(explored, new)
    groups = _graph.groups(labels, k)
    keep = [explored[groups[c]] for c in range(k) if not open_comp[c] and rest.get(int(land[c])) != c]
    keep.sort(key=lambda g: g[0])
    return keep


#: Layers explored outwards (and units explored) before the pieces are found in one pass over
#: the land masses instead (same result; bounded work on a scattered territory).
EXPLORE_ROUNDS = 4


EXPLORE_UNITS = 2000


EXPLORE_OPEN = 8


@functools.lru_cache(maxsize=4)
def _ones(n: int) -> np.ndarray:
    return np.ones(n)


def _enclosed_groups_at_once(
    a: ReferenceArrays, inside: np.ndarray, positions: np.ndarray, lands: np.ndarray
) -> list[np.ndarray]:
    """:func:`_enclosed_groups` by the connected components of the land graph without the
    territory, on the territory's land masses: the pieces touching the territory, but the rest
    of each land mass (its largest piece: units, then population, then first position)."""
    import scipy.sparse as sp
    from scipy.sparse import csgraph

    rows, cols = a.edge_rows, a.indices32
    on = np.isin(a.land, lands) & ~inside
    # An edge touching the territory becomes a self-loop: same structure, no copy to prune.
    keep = on[rows] & on[cols]
    g = sp.csr_matrix((_ones(len(cols)), np.where(keep, cols, rows), a.indptr32), shape=(a.n, a.n))
    k, labels = csgraph.connected_components(g, directed=True, connection="weak")
    nodes = np.flatnonzero(on)
    lab = labels[nodes]
    size = np.bincount(lab, minlength=k)
    pop = np.bincount(lab, weights=a.pop[nodes], minlength=k)
    first = np.full(k, a.n, dtype=np.int64)
    first[lab[::-1]] = nodes[::-1]  # the last write wins: each piece's first position
    nb = a.neighbours_of(positions)
    touching = np.unique(labels[nb[on[nb]]])
    out = []
    for lm in np.unique(a.land[first[touching]]).tolist():
        comps = np.flatnonzero((size > 0) & (a.land[np.minimum(first, a.n - 1)] == lm))
        rest = comps[np.lexsort((first[comps], -pop[comps], -size[comps]))[0]]
        for c in touching[a.land[first[touching]] == lm].tolist():
            if c != rest:
                out.append(nodes[lab == c])
    out.sort(key=lambda g: g[0])
    return out
