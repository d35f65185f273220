"""Exact optimum of the EPCI-mode grouping objective for small instances (set partitioning with scipy.optimize.milp / HiGHS over the connected unions of EPCI parts), to measure the heuristic's gap (re-exported by :mod:`cpts_geo.suggest.epci_mode`)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cpts_geo.suggest._epci_cuts import _blocks
from cpts_geo.suggest.epci_model import EpciModeResult, _parts, _prepare, _result, deviation


# ---------------------------------------------------------------------------------------------
# Exact optimum of the grouping, for small instances (tests and scripts/epci_mode_optimum.py)
# ---------------------------------------------------------------------------------------------
def exact_grouping(
    graph,
    pop,
    epci,
    dep,
    *,
    min_population: int = 20000,
    max_population: int = 175000,
    target_population: int = 60000,
    allow_cross_departement: bool = False,
    seed: int = 0,
    max_columns: int = 300_000,
    time_limit: float = 60.0,
) -> EpciModeResult | None:
    """The optimum of terms 1 and 3 of the objective for the heuristic's blocks (MILP, HiGHS).

    The blocks (parts, and the pieces of oversized parts as the heuristic cuts them for the same
    seed) are fixed; every connected union of blocks with at most one anchor and at most
    ``max_population`` inhabitants is a column of a set-partitioning model, plus one leftover
    column per free block. Lexicographic: first the least leftover population, then, with it
    fixed, the least deviation. ``None`` when there are more than ``max_columns`` columns.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    g, pop, epci, dep, part_of = _prepare(graph, pop, epci, dep, allow_cross_departement)
    n = len(pop)
    rng = np.random.default_rng(seed)
    parts = _parts(part_of, pop, epci, dep, min_population, max_population)
    blocks = _blocks(g, pop, part_of, parts, min_population, max_population, target_population, rng)
    nb = len(blocks.pop)
    w = blocks.pop.tolist()
    anc = blocks.anchor.tolist()
    # Enumerate with Python ints as bitsets over all blocks of each connected piece.
    nmask = [0] * nb
    for u in range(nb):
        for v in blocks.nbrs[u]:
            nmask[u] |= 1 << v
    cols = []
    giant = blocks.giant.tolist()
    subsets, complete = _enumerate_limited(nb, nmask, w, anc, giant, max_population, max_columns)
    if not complete:
        return None
    for s, p, a in subsets:
        if a or p >= min_population:
            cols.append((s, 0, deviation(p, target_population)))
    for b in range(nb):
        if not anc[b]:
            cols.append((1 << b, w[b], 0.0))
    m = len(cols)
    rows, cidx = [], []
    for j, (s, _, _) in enumerate(cols):
        b = 0
        while s:
            if s & 1:
                rows.append(b)
                cidx.append(j)
            s >>= 1
            b += 1
    A = sp.csr_matrix((np.ones(len(rows)), (rows, cidx)), shape=(nb, m))
    left = np.array([c[1] for c in cols], dtype=float)
    devs = np.array([c[2] for c in cols], dtype=float)
    cover = LinearConstraint(A, 1, 1)
    opts = {"time_limit": time_limit, "mip_rel_gap": 0.0}
    integ = np.ones(m)
    r1 = milp(left, constraints=[cover], integrality=integ, bounds=Bounds(0, 1), options=opts)
    if r1.x is None:
        return None
    L = float(np.round(left @ np.round(r1.x)))
    r2 = milp(
        devs,
        constraints=[cover, LinearConstraint(left[None, :], -np.inf, L + 0.5)],
        integrality=integ,
        bounds=Bounds(0, 1),
        options=opts,
    )
    if r2.x is None:
        return None
    chosen = np.flatnonzero(np.round(r2.x) > 0.5)
    grp = [-1] * nb
    k = 0
    for j in chosen.tolist():
        s = cols[j][0]
        b = 0
        while s:
            if s & 1:
                grp[b] = k
            s >>= 1
            b += 1
        k += 1
    res = _result(
        grp,
        blocks,
        parts,
        part_of,
        pop,
        epci,
        dep,
        min_population,
        max_population,
        target_population,
        n,
        allow_cross_departement,
    )
    res.stats.update({"columns": m, "status": int(r2.status)})
    return res


def _enumerate_limited(nb, nmask, w, anc, giant, hi, limit):
    """Connected subsets of blocks (at most ``hi`` inhabitants, one anchor), up to ``limit``."""
    out = []

    class _Stop(Exception):
        pass

    def extend(sub, ext, excl, p, a, v):
        out.append((sub, p, a))
        if len(out) > limit:
            raise _Stop
        while ext:
            u = (ext & -ext).bit_length() - 1
            ext &= ~(1 << u)
            excl_u = excl | (1 << u)
            if p + w[u] > hi or (a and anc[u]) or giant[u]:
                excl = excl_u
                continue
            new_ext = ext | (nmask[u] & ~excl_u & ~sub & ~((1 << (v + 1)) - 1))
            extend(sub | (1 << u), new_ext & ~excl_u, excl_u, p + w[u], a or anc[u], v)
            excl = excl_u

    try:
        for v in range(nb):
            if giant[v]:
                out.append((1 << v, w[v], True))
                continue
            extend(1 << v, nmask[v] & ~((1 << (v + 1)) - 1), (1 << (v + 1)) - 1, w[v], anc[v], v)
    except _Stop:
        return out, False
    return out, True
