"""Tests of cpts_geo.diagnostic: indicator join on synthetic tables, territory summaries on real communes."""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pandas as pd
import pytest

import cpts_geo as cg
from cpts_geo._errors import InputError
from cpts_geo.diagnostic.charts import aci_chart, population_chart
from cpts_geo.diagnostic.indicators import aggregate_indicators
from cpts_geo.diagnostic.summary import (
    aci_distance,
    commune_table,
    french_table,
    rules_table,
    territory_summary,
    white_zones,
)
from cpts_geo.inputs.read import read_indicators
from cpts_geo.outputs.figures import territory_figure
from tests.grids import code, grid_reference

EXAMPLES = cg.reference.default_data_dir() / "examples"


# ---------------------------------------------------------------------------------------------
# Indicators on a synthetic grid: 4 communes in a row, populations 1,000 / 2,000 / 3,000 / 4,000
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def row():
    return grid_reference(4, 1, [[1000, 2000, 3000, 4000]])


A, B, C, D = (code(i, 0) for i in range(4))


def _table(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns, index=[A, B, C, D], dtype=float)


def test_population_weighted_mean_sum_and_count(row):
    ind = _table(taux=[10, 20, 30, 40], montant=[1.5, 2.5, 3.0, 100], medecins=[5, 4, 2, 100])
    out = aggregate_indicators(row, [A, B, C], ind, sums=["montant"], means=["taux"], counts=["medecins"])
    assert out.index.tolist() == ["montant", "taux", "medecins"]
    # (1000*10 + 2000*20 + 3000*30) / 6000 = 140000 / 6000
    assert out.at["taux", "valeur"] == pytest.approx(140_000 / 6_000)
    assert out.at["montant", "valeur"] == pytest.approx(7.0)
    assert out.at["medecins", "valeur"] == 11  # the threshold itself is published
    assert not out["secret"].any()
    assert out["communes"].tolist() == [3, 3, 3]
    assert out["communes_renseignees"].tolist() == [3, 3, 3]
    assert out["part_population_renseignee"].tolist() == [1.0, 1.0, 1.0]
    assert out["note"].tolist() == ["", "", ""]
    assert out.at["taux", "agregation"] == "moyenne pondérée par la population"


def test_weighted_mean_differs_from_plain_mean(row):
    ind = _table(taux=[0, 0, 0, 100])
    out = aggregate_indicators(row, [A, D], ind, means=["taux"])
    assert out.at["taux", "valeur"] == pytest.approx(80.0)  # 4000*100 / 5000, not 50


@pytest.mark.parametrize(
    "values, threshold, secret, shown",
    [
        ([3, 4, 3], 11, True, math.nan),  # 10: secret
        ([1, 0, 0], 11, True, math.nan),  # 1: secret
        ([0, 0, 0], 11, False, 0.0),  # zero names no one: published
        ([5, 4, 2], 11, False, 11.0),
        ([2, 2, 0], 5, True, math.nan),
        ([2, 3, 0], 5, False, 5.0),
    ],
)
def test_statistical_secrecy_masks_small_counts(row, values, threshold, secret, shown):
    ind = _table(n=[*values, 1000])
    out = aggregate_indicators(row, [A, B, C], ind, counts=["n"], secret_threshold=threshold)
    assert bool(out.at["n", "secret"]) is secret
    value = out.at["n", "valeur"]
    assert (math.isnan(value) and math.isnan(shown)) or value == shown
    if secret:
        assert out.at["n", "note"] == f"secret statistique : effectif entre 1 et {threshold - 1}"


def test_sums_are_never_masked(row):
    ind = _table(montant=[1, 2, 3, 4])
    out = aggregate_indicators(row, [A, B], ind, sums=["montant"])
    assert out.at["montant", "valeur"] == 3 and not out.at["montant", "secret"]


def test_missing_values_are_left_out_and_reported(row):
    ind = pd.DataFrame({"taux": [10.0, np.nan], "n": [20.0, np.nan]}, index=[A, B])  # C, D: absent
    out = aggregate_indicators(row, [A, B, C], ind, means=["taux"], counts=["n"])
    assert out.at["taux", "valeur"] == 10.0
    assert out.at["taux", "communes_renseignees"] == 1
    assert out.at["taux", "part_population_renseignee"] == pytest.approx(1000 / 6000)
    assert out.at["taux", "note"] == "moyenne sur 1 commune(s) renseignée(s) sur 3"
    assert out.at["n", "valeur"] == 20.0
    assert out.at["n", "note"] == "2 commune(s) sans valeur : total partiel (minimum)"
    none = aggregate_indicators(row, [C, D], ind, means=["taux"])
    assert math.isnan(none.at["taux", "valeur"])
    assert none.at["taux", "note"] == "aucune commune du territoire n'a de valeur"


