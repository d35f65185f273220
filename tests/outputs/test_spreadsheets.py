"""XLSX outputs of the commands (`-o x.xlsx`), opened with openpyxl; the suggest CSV."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from cpts_geo.cli.main import main
from cpts_geo.outputs.spreadsheets import coverage_workbook, source_rows
from cpts_geo.outputs.xlsx import write_workbook
from cpts_geo.reference.units import default_data_dir

EXAMPLES = default_data_dir() / "examples"
REGISTER = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def headers(ws, row: int = 1) -> list:
    return [c.value for c in ws[row]]


def source(wb) -> dict:
    return {r[0]: r[1] for r in wb["Source"].iter_rows(min_row=2, values_only=True)}


def test_check_xlsx(tmp_path):
    out = tmp_path / "rapport.xlsx"
    proposal = EXAMPLES / "proposition_epci_partiel.csv"
    res = run("check", proposal, "--existing", REGISTER, "-o", out)
    assert res.exit_code == 1  # overlap: the exit code does not depend on the output format
    assert f"Écrit : {out}" in res.stderr
    assert "Résultat : ÉCHEC" in res.stdout
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Synthèse", "Règles", "Communes", "EPCI", "Lecture de la liste", "Source"]
    syn = wb["Synthèse"]
    assert syn["A1"].value == "Vérification du territoire : Projet fictif sur une moitié d'EPCI"
    assert headers(syn, 2)[:5] == [
        "Territoire",
        "Résultat",
        "Communes",
        "Population municipale",
        "Taille ACI",
    ]
    assert [c.value for c in syn[3]][:7] == [
        "Projet fictif sur une moitié d'EPCI",
        "ÉCHEC",
        22,
        63708,
        2,
        1,
        1,
    ]
    assert syn.freeze_panes == "A3"
    rules = wb["Règles"]
    assert headers(rules) == ["Règle", "Identifiant", "Résultat", "Constat"]
    assert [c.value for c in rules["A"]][1:] == [
        "Population",
        "Continuité",
        "Enclaves",
        "EPCI",
        "Départements et régions",
        "Chevauchement",
    ]
    assert rules["C7"].value == "ÉCHEC"
    com = wb["Communes"]
    assert headers(com) == [
        "Code commune",
        "Commune",
        "Population",
        "Département",
        "SIREN de l'EPCI",
        "EPCI",
        "Constat",
    ]
    assert com.freeze_panes == "A2" and com.max_row == 23
    assert (com["A2"].value, com["A2"].data_type, com["B2"].value) == ("49002", "s", "Allonnes")
    assert (com["C2"].value, com["C2"].number_format) == (2911, "#,##0")
    assert com["G2"].value == "Commune déjà dans une CPTS existante"
    epci = wb["EPCI"]
    assert [c.value for c in epci[2]] == [
        "200071876",
        "CA Saumur Val de Loire",
        22,
        45,
        63708,
        98005,
        0.65,
        "non",
    ]
    assert epci["G2"].number_format == "0.0%"
    src = source(wb)
    assert src["Millésime du COG"] == "2026"
    assert src["Population minimale"] == "20\u00a0000 (valeur par défaut)"
    assert src["Distance des liaisons maritimes (km)"] == "30 (valeur par défaut)"
    assert [v for k, v in wb["Source"].iter_rows(min_row=2, values_only=True) if k == "Fichier lu"][
        0
    ].startswith("proposition_epci_partiel.csv (modifié le ")


def test_check_xlsx_refuses_a_format(tmp_path):
    res = run("check", EXAMPLES / "proposition_valide.csv", "--format", "json", "-o", tmp_path / "r.xlsx")
    assert res.exit_code == 2
    assert "--format json : sans objet pour une sortie .xlsx" in res.stderr


def test_check_register_xlsx(tmp_path):
    out = tmp_path / "registre.xlsx"
    res = run("check-register", REGISTER, "--min-population", "15000", "-o", out)
    assert res.exit_code == 1
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["CPTS × règles", "Communes partagées", "Communes enclavées", "Source"]
    ws = wb["CPTS × règles"]
    assert headers(ws) == [
        "Identifiant",
        "CPTS",
        "Stade",
        "Date du stade",
        "Communes",
        "Population",
        "Taille ACI",
        "Résultat",
        "Règle : Population",
        "Règle : Continuité",
        "Règle : Enclaves",
        "Règle : EPCI",
        "Règle : Départements et régions",
        "Règle : Chevauchement",
    ]
    assert ws.max_row == 61
    row = [c.value for c in ws[2]]
    assert row[:8] == [
        "FICTIF-52-001",
        "CPTS fictive de Pontchâteau",
        "Lettre d'intention validée",
        dt.datetime(2020, 1, 1),
        10,
        40537,
        2,
        "ÉCHEC",
    ]
    assert row[-1] == "ÉCHEC" and ws["D2"].number_format == "dd/mm/yyyy"
    shared = wb["Communes partagées"]
    assert shared["A1"].value == "Communes partagées ou en chevauchement entre CPTS"
    assert [c.value for c in shared[3]] == [
        "44013",
        "Besné",
        "FICTIF-52-001 (CPTS fictive de Pontchâteau) ; FICTIF-52-041 (CPTS fictive de Saint-Nazaire)",
        3322,
        "chevauchement",
    ]
    enc = wb["Communes enclavées"]
    assert enc.max_row == 18
    assert [c.value for c in enc[2]][:5] == [1, "49017", "Baracé", 17, 28413]
    assert source(wb)["Population minimale"] == "15\u00a0000 (valeur choisie ; par défaut : 20\u00a0000)"


def test_coverage_xlsx(tmp_path):
    out = tmp_path / "couverture.xlsx"
    res = run("coverage", REGISTER, "--region", "52", "-o", out)
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["National", "Régions", "Départements", "Source"]
    reg = wb["Régions"]
    head = headers(reg)
    assert head[:8] == [
        "Code",
        "Nom",
        "CPTS",
        "CPTS — Pré-projet",
        "CPTS — Lettre d'intention validée",
        "CPTS — Projet de santé validé",
        "CPTS — Contrat ACI signé",
        "CPTS — Stade non renseigné",
    ]
    row = dict(zip(head, [c.value for c in reg[2]]))
    assert row["Code"] == "52" and row["Nom"] == "Pays de la Loire"
    assert (row["CPTS"], row["CPTS — Contrat ACI signé"], row["Population couverte"]) == (60, 39, 3864518)
    assert row["Part de la population couverte"] == 0.9891
    share_col = head.index("Part de la population couverte") + 1
    assert reg.cell(2, share_col).number_format == "0.0%"
    deps = wb["Départements"]
    assert [c.value for c in deps["A"]][1:] == ["44", "49", "53", "72", "85"]
    for sheet in ("National", "Régions", "Départements"):  # every header in French, no key left
        assert [h for h in headers(wb[sheet]) if "_" in h] == [], sheet
    assert "Communes partagées déclarées" in headers(deps)
    assert source(wb)["Région"] == "52 (valeur choisie ; par défaut : aucune)"
    assert source(wb)["Objectif national (CPTS)"] == "1\u00a0000 (valeur par défaut)"


def test_coverage_workbook_takes_every_key_of_the_entries(tmp_path):
    """Keys added to the coverage entries (the population covered by stage) become columns."""
    entry = {
        "code": "FR",
        "nom": "France entière",
        "cpts": 3,
        "population_covered_by_stage": {
            "aci": 100,
            "projet-sante": 150,
            "lettre-intention": 150,
            "pre-projet": 200,
        },
        "share_covered": 0.5,
        "nouvelle_cle": 2.5,
    }
    cov = SimpleNamespace(national=entry, regions=[dict(entry, code="52")], departements=[])
    out = write_workbook(tmp_path / "c.xlsx", coverage_workbook(cov), source=source_rows({"cog": 2026}))
    ws = openpyxl.load_workbook(out)["National"]
    assert headers(ws) == [
        "Code",
        "Nom",
        "CPTS",
        "Population couverte — Contrat ACI signé (ou stade plus avancé)",
        "Population couverte — Projet de santé validé (ou stade plus avancé)",
        "Population couverte — Lettre d'intention validée (ou stade plus avancé)",
        "Population couverte — Pré-projet (ou stade plus avancé)",
        "Part de la population couverte",
        "nouvelle_cle",
    ]
    assert [c.value for c in ws[2]] == ["FR", "France entière", 3, 100, 150, 150, 200, 0.5, 2.5]
    assert ws["I2"].number_format == "#,##0.0"
    assert openpyxl.load_workbook(out)["Départements"].max_row == 1


def test_suggest_xlsx_and_csv(tmp_path):
    xlsx, csv = tmp_path / "s.xlsx", tmp_path / "s.csv"
    for out in (xlsx, csv):
        res = run("suggest", "--existing", REGISTER, "--departement", "49", "-o", out)
        assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Territoires", "Extensions", "Non rattachables", "Source"]
    ws = wb["Territoires"]
    assert ws["A1"].value == "Territoires proposés — département Maine-et-Loire (49)"
    assert headers(ws, 2) == [
        "Territoire",
        "Libellé",
        "Population du territoire",
        "Taille ACI",
        "Code commune",
        "Commune",
        "Population de la commune",
        "Département",
    ]
    assert ws.max_row == 19 and ws.freeze_panes == "A3"
    assert [c.value for c in ws[3]] == [
        "49-T01",
        "Territoire proposé n°1 — autour de Tiercé",
        28413,
        1,
        "49017",
        "Baracé",
        636,
        "49",
    ]
    assert headers(wb["Extensions"])[:3] == ["Morceau", "CPTS rejointe", "Nom de la CPTS"]
    assert wb["Extensions"].max_row == 1 and wb["Non rattachables"].max_row == 1
    assert source(wb)["Graine"] == "0 (valeur par défaut)"
    df = pd.read_csv(csv, dtype=str)
    assert list(df.columns) == ["territoire_id", "code_insee", "nom", "population", "type", "cpts_id"]
    assert df.iloc[0].fillna("").tolist() == ["49-T01", "49017", "Baracé", "636", "territoire", ""]
    assert len(df) == 17


def test_coverage_csv_is_neutralised():
    """What ``coverage --format csv`` prints (:meth:`Coverage.to_csv`)."""
    from cpts_geo.steering.coverage import Coverage

    frame = pd.DataFrame({"niveau": ["region"], "nom": ["=HYPERLINK(1)"], "cpts": [-3]})
    cov = SimpleNamespace(to_frame=lambda by: frame)
    assert Coverage.to_csv(cov, None) == "niveau,nom,cpts\nregion,'=HYPERLINK(1),-3\n"


@pytest.mark.parametrize("command", ["coverage", "suggest"])
def test_xlsx_never_over_an_input(tmp_path, command):
    reg = tmp_path / "registre.xlsx"
    pd.read_csv(REGISTER, dtype=str).to_excel(reg, index=False)
    before = reg.read_bytes()
    args = [command, reg] if command == "coverage" else [command, "--existing", reg, "--departement", "53"]
    res = run(*args, "-o", reg)
    assert res.exit_code == 2
    assert reg.read_bytes() == before


def test_suggest_xlsx_extensions(tmp_path, ref):
    reg = tmp_path / "registre.csv"
    u = ref.units[ref.units["departement"] == "53"]
    rows = pd.DataFrame({"cpts_id": "C1", "cpts_nom": "CPTS de la Mayenne", "code_insee": u.index})
    rows[~rows["code_insee"].isin(["53056", "53140"])].to_csv(reg, index=False)
    out = tmp_path / "s.xlsx"
    res = run("suggest", "--existing", reg, "--departement", "53", "-o", out)
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    assert wb["Territoires"].max_row == 2  # title and headers: no territory
    ext = wb["Extensions"]
    assert [c.value for c in ext[2]][:8] == [
        "53-E01",
        "C1",
        "CPTS de la Mayenne",
        "53",
        5314,
        2,
        "53056, 53140",
        "La Chapelle-Anthenaise, Louverné",
    ]


def test_source_sheet_agrees_none_with_the_label(tmp_path):
    """« Département : aucune » read wrong: a département, a stage are masculine."""
    out = tmp_path / "c.xlsx"
    assert run("coverage", REGISTER, "--region", "52", "-o", out).exit_code == 0
    rows = source(openpyxl.load_workbook(out))
    assert rows["Département"] == "aucun (valeur par défaut)"
    assert rows["Stade minimal"] == "aucun (valeur par défaut)"
    assert rows["Région"] == "52 (valeur choisie ; par défaut : aucune)"
    assert rows["Référentiel"] == "livré avec l'outil"  # was « Fichier lu : data (… site-packages …) »
    sheet = openpyxl.load_workbook(out)["Source"]
    assert [
        r for r in sheet.iter_rows(values_only=True) if r[0] == "Fichier lu" and "data" == str(r[1])[:4]
    ] == []
