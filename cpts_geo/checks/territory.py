"""A territory: a set of units (communes, arrondissements) of a reference, and its figures.

Every total (population, EPCI, département, région) is computed from the units' populations,
one vintage (``ref.vintage["population"]``).

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.checks.territory import Territory
>>> ref = cg.load_reference()
>>> t = Territory(ref, ["56241", "56009", "56152", "56114"], name="Belle-Île")
>>> t.codes, t.population, t.aci_size_class
(['56009', '56114', '56152', '56241'], 5607, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cpts_geo._errors import UnknownCommuneError
from cpts_geo.reference.units import Reference

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["ACI_SIZE_BOUNDS", "Territory", "aci_size_class", "size_class_text"]

#: Population bounds of the ACI size classes (accord conventionnel interprofessionnel):
#: taille 1 < 40,000 ≤ taille 2 < 80,000 ≤ taille 3 ≤ 175,000 < taille 4.
ACI_SIZE_BOUNDS = (40_000, 80_000, 175_000)


def aci_size_class(population: int) -> int:
    """The ACI size class of a territory of ``population`` inhabitants (1 to 4).

    Taille 1 below 40,000; taille 2 from 40,000 to 80,000; taille 3 from 80,000 to 175,000
    (included); taille 4 above 175,000.

    >>> [aci_size_class(p) for p in (39_999, 40_000, 79_999, 80_000, 175_000, 175_001)]
    [1, 2, 2, 3, 3, 4]
    """
    small, medium, large = ACI_SIZE_BOUNDS
    p = int(population)
    if p < small:
        return 1
    if p < medium:
        return 2
    if p <= large:
        return 3
    return 4


def size_class_text(low: int, high: int | None = None) -> str:
    """An ACI size class, or a range of them when a population is only known as a range.

    >>> size_class_text(3), size_class_text(2, 2), size_class_text(2, 4)
    ('3', '2', '2 à 4')
    """
    if high is None or int(high) == int(low):
        return str(int(low))
    return f"{int(low)} à {int(high)}"


def unit_positions(ref: Reference, codes) -> np.ndarray:
    """Sorted, distinct positions of unit codes in ``ref.units``.

    Raises
    ------
    UnknownCommuneError
        Naming every code that is not a unit of the reference.
    """
    pos = ref.arrays.pos
    out, bad = [], []
    for c in codes:
        p = pos.get(c) if isinstance(c, str) else pos.get(str(c))
        if p is None:
            bad.append(str(c))
        else:
            out.append(p)
    if bad:
        cog = ref.vintage["cog"]
        problems: list[dict] = [
            {
                "value": b,
                "line": None,
                "message": f"'{b}' n'est pas un code de commune ou d'arrondissement du COG {cog}",
            }
            for b in bad
        ]
        raise UnknownCommuneError(
            "; ".join(p["message"] for p in problems)
            + " ; utilisez Reference.resolve() pour les noms, anciens codes et villes à arrondissements",
            problems,
        )
    return np.unique(np.asarray(out, dtype=np.int64))


@dataclass(eq=False)
class Territory:
    """A set of units of a reference: the territory of a CPTS or of a proposal.

    ``codes`` are unit codes (communes; arrondissements for Paris, Lyon, Marseille); they are
    stored sorted and without duplicates, so a territory does not depend on input order. Use
    :meth:`Reference.resolve` first for names, old codes and whole cities.

    Parameters
    ----------
    ref
        The reference the codes belong to.
    codes
        Unit codes.
    name
        The territory's name, if any.

    Raises
    ------
    UnknownCommuneError
        If a code is not a unit of the reference.
    """

    ref: Reference = field(repr=False)
    codes: list[str]
    name: str | None = None

    def __post_init__(self) -> None:
        self._positions = unit_positions(self.ref, self.codes)
        self.codes = [str(c) for c in self.ref.arrays.codes[self._positions]]

    @classmethod
    def _from_positions(cls, ref: Reference, positions: np.ndarray, name: str | None = None) -> Territory:
        """A territory from sorted, distinct unit positions (no code lookup)."""
        self = cls.__new__(cls)
        self.ref, self.name = ref, name
        self._positions = np.asarray(positions, dtype=np.int64)
        self.codes = [str(c) for c in ref.arrays.codes[self._positions]]
        return self

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def positions(self) -> np.ndarray:
        """Positions of the units in ``ref.units`` / ``ref.graph`` (sorted)."""
        return self._positions

    @property
    def population(self) -> int:
        """Population municipale of the territory (vintage ``ref.vintage["population"]``)."""
        return int(self.ref.arrays.pop[self._positions].sum())

    @property
    def aci_size_class(self) -> int:
        """ACI size class (1 to 4) of the territory's population."""
        return aci_size_class(self.population)

    @property
    def units(self) -> gpd.GeoDataFrame:
        """The territory's rows of ``ref.units`` (GeoDataFrame, EPSG:4326)."""
        return self.ref.units.iloc[self._positions]

    @cached_property
    def epcis(self) -> pd.DataFrame:
        """Each EPCI the territory touches, indexed by SIREN.

        Columns ``nom``, ``n_communes`` / ``n_communes_total`` (units of the EPCI inside / in
        all), ``population`` / ``population_total``, ``share_communes``, ``share_population``
        (0-1) and ``whole`` (every unit of the EPCI is inside). Units in no EPCI are left out.
        """
        a = self.ref.arrays
        e = a.epci[self._positions]
        keep = e >= 0
        ids, inv, counts = np.unique(e[keep], return_inverse=True, return_counts=True)
        pop_in = np.bincount(inv, weights=a.pop[self._positions][keep], minlength=len(ids)).astype(np.int64)
        n_tot, pop_tot = a.epci_n[ids], a.epci_pop[ids]
        return pd.DataFrame(
            {
                "nom": a.epci_names[ids],
                "n_communes": counts,
                "n_communes_total": n_tot,
                "population": pop_in,
                "population_total": pop_tot,
                "share_communes": counts / n_tot,
                "share_population": np.divide(pop_in, pop_tot, out=np.zeros(len(ids)), where=pop_tot > 0),
                "whole": counts == n_tot,
            },
            index=pd.Index(a.epci_codes[ids].astype(str), name="epci"),
        )

    def _tally(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct ``labels`` of the territory's units, their unit counts and populations."""
        a = self.ref.arrays
        ids, inv, counts = np.unique(labels[self._positions], return_inverse=True, return_counts=True)
        pop_in = np.bincount(inv, weights=a.pop[self._positions], minlength=len(ids)).astype(np.int64)
        return ids, counts, pop_in

    @cached_property
    def departements(self) -> pd.DataFrame:
        """Départements spanned, indexed by code: ``nom``, ``region``, ``n_communes``, ``population``."""
        a = self.ref.arrays
        ids, counts, pop_in = self._tally(a.dep)
        return pd.DataFrame(
            {
                "nom": a.dep_names[ids],
                "region": a.reg_codes[a.dep_region[ids]].astype(str),
                "n_communes": counts,
                "population": pop_in,
            },
            index=pd.Index(a.dep_codes[ids].astype(str), name="departement"),
        )

    @cached_property
    def regions(self) -> pd.DataFrame:
        """Régions spanned, indexed by code: ``nom``, ``n_communes``, ``population``."""
        a = self.ref.arrays
        ids, counts, pop_in = self._tally(a.reg)
        return pd.DataFrame(
            {"nom": a.reg_names[ids], "n_communes": counts, "population": pop_in},
            index=pd.Index(a.reg_codes[ids].astype(str), name="region"),
        )

    def geometry(self):
        """The territory as one (multi)polygon, EPSG:4326
        (:func:`cpts_geo.reference.geometry.union_of_units`)."""
        from cpts_geo.reference.geometry import union_of_units

        return union_of_units(self.ref, self.codes)

    @property
    def area_km2(self) -> float:
        """Area in km², measured unit by unit in the zone's projected CRS (reference build)."""
        return float(round(self.ref.arrays.area[self._positions].sum(), 4))
