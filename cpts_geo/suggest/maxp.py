"""The max-p regionalisation solver: partition a connected graph into as many regions as possible,
each of population at least ``T``.

Works on plain arrays (a CSR graph, populations, EPCI ids, coordinates): it needs no
:class:`~cpts_geo.reference.Reference`. Randomized greedy growth from many seeds (seeded, so
results are reproducible), a large-neighbourhood search that re-partitions groups of adjacent
regions whose population could hold one more, EPCIs made territories of their own where that
costs no territory (:meth:`MaxPSolver.keep_epcis_whole`), boundary moves for EPCI coherence and
compactness, and an exhaustive search for pieces of at most :data:`EXACT_MAX_UNITS` units on
which the heuristic stops below the upper bound. Used by :func:`cpts_geo.suggest_territories`.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import scipy.sparse as sp

from cpts_geo._graph import components

__all__ = ["EXACT_MAX_UNITS", "MaxPSolver", "canonical", "exact_max_p", "max_p_upper_bound"]


def max_p_upper_bound(population: np.ndarray, min_population: int) -> tuple[int, int]:
    """Two upper bounds on the number of territories a connected set of units can form.

    ``floor(P / T)``, and the tighter ``floor((P - sum(max(0, w - T))) / T)``: a territory
    holding a unit of population ``w >= T`` has at least ``w`` inhabitants, so the excess
    ``w - T`` of each such unit is lost to every partition.

    >>> max_p_upper_bound(np.array([30_000, 5_000, 10_000]), 20_000)
    (2, 1)
    """
    w = np.asarray(population, dtype=np.int64)
    total = int(w.sum())
    excess = int(np.maximum(w - min_population, 0).sum())
    return total // min_population, (total - excess) // min_population


class MaxPSolver:
    """Max-p partition of one connected graph: every node in a region, each region >= T."""

    #: (alpha: EPCI change penalty, gamma: free-neighbour weight, delta: overshoot weight)
    PROFILES = [
        (1.5, 0.5, 2.0),
        (0.0, 0.5, 2.0),
        (0.6, 1.0, 1.0),
        (3.0, 0.3, 3.0),
        (0.3, 0.2, 4.0),
        (1.0, 1.5, 0.5),
    ]

    #: Budget at effort 1: randomized constructions, how many of the best are improved, and
    #: attempts per neighbourhood in the improvement.
    STARTS, TOP, ATTEMPTS = 40, 1, 6
    #: Starts enough once a construction reaches the upper bound on p.
    STARTS_AT_BOUND = 12

    def __init__(
        self,
        adj: sp.csr_matrix,
        shared: sp.csr_matrix,
        w: np.ndarray,
        epci: np.ndarray,
        xy: np.ndarray,
        T: int,
    ):
        adj = adj.tocsr()
        adj.sort_indices()
        self.n = n = adj.shape[0]
        self.adj = adj
        self.nbrs = [adj.indices[adj.indptr[i] : adj.indptr[i + 1]].tolist() for i in range(n)]
        self.w = np.asarray(w, dtype=np.int64)
        self.wl = self.w.tolist()
        self.T = int(T)
        _, self.epci = np.unique(epci, return_inverse=True)
        self.epcil = self.epci.tolist()
        self.xy = np.asarray(xy, dtype=float)
        self.xl = self.xy[:, 0].tolist()
        self.yl = self.xy[:, 1].tolist()
        coo = sp.triu(adj, k=1).tocoo()
        self.ea, self.eb = coo.row, coo.col
        sh = shared.tocsr()
        self.el = np.asarray(sh[self.ea, self.eb]).ravel() if len(self.ea) else np.zeros(0)
        # Typical distance between neighbours, to make distances and penalties commensurable.
        if len(self.ea):
            d = np.hypot(*(self.xy[self.ea] - self.xy[self.eb]).T)
            self.scale = max(float(np.median(d)), 1e-3)
        else:
            self.scale = 1.0
        self.eff = np.minimum(self.w, self.T)
        self._scratch = [-3] * n
        self._fdeg, self._noise, self._tie = [0] * n, [0.0] * n, [0.0] * n
        self.degree = np.diff(adj.indptr).tolist()

    # ---- objective ---------------------------------------------------------------------------
    def score(self, label: np.ndarray) -> tuple:
        """Lexicographic objective, larger is better: (p, -EPCI pieces, -boundary length)."""
        p = int(label.max()) + 1
        inc = len(np.unique(label.astype(np.int64) * (int(self.epci.max()) + 1) + self.epci))
        cut = float(self.el[label[self.ea] != label[self.eb]].sum()) if len(self.ea) else 0.0
        return (p, -inc, -round(cut, 6))

    # ---- construction ------------------------------------------------------------------------
    def construct(self, rng: np.random.Generator, profile, nodes: list[int] | None = None) -> np.ndarray:
        """One randomized greedy partition of ``nodes`` (all nodes by default).

        Regions grow one at a time from a seed on the edge of what is left (fewest free
        neighbours), adding the frontier node that keeps the region compact, in its EPCIs,
        and closes it with the smallest overshoot. Pieces left too small are merged into an
        adjacent region. Work is proportional to the size of ``nodes``, not of the graph.

        Returns
        -------
        numpy.ndarray
            Region of each node of ``nodes`` (numbered from 0), in ``nodes`` order.
        """
        alpha, gamma, delta = profile
        T, nbrs, w, ep = self.T, self.nbrs, self.wl, self.epcil
        over_weight = delta * 4.0 / T  # per inhabitant above the threshold
        hypot = math.hypot
        xl, yl, scale = self.xl, self.yl, self.scale
        # Node-indexed scratch lists (plain lists: this loop is the solver's hot path); only
        # the entries of ``nodes`` are read. ``lab`` is -3 outside ``nodes``, restored on return.
        lab, fdeg, noise, tie = self._scratch, self._fdeg, self._noise, self._tie
        if nodes is None:
            nodes = list(range(self.n))
            fdeg[:] = self.degree
            lab[:] = [-1] * self.n
        else:
            for u in nodes:
                lab[u] = -1
            for u in nodes:
                fdeg[u] = sum(1 for v in nbrs[u] if lab[v] == -1)
        for u, z in zip(nodes, (rng.random(len(nodes)) * 0.6).tolist()):
            noise[u] = z
            tie[u] = z * 1.5  # seed order: fewest free neighbours, randomized
        n_reg = 0
        push = heapq.heappush
        # Free nodes whose free degree changed since the seed heap was last updated: their new
        # key is pushed once, before the next seed is drawn (older entries are skipped as stale).
        dirty: set[int] = set()

        def take(u, r):
            lab[u] = r
            for v in nbrs[u]:
                if lab[v] == -1:
                    fdeg[v] -= 1
                    dirty.add(v)

        # Units that reach the threshold alone are territories on their own.
        for u in nodes:
            if w[u] >= T:
                take(u, n_reg)
                n_reg += 1
        heap = [(fdeg[u] + tie[u], u) for u in nodes if lab[u] == -1]
        heapq.heapify(heap)
        dirty.clear()
        left = []
        while heap:
            for v in dirty:
                if lab[v] == -1:
                    push(heap, (fdeg[v] + tie[v], v))
            dirty.clear()
            key, s = heapq.heappop(heap)
            if lab[s] != -1 or key != fdeg[s] + tie[s]:
                continue  # stale entry
            r = n_reg
            members = [s]
            take(s, r)
            pop = w[s]
            sx, sy = xl[s], yl[s]
            epcis = {ep[s]}
            frontier = {v for v in nbrs[s] if lab[v] == -1}
            while pop < T and frontier:
                cx, cy = sx / len(members), sy / len(members)
                need = T - pop
                best, best_s = -1, math.inf
                for c in frontier:
                    sc = hypot(xl[c] - cx, yl[c] - cy) / scale + gamma * fdeg[c] + noise[c]
                    if ep[c] not in epcis:
                        sc += alpha
                    if w[c] > need:
                        sc += over_weight * (w[c] - need)
                    if sc < best_s:
                        best, best_s = c, sc
                if best < 0:  # no finite score (cannot happen with finite coordinates)
                    best = min(frontier)
                frontier.discard(best)
                take(best, r)
                members.append(best)
                pop += w[best]
                sx += xl[best]
                sy += yl[best]
                epcis.add(ep[best])
                for v in nbrs[best]:
                    if lab[v] == -1:
                        frontier.add(v)
            if pop >= T:
                n_reg += 1
            else:
                for u in members:
                    lab[u] = -2
                left.extend(members)
        self._merge_leftovers(lab, left)
        out = np.array([lab[u] for u in nodes], dtype=np.int64)
        for u in nodes:
            lab[u] = -3
        return out

    def _merge_leftovers(self, lab: list, left: list[int]) -> None:
        """Merge each connected piece of unassigned nodes (-2) into an adjacent region, in place."""
        nbrs, ep, w = self.nbrs, self.epcil, self.wl
        seen = set()
        for start in left:
            if start in seen:
                continue
            piece, stack = [], [start]
            seen.add(start)
            while stack:
                u = stack.pop()
                piece.append(u)
                for v in nbrs[u]:
                    if lab[v] == -2 and v not in seen:
                        seen.add(v)
                        stack.append(v)
            # Adjacent regions, scored by people of the piece sharing an EPCI with the region
            # (the EPCIs of the contact nodes), then by number of contacts.
            contact: dict[int, list] = {}
            for u in piece:
                for v in nbrs[u]:
                    r = lab[v]
                    if r >= 0:
                        c = contact.setdefault(r, [0, 0, set()])
                        c[1] += 1
                        c[2].add(ep[v])
            if not contact:
                continue
            piece_ep: dict[int, int] = {}
            for u in piece:
                piece_ep[ep[u]] = piece_ep.get(ep[u], 0) + w[u]
            for c in contact.values():
                c[0] = sum(piece_ep.get(e, 0) for e in c[2])
            target = max(contact, key=lambda r: (contact[r][0], contact[r][1], -r))
            for u in piece:
                lab[u] = target

    # ---- improvement -------------------------------------------------------------------------
    def _regions(self, label):
        p = int(label.max()) + 1
        pop = np.bincount(label, weights=self.w, minlength=p)
        eff = np.bincount(label, weights=self.eff, minlength=p)
        la, lb = label[self.ea], label[self.eb]
        diff = la != lb
        pairs = np.unique(np.c_[np.minimum(la[diff], lb[diff]), np.maximum(la[diff], lb[diff])], axis=0)
        rn: list[list[int]] = [[] for _ in range(p)]
        for a, b in pairs.tolist():
            rn[a].append(b)
            rn[b].append(a)
        return p, pop, eff, rn

    def improve(
        self,
        label: np.ndarray,
        rng: np.random.Generator,
        attempts: int,
        max_rounds: int = 50,
        max_hood: int = 7,
    ):
        """Large-neighbourhood search: re-partition 1 to 3 adjacent regions into one more."""
        T = self.T
        tried: set = set()
        for _ in range(max_rounds):
            p, pop, eff, rn = self._regions(label)
            hoods: list[tuple[int, ...]] = []
            for r in range(p):
                if eff[r] >= 2 * T:
                    hoods.append((r,))
                for s in rn[r]:
                    if s > r and eff[r] + eff[s] >= 3 * T:
                        hoods.append((r, s))
                for i, s in enumerate(rn[r]):
                    for t in rn[r][i + 1 :]:
                        if eff[r] + eff[s] + eff[t] >= 4 * T:
                            hoods.append(tuple(sorted((r, s, t))))
            # Larger neighbourhoods: from each region, add the adjacent region with the most
            # spare population until the group could hold one more territory.
            slack = eff - T
            for r in range(p):
                hood: list[int] = [r]
                total = eff[r]
                near = set(rn[r])
                while near and len(hood) < max_hood:
                    s = max(near, key=lambda x: (slack[x], -x))
                    hood.append(s)
                    total += eff[s]
                    near |= set(rn[s])
                    near -= set(hood)
                    if total >= (len(hood) + 1) * T:
                        if len(hood) > 3:
                            hoods.append(tuple(sorted(hood)))
                        break
            hoods = list(dict.fromkeys(hoods))
            rng.shuffle(hoods)
            gained = False
            members = None
            for group in hoods:
                if members is None:
                    order = np.argsort(label, kind="stable")
                    cuts = np.searchsorted(label[order], np.arange(p + 1))
                    members = [order[cuts[r] : cuts[r + 1]] for r in range(p)]
                nodes = np.sort(np.concatenate([members[r] for r in group]))
                key = nodes.tobytes()
                if key in tried:
                    continue
                tried.add(key)
                k = len(group)
                nodes_l = nodes.tolist()
                for a in range(attempts):
                    prof = self.PROFILES[(a + k) % len(self.PROFILES)]
                    sub = self.construct(rng, prof, nodes_l)
                    if int(sub.max()) + 1 > k:
                        label = self._splice(label, nodes, sub, group)
                        gained = True
                        break
                if gained:
                    break
            if not gained:
                break
        return label

    def concentrate(self, label: np.ndarray, rng: np.random.Generator, attempts: int = 4):
        """Re-partition one pair of adjacent regions so that one of them holds more spare population.

        Keeps p; gathering spare population in one place lets :meth:`improve` split it off
        later. Returns the new labels and whether anything moved.
        """
        p, _pop, eff, rn = self._regions(label)
        order = np.argsort(label, kind="stable")
        cuts = np.searchsorted(label[order], np.arange(p + 1))
        pairs = [(r, s) for r in range(p) for s in rn[r] if s > r]
        rng.shuffle(pairs)
        for r, s in pairs:
            nodes = np.sort(np.r_[order[cuts[r] : cuts[r + 1]], order[cuts[s] : cuts[s + 1]]])
            current = max(eff[r], eff[s])
            best = None
            for a in range(attempts):
                sub = self.construct(rng, self.PROFILES[a % len(self.PROFILES)], nodes.tolist())
                if int(sub.max()) + 1 < 2:
                    continue
                top = np.bincount(sub, weights=self.eff[nodes]).max()
                if int(sub.max()) + 1 > 2 or (top > current + 1 and (best is None or top > best[0])):
                    best = (top, sub)
            if best is not None:
                return self._splice(label, nodes, best[1], (r, s)), True
        return label, False

    @staticmethod
    def _splice(label, nodes, sub, hood):
        """Replace the regions ``hood`` by the sub-partition ``sub`` of ``nodes``, renumbering."""
        keep = np.setdiff1d(np.arange(int(label.max()) + 1), hood)
        remap = np.full(int(label.max()) + 1, -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        out = remap[label]
        out[nodes] = sub + len(keep)
        return out

    # ---- polishing ---------------------------------------------------------------------------
    def polish(self, label: np.ndarray, max_passes: int = 4) -> np.ndarray:
        """Boundary moves that keep every region valid and reduce EPCI pieces, then boundary length."""
        nbrs, w, ep, T = self.nbrs, self.wl, self.epcil, self.T
        lab = label.tolist()
        p = int(label.max()) + 1
        pop = np.bincount(label, weights=self.w, minlength=p).astype(np.int64).tolist()
        count: list[dict] = [dict() for _ in range(p)]
        members: list[set] = [set() for _ in range(p)]
        for u in range(self.n):
            r = lab[u]
            count[r][ep[u]] = count[r].get(ep[u], 0) + 1
            members[r].add(u)
        sh = self.shared_dict()
        for _ in range(max_passes):
            moved = 0
            for u in range(self.n):
                a = lab[u]
                if pop[a] - w[u] < T:
                    continue
                targets = {lab[v] for v in nbrs[u]} - {a}
                if not targets:
                    continue
                best, best_gain = None, (0, 1e-9)
                for b in sorted(targets):
                    d_inc = (-1 if count[a][ep[u]] == 1 else 0) + (0 if ep[u] in count[b] else 1)
                    d_cut = 0.0
                    for v in nbrs[u]:
                        lv = lab[v]
                        if lv == a:
                            d_cut += sh[(u, v)]
                        elif lv == b:
                            d_cut -= sh[(u, v)]
                    gain = (-d_inc, -d_cut)
                    if gain > best_gain:
                        best, best_gain = b, gain
                if best is None or not self._still_connected(u, a, members[a], lab):
                    continue
                b = best
                lab[u] = b
                members[a].discard(u)
                members[b].add(u)
                pop[a] -= w[u]
                pop[b] += w[u]
                count[a][ep[u]] -= 1
                if not count[a][ep[u]]:
                    del count[a][ep[u]]
                count[b][ep[u]] = count[b].get(ep[u], 0) + 1
                moved += 1
            if not moved:
                break
        return np.array(lab, dtype=np.int64)

    def shared_dict(self) -> dict:
        if not hasattr(self, "_sh"):
            sh = {}
            for a, b, length in zip(self.ea.tolist(), self.eb.tolist(), self.el.tolist()):
                sh[(a, b)] = length
                sh[(b, a)] = length
            self._sh = sh
        return self._sh

    def _still_connected(self, u: int, r: int, members: set, lab: list) -> bool:
        """Is region ``r`` still connected without node ``u``?"""
        nbrs = self.nbrs
        starts = [v for v in nbrs[u] if lab[v] == r]
        if len(starts) <= 1:
            return True
        target = len(members) - 1
        seen = {u, starts[0]}
        stack = [starts[0]]
        while stack:
            x = stack.pop()
            for v in nbrs[x]:
                if v not in seen and lab[v] == r:
                    seen.add(v)
                    stack.append(v)
        return len(seen) - 1 == target

    # ---- whole EPCIs --------------------------------------------------------------------------
    def keep_epcis_whole(self, label: np.ndarray, rng: np.random.Generator, attempts: int = 6) -> np.ndarray:
        """Make each EPCI that could be a territory on its own (at least ``T`` inhabitants, in
        one piece of the graph) and that ``label`` cuts a territory of its own, where that costs
        no territory: the regions it touches are re-partitioned as the EPCI (with any piece of
        them it alone borders) plus a partition of the rest into as many regions as before,
        less one. Kept only if :meth:`score` improves (as many territories, fewer EPCI pieces);
        returns the new labels."""
        T, w = self.T, self.w
        label = np.asarray(label, dtype=np.int64)
        for e in np.unique(self.epci).tolist():
            mine = np.flatnonzero(self.epci == e)
            if int(w[mine].sum()) < T or len(np.unique(label[mine])) < 2:
                continue
            if components(self.adj, mine)[0] != 1:
                continue  # an EPCI in pieces (exclaves) cannot be one territory
            hood = np.unique(label[mine])
            nodes = np.flatnonzero(np.isin(label, hood))
            rest = np.setdiff1d(nodes, mine)
            best = (self.score(label), label)
            for a in range(attempts):
                sub = np.zeros(len(nodes), dtype=np.int64)  # the EPCI: region 0
                at_rest = np.searchsorted(nodes, rest)
                if len(rest):
                    part = self.construct(rng, self.PROFILES[a % len(self.PROFILES)], rest.tolist())
                    # Pieces of the rest that touch only the EPCI join it (-2: left unplaced).
                    sub[at_rest] = np.where(part >= 0, part + 1, 0)
                k = int(sub.max()) + 1
                pops = np.bincount(sub, weights=w[nodes], minlength=k)
                if k < len(hood) or (pops < T).any() or components(self.adj, nodes[sub == 0])[0] != 1:
                    continue
                new = self._splice(label, nodes, sub, hood)
                score = self.score(new)
                if score > best[0]:
                    best = (score, new)
            label = best[1]
        return label

    # ---- driver ------------------------------------------------------------------------------
    def solve(self, rng: np.random.Generator, effort: int = 1) -> np.ndarray:
        """Best partition over several randomized constructions, improved and polished."""
        if int(self.w.sum()) < self.T:
            raise ValueError("population below the threshold")
        if self.n == 1:
            return np.zeros(1, dtype=np.int64)
        starts = int(effort) * self.STARTS
        _, tight = max_p_upper_bound(self.w, self.T)
        cands = []
        for i in range(starts):
            lab = self.construct(rng, self.PROFILES[i % len(self.PROFILES)])
            cands.append((self.score(lab), i, lab))
            # At the upper bound p cannot improve: a few more starts only compete on EPCIs
            # and compactness.
            if i + 1 >= self.STARTS_AT_BOUND and max(c[0][0] for c in cands) >= tight:
                break
        cands.sort(key=lambda c: (c[0], -c[1]), reverse=True)
        best: tuple | None = None
        for _sc, _i, lab in cands[: int(effort) * self.TOP]:
            lab = self.improve(lab, rng, attempts=int(effort) * self.ATTEMPTS)
            for _ in range(20 * (int(effort) - 1)):
                if int(lab.max()) + 1 >= tight:
                    break
                lab, moved = self.concentrate(lab, rng)
                if not moved:
                    break
                lab = self.improve(lab, rng, attempts=self.ATTEMPTS)
            lab = self.polish(lab)
            s = self.score(lab)
            if best is None or s > best[0]:
                best = (s, lab)
        assert best is not None, "no candidate partition"
        lab = self.polish(self.keep_epcis_whole(best[1], rng))
        # Below the upper bound, a small piece is settled by exhaustive search: the greedy
        # growth can miss a partition that a few units allow (two columns, not two rows).
        if int(lab.max()) + 1 < tight and self.n <= EXACT_MAX_UNITS:
            exact = exact_max_p(self.nbrs, self.wl, self.T)
            if exact is not None and int(exact.max()) > int(lab.max()):
                lab = self.polish(exact)
        return canonical(lab)


#: Pieces of white zone of at most this many units are solved exactly when the heuristic stops
#: below the upper bound. The search is abandoned (the heuristic's answer kept) beyond
#: ``EXACT_MAX_WORK`` candidate regions, about a tenth of a second.
EXACT_MAX_UNITS = 16
EXACT_MAX_WORK = 200_000


def exact_max_p(nbrs: list[list[int]], w: list[int], T: int) -> np.ndarray | None:
    """Optimal max-p partition of a small connected graph, by memoised exhaustive search.

    ``best(S)``, the most regions that partition the set of nodes ``S`` (a bitmask), tries
    every connected region of ``S`` with at least ``T`` inhabitants that holds the lowest
    node of ``S``, then solves the rest. Returns the region of each node (numbered from 0), or
    ``None`` when the graph is too large or the search exceeds its budget.
    """
    n = len(w)
    if n > EXACT_MAX_UNITS:
        return None
    pop = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):  # population of every subset, by doubling
        pop[1 << i : 2 << i] = pop[: 1 << i] + w[i]
    popl = pop.tolist()
    nb_mask = [sum(1 << v for v in nbrs[u]) for u in range(n)]
    connected: dict[int, bool] = {}

    def is_connected(m: int) -> bool:
        c = connected.get(m)
        if c is None:
            seen = frontier = m & -m
            while frontier:
                u = (frontier & -frontier).bit_length() - 1
                frontier &= frontier - 1
                new = nb_mask[u] & m & ~seen
                seen |= new
                frontier |= new
            c = connected[m] = seen == m
        return c

    memo: dict[int, tuple[int, int]] = {0: (0, 0)}
    work = [0]

    def best(S: int) -> tuple[int, int]:
        """(most regions partitioning S or -1 if none, the region holding S's lowest node)."""
        if S in memo:
            return memo[S]
        work[0] += 1 << (S.bit_count() - 1)  # the subsets of S holding its lowest node
        if work[0] > EXACT_MAX_WORK:
            raise _SearchBudgetExceeded
        low = S & -S
        others = S ^ low
        top, choice = -1, 0
        sub = others
        while True:  # every subset of S holding its lowest node
            R = sub | low
            if popl[R] >= T and 1 + popl[S ^ R] // T > top and is_connected(R):
                p_rest = best(S ^ R)[0]
                if p_rest >= 0 and p_rest + 1 > top:
                    top, choice = p_rest + 1, R
            if not sub:
                break
            sub = (sub - 1) & others
        memo[S] = (top, choice)
        return memo[S]

    full = (1 << n) - 1
    try:
        p, _ = best(full)
    except _SearchBudgetExceeded:
        return None
    if p < 0:
        return None
    labels = np.zeros(n, dtype=np.int64)
    S, r = full, 0
    while S:
        R = memo[S][1]
        labels[[u for u in range(n) if R >> u & 1]] = r
        S ^= R
        r += 1
    return labels


class _SearchBudgetExceeded(Exception):
    """The exhaustive search of :func:`_exact_max_p` went over its budget."""


def canonical(label: np.ndarray) -> np.ndarray:
    """Number regions by first appearance (a canonical form for comparisons)."""
    _, first = np.unique(label, return_index=True)
    order = np.argsort(first)
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    return remap[label]
