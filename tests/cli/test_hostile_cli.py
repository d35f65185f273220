"""Bad input and hostile files (issue 11), class by class: nothing lost, nothing overwritten, no
traceback, exit codes 0/1/2 only as documented. Through the readers, the library and the CLI.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cpts_geo._errors import InputError
from cpts_geo._limits import LIMITS, check_param
from cpts_geo._text import for_terminal, safe
from cpts_geo.cli.main import main
from cpts_geo.inputs._tables import MAX_INPUT_BYTES
from cpts_geo.inputs.read import read_proposal, read_register
from cpts_geo.inputs.register import register_from_frame
from cpts_geo.reference.units import default_data_dir

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = default_data_dir() / "examples"
VALID = EXAMPLES / "proposition_valide.csv"
ATTACK = "=cmd|' /C calc'!A0"


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def register_csv(tmp_path, rows, name="registre.csv"):
    path = tmp_path / name
    pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee", "statut", "date_statut"]).to_csv(
        path, index=False
    )
    return path


# ---------------------------------------------------------------------------------------------
# Silent data loss: headerless lists
# ---------------------------------------------------------------------------------------------
def test_headerless_several_codes_per_line_are_all_read(tmp_path, ref):
    path = write(tmp_path, "l.csv", "49007,49015,49017\n49020,49023,49026\n")
    p = read_proposal(path, ref)
    assert p.codes == ["49007", "49015", "49017", "49020", "49023", "49026"]
    assert p.warnings[0]["message"].startswith(
        "2 lignes sans en-tête portent plusieurs codes (première : ligne 1)"
    )


def test_headerless_codes_separated_by_spaces_in_one_cell(tmp_path, ref):
    path = write(tmp_path, "l.txt", "49007 49015\n49017\n")
    assert read_proposal(path, ref).codes == ["49007", "49015", "49017"]


def test_headerless_several_columns_of_codes(tmp_path, ref):
    # Two columns of codes, one row shorter: every code cell is read.
    path = write(tmp_path, "l.csv", "49007;49020\n49015;49023\n49017;\n")
    assert sorted(read_proposal(path, ref).codes) == ["49007", "49015", "49017", "49020", "49023"]


def test_headerless_code_and_name_still_one_commune(tmp_path, ref):
    path = write(tmp_path, "l.csv", "49007;Angers\n49015;Avrillé\n")
    p = read_proposal(path, ref)
    assert p.codes == ["49007", "49015"] and p.warnings == []


def test_headerless_name_and_departement(tmp_path, ref):
    path = write(tmp_path, "l.csv", "49015\nSaint-Denis;93\nAngers;49\n")
    assert read_proposal(path, ref).codes == ["49015", "93066", "49007"]


def test_headerless_two_names_on_a_line_are_refused_not_dropped(tmp_path, ref):
    path = write(tmp_path, "l.csv", "49015\nAngers;Saumur\nCholet;Avrillé\n")
    with pytest.raises(
        InputError, match=r"l.csv : ligne 2 : 2 valeurs sans code commune \('Angers', 'Saumur'\)"
    ):
        read_proposal(path, ref)
    # A single line of names (issue 12): one commune per name.
    assert read_proposal(write(tmp_path, "m.csv", "Angers;Saumur\n"), ref).codes == ["49007", "49328"]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["49007", "49015", "49017", "49020", "49023"]), min_size=1, max_size=4),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from([",", ";", "\t", " "]),
)
def test_headerless_every_code_is_kept(ref, tmp_path_factory, lines, sep):
    """Invariant: whatever the layout, the set of codes read is the set of codes written."""
    path = tmp_path_factory.mktemp("h") / "l.csv"
    path.write_text("\n".join(sep.join(line) for line in lines) + "\n", encoding="utf-8")
    got = read_proposal(path, ref).codes
    assert set(got) == {c for line in lines for c in line}


# ---------------------------------------------------------------------------------------------
# Silent data loss: XLSX formulas without cached values
# ---------------------------------------------------------------------------------------------
def _workbook(tmp_path, rows, name="f.xlsx"):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    path = tmp_path / name
    wb.save(path)  # openpyxl writes formulas without cached values
    return path


def test_xlsx_simple_formulas_are_evaluated(tmp_path, ref):
    path = _workbook(
        tmp_path,
        [["code_insee"], ["49007"], ['="49015"'], ["=49017"], ['="490"&"20"'], ["=A2"]],
    )
    p = read_proposal(path, ref)
    assert p.codes == ["49007", "49015", "49017", "49020"]
    assert p.warnings == [{"line": 6, "value": "49007", "message": "doublon ignoré : 49007 déjà cité"}]


def test_xlsx_other_formulas_are_refused_naming_the_cells(tmp_path, ref):
    path = _workbook(
        tmp_path, [["code_insee", "nom"], ["49007", "Angers"], ["=VLOOKUP(B2,Z:Z,1)", ""], ["=SUM(1,2)", ""]]
    )
    with pytest.raises(
        InputError,
        match=r"f.xlsx : 2 formules sans valeur calculée : A3 \(=VLOOKUP\(B2,Z:Z,1\)\), A4 \(=SUM\(1,2\)\) ; "
        "ouvrez le classeur",
    ):
        read_proposal(path, ref)
    res = run("check", path)
    assert res.exit_code == 2 and "A3 (=VLOOKUP" in res.stderr


def test_xlsx_register_formula_cells(tmp_path, ref):
    path = _workbook(
        tmp_path,
        [
            ["cpts_id", "cpts_nom", "code_insee"],
            ["A", "CPTS A", "49007"],
            ["A", "CPTS A", '="49015"'],
            ["A", "=B2", "49017"],
        ],
    )
    reg = read_register(path, ref)
    assert reg.links["code_insee"].tolist() == ["49007", "49015", "49017"]
    assert reg.cpts.loc["A", "cpts_nom"] == "CPTS A"


# ---------------------------------------------------------------------------------------------
# Silent data loss: GeoPackage layers, repaired polygons, degenerate geometries
# ---------------------------------------------------------------------------------------------
def _polygon_of(ref, codes):
    return shapely.union_all(ref.units.loc[codes].geometry.to_numpy()).buffer(0.0005)


def _two_layer_gpkg(ref, tmp_path):
    path = tmp_path / "deux.gpkg"
    a = gpd.GeoDataFrame(
        {"cpts_id": ["A"], "cpts_nom": ["CPTS A"]}, geometry=[_polygon_of(ref, ["49007"])], crs=4326
    )
    b = gpd.GeoDataFrame(
        {"cpts_id": ["B"], "cpts_nom": ["CPTS B"]}, geometry=[_polygon_of(ref, ["49328"])], crs=4326
    )
    a.to_file(path, layer="nord", driver="GPKG")
    b.to_file(path, layer="sud", driver="GPKG")
    import sqlite3

    with sqlite3.connect(path) as con:  # a QGIS style table: not a layer of polygons
        con.execute("CREATE TABLE layer_styles (id INTEGER PRIMARY KEY, f_table_name TEXT, styleQML TEXT)")
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('layer_styles', 'attributes', 'layer_styles')"
        )
    return path


def test_multilayer_gpkg_refused_listing_layers_and_layer_option(ref, tmp_path):
    path = _two_layer_gpkg(ref, tmp_path)
    with pytest.raises(
        InputError, match=r"deux.gpkg : 2 couches \(nord, sud\) ; choisissez-en une \(paramètre layer\)"
    ):
        read_register(path, ref)
    assert read_register(path, ref, layer="sud").links["cpts_id"].unique().tolist() == ["B"]
    with pytest.raises(InputError, match=r"couche 'ouest' introuvable ; couches : nord, sud"):
        read_proposal(path, ref, layer="ouest")
    for cmd in (["check-register"], ["coverage"], ["check"]):
        res = run(*cmd, path)
        assert (
            res.exit_code == 2 and "2 couches (nord, sud)" in res.stderr and "UserWarning" not in res.output
        )
    res = run("check-register", path, "--layer", "nord", "--min-population", "0", "--format", "json")
    assert res.exit_code in (0, 1) and json.loads(res.stdout)["cpts"][0]["territory"]["communes"] == ["49007"]
    res = run("coverage", path, "--layer", "sud", "--format", "json")
    assert res.exit_code == 0 and json.loads(res.stdout)["national"]["cpts"] == 1
    res = run("suggest", "--departement", "49", "--existing", path, "--layer", "nord", "--format", "json")
    assert res.exit_code == 0, res.output


def test_multilayer_register_in_every_command_that_reads_one(ref, tmp_path):
    # Each register a command reads has its own layer option, named when it is missing.
    path = _two_layer_gpkg(ref, tmp_path)
    proposal = tmp_path / "p.csv"
    proposal.write_text("code_insee\n49015\n49007\n", encoding="utf-8")
    res = run("check", proposal, "--existing", path)
    assert res.exit_code == 2 and "2 couches (nord, sud)" in res.stderr
    assert "option --existing-layer" in res.stderr and "option --layer" not in res.stderr
    res = run("check", proposal, "--existing", path, "--existing-layer", "nord", "--format", "json")
    overlap = json.loads(res.stdout)["rules"][-1]
    assert res.exit_code == 1 and overlap["details"]["cpts"][0]["cpts_id"] == "A"
    res = run("check", proposal, "--existing-layer", "nord")
    assert res.exit_code == 2 and "sans objet sans --existing" in res.stderr
    res = run("coverage-history", path)
    assert res.exit_code == 2 and "option --layer" in res.stderr
    assert run("coverage-history", path, "--layer", "sud", "--format", "json").exit_code == 0
    res = run("compare-registers", path, path, "--old-layer", "nord")
    assert res.exit_code == 2 and "option --new-layer" in res.stderr
    res = run(
        "compare-registers", path, path, "--old-layer", "nord", "--new-layer", "sud", "--format", "json"
    )
    assert res.exit_code == 0, res.output
    changes = json.loads(res.stdout)
    assert [c["cpts_id"] for c in changes["added"]] == ["B"]
    assert [c["cpts_id"] for c in changes["removed"]] == ["A"]


def test_self_intersecting_polygon_is_repaired_with_areas(ref, tmp_path):
    x0, y0, x1, y1 = ref.units.loc["49007"].geometry.buffer(0.1).bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    path = tmp_path / "noeud.geojson"
    gpd.GeoDataFrame({"nom": ["T"]}, geometry=[bowtie], crs=4326).to_file(path, driver="GeoJSON")
    p = read_proposal(path, ref)
    w = p.warnings[0]
    assert w["line"] == 1
    assert w["message"].startswith("objet n°1 : polygone invalide (contour qui se recoupe) réparé : ")
    assert "km² avant" in w["message"] and "km² après (EPSG:2154)" in w["message"]
    res = run("check", path)
    assert "Attention" in res.stderr and "polygone invalide" in res.stderr


@pytest.mark.parametrize(
    ("geometry", "match"),
    [
        (shapely.Polygon([(-0.55, 47.47)] * 4), "objet n°1 : polygone dégénéré"),
        (
            shapely.Polygon([(-0.55, 47.47), (-0.5, 47.47), (-0.45, 47.47), (-0.55, 47.47)]),
            "objet n°1 : polygone dégénéré",
        ),
        (
            shapely.Polygon([(-0.55, 47.47), (float("nan"), 47.5), (-0.5, 47.5), (-0.55, 47.47)]),
            "objet n°1 : coordonnées non finies",
        ),
        (
            shapely.Polygon([(-0.55, 47.47), (float("inf"), 47.5), (-0.5, 47.5), (-0.55, 47.47)]),
            "objet n°1 : coordonnées non finies",
        ),
    ],
)
def test_degenerate_geometries_are_input_errors(ref, tmp_path, geometry, match):
    path = tmp_path / "d.gpkg"
    gpd.GeoDataFrame({"cpts_id": ["A"]}, geometry=[geometry], crs=4326).to_file(path, driver="GPKG")
    with pytest.raises(InputError, match=match):
        read_proposal(path, ref)
    res = run("check", path)
    assert res.exit_code == 2 and "d.gpkg" in res.stderr


# ---------------------------------------------------------------------------------------------
# Silent data loss: quoted field over line breaks
# ---------------------------------------------------------------------------------------------
def test_unbalanced_quote_is_warned_with_its_lines(tmp_path, ref):
    path = write(tmp_path, "q.csv", 'code_insee;nom\n49007;"Angers\n49015;Avrillé\n49017;Bouchemaine\n')
    p = read_proposal(path, ref)
    msgs = [w for w in p.warnings if "guillemets" in w["message"]]
    assert msgs and msgs[0]["line"] == 2
    assert msgs[0]["message"].startswith("champ entre guillemets sur plusieurs lignes (lignes 2 à 4)")
    res = run("check", path)
    assert "q.csv : ligne 2 : champ entre guillemets sur plusieurs lignes" in res.stderr


def test_unbalanced_quote_in_a_register(tmp_path, ref):
    path = write(tmp_path, "r.csv", 'cpts_id,cpts_nom,code_insee\nA,"CPTS A,49007\nA,CPTS A,49015\n')
    with pytest.raises(InputError):
        read_register(path, ref)  # the swallowed row leaves no code: refused, not lost


# ---------------------------------------------------------------------------------------------
# Dates and one value per CPTS
# ---------------------------------------------------------------------------------------------
def test_two_dates_for_one_cpts_refused_like_two_names(ref):
    df = pd.DataFrame(
        {
            "cpts_id": ["A", "A"],
            "cpts_nom": ["CPTS A", "CPTS A"],
            "code_insee": ["49007", "49015"],
            "date_statut": ["01/03/2021", "2021-04-01"],
        }
    )
    with pytest.raises(
        InputError,
        match=r"ligne n°2 du tableau : la CPTS 'A' a deux dates de statut : '2021-03-01' \(ligne n°1 du tableau\) "
        "et '2021-04-01' ; corrigez l'une des lignes",
    ):
        register_from_frame(df, ref)
    # The same date written two ways is one date.
    df["date_statut"] = ["01/03/2021", "2021-03-01"]
    assert register_from_frame(df, ref).cpts.loc["A", "date_statut"] == "2021-03-01"


@pytest.mark.parametrize("bad", ["31/02/2021", "hier", "2021-13-01", "00/01/2021", "1er mars"])
def test_impossible_dates_refused_with_line_and_value(ref, tmp_path, bad):
    path = register_csv(
        tmp_path, [["A", "CPTS A", "49007", "aci", "01/03/2021"], ["B", "CPTS B", "49015", "aci", bad]]
    )
    with pytest.raises(
        InputError,
        match=rf"ligne 3 : date_statut '{bad}' impossible ou illisible ; attendu une date jj/mm/aaaa",
    ):
        read_register(path, ref)
    res = run("coverage", path)
    assert res.exit_code == 2 and f"'{bad}'" in res.stderr


def test_french_and_excel_dates_stored_iso_shown_french(ref, tmp_path):
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["cpts_id", "cpts_nom", "code_insee", "statut", "date_statut"])
    ws.append(["A", "CPTS A", "49007", "aci", dt.datetime(2021, 3, 1)])
    ws.append(["B", "CPTS B", "49015", "aci", "15/06/2022"])
    path = tmp_path / "r.xlsx"
    wb.save(path)
    reg = read_register(path, ref)
    assert reg.cpts["date_statut"].to_dict() == {"A": "2021-03-01", "B": "2022-06-15"}
    from cpts_geo._text import fr_date

    assert fr_date("2021-03-01") == "01/03/2021"
    out = tmp_path / "carte.html"
    res = run("coverage-map", path, "--departement", "49", "-o", out)
    assert res.exit_code == 0, res.output
    assert "(01/03/2021)" in out.read_text(encoding="utf-8")


def test_header_only_register_refused(tmp_path, ref):
    path = write(tmp_path, "vide.csv", "cpts_id,cpts_nom,code_insee\n")
    with pytest.raises(
        InputError, match="vide.csv : aucune ligne de données sous l'en-tête ; le registre est vide"
    ):
        read_register(path, ref)
    for cmd in ("check-register", "coverage", "coverage-map"):
        assert run(cmd, path).exit_code == 2


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["coverage", "{reg}", "-o", "{d}/m.png", "--png", "{d}/m.png"],
        ["coverage-map", "{reg}", "-o", "{d}/m.html", "--png", "{d}/./m.html"],
        ["suggest", "--departement", "49", "-o", "{d}/x.geojson", "--map", "{d}/x.geojson"],
    ],
)
def test_two_outputs_on_one_path_refused_before_writing(tmp_path, args):
    reg = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"
    res = run(*[a.format(reg=reg, d=tmp_path) for a in args])
    assert res.exit_code == 2 and "deux sorties de la commande ont le même chemin" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_one_refused_output_writes_none(tmp_path):
    reg = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"
    res = run(
        "coverage", reg, "--format", "csv", "-o", tmp_path / "ok.csv", "--png", tmp_path / "absent" / "b.png"
    )
    assert res.exit_code == 2 and "n'existe pas" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_output_into_the_reference_folder_refused(tmp_path):
    res = run("check", VALID, "-o", default_data_dir() / "rapport.txt")
    assert res.exit_code == 2 and "est dans le dossier d'entrée" in res.stderr
    assert not (default_data_dir() / "rapport.txt").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_output_onto_a_fifo_or_device_refused(tmp_path):
    fifo = tmp_path / "tube"
    os.mkfifo(fifo)
    for out in (fifo, Path("/dev/null")):
        res = run("check", VALID, "-o", out)
        assert res.exit_code == 2 and "n'est pas un fichier ordinaire" in res.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


SIGTERM_SCRIPT = """
import os, signal, sys, time
from pathlib import Path
real = Path.write_text
def slow(self, *a, **k):
    real(self, *a, **k)
    os.kill(os.getpid(), signal.SIGTERM)   # the temp file exists: terminate now
    time.sleep(30)
