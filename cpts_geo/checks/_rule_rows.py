"""The evidence rows of the rules, built from arrays: the units of a part, the CPTS of a
register sharing units, the declared shares.

A register's check keeps one report per CPTS: rows that would weigh more than their inputs are
:class:`~cpts_geo.checks.report.LazyRows` (positions kept, dicts built when read); the records of
single units are the reference's shared read-only dicts (``ReferenceArrays.unit_records``).
"""

from __future__ import annotations

import numpy as np

from cpts_geo._text import listing
from cpts_geo.checks.report import LazyRows
from cpts_geo.reference.units import Reference, ReferenceArrays


def _unit_list(a: ReferenceArrays, positions: np.ndarray, *, population: bool = False) -> list[dict]:
    records = a.unit_records[1 if population else 0]  # shared, read-only dicts
    return [records[p] for p in np.asarray(positions).tolist()]


def _overlap_rows(a: ReferenceArrays, reg, cpts: np.ndarray, pos: np.ndarray) -> LazyRows:
    """The CPTS of a register sharing units with a territory (register rows ``cpts``/``pos`` it
    hits), most shared population first, as :class:`LazyRows`: each row (``cpts_id``,
    ``cpts_nom``, ``n_communes``, ``population``, ``communes``) is built when read, so the
    reports of a register of scattered CPTS keep arrays, not a million dicts."""
    order = np.lexsort((pos, cpts))
    cpts, pos = cpts[order], pos[order]
    groups, starts, counts = np.unique(cpts, return_index=True, return_counts=True)
    pops = np.add.reduceat(a.pop[pos].astype(np.int64), starts) if len(pos) else np.zeros(0, np.int64)
    rank = np.lexsort((np.asarray(reg.ids[groups], dtype=str), -counts, -pops))
    groups, starts, counts, pops = groups[rank], starts[rank], counts[rank], pops[rank]

    def build(i: int) -> dict:
        c, lo = groups[i], starts[i]
        return {
            "cpts_id": str(reg.ids[c]),
            "cpts_nom": str(reg.names[c]),
            "n_communes": int(counts[i]),
            "population": int(pops[i]),
            "communes": _unit_list(a, pos[lo : lo + counts[i]], population=True),
        }

    return LazyRows(len(groups), build)


def _component_rows(ref: Reference, P: np.ndarray, groups: list[np.ndarray], lands: list[int]) -> LazyRows:
    """The parts of a territory (``groups`` of indices into ``P``, in report order) as
    :class:`LazyRows` of ``id``, ``name``, ``n_communes``, ``population``, ``island``,
    ``communes``: the positions are kept, the dicts built when read."""
    a, main_land = ref.arrays, ref.main_land
    flat = P[np.concatenate(groups)]
    bounds = np.cumsum([0] + [len(g) for g in groups])
    land = np.asarray(lands)

    def build(i: int) -> dict:
        pos = flat[bounds[i] : bounds[i + 1]]
        top = pos[np.lexsort((pos, -a.pop[pos]))[0]]
        return {
            "id": i + 1,
            "name": str(a.names[top]),
            "n_communes": len(pos),
            "population": int(a.pop[pos].sum()),
            "island": bool(land[i] != main_land[a.dep[pos[0]]]),
            "communes": _unit_list(a, pos),
        }

    return LazyRows(len(groups), build)


def _declared_shares(a: ReferenceArrays, reg, rows: np.ndarray) -> list[dict]:
    """Units of ``rows`` (a mask of register rows) with the other CPTS sharing them."""
    out = []
    for p in np.unique(reg.row_pos[rows]):
        others = np.unique(reg.row_cpts[rows & (reg.row_pos == p)])
        out.append(
            {
                "code": str(a.codes[p]),
                "nom": str(a.names[p]),
                "population": int(a.pop[p]),
                "cpts": [str(reg.ids[c]) for c in others],
            }
        )
    return out


def _declared_text(declared: list[dict]) -> str:
    described = [f"{d['nom']} ({d['code']}) avec {listing(d['cpts'])}" for d in declared]
    return (
        f"{'commune partagée déclarée' if len(declared) == 1 else 'communes partagées déclarées'} : "
        f"{listing(described)}"
    )
