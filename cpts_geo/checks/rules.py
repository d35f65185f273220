"""The rules a CPTS territory is checked against (DESIGN.md §2), one function per rule id.

Each rule takes a :class:`~cpts_geo.checks.territory.Territory` and returns a
:class:`~cpts_geo.checks.report.RuleResult` whose ``details`` carry the evidence as plain,
JSON-serialisable types. :func:`check_territory` runs them all on a proposal and
:func:`check_register` on every CPTS of a register, with the register-wide checks.

Graph questions (contiguity, enclaves) are answered on the reference's land adjacency, in CSR
arrays (``ref.arrays``), with numpy (scipy for the enclaves of a scattered territory); the only
geometry work is measuring sea links between the parts of a territory, in the zone's projected
CRS (shapely is imported then, never for a territory of one piece). Everything else works on
integer positions and numpy arrays built once per reference, so a check takes about a
millisecond.

Examples
--------
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> from cpts_geo.checks.rules import check_territory
>>> report = check_territory(ref, ["56009", "56114", "56152", "56241", "56186"])
>>> report.rule("contiguity").status
'warn'
>>> report.rule("contiguity").details["sea_links"][0]["distance_km"]
12.483
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

import numpy as np
import pandas as pd

from cpts_geo import _graph
from cpts_geo._errors import InputError
from cpts_geo._progress import track
from cpts_geo._text import LIST_MAX, fr_decimal, fr_int, fr_km, fr_plural, fr_share, listing, safe, sentence
from cpts_geo.checks._rule_rows import (
    _component_rows,
    _declared_shares,
    _declared_text,
    _overlap_rows,
    _unit_list,
)
from cpts_geo.checks._rules_graph import (
    _box_gap_km,
    _enclosed_groups,
    _joining_links,
    _part_distance,
    _water_candidates,
)
from cpts_geo.checks.report import LazyRows, RegisterReport, Report, RuleResult
from cpts_geo.checks.territory import ACI_SIZE_BOUNDS, Territory, aci_size_class, size_class_text
from cpts_geo.checks.zones import territory_zones
from cpts_geo.inputs.read import as_register
from cpts_geo.inputs.zones import as_zone_layers
from cpts_geo.reference.units import Reference

__all__ = [
    "RULES",
    "RULE_IDS",
    "admin_boundaries",
    "as_territory",
    "check_register",
    "check_territory",
    "contiguity",
    "enclaves",
    "epci_alignment",
    "overlap",
    "population",
]

log = logging.getLogger(__name__)

#: The rule ids, in the order of DESIGN.md §2 and of every report.
RULE_IDS = ("population", "contiguity", "enclaves", "epci_alignment", "admin_boundaries", "overlap")


def _components(ref: Reference, positions: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of the land graph restricted to ``positions``."""
    return _graph.components(ref.arrays, positions)


# ---------------------------------------------------------------------------------------------
# population
# ---------------------------------------------------------------------------------------------
def population(
    territory: Territory, *, min_population: int | None = 20_000, shared: np.ndarray | None = None
) -> RuleResult:
    """Population municipale of the territory against a minimum, and its ACI size class.

    Fails below ``min_population`` (``None`` or 0: no minimum). ``details``: ``population``,
    ``min_population``, ``aci_size_class``, ``aci_size_bounds``, ``vintage`` (population year),
    and ``population_min``, ``population_max``, ``aci_size_class_min``, ``aci_size_class_max``,
    ``population_known``, ``shared_units`` ([{code, nom, population}]).

    ``shared``: positions of the territory's units declared shared with other CPTS
    (``commune_partagee``) without a finer mesh. The part of their inhabitants that belongs to
    this territory is not known: the population is then a range, from the territory without
    them (``population_min``) to the territory with them whole (``population_max``, which is
    also ``population``, as before the range existed), and so is the size class. The rule
    passes when even the lower bound reaches the minimum, fails when even the upper bound does
    not, and warns in between.
    """
    a = territory.ref.arrays
    P = territory.positions
    high = territory.population
    sh = np.intersect1d(np.asarray([] if shared is None else shared, dtype=np.int64), P)
    low = high - int(a.pop[sh].sum())
    size_lo, size_hi = aci_size_class(low), aci_size_class(high)
    year = territory.ref.vintage["population"]
    details = {
        "population": high,
        "min_population": int(min_population) if min_population else None,
        "aci_size_class": size_hi,
        "aci_size_bounds": list(ACI_SIZE_BOUNDS),
        "vintage": year,
        "population_min": low,
        "population_max": high,
        "aci_size_class_min": size_lo,
        "aci_size_class_max": size_hi,
        "population_known": not len(sh),
        "shared_units": [dict(u) for u in _unit_list(a, sh, population=True)],
    }
    size = size_class_text(size_lo, size_hi)
    if not len(sh):
        head = f"{fr_int(high)} habitants (population municipale {year}), taille ACI {size}"
    else:
        named = listing(
            [f"{u['nom']} ({u['code']}, {fr_int(u['population'])} hab.)" for u in details["shared_units"]]
        )
        head = (
            f"Population inconnue : entre {fr_int(low)} et {fr_int(high)} habitants (population municipale "
            f"{year}), sans puis avec {named}, "
            + ("déclarée partagée" if len(sh) == 1 else "déclarées partagées")
            + f" avec d'autres CPTS sans découpage plus fin (IRIS, secteurs) ; taille ACI {size}"
        )
    if not min_population:
        return RuleResult("population", "pass", f"{head} ; pas de population minimale demandée.", details)
    if high < min_population:
        return RuleResult(
            "population",
            "fail",
            f"{head} : sous le minimum de {fr_int(min_population)} habitants "
            + (
                f"(il manque {fr_int(min_population - high)} habitants)."
                if not len(sh)
                else f"même avec les communes partagées entières (il manque {fr_int(min_population - high)} "
                "habitants)."
            ),
            details,
        )
    if low < min_population:
        return RuleResult(
            "population",
            "warn",
            f"{head} : le minimum de {fr_int(min_population)} habitants n'est atteint qu'avec au moins "
            f"{fr_int(min_population - low)} habitants des communes partagées.",
            details,
        )
    return RuleResult(
        "population",
        "pass",
        f"{head} ; minimum de {fr_int(min_population)} atteint"
        + (" même sans les communes partagées." if len(sh) else "."),
        details,
    )


