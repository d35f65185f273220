"""Steering the deployment: coverage by stage, over time, register changes, ACI funding estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpts_geo._errors import InputError
from cpts_geo.inputs.cells import parse_date
from cpts_geo.inputs.history import history_from_frame, read_history
from cpts_geo.inputs.register import register_from_frame
from cpts_geo.outputs.figures import history_figure
from cpts_geo.steering.by_stage import covered_by_stage, min_stage, population_covered_by_stage
from cpts_geo.steering.changes import compare_registers
from cpts_geo.steering.coverage import cpts_table
from cpts_geo.steering.funding import funding_estimate, read_funding_table
from cpts_geo.steering.history import coverage_history

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
    assert population_covered_by_stage(r) == {
        "aci": 175355,
        "projet-sante": 175355,
        "lettre-intention": 188208,
        "pre-projet": 203459,
    }


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
    stages = pd.Series(
        rng.choice(["", "pre-projet", "lettre-intention", "projet-sante", "aci"], 1000),
        index=[f"C{i}" for i in range(1000)],
    )
    start = time.perf_counter()
    got = covered_by_stage(unit_pop, links, stages, ref.units["departement"])
    assert time.perf_counter() - start < 0.5
    assert int(got["any"].sum()) == int(unit_pop.sum())


# A: ACI since 15/03/2023, its earlier stages in the history file; B: projet de santé since
# 01/02/2023, earlier stages unknown; C: no date at all; D: no stage, dated 05/12/2022.
HIST_ROWS = [
    ("A", "CPTS Angers", "49007", "aci"),
    ("A", "CPTS Angers", "49353", "aci"),
    ("B", "CPTS Loire-Authion", "49353", "projet-sante"),
    ("B", "CPTS Loire-Authion", "49015", "projet-sante"),
    ("C", "CPTS du Pays de Redon", "35236", "lettre-intention"),
    ("D", "CPTS Guémené", "44185", ""),
]
HIST_DATES = {"A": "2023-03-15", "B": "01/02/2023", "D": "2022-12-05"}
HISTORY = pd.DataFrame(
    {
        "cpts_id": ["A", "A", "A"],
        "statut": ["pre-projet", "Lettre d'intention", "projet-sante"],
        "date": ["2022-01-10", "15/06/2022", "2022-11-30"],
    }
)
A_POP, B_ONLY, D_POP = 159022 + 16333, 15251, 3311


@pytest.fixture(scope="module")
def hist(ref, unit_pop):
    links, cpts = views(HIST_ROWS, ref, dates=HIST_DATES)
    history = history_from_frame(HISTORY, cpts.index)
    return coverage_history(links, cpts, unit_pop, history=history, end="2023-04")


def test_history_monthly_counts(hist):
    f = hist.frame
    assert list(f.index) == [str(p) for p in pd.period_range("2022-01", "2023-04", freq="M")]
    cols = ["cpts_aci", "cpts_projet-sante", "cpts_lettre-intention", "cpts_pre-projet", "cpts_any"]
    assert f.loc["2022-01", cols].tolist() == [0, 0, 0, 1, 1]
    assert f.loc["2022-05", cols].tolist() == [0, 0, 0, 1, 1]
    assert f.loc["2022-06", cols].tolist() == [0, 0, 1, 1, 1]
    assert f.loc["2022-11", cols].tolist() == [0, 1, 1, 1, 1]  # dated on the last day of the month
    assert f.loc["2022-12", cols].tolist() == [0, 1, 1, 1, 2]  # D, without stage: "any" only
    assert f.loc["2023-01", cols].tolist() == [0, 1, 1, 1, 2]
    assert f.loc["2023-02", cols].tolist() == [0, 2, 2, 2, 3]  # B appears at its current stage
    assert f.loc["2023-03", cols].tolist() == [1, 2, 2, 2, 3]
    assert f.loc["2023-04", cols].tolist() == [1, 2, 2, 2, 3]
    pops = ["population_aci", "population_projet-sante", "population_pre-projet", "population_any"]
    assert f.loc["2022-01", pops].tolist() == [0, 0, A_POP, A_POP]
    assert f.loc["2022-12", pops].tolist() == [0, A_POP, A_POP, A_POP + D_POP]
    # Trélazé, in A and B, once at each level.
    assert f.loc["2023-02", pops].tolist() == [0, A_POP + B_ONLY, A_POP + B_ONLY, A_POP + B_ONLY + D_POP]
    assert f.loc["2023-04", pops].tolist() == [A_POP, A_POP + B_ONLY, A_POP + B_ONLY, A_POP + B_ONLY + D_POP]


def test_history_says_what_is_unknown(hist):
    assert hist.undated == ["C"]
    assert hist.current_only == ["B"]
    text = " ".join(hist.notes)
    assert "1 CPTS sans aucune date (sans date) : exclue de la courbe" in text and "(C)" in text
    assert "1 CPTS dont seul le stade actuel est daté : comptée à partir de cette date seulement" in text
    d = hist.to_dict()
    assert d["undated_cpts"] == ["C"] and d["current_stage_only_cpts"] == ["B"]
    assert d["months"][-1] == {
        "month": "2023-04",
        "cpts": {"aci": 1, "projet-sante": 2, "lettre-intention": 2, "pre-projet": 2, "any": 3},
        "population_covered_by_stage": {
            "aci": A_POP,
            "projet-sante": A_POP + B_ONLY,
            "lettre-intention": A_POP + B_ONLY,
            "pre-projet": A_POP + B_ONLY,
        },
        "population_covered": A_POP + B_ONLY + D_POP,
    }


def test_history_without_history_file(ref, unit_pop):
    """Only the register's dates: A is counted from its ACI date, at ACI, nothing before."""
    links, cpts = views(HIST_ROWS, ref, dates=HIST_DATES)
    h = coverage_history(links, cpts, unit_pop, end="2023-03")
    assert list(h.frame.index) == ["2022-12", "2023-01", "2023-02", "2023-03"]
    assert h.frame["cpts_any"].tolist() == [1, 1, 2, 3]
    assert h.frame["cpts_aci"].tolist() == [0, 0, 0, 1]
    assert h.current_only == ["A", "B"]


