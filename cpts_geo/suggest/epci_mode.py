"""The algorithm of ``suggest --mode epci``: candidate territories built from whole EPCI parts.

This module works on plain arrays (no :class:`~cpts_geo.reference.Reference`): a symmetric
contiguity graph over the ``n`` units of one area (land adjacency plus sea links, restricted as
the caller wants), their populations, EPCI ids and département ids.

Vocabulary
----------
*EPCI part*
    A connected piece of the white part of an EPCI (its units present in the input), within one
    département unless ``allow_cross_departement``. An EPCI whose white part is not connected,
    or which spans two départements when crossing is not allowed, has several parts (each
    territory touching one says so in its ``notes``). A unit with no EPCI (``-1``, a few
    islands) is a part on its own.
*small* part: population below ``min_population``; *medium*: between ``min_population`` and
    ``max_population``; *oversized*: above ``max_population``.
*block*
    What the grouping works on: a small or medium part, or a *piece* of an oversized part.
    Blocks are never divided. *Anchors* are the medium parts and the pieces (at least
    ``min_population`` each); the other blocks are *free* (small parts, and the rare remnants of
    an oversized part smaller than ``min_population``).

Feasible solutions
------------------
Every unit is in exactly one group; each group is a connected union of blocks holding at most
one anchor (so a medium part is a territory on its own, possibly with small parts joined to it,
and two medium parts are never merged) and at most ``max_population`` inhabitants (a single
unit above the maximum, e.g. Toulouse, is a piece and a territory on its own). A group with
fewer than ``min_population`` inhabitants (no anchor) is a *leftover* (label ``-1``), left to
the caller's extension / non-rattachable handling. Parts that are not oversized are never
divided, whatever the count gained.

Objective (lexicographic, every term minimised)
-----------------------------------------------
1. ``leftover``: the population in leftovers (none unless no grouping reaches the minimum);
2. ``pieces``: the number of pieces the oversized parts are cut into (at least
   ``ceil(P / max_population)`` each; pieces of ``target_population`` to ``max_population``
   inhabitants when the part allows it, at least ``min_population`` otherwise);
3. ``deviation``: the sum over territories of ``((population - target) / target) ** 2``.
   Squared rather than absolute deviation: it is strictly convex, so it prefers balanced pieces
   of an oversized part (with ``|p - t|`` every split into pieces above the target costs the
   same) and penalises a 20,000 territory as much as a 100,000 one, while merging two small
   territories pays whenever the union is nearer the target than they are on average.

The heuristic settles term 2 first, part by part: for ``k`` from ``ceil(P / max)`` up, cuts into
``k`` pieces of ``target..max`` (then ``min..max``) inhabitants are sought three ways (pieces cut
one by one off random spanning trees; pieces grown one by one from the largest unit and then from
the edge of what is left; recursive bisection of random trees), the most balanced cut of the
first ``k`` that works is kept, and any three adjacent pieces two could hold are re-cut into two.
Then it groups the blocks for terms 1 and 3: a randomized greedy construction, then a local
search of block moves and merges, then a large-neighbourhood search re-partitioning exactly
(dynamic programming over subsets) the union of every group, pair and chain of three adjacent
groups of at most ``LNS_MAX_BLOCKS`` blocks, until no move improves; the best of ``restarts``
seeded runs is kept. Everything
random comes from ``numpy.random.default_rng(seed)``, so a result is deterministic for a seed.
:func:`exact_grouping` solves terms 1 and 3 exactly for the same blocks (set-partitioning MILP
over every feasible group, HiGHS through :func:`scipy.optimize.milp`) on small instances.
"""

from __future__ import annotations

import math

import numpy as np

from cpts_geo.suggest._epci_cuts import _Blocks, _blocks
from cpts_geo.suggest.epci_model import (
    EpciModeResult,
    NationalEpci,
    _parts,
    _prepare,
    _result,
    connected,
    deviation,
)

__all__ = ["epci_partition"]


#: Restarts of the grouping heuristic, and the largest union the exact re-partition handles.
RESTARTS = 4
LNS_MAX_BLOCKS = 12


