"""Coverage of a register: per unit, by département, région and nation; the coverage command."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from cpts_geo import InputError, coverage_summary, coverage_table, cpts_table
from cpts_geo.cli import main
from cpts_geo.coverage import resolve_scope
from cpts_geo.inputs import register_from_frame

# Five CPTS: A and B share Trélazé (an overlap); C spans Bretagne (35) and Pays de la Loire (44);
# D is two arrondissements of Paris; E (no stage given) is in Martinique.
ROWS = [
    ("A", "CPTS Angers", "49007", "aci"),
    ("A", "CPTS Angers", "49353", "aci"),
    ("B", "CPTS Loire-Authion", "49353", "projet-sante"),
    ("B", "CPTS Loire-Authion", "49015", "projet-sante"),
    ("C", "CPTS du Pays de Redon", "35236", "lettre-intention"),
    ("C", "CPTS du Pays de Redon", "44185", "lettre-intention"),
    ("D", "CPTS Paris Centre", "75101", "pre-projet"),
    ("D", "CPTS Paris Centre", "75102", "pre-projet"),
    ("E", "CPTS Fort-de-France", "97209", ""),
]
POP = {"49007": 159022, "49353": 16333, "49015": 15251, "35236": 9542, "44185": 3311,
       "75101": 15114, "75102": 19847, "97209": 75506}
NATIONAL_POP = 68350798


def frame(rows=ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee", "statut"])


@pytest.fixture(scope="module")
def register(ref):
    return register_from_frame(frame(), ref, source="registre-test.csv")


@pytest.fixture(scope="module")
def cov(ref, register):
    return coverage_summary(ref, register)


def test_unit_table(ref, register):
    t = coverage_table(ref, register)
    assert len(t) == len(ref.units) == 34917
    assert t.at["49353", "cpts"] == ["A", "B"]
    assert t.at["49353", "etat"] == "chevauchement"
    assert t.at["49007", "cpts"] == ["A"] and t.at["49007", "etat"] == "couverte"
    assert t.at["49002", "n_cpts"] == 0 and t.at["49002", "etat"] == "zone blanche"
    assert (t["n_cpts"] > 0).sum() == 8
    assert (t["n_cpts"] >= 2).sum() == 1


def test_national_figures(cov):
    n = cov.national
    covered = sum(POP.values())
    assert covered == 313926
    assert n["code"] == "FR"
    assert n["cpts"] == 5  # C counts once although it spans two régions
    assert n["by_stage"] == {"pre-projet": 1, "lettre-intention": 1, "projet-sante": 1, "aci": 1,
                             "non-renseigne": 1}
    assert n["population"] == NATIONAL_POP
    assert n["population_covered"] == covered  # Trélazé counted once though in A and B
    assert n["white_zone_population"] == NATIONAL_POP - covered
    assert n["white_zone_communes"] == 34917 - 8
    assert n["overlap_communes"] == 1
    assert n["overlap_population"] == 16333
    assert n["share_covered"] == round(covered / NATIONAL_POP, 4)
    assert n["goal"] == 1000
    assert n["progress"] == 0.005


def test_regions_count_a_spanning_cpts_in_each(cov):
    regs = {r["code"]: r for r in cov.regions}
    assert len(regs) == 18
    assert regs["52"]["cpts"] == 3  # A, B and C
    assert regs["53"]["cpts"] == 1  # C again
    assert regs["52"]["cpts_shared"] == 1 and regs["53"]["cpts_shared"] == 1
    assert regs["11"]["cpts"] == 1 and regs["02"]["cpts"] == 1
    assert sum(r["cpts"] for r in cov.regions) == 6 > cov.national["cpts"]
    assert regs["52"]["population_covered"] == 159022 + 16333 + 15251 + 3311
    assert regs["52"]["population"] == 3907156
    assert regs["52"]["goal"] == 57.2  # 1000 x 3,907,156 / 68,350,798
    assert regs["52"]["by_stage"]["lettre-intention"] == 1
    assert regs["02"]["by_stage"]["non-renseigne"] == 1
    assert regs["24"]["cpts"] == 0 and regs["24"]["share_covered"] == 0.0
    assert any("comptée une fois au niveau national" in n for n in cov.notes)


def test_departements(cov):
    deps = {d["code"]: d for d in cov.departements}
    assert len(deps) == 101
    assert deps["49"]["cpts"] == 2 and deps["49"]["overlap_communes"] == 1
    assert deps["49"]["population_covered"] == 159022 + 16333 + 15251
    assert deps["44"]["cpts"] == 1 and deps["44"]["cpts_shared"] == 1
    assert deps["49"]["cpts_shared"] == 0
    assert deps["75"]["white_zone_communes"] == 20 - 2  # arrondissements are the units
    assert deps["44"]["region"] == "52"
    assert round(sum(d["goal"] for d in cov.departements)) == 1000


def test_scope_filters(ref, register):
    cov = coverage_summary(ref, register, region="52")
    assert [r["code"] for r in cov.regions] == ["52"]
    assert [d["code"] for d in cov.departements] == ["44", "49", "53", "72", "85"]
    assert cov.national["cpts"] == 5  # the nation stays, for context
    assert cov.area["code"] == "52"
    dep = coverage_summary(ref, register, departement="49")
    assert [d["code"] for d in dep.departements] == ["49"] and dep.area["cpts"] == 2
    assert resolve_scope(ref, region="Bretagne")["code"] == "53"
    assert resolve_scope(ref, departement="2a")["code"] == "2A"
    assert resolve_scope(ref, departement="1")["code"] == "01"


def test_unknown_scope(ref, register):
    with pytest.raises(InputError, match=r"région '99' inconnu\(e\) du COG 2026 ; codes valides : 01 \(Guadeloupe\)"):
        coverage_summary(ref, register, region="99")
    with pytest.raises(InputError, match=r"département 'Maine et Loir' .* vouliez-vous dire 49 \(Maine-et-Loire\)"):
        coverage_summary(ref, register, departement="Maine et Loir")
    with pytest.raises(InputError, match="objectif 0 invalide"):
        coverage_summary(ref, register, goal=0)


def test_empty_register_is_all_white(ref):
    empty = register_from_frame(frame([]), ref)
    cov = coverage_summary(ref, empty)
    n = cov.national
    assert n["cpts"] == 0 and n["population_covered"] == 0
    assert n["white_zone_population"] == NATIONAL_POP and n["white_zone_communes"] == 34917
    assert len(cpts_table(ref, empty)) == 0


def test_cpts_table(ref, register):
    t = cpts_table(ref, register)
    assert list(t.index) == ["A", "B", "C", "D", "E"]
    assert t.at["A", "population"] == 159022 + 16333
    assert t.at["A", "aci_size_class"] == 4
    assert t.at["C", "regions"] == ["52", "53"] and t.at["C", "departements"] == ["35", "44"]
    assert t.at["D", "n_units"] == 2 and t.at["D", "n_communes"] == 1  # one city, two arrondissements
    assert t.at["E", "statut"] == ""


def test_text_output(ref, register):
    text = coverage_summary(ref, register, region="52").to_text()
    assert "Couverture CPTS — région Pays de la Loire (52) (registre : registre-test.csv)" in text
    assert "CPTS : 3 pour un objectif de 57,2 (5,2 %)" in text
    assert "Population couverte : 193 917 sur 3 907 156 habitants (5,0 %)" in text
    assert "Chevauchements : 1 commune(s) dans plusieurs CPTS (16 333 habitants, comptés une seule fois)" in text
    assert "49   Maine-et-Loire" in text


def test_csv_output(ref, register):
    df = pd.read_csv(pd.io.common.StringIO(coverage_summary(ref, register).to_csv(by="region")),
                     dtype={"code": str})
    assert list(df["niveau"][:2]) == ["national", "region"]
    assert len(df) == 19
    row = df[df["code"] == "52"].iloc[0]
    assert row["cpts"] == 3 and row["cpts_lettre-intention"] == 1 and row["population_covered"] == 193917


# ---- the command -----------------------------------------------------------------------------
@pytest.fixture
def register_csv(tmp_path):
    path = tmp_path / "registre.csv"
    frame().to_csv(path, index=False)
    return path


def test_cli_json(register_csv):
    r = CliRunner().invoke(main, ["coverage", str(register_csv), "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert set(data) >= {"national", "regions", "departements"}
    assert data["national"]["population_covered"] == 313926
    assert {"code", "nom", "cpts", "by_stage", "population", "population_covered", "share_covered",
            "white_zone_population", "white_zone_communes", "overlap_communes", "goal"} <= set(data["regions"][0])


def test_cli_text_csv_and_output_file(register_csv, tmp_path):
    r = CliRunner().invoke(main, ["coverage", str(register_csv), "--departement", "49"])
    assert r.exit_code == 0
    assert "Couverture CPTS — département Maine-et-Loire (49)" in r.stdout
    out = tmp_path / "couverture.csv"
    r = CliRunner().invoke(main, ["coverage", str(register_csv), "--by", "departement", "--format", "csv",
                                  "-o", str(out), "--goal", "800"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, dtype={"code": str})
    assert len(df) == 102 and df.loc[0, "goal"] == 800
    r = CliRunner().invoke(main, ["coverage", str(register_csv), "-o", str(register_csv)])
    assert r.exit_code == 2 and "aussi un fichier d'entrée" in r.stderr


def test_cli_bad_scope(register_csv):
    r = CliRunner().invoke(main, ["coverage", str(register_csv), "--region", "99"])
    assert r.exit_code == 2
    assert "Erreur : région '99' inconnu(e)" in r.stderr and "52 (Pays de la Loire)" in r.stderr
    r = CliRunner().invoke(main, ["coverage", str(register_csv), "--region", "52", "--departement", "49"])
    assert r.exit_code == 2


@pytest.mark.parametrize(
    ("row", "value"),
    [(("Z", "CPTS Z", "49007", "signé"), "signé"), (("Z", "CPTS Z", "49999", "aci"), "49999")],
)
def test_cli_bad_register(tmp_path, row, value):
    path = tmp_path / "registre.csv"
    frame([*ROWS, row]).to_csv(path, index=False)
    r = CliRunner().invoke(main, ["coverage", str(path)])
    assert r.exit_code == 2
    assert r.stderr.startswith("Erreur : ") and value in r.stderr and "Traceback" not in r.output


def test_cli_empty_register(tmp_path):
    path = tmp_path / "vide.csv"
    path.write_text("cpts_id,cpts_nom,code_insee,statut\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["coverage", str(path), "--format", "json"])
    assert r.exit_code == 0, r.output
    n = json.loads(r.stdout)["national"]
    assert n["cpts"] == 0 and n["white_zone_population"] == NATIONAL_POP


def test_cli_bar_chart(register_csv, tmp_path):
    png = tmp_path / "barres.png"
    r = CliRunner().invoke(main, ["coverage", str(register_csv), "--png", str(png), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