def test_history_area(ref, unit_pop):
    links, cpts = views(HIST_ROWS, ref, dates=HIST_DATES)
    h = coverage_history(
        links,
        cpts,
        unit_pop,
        history=history_from_frame(HISTORY, cpts.index),
        unit_area=ref.units["departement"],
        area="49",
        area_name="Maine-et-Loire",
        end="2023-04",
    )
    assert h.undated == [] and h.population == int(
        ref.units.loc[ref.units["departement"] == "49", "population"].sum()
    )
    assert h.frame.loc["2023-04", ["cpts_any", "population_any"]].tolist() == [2, A_POP + B_ONLY]
    assert h.area == {"code": "49", "nom": "Maine-et-Loire"}


def test_history_outputs(hist):
    frame = hist.to_frame()
    assert frame.columns[:3].tolist() == [
        "Mois",
        "CPTS contrat ACI signé",
        "CPTS projet de santé validé ou plus",
    ]
    assert frame["CPTS tout stade"].tolist()[-1] == 3
    text = hist.to_text()
    assert "Couverture CPTS dans le temps — France entière" in text
    assert "Une ligne par trimestre" not in text and "2022-07" in text
    fig = history_figure(hist, goal=1000)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 6
    assert ax.get_legend().get_texts()[-1].get_text() == "Objectif : 1\u00a0000 CPTS"
    assert ax.get_ylabel() == "Nombre de CPTS"


def test_history_text_by_quarter(ref, unit_pop):
    links, cpts = views(HIST_ROWS, ref, dates=HIST_DATES)
    h = coverage_history(
        links, cpts, unit_pop, history=history_from_frame(HISTORY, cpts.index), end="2026-01"
    )
    text = h.to_text()
    assert "Une ligne par trimestre" in text
    assert "\n2023-03 " in text and "\n2023-02 " not in text and "\n2026-01 " in text


def test_parse_date():
    import datetime as dt

    assert parse_date("2023-03-05") == dt.date(2023, 3, 5)
    assert parse_date("05/03/2023") == dt.date(2023, 3, 5)
    assert parse_date("2023-03-05T00:00:00") == dt.date(2023, 3, 5)
    with pytest.raises(ValueError, match="date '31/02/2023' impossible"):
        parse_date("31/02/2023")
    with pytest.raises(ValueError, match="illisible"):
        parse_date("mars 2023")


