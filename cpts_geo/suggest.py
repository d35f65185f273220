"""Partition the white zones (units no CPTS covers) into candidate CPTS territories.

This is the max-p regionalisation problem: split the uncovered units of an area into as many
territories as possible, each contiguous (land adjacency plus sea links, as in the
``contiguity`` rule) and each with at least ``min_population`` inhabitants; among partitions
with that many territories, prefer territories made of whole EPCIs (few EPCI pieces), then
compact ones (short boundaries between territories). Territories stay within one département
unless asked otherwise.

The solver works on each connected piece of the white zone separately: randomized greedy
growth from many seeds (seeded, so results are reproducible): each territory grows from a
unit on the edge of what is left, adding the neighbour that keeps it compact and within its
EPCIs and closes it with the least excess; then a large-neighbourhood search re-partitions
groups of adjacent territories whose population could hold one more; then boundary moves
improve EPCI coherence and compactness without breaking any territory. ``floor(P / T)``, made
tighter by the excess of units that alone exceed the threshold, bounds what any partition can
reach; results report how close they are. A piece of at most ``EXACT_MAX_UNITS`` units on
which the heuristic stops below that bound is settled by exhaustive search (within a budget of
about a tenth of a second), so small white zones get their optimum.
Pieces of the white zone too small to form a territory become *extensions* of the adjacent
existing CPTS that absorbs them most coherently, or, when no CPTS touches them, are reported
as *non rattachables*.

Examples
--------
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> result = cg.suggest_territories(ref, within="49")
>>> result.n_territories
28
>>> result.territories.iloc[0]["label"]
"Territoire proposé n°1 — autour d'Angers"
"""

from __future__ import annotations

import heapq
import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import Transformer
from scipy.sparse import csgraph

from ._errors import InputError
from .reference import Reference, sea_links
from .territory import aci_size_class

__all__ = [
    "SuggestResult",
    "max_p_upper_bound",
    "resolve_area",
    "result_features",
    "suggest_map",
    "suggest_territories",
    "write_result",
]

log = logging.getLogger(__name__)

#: Assignment types, as written in the ``type`` column of the per-unit table.
TYPE_TERRITORY = "territoire"
TYPE_EXTENSION = "extension"
TYPE_ORPHAN = "non_rattachable"
#: Layer name of the GeoPackage / GeoJSON output.
LAYER_NAME = "territoires_proposes"


# ---------------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------------
@dataclass
class SuggestResult:
    """What :func:`suggest_territories` proposes.

    Attributes
    ----------
    territories
        GeoDataFrame (EPSG:4326), one row per suggested territory: ``territoire_id``, ``label``
        ("Territoire proposé n°3 — autour de Cholet"), ``departement``, ``population``,
        ``aci_size_class``, ``n_communes``, ``communes`` (unit codes), ``epci`` (SIREN of the
        EPCIs touched), ``n_epci``, ``geometry``.
    extensions
        DataFrame, one row per extension of an existing CPTS: ``territoire_id``, ``cpts_id``,
        ``cpts_nom``, ``departement``, ``population``, ``n_communes``, ``communes``, ``epci``,
        ``reason``.
    orphans
        DataFrame, one row per piece of white zone that can neither form a territory nor join
        an adjacent CPTS (same columns as ``extensions`` minus the CPTS).
    assignment
        DataFrame indexed by ``code_insee`` (every input unit exactly once): ``territoire_id``,
        ``type`` (``territoire``, ``extension`` or ``non_rattachable``), ``cpts_id`` (the CPTS
        an extension joins, else ``""``), ``departement``, ``population``.
    components
        DataFrame, one row per connected piece of the white zone: ``departement``,
        ``n_units``, ``population``, ``p`` (territories found), ``bound`` (``floor(population
        / min_population)``) and ``tight_bound`` (the same after removing the excess of units
        that alone exceed the threshold, which no partition can share).
    min_population, seed, sea_link_km, allow_cross_departement, departements, vintage
        The parameters and the reference vintage.
    """

    territories: gpd.GeoDataFrame
    extensions: pd.DataFrame
    orphans: pd.DataFrame
    assignment: pd.DataFrame
    components: pd.DataFrame
    min_population: int
    seed: int
    sea_link_km: float
    allow_cross_departement: bool
    departements: list[str]
    vintage: dict
    covered_units: int = 0
    stats: dict = field(default_factory=dict)

    @property
    def n_territories(self) -> int:
        """Number of suggested territories."""
        return int(len(self.territories))

    def summary(self) -> dict:
        """Plain-dict summary (JSON-ready): counts, populations, bounds."""
        comp = self.components
        return {
            "departements": list(self.departements),
            "min_population": int(self.min_population),
            "seed": int(self.seed),
            "sea_link_km": float(self.sea_link_km),
            "allow_cross_departement": bool(self.allow_cross_departement),
            "vintage": dict(self.vintage),
            "units": int(len(self.assignment)),
            "covered_units": int(self.covered_units),
            "population": int(self.assignment["population"].sum()),
            "territories": self.n_territories,
            "bound": int(comp["bound"].sum()) if len(comp) else 0,
            "tight_bound": int(comp["tight_bound"].sum()) if len(comp) else 0,
            "extensions": int(len(self.extensions)),
            "extension_population": int(self.extensions["population"].sum()) if len(self.extensions) else 0,
            "orphans": int(len(self.orphans)),
            "orphan_population": int(self.orphans["population"].sum()) if len(self.orphans) else 0,
        }

    def to_dict(self) -> dict:
        """JSON-ready dict: the summary, then every territory, extension and orphan piece."""

        def rows(df: pd.DataFrame) -> list[dict]:
            cols = [c for c in df.columns if c != "geometry"]
            out = []
            for rec in df[cols].to_dict("records"):
                out.append({k: _plain(v) for k, v in rec.items()})
            return out

        return {
            "summary": self.summary(),
            "territories": rows(self.territories),
            "extensions": rows(self.extensions),
            "orphans": rows(self.orphans),
        }

    def unit_table(self) -> pd.DataFrame:
        """One row per unit: ``territoire_id``, ``code_insee``, ``type``, ``cpts_id`` (CSV layout)."""
        a = self.assignment.reset_index()
        return a[["territoire_id", "code_insee", "type", "cpts_id"]]