def contiguity(territory: Territory, *, sea_link_km: float = 30.0) -> RuleResult:
    """Is the territory one piece? Land gaps fail; parts joined by sea or across water within
    ``sea_link_km`` warn.

    The parts are the connected components of the land graph restricted to the territory. Parts
    on different land masses (an island and the mainland, two islands) are joined by a sea link
    when a unit of one is within ``sea_link_km`` of a unit of the other, measured in the zone's
    projected CRS. Parts on the same land mass are joined by a water crossing when two of their
    units face each other across water (an estuary, a rade, a bay: Brest and
    Plougastel-Daoulas across the Elorn): the segment between them crosses no land and is at
    most ``sea_link_km`` long (:meth:`~cpts_geo.reference.Reference.water_crossings`,
    precomputed by the build). The shortest links join the parts (a minimum spanning forest);
    if every part is joined, warn, else fail: parts left apart on one land mass are separated
    by land (units outside the territory).

    ``details``: ``components`` (``id``, ``name`` (its most populous unit), ``n_communes``,
    ``population``, ``island`` (not on its département's largest land mass), ``communes`` [{code, nom}]),
    largest first; ``sea_links`` and ``water_crossings`` (each ``a``, ``a_nom``, ``b``,
    ``b_nom``, ``distance_km``, ``parts``), the shortest links that join the parts, by sea
    between land masses and across water within one; ``land_gaps`` (lists of the part ids of
    one land mass that no link joins); ``sea_link_km``.
    """
    ref = territory.ref
    a = ref.arrays
    P = territory.positions
    k, labels = _components(ref, P)
    details: dict = {
        "n_components": k,
        "components": [],
        "sea_links": [],
        "water_crossings": [],
        "land_gaps": [],
        "sea_link_km": float(sea_link_km),
    }
    if k <= 1:
        msg = f"Territoire d'un seul tenant ({fr_plural(len(P), 'commune')})."
        return RuleResult("contiguity", "pass", msg, details)

    groups = _graph.groups(labels, k)
    pops = np.array([a.pop[P[g]].sum() for g in groups])
    firsts = np.array([P[g[0]] for g in groups])
    order = np.lexsort((firsts, -pops))  # largest population first, then smallest code
    groups = [groups[i] for i in order]
    lands = [int(a.land[P[g[0]]]) for g in groups]
    comps = _component_rows(ref, P, groups, lands)
    details["components"] = comps

    # Sea links between parts on different land masses close enough by sea.
    zones = [int(a.epsg[P[g[0]]]) for g in groups]
    candidates = []
    boxes: dict[int, np.ndarray | None] = {}
    for i in range(k):
        for j in range(i + 1, k):
            if lands[i] == lands[j] or zones[i] != zones[j]:
                continue
            if _box_gap_km(ref, P, groups, boxes, i, j) > sea_link_km:
                continue  # a lower bound of the distance: the pair cannot be linked (bounded work)
            found = _part_distance(ref, P[groups[i]], P[groups[j]])
            if found is not None and found[0] <= sea_link_km:
                candidates.append((round(found[0], 3), i, j, found[1], found[2]))
    # Water crossings between parts of one land mass (precomputed: no geometry here), then sea
    # links between land masses (each land mass one node: a sea link never bridges a land gap).
    part_of = np.full(a.n, -1, dtype=np.int64)
    for cid, g in enumerate(groups):
        part_of[P[g]] = cid
    by_land: dict[int, list[int]] = {}
    for cid, land in enumerate(lands):
        by_land.setdefault(land, []).append(cid)
    water_kept, across = _joining_links(k, [], _water_candidates(ref, P, part_of, sea_link_km))
    gaps = [[c + 1 for c in ids] for ids in by_land.values() if len({int(across[c]) for c in ids}) > 1]
    sea_kept, joined = _joining_links(k, list(by_land.values()), candidates)

    def rows(links: list[tuple]) -> list[dict]:
        return [
            {
                "a": str(a.codes[x]),
                "a_nom": str(a.names[x]),
                "b": str(a.codes[y]),
                "b_nom": str(a.names[y]),
                "distance_km": dist,
                "parts": sorted((i + 1, j + 1)),
            }
            for dist, i, j, x, y in links
        ]

    details["sea_links"] = rows(sea_kept)
    details["water_crossings"] = rows(water_kept)
    details["land_gaps"] = gaps
    main_part = joined[0]

    def named(parts: list[int]) -> str:
        """The first parts (0-based) named, the others counted."""
        shown = [comps[i] for i in parts[:4]]
        return listing(
            [
                f"{c['name']} ({'île, ' if c['island'] else ''}{fr_plural(c['n_communes'], 'commune')})"
                for c in shown
            ],
            4,
            total=len(parts),
        )

    sentences = []
    if gaps:
        sentences.append(
            f"{named([cid - 1 for ids in gaps for cid in ids])} sont séparées par des communes hors du territoire"
        )
    sea, crossings = details["sea_links"], details["water_crossings"]
    if sea:
        sentences.append(
            f"reliées par la mer (liaisons de {fr_km(sea_link_km)}\u00a0km au plus) : "
            + ", ".join(f"{lk['a_nom']} – {lk['b_nom']} ({fr_km(lk['distance_km'])}\u00a0km)" for lk in sea)
        )
    if crossings:
        sentences.append(
            f"reliées par l'eau ({fr_km(sea_link_km)}\u00a0km au plus, sans terre hors du territoire) : "
            + ", ".join(
                f"traversée par l'eau {lk['a_nom']} – {lk['b_nom']} ({fr_km(lk['distance_km'])}\u00a0km)"
                for lk in crossings
            )
        )
    far = [i for i in range(k) if joined[i] != main_part]
    if far:
        sentences.append(
            f"{named(far)} à plus de {fr_km(sea_link_km)}\u00a0km par la mer du reste du territoire"
        )
    status = "fail" if gaps or (joined != main_part).any() else "warn"
    if status == "fail":
        msg = f"Territoire discontinu en {fr_int(k)} parties : " + " ; ".join(sentences) + "."
    else:
        msg = (
            f"Territoire en {fr_int(k)} parties {' ; '.join(sentences)} ; parties : {named(list(range(k)))}."
        )
    return RuleResult("contiguity", status, msg, details)


