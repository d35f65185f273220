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
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

__all__ = [
    "KIND_SPLIT",
    "KIND_PART",
    "KIND_UNION",
    "KIND_WHOLE",
    "EpciModeResult",
    "NationalEpci",
    "EpciPart",
    "EpciTerritory",
    "epci_partition",
    "exact_grouping",
    "objective",
]

#: Territory kinds.
KIND_WHOLE = "epci"  #: one whole EPCI part (possibly with parts of no EPCI)
KIND_UNION = "union_epci"  #: a union of whole EPCI parts
KIND_SPLIT = "epci_decoupe"  #: holds a piece of an oversized EPCI part
#: With :class:`NationalEpci`: holds whole white EPCI parts, but some EPCI touched has units
#: outside the input (covered by a CPTS, or in another département or area).
KIND_PART = "partie_epci"

#: Restarts of the grouping heuristic, and the largest union the exact re-partition handles.
RESTARTS = 4
LNS_MAX_BLOCKS = 12


def _fr(value) -> str:
    from ._text import fr_int

    return fr_int(value)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NationalEpci:
    """What the caller knows beyond its input, so that "whole" means the whole EPCI.

    Indexed by the EPCI ids and département ids of the input: ``units`` (units of each EPCI in
    all of France), ``departements`` (how many départements each EPCI spans), and the names the
    notes and reasons use instead of ids (``"CA Saumur Val de Loire (200071173)"``,
    ``"Maine-et-Loire (49)"``).
    """

    units: np.ndarray
    departements: np.ndarray
    epci_names: tuple[str, ...]
    departement_names: tuple[str, ...]


@dataclass(frozen=True)
class EpciPart:
    """A connected piece of the white part of one EPCI (in one département unless crossing)."""

    part: int
    epci: int
    departement: int
    population: int
    n_units: int
    #: Index of this part among the parts of its EPCI (0-based) and how many there are.
    component: int
    n_components: int
    #: ``"small"``, ``"medium"`` or ``"oversized"``.
    size: str


@dataclass(frozen=True)
class EpciTerritory:
    """One proposed territory (label ``territory`` in :attr:`EpciModeResult.labels`)."""

    territory: int
    population: int
    n_units: int
    #: :data:`KIND_WHOLE`, :data:`KIND_UNION` or :data:`KIND_SPLIT`.
    kind: str
    #: EPCI parts (ids of :attr:`EpciModeResult.parts`) wholly or partly in the territory.
    parts: tuple[int, ...]
    #: EPCI ids touched (``-1`` excluded).
    epci: tuple[int, ...]
    #: EPCI ids whose oversized part is cut here, with the reason for each (French).
    split_epci: tuple[int, ...] = ()
    reasons: tuple[str, ...] = ()
    #: EPCIs in several parts for other reasons (white part not connected, two départements).
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "territory": self.territory,
            "population": self.population,
            "n_units": self.n_units,
            "kind": self.kind,
            "parts": list(self.parts),
            "epci": list(self.epci),
            "split_epci": list(self.split_epci),
            "reasons": list(self.reasons),
            "notes": list(self.notes),
        }


@dataclass
class EpciModeResult:
    """Labels per unit (``-1``: leftover), territories, parts and the objective reached."""

    labels: np.ndarray
    territories: list[EpciTerritory]
    parts: list[EpciPart]
    #: Part id of each unit.
    part_of: np.ndarray
    #: Unit indices of each leftover group (connected, below the minimum).
    leftovers: list[np.ndarray]
    #: (leftover population, pieces, deviation): the objective of the module docstring.
    objective: tuple[int, int, float]
    #: A lower bound on the pieces of the oversized parts: each unit above the maximum alone, plus
    #: ``ceil(rest / max)`` for the rest of each part.
    min_pieces: int = 0
    #: Block of each unit, and which blocks are anchors (medium parts and pieces).
    block_of: np.ndarray | None = None
    anchor: np.ndarray | None = None
    stats: dict = field(default_factory=dict)

    @property
    def n_territories(self) -> int:
        return len(self.territories)


# ---------------------------------------------------------------------------------------------
# Objective
# ---------------------------------------------------------------------------------------------
def _dev(p: float, target: float) -> float:
    d = (p - target) / target
    return d * d


