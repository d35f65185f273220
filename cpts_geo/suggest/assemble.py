"""Assembling what :func:`cpts_geo.suggest.suggest_territories` returns, whatever the mode.

Both modes hand over the same things: the proposed territories (groups of unit positions, each
with a :class:`~cpts_geo.suggest._epci_groups.GroupInfo`) and the pieces of white zone too small to
stand alone. Territories are numbered per département by decreasing population (``49-T01``)
and named after their largest unit; small pieces become extensions of the adjacent existing
CPTS that absorbs them most coherently (``49-E01``) or non-rattachable pieces (``49-N01``);
every white unit appears exactly once in the per-unit assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from cpts_geo._text import fr_int, fr_plural
from cpts_geo.checks.territory import aci_size_class
from cpts_geo.reference.units import Reference

#: Assignment types, as written in the ``type`` column of the per-unit table.
TYPE_TERRITORY = "territoire"
TYPE_EXTENSION = "extension"
TYPE_ORPHAN = "non_rattachable"

TERRITORY_COLUMNS = [
    "territoire_id",
    "label",
    "departement",
    "population",
    "aci_size_class",
    "n_communes",
    "communes",
    "epci",
    "n_epci",
    "nature",
    "epci_decoupes",
    "raisons",
    "notes",
]
EXTENSION_COLUMNS = [
    "territoire_id",
    "cpts_id",
    "departement",
    "population",
    "n_communes",
    "communes",
    "epci",
    "reason",
]
ASSIGNMENT_COLUMNS = [
    "code_insee",
    "nom",
    "territoire_id",
    "type",
    "cpts_id",
    "departement",
    "population",
    "epci",
]


@dataclass
class Assembled:
    territories: gpd.GeoDataFrame
    extensions: pd.DataFrame
    orphans: pd.DataFrame
    assignment: pd.DataFrame


def unit_arrays(ref: Reference) -> dict:
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


def main_dep(deps: np.ndarray, w: np.ndarray) -> str:
    """The département holding most of the population (the first code on a tie)."""
    names, inv = np.unique(deps.astype(str), return_inverse=True)
    if len(names) == 1:
        return str(names[0])
    return str(names[int(np.argmax(np.bincount(inv, weights=w)))])


def de(name: str) -> str:
    """French "de" before a commune name: d'Angers, du Mans, des Sables-d'Olonne, de La Flèche."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[:1].upper() in "AEIOUYÀÂÉÈÊÎÔÛ":
        return "d'" + name
    return "de " + name


def assemble(
    ref: Reference,
    groups: list[np.ndarray],
    infos: list,
    small_pieces: list[np.ndarray],
    owner: np.ndarray,
    cpts_names: dict,
    graph,
    *,
    allow_cross: bool,
    sea_link_km: float,
    geometry: bool,
) -> Assembled:
    """The territories, extensions, non-rattachable pieces and per-unit assignment."""
    arr = unit_arrays(ref)
    terr_rows, assign_rows = _territory_rows(arr, groups, infos)
    ext_rows, orphan_rows, more = _leftover_rows(
        ref, arr, small_pieces, owner, graph, allow_cross, sea_link_km
    )
    assignment = (
        pd.DataFrame(assign_rows + more, columns=ASSIGNMENT_COLUMNS).set_index("code_insee").sort_index()
    )
    ext = pd.DataFrame(ext_rows, columns=EXTENSION_COLUMNS)
    if len(ext):
        ext.insert(2, "cpts_nom", [cpts_names.get(c, "") for c in ext["cpts_id"]])
    else:
        ext.insert(2, "cpts_nom", pd.Series(dtype=str))
    orphans = pd.DataFrame(orphan_rows, columns=[c for c in EXTENSION_COLUMNS if c != "cpts_id"])
    return Assembled(_territory_frame(ref, terr_rows, geometry), ext, orphans, assignment)