def enclaves(territory: Territory, *, sea_link_km: float = 30.0) -> RuleResult:
    """Groups of units outside the territory all of whose land neighbours are in it (warn).

    Such a group could only ever join this CPTS. A group must touch the territory; the rest of a
    land mass (its largest outside piece: the rest of the mainland, or of an island the territory
    covers in part) is not an enclave, nor is an island the territory does not touch. Units
    that face each other across water (the water crossings of at most ``sea_link_km`` the
    ``contiguity`` rule uses) are neighbours: a peninsula cut off by the territory on land but
    facing other outside units across a rade could join them, and is no enclave.

    ``details``: ``groups``, each with ``communes`` [{code, nom, population}], ``n_communes``,
    ``population``; sorted by first code.
    """
    a = territory.ref.arrays_with_water(sea_link_km)
    P = territory.positions
    inside = np.zeros(a.n, dtype=bool)
    inside[P] = True
    found = _enclosed_groups(a, inside, P)
    groups: list[dict] = [
        {
            "communes": _unit_list(a, g, population=True),
            "n_communes": len(g),
            "population": int(a.pop[g].sum()),
        }
        for g in found
    ]
    details = {"groups": groups}
    if not groups:
        return RuleResult(
            "enclaves", "pass", "Aucune commune extérieure enclavée par le territoire.", details
        )
    described = []
    for g in groups:
        names = listing([f"{u['nom']} ({u['code']})" for u in g["communes"]])
        size = "" if g["n_communes"] == 1 else f"{fr_plural(g['n_communes'], 'commune')}, "
        described.append(f"{names} ({size}{fr_int(g['population'])} hab.)")
    if len(groups) == 1 and groups[0]["n_communes"] == 1:
        u = groups[0]["communes"][0]
        msg = (
            f"{u['nom']} ({u['code']}, {fr_int(u['population'])} hab.) est enclavée par le territoire : "
            "tous ses voisins terrestres en font partie."
        )
    else:
        what = (
            f"{fr_int(len(groups))} groupes de communes sont enclavés"
            if len(groups) > 1
            else "1 groupe de communes est enclavé"
        )
        msg = (
            f"{what} par le territoire (tous leurs voisins terrestres en font partie) : "
            f"{' ; '.join(described)}."
        )
    return RuleResult("enclaves", "warn", msg, details)


