"""Population covered by stage of the CPTS, cumulative from the most advanced stage.

A unit is *covered at stage s* when at least one CPTS including it is at stage ``s`` or a more
advanced one (``aci`` > ``projet-sante`` > ``lettre-intention`` > ``pre-projet``). Each inhabitant is
counted once per level: a commune in a CPTS under ACI and in a pré-projet counts once under
``aci``, once under ``projet-sante``, ... and once under ``any``. A CPTS without stage (``""``)
counts only under ``any``.

The functions work on plain frames, the shapes of the register's views:

- ``links``: the distinct ``cpts_id``, ``code_insee`` pairs;
- ``cpts_stage``: a Series ``cpts_id`` → stage (one of :data:`STAGES` or ``""``);
- ``unit_pop``: a Series unit code → population;
- ``unit_area``: a Series unit code → area code (département, région, or one code for France).

Examples
--------
>>> import pandas as pd
>>> links = pd.DataFrame({"cpts_id": ["A", "B"], "code_insee": ["u1", "u1"]})
>>> pop = pd.Series({"u1": 10, "u2": 5})
>>> covered_by_stage(pop, links, pd.Series({"A": "aci", "B": "pre-projet"}))["aci"].tolist()
[10]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpts_geo._errors import InputError

__all__ = ["covered_by_stage", "covered_by_stage_levels", "min_stage", "population_covered_by_stage"]

#: Stages in order, from the least to the most advanced (Atlas des CPTS).
from cpts_geo.inputs.stages import LEVELS, STAGE_RANK, check_stage, stage_ranks


def min_stage(links: pd.DataFrame, cpts_stage: pd.Series, stage: str) -> pd.DataFrame:
    """Keep only the links of CPTS at ``stage`` or a more advanced one.

    A CPTS without stage is dropped for every ``stage``.

    Returns
    -------
    pandas.DataFrame
        The rows of ``links`` kept, index reset.
    """
    rank = check_stage(stage)
    ranks = pd.Series(stage_ranks(cpts_stage.to_numpy()), index=cpts_stage.index.astype(str))
    r = ranks.reindex(links["cpts_id"].astype(str).to_numpy()).fillna(0).to_numpy()
    return links[r >= rank].reset_index(drop=True)


def _positions(unit_pop: pd.Series, links: pd.DataFrame) -> np.ndarray:
    pos = unit_pop.index.get_indexer(links["code_insee"].astype(str).to_numpy())
    if (pos < 0).any():
        bad = sorted(set(links.loc[pos < 0, "code_insee"].astype(str)))
        raise InputError(
            "code(s) d'unité absent(s) du référentiel des populations : "
            + ", ".join(bad[:10])
            + (f" … ({len(bad)} codes)" if len(bad) > 10 else "")
        )
    return pos


def covered_by_stage(
    unit_pop: pd.Series,
    links: pd.DataFrame,
    cpts_stage: pd.Series,
    unit_area: pd.Series | None = None,
) -> pd.DataFrame:
    """Population covered at each cumulative stage level, by area.

    Parameters
    ----------
    unit_pop
        Population by unit code (the universe of units: every unit counts in its area's
        ``population``).
    links
        ``cpts_id``, ``code_insee``: the units of each CPTS (duplicates are harmless).
    cpts_stage
        Stage of each CPTS (``""`` when not given); a CPTS of ``links`` missing here has no stage.
    unit_area
        Area code of each unit (e.g. its département); ``None`` for one area ``"FR"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by area code (sorted): ``population``, one column per level of :data:`LEVELS`
        (``aci``, ``projet-sante``, ``lettre-intention``, ``pre-projet``: population living in
        units of at least one CPTS at that stage or beyond; ``any``: in units of any CPTS),
        ``cpts`` (CPTS touching the area, each once) and ``cpts_sans_stade`` (those without
        stage).

    Raises
    ------
    InputError
        A unit of ``links`` absent from ``unit_pop``, or an unknown stage.
    """
    codes = unit_pop.index.astype(str)
    unit_pop = pd.Series(unit_pop.to_numpy(), index=codes)
    if unit_area is None:
        area_values = np.full(len(codes), "FR", dtype=object)
    else:
        area_values = (
            pd.Series(unit_area.to_numpy(dtype=object), index=unit_area.index.astype(str))
            .reindex(codes)
            .fillna("")
            .to_numpy(dtype=object)
        )
    area, names = pd.factorize(area_values, sort=True)
    k = len(names)
    pos = _positions(unit_pop, links)
    ids = links["cpts_id"].astype(str).to_numpy(dtype=object)
    stage = pd.Series(stage_ranks(cpts_stage.to_numpy()), index=cpts_stage.index.astype(str))
    rank = stage.reindex(ids).fillna(0).to_numpy(dtype=np.int64)
    # Best rank of the CPTS covering each unit; -1 for a white zone.
    best = np.full(len(codes), -1, dtype=np.int64)
    np.maximum.at(best, pos, rank)
    pop = unit_pop.to_numpy(dtype=np.float64)
    out = pd.DataFrame(index=pd.Index(names, name="area"))
    out["population"] = np.bincount(area, weights=pop, minlength=k).round().astype(np.int64)
    for level in LEVELS:
        r = 0 if level == "any" else STAGE_RANK[level]
        out[level] = np.bincount(area, weights=pop * (best >= r), minlength=k).round().astype(np.int64)
    touched = pd.DataFrame({"cpts_id": ids, "area": area[pos], "rank": rank}).drop_duplicates(
        ["cpts_id", "area"]
    )
    t_area = touched["area"].to_numpy()
    out["cpts"] = np.bincount(t_area, minlength=k).astype(np.int64)
    out["cpts_sans_stade"] = np.bincount(t_area, weights=touched["rank"].to_numpy() == 0, minlength=k).astype(
        np.int64
    )
    return out


def population_covered_by_stage(row) -> dict:
    """The JSON object ``population_covered_by_stage`` of one row of :func:`covered_by_stage`:
    ``{"aci": ..., "projet-sante": ..., "lettre-intention": ..., "pre-projet": ...}``."""
    return {s: int(row[s]) for s in LEVELS if s != "any"}


def covered_by_stage_levels(units: pd.DataFrame, links: pd.DataFrame, cpts_stage: pd.Series) -> dict:
    """:func:`covered_by_stage` for the nation, each région and each département at once.

    Parameters
    ----------
    units
        Indexed by unit code, with ``population``, ``region`` and ``departement`` (the
        reference's ``units``).

    Returns
    -------
    dict
        ``{"national": <one row "FR">, "regions": ..., "departements": ...}``, frames as
        :func:`covered_by_stage` returns them.
    """
    pop = units["population"]
    return {
        "national": covered_by_stage(pop, links, cpts_stage),
        "regions": covered_by_stage(pop, links, cpts_stage, units["region"]),
        "departements": covered_by_stage(pop, links, cpts_stage, units["departement"]),
    }