# ---------------------------------------------------------------------------------------------
# Grouping heuristic
# ---------------------------------------------------------------------------------------------
class _Grouping:
    """Groups of blocks: at most one anchor each, at most ``hi`` inhabitants, connected."""

    def __init__(self, blocks: _Blocks, lo: int, hi: int, target: int):
        self.B = blocks
        self.n = len(blocks.pop)
        self.w = blocks.pop.tolist()
        self.anc = blocks.anchor.tolist()
        self.giant = blocks.giant.tolist()
        self.nbrs = blocks.nbrs
        self.lo, self.hi, self.t = lo, hi, float(target)

    # cost of one group: (leftover population, deviation)
    def gcost(self, p: int, has_anchor: bool) -> tuple:
        if has_anchor or p >= self.lo:
            return (0, deviation(p, self.t))
        return (p, 0.0)

    def total(self, grp) -> tuple:
        pops: dict[int, int] = {}
        anc: dict[int, bool] = {}
        for b, g in enumerate(grp):
            pops[g] = pops.get(g, 0) + self.w[b]
            anc[g] = anc.get(g, False) or self.anc[b]
        left, dev = 0, 0.0
        for g, p in pops.items():
            c = self.gcost(p, anc[g])
            left += c[0]
            dev += c[1]
        return (left, dev)

    # ---- construction --------------------------------------------------------------------------
    def construct(self, rng) -> list[int]:
        n, w, nbrs, lo, hi, t = self.n, self.w, self.nbrs, self.lo, self.hi, self.t
        grp = [-1] * n
        ng = 0
        for b in range(n):
            if self.anc[b]:
                grp[b] = ng
                ng += 1
        noise = (rng.random(n) * 0.5).tolist()
        free = [b for b in range(n) if grp[b] < 0]
        while True:
            free = [b for b in free if grp[b] < 0]
            if not free:
                break
            seed = min(free, key=lambda b: (sum(1 for v in nbrs[b] if grp[v] < 0) + noise[b], b))
            g = ng
            ng += 1
            grp[seed] = g
            p = w[seed]
            members = [seed]
            while True:
                cand = {v for u in members for v in nbrs[u] if grp[v] < 0 and p + w[v] <= hi}
                if not cand:
                    break
                c = min(cand, key=lambda v: (deviation(p + w[v], t) + 0.05 * noise[v], v))
                if p >= lo and deviation(p + w[c], t) >= deviation(p, t):
                    break
                grp[c] = g
                members.append(c)
                p += w[c]
        return self._renumber(grp)

    @staticmethod
    def _renumber(grp):
        seen: dict[int, int] = {}
        return [seen.setdefault(g, len(seen)) for g in grp]

    # ---- local search ------------------------------------------------------------------------
    def improve(self, grp: list[int], rng) -> list[int]:
        grp = list(grp)
        for _ in range(50):
            changed = self._moves(grp, rng)
            changed |= self._lns(grp, rng)
            if not changed:
                break
        return self._renumber(grp)

    def _state(self, grp):
        pops, anc, mem = {}, {}, {}
        for b, g in enumerate(grp):
            pops[g] = pops.get(g, 0) + self.w[b]
            anc[g] = anc.get(g, False) or self.anc[b]
            mem.setdefault(g, set()).add(b)
        return pops, anc, mem

    def _moves(self, grp, rng) -> bool:
        """Block moves to an adjacent group, and merges of adjacent groups, while they improve."""
        changed = False
        improved = True
        while improved:
            improved = False
            pops, anc, mem = self._state(grp)
            order = rng.permutation(self.n).tolist()
            for b in order:
                if self.anc[b]:
                    continue
                a = grp[b]
                targets = sorted({grp[v] for v in self.nbrs[b]} - {a})
                if not targets:
                    continue
                rest = mem[a] - {b}
                if not connected(rest, self.nbrs):
                    continue
                ca = self.gcost(pops[a], anc[a])
                na = self.gcost(pops[a] - self.w[b], anc[a]) if rest else (0, 0.0)
                best, best_d = None, (0, -1e-12)
                for c in targets:
                    if self.giant_group(mem[c]) or pops[c] + self.w[b] > self.hi:
                        continue
                    cc = self.gcost(pops[c], anc[c])
                    nc = self.gcost(pops[c] + self.w[b], anc[c])
                    d = (na[0] + nc[0] - ca[0] - cc[0], na[1] + nc[1] - ca[1] - cc[1])
                    if d < best_d:
                        best, best_d = c, d
                if best is not None:
                    grp[b] = best
                    pops[a] -= self.w[b]
                    pops[best] += self.w[b]
                    mem[a].discard(b)
                    mem[best].add(b)
                    improved = changed = True
            # merges
            pops, anc, mem = self._state(grp)
            for a in sorted(mem):
                if a not in mem:
                    continue
                nb = sorted({grp[v] for u in mem[a] for v in self.nbrs[u]} - {a})
                best, best_d = None, (0, -1e-12)
                for c in nb:
                    if (anc[a] and anc[c]) or pops[a] + pops[c] > self.hi:
                        continue
                    ca, cc = self.gcost(pops[a], anc[a]), self.gcost(pops[c], anc[c])
                    m = self.gcost(pops[a] + pops[c], anc[a] or anc[c])
                    d = (m[0] - ca[0] - cc[0], m[1] - ca[1] - cc[1])
                    if d < best_d:
                        best, best_d = c, d
                if best is not None:
                    for u in mem[best]:
                        grp[u] = a
                    mem[a] |= mem.pop(best)
                    pops[a] += pops.pop(best)
                    anc[a] = anc[a] or anc.pop(best)
                    improved = changed = True
        return changed

    def giant_group(self, members) -> bool:
        return any(self.giant[u] for u in members)

    def _lns(self, grp, rng) -> bool:
        """Exact re-partition of each group, pair and chain of three adjacent groups (small ones)."""
        changed = False
        pops, anc, mem = self._state(grp)
        adj: dict[int, set[int]] = {g: set() for g in mem}
        for g, m in mem.items():
            for u in m:
                for v in self.nbrs[u]:
                    if grp[v] != g:
                        adj[g].add(grp[v])
        hoods: list[tuple[int, ...]] = []
        for g in sorted(mem):
            hoods.append((g,))
            for h in sorted(adj[g]):
                if h > g:
                    hoods.append((g, h))
                    for k in sorted(adj[h] | adj[g]):
                        if k > h and k != g:
                            hoods.append((g, h, k))
        order = rng.permutation(len(hoods)).tolist()
        for i in order:
            hood = hoods[i]
            if any(g not in mem for g in hood):
                continue
            nodes = sorted(set().union(*(mem[g] for g in hood)))
            if (
                len(nodes) > LNS_MAX_BLOCKS
                or len(nodes) < 2
                or all(self.anc[u] for u in nodes)
                or self.giant_group(nodes)
            ):
                continue
            cur = (
                sum(self.gcost(pops[g], anc[g])[0] for g in hood),
                sum(self.gcost(pops[g], anc[g])[1] for g in hood),
            )
            best_cost, best_parts = _best_partition(
                nodes, self.w, self.anc, self.nbrs, self.lo, self.hi, self.t
            )
            if best_parts is None or not (
                best_cost[0] < cur[0] or (best_cost[0] == cur[0] and best_cost[1] < cur[1] - 1e-9)
            ):
                continue
            base = max(mem) + 1
            for g in hood:
                del mem[g], pops[g], anc[g]
            for j, part in enumerate(best_parts):
                g = base + j
                mem[g] = set(part)
                pops[g] = sum(self.w[u] for u in part)
                anc[g] = any(self.anc[u] for u in part)
                for u in part:
                    grp[u] = g
            changed = True
        return changed


