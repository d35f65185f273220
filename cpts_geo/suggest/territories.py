"""Partition the white zones (units no CPTS covers) into candidate CPTS territories.

Two modes. ``mode="epci"`` (the default) builds territories an ARS could present: the white
part of an EPCI is kept whole when its population lies between ``min_population`` and
``max_population``, smaller parts are joined with adjacent ones near ``target_population``
(within one département unless asked otherwise), and only parts above the maximum are split,
into the fewest contiguous pieces (:mod:`cpts_geo.suggest.epci_mode`, wired in
:mod:`cpts_geo.suggest._epci_groups`). ``mode="max-count"`` solves the max-p regionalisation problem:
as many territories of at least ``min_population`` inhabitants as possible, each contiguous
(land adjacency plus sea links, as in the ``contiguity`` rule); among partitions with that many
territories it prefers whole EPCIs, then compact ones (:mod:`cpts_geo.suggest.maxp`: randomized
greedy growth, a large-neighbourhood search, boundary moves, and exhaustive search on small
pieces). ``floor(P / T)``, made tighter by the excess of units that alone exceed the threshold,
bounds what any partition can reach. The max-count solver runs in both modes, so that the EPCI
mode reports the max-count figures and that bound for comparison (:mod:`cpts_geo.suggest.quality`).

In both modes, pieces of the white zone too small to form a territory become *extensions* of
the adjacent existing CPTS that absorbs them most coherently, or, when no CPTS touches them,
are reported as *non rattachables* (:mod:`cpts_geo.suggest.assemble`).

Examples
--------
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> result = cg.suggest_territories(ref, within="49")
>>> result.n_territories, result.summary()["quality"]["whole_epci"]
(10, 7)
>>> result.territories.iloc[0]["label"]
"Territoire proposé n°1 — autour d'Angers"
>>> cg.suggest_territories(ref, within="49", mode="max-count").n_territories
28
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from cpts_geo._errors import InputError
from cpts_geo._json import json_plain
from cpts_geo._limits import check_param
from cpts_geo._text import fr_int
from cpts_geo.inputs.read import as_register
from cpts_geo.reference.areas import area_label, area_name, resolve_area
from cpts_geo.reference.geometry import union_of_units
from cpts_geo.reference.units import Reference
from cpts_geo.steering.coverage import DEFAULT_GOAL
from cpts_geo.suggest._epci_groups import classify_groups, epci_groups
from cpts_geo.suggest.assemble import (
    TYPE_EXTENSION,
    TYPE_ORPHAN,
    TYPE_TERRITORY,
    assemble,
    main_dep,
    unit_arrays,
)
from cpts_geo.suggest.maxp import MaxPSolver, max_p_upper_bound
from cpts_geo.suggest.quality import MODE_EPCI, MODE_MAX_COUNT, quality, quality_lines, result_text

__all__ = ["MODES", "SuggestResult", "result_features", "suggest_territories"]

log = logging.getLogger(__name__)

#: The modes of :func:`suggest_territories`.
MODES = (MODE_EPCI, MODE_MAX_COUNT)
COMPONENT_COLUMNS = ["departement", "first_unit", "n_units", "population", "p", "bound", "tight_bound"]
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
        EPCIs touched), ``n_epci``, ``nature`` (``epci``: one whole EPCI; ``union_epci``: whole
        EPCIs; ``epci_decoupe``: holds a piece of an EPCI split because it is above the
        maximum; ``partie_epci``: an EPCI touched has units elsewhere — covered by a CPTS, in
        another département, or, in max-count mode, in another territory), ``epci_decoupes``
        (SIREN of the EPCIs split for size), ``raisons`` (why, French), ``notes`` (EPCIs in
        several parts, French), ``geometry``.
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
        an extension joins, else ``""``), ``departement``, ``population``, ``epci``.
    components
        DataFrame, one row per connected piece of the white zone: ``departement``,
        ``n_units``, ``population``, ``p`` (territories the max-count mode finds), ``bound`` (``floor(population
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
    #: ``"epci"`` or ``"max-count"``, and the sizes of the EPCI mode.
    mode: str = MODE_EPCI
    max_population: int = 175000
    target_population: int = 60000
    #: EPCIs split for size: ``{code: {"nom", "population", "pieces", "reason"}}``.
    split_epci: dict = field(default_factory=dict)
    #: For all of France: the CPTS of the register and the national goal (else 0).
    existing_cpts: int = 0
    national_goal: int = 0

    @property
    def n_territories(self) -> int:
        """Number of suggested territories."""
        return int(len(self.territories))

    def summary(self) -> dict:
        """Plain-dict summary (JSON-ready): counts, populations, bounds."""
        comp = self.components
        return {
            "departements": list(self.departements),
            "mode": self.mode,
            "min_population": int(self.min_population),
            "max_population": int(self.max_population),
            "target_population": int(self.target_population),
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
            "quality": quality(self),
        }

    def to_dict(self) -> dict:
        """JSON-ready dict: the summary, then every territory, extension and orphan piece."""

        def rows(df: pd.DataFrame) -> list[dict]:
            cols = [c for c in df.columns if c != "geometry"]
            out = []
            for rec in df[cols].to_dict("records"):
                out.append({k: json_plain(v) for k, v in rec.items()})
            return out

        return {
            "summary": self.summary(),
            "territories": rows(self.territories),
            "extensions": rows(self.extensions),
            "orphans": rows(self.orphans),
        }

    def to_text(self) -> str:
        """The French summary ``cpts-geo suggest`` prints."""
        return result_text(self)

    def quality_lines(self) -> list[str]:
        """How good the proposal is, in French sentences (the text output and the map panel)."""
        return quality_lines(self)

    def unit_table(self) -> pd.DataFrame:
        """One row per unit: ``territoire_id``, ``code_insee``, ``nom``, ``population``, ``type``,
        ``cpts_id`` (CSV layout)."""
        a = self.assignment.reset_index()
        return a[["territoire_id", "code_insee", "nom", "population", "type", "cpts_id"]]


# ---------------------------------------------------------------------------------------------
# Main entry point
# ---------------------------------------------------------------------------------------------
def suggest_territories(
    ref: Reference,
    *,
    existing=None,
    within=None,
    mode: str = MODE_EPCI,
    min_population: int = 20000,
    max_population: int = 175000,
    target_population: int = 60000,
    sea_link_km: float = 30.0,
    allow_cross_departement: bool = False,
    seed: int = 0,
    effort: int = 1,
    geometry: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> SuggestResult:
    """Partition the units no CPTS covers into candidate territories.

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
    mode
        ``"epci"`` (default): territories built from whole EPCIs (white parts of EPCIs between
        ``min_population`` and ``max_population`` kept whole, smaller ones joined near
        ``target_population``, only those above the maximum split; see
        :mod:`cpts_geo.suggest.epci_mode`). ``"max-count"``: as many territories of at least
        ``min_population`` as possible (max-p). Both report the max-count figures.
    min_population, max_population, target_population
        Territory sizes: the minimum (both modes), the maximum and the size aimed at (EPCI
        mode); ``0 < min_population <= target_population <= max_population``.
    sea_link_km
        Islands closer than this (km) to another land mass are linked to it by sea.
    allow_cross_departement
        Let territories span départements (of the area).
    seed
        Seed of the random restarts; the result is deterministic for a given input and seed.
    effort
        Max-count search budget: 1 (default) is well under a second per département; 2 or more
        multiply the restarts and improvement attempts (10 to 20 times slower, sometimes 1 or 2
        territories more).
    geometry
        Dissolve the territories' boundaries (needed for maps and GeoPackage output).
    progress
        Called as ``progress(done_units, total_units)`` as the white zone is partitioned.

    Returns
    -------
    SuggestResult

    Raises
    ------
    InputError
        Unknown area or mode, sizes out of order, or a minimum larger than the area's population.
    """
    departements = resolve_area(ref, departement=within) if within is not None else resolve_area(ref)
    sea_link_km = check_param("sea_link_km", sea_link_km)
    seed = check_param("seed", seed)
    effort = check_param("effort", effort)
    min_population, max_population, target_population = _check_sizes(
        mode, min_population, max_population, target_population
    )
    _check_area_population(ref, departements, min_population)
    register = as_register(ref, existing)
    zone = _white_zone(ref, register, departements, sea_link_km, allow_cross_departement)
    maxp_progress = progress if mode == MODE_MAX_COUNT else None
    components, groups, small = _solve_max_count(ref, zone, min_population, seed, effort, maxp_progress)
    split: dict = {}
    if mode == MODE_EPCI:
        found = epci_groups(
            ref,
            zone.white_idx,
            zone.sub,
            min_population=min_population,
            max_population=max_population,
            target_population=target_population,
            allow_cross_departement=allow_cross_departement,
            seed=seed,
            progress=progress,
        )
        groups, infos, small, split = found.groups, found.info, found.leftovers, found.split
    else:
        infos = classify_groups(ref, groups)
    parts = assemble(
        ref,
        groups,
        infos,
        small,
        zone.owner,
        zone.cpts_names,
        zone.graph,
        allow_cross=allow_cross_departement,
        sea_link_km=sea_link_km,
        geometry=geometry,
    )
    return _make_result(
        ref,
        parts,
        components,
        zone,
        register,
        departements,
        split,
        mode=mode,
        sizes=(min_population, max_population, target_population),
        seed=seed,
        sea_link_km=sea_link_km,
    )


def _make_result(
    ref, parts, components, zone, register, departements, split, *, mode, sizes, seed, sea_link_km
):
    """The :class:`SuggestResult`: the assembled tables, the parameters, the national figures."""
    national = len(departements) == len(ref.departements)
    return SuggestResult(
        territories=parts.territories,
        extensions=parts.extensions,
        orphans=parts.orphans,
        assignment=parts.assignment,
        components=components,
        min_population=sizes[0],
        seed=int(seed),
        sea_link_km=float(sea_link_km),
        allow_cross_departement=zone.allow_cross,
        departements=list(departements),
        vintage=ref.vintage,
        covered_units=zone.n_covered,
        area=area_label(ref, departements),
        departement_names={d: str(ref.departements.at[d, "nom"]) for d in departements},
        mode=mode,
        max_population=sizes[1],
        target_population=sizes[2],
        split_epci={k: dict(v, nom=_epci_name(ref, k)) for k, v in split.items()},
        existing_cpts=int(len(register.cpts)) if national else 0,
        national_goal=DEFAULT_GOAL if national else 0,
    )


@dataclass
class _WhiteZone:
    """The units of the area no CPTS covers, and their contiguity.

    ``white_idx``: their positions; ``sub``: the contiguity among them (CSR over ``white_idx``,
    land plus sea links, cut at département borders unless crossing is allowed); ``graph``:
    the national contiguity (extensions look at the CPTS next door); ``owner``: the CPTS of
    each unit (``""``: none).
    """

    white_idx: np.ndarray
    sub: sp.csr_matrix
    graph: sp.csr_matrix
    owner: np.ndarray
    cpts_names: dict
    n_covered: int
    allow_cross: bool


def _white_zone(ref: Reference, register, departements, sea_link_km, allow_cross) -> _WhiteZone:
    arr = unit_arrays(ref)
    in_area = np.isin(arr["dep"], departements)
    owner = register.owner  # unit position -> cpts_id ('' if uncovered)
    covered = owner != ""
    graph = ref.graph_with_sea_links(sea_link_km, departements=departements)
    white_idx = np.flatnonzero(in_area & ~covered)
    sub = graph[white_idx][:, white_idx]
    if not allow_cross:
        dep = arr["dep"]
        coo = sub.tocoo()
        keep = dep[white_idx[coo.row]] == dep[white_idx[coo.col]]
        sub = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=sub.shape)
    return _WhiteZone(
        white_idx=white_idx,
        sub=sp.csr_matrix(sub),
        graph=graph,
        owner=owner,
        cpts_names=register.cpts["cpts_nom"].to_dict(),
        n_covered=int((in_area & covered).sum()),
        allow_cross=bool(allow_cross),
    )


def _pieces(zone: _WhiteZone) -> list[np.ndarray]:
    """Connected pieces of the white zone, in a stable order (by their first unit)."""
    white_idx = zone.white_idx
    if not len(white_idx):
        return []
    _, comp = csgraph.connected_components(zone.sub, directed=False)
    order = np.argsort(comp, kind="stable")
    bounds = np.flatnonzero(np.r_[True, comp[order][1:] != comp[order][:-1], True])
    pieces = [white_idx[order[bounds[i] : bounds[i + 1]]] for i in range(len(bounds) - 1)]
    pieces.sort(key=lambda idx: idx[0])
    return pieces


def _solve_max_count(ref, zone, min_population, seed, effort, progress):
    """Max-p on each piece of the white zone: the components table, territories, small pieces.

    Each piece is solved with its own RNG stream, so that a département's result does not
    depend on the rest of the area.
    """
    arr = unit_arrays(ref)
    pop, dep, epci_int = arr["pop"], arr["dep"], arr["epci_int"]
    xy, shared = ref.unit_xy_km, ref.shared_length_km
    pieces = _pieces(zone)
    groups, small, comp_rows = [], [], []
    done = 0
    for piece in pieces:
        w = pop[piece]
        p_pop = int(w.sum())
        bound, tight = max_p_upper_bound(w, min_population)
        p = 0
        if p_pop >= min_population:
            local = zone.sub[np.searchsorted(zone.white_idx, piece)][
                :, np.searchsorted(zone.white_idx, piece)
            ]
            rng = np.random.default_rng([int(seed), int(piece[0])])
            solver = MaxPSolver(local, shared[piece][:, piece], w, epci_int[piece], xy[piece], min_population)
            lab = solver.solve(rng, effort=effort)
            p = int(lab.max()) + 1
            groups += [piece[lab == r] for r in range(p)]
        else:
            small.append(piece)
        comp_rows.append(
            {
                "departement": main_dep(dep[piece], w),
                "first_unit": ref.units.index[piece[0]],
                "n_units": int(len(piece)),
                "population": p_pop,
                "p": p,
                "bound": bound if p_pop >= min_population else 0,
                "tight_bound": tight if p_pop >= min_population else 0,
            }
        )
        done += len(piece)
        if progress is not None:
            progress(done, len(zone.white_idx))
    components = pd.DataFrame(comp_rows, columns=COMPONENT_COLUMNS)
    return components, groups, small


def _check_sizes(mode, min_population, max_population, target_population) -> tuple[int, int, int]:
    """The sizes as ints, or an InputError saying what is expected."""
    if mode not in MODES:
        raise InputError(f"mode '{mode}' inconnu : choisissez {' ou '.join(MODES)}")
    lo = _check_min_population(min_population)
    hi = _check_int(max_population, "max_population")
    target = _check_int(target_population, "target_population")
    if mode == MODE_EPCI and not lo <= target <= hi:
        raise InputError(
            f"tailles incohérentes : il faut population minimale ({fr_int(lo)}) ≤ population cible "
            f"({fr_int(target)}) ≤ population maximale ({fr_int(hi)})"
        )
    return lo, hi, target


def _check_int(value, name: str) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if isinstance(value, float) and value.is_integer():
        ok = True
    if not ok or value <= 0:
        raise InputError(f"{name} {value} : un nombre entier d'habitants strictement positif est attendu")
    return int(value)


def _check_area_population(ref: Reference, departements: list[str], min_population: int) -> None:
    arr = unit_arrays(ref)
    area_pop = int(arr["pop"][np.isin(arr["dep"], departements)].sum())
    if min_population > area_pop:
        raise InputError(
            f"population minimale (min_population) de {fr_int(min_population)} habitants impossible : {area_name(ref, departements)} ne "
            f"compte que {fr_int(area_pop)} habitants (population municipale {ref.vintage['population']}) ; "
            "choisissez un seuil plus bas ou une zone plus grande"
        )


def _epci_name(ref: Reference, code: str) -> str:
    return str(ref.epci["nom"].get(code, code))


def _check_min_population(min_population) -> int:
    """The threshold as an int, or an InputError saying what is expected."""
    try:
        value = check_param("min_population", min_population)
    except InputError:
        value = None
    if value is None or value <= 0:
        raise InputError(
            f"min_population {min_population} : le seuil doit être un nombre entier d'habitants "
            "strictement positif (20000 dans le cahier des charges des Pays de la Loire)"
        )
    return int(value)


# ---------------------------------------------------------------------------------------------
# Outputs: features, files, map
# ---------------------------------------------------------------------------------------------
def result_features(ref: Reference, result: SuggestResult) -> gpd.GeoDataFrame:
    """One polygon per suggested territory, extension and non-rattachable piece (EPSG:4326).

    Columns: ``territoire_id``, ``type``, ``cpts_id``, ``label``, ``departement``,
    ``population``, ``aci_size_class`` (territories only, else 0), ``n_communes``, ``communes``
    and ``epci`` (``;``-joined), ``nature`` (territories: ``epci``, ``union_epci``,
    ``epci_decoupe`` or ``partie_epci``, see :class:`SuggestResult`; else ``""``), ``raison``
    (territories: why an EPCI was split and the notes on EPCIs in several parts; extensions and
    non-rattachable pieces: why they are not territories; French, ``" ; "``-joined),
    ``geometry``.
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
        "nature",
        "raison",
    ]
    frames = []
    t = result.territories
    if len(t):
        frames.append(_territory_features(t))
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
                    "nature": "",
                    "raison": df["reason"],
                    "geometry": [union_of_units(ref, c) or None for c in df["communes"]],
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


def _territory_features(t: gpd.GeoDataFrame) -> pd.DataFrame:
    """The feature rows of the proposed territories (see :func:`result_features`)."""
    return pd.DataFrame(
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
            "nature": t["nature"],
            "raison": [" ; ".join(list(r) + list(n)) for r, n in zip(t["raisons"], t["notes"])],
            "geometry": t.geometry.to_numpy(),
        }
    )