# ---------------------------------------------------------------------------------------------
# epci_alignment
# ---------------------------------------------------------------------------------------------
def epci_alignment(territory: Territory) -> RuleResult:
    """Every EPCI the territory touches, with its share of communes and population inside.

    Whole EPCIs pass, split EPCIs warn (informs, never blocks); communes in no EPCI are named.
    Totals are counted in units (a city's arrondissements count one by one) with the units'
    populations (one vintage).

    ``details``: ``epcis`` (``code``, ``nom``, ``n_communes_in``, ``n_communes``,
    ``population_in``, ``population``, ``share_communes``, ``share_population``, ``whole``,
    ``communes`` (codes inside)), largest population inside first; ``n_split``;
    ``without_epci`` [{code, nom}].
    """
    a = territory.ref.arrays
    P = territory.positions
    e = a.epci[P]
    has = e >= 0
    ids, inv = np.unique(e[has], return_inverse=True)
    pe = P[has]
    pop_in = np.bincount(inv, weights=a.pop[pe], minlength=len(ids)).astype(np.int64)
    n_in = np.bincount(inv, minlength=len(ids))
    by_epci = pe[np.argsort(inv, kind="stable")]  # the units of each EPCI: one slice each
    starts = np.cumsum(n_in) - n_in
    order = np.lexsort((a.epci_codes[ids].astype(str), -pop_in))  # largest population inside first
    whole = n_in[order] == a.epci_n[ids[order]]

    def build(k: int) -> dict:
        i = order[k]
        eid = ids[i]
        n_tot, p_tot = int(a.epci_n[eid]), int(a.epci_pop[eid])
        return {
            "code": str(a.epci_codes[eid]),
            "nom": str(a.epci_names[eid]),
            "n_communes_in": int(n_in[i]),
            "n_communes": n_tot,
            "population_in": int(pop_in[i]),
            "population": p_tot,
            "share_communes": round(int(n_in[i]) / n_tot, 4),
            "share_population": round(int(pop_in[i]) / p_tot, 4) if p_tot else 0.0,
            "whole": bool(whole[k]),
            "communes": [str(c) for c in a.codes[by_epci[starts[i] : starts[i] + n_in[i]]]],
        }

    rows = LazyRows(len(order), build)
    without = _unit_list(a, P[~has])
    split = np.flatnonzero(~whole)
    details = {"epcis": rows, "n_split": len(split), "without_epci": without}
    tail = ""
    if without:
        tail = (
            f" Commune{'s' if len(without) > 1 else ''} sans EPCI : "
            + listing([f"{u['nom']} ({u['code']})" for u in without], 5)
            + "."
        )
    if not len(split):
        if len(rows):
            first = [str(a.epci_names[ids[i]]) for i in order[:LIST_MAX]]
            msg = (
                f"Territoire fait {'du seul EPCI entier' if len(rows) == 1 else f'de {fr_int(len(rows))} EPCI entiers'} : "
                + listing(first, total=len(rows))
                + "."
                + tail
            )
        else:
            msg = "Aucune commune du territoire n'appartient à un EPCI." + tail
        return RuleResult("epci_alignment", "pass", msg, details)
    described = [
        f"{r['nom']} ({fr_int(r['n_communes_in'])}/{fr_plural(r['n_communes'], 'commune')}, "
        f"{fr_share(r['share_population'])} de la population)"
        for r in (rows[k] for k in split[:LIST_MAX])
    ]
    msg = (
        f"{fr_int(len(split))} EPCI coupé{'s' if len(split) > 1 else ''} sur {fr_int(len(rows))} touché"
        f"{'s' if len(rows) > 1 else ''} : {listing(described, total=len(split))}." + tail
    )
    return RuleResult("epci_alignment", "warn", msg, details)


# ---------------------------------------------------------------------------------------------
# admin_boundaries
# ---------------------------------------------------------------------------------------------
def admin_boundaries(territory: Territory) -> RuleResult:
    """Départements and régions spanned, with the population in each; more than one warns.

    Several régions means two ARS must agree on the territory.

    ``details``: ``departements`` (``code``, ``nom``, ``region``, ``n_communes``, ``population``)
    and ``regions`` (``code``, ``nom``, ``n_communes``, ``population``), largest population first.
    """
    a = territory.ref.arrays
    P = territory.positions
    pop = a.pop[P]

    def table(ids_all: np.ndarray, codes: np.ndarray, names: np.ndarray, extra=None) -> LazyRows:
        ids, inv, counts = np.unique(ids_all, return_inverse=True, return_counts=True)
        pops = np.bincount(inv, weights=pop, minlength=len(ids)).astype(np.int64)
        order = np.lexsort((codes[ids].astype(str), -pops))  # largest population first

        def build(k: int) -> dict:
            i = order[k]
            row: dict[str, Any] = {"code": str(codes[ids[i]]), "nom": str(names[ids[i]])}
            if extra is not None:
                row["region"] = str(extra[ids[i]])
            row.update({"n_communes": int(counts[i]), "population": int(pops[i])})
            return row

        return LazyRows(len(order), build)

    deps = table(a.dep[P], a.dep_codes, a.dep_names, a.reg_codes[a.dep_region])
    regs = table(a.reg[P], a.reg_codes, a.reg_names)
    details = {"departements": deps, "regions": regs}

    def named(rows) -> str:
        first = [f"{r['nom']} ({r['code']}, {fr_int(r['population'])} hab.)" for r in rows[:5]]
        return listing(first, 5, total=len(rows))

    if len(regs) > 1:
        msg = (
            f"Territoire sur {fr_int(len(regs))} régions : {named(regs)}, et "
            f"{fr_int(len(deps))} départements : {named(deps)} ; les ARS de ces "
            "régions doivent valider le territoire ensemble."
        )
        return RuleResult("admin_boundaries", "warn", msg, details)
    reg = f"région {regs[0]['nom']}"
    if len(deps) > 1:
        msg = f"Territoire sur {fr_int(len(deps))} départements de la {reg} : {named(deps)}."
        return RuleResult("admin_boundaries", "warn", msg, details)
    msg = f"Territoire dans un seul département, {deps[0]['nom']} ({deps[0]['code']}), {reg}."
    return RuleResult("admin_boundaries", "pass", msg, details)


