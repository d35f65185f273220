"""The EPCI-mode model shared by its solvers (:mod:`cpts_geo.suggest.epci_mode`, its cuts and
:mod:`cpts_geo.suggest.epci_exact`): the kinds of territory, the parts of EPCI and the blocks the
grouping works on, the objective, and the result (see :mod:`cpts_geo.suggest.epci_mode` for the
vocabulary)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

#: Territory kinds.
KIND_WHOLE = "epci"  #: one whole EPCI part (possibly with parts of no EPCI)


KIND_UNION = "union_epci"  #: a union of whole EPCI parts


KIND_SPLIT = "epci_decoupe"  #: holds a piece of an oversized EPCI part


#: With :class:`NationalEpci`: holds whole white EPCI parts, but some EPCI touched has units
#: outside the input (covered by a CPTS, or in another département or area).
KIND_PART = "partie_epci"


def _fr(value) -> str:
    from cpts_geo._text import fr_int

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
def deviation(p: float, target: float) -> float:
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


def connected(nodes: set, nbrs) -> bool:
    """Whether ``nodes`` is connected in the adjacency lists ``nbrs`` (a depth-first search).

    A set of at most one node is connected: nothing in it can be separated (the solvers ask
    "is what is left still in one piece?", and nothing left is).

    >>> connected({0, 1}, [[1], [0, 2], [1]]), connected({0, 2}, [[1], [0, 2], [1]]), connected(set(), [])
    (True, False, True)
    """
    if len(nodes) <= 1:
        return True
    start = next(iter(nodes))
    seen = {start}
    stack = [start]
    while stack:
        u = stack.pop()
        for v in nbrs[u]:
            if v in nodes and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == len(nodes)