def objective(labels, pop, part_of, oversized_parts, *, target_population: int = 60000) -> tuple:
    """``(leftover population, pieces, deviation)`` of a labelling (see the module docstring).

    ``pieces`` counts, for each oversized part, the territories its units fall in (leftover
    units of an oversized part count as one piece).
    """
    labels = np.asarray(labels)
    pop = np.asarray(pop, dtype=np.int64)
    left = int(pop[labels < 0].sum())
    pieces = 0
    for p in oversized_parts:
        lab = labels[part_of == p]
        pieces += len(np.unique(lab))
    k = int(labels.max()) + 1 if len(labels) else 0
    tot = np.bincount(labels[labels >= 0], weights=pop[labels >= 0], minlength=k)
    dev = float((((tot - target_population) / target_population) ** 2).sum())
    return left, pieces, dev


# ---------------------------------------------------------------------------------------------
# Parts and blocks
# ---------------------------------------------------------------------------------------------
def _prepare(graph, pop, epci, dep, allow_cross):
    """The graph (cross-département edges dropped unless allowed) and the part of every unit."""
    g = sp.csr_matrix(graph)
    n = g.shape[0]
    pop = np.asarray(pop, dtype=np.int64)
    epci = np.asarray(epci, dtype=np.int64)
    dep = np.asarray(dep, dtype=np.int64)
    if not (len(pop) == len(epci) == len(dep) == n):
        raise ValueError(
            f"graph of {n} units but {len(pop)} populations, {len(epci)} EPCI, {len(dep)} départements"
        )
    coo = g.tocoo()
    keep = coo.row != coo.col
    if not allow_cross:
        keep &= dep[coo.row] == dep[coo.col]
    r, c = coo.row[keep], coo.col[keep]
    g = sp.csr_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    g = ((g + g.T) > 0).astype(np.int8).tocsr()
    g.sort_indices()
    # A unit's key: its EPCI (and département), or itself when it has none.
    key = np.where(epci >= 0, epci, -1 - np.arange(n))
    if not allow_cross:
        _, key = np.unique(np.c_[key, dep], axis=0, return_inverse=True)
        key = key.ravel()
    coo = g.tocoo()
    same = key[coo.row] == key[coo.col]
    h = sp.csr_matrix((np.ones(int(same.sum())), (coo.row[same], coo.col[same])), shape=(n, n))
    _, part_of = csgraph.connected_components(h, directed=False)
    return g, pop, epci, dep, part_of.astype(np.int64)


def _parts(part_of, pop, epci, dep, min_population, max_population) -> list[EpciPart]:
    n_parts = int(part_of.max()) + 1 if len(part_of) else 0
    first = np.full(n_parts, len(part_of), dtype=np.int64)
    np.minimum.at(first, part_of, np.arange(len(part_of)))
    ppop = np.bincount(part_of, weights=pop, minlength=n_parts).astype(np.int64)
    psize = np.bincount(part_of, minlength=n_parts)
    pepci = epci[first]
    pdep = dep[first]
    count: dict[int, int] = {}
    comp = np.zeros(n_parts, dtype=np.int64)
    for p in range(n_parts):  # parts are numbered by their first unit: a stable order
        e = int(pepci[p])
        if e >= 0:
            comp[p] = count.get(e, 0)
            count[e] = comp[p] + 1
    out = []
    for p in range(n_parts):
        e = int(pepci[p])
        size = (
            "small" if ppop[p] < min_population else ("medium" if ppop[p] <= max_population else "oversized")
        )
        out.append(
            EpciPart(
                part=p,
                epci=e,
                departement=int(pdep[p]),
                population=int(ppop[p]),
                n_units=int(psize[p]),
                component=int(comp[p]),
                n_components=count.get(e, 1) if e >= 0 else 1,
                size=size,
            )
        )
    return out


@dataclass
class _Blocks:
    """The grouping problem: blocks of units, their populations, anchors and adjacency."""

    members: list[np.ndarray]
    pop: np.ndarray
    anchor: np.ndarray  # bool
    giant: np.ndarray  # bool: a piece above the maximum (one unit), alone for good
    part: np.ndarray  # part of the block
    nbrs: list[list[int]]
    block_of: np.ndarray  # unit -> block