# ---------------------------------------------------------------------------------------------
# overlap
# ---------------------------------------------------------------------------------------------
def overlap(territory: Territory, existing, *, cpts_id: str | None = None) -> RuleResult:
    """Units shared with the CPTS of an existing register (fail), with the population concerned.

    "Un même territoire ne peut pas abriter plusieurs CPTS." A register CPTS whose ``cpts_id``
    equals ``cpts_id`` (the proposal itself, re-checked) is not compared with itself.

    ``details``: ``cpts`` (``cpts_id``, ``cpts_nom``, ``n_communes``, ``population``, ``communes``
    [{code, nom, population}]), most shared population first; ``n_communes`` and ``population``
    (distinct shared units); ``n_cpts_compared``.
    """
    a = territory.ref.arrays
    register = as_register(territory.ref, existing)
    reg = register.index
    P = territory.positions
    inside = np.zeros(a.n, dtype=bool)
    inside[P] = True
    hit = inside[reg.row_pos]
    self_idx = np.flatnonzero(reg.ids == str(cpts_id)) if cpts_id is not None else np.empty(0, dtype=np.int64)
    declared: list[dict] = []
    if len(self_idx):
        hit &= ~np.isin(reg.row_cpts, self_idx)
        # A CPTS of the register and a commune it declares shared: not an overlap.
        is_declared = hit & register.shared_mask[reg.row_pos]
        declared = _declared_shares(a, reg, is_declared)
        hit &= ~is_declared
    compared = reg.n_cpts - len(self_idx)
    rows: Any = _overlap_rows(a, reg, reg.row_cpts[hit], reg.row_pos[hit])
    shared = np.unique(reg.row_pos[hit])
    details = {
        "cpts": rows,
        "n_communes": len(shared),
        "population": int(a.pop[shared].sum()),
        "n_cpts_compared": int(compared),
        "shared": declared,
    }
    areas = _shared_areas(territory, existing, skip=set(reg.ids[self_idx].tolist()))
    if areas is not None:
        rows = details["cpts"] = list(rows)  # plain dicts: a polygon register adds areas to them
        by_id = {r["cpts_id"]: r for r in rows}
        for cid, area in areas.items():
            if cid in by_id:
                by_id[cid]["area_km2"] = area
            else:  # the polygon only cuts the territory's communes: a drawing to look at
                rows.append(
                    {
                        "cpts_id": cid,
                        "cpts_nom": str(reg.names[reg.ids == cid][0]) if (reg.ids == cid).any() else cid,
                        "n_communes": 0,
                        "population": 0,
                        "communes": [],
                        "area_km2": area,
                    }
                )
        for r in rows:
            r.setdefault("area_km2", 0.0)
        details["area_km2"] = round(sum(areas.values()), 2)
    cut_only = [r for r in rows if r["n_communes"] == 0] if areas is not None else []
    if cut_only and len(cut_only) == len(rows):
        described = [
            f"{r['cpts_nom']} ({r['cpts_id']}) : {fr_decimal(r['area_km2'], 2)} km²" for r in cut_only
        ]
        msg = sentence(
            f"Aucune commune partagée, mais le contour de {fr_plural(len(cut_only), 'CPTS', 'CPTS')} du "
            f"registre empiète sur des communes du territoire : {listing(described)} ; à vérifier "
            "avec le porteur de la CPTS voisine"
        )
        return RuleResult("overlap", "warn", msg, details)
    if not rows and declared:
        return RuleResult("overlap", "warn", sentence(_declared_text(declared)), details)
    if not rows:
        msg = (
            f"Aucune commune partagée avec les {fr_plural(compared, 'CPTS', 'CPTS')} du registre."
            if compared
            else "Registre sans autre CPTS : aucun chevauchement possible."
        )
        return RuleResult("overlap", "pass", msg, details)
    sharing = [r for r in rows if r["n_communes"]] if areas is not None else rows
    described = [
        f"{r['cpts_nom']} ({r['cpts_id']}) : {fr_plural(r['n_communes'], 'commune')}, "
        f"{fr_int(r['population'])} hab."
        + (f", {fr_decimal(r['area_km2'], 2)} km²" if "area_km2" in r else "")
        for r in sharing[:LIST_MAX]
    ]
    msg = sentence(
        f"{fr_plural(len(shared), 'commune')} ({fr_int(details['population'])} hab.) "
        f"déjà dans {fr_plural(len(sharing), 'CPTS', 'CPTS')} du registre : "
        f"{listing(described, total=len(sharing))}" + (f" ; {_declared_text(declared)}" if declared else "")
    )
    return RuleResult("overlap", "fail", msg, details)