def _best_partition(nodes, w, anc, nbrs, lo, hi, t):
    """Exact best partition of ``nodes`` into feasible connected groups (DP over subsets)."""
    m = len(nodes)
    idx = {u: i for i, u in enumerate(nodes)}
    nmask = [0] * m
    for i, u in enumerate(nodes):
        for v in nbrs[u]:
            j = idx.get(v)
            if j is not None:
                nmask[i] |= 1 << j
    wl = [w[u] for u in nodes]
    al = [anc[u] for u in nodes]

    # Every feasible connected subset, grouped by its lowest node.
    subsets_by_low: list[list[tuple[int, tuple]]] = [[] for _ in range(m)]
    for s, p, a in _connected_subsets(m, nmask, wl, al, hi):
        low = (s & -s).bit_length() - 1
        cost = (0, deviation(p, t)) if (a or p >= lo) else (p, 0.0)
        subsets_by_low[low].append((s, cost))
    full = (1 << m) - 1
    memo = {0: ((0, 0.0), None)}

    def solve(mask):
        if mask in memo:
            return memo[mask][0]
        low = (mask & -mask).bit_length() - 1
        best, arg = None, None
        for s, c in subsets_by_low[low]:
            if s & ~mask:
                continue
            r = solve(mask & ~s)
            if r is None:
                continue
            tot = (c[0] + r[0], c[1] + r[1])
            if best is None or tot < best:
                best, arg = tot, s
        memo[mask] = (best, arg)
        return best

    best = solve(full)
    if best is None:
        return None, None
    parts, mask = [], full
    while mask:
        s = memo[mask][1]
        parts.append([nodes[i] for i in range(m) if s >> i & 1])
        mask &= ~s
    return best, parts