Path.write_text = slow
from cpts_geo.cli import main
main(["check", sys.argv[1], "-o", sys.argv[2]])
"""


def test_no_temp_file_after_sigterm(tmp_path):
    out = tmp_path / "rapport.txt"
    res = subprocess.run(
        [sys.executable, "-c", SIGTERM_SCRIPT, str(VALID), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 143, res.stderr
    assert "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Injection
# ---------------------------------------------------------------------------------------------
def test_suggest_csv_neutralises_cpts_ids(tmp_path, ref):
    # Every commune of Maine-et-Loire in the hostile CPTS but Avrillé: too small alone, Avrillé
    # is proposed as an extension of that CPTS, whose id reaches the CSV.
    codes = [c for c in ref.units.index[ref.units["departement"] == "49"] if c != "49015"]
    path = register_csv(tmp_path, [[ATTACK, "CPTS", c, "aci", ""] for c in codes])
    out = tmp_path / "s.csv"
    res = run("suggest", "--departement", "49", "--existing", path, "-o", out)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    ids = set(table["cpts_id"]) - {""}
    assert ids and all(not i.startswith(("=", "+", "-", "@")) for i in ids)
    assert f"'{ATTACK}" in ids


def test_coverage_csv_neutralises_text_cells():
    from cpts_geo._csv import neutralize_frame

    frame = pd.DataFrame(
        {"nom": [ATTACK, "@SUM(A1)", "\tx", "\rx", "-2+3", "Angers"], "n": [-1, 2, 3, 4, 5, 6]}
    )
    out = neutralize_frame(frame)
    assert out["nom"].tolist() == [f"'{ATTACK}", "'@SUM(A1)", "'\tx", "'\rx", "'-2+3", "Angers"]
    assert out["n"].tolist() == [-1, 2, 3, 4, 5, 6]


def test_control_characters_escaped_in_errors_and_reports(tmp_path, ref):
    path = write(tmp_path, "p.csv", "commune\nAng\x1b[2Jers\x07\n")
    res = run("check", path)
    assert res.exit_code == 2
    assert "\x1b" not in res.stderr and "\x07" not in res.stderr
    assert "Ang\\x1b[2Jers\\x07" in res.stderr
    reg = register_csv(tmp_path, [["A", "CPTS \x1b]0;pwn\x07", "49007", "aci", ""]])
    res = run("check-register", reg, "--min-population", "0")
    assert "\x1b" not in res.stdout and "CPTS \\x1b]0;pwn\\x07" in res.stdout


def test_huge_value_cut_in_messages(tmp_path, ref):
    path = write(tmp_path, "p.csv", "commune\n" + "A" * 100_000 + "\n")
    res = run("check", path)
    assert res.exit_code == 2 and len(res.stderr) < 1000
    assert "(100 000 caractères)" in res.stderr


@given(st.text(max_size=400))
def test_safe_has_no_control_characters_and_is_bounded(text):
    out = safe(text, 100)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in out)
    assert len(out) <= 100 * 6 + 40
    assert "\n" in for_terminal(text + "\n")


# ---------------------------------------------------------------------------------------------
# Tracebacks and exit codes: numeric options
# ---------------------------------------------------------------------------------------------
NUMERIC = [
    ("check", "--min-population", [VALID]),
    ("check-register", "--min-population", [EXAMPLES / "registre_fictif_pays_de_la_loire.csv"]),
    ("suggest", "--min-population", ["--departement", "49"]),
    ("check", "--sea-link-km", [VALID]),
    ("suggest", "--sea-link-km", ["--departement", "49"]),
    ("coverage", "--goal", [EXAMPLES / "registre_fictif_pays_de_la_loire.csv"]),
    ("coverage-map", "--goal", [EXAMPLES / "registre_fictif_pays_de_la_loire.csv"]),
    ("suggest", "--effort", ["--departement", "49"]),
    ("suggest", "--seed", ["--departement", "49"]),
]


@pytest.mark.parametrize(("cmd", "flag", "rest"), NUMERIC)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-3", "1" + "0" * 40, "abc", "1e400"])
def test_numeric_options_bounded_everywhere(cmd, flag, rest, value):
    res = run(cmd, *rest, flag, value)
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith(f"Erreur : option {flag} : valeur "), res.stderr
    assert "attendu un nombre" in res.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("min_population", 10_000_001), ("sea_link_km", 200.5), ("goal", 0.5), ("effort", 11), ("seed", 2**32)],
)
def test_just_above_the_bounds(name, value):
    with pytest.raises(InputError, match=f"{name} : valeur .* refusée ; attendu un nombre"):
        check_param(name, value)
    limit = LIMITS[name]
    assert check_param(name, limit.high) == limit.high and check_param(name, limit.low) == limit.low


def test_library_validates_like_the_cli(ref):
    from cpts_geo.checks.rules import check_territory
    from cpts_geo.steering.coverage import coverage_summary
    from cpts_geo.suggest.territories import suggest_territories

    with pytest.raises(InputError, match="sea_link_km : valeur inf refusée"):
        suggest_territories(ref, within="49", sea_link_km=float("inf"))
    with pytest.raises(InputError, match="seed : valeur -1 refusée"):
        suggest_territories(ref, within="49", seed=-1)
    with pytest.raises(InputError, match="min_population : valeur 1e\\+40 refusée"):
        check_territory(ref, ["49007"], min_population=1e40)
    with pytest.raises(InputError, match="goal : valeur nan refusée"):
        coverage_summary(ref, None, goal=float("nan"))


# ---------------------------------------------------------------------------------------------
# Tracebacks and exit codes: input paths, API types
# ---------------------------------------------------------------------------------------------
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="Unix devices")
def test_device_and_fifo_inputs_refused_before_reading(tmp_path, ref):
    fifo = tmp_path / "tube.csv"
    os.mkfifo(fifo)
    for path in (Path("/dev/zero"), fifo):
        with pytest.raises(InputError, match="n'est pas un fichier ordinaire"):
            read_proposal(path, ref)
        assert run("check", path).exit_code == 2
    with pytest.raises(InputError, match="n'est pas un fichier ordinaire"):
        read_register(fifo, ref)


def test_oversized_input_refused_before_reading(tmp_path, ref):
    path = tmp_path / "gros.csv"
    with open(path, "wb") as f:
        f.truncate(MAX_INPUT_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(
        InputError, match="gros.csv : fichier de 209\u00a0715\u00a0201 octets, au-delà de la limite de 200 Mo"
    ):
        read_proposal(path, ref)


@pytest.mark.parametrize("dep", [49, 49.0, np.int64(49), "49", " 49 ", "Maine-et-Loire"])
def test_departement_as_int_or_name(ref, dep):
    from cpts_geo.checks.territory import Territory

    assert ref.resolve(["Angers"], departement=dep).codes == ["49007"]
    assert Territory(ref, ["49007"]).codes == ["49007"]


@pytest.mark.parametrize("path", [49, None, b"x.csv", ["a.csv"], "", "a\x00.csv"])
def test_path_of_another_type_is_an_input_error(ref, path):
    with pytest.raises(InputError, match="chemin de fichier attendu"):
        read_proposal(path, ref)
    with pytest.raises(InputError, match="chemin de fichier attendu"):
        read_register(path, ref)


def test_exit_code_1_only_for_a_failed_rule(tmp_path):
    # A failed rule: 1. Bad input: 2. Click usage: 2. Never 1 otherwise.
    assert run("check", EXAMPLES / "proposition_population_insuffisante.csv").exit_code == 1
    assert run("check", tmp_path / "absent.csv").exit_code == 2
    assert run("check").exit_code == 2
    assert run("check", VALID, "--format", "pdf").exit_code == 2


def test_unexpected_error_exits_3_not_1(monkeypatch):
    import cpts_geo.checks.rules

    def boom(*a, **k):
        raise RuntimeError("bug \x1b[31m")

    monkeypatch.setattr(cpts_geo.checks.rules, "check_territory", boom)
    res = CliRunner().invoke(main, ["check", str(VALID)])
    assert res.exit_code == 3
    assert "Erreur interne : RuntimeError : bug \\x1b[31m" in res.stderr


def test_register_migrate_never_cuts_a_name_silently(tmp_path):
    """A name longer than Excel's 32,767-character cell was cut silently in the rewritten
    register, which then said « 0 changement(s) »: it is cut when read (with a warning naming the
    line), and the rewrite counts and logs it."""
    import openpyxl

    name = "CPTS " + "x" * 40_000
    old = tmp_path / "registre.csv"
    old.write_text(f"cpts_id,cpts_nom,code_insee\nA,{name},49007\nA,{name},49015\n", encoding="utf-8")
    new, log = tmp_path / "registre_2026.xlsx", tmp_path / "journal.csv"
    res = run("register", "migrate", old, "-o", new, "--log", log)
    assert res.exit_code == 0, res.output
    assert "ligne 2 : nom de 40\u00a0005 caractères coupé aux 200 premiers" in res.stderr
    assert "1 changement" in res.stderr and "aucun changement" not in res.stderr
    assert "coupé aux 200 premiers" in log.read_text(encoding="utf-8")
    cells = [c for row in openpyxl.load_workbook(new).worksheets[0].iter_rows(values_only=True) for c in row]
    assert name[:200] in cells and not any(isinstance(c, str) and len(c) > 200 for c in cells)


SIGTERM_DURING_XLSX = """
import os, signal, sys
import pandas as pd
from cpts_geo.cli.options import install_sigterm
from cpts_geo.outputs.xlsx import Column, Sheet, write_workbook

install_sigterm()


class Terminated:
    calls = 0

    def __str__(self):  # SIGTERM arrives while the second sheet is written, the first one open
        Terminated.calls += 1
        if Terminated.calls == 500:
            os.kill(os.getpid(), signal.SIGTERM)
        return "x"


first = pd.DataFrame({"a": ["y"] * 3000})
second = pd.DataFrame({"a": [Terminated() for _ in range(3000)]})
sheets = [Sheet("S", first, [Column("a", "A")]), Sheet("T", second, [Column("a", "A")])]
write_workbook(sys.argv[1], sheets, source=[("a", "b")])
"""


def test_sigterm_while_a_workbook_is_written(tmp_path):
    """SIGTERM while an XLSX was written printed openpyxl's traceback (« Exception ignored in:
    <generator WriteOnlyWorksheet._write_rows> … ValueError: I/O operation on closed file »)."""
    out = tmp_path / "classeur.xlsx"
    res = subprocess.run(
        [sys.executable, "-c", SIGTERM_DURING_XLSX, str(out)], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 143
    assert res.stderr == "" and res.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind
