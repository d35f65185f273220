"""Cutting the white part of an EPCI above the maximum population into contiguous pieces between the target and the maximum, as few as possible (random spanning trees, growth from the largest unit, recursive bisection); used by :mod:`cpts_geo.suggest.epci_mode`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from cpts_geo.suggest.epci_model import connected, deviation

#: Random spanning trees tried per oversized part.
TREES = 64


#: Random seeds (besides the largest unit) of the region-growing cut of an oversized part.
GROW_SEEDS = 16


def _cut_tree(order, parent, w, lo, hi, k, rng):
    """Cut a rooted spanning tree into ``k`` subtrees of ``lo..hi`` inhabitants, or ``None``.

    ``order`` is a BFS order (root first) of the tree's nodes (local indices), ``parent`` their
    parent (-1 for the root). At each step the subtree whose population is nearest the mean of
    what is left is cut, among those leaving a remainder that ``k - 1`` pieces can still hold.
    """
    alive = np.zeros(len(w), dtype=bool)
    alive[order] = True
    root = order[0]
    pieces = []
    rest_k = k
    while rest_k > 1:
        sub = w.astype(np.float64).copy()
        sub[~alive] = 0
        for v in order[::-1]:
            if v != root and alive[v]:
                sub[parent[v]] += sub[v]
        total = sub[root]
        ideal = total / rest_k
        ok = (
            alive
            & (sub >= lo)
            & (sub <= hi)
            & (total - sub >= (rest_k - 1) * lo)
            & (total - sub <= (rest_k - 1) * hi)
        )
        ok[root] = False
        cand = np.flatnonzero(ok)
        if not len(cand):
            return None
        score = np.abs(sub[cand] - ideal) + rng.random(len(cand)) * 1e-6 * ideal
        v = cand[int(np.argmin(score))]
        # The subtree of v: nodes whose path to the root passes through v.
        inside = np.zeros(len(w), dtype=bool)
        inside[v] = True
        for u in order:
            if alive[u] and u != v and parent[u] >= 0 and inside[parent[u]]:
                inside[u] = True
        inside &= alive
        pieces.append(np.flatnonzero(inside))
        alive &= ~inside
        rest_k -= 1
    last = np.flatnonzero(alive)
    s = w[last].sum()
    if not (lo <= s <= hi):
        return None
    pieces.append(last)
    return pieces


def _split_component(g, units, w, lo_target, lo_min, hi, target, rng):
    """Pieces (arrays of local indices) of one connected set of units above ``hi``.

    The fewest pieces of ``lo_target..hi`` inhabitants (then ``lo_min..hi``) found by cutting
    random spanning trees and by region growing, the most balanced of those found; then any
    three adjacent pieces that two could hold are re-cut into two while one can. As a last
    resort, subtrees of at most ``hi`` inhabitants cut greedily (the smaller ones become free
    blocks).
    """
    sub = sp.triu(g[units][:, units], 1).tocoo()
    m = len(units)
    total = int(w.sum())
    kmin = max(1, math.ceil(total / hi))
    nbrs = [[] for _ in range(m)]
    for x, y in zip(sub.row.tolist(), sub.col.tolist()):
        nbrs[x].append(y)
        nbrs[y].append(x)
    everything = np.arange(m)
    for lo in (lo_target, lo_min):
        for k in range(kmin, max(kmin, total // max(lo, 1)) + 1):
            best = _best_cut(everything, nbrs, w, lo, hi, k, target, TREES, GROW_SEEDS, rng)
            if best is not None:
                return _reduce_pieces(best, nbrs, w, lo, hi, target, rng)
    order, parent = _random_tree(m, nbrs, everything, int(np.argmax(w)), rng)
    alive = np.ones(m, dtype=bool)
    pieces = []
    while w[alive].sum() > hi:
        s = w.astype(np.float64).copy()
        s[~alive] = 0
        for v in order[::-1]:
            if parent[v] >= 0 and alive[v]:
                s[parent[v]] += s[v]
        ok = alive & (s <= hi)
        ok[order[0]] = False
        v = int(np.flatnonzero(ok)[np.argmax(s[ok])])
        inside = np.zeros(m, dtype=bool)
        inside[v] = True
        for u in order:
            if alive[u] and u != v and parent[u] >= 0 and inside[parent[u]]:
                inside[u] = True
        inside &= alive
        pieces.append(np.flatnonzero(inside))
        alive &= ~inside
    pieces.append(np.flatnonzero(alive))
    return pieces


def _best_cut(nodes, nbrs, w, lo, hi, k, target, n_trees, n_seeds, rng):
    """The most balanced cut of ``nodes`` into ``k`` pieces of ``lo..hi`` found, or ``None``."""
    m = len(w)
    best, best_cost = None, math.inf
    heavy = int(nodes[np.argmax(w[nodes])])
    found = []
    for t in range(n_trees):
        # Rooted at the largest unit or at a random one: a hub city is then sometimes a leaf.
        root = heavy if t % 2 == 0 else int(nodes[rng.integers(len(nodes))])
        order, parent = _random_tree(m, nbrs, nodes, root, rng)
        found.append(_cut_tree(order, parent, w, lo, hi, k, rng))
    seeds = [heavy] + [int(x) for x in rng.permutation(nodes)[:n_seeds]]
    found += [_grow_cut(nbrs, w, nodes, lo, hi, k, sd, rng) for sd in seeds]
    if k >= 4:
        found += [_bisect(nbrs, w, np.asarray(nodes), lo, hi, k, rng) for _ in range(4)]
    for pieces in found:
        if pieces is None:
            continue
        cost = sum(deviation(w[p].sum(), target) for p in pieces)
        if cost < best_cost - 1e-12:
            best, best_cost = pieces, cost
    return best


def _bisect(nbrs, w, nodes, lo, hi, k, rng, tries: int = 6):
    """Cut ``nodes`` into ``k`` pieces of ``lo..hi`` by recursive bisection of random trees.

    Each step cuts the subtree nearest ``k1 / k`` of the population (``k1 = k // 2``) among
    those leaving both sides holdable by their ``k1`` and ``k - k1`` pieces; far more tolerant
    than cutting pieces one by one when ``k`` is large (Aix-Marseille-Provence).
    """
    total = int(w[nodes].sum())
    if k == 1:
        return [np.sort(nodes)] if lo <= total <= hi else None
    k1 = k // 2
    k2 = k - k1
    for _ in range(tries):
        root = int(nodes[rng.integers(len(nodes))])
        order, parent = _random_tree(len(w), nbrs, nodes, root, rng)
        if len(order) != len(nodes):
            return None  # not connected
        sub = w.astype(np.float64).copy()
        for v in order[::-1]:
            if v != root:
                sub[parent[v]] += sub[v]
        cand = order[1:]
        s_c = sub[cand]
        ok = (s_c >= k1 * lo) & (s_c <= k1 * hi) & (total - s_c >= k2 * lo) & (total - s_c <= k2 * hi)
        ok2 = (s_c >= k2 * lo) & (s_c <= k2 * hi) & (total - s_c >= k1 * lo) & (total - s_c <= k1 * hi)
        score = np.minimum(
            np.where(ok, np.abs(s_c - total * k1 / k), np.inf),
            np.where(ok2, np.abs(s_c - total * k2 / k), np.inf),
        )
        if not np.isfinite(score).any():
            continue
        i = int(np.argmin(score))
        v = int(cand[i])
        kin = k1 if ok[i] and abs(s_c[i] - total * k1 / k) == score[i] else k2
        inside = np.zeros(len(w), dtype=bool)
        inside[v] = True
        for u in order.tolist():
            if parent[u] >= 0 and inside[parent[u]]:
                inside[u] = True
        a = np.flatnonzero(inside)
        b = np.setdiff1d(nodes, a)
        left = _bisect(nbrs, w, a, lo, hi, kin, rng, tries)
        if left is None:
            continue
        right = _bisect(nbrs, w, b, lo, hi, k - kin, rng, tries)
        if right is None:
            continue
        return left + right
    return None


def _reduce_pieces(pieces, nbrs, w, lo, hi, target, rng):
    """Re-cut three adjacent pieces into two while some three can be (fewer pieces)."""
    pieces = [np.asarray(p) for p in pieces]
    while len(pieces) >= 3:
        owner = {}
        for i, p in enumerate(pieces):
            for u in p.tolist():
                owner[u] = i
        adj = [set() for _ in pieces]
        for i, p in enumerate(pieces):
            for u in p.tolist():
                for v in nbrs[u]:
                    j = owner.get(v)
                    if j is not None and j != i:
                        adj[i].add(j)
        pops = [int(w[p].sum()) for p in pieces]
        done = False
        triples = sorted(
            {
                tuple(sorted((a, b, c)))
                for a in range(len(pieces))
                for b in adj[a]
                for c in adj[a] | adj[b]
                if len({a, b, c}) == 3
            }
        )
        for a, b, c in triples:
            tot = pops[a] + pops[b] + pops[c]
            if not (2 * lo <= tot <= 2 * hi):
                continue
            union = np.concatenate([pieces[a], pieces[b], pieces[c]])
            two = _best_cut(union, nbrs, w, lo, hi, 2, target, 16, 6, rng)
            if two is not None:
                pieces = [p for i, p in enumerate(pieces) if i not in (a, b, c)] + two
                done = True
                break
        if not done:
            break
    return pieces


def _random_tree(m, nbrs, nodes, root, rng):
    """A random spanning tree of ``nodes`` (Kruskal, edges in random order): BFS order, parents.

    ``parent`` is -1 for the root and for every node outside ``nodes``.
    """
    inset = np.zeros(m, dtype=bool)
    inset[nodes] = True
    ea, eb = [], []
    for u in np.asarray(nodes).tolist():
        for v in nbrs[u]:
            if v > u and inset[v]:
                ea.append(u)
                eb.append(v)
    parent_uf = list(range(m))

    def find(x):
        while parent_uf[x] != x:
            parent_uf[x] = parent_uf[parent_uf[x]]
            x = parent_uf[x]
        return x

    adj = [[] for _ in range(m)]
    for e in rng.permutation(len(ea)).tolist():
        a, b = ea[e], eb[e]
        ra, rb = find(a), find(b)
        if ra != rb:
            parent_uf[ra] = rb
            adj[a].append(b)
            adj[b].append(a)
    parent = np.full(m, -1, dtype=np.int64)
    order = [root]
    seen = [False] * m
    seen[root] = True
    for u in order:
        for v in adj[u]:
            if not seen[v]:
                seen[v] = True
                parent[v] = u
                order.append(v)
    return np.asarray(order, dtype=np.int64), parent


def _grow_cut(nbrs, w, alive_idx, lo, hi, k, seed, rng):
    """Cut ``k`` connected pieces of ``lo..hi`` by growing one piece at a time, or ``None``.

    The piece grows from ``seed`` by the frontier unit with the most neighbours inside it (ties
    at random) up to an equal share of what is left, then until it leaves a connected remainder
    that ``k - 1`` pieces can hold; the next piece grows from a unit on the remainder's edge. Finds the cuts a spanning tree misses
    when one unit holds most of the population (Brest, Angers).
    """
    alive = np.zeros(len(w), dtype=bool)
    alive[alive_idx] = True
    pieces = []
    noise = rng.random(len(w))
    while k > 1:
        total = int(w[alive].sum())
        inside = {seed}
        p = int(w[seed])
        ideal = total / k
        while True:
            rest = total - p
            front = {v for u in inside for v in nbrs[u] if alive[v] and v not in inside and p + w[v] <= hi}
            if p < ideal and front:
                pass  # keep growing toward an equal share of what is left
            elif lo <= p <= hi and (k - 1) * lo <= rest <= (k - 1) * hi:
                if connected(set(np.flatnonzero(alive).tolist()) - inside, nbrs):
                    break
            if not front:
                return None
            c = max(front, key=lambda v: (sum(1 for x in nbrs[v] if x in inside), noise[v]))
            inside.add(c)
            p += int(w[c])
        piece = np.array(sorted(inside))
        pieces.append(piece)
        alive[piece] = False
        k -= 1
        # The next piece grows from the edge of what is left, so that the rest stays in one piece.
        left = np.flatnonzero(alive)
        seed = min(left.tolist(), key=lambda v: (sum(1 for x in nbrs[v] if alive[x]), noise[v]))
    last = np.flatnonzero(alive)
    if not (lo <= w[last].sum() <= hi):
        return None
    pieces.append(last)
    return pieces


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