def _connected_subsets(m, nmask, w, anc, hi):
    """Yield ``(mask, population, has_anchor)`` of every connected subset of at most ``hi``
    inhabitants and one anchor (each once: grown from its lowest node, ESU-style)."""
    out = []

    def extend(sub, ext, excl, p, a, v):
        out.append((sub, p, a))
        while ext:
            u = (ext & -ext).bit_length() - 1
            ext &= ~(1 << u)
            excl_u = excl | (1 << u)
            if p + w[u] > hi or (a and anc[u]):
                excl = excl_u
                continue
            new_ext = ext | (nmask[u] & ~excl_u & ~sub & ~((1 << (v + 1)) - 1))
            extend(sub | (1 << u), new_ext & ~excl_u, excl_u, p + w[u], a or anc[u], v)
            excl = excl_u

    for v in range(m):
        if w[v] > hi and not anc[v]:
            continue
        above = ~((1 << (v + 1)) - 1)
        extend(1 << v, nmask[v] & above, (1 << (v + 1)) - 1, w[v], anc[v], v)
    return out


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------
def epci_partition(
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
    restarts: int = RESTARTS,
    national: NationalEpci | None = None,
) -> EpciModeResult:
    """Candidate territories of one area built from whole EPCI parts (see the module docstring).

    Parameters
    ----------
    graph
        Symmetric sparse contiguity matrix over the ``n`` units (land adjacency plus sea links);
        edges between départements are ignored unless ``allow_cross_departement``.
    pop, epci, dep
        Population, EPCI id (``-1``: none) and département id of each unit (int arrays).
    min_population, max_population, target_population
        Territory size bounds and the size aimed at.
    allow_cross_departement
        Let EPCI parts and territories span départements. Without it an EPCI spanning two
        départements is split by département (each side a part, noted in the territories).
    seed
        Seed of every random choice: the result is deterministic for an input and a seed.
    restarts
        Randomized constructions improved by the local search; the best is kept.
    national
        National EPCI facts (:class:`NationalEpci`): a territory is then :data:`KIND_WHOLE` or
        :data:`KIND_UNION` only when its EPCIs are whole nationally (else :data:`KIND_PART`),
        the cross-département note comes from the EPCI's real départements, and notes and
        reasons name EPCIs and départements. Without it, ids and the input alone.

    Returns
    -------
    EpciModeResult

    Examples
    --------
    Three EPCIs of 30,000 inhabitants in a row are three territories:

    >>> import numpy as np, scipy.sparse as sp
    >>> g = sp.diags([1.0, 1.0], [-1, 1], shape=(6, 6))
    >>> r = epci_partition(g, np.full(6, 15000), np.array([0, 0, 1, 1, 2, 2]), np.zeros(6, int))
    >>> r.labels.tolist(), [t.kind for t in r.territories]
    ([0, 0, 1, 1, 2, 2], ['epci', 'epci', 'epci'])
    """
    if not (0 < min_population <= max_population):
        raise ValueError(
            f"min_population {min_population} must be positive and at most max_population {max_population}"
        )
    if target_population <= 0:
        raise ValueError(f"target_population {target_population} must be positive")
    g, pop, epci, dep, part_of = _prepare(graph, pop, epci, dep, allow_cross_departement)
    n = len(pop)
    rng = np.random.default_rng(seed)
    parts = _parts(part_of, pop, epci, dep, min_population, max_population)
    blocks = _blocks(g, pop, part_of, parts, min_population, max_population, target_population, rng)
    G = _Grouping(blocks, min_population, max_population, target_population)
    best: list[int] | None = None
    best_cost: tuple = (math.inf, math.inf)
    if G.n:
        for _ in range(max(1, restarts)):
            grp = G.improve(G.construct(rng), rng)
            c = G.total(grp)
            if best is None or c[0] < best_cost[0] or (c[0] == best_cost[0] and c[1] < best_cost[1] - 1e-12):
                best, best_cost = grp, c
    return _result(
        best or [],
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
        national,
    )
