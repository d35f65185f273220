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

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from ._errors import InputError
from ._maxp import MaxPSolver, max_p_upper_bound
from ._params import check_param
from ._text import fr_int
from .reference import Reference
from .register import as_register
from .territory import aci_size_class

__all__ = [
    "SuggestResult",
    "max_p_upper_bound",
    "resolve_area",
    "result_features",
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
    #: The area, as the text names it ("département Maine-et-Loire (49)"), and the names of
    #: the départements (for the per-département lines).
    area: str = ""
    departement_names: dict = field(default_factory=dict)

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

    def to_text(self) -> str:
        """The French summary ``cpts-geo suggest`` prints."""
        return _result_text(self)

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
    sea_link_km = check_param("sea_link_km", sea_link_km)
    seed = check_param("seed", seed)
    effort = check_param("effort", effort)
    units = ref.units
    arr = _arrays(ref)
    in_area = np.isin(arr["dep"], departements)
    area_pop = int(arr["pop"][in_area].sum())
    if min_population > area_pop:
        raise InputError(
            f"--min-population {fr_int(min_population)} impossible : {area_name(ref, departements)} ne "
            f"compte que {fr_int(area_pop)} habitants (population municipale {ref.vintage['population']}) ; "
            "choisissez un seuil plus bas ou une zone plus grande"
        )

    owner, cpts_names = _unit_owner(ref, existing)  # unit position -> cpts_id ('' if uncovered)
    covered = owner != ""
    white = in_area & ~covered
    n_covered = int((in_area & covered).sum())

    graph = ref.graph_with_sea_links(sea_link_km, departements=departements)
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
    xy = ref.unit_xy_km
    shared = ref.shared_length_km

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
            solver = MaxPSolver(local, lshared, w, epci_int[piece], xy[piece], min_population)
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
    try:
        value = check_param("min_population", min_population)
    except InputError:
        value = None
    if value is None or value <= 0:
        raise InputError(
            f"--min-population {min_population} : le seuil doit être un nombre entier d'habitants "
            "strictement positif (20000 dans le cahier des charges des Pays de la Loire)"
        )
    return int(value)


def area_name(ref: Reference, departements: list[str]) -> str:
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


def _area_label(ref: Reference, departements: list[str]) -> str:
    """The area as the summary names it: "France entière", "département Cantal (15)", "région ..."."""
    if len(departements) == len(ref.departements):
        return "France entière"
    if len(departements) == 1:
        d = departements[0]
        return f"département {ref.departements.at[d, 'nom']} ({d})"
    regs = ref.departements.loc[departements, "region"].unique()
    if len(regs) == 1:
        return f"région {ref.regions.at[regs[0], 'nom']} ({regs[0]})"
    return "départements " + ", ".join(departements)


def _main_dep(deps: np.ndarray, w: np.ndarray) -> str:
    """The département holding most of the population (the first code on a tie)."""
    names, inv = np.unique(deps.astype(str), return_inverse=True)
    if len(names) == 1:
        return str(names[0])
    return str(names[int(np.argmax(np.bincount(inv, weights=w)))])


# ---------------------------------------------------------------------------------------------
# Inputs: register, arrays
# ---------------------------------------------------------------------------------------------
def _unit_owner(ref: Reference, existing) -> tuple[np.ndarray, dict]:
    """For each unit (reference order), the id of the CPTS covering it ('' if none); CPTS names."""
    register = as_register(ref, existing)
    return register.owner, register.cpts["cpts_nom"].to_dict()


def _arrays(ref: Reference) -> dict:
    """The unit columns the solver and the assembly read, as plain arrays (from ``ref.arrays``)."""
    a = ref.arrays
    epci = np.where(a.epci >= 0, a.epci_codes[np.maximum(a.epci, 0)], "").astype(object)
    return {
        "codes": a.codes,
        "pop": a.pop,
        "dep": a.dep_codes[a.dep].astype(object),
        "epci": epci,
        "epci_int": a.epci,
        "nom": a.names,
    }


# ---------------------------------------------------------------------------------------------
# Assembling the result
# ---------------------------------------------------------------------------------------------
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
            assign_rows.append((codes[i], noms[i], tid, TYPE_TERRITORY, "", dep[i], int(pop[i])))

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
            assign_rows.append((codes[i], noms[i], tid, kind, target, dep[i], int(pop[i])))

    assignment = pd.DataFrame(
        assign_rows,
        columns=["code_insee", "nom", "territoire_id", "type", "cpts_id", "departement", "population"],
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
        area=_area_label(ref, departements),
        departement_names={d: str(ref.departements.at[d, "nom"]) for d in departements},
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
        reason = f"{fr_int(total)} habitants, trop peu pour former un territoire, et aucune CPTS voisine"
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
    why = (
        f"{fr_int(same_ep)} de ses habitants sont dans un EPCI déjà présent dans la CPTS {cid}"
        if same_ep
        else f"aucun EPCI commun, CPTS voisine la plus liée : {cid}"
    )
    reason = (
        f"{fr_int(total)} habitants, trop peu pour former un territoire ; {why} "
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
        from ._xlsx import neutralize_frame

        table = neutralize_frame(result.unit_table())
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


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------
def _result_text(result: SuggestResult) -> str:
    s = result.summary()
    deps = result.departements
    area = result.area
    v = s["vintage"]
    lines = [
        f"Territoires proposés pour les zones blanches — {area}",
        f"Seuil : {fr_int(s['min_population'])} habitants ; graine {s['seed']} ; "
        f"COG {v['cog']}, populations légales {v['population']}",
    ]
    if s["units"] == 0:
        lines.append(
            f"Toutes les communes de la zone ({fr_int(s['covered_units'])}) sont déjà couvertes "
            "par une CPTS : aucun territoire à proposer."
        )
        return "\n".join(lines)
    covered = f" ({fr_int(s['covered_units'])} communes déjà couvertes)" if s["covered_units"] else ""
    lines.append(
        f"Zones blanches : {fr_int(s['units'])} communes, {fr_int(s['population'])} habitants{covered}"
    )
    share = (
        f" ({100 * s['territories'] / s['tight_bound']:.0f}\u00a0% de la borne)" if s["tight_bound"] else ""
    )
    lines.append(
        f"Territoires supplémentaires possibles : {fr_int(s['territories'])}"
        f" — borne supérieure {fr_int(s['tight_bound'])}{share}"
    )
    t = result.territories
    if len(deps) > 1:
        by = result.components.groupby("departement")[["p", "tight_bound"]].sum()
        lines.append("")
        lines.append("Par département : territoires proposés (borne supérieure)")
        for d, row in by.iterrows():
            lines.append(
                f"  {d:<4}{result.departement_names.get(d, d):<28}{int(row['p']):>5} "
                f"({int(row['tight_bound'])})"
            )
    if 0 < len(t) <= 60:
        lines.append("")
        width = max(len(label) for label in t["label"]) + 1
        for _, row in t.iterrows():
            lines.append(
                f"  {row['territoire_id']:<9}{row['label']:<{width}} {fr_int(row['population']):>9} hab."
                f"  taille {row['aci_size_class']}  {row['n_communes']} commune(s)"
                f"  {row['n_epci']} EPCI"
            )
    if len(result.extensions):
        lines.append("")
        lines.append(
            f"Extensions de CPTS existantes : {len(result.extensions)} "
            f"({fr_int(s['extension_population'])} habitants)"
        )
        for _, row in result.extensions.iterrows():
            nom = f" ({row['cpts_nom']})" if row["cpts_nom"] else ""
            lines.append(
                f"  {row['territoire_id']:<9}→ CPTS {row['cpts_id']}{nom} : {row['n_communes']} "
                f"commune(s), {fr_int(row['population'])} hab. — {_names(result, row['communes'])}"
            )
    if len(result.orphans):
        lines.append("")
        lines.append(
            f"Zones blanches non rattachables : {len(result.orphans)} "
            f"({fr_int(s['orphan_population'])} habitants)"
        )
        for _, row in result.orphans.iterrows():
            lines.append(f"  {row['territoire_id']:<9}{_names(result, row['communes'])} : {row['reason']}")
    return "\n".join(lines)


def _names(result: SuggestResult, codes: list[str], limit: int = 8) -> str:
    """'Valréas (84138), Visan (84150) …' for the first ``limit`` units."""
    names = result.assignment["nom"]
    shown = ", ".join(f"{names.get(c, c)} ({c})" for c in codes[:limit])
    return shown + (f" … ({len(codes)} communes)" if len(codes) > limit else "")
