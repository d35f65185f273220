"""French Excel workbooks: layout, number formats, codes, dates, the Source sheet, injection."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpts_geo._csv import neutralize_csv_cell, neutralize_frame
from cpts_geo._errors import InputError
from cpts_geo.outputs.xlsx import Column, Sheet, file_rows, parameter_row, run_row, sheet_name, write_workbook

ATTACK = "=cmd|' /C calc'!A0"


def _communes() -> Sheet:
    df = pd.DataFrame(
        {
            "code_insee": ["01001", "49007", "2A004"],
            "nom": ["L'Abergement-Clémenciat", "Angers", "Ajaccio"],
            "population": [832, 157_175, 75_000],
            "densite": [51.234, 3_679.04, 918.5],
            "part": [0.0456, 1.0, 0.5],
            "date_statut": [pd.Timestamp("2021-03-04"), "15/06/2022", None],
            "cpts_id": [ATTACK, "+33 1 23", "CPTS-49-01"],
        }
    )
    cols = [
        Column("code_insee", "Code commune", "code"),
        Column("nom", "Commune"),
        Column("population", "Population municipale", "int"),
        Column("densite", "Densité (hab./km²)", "decimal", width=14),
        Column("part", "Part couverte", "percent"),
        Column("date_statut", "Date du statut", "date"),
        Column("cpts_id", "Identifiant CPTS", "text"),
    ]
    return Sheet("Communes", df, cols)


SOURCE = [
    ("Outil", "cpts-geo 0.1.0"),
    ("COG", "2026"),
    ("Populations légales", "2023 (populations municipales)"),
    ("Fichier lu : registre.xlsx", "modifié le 02/11/2026"),
    ("Population minimale", "20 000 (valeur par défaut)"),
    ("Distance des liaisons maritimes", "15 km (valeur choisie)"),
    ("Date de l'exécution", "01/12/2026 08:15"),
]


@pytest.fixture
def book(tmp_path):
    out = write_workbook(tmp_path / "t.xlsx", [_communes()], source=SOURCE)
    return openpyxl.load_workbook(out)


def test_sheet_names_and_headers(book):
    assert book.sheetnames == ["Communes", "Source"]
    ws = book["Communes"]
    assert [c.value for c in ws[1]] == [
        "Code commune",
        "Commune",
        "Population municipale",
        "Densité (hab./km²)",
        "Part couverte",
        "Date du statut",
        "Identifiant CPTS",
    ]
    assert all(c.font.b for c in ws[1])
    assert ws["A1"].fill.fgColor.rgb.endswith("DDEBF7")
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G4"


def test_numbers_are_numbers_with_french_formats(book):
    ws = book["Communes"]
    assert (ws["C3"].value, ws["C3"].number_format, ws["C3"].data_type) == (157_175, "#,##0", "n")
    assert (ws["D3"].value, ws["D3"].number_format) == (3_679.04, "#,##0.0")
    assert (ws["E2"].value, ws["E2"].number_format) == (0.0456, "0.0%")


def test_dates_are_date_cells(book):
    ws = book["Communes"]
    assert ws["F2"].value == dt.datetime(2021, 3, 4)
    assert ws["F2"].is_date and ws["F2"].number_format == "dd/mm/yyyy"
    assert ws["F3"].value == dt.datetime(2022, 6, 15)  # a French jj/mm/aaaa string
    assert ws["F4"].value is None


def test_codes_stay_text(book):
    ws = book["Communes"]
    assert (ws["A2"].value, ws["A2"].data_type, ws["A2"].number_format) == ("01001", "s", "@")
    assert ws["A4"].value == "2A004"


def test_column_widths(book):
    ws = book["Communes"]
    assert ws.column_dimensions["D"].width == 14  # given
    # From the content: "L'Abergement-Clémenciat" (23 characters) + 2.
    assert ws.column_dimensions["B"].width == 25
    assert all(ws.column_dimensions[c].width >= 6 for c in "ABCDEFG")


def test_injection_is_not_a_formula(book):
    ws = book["Communes"]
    assert (ws["G2"].value, ws["G2"].data_type) == (ATTACK, "s")
    assert ws["G2"].quotePrefix  # Excel's leading apostrophe: shown as typed, never evaluated
    assert ws["G3"].quotePrefix and ws["G3"].value == "+33 1 23"
    assert not ws["G4"].quotePrefix
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_source_sheet(book):
    ws = book["Source"]
    assert [c.value for c in ws[1]] == ["Rubrique", "Valeur"]
    assert [(a.value, b.value) for a, b in ws.iter_rows(min_row=2)] == SOURCE
    assert ws.freeze_panes == "A2"


def test_source_rows(tmp_path):
    assert parameter_row("Population minimale", 20000, 20000) == (
        "Population minimale",
        "20\u00a0000 (valeur par défaut)",
    )
    assert parameter_row("Population minimale", 8500, 20000) == (
        "Population minimale",
        "8\u00a0500 (valeur choisie ; par défaut : 20\u00a0000)",
    )
    assert parameter_row("Distance (km)", 15.5, 30.0) == (
        "Distance (km)",
        "15,5 (valeur choisie ; par défaut : 30)",
    )
    assert parameter_row("Région", None, None) == ("Région", "aucune (valeur par défaut)")
    assert parameter_row("Strict", True, False) == ("Strict", "oui (valeur choisie ; par défaut : non)")
    f = tmp_path / "registre.csv"
    f.write_text("x")
    os.utime(f, (0, dt.datetime(2026, 11, 2, 9, 30).timestamp()))
    assert file_rows([f, None]) == [
        ("Fichier lu", f"registre.csv (modifié le 02/11/2026 à 09:30) — {tmp_path.resolve()}")
    ]
    assert file_rows([tmp_path / "absent.csv"])[0][1].startswith("absent.csv (date inconnue)")
    assert run_row(dt.datetime(2026, 12, 1, 8, 5)) == ("Date de l'exécution", "01/12/2026 à 08:05")


def test_title_line(tmp_path):
    sh = _communes()
    sh.title = "Communes du territoire (COG 2026)"
    ws = openpyxl.load_workbook(write_workbook(tmp_path / "t.xlsx", [sh], source={}))["Communes"]
    assert ws["A1"].value == "Communes du territoire (COG 2026)" and ws["A1"].font.b
    assert ws["A2"].value == "Code commune"
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref == "A2:G5"


def test_empty_frame_and_missing_values(tmp_path):
    df = pd.DataFrame({"n": pd.Series([], dtype="float64")})
    full = pd.DataFrame({"n": [float("nan"), float("inf"), 2.0, "n.c."]})
    out = write_workbook(
        tmp_path / "t.xlsx",
        [
            Sheet("Vide", df, [Column("n", "Nombre", "int")]),
            Sheet("Trous", full, [Column("n", "Nombre", "int")]),
        ],
        source={},
    )
    wb = openpyxl.load_workbook(out)
    assert wb["Vide"].max_row == 1 and wb["Vide"].auto_filter.ref == "A1:A1"
    ws = wb["Trous"]
    assert [ws[f"A{i}"].value for i in range(2, 6)] == [None, None, 2, "n.c."]
    assert ws["A4"].data_type == "n"


def test_sheet_names_sanitised():
    assert sheet_name("Communes [49]: a/b?*\\") == "Communes 49 a b"
    assert len(sheet_name("x" * 40)) == 31
    assert sheet_name("communes", ["Communes"]) == "communes (2)"
    assert sheet_name("'quoted'") == "quoted"
    assert sheet_name("") == "Feuille"
    assert sheet_name("Source", ["Source"]) == "Source (2)"


def test_duplicate_and_long_sheet_names(tmp_path):
    df = pd.DataFrame({"a": [1]})
    cols = [Column("a", "A", "int")]
    out = write_workbook(
        tmp_path / "t.xlsx",
        [
            Sheet("Départements : Pays de la Loire et Bretagne", df, cols),
            Sheet("Source", df, cols),
            Sheet("Départements : Pays de la Loire et Bretagne", df, cols),
        ],
        source={},
    )
    assert openpyxl.load_workbook(out).sheetnames == [
        "Départements Pays de la Loire e",
        "Source (2)",
        "Départements Pays de la Loi (2)",
        "Source",
    ]


def test_control_characters_removed(tmp_path):
    df = pd.DataFrame({"t": ["a\x00b\x1bc\x07", "ok\ttab"], "c": ["49\x0b007", "x"]})
    out = write_workbook(
        tmp_path / "t.xlsx",
        [Sheet("T\x01", df, [Column("t", "Texte"), Column("c", "Code", "code")])],
        source={"clé\x02": "valeur\x03"},
    )
    wb = openpyxl.load_workbook(out)
    ws = wb["T"]
    assert [ws["A2"].value, ws["A3"].value, ws["B2"].value] == ["abc", "ok\ttab", "49007"]
    assert wb["Source"]["A2"].value == "clé" and wb["Source"]["B2"].value == "valeur"


def test_lone_surrogates_and_booleans(tmp_path):
    df = pd.DataFrame({"t": ["caf\udce9", True, False], "n": [1, 2, 3]})
    out = write_workbook(tmp_path / "t.xlsx", [Sheet("T", df, [Column("t", "Texte")])], source={})
    ws = openpyxl.load_workbook(out)["T"]
    assert [ws["A2"].value, ws["A3"].value, ws["A4"].value] == ["caf?", "oui", "non"]


def test_missing_column_listed(tmp_path):
    df = pd.DataFrame({"a": [1]})
    with pytest.raises(ValueError, match=r"sheet 'X': no column 'b', 'c' in the frame"):
        write_workbook(tmp_path / "t.xlsx", [Sheet("X", df, [Column("b", "B"), Column("c", "C")])], source={})
    assert not os.listdir(tmp_path)


def test_bad_kind_refused():
    with pytest.raises(ValueError, match="kind 'money'"):
        Column("a", "A", "money")
    with pytest.raises(ValueError, match="3 digits for decimal"):
        Column("a", "A", "decimal", digits=3)


def test_atomic_and_never_over_an_input(tmp_path):
    inp = tmp_path / "registre.xlsx"
    inp.write_bytes(b"input")
    with pytest.raises(InputError, match="aussi un fichier d'entrée"):
        write_workbook(inp, [_communes()], source={}, inputs=[inp])
    assert inp.read_bytes() == b"input"
    write_workbook(tmp_path / "out.xlsx", [_communes()], source={})
    assert sorted(os.listdir(tmp_path)) == ["out.xlsx", "registre.xlsx"]  # no temp file left


def test_neutralize_csv():
    assert neutralize_csv_cell(ATTACK) == "'" + ATTACK
    for s in ("+1", "-1", "@SUM(A1)", "\tx", "\rx", "  =1+1", "\uff1d1+1"):
        assert neutralize_csv_cell(s) == "'" + s
    for v in ("Angers", "", "49-Nord", -3, 2.5, None):
        assert neutralize_csv_cell(v) == v
    df = pd.DataFrame({"=id": [ATTACK, "ok"], "n": [-1, 2]})
    out = neutralize_frame(df)
    assert list(out.columns) == ["'=id", "n"]
    assert out["'=id"].tolist() == ["'" + ATTACK, "ok"] and out["n"].tolist() == [-1, 2]
    assert df["=id"].iloc[0] == ATTACK  # the input is not modified
    cat = pd.DataFrame(
        {"s": pd.Categorical(["@x", "aci"]), "t": pd.array(["-1", None], dtype="string")},
        index=pd.Index(["=A1", "C2"], name="cpts_id"),
    )
    out = neutralize_frame(cat)
    assert out["s"].tolist() == ["'@x", "aci"] and out["t"].tolist()[0] == "'-1" and pd.isna(out["t"].iloc[1])
    assert out.index.tolist() == ["'=A1", "C2"] and out.index.name == "cpts_id"


def test_neutralized_csv_round_trip(tmp_path):
    df = pd.DataFrame({"cpts_id": [ATTACK, "-2", None], "population": [-5, 10, 20]})
    path = tmp_path / "t.csv"
    neutralize_frame(df).to_csv(path, index=False)
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back["cpts_id"].tolist() == ["'" + ATTACK, "'-2", ""]
    assert back["population"].tolist() == ["-5", "10", "20"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(
        st.text(max_size=40) | st.sampled_from(["=1+1", "@x", "-", "+", "\t=", "\r=", "=A1"]),
        min_size=1,
        max_size=8,
    ),
    name=st.text(max_size=40),
)
def test_arbitrary_text_never_a_formula(tmp_path, values, name):
    df = pd.DataFrame({"t": values, "c": values})
    sheets = [Sheet(name, df, [Column("t", "Texte"), Column("c", "Code", "code")], title=values[0])]
    out = write_workbook(tmp_path / "h.xlsx", sheets, source=[(v, v) for v in values])
    wb = openpyxl.load_workbook(out)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (c.coordinate, c.value)
                if isinstance(c.value, str) and c.value.lstrip(" ")[:1] in set("=+-@\t\r"):
                    assert c.quotePrefix
    assert len(wb.sheetnames) == 2 and all(len(n) <= 31 for n in wb.sheetnames)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_french_spreadsheet_shows_french_numbers_and_no_formula(tmp_path):
    """LibreOffice in French shows the cells as French Excel would: grouped digits, decimal comma,
    dates jj/mm/aaaa, codes with their zero, the attack as plain text (not evaluated)."""
    out = write_workbook(tmp_path / "t.xlsx", [_communes()], source=SOURCE)
    env = {**os.environ, "HOME": str(tmp_path), "LC_ALL": "fr_FR.UTF-8", "LANG": "fr_FR.UTF-8"}
    # CSV export of the cells "as shown" (token 9), ';'-separated, UTF-8.
    fmt = "csv:Text - txt - csv (StarCalc):59,34,76,1,,0,false,true,true,false"
    subprocess.run(
        ["soffice", "--headless", "--norestore", "--convert-to", fmt, "--outdir", str(tmp_path), str(out)],
        env=env,
        capture_output=True,
        timeout=180,
        check=True,
    )
    rows = (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1] == "01001;L'Abergement-Clémenciat;832;51,2;4,6%;04/03/2021;=cmd|' /C calc'!A0"
    assert rows[2] == "49007;Angers;157\u00a0175;3\u00a0679,0;100,0%;15/06/2022;+33 1 23"  # no-break spaces


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_spreadsheet_evaluates_no_neutralised_csv_cell(tmp_path):
    df = pd.DataFrame({"cpts_id": ["=1+1", "+2+3", "-4+5", "@SUM(1;2)", "ok"], "population": [1, 2, 3, 4, 5]})
    df.to_csv(tmp_path / "raw.csv", index=False)
    neutralize_frame(df).to_csv(tmp_path / "safe.csv", index=False)
    env = {**os.environ, "HOME": str(tmp_path)}
    for name in ("raw", "safe"):
        subprocess.run(
            [
                "soffice",
                "--headless",
                "--norestore",
                "--infilter=CSV:44,34,76,1",
                "--convert-to",
                "xlsx",
                "--outdir",
                str(tmp_path),
                str(tmp_path / f"{name}.csv"),
            ],
            env=env,
            capture_output=True,
            timeout=180,
            check=True,
        )
    formulas = {
        name: [
            c.value
            for row in openpyxl.load_workbook(tmp_path / f"{name}.xlsx").active.iter_rows()
            for c in row
            if c.data_type == "f"
        ]
        for name in ("raw", "safe")
    }
    assert "=1+1" in formulas["raw"]  # what the neutralisation prevents
    assert formulas["safe"] == []
    assert [c.value for c in openpyxl.load_workbook(tmp_path / "safe.xlsx").active["A"]][1:3] == [
        "'=1+1",
        "'+2+3",
    ]
