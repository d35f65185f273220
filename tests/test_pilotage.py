"""Steering the deployment: coverage by stage, over time, register changes, ACI funding estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpts_geo import InputError
from cpts_geo._stages import covered_by_stage, min_stage, population_covered_by_stage
from cpts_geo.inputs import register_from_frame

POP = {"49007": 159022, "49353": 16333, "49015": 15251, "35236": 9542, "44185": 3311, "97209": 75506}

# A (ACI) and B (pré-projet) share Trélazé 49353; E (no stage) shares Angers-Loire 49015 with B and
# covers Fort-de-France alone; C (lettre d'intention) spans Ille-et-Vilaine and Loire-Atlantique.
STAGE_ROWS = [
    ("A", "CPTS Angers", "49007", "aci"),
    ("A", "CPTS Angers", "49353", "aci"),
    ("B", "CPTS Loire-Authion", "49353", "pre-projet"),
    ("B", "CPTS Loire-Authion", "49015", "pre-projet"),
    ("C", "CPTS du Pays de Redon", "35236", "lettre-intention"),
    ("C", "CPTS du Pays de Redon", "44185", "lettre-intention"),
    ("E", "CPTS Fort-de-France", "97209", ""),
    ("E", "CPTS Fort-de-France", "49015", ""),
]


def views(rows, ref, *, dates=None):
    """The register's ``links`` and ``cpts`` views, built from ``register.table``."""
    df = pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee", "statut"])
    if dates is not None:
        df["date_statut"] = [dates.get(cid, "") for cid in df["cpts_id"]]
    table = register_from_frame(df, ref).table
    links = table[["cpts_id", "code_insee"]].drop_duplicates().reset_index(drop=True)
    cpts = table.groupby("cpts_id", sort=False)[["cpts_nom", "statut", "date_statut"]].first()
    cpts["n_units"] = table.groupby("cpts_id", sort=False).size()
    return links, cpts


@pytest.fixture(scope="module")
def unit_pop(ref):
    return ref.units["population"]


def test_fixture_populations(ref):
    assert ref.units.loc[list(POP), "population"].to_dict() == POP


# ---------------------------------------------------------------------------------------------
# 1. Population covered by stage
# ---------------------------------------------------------------------------------------------
def test_covered_by_stage_national(ref, unit_pop):
    links, cpts = views(STAGE_ROWS, ref)
    got = covered_by_stage(unit_pop, links, cpts["statut"])
    assert list(got.index) == ["FR"]
    r = got.loc["FR"]
    # Trélazé (in A under ACI and in B, pré-projet) is counted once at each level.
    assert r["aci"] == 159022 + 16333
    assert r["projet-sante"] == 159022 + 16333
    assert r["lettre-intention"] == 159022 + 16333 + 9542 + 3311
    assert r["pre-projet"] == 159022 + 16333 + 9542 + 3311 + 15251
    # Fort-de-France only in a CPTS without stage: only in "any"; 49015 once although in B and E.
    assert r["any"] == 159022 + 16333 + 9542 + 3311 + 15251 + 75506
    assert r["population"] == int(unit_pop.sum())
    assert (r["cpts"], r["cpts_sans_stade"]) == (4, 1)
    assert population_covered_by_stage(r) == {"aci": 175355, "projet-sante": 175355,
                                              "lettre-intention": 188208, "pre-projet": 203459}


def test_covered_by_stage_by_departement(ref, unit_pop):
    links, cpts = views(STAGE_ROWS, ref)
    got = covered_by_stage(unit_pop, links, cpts["statut"], ref.units["departement"])
    assert len(got) == ref.units["departement"].nunique()
    levels = ["aci", "projet-sante", "lettre-intention", "pre-projet", "any", "cpts", "cpts_sans_stade"]
    assert got.loc["49", levels].tolist() == [175355, 175355, 175355, 190606, 190606, 3, 1]
    assert got.loc["35", levels].tolist() == [0, 0, 9542, 9542, 9542, 1, 0]
    assert got.loc["44", levels].tolist() == [0, 0, 3311, 3311, 3311, 1, 0]
    assert got.loc["972", levels].tolist() == [0, 0, 0, 0, 75506, 1, 1]
    assert got.loc["01", levels].tolist() == [0, 0, 0, 0, 0, 0, 0]
    dep_pop = ref.units.groupby("departement")["population"].sum()
    assert got["population"].to_dict() == dep_pop.to_dict()


def test_min_stage_filter(ref, unit_pop):
    links, cpts = views(STAGE_ROWS, ref)
    kept = min_stage(links, cpts["statut"], "lettre-intention")
    assert sorted(set(kept["cpts_id"])) == ["A", "C"]
    got = covered_by_stage(unit_pop, kept, cpts["statut"]).loc["FR"]
    assert (got["any"], got["pre-projet"], got["aci"]) == (188208, 188208, 175355)
    assert sorted(set(min_stage(links, cpts["statut"], "pre-projet")["cpts_id"])) == ["A", "B", "C"]
    with pytest.raises(InputError, match="stade 'signé' inconnu"):
        min_stage(links, cpts["statut"], "signé")


def test_covered_by_stage_errors(unit_pop):
    links = pd.DataFrame({"cpts_id": ["A"], "code_insee": ["99999"]})
    with pytest.raises(InputError, match="99999"):
        covered_by_stage(unit_pop, links, pd.Series({"A": "aci"}))
    links = pd.DataFrame({"cpts_id": ["A"], "code_insee": ["49007"]})
    with pytest.raises(InputError, match="statut\\(s\\) inconnu\\(s\\) : 'signé'"):
        covered_by_stage(unit_pop, links, pd.Series({"A": "signé"}))


def test_covered_by_stage_national_speed(ref, unit_pop):
    """1,000 CPTS over every unit of France: a few milliseconds."""
    import time

    rng = np.random.default_rng(0)
    codes = ref.units.index.to_numpy()
    owner = rng.integers(0, 1000, len(codes))
    links = pd.DataFrame({"cpts_id": [f"C{i}" for i in owner], "code_insee": codes})
    stages = pd.Series(rng.choice(["", "pre-projet", "lettre-intention", "projet-sante", "aci"], 1000),
                       index=[f"C{i}" for i in range(1000)])
    start = time.perf_counter()
    got = covered_by_stage(unit_pop, links, stages, ref.units["departement"])
    assert time.perf_counter() - start < 0.5
    assert int(got["any"].sum()) == int(unit_pop.sum())
