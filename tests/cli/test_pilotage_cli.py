"""Steering wired to the Register/Coverage types and the CLI: coverage by stage and ``--min-stage``,
``--funding``, ``coverage-history``, ``compare-registers`` and the map of the changes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpts_geo.cli.main import main
from cpts_geo.inputs.register import register_from_frame
from cpts_geo.maps.base import render_map, save_map
from cpts_geo.maps.coverage import coverage_map
from cpts_geo.maps.plan_maps import changes_map
from cpts_geo.outputs.figures import coverage_bar_chart
from cpts_geo.steering.changes import NOTE_MATCHING, NOTE_MATCHING_TERRITORY, register_changes
from cpts_geo.steering.coverage import NOTE_FUNDING_TABLE, coverage_summary, with_funding
from cpts_geo.steering.funding import read_funding_table
from cpts_geo.steering.history import register_history
from tests.browser import chromium_page
from tests.steering.test_pilotage import STAGE_ROWS

PNG = b"\x89PNG\r\n\x1a\n"
NATIONAL_POP = 68350798
COLS = ["cpts_id", "cpts_nom", "code_insee", "statut", "date_statut"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write(path, rows):
    pd.DataFrame(rows, columns=COLS).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def stage_register(ref):
    df = pd.DataFrame(STAGE_ROWS, columns=["cpts_id", "cpts_nom", "code_insee", "statut"])
    return register_from_frame(df, ref, source="stades.csv")


# ---- 1. population covered by stage ------------------------------------------------------------
def test_coverage_summary_by_stage(ref, stage_register):
    cov = coverage_summary(ref, stage_register)
    n = cov.national
    # Trélazé (49353) is in A (ACI) and B (pré-projet): counted once at each level.
    assert n["population_covered_by_stage"] == {
        "aci": 159022 + 16333,
        "projet-sante": 159022 + 16333,
        "lettre-intention": 159022 + 16333 + 9542 + 3311,
        "pre-projet": 159022 + 16333 + 9542 + 3311 + 15251,
    }
    # Fort-de-France (E, no stage) only in population_covered; 49015 (B and E) once.
    assert n["population_covered"] == 159022 + 16333 + 9542 + 3311 + 15251 + 75506
    regs = {r["code"]: r for r in cov.regions}
    assert regs["52"]["population_covered_by_stage"] == {
        "aci": 175355,
        "projet-sante": 175355,
        "lettre-intention": 175355 + 3311,
        "pre-projet": 175355 + 3311 + 15251,
    }
    assert regs["53"]["population_covered_by_stage"]["aci"] == 0
    assert regs["53"]["population_covered_by_stage"]["lettre-intention"] == 9542
    deps = {d["code"]: d for d in cov.departements}
    assert deps["49"]["population_covered_by_stage"] == {
        "aci": 175355,
        "projet-sante": 175355,
        "lettre-intention": 175355,
        "pre-projet": 190606,
    }
    assert deps["972"]["population_covered_by_stage"]["pre-projet"] == 0
    assert deps["972"]["population_covered"] == 75506
    text = cov.to_text()
    assert "Population couverte par stade (cumulée, chaque habitant compté une fois) :" in text
    assert "  contrat ACI signé : 175\u00a0355 habitants (0,3\u00a0%)" in text
    assert "  pré-projet ou plus : 203\u00a0459 habitants (0,3\u00a0%)" in text
    assert "  1 CPTS sans stade renseigné : comptée seulement dans « tout stade »" in text
    frame = cov.to_frame(by="region")
    row = frame[frame["code"] == "52"].iloc[0]
    assert row["population_covered_lettre-intention"] == 178666 and row["population_covered_aci"] == 175355


def test_min_stage(ref, stage_register):
    cov = coverage_summary(ref, stage_register, departement="49", min_stage="lettre-intention")
    a = cov.area
    # Only A (ACI) in Maine-et-Loire: B (pré-projet) and E (no stage) are left out.
    assert (a["cpts"], a["population_covered"], a["overlap_communes"]) == (1, 175355, 0)
    assert a["population_covered_by_stage"]["pre-projet"] == 175355
    assert cov.national["cpts"] == 2 and cov.national["population_covered"] == 188208
    assert cov.to_dict()["min_stage"] == "lettre-intention"
    assert "CPTS retenues : stade « Lettre d'intention validée » ou plus avancé" in cov.to_text()
    assert "Chevauchements : 0 commune dans plusieurs CPTS" in cov.to_text()
    with pytest.raises(ValueError, match="stade minimal 'signé' inconnu ; attendu pre-projet"):
        coverage_summary(ref, stage_register, min_stage="signé")


def test_min_stage_cli(tmp_path):
    path = write(tmp_path / "r.csv", [(*r, "") for r in STAGE_ROWS])
    r = run("coverage", path, "--min-stage", "aci", "--format", "json")
    assert r.exit_code == 0, r.output
    n = json.loads(r.stdout)["national"]
    assert (n["cpts"], n["population_covered"]) == (1, 175355)
    assert n["population_covered_by_stage"] == {
        "aci": 175355,
        "projet-sante": 175355,
        "lettre-intention": 175355,
        "pre-projet": 175355,
    }
    r = run("coverage", path, "--format", "csv", "--departement", "49")
    assert "population_covered_pre-projet" in r.stdout.splitlines()[0]
    r = run("coverage-map", path, "--min-stage", "bidule", "-o", tmp_path / "c.html")
    assert r.exit_code == 2 and "bidule" in r.output
    r = run("coverage-map", path, "--departement", "49", "--min-stage", "aci", "-o", tmp_path / "c.html")
    assert r.exit_code == 0, r.output
    assert "Carte : " in r.output and "1 CPTS, population couverte 21,0" in r.output
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert "CPTS comptées : stade « Contrat ACI signé » ou plus avancé" in page


def test_units_typography(ref, stage_register):
    paris = register_from_frame(
        pd.DataFrame(
            [("D", "CPTS Paris Centre", "75101", "aci"), ("D", "CPTS Paris Centre", "75102", "aci")],
            columns=["cpts_id", "cpts_nom", "code_insee", "statut"],
        ),
        ref,
    )
    text = coverage_summary(ref, paris, departement="75").to_text()
    assert "Zones blanches : 18 arrondissements municipaux, " in text
    text = coverage_summary(ref, paris, region="11").to_text()
    white = next(line for line in text.splitlines() if line.startswith("Zones blanches"))
    assert white.startswith(
        "Zones blanches : 1\u00a0283 unités (1\u00a0265 communes et 18 arrondissements municipaux)"
    )
    text = coverage_summary(ref, stage_register, departement="49").to_text()
    assert "Chevauchements : 2 communes dans plusieurs CPTS" in text
    assert "commune(s)" not in text


def test_panel_and_bar_chart(ref, stage_register):
    cov = coverage_summary(ref, stage_register, departement="49")
    page = render_map(coverage_map(ref, cov, search=False))
    assert "Population couverte par stade (cumulé) :" in page and "pré-projet ou plus : 22,9" in page
    assert "1 CPTS sans stade : tout stade seulement" in page
    fig = coverage_bar_chart(coverage_summary(ref, stage_register, region="52"))
    share_ax = fig.axes[1]
    assert len(share_ax.patches) == 5 * 5  # tout stade and four cumulative stages, per département


# ---- 4. ACI funding ------------------------------------------------------------------------------
FUNDING_ROWS = [
    ("A", "CPTS Angers", "49007", "aci", ""),  # 159 022: taille 3
    ("A", "CPTS Angers", "49353", "aci", ""),  # + 16 333 = 175 355: taille 4
    ("F", "CPTS Loire-Authion", "49015", "aci", ""),  # 15 251: taille 1
    ("G", "CPTS du Pays de Redon", "35236", "aci", ""),  # 9 542 + 3 311: taille 1, two régions
    ("G", "CPTS du Pays de Redon", "44185", "aci", ""),
    ("H", "CPTS du Choletais", "49099", "projet-sante", ""),  # 54 404: taille 2
]


def test_funding_totals_against_table(ref, tmp_path):
    table = read_funding_table()
    top = table[(table["version"] == "aci-2019") & (table["poste"] == "total_maximum")]
    ceiling = dict(zip(top["taille"], top["montant_annuel_eur"]))
    assert ceiling == {1: 220000, 2: 287000, 3: 370000, 4: 450000}
    reg = register_from_frame(pd.DataFrame(FUNDING_ROWS, columns=COLS), ref)
    est = with_funding(coverage_summary(ref, reg), table).funding
    total = ceiling[4] + 2 * ceiling[1]
    assert est.national == {
        "cpts": 3,
        "montant_max_eur": total,
        "cpts_sans_montant": 0,
        "montant_max_eur_bas": total,
        "montant_max_eur_haut": total,
        "cpts_taille_inconnue": 0,
    }
    assert est.by_departement["montant_max_eur"].to_dict() == {
        "35": ceiling[1],
        "44": ceiling[1],
        "49": ceiling[4] + ceiling[1],
    }
    assert est.by_region["montant_max_eur"].to_dict() == {"52": 890000, "53": 220000}
    every = with_funding(
        coverage_summary(ref, reg), table, stages=("pre-projet", "lettre-intention", "projet-sante", "aci")
    )
    assert every.funding.national["montant_max_eur"] == 890000 + ceiling[2]

    path = write(tmp_path / "r.csv", FUNDING_ROWS)
    r = run("coverage", path, "--departement", "49", "--funding", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)["funding"]
    assert data["estimate"] is True and data["version"] == "aci-2019"
    assert data["departements"] == [
        {
            "code": "49",
            "cpts": 2,
            "montant_max_eur": 670000,
            "cpts_sans_montant": 0,
            # The range of issue 22: no commune declared shared, so both ends are the amount.
            "montant_max_eur_bas": 670000,
            "montant_max_eur_haut": 670000,
            "cpts_taille_inconnue": 0,
        }
    ]
    assert sorted(c["cpts_id"] for c in data["cpts"]) == ["A", "F"]
    r = run("coverage", path, "--departement", "49", "--funding", "--funding-stages", "all")
    assert "Estimation du financement ACI (barème aci-2019)" in r.stdout
    assert "49           3                     957\u00a0000 €" in r.stdout
    assert NOTE_FUNDING_TABLE in r.stdout and "estimation est basse" in r.stdout
    r = run("coverage", path, "--departement", "49", "--funding", "--format", "csv")
    row = r.stdout.splitlines()
    assert row[0].endswith("financement_aci_cpts,financement_aci_estime_eur") and row[1].endswith(
        ",2,670000.0"
    )
    r = run("coverage", path, "--funding-stages", "all")
    assert r.exit_code == 2 and "vont avec --funding" in r.output


# ---- 2. coverage over time -----------------------------------------------------------------------
HISTORY_ROWS = [
    ("A", "CPTS Angers", "49007", "aci", "15/03/2024"),
    ("B", "CPTS Loire-Authion", "49015", "projet-sante", "2024-01-10"),
    ("C", "CPTS de Trélazé", "49353", "", "2024-02-01"),
    ("D", "CPTS du Pays de Redon", "35236", "pre-projet", ""),
    ("E", "CPTS du Choletais", "49099", "aci", ""),
]


@pytest.fixture
def history_files(tmp_path):
    reg = write(tmp_path / "registre.csv", HISTORY_ROWS)
    hist = tmp_path / "historique.csv"
    hist.write_text(
        "cpts_id,statut,date\nA,lettre-intention,2023-12-05\nA,projet-sante,20/02/2024\n", encoding="utf-8"
    )
    return reg, hist


def test_coverage_history_cli(ref, history_files, tmp_path):
    reg, hist = history_files
    r = run(
        "coverage-history",
        reg,
        "--history",
        hist,
        "--departement",
        "49",
        "--end",
        "2024-04",
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    months = {m["month"]: m for m in data["months"]}
    assert list(months) == ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04"]
    levels = ["aci", "projet-sante", "lettre-intention", "pre-projet", "any"]
    assert [[months[m]["cpts"][lv] for lv in levels] for m in months] == [
        [0, 0, 1, 1, 1],  # A: lettre d'intention from 5 Dec 2023
        [0, 1, 2, 2, 2],  # B: projet de santé (its current stage) from 10 Jan 2024
        [0, 2, 2, 2, 3],  # A: projet de santé from 20 Feb; C (no stage) from 1 Feb, any stage only
        [1, 2, 2, 2, 3],  # A: ACI from 15 Mar
        [1, 2, 2, 2, 3],
    ]
    assert months["2023-12"]["population_covered_by_stage"] == {
        "aci": 0,
        "projet-sante": 0,
        "lettre-intention": 159022,
        "pre-projet": 159022,
    }
    assert months["2024-02"]["population_covered"] == 159022 + 15251 + 16333
    assert months["2024-03"]["population_covered_by_stage"]["aci"] == 159022
    assert months["2024-01"]["population_covered_by_stage"]["projet-sante"] == 15251
    assert data["area"] == {"code": "49", "nom": "Maine-et-Loire"}
    assert data["population"] == 833776
    assert data["goal"] == round(1000 * 833776 / NATIONAL_POP, 1) == 12.2
    # What cannot be known: E has no date, B is dated at its current stage only; D is not in 49.
    assert data["undated_cpts"] == ["E"] and data["current_stage_only_cpts"] == ["B"]
    assert any("sans aucune date" in n and "(E)" in n for n in data["notes"])

    r = run("coverage-history", reg, "--history", hist, "--departement", "49", "--end", "2024-04")
    assert (
        "Objectif : 12,2 CPTS" in r.stdout
        and "2024-03" in r.stdout
        and "seul le stade actuel est daté" in r.stdout
    )
    r = run("coverage-history", reg, "--end", "2024-04", "--format", "csv")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Mois,CPTS contrat ACI signé") and lines[1].startswith("2024-01,")
    xlsx, png = tmp_path / "h.xlsx", tmp_path / "courbe.png"
    r = run(
        "coverage-history",
        reg,
        "--history",
        hist,
        "--region",
        "52",
        "--end",
        "2024-04",
        "-o",
        xlsx,
        "--png",
        png,
    )
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Couverture par mois", "Ce qui ne peut pas être su", "Source"]
    months = wb["Couverture par mois"]
    first = next(r for r in months.iter_rows(min_col=1, max_col=1) if r[0].value != "Mois" and r[0].row > 1)[
        0
    ]
    assert isinstance(first.value, dt.datetime) and first.number_format == "mm/yyyy"  # a date, not text
    assert png.read_bytes()[:8] == PNG
    h = register_history(ref, reg, history=hist, departement="49", end="2024-04")
    assert h.goal is None and h.frame["cpts_any"].tolist() == [1, 2, 3, 3, 3]


def test_coverage_history_errors(history_files, tmp_path):
    reg, _ = history_files
    bad = tmp_path / "bad.csv"
    bad.write_text("cpts_id,statut,date\nZ,aci,2024-01-01\nA,aci,31/02/2024\n", encoding="utf-8")
    r = run("coverage-history", reg, "--history", bad)
    assert r.exit_code == 2
    assert "CPTS 'Z' absente du registre" in r.output and "date '31/02/2024' impossible" in r.output
    r = run("coverage-history", reg, "--format", "xlsx")
    assert r.exit_code == 2 and "-o tableau.xlsx" in r.output


# ---- 3. register changes ------------------------------------------------------------------------
OLD = [
    ("A", "CPTS Angers", "49007", "aci", "2024-01-01"),
    ("A", "CPTS Angers", "49353", "aci", "2024-01-01"),
    ("B", "CPTS Loire-Authion", "49015", "projet-sante", "01/05/2023"),
    ("C", "CPTS du Pays de Redon", "35236", "lettre-intention", ""),
]
NEW = [
    ("A", "CPTS Angers", "49007", "aci", "2024-01-01"),  # Trélazé out, Angers-Loire in
    ("A", "CPTS Angers", "49015", "aci", "2024-01-01"),
    ("B", "CPTS Loire-Authion Est", "49015", "aci", "2024-06-01"),  # renamed, new stage
    ("D", "CPTS de Guémené-Penfao", "44185", "pre-projet", ""),  # added; C removed
]


def test_compare_registers_cli(ref, tmp_path):
    old, new = write(tmp_path / "ancien.csv", OLD), write(tmp_path / "nouveau.csv", NEW)
    r = run("compare-registers", old, new, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert set(data) == {
        "added",
        "removed",
        "renamed",
        "stage_changes",
        "perimeter_changes",
        "coverage",
        "sources",
        "notes",
        # Added with the matching by territory (issue 22, point 5).
        "match",
        "matched_by_territory",
        "reassigned",
    }
    # The ids are common to both files: nothing is matched by territory (C and D share no commune).
    assert data["match"] == "auto" and data["matched_by_territory"] == []
    # C removed and D added whole: their communes are not said again.
    assert [(u["code"], u["old_cpts"], u["new_cpts"]) for u in data["reassigned"]] == [
        ("49015", ["B"], ["A", "B"]),
        ("49353", ["A"], []),
    ]
    assert data["added"] == [
        {
            "cpts_id": "D",
            "cpts_nom": "CPTS de Guémené-Penfao",
            "statut": "pre-projet",
            "date_statut": "",
            "communes": 1,
            "population": 3311,
        }
    ]
    assert [x["cpts_id"] for x in data["removed"]] == ["C"] and data["removed"][0]["population"] == 9542
    assert data["renamed"] == [
        {"cpts_id": "B", "old_name": "CPTS Loire-Authion", "new_name": "CPTS Loire-Authion Est"}
    ]
    assert data["stage_changes"] == [
        {
            "cpts_id": "B",
            "cpts_nom": "CPTS Loire-Authion Est",
            "old_stage": "projet-sante",
            "old_date": "2023-05-01",
            "new_stage": "aci",
            "new_date": "2024-06-01",
        }
    ]
    (p,) = data["perimeter_changes"]
    assert set(p) == {
        "cpts_id",
        "cpts_nom",
        "communes_in",
        "communes_out",
        "population_before",
        "population_after",
    }
    assert p["cpts_id"] == "A"
    assert p["communes_in"] == [{"code": "49015", "nom": ref.units.at["49015", "nom"]}]
    assert p["communes_out"] == [{"code": "49353", "nom": "Trélazé"}]
    assert (p["population_before"], p["population_after"]) == (159022 + 16333, 159022 + 15251)
    c = data["coverage"]
    assert [u["code"] for u in c["white_zones_appeared"]] == ["35236", "49353"]
    assert [u["code"] for u in c["white_zones_disappeared"]] == ["44185"]
    assert [(u["code"], u["cpts"]) for u in c["new_overlaps"]] == [("49015", ["A", "B"])]
    assert c["overlaps_resolved"] == []
    assert (c["population_covered_before"], c["population_covered_after"]) == (200148, 177584)
    assert data["notes"] == [NOTE_MATCHING_TERRITORY]
    r = run("compare-registers", old, new, "--format", "json", "--match", "id")
    assert json.loads(r.stdout)["notes"] == [NOTE_MATCHING]

    r = run("compare-registers", old, new)
    assert "CPTS ajoutées : 1" in r.stdout and "CPTS renommées : 1" in r.stdout
    assert "Zones blanches apparues : 2 communes, 25\u00a0875 habitants" in r.stdout
    assert "une CPTS sans correspondante est ajoutée (nouveau registre) ou supprimée" in r.stdout
    xlsx, html = tmp_path / "changements.xlsx", tmp_path / "changements.html"
    r = run("compare-registers", old, new, "-o", xlsx, "--map", html)
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[:5] == [
        "CPTS ajoutées",
        "CPTS supprimées",
        "Renommages",
        "Changements de stade",
        "Périmètres",
    ]
    assert wb.sheetnames[-1] == "Source"
    assert [c.value for c in wb["Périmètres"][1]] == [
        "Identifiant",
        "Nom",
        "Communes entrées",
        "Communes sorties",
        "Population avant",
        "Population après",
    ]
    page = html.read_text(encoding="utf-8")
    assert "cpts-changement-in" in page and "cpts-changement-white-appeared" in page
    r = run("compare-registers", old, old)
    assert "Aucun changement." in r.stdout


HOSTILE = 'CPTS <img src=x onerror="window.__pwned=1"> {{ 7*7 }}'


@pytest.mark.browser
def test_changes_map_in_browser(ref, tmp_path):
    new = [(r[0], HOSTILE if r[0] == "B" else r[1], *r[2:]) for r in NEW]
    old_reg = register_from_frame(pd.DataFrame(OLD, columns=COLS), ref, source="ancien <b>v1</b>.csv")
    new_reg = register_from_frame(pd.DataFrame(new, columns=COLS), ref, source="nouveau.csv")
    ch = register_changes(ref, old_reg, new_reg)
    path = save_map(changes_map(ref, old_reg, new_reg, changes=ch), tmp_path / "changements.html")
    raw = path.read_text(encoding="utf-8")
    assert "<img src=x" not in raw
    count = "return document.querySelectorAll('path.cpts-changement-{}').length"
    with chromium_page(path) as page:
        assert page.errors == [] and page.network_errors == []
        assert page.js("return window.__pwned === undefined")
        drawn = {
            k: page.js(count.format(k))
            for k in (
                "context",
                "added",
                "removed",
                "in",
                "out",
                "white-appeared",
                "white-disappeared",
                "new-overlap",
            )
        }
        assert drawn == {
            "context": 3,  # A, B, D of the new register
            "added": 1,
            "removed": 1,
            "in": 1,
            "out": 1,
            "white-appeared": 1,
            "white-disappeared": 1,
            "new-overlap": 1,
        }
        legend = page.js("return document.getElementById('cpts-legende').textContent")
        for word in (
            "Communes entrées dans une CPTS",
            "Communes sorties d'une CPTS",
            "Zone blanche apparue",
            "Zone blanche résorbée",
            "Nouveau chevauchement",
        ):
            assert word in legend
        stats = page.js("return document.getElementById('cpts-stats').textContent")
        assert "CPTS ajoutées : 1" in stats and "Ancien : ancien <b>v1</b>.csv" in stats
        scales = page.js(
            "return [...document.querySelectorAll('.leaflet-control-scale-line')].map(e => e.textContent)"
        )
        assert scales and all(s.endswith(("m", "km")) for s in scales), scales  # metric only, no miles
        # a removed CPTS is drawn as an outline: re-added under another id on the same area, its
        # fill would blend with the added one into a colour absent from the legend
        fills = page.js(
            "return [...document.querySelectorAll('path.cpts-changement-removed')]"
            ".map(p => p.getAttribute('fill-opacity'))"
        )
        assert fills == ["0"], fills


@pytest.fixture(scope="module")
def codes_49(ref):
    return sorted(ref.units.index[ref.units["departement"] == "49"])[:40]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_by_stage_levels_are_cumulative(ref, codes_49, data):
    """Whatever the stages and perimeters: ACI ≤ projet de santé ≤ … ≤ any stage, at every level,
    and restricting to a stage gives that level as the population covered."""
    n = data.draw(st.integers(1, 6))
    stages = ["", "pre-projet", "lettre-intention", "projet-sante", "aci"]
    rows = []
    for k in range(n):
        stage = data.draw(st.sampled_from(stages))
        for code in data.draw(st.lists(st.sampled_from(codes_49), min_size=1, max_size=8, unique=True)):
            rows.append((f"C{k}", f"CPTS {k}", code, stage))
    reg = register_from_frame(
        pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee", "statut"]), ref
    )
    cov = coverage_summary(ref, reg, departement="49")
    for entry in (cov.national, *cov.regions, *cov.departements):
        b = entry["population_covered_by_stage"]
        assert (
            b["aci"]
            <= b["projet-sante"]
            <= b["lettre-intention"]
            <= b["pre-projet"]
            <= entry["population_covered"]
        )
    for stage in ("aci", "lettre-intention"):
        only = coverage_summary(ref, reg, departement="49", min_stage=stage)
        assert only.area["population_covered"] == cov.area["population_covered_by_stage"][stage]


@pytest.mark.parametrize("date", ["0202-01-01", "0001-01-01", "01/01/2099"])
def test_a_stage_date_out_of_the_period_of_cpts_is_refused(tmp_path, date):
    """One mistyped date_statut (0202-01-01) took ~8 GB and 81 s (a table of months from year
    202); 0001-01-01 crashed the figure: refused, naming the line and the value."""
    reg = tmp_path / "registre.csv"
    reg.write_text(
        f"cpts_id,cpts_nom,code_insee,statut,date_statut\nA,CPTS A,49007,aci,{date}\nB,CPTS B,49015,aci,2024-01-15\n",
        encoding="utf-8",
    )
    r = run("coverage-history", reg, "--departement", "49", "--png", tmp_path / "h.png")
    assert r.exit_code == 2
    assert (
        "ligne 2" in r.output
        and f"date_statut : date '{date}' hors de la période des CPTS (2016 à" in r.output
    )
    assert "faute de frappe" in r.output and not (tmp_path / "h.png").exists()


@pytest.mark.parametrize(
    ("end", "why"), [("", "illisible"), ("9999-12", "hors de la période"), ("1999-01", "hors de la période")]
)
def test_an_absurd_end_month_is_refused(tmp_path, end, why):
    reg = tmp_path / "registre.csv"
    reg.write_text(
        "cpts_id,cpts_nom,code_insee,statut,date_statut\nA,CPTS A,49007,aci,2024-01-15\n", encoding="utf-8"
    )
    r = run("coverage-history", reg, "--end", end)
    assert r.exit_code == 2 and f"mois '{end}' {why}" in r.output


# ---- issue 22, point 5: two registers of one région, compared as they are ------------------------
def _paca_registers(ref, tmp_path):
    """An ARS register of PACA (one CPTS per EPCI, ids R93-NN) and a table published with CPTS
    names only, spelled its own way, two communes moved to the neighbouring CPTS and Aspremont
    (06006, Métropole Nice Côte d'Azur) written with the code of its homonym of the Hautes-Alpes
    (05008)."""
    units = ref.units[ref.units["region"] == "93"]
    epcis = sorted(set(units["epci"]) - {""})
    names = ref.epci["nom"]
    old_rows, cpts_of = [], {}
    for k, e in enumerate(epcis, start=1):
        for c in units.index[units["epci"] == e]:
            old_rows.append((f"R93-{k:02d}", f"CPTS {names[e]}", c, "aci", ""))
            cpts_of[c] = f"CPTS {names[e]}"
    new_name = {n: n for n in set(cpts_of.values())}
    aliased = sorted(new_name)[:3]
    new_name[aliased[0]] = aliased[0].replace("CPTS ", "CPTS su ")  # a typo of the published table
    new_name[aliased[1]] = aliased[1].upper()
    new_name[aliased[2]] = aliased[2] + " (CPTS)"
    # Two border communes moved to a neighbour of another CPTS (not NCA, not the homonym's CPTS).
    nca = f"CPTS {names['200030195']}"
    hautes_alpes = cpts_of["05008"]
    moved = {}
    for c in sorted(units.index):
        if len(moved) == 2:
            break
        if cpts_of[c] in (nca, hautes_alpes) or any(cpts_of[m] in moved.values() for m in moved):
            continue
        other = [
            n for n in ref.neighbours(c) if n in cpts_of and cpts_of[n] not in (cpts_of[c], nca, hautes_alpes)
        ]
        if other and sum(1 for x in cpts_of.values() if x == cpts_of[c]) > 3:
            moved[c] = cpts_of[other[0]]
    new_rows = []
    for _, nom, c, _, _ in old_rows:
        target = moved.get(c, nom)
        new_rows.append((new_name[target], "05008" if c == "06006" else c))
    old = write(tmp_path / "registre_ars_paca.csv", old_rows)
    new = tmp_path / "cpts_publiees_paca.csv"
    pd.DataFrame(new_rows, columns=["Nom de la CPTS", "Code INSEE"]).to_csv(new, index=False, sep=";")
    return old, new, moved, aliased, new_name, nca, hautes_alpes


def test_two_paca_registers_compared_by_territory(ref, tmp_path):
    old, new, moved, aliased, new_name, nca, hautes_alpes = _paca_registers(ref, tmp_path)
    assert len(moved) == 2
    r = run("compare-registers", old, new, "--format", "json")
    assert r.exit_code == 0, r.output
    assert "l'identifiant de chacune des 52 CPTS est tiré de son nom" in r.stderr
    data = json.loads(r.stdout)
    assert data["added"] == [] and data["removed"] == []
    assert len(data["matched_by_territory"]) == 52
    assert all(m["share_old"] > 0.9 for m in data["matched_by_territory"])
    aliases = {(x["old_name"], x["new_name"]) for x in data["renamed"]}
    assert aliases == {(a, new_name[a]) for a in aliased}
    assert all(x["old_cpts_id"].startswith("R93-") for x in data["renamed"])
    reassigned = {u["code"]: (u["old_names"], u["new_names"]) for u in data["reassigned"]}
    assert set(reassigned) == set(moved) | {"06006", "05008"}
    assert reassigned["06006"] == ([nca], [])
    assert reassigned["05008"] == ([hautes_alpes], sorted([new_name[hautes_alpes], new_name[nca]]))
    (nca_change,) = [p for p in data["perimeter_changes"] if p.get("homonyms")]
    assert nca_change["homonyms"] == [{"nom": "Aspremont", "old_code": "06006", "new_code": "05008"}]
    assert sum(len(p["communes_in"]) + len(p["communes_out"]) for p in data["perimeter_changes"]) == 2 * 2 + 2
    # The overlap made by the homonym error is a new overlap, named.
    assert [u["code"] for u in data["coverage"]["new_overlaps"]] == ["05008"]

    r = run("compare-registers", old, new)
    assert (
        "CPTS rapprochées par leur territoire (identifiants différents), les moins semblables d'abord : 52"
        in r.stdout
    )
    assert "homonyme probable : Aspremont : 06006 → 05008" in r.stdout
    assert "Communes dont la CPTS diffère (hors CPTS ajoutées ou supprimées entières) : 4" in r.stdout
    xlsx = tmp_path / "comparaison.xlsx"
    assert run("compare-registers", old, new, "-o", xlsx).exit_code == 0
    wb = openpyxl.load_workbook(xlsx)
    assert {"CPTS rapprochées", "Communes réaffectées"} <= set(wb.sheetnames)
    assert wb["Communes réaffectées"].max_row == 1 + 4


def test_shipped_published_register_is_matched_by_territory(ref):
    root = Path(__file__).resolve().parents[2] / "data" / "examples"
    ch = register_changes(
        ref, root / "registre_fictif_pays_de_la_loire.csv", root / "registre_fictif_publie_noms.csv"
    )
    assert len(ch.matched) == 60 and ch.added == [] and ch.removed == []
    assert ch.stage_changes == []  # the published table gives no stage
    assert [(r["old_cpts_id"], r["new_name"]) for r in ch.renamed] == [
        ("FICTIF-52-005", "CPTS fictive de Mayenne (association)"),
        ("FICTIF-52-004", "CPTS fictive su Craon"),
    ]
    homonyms = [h for p in ch.perimeter_changes for h in p.get("homonyms", [])]
    assert homonyms == [{"nom": "Bais", "old_code": "53016", "new_code": "35014"}]
    assert [r["code"] for r in ch.reassigned] == ["35014", "44013", "44050", "53016"]