def test_read_history_errors(tmp_path):
    path = tmp_path / "historique.csv"
    path.write_text(
        "cpts_id;statut;date\nA;pre-projet;2022-01-10\nZ;aci;2022-01-10\n"
        "A;arrêté;2022-02-01\nA;aci;31/02/2023\nA;aci;\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        read_history(path, ["A", "B"])
    msg = str(err.value)
    assert f"{path} : ligne 3 : CPTS 'Z' absente du registre" in msg
    assert f"{path} : ligne 4 : statut 'arrêté' inconnu ; attendu pre-projet" in msg
    assert f"{path} : ligne 5 : date '31/02/2023' impossible" in msg
    assert f"{path} : ligne 6 : date manquante" in msg
    assert [(p["line"], p["value"]) for p in err.value.problems] == [
        (3, "Z"),
        (4, "arrêté"),
        (5, "31/02/2023"),
        (6, ""),
    ]
    path.write_text("cpts_id;statut;date\nA;Projet de santé;2022-01-10\n", encoding="utf-8")
    got = read_history(path, ["A"])
    assert got[["cpts_id", "statut", "line"]].values.tolist() == [["A", "projet-sante", 2]]


def test_history_bad_register_date(ref, unit_pop):
    # The register itself refuses an impossible date (line and value); a cpts view built
    # another way is still checked by the history.
    with pytest.raises(InputError, match="ligne n°1 du tableau : date_statut '2023-13-01' impossible"):
        views(HIST_ROWS, ref, dates={"A": "2023-13-01"})
    links, cpts = views(HIST_ROWS, ref)
    cpts.loc["A", "date_statut"] = "2023-13-01"
    with pytest.raises(InputError, match="registre : CPTS 'A' : date_statut : date '2023-13-01' impossible"):
        coverage_history(links, cpts, unit_pop, end="2023-04")


OLD_ROWS = [
    ("A", "CPTS Angers", "49007", "aci", "2022-05-01"),
    ("A", "CPTS Angers", "49353", "aci", "2022-05-01"),
    ("B", "CPTS Loire-Authion", "49015", "projet-sante", ""),
    ("C", "CPTS du Pays de Redon", "35236", "lettre-intention", "2021-01-01"),
    ("C", "CPTS du Pays de Redon", "44185", "lettre-intention", "2021-01-01"),
    ("R", "CPTS Paris Centre", "75101", "pre-projet", ""),
    ("R", "CPTS Paris Centre", "44185", "pre-projet", ""),
]
NEW_ROWS = [
    ("A", "CPTS du Grand Angers", "49007", "aci", "01/05/2022"),  # same date, written differently
    ("A", "CPTS du Grand Angers", "49015", "aci", "01/05/2022"),
    ("B", "CPTS Loire-Authion", "49015", "aci", "15/01/2024"),
    ("C", "CPTS du Pays de Redon", "35236", "lettre-intention", "2021-01-01"),
    ("C", "CPTS du Pays de Redon", "44185", "lettre-intention", "2021-01-01"),
    ("N", "CPTS Paris 2e", "75102", "pre-projet", ""),
]


def dated_views(rows, ref):
    df = pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee", "statut", "date_statut"])
    table = register_from_frame(df, ref).table
    links = table[["cpts_id", "code_insee"]].drop_duplicates().reset_index(drop=True)
    cpts = table.groupby("cpts_id", sort=False)[["cpts_nom", "statut", "date_statut"]].first()
    return links, cpts


@pytest.fixture(scope="module")
def changes(ref, unit_pop):
    return compare_registers(
        dated_views(OLD_ROWS, ref),
        dated_views(NEW_ROWS, ref),
        unit_pop,
        ref.units["nom"],
        old_source="registre_2024.csv",
        new_source="registre_2025.csv",
    )


def test_changes_added_removed_renamed(changes):
    assert changes.added == [
        {
            "cpts_id": "N",
            "cpts_nom": "CPTS Paris 2e",
            "statut": "pre-projet",
            "date_statut": "",
            "communes": 1,
            "population": 19847,
        }
    ]
    assert changes.removed == [
        {
            "cpts_id": "R",
            "cpts_nom": "CPTS Paris Centre",
            "statut": "pre-projet",
            "date_statut": "",
            "communes": 2,
            "population": 15114 + 3311,
        }
    ]
    assert changes.renamed == [
        {"cpts_id": "A", "old_name": "CPTS Angers", "new_name": "CPTS du Grand Angers"}
    ]


def test_changes_stage_and_perimeter(ref, changes):
    assert changes.stage_changes == [
        {
            "cpts_id": "B",
            "cpts_nom": "CPTS Loire-Authion",
            "old_stage": "projet-sante",
            "old_date": "",
            "new_stage": "aci",
            "new_date": "2024-01-15",
        }
    ]
    names = ref.units["nom"]
    assert changes.perimeter_changes == [
        {
            "cpts_id": "A",
            "cpts_nom": "CPTS du Grand Angers",
            "communes_in": [{"code": "49015", "nom": names["49015"]}],
            "communes_out": [{"code": "49353", "nom": names["49353"]}],
            "population_before": 159022 + 16333,
            "population_after": 159022 + 15251,
        }
    ]


def test_changes_coverage_effects(changes):
    c = changes.coverage
    assert [u["code"] for u in c["white_zones_appeared"]] == ["49353", "75101"]
    assert [u["population"] for u in c["white_zones_appeared"]] == [16333, 15114]
    assert [u["code"] for u in c["white_zones_disappeared"]] == ["75102"]
    assert [(u["code"], u["cpts"]) for u in c["new_overlaps"]] == [("49015", ["A", "B"])]
    assert [(u["code"], u["cpts"]) for u in c["overlaps_resolved"]] == [("44185", ["C", "R"])]
    assert c["population_covered_before"] == 159022 + 16333 + 15251 + 9542 + 3311 + 15114
    assert c["population_covered_after"] == 159022 + 15251 + 9542 + 3311 + 19847


def test_changes_outputs(changes):
    d = changes.to_dict()
    for key in ("added", "removed", "renamed", "stage_changes", "perimeter_changes"):
        assert all("cpts_id" in item for item in d[key]) and d[key]
    assert set(d) >= {"added", "removed", "renamed", "stage_changes", "perimeter_changes", "coverage"}
    text = changes.to_text()
    assert "CPTS ajoutées : 1" in text and "CPTS supprimées : 1" in text
    assert "A : « CPTS Angers » devient « CPTS du Grand Angers »" in text
    assert "Projet de santé validé → Contrat ACI signé (15/01/2024)" in text
    assert "population 175\u00a0355 → 174\u00a0273 habitants" in text
    assert "Zones blanches apparues : 2 communes, 31\u00a0447 habitants" in text
    assert "identifiant (cpts_id)" in text
    frames = changes.to_frames()
    assert frames["Périmètres"].iloc[0]["Communes sorties"].endswith("(49353)")
    assert (
        len(frames["Nouveaux chevauchements"]) == 1
        and frames["Nouveaux chevauchements"].iloc[0]["CPTS"] == "A, B"
    )


def test_changes_none(ref, unit_pop):
    same = dated_views(OLD_ROWS, ref)
    ch = compare_registers(same, same, unit_pop, ref.units["nom"])
    assert ch.unchanged and "Aucun changement." in ch.to_text()


FUNDING_ROWS = [*STAGE_ROWS[:6], ("F", "CPTS Angers-Loire", "49015", "aci")]


@pytest.fixture(scope="module")
def funding_cpts(ref):
    df = pd.DataFrame(FUNDING_ROWS, columns=["cpts_id", "cpts_nom", "code_insee", "statut"])
    return cpts_table(ref, register_from_frame(df, ref))


@pytest.fixture(scope="module")
def funding_table():
    return read_funding_table()


def ceiling(table, version, taille):
    t = table[
        (table["version"] == version) & (table["taille"] == taille) & (table["poste"] == "total_maximum")
    ]
    return float(t["montant_annuel_eur"].iloc[0])


def test_shipped_funding_table(funding_table):
    t = funding_table
    assert set(t["version"]) == {"aci-2019", "aci-avenant2"}
    assert [ceiling(t, "aci-2019", k) for k in (1, 2, 3, 4)] == [220000, 287000, 370000, 450000]
    assert ceiling(t, "aci-avenant2", 4) == 580000
    found = t[t["statut"] != "non trouvé"]
    assert found["montant_annuel_eur"].notna().all() and (found["source"] != "").all()
    assert t.loc[t["statut"] == "non trouvé", "montant_annuel_eur"].isna().all()


def test_funding_estimate_aci(funding_cpts, funding_table):
    assert funding_cpts.loc[["A", "F"], "aci_size_class"].tolist() == [4, 1]
    est = funding_estimate(funding_cpts, funding_table)
    assert est.version == "aci-2019"
    total = ceiling(funding_table, "aci-2019", 4) + ceiling(funding_table, "aci-2019", 1)
    assert est.per_cpts["montant_max_eur"].to_dict() == {"A": 450000, "F": 220000}
    assert est.national == {
        "cpts": 2,
        "montant_max_eur": total,
        "cpts_sans_montant": 0,
        # A range only for CPTS sharing a commune declared shared (issue 22): none here.
        "montant_max_eur_bas": total,
        "montant_max_eur_haut": total,
        "cpts_taille_inconnue": 0,
    }
    assert est.by_departement.loc["49", ["cpts", "montant_max_eur"]].tolist() == [2, total]
    assert est.by_region.loc["52", "montant_max_eur"] == total
    assert est.excluded == 2
    text = est.to_text()
    assert "Estimation du financement ACI (barème aci-2019)" in text
    assert "Enveloppe annuelle maximale estimée : 670\u00a0000 € pour 2 CPTS" in text
    assert "Les versements réels dépendent des missions engagées" in text
    assert "cette estimation est basse" in text
    d = est.to_dict()
    assert d["estimate"] is True and d["national"]["montant_max_eur"] == 670000
    assert {c["cpts_id"]: c["taille"] for c in d["cpts"]} == {"A": 4, "F": 1}
    frames = est.to_frames()
    assert set(frames) == {"Estimation par CPTS", "Par département", "Par région"}
    per = frames["Estimation par CPTS"]
    assert per[
        ["Identifiant", "Population", "Taille ACI", "Enveloppe annuelle maximale estimée (€)"]
    ].values.tolist() == [["A", 175355, 4, 450000.0], ["F", 15251, 1, 220000.0]]


def test_funding_estimate_every_stage(funding_cpts, funding_table):
    est = funding_estimate(
        funding_cpts, funding_table, stages=("aci", "projet-sante", "lettre-intention", "pre-projet")
    )
    t1, t4 = ceiling(funding_table, "aci-2019", 1), ceiling(funding_table, "aci-2019", 4)
    assert est.national["montant_max_eur"] == t4 + 3 * t1
    # C (Redon) spans two départements and two régions: its whole envelope in each.
    assert est.by_departement.loc[["35", "44", "49"], "montant_max_eur"].tolist() == [t1, t1, t4 + 2 * t1]
    assert est.by_region.loc[["52", "53"], "montant_max_eur"].tolist() == [t4 + 3 * t1, t1]
    assert any("comptée, avec toute son enveloppe, dans chacun" in n for n in est.notes)


def test_funding_estimate_incomplete_version(funding_cpts, funding_table):
    est = funding_estimate(funding_cpts, funding_table, version="aci-avenant2")
    assert {k: est.national[k] for k in ("cpts", "montant_max_eur", "cpts_sans_montant")} == {
        "cpts": 2,
        "montant_max_eur": 580000,
        "cpts_sans_montant": 1,
    }
    assert est.per_cpts.at["F", "base"] == "non trouvé"
    assert "Aucun montant confirmé pour la (les) taille(s) 1, 2, 3" in " ".join(est.notes)
    with pytest.raises(InputError, match="version 'aci-2030' absente"):
        funding_estimate(funding_cpts, funding_table, version="aci-2030")
    with pytest.raises(InputError, match="stade\\(s\\) 'signé' inconnu"):
        funding_estimate(funding_cpts, funding_table, stages=("signé",))


def test_read_funding_table_errors(tmp_path):
    path = tmp_path / "bareme.csv"
    head = (
        "version,texte,date_texte,taille,poste,part,montant_annuel_eur,statut,source,date_source,remarque\n"
    )
    path.write_text(
        head
        + "v1,ACI,2019-06-20,5,total_maximum,total,1000,trouvé,src,2019-11-21,\n"
        + "v1,ACI,2019-06-20,1,parcours,mixte,1000,trouvé,src,2019-11-21,\n"
        + "v1,ACI,2019-06-20,1,total_maximum,total,abc,trouvé,src,2019-11-21,\n"
        + "v1,ACI,2019-06-20,2,total_maximum,total,1000,non trouvé,,,\n"
        + "v1,ACI,21/06/2019,3,total_maximum,total,1000,trouvé,src,,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        read_funding_table(path)
    msg = str(err.value)
    assert f"{path} : ligne 2 : taille '5' inconnue" in msg
    assert f"{path} : ligne 3 : part 'mixte' inconnue" in msg
    assert f"{path} : ligne 4 : montant 'abc' illisible" in msg
    assert f"{path} : ligne 5 : montant donné avec le statut 'non trouvé'" in msg
    assert f"{path} : ligne 6 : date_texte '21/06/2019' illisible" in msg
    assert {p["line"] for p in err.value.problems} == {2, 3, 4, 5, 6}
    path.write_text("version,taille\nv1,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="ligne 1 : colonne\\(s\\) texte, date_texte, poste"):
        read_funding_table(path)


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        ("inf", "illisible"),
        ("1e400", "illisible"),
        ("nan", "illisible"),
        ("-5", "négatif"),
        ("1e12", "invraisemblable"),
    ],
)
def test_funding_amount_not_a_number_of_euros(tmp_path, amount, why):
    """``inf`` and ``1e400`` ended in an internal error; ``nan`` was called a negative amount."""
    path = tmp_path / "bareme.csv"
    path.write_text(
        "version,texte,date_texte,taille,poste,part,montant_annuel_eur,statut,source,date_source,remarque\n"
        f"v1,ACI,2019-06-20,1,total_maximum,total,{amount},trouvé,src,2019-11-21,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        read_funding_table(path)
    assert f"{path} : ligne 2 : montant" in str(err.value) and why in str(err.value)
    assert "négatif" not in str(err.value) or why == "négatif"


def test_any_level_matches_coverage_summary(ref, unit_pop):
    """The "any stage" level is the population_covered of `coverage`, département by département."""
    from cpts_geo.steering.coverage import coverage_summary

    df = pd.DataFrame(STAGE_ROWS, columns=["cpts_id", "cpts_nom", "code_insee", "statut"])
    reg = register_from_frame(df, ref)
    links, cpts = views(STAGE_ROWS, ref)
    got = covered_by_stage(unit_pop, links, cpts["statut"], ref.units["departement"])
    cov = coverage_summary(ref, reg)
    for entry in cov.departements:
        assert got.at[entry["code"], "any"] == entry["population_covered"]
        assert got.at[entry["code"], "cpts"] == entry["cpts"]


UNITS = ["49007", "49353", "49015", "35236", "44185", "97209"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ABCDE"), st.sampled_from(UNITS)), min_size=1, max_size=15),
    st.dictionaries(
        st.sampled_from("ABCDE"),
        st.sampled_from(["", "pre-projet", "lettre-intention", "projet-sante", "aci"]),
    ),
    st.randoms(use_true_random=False),
)
def test_by_stage_invariants(pairs, stages, rnd):
    pop = pd.Series(POP)
    links = pd.DataFrame(pairs, columns=["cpts_id", "code_insee"])
    stage = pd.Series(stages, dtype=object)
    got = covered_by_stage(pop, links, stage).loc["FR"]
    # Cumulative levels never decrease towards "any"; "any" is the covered population, each once.
    values = [got[level] for level in ("aci", "projet-sante", "lettre-intention", "pre-projet", "any")]
    assert values == sorted(values)
    assert got["any"] == pop[sorted(set(links["code_insee"]))].sum()
    # The order of the rows never changes the result.
    shuffled = links.sample(frac=1, random_state=rnd.randint(0, 10**6))
    assert covered_by_stage(pop, shuffled, stage).loc["FR"].equals(got)


def test_history_current_stage_undated(ref, unit_pop):
    """E is under ACI in the register without a date; the history dates only its projet de santé."""
    rows = [("E", "CPTS Angers", "49007", "aci")]
    links, cpts = views(rows, ref)
    history = history_from_frame(
        pd.DataFrame({"cpts_id": ["E"], "statut": ["projet-sante"], "date": ["2022-06-01"]}), cpts.index
    )
    h = coverage_history(links, cpts, unit_pop, history=history, end="2022-08")
    assert h.frame["cpts_projet-sante"].tolist() == [1, 1, 1]
    assert h.frame["cpts_aci"].tolist() == [0, 0, 0]
    assert h.undated == [] and h.current_only == []
    assert any(
        "dont le stade actuel n'est pas daté : comptée au dernier stade daté de l'historique, "
        "jamais au stade actuel (E)" in n
        for n in h.notes
    )


def test_read_history_xlsx(tmp_path):
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Identifiant", "Stade", "Date"])
    ws.append(["A", "Lettre d'intention validée", dt.datetime(2022, 6, 15)])
    ws.append(["A", "ACI", "31/04/2023"])
    path = tmp_path / "historique.xlsx"
    wb.save(path)
    with pytest.raises(InputError, match="ligne 3 : date '31/04/2023' impossible"):
        read_history(path, ["A"])
    ws.delete_rows(3)
    wb.save(path)
    got = read_history(path, ["A"])
    assert got[["cpts_id", "statut", "date"]].values.tolist() == [
        ["A", "lettre-intention", dt.date(2022, 6, 15)]
    ]


def test_covered_by_stage_levels(ref):
    from cpts_geo.steering.by_stage import covered_by_stage_levels

    links, cpts = views(STAGE_ROWS, ref)
    got = covered_by_stage_levels(ref.units, links, cpts["statut"])
    assert got["national"].at["FR", "pre-projet"] == 203459
    assert got["regions"].at["52", "pre-projet"] == 190606 + 3311  # Pays de la Loire: 49 and 44
    assert got["regions"].at["53", "lettre-intention"] == 9542
    assert got["departements"].at["49", "aci"] == 175355


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from("ABCDE"),
        st.tuples(
            st.sampled_from(["", "pre-projet", "lettre-intention", "projet-sante", "aci"]),
            st.dates(
                min_value=pd.Timestamp("2019-01-01").date(), max_value=pd.Timestamp("2024-12-31").date()
            ),
            st.sets(st.sampled_from(UNITS), min_size=1, max_size=3),
        ),
        min_size=1,
    )
)
def test_history_ends_at_the_current_coverage(cpts_spec):
    """Every CPTS dated: the last month of the history is today's coverage by stage."""
    pop = pd.Series(POP)
    links = pd.DataFrame(
        [(cid, u) for cid, (_, _, us) in cpts_spec.items() for u in sorted(us)],
        columns=["cpts_id", "code_insee"],
    )
    cpts = pd.DataFrame(
        {
            "cpts_nom": list(cpts_spec),
            "statut": [s for s, _, _ in cpts_spec.values()],
            "date_statut": [d.isoformat() for _, d, _ in cpts_spec.values()],
        },
        index=pd.Index(list(cpts_spec), name="cpts_id"),
    )
    h = coverage_history(links, cpts, pop, end="2025-01")
    now = covered_by_stage(pop, links, cpts["statut"]).loc["FR"]
    last = h.frame.iloc[-1]
    for level in ("aci", "projet-sante", "lettre-intention", "pre-projet", "any"):
        assert last[f"population_{level}"] == now[level]
    assert last["cpts_any"] == len(cpts_spec) and h.undated == []