def _shared_areas(territory: Territory, existing, *, skip: set) -> dict[str, float] | None:
    """Area (km², zone's projected CRS) the territory shares with each CPTS polygon of a polygon
    register (``existing.geometries``); ``None`` for a register of communes.

    Only the parts of communes a polygon covers by more than
    :data:`cpts_geo.inputs.read.CUT_BOUNDS` ``[0]`` (5 %) count: below that, two drawings of the same
    boundary differ, they do not overlap.
    """
    from cpts_geo.inputs.read import CUT_BOUNDS

    polys = getattr(existing, "geometries", None)
    if polys is None or not len(polys):
        return None
    import shapely

    polys = polys[~polys.index.astype(str).isin(skip)]
    units = territory.units
    units = units[~shapely.is_missing(units.geometry.to_numpy())]
    if not len(polys) or not len(units):
        return {}
    ui, pi = polys.sindex.query(units.geometry.to_numpy(), predicate="intersects")
    if not len(ui):
        return {}
    epsg = int(units["epsg"].iloc[0])
    u = units.geometry.to_crs(epsg).to_numpy()[ui]
    g = polys.geometry.to_crs(epsg).to_numpy()[pi]
    inter = shapely.area(shapely.intersection(u, g))
    keep = inter > CUT_BOUNDS[0] * shapely.area(u)
    areas = pd.Series(inter[keep] / 1e6).groupby(polys.index.to_numpy()[pi][keep].astype(str)).sum()
    return {c: round(float(x), 2) for c, x in areas.items()}


#: The rule functions, by id.
RULES = {
    "population": population,
    "contiguity": contiguity,
    "enclaves": enclaves,
    "epci_alignment": epci_alignment,
    "admin_boundaries": admin_boundaries,
    "overlap": overlap,
}


# ---------------------------------------------------------------------------------------------
# check_territory, check_register
# ---------------------------------------------------------------------------------------------
def _clean_warning(w: dict) -> dict:
    """An input warning as the JSON contract has it: ``line``, ``value``, ``message``."""
    line = w.get("line")
    return {
        "line": None if line is None or line != line else int(line),
        "value": "" if w.get("value") is None else str(w.get("value")),
        "message": str(w.get("message", "")),
    }


def _validate_options(min_population, sea_link_km) -> None:
    """The options in their ranges (:data:`cpts_geo._limits.LIMITS`): every problem at once."""
    from cpts_geo._limits import check_param

    problems = []
    for name, value, allow_none in (
        ("min_population", min_population, True),
        ("sea_link_km", sea_link_km, False),
    ):
        try:
            check_param(name, value, allow_none=allow_none)
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError(" ; ".join(problems), [{"message": p} for p in problems])


def _check_cpts_id(cpts_id, existing) -> None:
    """A ``cpts_id`` names a CPTS of the register the territory is compared with (a perimeter
    change of that CPTS): refused without a register, or when the register has no such CPTS."""
    if cpts_id is None:
        return
    if existing is None:
        raise InputError(f"cpts_id '{safe(str(cpts_id))}' : sans objet sans registre des CPTS existantes")
    ids = [str(c) for c in existing.cpts.index]
    if str(cpts_id) in ids:
        return
    close = difflib.get_close_matches(str(cpts_id), ids, n=3, cutoff=0.6)
    hint = (
        f" ; vouliez-vous dire {', '.join(close)} ?"
        if close
        else f" ; le registre en compte {fr_int(len(ids))}"
    )
    raise InputError(f"cpts_id '{safe(str(cpts_id))}' inconnu du registre{hint}")


def _as_territory(ref: Reference, what, name) -> tuple[Territory, list[dict], list[dict]]:
    """A Territory from a Territory, a Proposal (``codes``, ``name``, ``warnings``) or values.

    Returns the territory, the proposal's warnings and the warnings of resolving the values.
    """
    if isinstance(what, Territory):
        name = name if name is not None else what.name
        return Territory._from_positions(ref, what.positions, name), [], []
    given: list[dict] = []
    if hasattr(what, "codes") and not isinstance(what, (str, bytes)):
        given = list(getattr(what, "warnings", None) or [])
        reading = list(getattr(what, "reading", None) or [])
        if len(reading) == len(given):  # the same corrections, with what each retained
            given = reading
        values = list(what.codes)
        name = name if name is not None else getattr(what, "name", None)
    else:
        values = [what] if isinstance(what, str) else list(what)
    resolved: list[dict] = []
    pos = ref.arrays.pos
    if len(set(values)) != len(values) or not all(isinstance(v, str) and v in pos for v in values):
        res = ref.resolve(values)
        values, resolved = res.codes, res.warnings
    if not values:
        raise InputError(
            "le territoire ne contient aucune commune ; donnez au moins un code commune",
            [{"message": "territoire vide"}],
        )
    return Territory(ref, values, name=name), given, resolved