def _plain(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


# ---------------------------------------------------------------------------------------------
# Area and bounds
# ---------------------------------------------------------------------------------------------
def resolve_area(ref: Reference, *, departement=None, region=None) -> list[str]:
    """Département codes of an area: one or more départements, a région, or all of France.

    Parameters
    ----------
    departement
        A code or a name (``"49"``, ``"2a"``, ``"1"``, ``"Maine-et-Loire"``), or a list of them.
    region
        A région code or name (``"52"``, ``"Pays de la Loire"``).

    Raises
    ------
    InputError
        Naming every unknown value, with the closest names or the valid codes (as
        :func:`cpts_geo.coverage.resolve_scope`, so every command reads areas the same way).

    Examples
    --------
    >>> import cpts_geo as cg
    >>> resolve_area(cg.load_reference(), region="Pays de la Loire")
    ['44', '49', '53', '72', '85']
    """
    from .coverage import resolve_scope

    if departement is not None and region is not None:
        raise InputError("choisissez soit un département, soit une région")
    if region is not None:
        code = resolve_scope(ref, region=region)["code"]
        return sorted(ref.departements.index[ref.departements["region"] == code])
    if departement is None:
        return sorted(ref.departements.index)
    values = [departement] if isinstance(departement, str) else list(departement)
    out, problems = [], []
    for v in values:
        try:
            code = resolve_scope(ref, departement=str(v))["code"]
        except InputError as exc:
            problems.append(str(exc))
            continue
        if code not in out:
            out.append(code)
    if problems:
        raise InputError("\n".join(problems))
    return out


def max_p_upper_bound(population: np.ndarray, min_population: int) -> tuple[int, int]:
    """Two upper bounds on the number of territories a connected set of units can form.

    ``floor(P / T)``, and the tighter ``floor((P - sum(max(0, w - T))) / T)``: a territory
    holding a unit of population ``w >= T`` has at least ``w`` inhabitants, so the excess
    ``w - T`` of each such unit is lost to every partition.
    """
    w = np.asarray(population, dtype=np.int64)
    total = int(w.sum())
    excess = int(np.maximum(w - min_population, 0).sum())
    return total // min_population, (total - excess) // min_population


# ---------------------------------------------------------------------------------------------
# Main entry point
# ---------------------------------------------------------------------------------------------
def suggest_territories(
    ref: Reference,
    *,
    existing=None,
    within=None,
    min_population: int = 20000,
    sea_link_km: float = 30.0,
    allow_cross_departement: bool = False,
    seed: int = 0,
    effort: int = 1,
    geometry: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> SuggestResult:
    """Partition the units no CPTS covers into candidate territories (max-p regionalisation).

    Parameters
    ----------
    ref
        The reference.
    existing
        The register of existing CPTS (:class:`cpts_geo.inputs.Register`, or a DataFrame with
        ``cpts_id`` and ``code_insee``). Its units are left out; without it every unit of the
        area is partitioned.
    within
        Département code(s) of the area (``"49"``, ``["44", "49"]``); ``None``: all of France.
        Use :func:`resolve_area` for a région.
    min_population
        Minimum population of a territory.
    sea_link_km
        Islands closer than this (km) to another land mass are linked to it by sea.
    allow_cross_departement
        Let territories span départements (of the area).
    seed
        Seed of the random restarts; the result is deterministic for a given input and seed.
    effort
        Search budget: 1 (default) is well under a second per département; 2 or more multiply
        the restarts and improvement attempts and add a phase that gathers spare population
        to split off one more territory (10 to 20 times slower, sometimes 1 or 2 more).
    geometry
        Dissolve the territories' boundaries (needed for maps and GeoPackage output).
    progress
        Called as ``progress(done_units, total_units)`` after each piece of the white zone.

    Returns
    -------
    SuggestResult

    Raises
    ------
    InputError
        Unknown area, ``min_population <= 0`` or larger than the area's population.
    """
    departements = resolve_area(ref, departement=within) if within is not None else resolve_area(ref)
    min_population = _check_min_population(min_population)
    units = ref.units
    arr = _arrays(ref)
    in_area = np.isin(arr["dep"], departements)
    area_pop = int(arr["pop"][in_area].sum())
    if min_population > area_pop:
        raise InputError(
            f"--min-population {_fr(min_population)} impossible : {_area_name(ref, departements)} ne "
            f"compte que {_fr(area_pop)} habitants (population municipale {ref.vintage['population']}) ; "
            "choisissez un seuil plus bas ou une zone plus grande"
        )

    owner, cpts_names = _unit_owner(ref, existing)  # unit position -> cpts_id ('' if uncovered)
    covered = owner != ""
    white = in_area & ~covered
    n_covered = int((in_area & covered).sum())

    graph = _full_graph(ref, sea_link_km)
    white_idx = np.flatnonzero(white)
    sub = graph[white_idx][:, white_idx]
    dep = arr["dep"]
    if not allow_cross_departement:
        coo = sub.tocoo()
        keep = dep[white_idx[coo.row]] == dep[white_idx[coo.col]]
        sub = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=sub.shape)
    total_white = len(white_idx)
    if total_white:
        _, comp = csgraph.connected_components(sub, directed=False)
    else:
        comp = np.zeros(0, dtype=np.int64)

    pop = arr["pop"]
    epci_int = arr["epci_int"]
    xy = _projected_xy(ref)
    shared = _shared_lengths(ref, graph)

    # Components in a stable order (by their first unit), each solved with its own RNG stream
    # so that a département's result does not depend on the rest of the area.
    order = np.argsort(comp, kind="stable")
    bounds = np.flatnonzero(np.r_[True, comp[order][1:] != comp[order][:-1], True])
    pieces = (
        [white_idx[order[bounds[i] : bounds[i + 1]]] for i in range(len(bounds) - 1)] if total_white else []
    )
    pieces.sort(key=lambda idx: idx[0])

    total = int(len(white_idx))
    done = 0
    labels_of: list[np.ndarray] = []
    comp_rows = []
    for piece in pieces:
        w = pop[piece]
        p_pop = int(w.sum())
        bound, tight = max_p_upper_bound(w, min_population)
        if p_pop >= min_population:
            local = graph[piece][:, piece]
            if not allow_cross_departement:
                lc = local.tocoo()
                k = dep[piece[lc.row]] == dep[piece[lc.col]]
                local = sp.csr_matrix((lc.data[k], (lc.row[k], lc.col[k])), shape=local.shape)
            lshared = shared[piece][:, piece]
            rng = np.random.default_rng([int(seed), int(piece[0])])
            solver = _Solver(local, lshared, w, epci_int[piece], xy[piece], min_population)
            lab = solver.solve(rng, effort=effort)
            p = int(lab.max()) + 1
        else:
            lab = np.full(len(piece), -1)
            p = 0
        labels_of.append(lab)
        comp_rows.append(
            {
                "departement": _main_dep(dep[piece], w),
                "first_unit": units.index[piece[0]],
                "n_units": int(len(piece)),
                "population": p_pop,
                "p": p,
                "bound": bound if p_pop >= min_population else 0,
                "tight_bound": tight if p_pop >= min_population else 0,
            }
        )
        done += len(piece)
        if progress is not None:
            progress(done, total)
    components = pd.DataFrame(
        comp_rows, columns=["departement", "first_unit", "n_units", "population", "p", "bound", "tight_bound"]
    )
    return _assemble(
        ref,
        pieces,
        labels_of,
        owner,
        cpts_names,
        graph,
        epci_int,
        shared,
        components,
        min_population=min_population,
        seed=seed,
        sea_link_km=sea_link_km,
        allow_cross=allow_cross_departement,
        departements=departements,
        n_covered=n_covered,
        geometry=geometry,
    )


def _check_min_population(min_population) -> int:
    """The threshold as an int, or an InputError saying what is expected."""
    ok = isinstance(min_population, (int, np.integer)) and not isinstance(min_population, bool)
    if isinstance(min_population, float) and min_population.is_integer():
        ok = True
    if not ok or min_population <= 0:
        raise InputError(
            f"--min-population {min_population} : le seuil doit être un nombre entier d'habitants "
            "strictement positif (20000 dans le cahier des charges des Pays de la Loire)"
        )
    return int(min_population)


def _area_name(ref: Reference, departements: list[str]) -> str:
    if len(departements) == len(ref.departements):
        return "la France entière"
    regs = ref.departements.loc[departements, "region"].unique()
    if len(regs) == 1:
        reg_deps = ref.departements.index[ref.departements["region"] == regs[0]]
        if len(departements) > 1 and set(reg_deps) == set(departements):
            return f"la région {ref.regions.at[regs[0], 'nom']}"
    if len(departements) == 1:
        d = departements[0]
        return f"le département {ref.departements.at[d, 'nom']} ({d})"
    return "les départements " + ", ".join(departements)


def _main_dep(deps: np.ndarray, w: np.ndarray) -> str:
    """The département holding most of the population (the first code on a tie)."""
    names, inv = np.unique(deps.astype(str), return_inverse=True)
    if len(names) == 1:
        return str(names[0])
    return str(names[int(np.argmax(np.bincount(inv, weights=w)))])


# ---------------------------------------------------------------------------------------------
# Inputs: register, graph, coordinates
# ---------------------------------------------------------------------------------------------
def _unit_owner(ref: Reference, existing) -> tuple[np.ndarray, dict]:
    """For each unit (reference order), the id of the CPTS covering it ('' if none); CPTS names."""
    owner = np.full(len(ref.units), "", dtype=object)
    if existing is None:
        return owner, {}
    if isinstance(existing, pd.DataFrame):
        from .inputs import register_from_frame

        existing = register_from_frame(existing, ref)
    table = existing.table
    if not len(table):
        return owner, {}
    names = {}
    if "cpts_nom" in table.columns:
        names = dict(zip(table["cpts_id"].astype(str), table["cpts_nom"].fillna("").astype(str)))
    t = table[["cpts_id", "code_insee"]].astype(str).sort_values(["code_insee", "cpts_id"])
    t = t.drop_duplicates("code_insee")  # a unit in two CPTS (an overlap): the first id
    pos = ref.position.reindex(t["code_insee"]).to_numpy()
    ok = ~pd.isna(pos)
    owner[pos[ok].astype(np.int64)] = t["cpts_id"].to_numpy()[ok]
    return owner, names


def _full_graph(ref: Reference, sea_link_km: float) -> sp.csr_matrix:
    """Land adjacency plus sea links, as a symmetric CSR matrix in units order (cached)."""
    cache = ref.__dict__.setdefault("_suggest_graph_cache", {})
    if sea_link_km in cache:
        return cache[sea_link_km]
    links = sea_links(ref, max_km=sea_link_km)
    g = ref.graph.tocsr().astype(np.int8)
    if len(links):
        i = ref.position.reindex(links["a"]).to_numpy()
        j = ref.position.reindex(links["b"]).to_numpy()
        n = g.shape[0]
        extra = sp.coo_matrix((np.ones(2 * len(i), dtype=np.int8), (np.r_[i, j], np.r_[j, i])), shape=(n, n))
        g = (g + extra.tocsr()).tocsr()
        g.data[:] = 1
    g.sort_indices()
    cache[sea_link_km] = g
    return g


def _shared_lengths(ref: Reference, graph: sp.csr_matrix) -> sp.csr_matrix:
    """Shared boundary length (km) of each edge of ``graph`` (0 for sea links and point contacts)."""
    cache = ref.__dict__.setdefault("_suggest_shared_cache", {})
    key = id(graph)
    if key in cache:
        return cache[key]
    adj = ref.adjacency
    i = ref.position.reindex(adj["a"]).to_numpy()
    j = ref.position.reindex(adj["b"]).to_numpy()
    length = np.nan_to_num(adj["shared_m"].to_numpy(dtype=float), nan=0.0) / 1000.0
    n = graph.shape[0]
    m = sp.coo_matrix((np.r_[length, length], (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    # Same sparsity as the graph (sea links get 0): add a tiny epsilon then subtract it.
    eps = graph.astype(float) * 1e-9
    out = (m + eps).tocsr()
    out.sort_indices()
    out.data = np.maximum(out.data - 1e-9, 0.0)
    cache[key] = out
    return out


def _arrays(ref: Reference) -> dict:
    """Plain numpy arrays of the unit columns the solver reads (cached on the reference)."""
    cache = ref.__dict__
    if "_suggest_arrays" not in cache:
        units = ref.units
        epci = np.asarray(units["epci"].astype(str).to_numpy(), dtype=object)
        cache["_suggest_arrays"] = {
            "codes": np.asarray(units.index.to_numpy(), dtype=object),
            "pop": units["population"].to_numpy().astype(np.int64),
            "dep": np.asarray(units["departement"].astype(str).to_numpy(), dtype=object),
            "epci": epci,
            "epci_int": np.unique(epci, return_inverse=True)[1],
            "nom": np.asarray(units["nom"].astype(str).to_numpy(), dtype=object),
        }
    return cache["_suggest_arrays"]


def _projected_xy(ref: Reference) -> np.ndarray:
    """Representative points of the units in kilometres, in each zone's projected CRS."""
    cache = ref.__dict__
    if "_suggest_xy" in cache:
        return cache["_suggest_xy"]
    units = ref.units
    xy = np.zeros((len(units), 2))
    lon = units["lon"].to_numpy(dtype=float)
    lat = units["lat"].to_numpy(dtype=float)
    epsg = units["epsg"].to_numpy()
    for code in np.unique(epsg):
        sel = epsg == code
        x, y = Transformer.from_crs(4326, int(code), always_xy=True).transform(lon[sel], lat[sel])
        xy[sel, 0] = np.asarray(x) / 1000.0
        xy[sel, 1] = np.asarray(y) / 1000.0
    # Units without geometry (restored communes inside another's polygon): their neighbours' mean.
    g = ref.graph
    for i in np.flatnonzero(~np.isfinite(xy).all(axis=1)):
        nb = g.indices[g.indptr[i] : g.indptr[i + 1]]
        nb = nb[np.isfinite(xy[nb]).all(axis=1)]
        xy[i] = xy[nb].mean(axis=0) if len(nb) else 0.0
    cache["_suggest_xy"] = xy
    return xy


# ---------------------------------------------------------------------------------------------
# The solver (one connected piece of white zone)
# ---------------------------------------------------------------------------------------------
class _Solver:
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
            hoods = []
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
                hood, total = [r], eff[r]
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
            for hood in hoods:
                if members is None:
                    order = np.argsort(label, kind="stable")
                    cuts = np.searchsorted(label[order], np.arange(p + 1))
                    members = [order[cuts[r] : cuts[r + 1]] for r in range(p)]
                nodes = np.sort(np.concatenate([members[r] for r in hood]))
                key = nodes.tobytes()
                if key in tried:
                    continue
                tried.add(key)
                k = len(hood)
                nodes_l = nodes.tolist()
                for a in range(attempts):
                    prof = self.PROFILES[(a + k) % len(self.PROFILES)]
                    sub = self.construct(rng, prof, nodes_l)
                    if int(sub.max()) + 1 > k:
                        label = self._splice(label, nodes, sub, hood)
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
        best = None
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
        lab = best[1]
        # Below the upper bound, a small piece is settled by exhaustive search: the greedy
        # growth can miss a partition that a few units allow (two columns, not two rows).
        if int(lab.max()) + 1 < tight and self.n <= EXACT_MAX_UNITS:
            exact = _exact_max_p(self.nbrs, self.wl, self.T)
            if exact is not None and int(exact.max()) > int(lab.max()):
                lab = self.polish(exact)
        return _canonical(lab)


#: Pieces of white zone of at most this many units are solved exactly when the heuristic stops
#: below the upper bound. The search is abandoned (the heuristic's answer kept) beyond
#: ``EXACT_MAX_WORK`` candidate regions, about a tenth of a second.
EXACT_MAX_UNITS = 16
EXACT_MAX_WORK = 200_000


def _exact_max_p(nbrs: list[list[int]], w: list[int], T: int) -> np.ndarray | None:
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


def _canonical(label: np.ndarray) -> np.ndarray:
    """Number regions by first appearance (a canonical form for comparisons)."""
    _, first = np.unique(label, return_index=True)
    order = np.argsort(first)
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    return remap[label]


# ---------------------------------------------------------------------------------------------
# Assembling the result
# ---------------------------------------------------------------------------------------------
def _fr(value: int) -> str:
    """An integer with French digit grouping: 13 362."""
    return f"{int(value):,}".replace(",", " ")


def _de(name: str) -> str:
    """French "de" before a commune name: d'Angers, du Mans, des Sables-d'Olonne, de La Flèche."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[:1].upper() in "AEIOUYÀÂÉÈÊÎÔÛ":
        return "d'" + name
    return "de " + name


def _assemble(
    ref,
    pieces,
    labels_of,
    owner,
    cpts_names,
    graph,
    epci_int,
    shared,
    components,
    *,
    min_population,
    seed,
    sea_link_km,
    allow_cross,
    departements,
    n_covered,
    geometry,
) -> SuggestResult:
    units = ref.units
    arr = _arrays(ref)
    codes, pop, dep, epci, noms = arr["codes"], arr["pop"], arr["dep"], arr["epci"], arr["nom"]

    terr_rows, groups = [], []
    small_pieces = []
    for piece, lab in zip(pieces, labels_of):
        if lab.max() < 0:
            small_pieces.append(piece)
            continue
        for r in range(int(lab.max()) + 1):
            groups.append(piece[lab == r])
    # Number territories within each département by decreasing population.
    info = []
    for g in groups:
        gp = pop[g]
        info.append((_main_dep(dep[g], gp), -int(gp.sum()), codes[g].min(), g))
    info.sort(key=lambda t: (t[0], t[1], t[2]))
    assign_rows = []
    per_dep: dict[str, int] = {}
    for d, negpop, _, g in info:
        k = per_dep.get(d, 0) + 1
        per_dep[d] = k
        tid = f"{d}-T{k:02d}"
        g = g[np.lexsort((codes[g],))]
        largest = g[np.lexsort((codes[g], -pop[g]))[0]]
        eps = sorted({e for e in epci[g] if e})
        terr_rows.append(
            {
                "territoire_id": tid,
                "label": f"Territoire proposé n°{k} — autour {_de(noms[largest])}",
                "departement": d,
                "population": -negpop,
                "aci_size_class": aci_size_class(-negpop),
                "n_communes": int(len(g)),
                "communes": codes[g].tolist(),
                "epci": eps,
                "n_epci": len(eps),
                "_idx": g,
            }
        )
        for i in g:
            assign_rows.append((codes[i], tid, TYPE_TERRITORY, "", dep[i], int(pop[i])))

    ext_rows, orphan_rows = [], []
    ext_count: dict[str, int] = {}
    orphan_count: dict[str, int] = {}
    for piece in small_pieces:
        target, reason = _extension_target(ref, piece, owner, graph, epci, allow_cross, sea_link_km)
        d = _main_dep(dep[piece], pop[piece])
        piece = piece[np.argsort(codes[piece])]
        eps = sorted({e for e in epci[piece] if e})
        row = {
            "departement": d,
            "population": int(pop[piece].sum()),
            "n_communes": int(len(piece)),
            "communes": codes[piece].tolist(),
            "epci": eps,
            "reason": reason,
        }
        if target:
            k = ext_count.get(d, 0) + 1
            ext_count[d] = k
            tid = f"{d}-E{k:02d}"
            ext_rows.append({"territoire_id": tid, "cpts_id": target, **row})
            kind = TYPE_EXTENSION
        else:
            k = orphan_count.get(d, 0) + 1
            orphan_count[d] = k
            tid = f"{d}-N{k:02d}"
            orphan_rows.append({"territoire_id": tid, **row})
            kind = TYPE_ORPHAN
        for i in piece:
            assign_rows.append((codes[i], tid, kind, target, dep[i], int(pop[i])))

    assignment = pd.DataFrame(
        assign_rows, columns=["code_insee", "territoire_id", "type", "cpts_id", "departement", "population"]
    )
    assignment = assignment.set_index("code_insee").sort_index()

    terr = pd.DataFrame(
        terr_rows,
        columns=[
            "territoire_id",
            "label",
            "departement",
            "population",
            "aci_size_class",
            "n_communes",
            "communes",
            "epci",
            "n_epci",
            "_idx",
        ],
    )
    if geometry and len(terr):
        geoms = units.geometry.to_numpy()
        polys = []
        for g in terr["_idx"]:
            gg = geoms[g]
            gg = gg[~shapely.is_missing(gg)]
            polys.append(shapely.coverage_union_all(gg) if len(gg) else None)
        gdf = gpd.GeoDataFrame(terr.drop(columns="_idx"), geometry=polys, crs=units.crs)
    else:
        gdf = gpd.GeoDataFrame(terr.drop(columns="_idx"), geometry=[None] * len(terr), crs=units.crs)
    ext = pd.DataFrame(
        ext_rows,
        columns=[
            "territoire_id",
            "cpts_id",
            "departement",
            "population",
            "n_communes",
            "communes",
            "epci",
            "reason",
        ],
    )
    if len(ext):
        ext.insert(2, "cpts_nom", [cpts_names.get(c, "") for c in ext["cpts_id"]])
    else:
        ext.insert(2, "cpts_nom", pd.Series(dtype=str))
    orphans = pd.DataFrame(
        orphan_rows,
        columns=["territoire_id", "departement", "population", "n_communes", "communes", "epci", "reason"],
    )
    components = components.copy()
    return SuggestResult(
        territories=gdf,
        extensions=ext,
        orphans=orphans,
        assignment=assignment,
        components=components,
        min_population=int(min_population),
        seed=int(seed),
        sea_link_km=float(sea_link_km),
        allow_cross_departement=bool(allow_cross),
        departements=list(departements),
        vintage=ref.vintage,
        covered_units=int(n_covered),
    )


def _extension_target(ref, piece, owner, graph, epci, allow_cross, sea_link_km) -> tuple[str, str]:
    """The existing CPTS a too-small piece of white zone should join, and why (French)."""
    pop = _arrays(ref)["pop"]
    sub = graph[piece]
    nb = sub.indices
    src = np.repeat(piece, np.diff(sub.indptr))
    their = owner[nb]
    has = their != ""
    total = int(pop[piece].sum())
    if not has.any():
        reason = f"{_fr(total)} habitants, trop peu pour former un territoire, et aucune CPTS voisine"
        outside = np.setdiff1d(nb, piece)
        if not len(outside):
            return (
                "",
                f"{reason} ; isolée : aucune commune voisine, ni à moins de {sea_link_km:g} km par la mer "
                "(--sea-link-km) : à rattacher par dérogation",
            )
        if not allow_cross:
            deps = sorted(set(_arrays(ref)["dep"][outside]))
            return "", (
                f"{reason} ; ne touche que des communes d'un autre département ({', '.join(deps)}) : "
                "à rattacher à un territoire voisin (--allow-cross-departement) ou par dérogation"
            )
        return "", reason + " ; à rattacher par dérogation"
    cand = pd.DataFrame({"cpts": their[has], "src": src[has], "nb": nb[has]})
    rows = []
    piece_ep = pd.Series(pop[piece], index=epci[piece]).groupby(level=0).sum()
    for cid, grp in cand.groupby("cpts", sort=True):
        cpts_units = np.flatnonzero(owner == cid)
        cpts_ep = set(epci[cpts_units]) - {""}
        same_ep = int(piece_ep[[e for e in piece_ep.index if e in cpts_ep]].sum())
        rows.append((same_ep, len(grp), -int(pop[cpts_units].sum()), cid))
    rows.sort(key=lambda r: (-r[0], -r[1], -r[2], r[3]))
    same_ep, contacts, _, cid = rows[0]
    why = (f"{_fr(same_ep)} de ses habitants sont dans un EPCI déjà présent dans la CPTS {cid}"
           if same_ep else f"aucun EPCI commun, CPTS voisine la plus liée : {cid}")
    reason = (
        f"{_fr(total)} habitants, trop peu pour former un territoire ; {why} "
        f"({contacts} limite(s) commune(s) avec elle)"
    )
    return str(cid), reason


# ---------------------------------------------------------------------------------------------
# Outputs: features, files, map
# ---------------------------------------------------------------------------------------------
def result_features(ref: Reference, result: SuggestResult) -> gpd.GeoDataFrame:
    """One polygon per suggested territory, extension and non-rattachable piece (EPSG:4326).

    Columns: ``territoire_id``, ``type``, ``cpts_id``, ``label``, ``departement``,
    ``population``, ``aci_size_class`` (territories only, else 0), ``n_communes``, ``communes``
    and ``epci`` (``;``-joined), ``geometry``.
    """
    cols = [
        "territoire_id",
        "type",
        "cpts_id",
        "label",
        "departement",
        "population",
        "aci_size_class",
        "n_communes",
        "communes",
        "epci",
    ]
    frames = []
    t = result.territories
    if len(t):
        frames.append(
            pd.DataFrame(
                {
                    "territoire_id": t["territoire_id"],
                    "type": TYPE_TERRITORY,
                    "cpts_id": "",
                    "label": t["label"],
                    "departement": t["departement"],
                    "population": t["population"],
                    "aci_size_class": t["aci_size_class"],
                    "n_communes": t["n_communes"],
                    "communes": t["communes"],
                    "epci": t["epci"],
                    "geometry": t.geometry.to_numpy(),
                }
            )
        )
    for df, kind in ((result.extensions, TYPE_EXTENSION), (result.orphans, TYPE_ORPHAN)):
        if not len(df):
            continue
        if kind == TYPE_EXTENSION:
            labels = [
                f"Extension proposée de la CPTS {c}" + (f" ({n})" if n else "")
                for c, n in zip(df["cpts_id"], df["cpts_nom"])
            ]
            cpts = df["cpts_id"]
        else:
            labels = ["Zone blanche non rattachable"] * len(df)
            cpts = ""
        frames.append(
            pd.DataFrame(
                {
                    "territoire_id": df["territoire_id"],
                    "type": kind,
                    "cpts_id": cpts,
                    "label": labels,
                    "departement": df["departement"],
                    "population": df["population"],
                    "aci_size_class": 0,
                    "n_communes": df["n_communes"],
                    "communes": df["communes"],
                    "epci": df["epci"],
                    "geometry": [_dissolve(ref, c) for c in df["communes"]],
                }
            )
        )
    if not frames:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in cols}, geometry=gpd.GeoSeries([], crs=4326), crs=4326
        )
    out = pd.concat(frames, ignore_index=True)
    out["communes"] = [";".join(c) for c in out["communes"]]
    out["epci"] = [";".join(e) for e in out["epci"]]
    out["population"] = out["population"].astype(np.int64)
    out["aci_size_class"] = out["aci_size_class"].astype(np.int64)
    out["n_communes"] = out["n_communes"].astype(np.int64)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)


def _dissolve(ref: Reference, codes) -> object:
    geoms = ref.units.geometry.reindex(list(codes)).to_numpy()
    geoms = geoms[~shapely.is_missing(geoms)]
    return shapely.coverage_union_all(geoms) if len(geoms) else None


def write_result(ref: Reference, result: SuggestResult, out, *, inputs=()) -> None:
    """Write a result: ``.csv`` one row per unit, ``.gpkg`` / ``.geojson`` one polygon per territory.

    Raises
    ------
    InputError
        For another extension, or an output path that is one of the inputs.
    """
    from pathlib import Path

    from ._io import atomic_write

    out = Path(out)
    ext = out.suffix.lower()
    if ext == ".csv":
        table = result.unit_table()
        atomic_write(out, lambda p: table.to_csv(p, index=False, encoding="utf-8"), inputs=inputs)
    elif ext in (".gpkg", ".geojson"):
        feats = result_features(ref, result)
        driver = "GPKG" if ext == ".gpkg" else "GeoJSON"
        # The layer name (GeoJSON: its "name" member), not the temporary file's name.
        kwargs = {"layer": LAYER_NAME}

        def write(p):
            with warnings.catch_warnings():  # the temp file's '.tmp' extension, renamed afterwards
                warnings.filterwarnings("ignore", message="The filename extension should be")
                if len(feats):
                    feats.to_file(p, driver=driver, promote_to_multi=True, **kwargs)  # one layer type
                else:
                    _write_empty(p, driver, feats)

        atomic_write(out, write, inputs=inputs)
    else:
        raise InputError(
            f"{out} : format de sortie inconnu '{out.suffix}' ; utilisez .csv, .gpkg ou .geojson"
        )


def _write_empty(path, driver, feats) -> None:
    """An empty layer (no territory to suggest) with the same columns."""
    import pyogrio

    fields = [c for c in feats.columns if c != "geometry"]
    empty = gpd.GeoDataFrame(
        {c: pd.Series(["x"], dtype=object) for c in fields},
        geometry=[shapely.Point(0, 0).buffer(1e-6)],
        crs=4326,
    )
    pyogrio.write_dataframe(
        empty.iloc[:0],
        path,
        driver=driver,
        layer=LAYER_NAME,
        geometry_type="MultiPolygon",
    )


#: Fill colours of the suggested territories (blues and purples, apart from the greens, yellows
#: and oranges of the CPTS stages and the red of overlaps); neighbours get different ones.
PALETTE = ["#1f78b4", "#6a3d9a", "#a6cee3", "#cab2d6", "#17becf", "#08306b", "#9e9ac8", "#4a6fe3"]
EXTENSION_STYLE = {
    "color": "#b2182b",
    "weight": 2,
    "dashArray": "5,5",
    "fillColor": "#ef8a62",
    "fillOpacity": 0.5,
}
ORPHAN_STYLE = {
    "color": "#4d4d4d",
    "weight": 2,
    "dashArray": "2,4",
    "fillColor": "#bababa",
    "fillOpacity": 0.6,
}


def suggest_map(ref: Reference, result: SuggestResult, *, existing=None, offline: bool = False):
    """A folium map of the suggested territories, extensions and the existing CPTS.

    The coverage map (:func:`cpts_geo.maps.coverage_map`) of the area, with the existing CPTS
    by stage, the white zones, the legend, the panel of figures and the commune search box; the
    suggestions are drawn on top as their own layers (simplified together with the CPTS, so
    their boundaries match). Every text is escaped by the map code.

    Parameters
    ----------
    existing
        The register the suggestion was computed with (``None``: no CPTS drawn).
    offline
        A self-contained page (see :func:`cpts_geo.maps.coverage_map`).

    Returns
    -------
    folium.Map
        Write it with :func:`cpts_geo.maps.save_map`.
    """
    from .maps import TerritoryLayer, coverage_map

    register = _as_register(ref, existing)
    layers = []
    t = result.territories
    if len(t):
        colour = _colours(ref, list(t["communes"]))
        layers.append(
            TerritoryLayer(
                name="Territoires proposés",
                membership=_membership(t),
                properties=pd.DataFrame(
                    {
                        "label": t["label"].to_numpy(),
                        "territoire_id": t["territoire_id"].to_numpy(),
                        "population": [f"{_fr(v)} hab." for v in t["population"]],
                        "taille": [f"taille {k}" for k in t["aci_size_class"]],
                        "communes": [str(n) for n in t["n_communes"]],
                        "epci": [str(n) for n in t["n_epci"]],
                        "_color": [PALETTE[c] for c in colour],
                    },
                    index=t["territoire_id"].to_numpy(),
                ),
                fields={
                    "label": "",
                    "territoire_id": "Identifiant",
                    "population": "Population",
                    "taille": "Taille ACI",
                    "communes": "Communes",
                    "epci": "EPCI",
                },
                style=lambda p: {
                    "color": "#222222",
                    "weight": 1.5,
                    "fillColor": p["_color"],
                    "fillOpacity": 0.55,
                },
                legend=[
                    ("Territoire proposé", {"color": "#222222", "fillColor": PALETTE[0], "fillOpacity": 0.55})
                ],
                class_name="cpts-territoire-propose",
            )
        )
    for df, kind in ((result.extensions, TYPE_EXTENSION), (result.orphans, TYPE_ORPHAN)):
        if not len(df):
            continue
        if kind == TYPE_EXTENSION:
            labels = [
                f"Extension proposée de la CPTS {c}" + (f" ({n})" if n else "")
                for c, n in zip(df["cpts_id"], df["cpts_nom"])
            ]
            name, style, css = "Extensions proposées de CPTS existantes", EXTENSION_STYLE, "cpts-extension"
        else:
            labels = ["Zone blanche non rattachable"] * len(df)
            name, style, css = "Zones blanches non rattachables", ORPHAN_STYLE, "cpts-non-rattachable"
        layers.append(
            TerritoryLayer(
                name=name,
                membership=_membership(df),
                properties=pd.DataFrame(
                    {
                        "label": labels,
                        "territoire_id": df["territoire_id"].to_numpy(),
                        "population": [f"{_fr(v)} hab." for v in df["population"]],
                        "communes": [str(n) for n in df["n_communes"]],
                        "raison": df["reason"].to_numpy(),
                    },
                    index=df["territoire_id"].to_numpy(),
                ),
                fields={
                    "label": "",
                    "territoire_id": "Identifiant",
                    "population": "Population",
                    "communes": "Communes",
                    "raison": "Pourquoi",
                },
                style=style,
                legend=[(labels[0] if kind == TYPE_ORPHAN else "Extension proposée", style)],
                class_name=css,
            )
        )
    deps = result.departements
    scope = {}
    if len(deps) == 1:
        scope["departement"] = deps[0]
    elif len(deps) < len(ref.departements):
        regs = ref.departements.loc[deps, "region"].unique()
        if len(regs) == 1:
            scope["region"] = regs[0]
    area = _area_name(ref, deps).split(" ", 1)[1]  # without its article: "département Cantal (15)"
    n = result.n_territories
    title = (
        f"Zones blanches — {area} : {_fr(n)} territoire{'s' if n > 1 else ''} proposé{'s' if n > 1 else ''}"
    )
    return coverage_map(ref, register, offline=offline, extra_layers=layers, title=title, **scope)


def _as_register(ref: Reference, existing):
    """A :class:`cpts_geo.inputs.Register` for the coverage map (empty without a register)."""
    from .inputs import Register, register_from_frame

    if isinstance(existing, Register):
        return existing
    if existing is None:
        table = pd.DataFrame({"cpts_id": [], "cpts_nom": [], "code_insee": []}, dtype=object)
    else:
        table = existing if isinstance(existing, pd.DataFrame) else existing.table
    return register_from_frame(table, ref)


def _membership(df: pd.DataFrame) -> pd.DataFrame:
    """``group`` (territoire_id), ``code_insee``: one row per unit of each row of ``df``."""
    return pd.DataFrame(
        {
            "group": np.repeat(df["territoire_id"].to_numpy(), [len(c) for c in df["communes"]]),
            "code_insee": [c for codes in df["communes"] for c in codes],
        }
    )


def _colours(ref: Reference, groups: list[list[str]]) -> list[int]:
    """A palette index per group, different for groups that touch (greedy, largest first)."""
    graph = _full_graph(ref, 30.0)
    owner = np.full(graph.shape[0], -1, dtype=np.int64)
    for k, codes in enumerate(groups):
        owner[ref.position.reindex(codes).to_numpy()] = k
    coo = graph.tocoo()
    a, b = owner[coo.row], owner[coo.col]
    keep = (a >= 0) & (b >= 0) & (a != b)
    touching: list[set] = [set() for _ in groups]
    for x, y in zip(a[keep].tolist(), b[keep].tolist()):
        touching[x].add(y)
    colour = [-1] * len(groups)
    for k in sorted(range(len(groups)), key=lambda k: (-len(touching[k]), k)):
        used = {colour[j] for j in touching[k]}
        colour[k] = next((c for c in range(len(PALETTE)) if c not in used), k % len(PALETTE))
    return colour