def test_changes_are_symmetric(ref, unit_pop):
    old, new = dated_views(OLD_ROWS, ref), dated_views(NEW_ROWS, ref)
    there = compare_registers(old, new, unit_pop, ref.units["nom"])
    back = compare_registers(new, old, unit_pop, ref.units["nom"])
    assert [c["cpts_id"] for c in back.added] == [c["cpts_id"] for c in there.removed]
    assert back.coverage["white_zones_appeared"] == there.coverage["white_zones_disappeared"]
    assert [u["code"] for u in back.coverage["new_overlaps"]] == [
        u["code"] for u in there.coverage["overlaps_resolved"]
    ]
    p = back.perimeter_changes[0]
    assert (p["communes_in"], p["population_before"]) == (there.perimeter_changes[0]["communes_out"], 174273)


def test_history_national_scale(ref, unit_pop):
    """1,000 dated CPTS over every unit of France, 8 years by month: well under a second."""
    import time

    rng = np.random.default_rng(1)
    codes = ref.units.index.to_numpy()
    ids = [f"C{i}" for i in range(1000)]
    links = pd.DataFrame(
        {"cpts_id": [ids[i] for i in rng.integers(0, 1000, len(codes))], "code_insee": codes}
    )
    days = rng.integers(0, 2900, 1000)
    cpts = pd.DataFrame(
        {
            "cpts_nom": ids,
            "statut": rng.choice(["pre-projet", "projet-sante", "aci"], 1000),
            "date_statut": [
                (pd.Timestamp("2019-01-01") + pd.Timedelta(days=int(d))).date().isoformat() for d in days
            ],
        },
        index=pd.Index(ids, name="cpts_id"),
    )
    start = time.perf_counter()
    h = coverage_history(links, cpts, unit_pop, end="2026-12")
    assert time.perf_counter() - start < 2
    assert len(h.frame) == 96 and h.frame["cpts_any"].iloc[-1] == 1000
    assert h.frame["population_any"].iloc[-1] == int(unit_pop.sum())


