"""The ``coverage`` and ``coverage-map`` commands, through click's CliRunner on real files."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from cpts_geo.cli.main import main
from cpts_geo.maps.base import external_resources
from tests.steering.test_coverage import NATIONAL_POP, ROWS, frame

PNG = b"\x89PNG\r\n\x1a\n"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def register_csv(tmp_path):
    path = tmp_path / "registre.csv"
    frame().to_csv(path, index=False)
    return path


@pytest.fixture
def empty_csv(tmp_path):
    path = tmp_path / "vide.csv"
    path.write_text("cpts_id,cpts_nom,code_insee,statut\n", encoding="utf-8")
    return path


# ---- coverage --------------------------------------------------------------------------------
def test_json(register_csv):
    r = run("coverage", register_csv, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert set(data) >= {"national", "regions", "departements"}
    n = data["national"]
    assert n["population_covered"] == 313926 and n["cpts"] == 5 and n["overlap_communes"] == 1
    assert n["goal"] == 1000 and n["white_zone_population"] == NATIONAL_POP - 313926
    keys = {
        "code",
        "nom",
        "cpts",
        "by_stage",
        "population",
        "population_covered",
        "share_covered",
        "white_zone_population",
        "white_zone_communes",
        "overlap_communes",
        "goal",
    }
    for entry in (n, data["regions"][0], data["departements"][0]):
        assert keys <= set(entry)
    regs = {r["code"]: r for r in data["regions"]}
    assert regs["52"]["cpts"] == 3 and regs["53"]["cpts"] == 1  # the CPTS of Redon in both
    assert any("une fois au niveau national et une fois dans chaque région" in x for x in data["notes"])
    assert data["vintage"] == {"cog": 2026, "population": 2023}


def test_text_csv_and_output_file(register_csv, tmp_path):
    r = run("coverage", register_csv, "--departement", "49")
    assert r.exit_code == 0, r.output
    assert "Couverture CPTS — département Maine-et-Loire (49)" in r.stdout
    assert "CPTS : 2 pour un objectif de 12,2" in r.stdout
    r = run("coverage", register_csv)
    assert (
        "Couverture CPTS — France entière" in r.stdout
        and "CPTS : 5 pour un objectif de 1\u00a0000 (0,5\u00a0%)" in r.stdout
    )
    assert "52   Pays de la Loire" in r.stdout
    out = tmp_path / "couverture.csv"
    r = run("coverage", register_csv, "--by", "departement", "--format", "csv", "-o", out, "--goal", "800")
    assert r.exit_code == 0, r.output
    assert r.stdout == "" and f"Écrit : {out}" in r.stderr
    df = pd.read_csv(out, dtype={"code": str})
    assert len(df) == 102 and df.loc[0, "goal"] == 800
    assert df.set_index("code").loc["49", "population_covered"] == 159022 + 16333 + 15251
    r = run("coverage", register_csv, "-o", register_csv)
    assert r.exit_code == 2 and "aussi un fichier d'entrée" in r.stderr
    assert register_csv.read_text().startswith("cpts_id,cpts_nom,code_insee,statut")


def test_bad_scope(register_csv):
    r = run("coverage", register_csv, "--region", "99")
    assert r.exit_code == 2
    assert (
        r.stderr.startswith("Erreur : région '99' inconnu(e) du COG 2026")
        and "52 (Pays de la Loire)" in r.stderr
    )
    r = run("coverage", register_csv, "--departement", "20")
    assert r.exit_code == 2 and "2A (Corse-du-Sud) et 2B (Haute-Corse)" in r.stderr
    r = run("coverage", register_csv, "--departement", "Maine et Loir")
    assert r.exit_code == 2 and "vouliez-vous dire 49 (Maine-et-Loire), " in r.stderr
    r = run("coverage", register_csv, "--region", "52", "--departement", "49")
    assert r.exit_code == 2 and "soit --region, soit --departement" in r.stderr
    r = run("coverage-map", register_csv, "--region", "123", "-o", register_csv.with_suffix(".html"))
    assert r.exit_code == 2 and "région '123' inconnu(e)" in r.stderr
    assert not register_csv.with_suffix(".html").exists()


@pytest.mark.parametrize("command", ["coverage", "coverage-map"])
def test_bad_register(tmp_path, command):
    """Unknown codes and stages: every problem at once, with its line; exit 2, no traceback."""
    path = tmp_path / "registre.csv"
    frame([*ROWS, ("Z", "CPTS Z", "49999", "aci"), ("Y", "CPTS Y", "49002", "arrêté")]).to_csv(
        path, index=False
    )
    out = tmp_path / "carte.html"
    r = run(command, path, *(["-o", out] if command == "coverage-map" else []))
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Erreur : {path} : ligne 11 : code commune '49999' inconnu du COG 2026")
    assert (
        "ligne 12 : statut 'arrêté' inconnu ; formulations acceptées : pre-projet (Pré-projet, " in r.stderr
    )
    assert "Traceback" not in r.output and r.stdout == ""
    assert not out.exists()


def test_missing_register(tmp_path):
    r = run("coverage", tmp_path / "absent.csv")
    assert r.exit_code == 2 and "absent.csv" in r.stderr and "Traceback" not in r.output


def test_empty_register(empty_csv, register_csv, tmp_path):
    # A header without any row is refused like an empty proposal (a truncated export).
    r = run("coverage", empty_csv, "--format", "json")
    assert r.exit_code == 2, r.output
    assert "vide.csv : aucune ligne de données sous l'en-tête ; le registre est vide" in r.stderr
    # A région without any CPTS of the register is all white.
    out, png = tmp_path / "carte.html", tmp_path / "carte.png"
    r = run("coverage-map", register_csv, "--region", "94", "-o", out, "--png", png)
    assert r.exit_code == 0, r.output
    assert "0 CPTS, population couverte 0,0\u00a0%" in r.stderr
    page = out.read_text()
    assert page.count("cpts-zone-blanche") >= 1 and "Zone blanche — Haute-Corse (2B)" in page
    assert png.read_bytes()[:8] == PNG


def test_bar_chart(register_csv, tmp_path):
    png = tmp_path / "barres.png"
    r = run("coverage", register_csv, "--png", png, "--format", "json")
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == PNG and json.loads(r.stdout)["national"]["cpts"] == 5
    svg = tmp_path / "barres.svg"
    r = run("coverage", register_csv, "--region", "52", "--png", svg)
    assert r.exit_code == 0, r.output
    text = svg.read_text()
    assert "Maine-et-Loire (49)" in text and "Objectif (part de l'objectif national)" in text


def test_polygon_register(ref, tmp_path):
    """A GeoJSON register (one polygon per CPTS) gives the same figures as its communes."""
    groups = {"A": ["49007", "49353"], "B": ["49015", "49353"]}
    gdf = gpd.GeoDataFrame(
        {
            "cpts_id": list(groups),
            "cpts_nom": ["CPTS Angers", "CPTS Loire-Authion"],
            "statut": ["aci", "aci"],
        },
        geometry=[shapely.union_all(ref.units.geometry[c].to_numpy()) for c in groups.values()],
        crs=4326,
    )
    path = tmp_path / "registre.geojson"
    gdf.to_file(path, driver="GeoJSON")
    r = run("coverage", path, "--departement", "49", "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)["departements"][0]
    assert d["cpts"] == 2 and d["overlap_communes"] == 1
    assert d["population_covered"] == 159022 + 16333 + 15251


# ---- coverage-map ----------------------------------------------------------------------------
def test_coverage_map(register_csv, tmp_path):
    out, png = tmp_path / "carte.html", tmp_path / "carte.png"
    r = run("coverage-map", register_csv, "--departement", "49", "-o", out, "--png", png)
    assert r.exit_code == 0, r.output
    assert f"Carte : {out} — 2 CPTS, population couverte" in r.stderr and f"Figure : {png}" in r.stderr
    assert out.stat().st_size > 10000 and png.read_bytes()[:8] == PNG
    page = out.read_text()
    assert "CPTS Loire-Authion" in page
    assert external_resources(page) == [] and "tile.openstreetmap" not in page  # self-contained
    assert "Registre : " in page and "Objectif national : 1\u00a0000\u00a0CPTS (valeur par défaut)" in page
    r = run("coverage-map", register_csv, "-o", register_csv)
    assert r.exit_code == 2 and "aussi un fichier d'entrée" in r.stderr


def test_coverage_map_offline_is_a_no_op_and_online_adds_basemaps(register_csv, tmp_path):
    out = tmp_path / "carte.html"
    r = run("coverage-map", register_csv, "--region", "52", "--offline", "--goal", "900", "-o", out)
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert external_resources(page) == [] and "tile.openstreetmap" not in page
    assert "Objectif national : 900\u00a0CPTS (valeur choisie)" in page
    r = run("coverage-map", register_csv, "--region", "52", "--online", "-o", out)
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert [f for f in external_resources(page) if "cdn.jsdelivr.net/npm/leaflet@1.9.4" in f]
    assert "tile.openstreetmap.org" in page and "data.geopf.fr/wmts" in page
    assert "openstreetmap.org/copyright" in page


def test_png_written_beside_a_workbook(tmp_path, register_csv):
    """``coverage --png barres.png -o couverture.xlsx`` writes both (it wrote the workbook only)."""
    png, xlsx = tmp_path / "barres.png", tmp_path / "couverture.xlsx"
    res = run("coverage", register_csv, "--region", "52", "--png", png, "-o", xlsx)
    assert res.exit_code == 0, res.output
    assert xlsx.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Figure : {png}" in res.output


def test_gpkg_of_a_register_without_any_overlap(tmp_path):
    """``coverage --gpkg`` of a valid register with no overlap at all ended in a KeyError (exit 3)."""
    import pyogrio

    reg = tmp_path / "registre.csv"
    reg.write_text("cpts_id,cpts_nom,code_insee\nA,CPTS A,49007\nB,CPTS B,49015\n", encoding="utf-8")
    for args in (["--departement", "49"], []):
        out = tmp_path / f"couverture{len(args)}.gpkg"
        res = run("coverage", reg, *args, "--gpkg", out)
        assert res.exit_code == 0, res.output
        layers = dict(pyogrio.list_layers(out))
        assert len(gpd.read_file(out, layer="chevauchements")) == 0 and "cpts" in str(list(layers))
