"""Commune-level indicators aggregated to a territory (sums, population-weighted means, counts under statistical secrecy); re-exported by :mod:`cpts_geo.diagnostic`."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from cpts_geo._errors import InputError
from cpts_geo._text import fr_int
from cpts_geo.checks.rules import as_territory
from cpts_geo.inputs.read import normalize_insee_code
from cpts_geo.reference.units import Reference

#: Counts from 1 to ``DEFAULT_SECRET_THRESHOLD - 1`` are masked (statistical secrecy).
DEFAULT_SECRET_THRESHOLD = 11


#: What the ``agregation`` column says for each kind of aggregate.
_AGGREGATIONS = {
    "sum": "somme",
    "mean": "moyenne pondérée par la population",
    "count": "effectif (secret statistique)",
}


# ---------------------------------------------------------------------------------------------
# Commune-level indicators
# ---------------------------------------------------------------------------------------------
def _as_frame(indicators) -> pd.DataFrame:
    table = getattr(indicators, "table", indicators)
    if not isinstance(table, pd.DataFrame):
        raise InputError(
            "indicateurs : attendu un DataFrame indexé par code INSEE ou le résultat de read_indicators()"
        )
    out = table.copy()
    out.index = pd.Index([normalize_insee_code(c) for c in out.index.astype(str)], name="code")
    dup = out.index[out.index.duplicated()].unique().tolist()
    if dup:
        raise InputError(f"indicateurs : code(s) présent(s) sur plusieurs lignes : {', '.join(dup[:10])}")
    return out


def aggregate_indicators(
    ref: Reference,
    codes_or_proposal,
    indicators,
    *,
    sums: Iterable[str] = (),
    means: Iterable[str] = (),
    counts: Iterable[str] = (),
    secret_threshold: int = DEFAULT_SECRET_THRESHOLD,
) -> pd.DataFrame:
    """Aggregate commune-level indicators to a territory.

    - ``sums``: summed over the territory's units (amounts, stocks; never masked);
    - ``means``: mean weighted by the units' population municipale (rates, shares, APL):
      ``sum(population_i * x_i) / sum(population_i)`` over the units that have a value;
    - ``counts``: summed like ``sums``, then put under **statistical secrecy**: a total from 1
      to ``secret_threshold - 1`` (1 to 10 by default, the rule of the SNDS and of the
      Assurance Maladie for small numbers of people) is not published — ``valeur`` is NaN,
      ``secret`` is True. Zero is published (it names no one). Only the territory's total is
      computed here; commune-level values are never shown. The rule does not protect against
      *differencing* (subtracting two published totals that differ by a few communes): publish
      totals of overlapping territories with care.

    A unit without a value (not in the table, or NaN: missing or secret in the source) is left
    out; ``communes_renseignees`` and ``part_population_renseignee`` say how much of the
    territory the value rests on, and ``note`` warns when a sum or a count is partial (then a
    minimum).

    Parameters
    ----------
    ref
        The reference (unit codes and populations).
    codes_or_proposal
        The territory: unit codes, values :meth:`Reference.resolve` accepts, a
        :class:`cpts_geo.inputs.Proposal` or a :class:`cpts_geo.checks.territory.Territory`.
    indicators
        A DataFrame indexed by INSEE unit code (``1001`` and ``2a004`` are normalized), or an
        :class:`IndicatorTable` from :func:`read_indicators`.
    sums, means, counts
        Numeric columns of ``indicators`` to aggregate each way (a column in one list only).
    secret_threshold
        Smallest count published (besides zero).

    Returns
    -------
    pandas.DataFrame
        One row per indicator (``sums``, then ``means``, then ``counts``, in the given
        order), indexed by ``indicateur``: ``agregation`` (French), ``valeur`` (float; NaN when
        secret or without any value), ``secret`` (bool), ``communes`` (units of the
        territory), ``communes_renseignees``, ``part_population_renseignee`` (0-1), ``note``
        (French).

    Raises
    ------
    InputError
        Unknown or non-numeric columns, a column asked twice, a code on two rows, or a
        threshold below 1: every problem at once.

    Examples
    --------
    >>> import cpts_geo as cg
    >>> ref = cg.load_reference()
    >>> ind = pd.DataFrame({"taux": [10.0, 20.0], "medecins": [3, 4]}, index=["56009", "56152"])
    >>> out = aggregate_indicators(ref, ["56009", "56152"], ind, means=["taux"], counts=["medecins"])
    >>> round(float(out.at["taux", "valeur"]), 2), bool(out.at["medecins", "secret"])
    (17.23, True)
    """
    territory = as_territory(ref, codes_or_proposal)
    table = _as_frame(indicators)
    asked = [(c, "sum") for c in sums] + [(c, "mean") for c in means] + [(c, "count") for c in counts]
    problems = []
    if (
        isinstance(secret_threshold, bool)
        or not isinstance(secret_threshold, (int, np.integer))
        or secret_threshold < 1
    ):
        problems.append(
            f"seuil du secret statistique {secret_threshold!r} invalide ; attendu un entier ≥ 1 "
            f"(usuel : {DEFAULT_SECRET_THRESHOLD})"
        )
    seen: dict[str, str] = {}
    for col, kind in asked:
        if col in seen:
            problems.append(
                f"colonne '{col}' demandée deux fois ({_AGGREGATIONS[seen[col]]} et {_AGGREGATIONS[kind]})"
            )
            continue
        seen[col] = kind
        if col not in table.columns:
            problems.append(f"colonne '{col}' introuvable ; colonnes : {', '.join(map(str, table.columns))}")
        elif not pd.api.types.is_numeric_dtype(table[col]):
            problems.append(f"colonne '{col}' non numérique")
    if problems:
        raise InputError("indicateurs : " + " ; ".join(problems), [{"message": p} for p in problems])

    codes = pd.Index(territory.codes)
    pop = territory.units["population"].fillna(0).astype(float).to_numpy()
    total_pop = pop.sum()
    rows = []
    for col, kind in seen.items():
        x = table[col].reindex(codes).astype(float).to_numpy()
        has = ~np.isnan(x)
        n_has = int(has.sum())
        pop_has = float(pop[has].sum())
        note = []
        secret = False
        if n_has == 0:
            value = math.nan
            note.append("aucune commune du territoire n'a de valeur")
        elif kind == "mean":
            value = float((pop[has] * x[has]).sum() / pop_has) if pop_has > 0 else math.nan
        else:
            value = float(x[has].sum())
            if n_has < len(codes):
                note.append(f"{fr_int(len(codes) - n_has)} commune(s) sans valeur : total partiel (minimum)")
            if kind == "count" and 0 < value < secret_threshold:
                secret = True
                value = math.nan
                note.insert(0, f"secret statistique : effectif entre 1 et {secret_threshold - 1}")
        if kind == "mean" and 0 < n_has < len(codes):
            note.append(f"moyenne sur {fr_int(n_has)} commune(s) renseignée(s) sur {fr_int(len(codes))}")
        rows.append(
            {
                "indicateur": col,
                "agregation": _AGGREGATIONS[kind],
                "valeur": value,
                "secret": secret,
                "communes": len(codes),
                "communes_renseignees": n_has,
                "part_population_renseignee": pop_has / total_pop if total_pop > 0 else 0.0,
                "note": " ; ".join(note),
            }
        )
    cols = [
        "agregation",
        "valeur",
        "secret",
        "communes",
        "communes_renseignees",
        "part_population_renseignee",
        "note",
    ]
    if not rows:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="indicateur"))
    return pd.DataFrame(rows).set_index("indicateur")[cols]