def test_a_commune_declared_shared_in_both_registers_is_no_new_overlap(ref):
    """compare-registers listed Nice, declared shared by two CPTS in both registers, as a new
    overlap (the old register had it in one CPTS only)."""
    from cpts_geo.steering.changes import register_changes

    cols = ["cpts_id", "cpts_nom", "code_insee", "commune_partagee"]
    old = register_from_frame(pd.DataFrame([("A", "CPTS A", "06088", "non")], columns=cols), ref)
    new = register_from_frame(
        pd.DataFrame([("A", "CPTS A", "06088", "oui"), ("B", "CPTS B", "06088", "oui")], columns=cols), ref
    )
    ch = register_changes(ref, old, new)
    assert ch.coverage["new_overlaps"] == [] and ch.coverage["overlaps_resolved"] == []
    undeclared = register_from_frame(
        pd.DataFrame([("A", "CPTS A", "06088", "non"), ("B", "CPTS B", "06088", "non")], columns=cols), ref
    )
    assert [u["code"] for u in register_changes(ref, old, undeclared).coverage["new_overlaps"]] == ["06088"]
    assert [u["code"] for u in register_changes(ref, undeclared, new).coverage["overlaps_resolved"]] == [
        "06088"
    ]


def test_funding_of_an_area_leads_with_the_area_s_total(ref):
    """``coverage --departement 49 --funding`` led with the whole register's envelope (39 CPTS,
    10.5 M€) as if it were the département's."""
    from cpts_geo.inputs.read import read_register
    from cpts_geo.reference.units import default_data_dir
    from cpts_geo.steering.coverage import coverage_summary, with_funding

    register = read_register(default_data_dir() / "examples" / "registre_fictif_pays_de_la_loire.csv", ref)
    lines = with_funding(coverage_summary(ref, register, departement="49")).funding.to_text().splitlines()
    assert lines[1] == (
        "Enveloppe annuelle maximale estimée, département Maine-et-Loire (49) : 2\u00a0287\u00a0000 € "
        "pour 7 CPTS qui la touchent"
    )
    assert (
        lines[2]
        == "Enveloppe annuelle maximale estimée, registre entier : 10\u00a0540\u00a0000 € pour 39 CPTS"
    )
    national = with_funding(coverage_summary(ref, register)).funding.to_text().splitlines()
    assert national[1].startswith("Enveloppe annuelle maximale estimée : 10\u00a0540\u00a0000 €")


def test_an_area_goal_keeps_its_decimal(ref):
    """« Objectif » dropped « ,0 » when an area's share of the national goal was whole (« 5 »
    beside « 12,2 »); the national goal stays the integer it is."""
    from cpts_geo.inputs.read import read_register
    from cpts_geo.reference.units import default_data_dir
    from cpts_geo.steering.coverage import coverage_summary

    register = read_register(default_data_dir() / "examples" / "registre_fictif_pays_de_la_loire.csv", ref)
    share = ref.departements.at["53", "population"] / ref.departements["population"].sum()
    cov = coverage_summary(ref, register, departement="53", goal=5 / share)
    assert cov.area["goal"] == 5.0
    text = cov.to_text()
    assert "pour un objectif de 5,0 (" in text
    assert any(line.startswith("53   Mayenne") and " 5,0 " in line for line in text.splitlines())
    assert "objectif national de 1\u00a0000" in coverage_summary(ref, register, departement="53").to_text()
