"""``suggest --mode epci``: the white zone of an area through :func:`cpts_geo.suggest.epci_mode.epci_partition`.

:mod:`cpts_geo.suggest` builds the white zone (units no CPTS covers, their contiguity graph);
this module runs the EPCI-mode partition on it, one département at a time (the whole area at
once when territories may cross départements), with the national EPCI facts so that a "whole
EPCI" is the whole EPCI and not only its white part, and returns the territories as groups of
unit positions with their nature, the reasons for any split and the notes, EPCIs and
départements named. It also classifies the territories of the max-count mode the same way
(:func:`classify_groups`), so that both modes report how many territories are whole EPCIs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cpts_geo.reference.units import Reference
from cpts_geo.suggest.epci_mode import epci_partition
from cpts_geo.suggest.epci_model import KIND_PART, KIND_SPLIT, KIND_UNION, KIND_WHOLE, NationalEpci

__all__ = ["EpciGroups", "GroupInfo", "NATURE_LABELS", "classify_groups", "epci_groups", "national_epci"]

#: French names of the territory natures (text, map, and the ``nature`` column's meaning).
NATURE_LABELS = {
    KIND_WHOLE: "EPCI entier",
    KIND_UNION: "union d'EPCI entiers",
    KIND_SPLIT: "EPCI découpé (taille)",
    KIND_PART: "partie d'EPCI",
}


@dataclass(frozen=True)
class GroupInfo:
    """What a proposed territory is made of: nature, EPCIs split (codes) and why, notes."""

    nature: str
    split_epci: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class EpciGroups:
    """Territories (unit positions) with their :class:`GroupInfo`, and the leftover pieces."""

    groups: list[np.ndarray]
    info: list[GroupInfo]
    leftovers: list[np.ndarray]
    #: Oversized EPCI parts: ``{epci code: {"population", "pieces", "reason"}}``.
    split: dict = field(default_factory=dict)


def national_epci(ref: Reference) -> NationalEpci:
    """Units and départements of every EPCI in all of France, and the names notes use."""
    a = ref.arrays
    n_epci = len(a.epci_codes)
    has = a.epci >= 0
    pairs = np.unique(a.epci[has].astype(np.int64) * len(a.dep_codes) + a.dep[has])
    deps = np.bincount(pairs // len(a.dep_codes), minlength=n_epci)
    return NationalEpci(
        units=np.asarray(a.epci_n, dtype=np.int64),
        departements=deps,
        epci_names=tuple(f"{n} ({c})" for n, c in zip(a.epci_names, a.epci_codes)),
        departement_names=tuple(f"{n} ({c})" for n, c in zip(a.dep_names, a.dep_codes)),
    )


def epci_groups(
    ref: Reference,
    white_idx: np.ndarray,
    graph,
    *,
    min_population: int,
    max_population: int,
    target_population: int,
    allow_cross_departement: bool,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> EpciGroups:
    """The EPCI-mode territories of a white zone.

    ``white_idx``: unit positions of the white zone; ``graph``: its contiguity (CSR over
    ``white_idx``, land plus sea links, cut at département borders unless crossing is
    allowed). Each département is solved on its own with the same ``seed``, so that its result
    does not depend on the rest of the area.
    """
    a = ref.arrays
    national = national_epci(ref)
    dep = a.dep[white_idx]
    batches = [np.arange(len(white_idx))] if allow_cross_departement else _by_value(dep)
    out = EpciGroups(groups=[], info=[], leftovers=[])
    done = 0
    for local in batches:
        r = epci_partition(
            graph[local][:, local],
            a.pop[white_idx[local]],
            a.epci[white_idx[local]],
            dep[local],
            min_population=min_population,
            max_population=max_population,
            target_population=target_population,
            allow_cross_departement=allow_cross_departement,
            seed=seed,
            national=national,
        )
        pos = white_idx[local]
        for t in r.territories:
            out.groups.append(pos[r.labels == t.territory])
            split = tuple(str(a.epci_codes[e]) for e in t.split_epci)
            out.info.append(GroupInfo(t.kind, split, t.reasons, t.notes))
            for e, why in zip(split, t.reasons):
                entry = out.split.setdefault(e, {"population": 0, "pieces": 0, "reason": why})
                entry["pieces"] += 1
        for p in r.parts:
            code = str(a.epci_codes[p.epci]) if p.epci >= 0 else ""
            if code in out.split and p.size == "oversized":
                out.split[code]["population"] += p.population
        out.leftovers += [pos[u] for u in r.leftovers]
        done += len(local)
        if progress is not None:
            progress(done, len(white_idx))
    return out


def classify_groups(ref: Reference, groups: list[np.ndarray]) -> list[GroupInfo]:
    """The nature of territories made otherwise (max-count mode): whole EPCIs, a union, or a part."""
    a = ref.arrays
    out = []
    for g in groups:
        e = a.epci[g]
        ids, n_in = np.unique(e[e >= 0], return_counts=True)
        whole = bool((n_in == a.epci_n[ids]).all())
        if not whole:
            out.append(GroupInfo(KIND_PART))
        else:
            out.append(GroupInfo(KIND_WHOLE if len(ids) <= 1 else KIND_UNION))
    return out


def _by_value(values: np.ndarray) -> list[np.ndarray]:
    """Indices of each distinct value, in order of first appearance's value (sorted)."""
    order = np.argsort(values, kind="stable")
    cuts = np.flatnonzero(np.diff(values[order])) + 1
    return [np.sort(b) for b in np.split(order, cuts)] if len(values) else []