def as_territory(ref: Reference, what, *, name: str | None = None) -> Territory:
    """A :class:`Territory` from what :func:`check_territory` accepts: a Territory, a Proposal,
    unit codes, or values as users type them (resolved with :meth:`Reference.resolve`).

    Raises
    ------
    InputError
        For values that cannot be resolved, or an empty territory.
    """
    return _as_territory(ref, what, name)[0]


def _report(
    territory: Territory,
    *,
    existing,
    min_population,
    sea_link_km,
    input_warnings,
    cpts_id,
    shared=None,
    zone_layers=None,
) -> Report:
    ref = territory.ref
    a = ref.arrays
    rules = [
        population(territory, min_population=min_population, shared=shared),
        contiguity(territory, sea_link_km=sea_link_km),
        enclaves(territory, sea_link_km=sea_link_km),
        epci_alignment(territory),
        admin_boundaries(territory),
    ]
    if existing is not None:
        rules.append(overlap(territory, existing, cpts_id=cpts_id))
    P = territory.positions
    pop = int(a.pop[P].sum())
    known = rules[0].details
    info = {
        "name": territory.name,
        "communes": list(territory.codes),
        "n_communes": len(P),
        "population": pop,
        "aci_size_class": aci_size_class(pop),
        "vintage": ref.vintage,
        "population_min": known["population_min"],
        "population_max": known["population_max"],
        "aci_size_class_min": known["aci_size_class_min"],
        "aci_size_class_max": known["aci_size_class_max"],
        "population_known": known["population_known"],
    }
    full = a.unit_records[2]  # shared, read-only dicts
    units = [full[p] for p in P.tolist()]
    return Report(
        territory=info,
        rules=rules,
        input_warnings=[_clean_warning(w) for w in input_warnings],
        cpts_id=None if cpts_id is None else str(cpts_id),
        units=units,
        zones=None if zone_layers is None else territory_zones(ref, territory.codes, zone_layers),
        zone_layers=list(zone_layers or []),
        reading=[
            {**_clean_warning(w), **{k: w[k] for k in ("retained", "population", "part") if k in w}}
            for w in input_warnings
        ],
    )


def check_territory(
    ref: Reference,
    codes_or_proposal,
    *,
    name: str | None = None,
    existing=None,
    min_population: int | None = 20_000,
    sea_link_km: float = 30.0,
    input_warnings: list[dict] | None = None,
    cpts_id: str | None = None,
    zones=None,
) -> Report:
    """Check a proposed territory against every rule of DESIGN.md §2.

    Parameters
    ----------
    ref
        The reference.
    codes_or_proposal
        A :class:`cpts_geo.inputs.Proposal`, a :class:`~cpts_geo.checks.territory.Territory`, or what
        users type: unit codes, commune codes (a whole city means its arrondissements), old
        codes, names (resolved with :meth:`Reference.resolve`; corrections become input warnings).
    name
        The territory's name (default: the proposal's).
    existing
        A register of existing CPTS (:class:`cpts_geo.inputs.Register`, or any object with a
        ``table`` of ``cpts_id``, ``cpts_nom``, ``code_insee``): adds the ``overlap`` rule.
    min_population
        Minimum population (``None`` or 0: none).
    sea_link_km
        Parts on different land masses within this distance (km) are joined by sea.
    input_warnings
        Warnings from reading the input (default: the proposal's, plus those of resolving).
    cpts_id
        The proposal's CPTS id: the register entry with this id is not compared with it.
    zones
        Zone layers (:class:`~cpts_geo.inputs.zones.ZoneLayer`, paths, or a list of them): the
        report's ``zones`` lists, for each layer and category present, the units and population.

    Returns
    -------
    Report

    Raises
    ------
    UnknownCommuneError, AmbiguousNameError
        If a value cannot be resolved.
    InputError
        If the territory is empty or an option is invalid.

    Examples
    --------
    >>> import cpts_geo as cg
    >>> ref = cg.load_reference()
    >>> check_territory(ref, ["69385", "69386"]).rule("contiguity").status
    'fail'
    """
    _validate_options(min_population, sea_link_km)
    territory, given, resolved = _as_territory(ref, codes_or_proposal, name)
    warnings = (given if input_warnings is None else list(input_warnings)) + resolved
    if existing is not None:
        existing = as_register(ref, existing)
    _check_cpts_id(cpts_id, existing)
    shared = None
    if existing is not None and cpts_id is not None:
        # The CPTS re-checked keeps the shares its register declares for it.
        own = existing.index.row_pos[existing.index.ids[existing.index.row_cpts] == str(cpts_id)]
        shared = own[existing.shared_mask[own]]
    return _report(
        territory,
        existing=existing,
        min_population=min_population,
        sea_link_km=sea_link_km,
        input_warnings=warnings,
        cpts_id=cpts_id,
        shared=shared,
        zone_layers=None if zones is None else as_zone_layers(ref, zones),
    )