def _territory_rows(arr: dict, groups: list[np.ndarray], infos: list) -> tuple[list, list]:
    """One row per territory, numbered within each département by decreasing population."""
    codes, pop, dep, epci, noms = arr["codes"], arr["pop"], arr["dep"], arr["epci"], arr["nom"]
    order = sorted(
        range(len(groups)),
        key=lambda i: (
            main_dep(dep[groups[i]], pop[groups[i]]),
            -int(pop[groups[i]].sum()),
            codes[groups[i]].min(),
        ),
    )
    terr_rows, assign_rows = [], []
    per_dep: dict[str, int] = {}
    for i in order:
        g, info = groups[i], infos[i]
        d = main_dep(dep[g], pop[g])
        k = per_dep[d] = per_dep.get(d, 0) + 1
        tid = f"{d}-T{k:02d}"
        g = g[np.lexsort((codes[g],))]
        largest = g[np.lexsort((codes[g], -pop[g]))[0]]
        eps = sorted({e for e in epci[g] if e})
        total = int(pop[g].sum())
        terr_rows.append(
            {
                "territoire_id": tid,
                "label": f"Territoire proposé n°{k} — autour {de(noms[largest])}",
                "departement": d,
                "population": total,
                "aci_size_class": aci_size_class(total),
                "n_communes": int(len(g)),
                "communes": codes[g].tolist(),
                "epci": eps,
                "n_epci": len(eps),
                "nature": info.nature,
                "epci_decoupes": list(info.split_epci),
                "raisons": list(info.reasons),
                "notes": list(info.notes),
                "_idx": g,
            }
        )
        assign_rows += [(codes[u], noms[u], tid, TYPE_TERRITORY, "", dep[u], int(pop[u]), epci[u]) for u in g]
    return terr_rows, assign_rows


def _leftover_rows(ref, arr, small_pieces, owner, graph, allow_cross, sea_link_km) -> tuple[list, list, list]:
    """Extensions of existing CPTS and non-rattachable pieces, and their assignment rows."""
    codes, pop, dep, epci, noms = arr["codes"], arr["pop"], arr["dep"], arr["epci"], arr["nom"]
    ext_rows, orphan_rows, assign_rows = [], [], []
    count: dict[tuple[str, str], int] = {}
    for piece in small_pieces:
        target, reason = extension_target(ref, piece, owner, graph, epci, allow_cross, sea_link_km)
        d = main_dep(dep[piece], pop[piece])
        piece = piece[np.argsort(codes[piece])]
        row = {
            "departement": d,
            "population": int(pop[piece].sum()),
            "n_communes": int(len(piece)),
            "communes": codes[piece].tolist(),
            "epci": sorted({e for e in epci[piece] if e}),
            "reason": reason,
        }
        letter = "E" if target else "N"
        k = count[(d, letter)] = count.get((d, letter), 0) + 1
        tid = f"{d}-{letter}{k:02d}"
        if target:
            ext_rows.append({"territoire_id": tid, "cpts_id": target, **row})
        else:
            orphan_rows.append({"territoire_id": tid, **row})
        kind = TYPE_EXTENSION if target else TYPE_ORPHAN
        assign_rows += [(codes[u], noms[u], tid, kind, target, dep[u], int(pop[u]), epci[u]) for u in piece]
    return ext_rows, orphan_rows, assign_rows


def _territory_frame(ref: Reference, terr_rows: list, geometry: bool) -> gpd.GeoDataFrame:
    """The territories as a GeoDataFrame, their units dissolved when ``geometry``."""
    units = ref.units
    terr = pd.DataFrame(terr_rows, columns=TERRITORY_COLUMNS + ["_idx"])
    polys: list = [None] * len(terr)
    if geometry and len(terr):
        # One polygon per territory: its units (a clean coverage) dissolved by coverage union.
        pos = np.concatenate([np.asarray(g, dtype=np.int64) for g in terr["_idx"]])
        member = gpd.GeoDataFrame(
            {"t": np.repeat(np.arange(len(terr)), [len(g) for g in terr["_idx"]])},
            geometry=units.geometry.to_numpy()[pos],
            crs=units.crs,
        )
        member = member[~member.geometry.isna()]
        dissolved = member.dissolve(by="t", method="coverage").geometry
        polys = [dissolved.get(i) for i in range(len(terr))]
    return gpd.GeoDataFrame(terr.drop(columns="_idx"), geometry=polys, crs=units.crs)


def extension_target(ref, piece, owner, graph, epci, allow_cross, sea_link_km) -> tuple[str, str]:
    """The existing CPTS a too-small piece of white zone should join, and why (French)."""
    pop = ref.arrays.pop
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
                f"{reason} ; isolée : aucune commune voisine, ni à moins de {sea_link_km:g} km par la mer : "
                "à rattacher par dérogation",
            )
        if not allow_cross:
            deps = sorted(set(unit_arrays(ref)["dep"][outside]))
            return "", (
                f"{reason} ; ne touche que des communes d'un autre département ({', '.join(deps)}) : "
                "à rattacher à un territoire voisin d'un autre département ou par dérogation"
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
        f"({fr_plural(contacts, 'limite commune', 'limites communes')} avec elle)"
    )
    return str(cid), reason
