"""``--zones`` on check, check-register, coverage and coverage-map (issue 24), through CliRunner."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import openpyxl
import pyogrio
import pytest
from click.testing import CliRunner

from cpts_geo.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
ZONAGE = EXAMPLES / "zonage_medecins_fictif.csv"
ROUGES = EXAMPLES / "zones_rouges_fictives.csv"
QPV = EXAMPLES / "qpv_fictifs.geojson"
REGISTER = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"
ZONES = ["--zones", ZONAGE, "--zones-name", "Zonage médecins", "--zones", QPV, "--zones-name", "QPV"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def proposal(tmp_path):
    path = tmp_path / "proposition.csv"
    path.write_text("code_insee\n49007\n49353\n49246\n49015\n", encoding="utf-8")
    return path


def test_check_text_json_xlsx_gpkg(proposal, tmp_path):
    r = run("check", proposal, *ZONES)
    assert r.exit_code in (0, 1), r.output
    assert "Zones" in r.stdout and "QPV (polygones) : 3 communes touchées" in r.stdout
    assert "Attention : " in r.stderr and "titre" in r.stderr  # the title row of the zonage
    r = run("check", proposal, *ZONES, "--format", "json")
    d = json.loads(r.stdout)
    assert {z["layer"] for z in d["zones"]} == {"Zonage médecins", "QPV"}
    assert all({"layer", "category", "units", "population"} <= set(z) for z in d["zones"])
    assert all("share" in u for z in d["zones"] if z["layer"] == "QPV" for u in z["units"])
    out = tmp_path / "r.xlsx"
    assert run("check", proposal, *ZONES, "-o", out).exit_code in (0, 1)
    ws = openpyxl.load_workbook(out)["Zones"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:4] == ("Couche de zones", "Catégorie", "Code INSEE", "Commune")
    assert len(rows) - 2 == sum(len(z["units"]) for z in d["zones"])
    gpkg = tmp_path / "t.gpkg"
    assert run("check", proposal, *ZONES, "-o", gpkg).exit_code in (0, 1)
    names = [n for n, _ in pyogrio.list_layers(gpkg)]
    assert "zones_zonage_medecins" in names and "zones_qpv" in names
    with sqlite3.connect(gpkg) as con:
        qml = dict(con.execute("select f_table_name, styleQML from layer_styles").fetchall())
    assert "LinePatternFill" in qml["zones_qpv"] and 'attr="categorie"' in qml["zones_zonage_medecins"]


def test_check_register_names_the_zones_of_each_cpts(tmp_path):
    r = run("check-register", REGISTER, "--zones", ROUGES, "--zones-name", "Zones rouges")
    assert r.exit_code == 1, r.output
    assert "Zones touchées par chaque CPTS" in r.stdout and "Zones rouges : " in r.stdout
    r = run("check-register", REGISTER, "--zones", ROUGES, "--format", "json")
    d = json.loads(r.stdout)
    assert any(c["zones"] for c in d["cpts"]) and all("zones" in c for c in d["cpts"])
    out = tmp_path / "registre.xlsx"
    assert run("check-register", REGISTER, "--zones", ROUGES, "-o", out).exit_code == 1
    rows = list(openpyxl.load_workbook(out)["Zones"].iter_rows(values_only=True))
    assert rows[1][:3] == ("Identifiant CPTS", "CPTS", "Couche de zones")
    expected = sum(len(z["units"]) for c in d["cpts"] for z in c["zones"])
    assert len(rows) - 2 == expected > 0


def test_coverage_every_format(tmp_path):
    base = ["coverage", REGISTER, "--region", "52", *ZONES]
    r = run(*base)
    assert r.exit_code == 0, r.output
    assert "Zones (population des communes en zone" in r.stdout and "Zonage médecins — ZIP" in r.stdout
    d = json.loads(run(*base, "--format", "json").stdout)
    for entry in [d["national"], *d["regions"], *d["departements"]]:
        assert [z["category"] for z in entry["zones"]] == ["ZIP", "ZAC", "Hors zonage", "QPV"]
        for z in entry["zones"]:
            assert set(z) >= {
                "layer",
                "category",
                "population",
                "population_covered",
                "population_covered_by_stage",
            }
            assert z["population_covered"] <= z["population"]
    header = run(*base, "--format", "csv", "--by", "departement").stdout.splitlines()[0]
    assert "zones:QPV:QPV:population_covered_aci" in header
    out = tmp_path / "c.xlsx"
    assert run(*base, "-o", out).exit_code == 0
    ws = openpyxl.load_workbook(out)["Zones"]
    assert len(list(ws.iter_rows())) == 2 + 4 * (1 + 1 + 5)  # national, the région, its 5 départements


def test_coverage_map_and_gpkg(tmp_path):
    html, gpkg = tmp_path / "carte.html", tmp_path / "c.gpkg"
    r = run("coverage-map", REGISTER, "--departement", "49", *ZONES, "-o", html, "--gpkg", gpkg)
    assert r.exit_code == 0, r.output
    page = html.read_text(encoding="utf-8")
    assert "cptsZonePatterns" in page and "Zones : QPV" in page
    layers = dict(pyogrio.list_layers(gpkg))
    assert "zones_qpv" in layers and "zones_zonage_medecins" in layers


def test_bad_zone_files_exit_2(tmp_path, proposal):
    bad = tmp_path / "zonage.csv"
    bad.write_text("code_insee;zonage\n49007;ZIP\n49999;ZAC\n", encoding="utf-8")
    r = run("check", proposal, "--zones", bad)
    assert r.exit_code == 2
    assert f"Erreur : {bad} : ligne 3 : code commune '49999' inconnu" in r.stderr
    r = run("coverage", REGISTER, "--zones-name", "X")
    assert r.exit_code == 2 and "vont avec --zones" in r.stderr
    r = run("coverage", REGISTER, "--zones", ROUGES, "--zones-name", "A", "--zones-name", "B")
    assert r.exit_code == 2 and "2 --zones-name pour 1 fichier(s) --zones" in r.stderr
    # Names are matched by rank: one per file or none (a partial list would name the wrong file).
    r = run("coverage", REGISTER, "--zones", ROUGES, "--zones", QPV, "--zones-name", "QPV")
    assert r.exit_code == 2 and "1 --zones-name pour 2 fichier(s) --zones" in r.stderr
    r = run("coverage", REGISTER, "--zones", ROUGES, "--zones", ROUGES)
    assert r.exit_code == 2 and "même nom" in r.stderr and "--zones-name" in r.stderr
    r = run("check", proposal, "--zones", tmp_path / "absent.csv")
    assert r.exit_code == 2 and "absent.csv" in r.stderr
    # An output never lands on a zone file.
    r = run("coverage", REGISTER, "--zones", ROUGES, "-o", ROUGES)
    assert r.exit_code == 2