def test_partial_small_count_is_still_secret(row):
    ind = pd.DataFrame({"n": [4.0, np.nan, 3.0]}, index=[A, B, C])
    out = aggregate_indicators(row, [A, B, C], ind, counts=["n"])
    assert out.at["n", "secret"]
    assert out.at["n", "note"].startswith(
        "secret statistique : effectif entre 1 et 10 ; 1 commune(s) sans valeur"
    )


def test_codes_are_normalized_and_territory_resolved(ref):
    # Belle-Île: Bangor 56009 (pop. 994), Le Palais 56152 (2,599); a code written as an int.
    pops = ref.units.loc[["56009", "56152"], "population"].tolist()
    assert pops == [994, 2599]
    ind = pd.DataFrame({"taux": [10.0, 20.0]}, index=[56009, "56152"])
    proposal = types.SimpleNamespace(codes=["56009", "56152"], name="Belle-Île (partie)", warnings=[])
    out = aggregate_indicators(ref, proposal, ind, means=["taux"])
    assert out.at["taux", "valeur"] == pytest.approx((994 * 10 + 2599 * 20) / (994 + 2599))


def test_aggregate_reports_every_problem_at_once(row):
    ind = _table(taux=[1, 2, 3, 4]).assign(nom=["a", "b", "c", "d"])
    with pytest.raises(InputError) as err:
        aggregate_indicators(
            row, [A], ind, sums=["absente", "taux"], means=["nom"], counts=["taux"], secret_threshold=0
        )
    msg = str(err.value)
    assert "colonne 'absente' introuvable" in msg
    assert "colonne 'nom' non numérique" in msg
    assert "colonne 'taux' demandée deux fois (somme et effectif (secret statistique))" in msg
    assert "seuil du secret statistique 0 invalide" in msg
    dup = pd.DataFrame({"taux": [1.0, 2.0]}, index=["1001", "01001"])
    with pytest.raises(InputError, match="code\\(s\\) présent\\(s\\) sur plusieurs lignes : 01001"):
        aggregate_indicators(row, [A], dup, means=["taux"])


# ---------------------------------------------------------------------------------------------
# Reading an indicator table
# ---------------------------------------------------------------------------------------------
def test_read_indicators_french_spreadsheet(row, tmp_path):
    path = tmp_path / "indicateurs.csv"
    text = (
        "CODGEO;Libellé;Taux de pauvreté;Médecins;Dépenses\n"
        f"{A};Commune A;10,0;3;1 234,5\n"
        f"{B};Commune B;20,0;s;2 000\n"
        f"{C};Commune C;30,0 %;5;\n"
        "1001;Ailleurs;1;1;1\n"
    )
    path.write_bytes(text.encode("cp1252"))
    ind = read_indicators(path, row)
    t = ind.table
    assert t.index.tolist() == [A, B, C, "01001"]
    assert ind.numeric_columns == ["Taux de pauvreté", "Médecins", "Dépenses"]
    assert t["Libellé"].tolist() == ["Commune A", "Commune B", "Commune C", "Ailleurs"]
    assert t["Dépenses"].tolist()[:2] == [1234.5, 2000.0] and math.isnan(t.at[C, "Dépenses"])
    assert math.isnan(t.at[B, "Médecins"])  # 's': secret in the source
    assert [w["line"] for w in ind.warnings] == [5]
    assert ind.warnings[0]["message"].startswith("code 01001 inconnu du COG 2026")
    out = aggregate_indicators(
        row, [A, B, C], ind, means=["Taux de pauvreté"], counts=["Médecins"], sums=["Dépenses"]
    )
    assert out.at["Taux de pauvreté", "valeur"] == pytest.approx(140_000 / 6_000)
    assert out.at["Médecins", "secret"]  # 3 + 5 = 8, and B is unknown
    assert out.at["Dépenses", "valeur"] == pytest.approx(3234.5)