def _blocks(g, pop, part_of, parts, min_population, max_population, target_population, rng) -> _Blocks:
    members, bpop, anchor, giant, bpart = [], [], [], [], []
    by_part = np.argsort(part_of, kind="stable")
    bounds = np.flatnonzero(np.r_[True, part_of[by_part][1:] != part_of[by_part][:-1], True])
    lo_target = max(target_population, min_population)

    def add(units, is_anchor, is_giant, p):
        members.append(units)
        bpop.append(int(pop[units].sum()))
        anchor.append(is_anchor)
        giant.append(is_giant)
        bpart.append(p)

    for p, info in enumerate(parts):
        units = by_part[bounds[p] : bounds[p + 1]]
        if info.size != "oversized":
            add(units, info.size == "medium", False, p)
            continue
        big = pop[units] > max_population
        for u in units[big]:
            add(np.array([u]), True, True, p)
        rest = units[~big]
        if not len(rest):
            continue
        _, comp = csgraph.connected_components(g[rest][:, rest], directed=False)
        for c in range(int(comp.max()) + 1):
            cu = rest[comp == c]
            cp = int(pop[cu].sum())
            if cp <= max_population:
                add(cu, cp >= min_population, False, p)
                continue
            for piece in _split_component(
                g, cu, pop[cu], lo_target, min_population, max_population, target_population, rng
            ):
                pu = cu[piece]
                add(pu, int(pop[pu].sum()) >= min_population, False, p)
    n_units = len(pop)
    block_of = np.empty(n_units, dtype=np.int64)
    for b, m in enumerate(members):
        block_of[m] = b
    coo = g.tocoo()
    a, b = block_of[coo.row], block_of[coo.col]
    k = a != b
    nb = len(members)
    pairs = np.unique(a[k] * nb + b[k]) if nb else np.zeros(0, dtype=np.int64)
    nbrs: list[list[int]] = [[] for _ in range(nb)]
    for x, y in zip((pairs // nb).tolist(), (pairs % nb).tolist()):
        nbrs[x].append(y)
    return _Blocks(
        members=members,
        pop=np.asarray(bpop, dtype=np.int64),
        anchor=np.asarray(anchor, dtype=bool),
        giant=np.asarray(giant, dtype=bool),
        part=np.asarray(bpart, dtype=np.int64),
        nbrs=nbrs,
        block_of=block_of,
    )


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
            return (0, _dev(p, self.t))
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
                c = min(cand, key=lambda v: (_dev(p + w[v], t) + 0.05 * noise[v], v))
                if p >= lo and _dev(p + w[c], t) >= _dev(p, t):
                    break
                grp[c] = g
                members.append(c)
                p += w[c]
        return self._renumber(grp)

    @staticmethod
    def _renumber(grp):
        seen: dict[int, int] = {}
        return [seen.setdefault(g, len(seen)) for g in grp]

    # ---- helpers -----------------------------------------------------------------------------
    def _connected(self, nodes: set) -> bool:
        if len(nodes) <= 1:
            return True
        start = next(iter(nodes))
        seen = {start}
        stack = [start]
        while stack:
            u = stack.pop()
            for v in self.nbrs[u]:
                if v in nodes and v not in seen:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == len(nodes)

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
                if not self._connected(rest):
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
        cost = (0, _dev(p, t)) if (a or p >= lo) else (p, 0.0)
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


def _result(
    grp, blocks, parts, part_of, pop, epci, dep, lo, hi, target, n, allow_cross, national=None
) -> EpciModeResult:
    ng = max(grp) + 1 if grp else 0
    gpop = np.zeros(ng, dtype=np.int64)
    ganc = np.zeros(ng, dtype=bool)
    for b, gg in enumerate(grp):
        gpop[gg] += blocks.pop[b]
        ganc[gg] |= blocks.anchor[b]
    is_terr = ganc | (gpop >= lo)
    unit_group = np.asarray(grp, dtype=np.int64)[blocks.block_of] if n else np.zeros(0, dtype=np.int64)
    # Territories numbered by their first unit; leftovers -1.
    first = np.full(ng, n, dtype=np.int64)
    np.minimum.at(first, unit_group, np.arange(n))
    terr_groups = [gg for gg in np.argsort(first, kind="stable").tolist() if is_terr[gg]]
    relabel = np.full(ng, -1, dtype=np.int64)
    relabel[terr_groups] = np.arange(len(terr_groups))
    labels = relabel[unit_group] if n else np.zeros(0, dtype=np.int64)
    leftovers = [
        np.flatnonzero(unit_group == gg)
        for gg in np.argsort(first, kind="stable").tolist()
        if not is_terr[gg]
    ]

    epci_deps: dict[int, set] = {}
    for p in parts:
        if p.epci >= 0:
            epci_deps.setdefault(p.epci, set()).add(p.departement)
    oversized = [p.part for p in parts if p.size == "oversized"]
    territories = [
        _territory(
            k, np.flatnonzero(labels == k), parts, part_of, pop, epci, epci_deps, hi, allow_cross, national
        )
        for k in range(len(terr_groups))
    ]
    obj = objective(labels, pop, part_of, oversized, target_population=target)
    # A unit above the maximum is a piece alone; the rest needs ceil(rest / max) pieces at least.
    min_pieces = 0
    for p in oversized:
        w = pop[part_of == p]
        giants = w[w > hi]
        min_pieces += len(giants) + math.ceil((int(w.sum()) - int(giants.sum())) / hi)
    return EpciModeResult(
        labels=labels,
        territories=territories,
        parts=parts,
        part_of=part_of,
        leftovers=leftovers,
        objective=obj,
        min_pieces=min_pieces,
        block_of=blocks.block_of,
        anchor=blocks.anchor,
        stats={"blocks": len(blocks.pop), "anchors": int(blocks.anchor.sum())},
    )


def _territory(k, units, parts, part_of, pop, epci, epci_deps, hi, allow_cross, national) -> EpciTerritory:
    """Territory ``k`` (its units): kind, EPCIs split and why, notes on EPCIs in several parts."""
    tparts = sorted(set(part_of[units].tolist()))
    eps = sorted({parts[p].epci for p in tparts if parts[p].epci >= 0})

    def epci_name(e: int) -> str:
        return national.epci_names[e] if national is not None else str(e)

    def n_deps(e: int) -> int:
        return int(national.departements[e]) if national is not None else len(epci_deps.get(e, ()))

    split, reasons, notes = [], [], []
    for p in tparts:
        info = parts[p]
        whole = national is None or info.n_units == int(national.units[info.epci]) if info.epci >= 0 else True
        if info.size == "oversized" and info.epci not in split:
            split.append(info.epci)
            what = "EPCI" if info.n_components == 1 and n_deps(info.epci) <= 1 and whole else "partie d'EPCI"
            e = "e" if what != "EPCI" else ""
            if national is not None:
                reasons.append(
                    f"{what} {epci_name(info.epci)} : {_fr(info.population)} habitants, découpé{e} car "
                    f"au-dessus du maximum de {_fr(hi)}"
                )
            else:
                reasons.append(
                    f"{what} de {_fr(info.population)} habitants découpé{e} : au-dessus du maximum de {_fr(hi)}"
                )
        if info.epci < 0:
            continue
        if n_deps(info.epci) > 1 and not allow_cross:
            d = national.departement_names[info.departement] if national is not None else info.departement
            notes.append(
                f"EPCI {epci_name(info.epci)} à cheval sur plusieurs départements : seule sa partie du "
                f"département {d} est ici"
            )
        elif info.n_components > 1:
            notes.append(
                f"partie blanche de l'EPCI {epci_name(info.epci)} non contiguë : composante "
                f"{info.component + 1} sur {info.n_components}"
            )
    if split:
        kind = KIND_SPLIT
    elif national is not None and any(int((epci[units] == e).sum()) < int(national.units[e]) for e in eps):
        kind = KIND_PART
    elif len([p for p in tparts if parts[p].epci >= 0]) <= 1:
        kind = KIND_WHOLE
    else:
        kind = KIND_UNION
    return EpciTerritory(
        territory=k,
        population=int(pop[units].sum()),
        n_units=int(len(units)),
        kind=kind,
        parts=tuple(tparts),
        epci=tuple(eps),
        split_epci=tuple(split),
        reasons=tuple(reasons),
        notes=tuple(notes),
    )


from ._epci_cuts import (  # noqa: E402, F401  (re-exported)
    GROW_SEEDS,
    TREES,
    _best_cut,
    _bisect,
    _connected_list,
    _cut_tree,
    _grow_cut,
    _random_tree,
    _reduce_pieces,
    _split_component,
)
from ._epci_exact import _enumerate_limited, exact_grouping  # noqa: E402, F401  (re-exported)