#: A register of more CPTS than this has its units projected at once before the checks.
PREFETCH_CPTS = 50


def check_register(
    ref: Reference, register, *, min_population: int | None = 20_000, sea_link_km: float = 30.0, zones=None
) -> RegisterReport:
    """Check every CPTS of a register, and the register as a whole.

    Each CPTS is checked like a proposal, its ``overlap`` rule comparing it with every other
    CPTS of the register. Register-wide: units in two CPTS or more (``overlaps``) and units in no
    CPTS enclosed by the union of the CPTS (``enclaves``, as the ``enclaves`` rule on the union).
    Input warnings of the register are attributed to their CPTS by ``cpts_id`` when they have
    one, else by line (``table["line"]``).

    Parameters
    ----------
    ref
        The reference.
    register
        A :class:`cpts_geo.inputs.Register` (or any object with a ``table`` of ``cpts_id``,
        ``cpts_nom``, ``code_insee``; optional ``line``, and ``warnings``).
    min_population, sea_link_km, zones
        As for :func:`check_territory` (each CPTS's report lists the zones it touches).

    Returns
    -------
    RegisterReport
    """
    _validate_options(min_population, sea_link_km)
    a = ref.arrays
    register = as_register(ref, register)
    index = register.index
    per_cpts: dict[int, list[dict]] = {}
    warnings = getattr(register, "warnings", None) or []
    if warnings:
        position = {cid: i for i, cid in enumerate(index.ids)}
        table = register.table
        line_cpts: dict[int, int | None] = {}
        if "line" in table:
            for line, cid in zip(table["line"].tolist(), table["cpts_id"].astype(str).tolist()):
                if line is not None and line == line:  # not NaN
                    line_cpts.setdefault(int(line), position.get(cid))
        for w in warnings:
            cid = w.get("cpts_id")
            c = position.get(str(cid)) if cid is not None else line_cpts.get(w.get("line"))
            if c is not None:
                per_cpts.setdefault(c, []).append(w)
    zone_layers = None if zones is None else as_zone_layers(ref, zones)
    reports = []
    members_all = index.members()
    if len(members_all) > PREFETCH_CPTS:
        # Many CPTS: their units projected in one pass per zone, not CPTS by CPTS.
        ref.projected(np.unique(np.concatenate(members_all)).astype(np.int64))
    for c, members in track(enumerate(members_all), "Vérification des CPTS", total=len(members_all)):
        if not len(members):
            raise InputError(
                f"registre : la CPTS {index.ids[c]} ({index.names[c]}) n'a aucune commune connue",
                [{"value": str(index.ids[c]), "message": "CPTS sans commune connue"}],
            )
        territory = Territory._from_positions(ref, members, name=str(index.names[c]))
        reports.append(
            _report(
                territory,
                existing=register,
                min_population=min_population,
                sea_link_km=sea_link_km,
                input_warnings=per_cpts.get(c, []),
                cpts_id=str(index.ids[c]),
                shared=members[register.shared_mask[members]],
                zone_layers=zone_layers,
            )
        )

    # Units in two CPTS or more.
    counts = np.bincount(index.row_pos, minlength=a.n)
    multi = np.flatnonzero(counts > 1)
    overlaps: list[dict] = []
    shared: list[dict] = []
    if len(multi):
        rows = np.flatnonzero(counts[index.row_pos] > 1)
        order = np.lexsort((index.row_cpts[rows], index.row_pos[rows]))
        rows = rows[order]
        # Rows sorted by unit: each unit's CPTS are one slice (linear, not units x rows).
        starts = np.searchsorted(index.row_pos[rows], multi, side="left")
        ends = np.searchsorted(index.row_pos[rows], multi, side="right")
        for p, lo, hi in zip(multi.tolist(), starts.tolist(), ends.tolist()):
            which = index.row_cpts[rows[lo:hi]]
            (shared if register.shared_mask[p] else overlaps).append(
                {
                    "code": str(a.codes[p]),
                    "nom": str(a.names[p]),
                    "cpts": [str(index.ids[c]) for c in which],
                    "population": int(a.pop[p]),
                }
            )

    # Units enclosed by the union of the CPTS.
    union = np.unique(index.row_pos)
    enclosed = []
    if len(union):
        inside = np.zeros(a.n, dtype=bool)
        inside[union] = True
        for g in _enclosed_groups(ref.arrays_with_water(sea_link_km), inside, union):
            nb = np.unique(a.neighbours_of(g))
            around = np.zeros(a.n, dtype=bool)
            around[nb] = True
            cpts = np.unique(index.row_cpts[around[index.row_pos]])
            enclosed.append(
                {
                    "communes": _unit_list(a, g),
                    "n_communes": len(g),
                    "population": int(a.pop[g].sum()),
                    "cpts": [str(index.ids[c]) for c in cpts],
                }
            )
    return RegisterReport(reports=reports, overlaps=overlaps, enclaves=enclosed, shared=shared)