def test_read_indicators_errors(tmp_path):
    bad = tmp_path / "sans_code.csv"
    bad.write_text("nom,taux\nA,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="aucune colonne de codes communes reconnue parmi 'nom', 'taux'"):
        read_indicators(bad)
    ok = read_indicators(bad, code_column="nom")
    assert ok.table.index.tolist() == ["A"]
    dup = tmp_path / "doublon.csv"
    dup.write_text("code_insee,taux\n49007,1\n,2\n49007,3\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_indicators(dup)
    assert "ligne 3 : code commune manquant" in str(err.value)
    assert "ligne 4 : code 49007 déjà présent ligne 2" in str(err.value)


def test_read_indicators_city_code_is_reported(ref, tmp_path):
    path = tmp_path / "paris.csv"
    path.write_text("code_insee,taux\n75056,1\n75101,2\n", encoding="utf-8")
    ind = read_indicators(path, ref)
    assert [w["value"] for w in ind.warnings] == ["75056"]
    assert "arrondissements municipaux" in ind.warnings[0]["message"]


def test_shipped_synthetic_indicators(ref):
    ind = read_indicators(EXAMPLES / "indicateurs_synthetiques.csv", ref)
    assert ind.warnings == []
    assert set(ind.table["donnees"]) == {"synthétiques (fictives)"}
    for path in EXAMPLES.glob("proposition_*.csv"):
        codes = cg.read_proposal(path, ref).codes
        assert set(codes) <= set(ind.table.index), path.name


# ---------------------------------------------------------------------------------------------
# Territory summary on real communes
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def register(ref):
    return cg.read_register(EXAMPLES / "registre_fictif_pays_de_la_loire.csv", ref)


def test_summary_of_an_island(ref):
    s = territory_summary(ref, ["56241", "56009", "56152", "56114"])
    assert s.codes == ["56009", "56114", "56152", "56241"]
    assert s.population == 5607
    assert s.largest == {"code": "56152", "nom": "Le Palais", "population": 2599, "share": 2599 / 5607}
    assert (s.aci_size_class, s.aci_next_bound, s.aci_gap, s.aci_margin) == (1, 40_000, 34_393, None)
    assert s.area_km2 == pytest.approx(ref.units.loc[s.codes, "area_km2"].sum(), abs=1e-3)
    assert s.density == pytest.approx(5607 / s.area_km2)
    assert s.epci.index.tolist() == ["245600465"] and bool(s.epci["entier"].iloc[0])
    assert s.neighbours.empty and s.neighbour_cpts.empty  # no land neighbour
    assert s.report.rule("population").status == "fail"


def test_summary_with_register(ref, register):
    p = cg.read_proposal(EXAMPLES / "proposition_valide.csv", ref)
    s = territory_summary(ref, p, existing=register)
    assert s.name == "Projet fictif de CPTS (zone blanche du registre fictif)"
    assert (s.population, len(s.codes)) == (28_413, 17)
    assert s.largest["nom"] == "Tiercé" and s.largest["population"] == 4589
    assert s.aci_gap == 40_000 - 28_413
    assert s.report.status == "pass"
    assert [r.id for r in s.report.rules][-1] == "overlap"
    assert s.epci.loc["200068955", "communes_dans_territoire"] == 17
    assert s.neighbour_cpts.index[0] == "FICTIF-52-042"
    assert s.neighbour_cpts.loc["FICTIF-52-042", ["communes_voisines", "communes_partagees"]].tolist() == [
        6,
        0,
    ]
    assert s.white_zone_neighbours.empty  # the example covers the whole white zone around Tiercé
    assert set(s.neighbours["etat"]) == {"couverte"}
    figures = s.key_figures()
    assert figures.loc["Population municipale 2023", "Valeur"] == "28\u00a0413 habitants"
    assert figures.loc["Vers la taille ACI suivante", "Valeur"] == (
        "taille 2 à partir de 40\u00a0000 habitants : il manque 11\u00a0587 habitants"
    )
    json.dumps(s.to_dict())


def test_summary_shared_communes_and_white_zones(ref, register):
    s = territory_summary(ref, cg.read_proposal(EXAMPLES / "proposition_enclave.csv", ref), existing=register)
    assert s.neighbour_cpts.loc["FICTIF-52-048", "communes_partagees"] == 10
    assert s.neighbour_cpts.loc["FICTIF-52-048", "statut"] == "Contrat ACI signé"
    assert s.neighbours.index[0] == "72181"  # Le Mans, enclosed
    redon = territory_summary(
        ref, cg.read_proposal(EXAMPLES / "proposition_deux_regions.csv", ref), existing=register
    )
    white = redon.white_zone_neighbours
    assert len(white) == len(redon.neighbours) - 2 and (white["cpts_id"] == "").all()
    assert white["population"].is_monotonic_decreasing


def test_summary_without_register_lists_every_neighbour(ref):
    s = territory_summary(ref, ["49007"])
    assert len(s.white_zone_neighbours) == len(s.neighbours) == len(ref.neighbours("49007"))
    assert s.neighbour_cpts.empty


def test_commune_table(ref):
    t = commune_table(ref, ["Angers", "49015"])
    assert t.index.tolist() == ["49007", "49015"]
    assert t.loc["49007", ["nom", "population"]].tolist() == ["Angers", 159_022]
    assert t["part_population"].sum() == pytest.approx(1.0)
    assert t.loc["49007", "densite"] == pytest.approx(159_022 / ref.units.at["49007", "area_km2"], abs=0.1)
    assert t.loc["49007", "epci_nom"] == "CU Angers Loire Métropole"


@pytest.mark.parametrize(
    "population, expected",
    [
        (0, (40_000, 40_000, None)),
        (39_999, (40_000, 1, None)),
        (40_000, (80_000, 40_000, 0)),
        (79_999, (80_000, 1, 39_999)),
        (80_000, (175_001, 95_001, 0)),
        (175_000, (175_001, 1, 95_000)),
        (175_001, (None, None, 0)),
    ],
)
def test_aci_distance(population, expected):
    assert aci_distance(population) == expected


def test_rules_table_in_french(ref):
    t = rules_table(cg.check_territory(ref, ["69385", "69386"]))
    assert t.loc["contiguity", ["regle", "resultat"]].tolist() == ["Continuité", "ÉCHEC"]


def test_white_zones_of_the_fictitious_register(ref, register):
    z = white_zones(ref, register, region="52")
    assert z["commune_principale"].tolist() == ["Tiercé", "Noirmoutier-en-l'Île", "L'Île-d'Yeu"]
    assert z["population"].tolist() == [28_413, 9_342, 4_883]
    cov = cg.coverage_summary(ref, register, region="52").area
    assert z["population"].sum() == cov["white_zone_population"]
    assert z["n_communes"].sum() == cov["white_zone_communes"]


def test_white_zones_on_a_grid(row):
    reg = pd.DataFrame({"cpts_id": ["X"], "cpts_nom": ["X"], "code_insee": [B]})
    z = white_zones(row, reg)
    assert z["codes"].tolist() == [[C, D], [A]]
    assert z["population"].tolist() == [7000, 1000]


def test_french_table_formats(row):
    ind = _table(taux=[10, 20, 30, 40], n=[3, 4, 3, 0], montant=[12_345.25, 0, 0, 0])
    out = aggregate_indicators(row, [A, B, C], ind, sums=["montant"], means=["taux"], counts=["n"])
    html = french_table(out).to_html()
    for text in ("Agrégation", "12\u00a0345,2", "23,3", "secret", "100,0\u00a0%", "Secret statistique"):
        assert text in html
    empty = french_table(out.iloc[:0], empty="Rien à signaler.").to_html()
    assert "Rien à signaler." in empty


def test_figures_are_french(ref, register):
    s = territory_summary(ref, cg.read_proposal(EXAMPLES / "proposition_enclave.csv", ref), existing=register)
    fig = territory_figure(ref, s.report, existing=register)
    ax = fig.axes[0]
    assert ax.get_title().startswith("Projet fictif autour du Mans (Le Mans enclavé)\n56 255 habitants")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    # Drawn from the report: its 12 communes are all in a CPTS of the register, Le Mans enclaved.
    assert s.report.rule("overlap").details["n_communes"] == 12
    assert labels[:3] == [
        "Commune déjà dans une CPTS existante",
        "Limite du territoire",
        "Commune enclavée (hors territoire)",
    ]
    assert "CPTS — Contrat ACI signé" in labels and "Commune du territoire" not in labels
    texts = {t.get_text() for t in ax.texts}
    assert {"Allonnes", "CPTS fictive du Mans"} <= texts
    # Given the summary itself (the former signature), the figure is its report's, with a warning.
    with pytest.warns(DeprecationWarning, match=r"territory_figure\(ref, synthese.report"):
        old = territory_figure(ref, s, existing=register)
    assert old.axes[0].get_title() == ax.get_title()
    chart = population_chart(s)
    assert chart.axes[0].get_xlabel() == "Population municipale 2023"
    assert "commune la plus peuplée : Allonnes, 19,1 % de la population" in chart._suptitle.get_text()
    gauge = aci_chart(s)
    assert gauge.axes[0].get_title() == (
        "Taille ACI 2 — taille 3 à partir de 80 000 habitants : il manque 23 745 habitants"
    )
