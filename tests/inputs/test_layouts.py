"""Layouts of real files on a synthetic reference (fast tier, issue 22 point 4): formulas without
a cached value outside the cells read, codes written with a thousands separator, LibreOffice
.ods workbooks read like XLSX."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from cpts_geo._errors import InputError
from cpts_geo.inputs.read import proposal_from_codes, read_proposal, read_register
from tests.grids import grid_reference


@pytest.fixture(scope="module")
def grid():
    return grid_reference(4, 4, 1000)


def workbook(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)  # openpyxl writes formulas without cached values
    return path


def messages(p) -> list[str]:
    return [w["message"] for w in p.warnings]


# --- formulas without a cached value ----------------------------------------------------------
def test_total_row_formula_and_unused_column_formula_are_warned(grid, tmp_path):
    path = workbook(
        tmp_path / "f.xlsx",
        [
            ["code_insee", "commune", "population", "calcul"],
            ["49000", "Commune 49000", 1000, "=VLOOKUP(A2,Z:Z,1)"],
            ["49001", "Commune 49001", 1000, None],
            ["Total", None, "=SUM(C2:C3)", None],
        ],
    )
    p = read_proposal(path, grid)
    assert p.codes == ["49000", "49001"]
    assert any(m.startswith("ligne(s) de total ignorée(s) : ligne 4") for m in messages(p))
    [w] = [w for w in p.warnings if "formule" in w["message"]]
    assert w["line"] == 2
    assert w["message"] == (
        "2 formules sans valeur calculée hors des cellules lues (ligne de total, de titre ou "
        "colonne non lue), ignorée(s) : D2 (=VLOOKUP(A2,Z:Z,1)), C4 (=SUM(C2:C3))"
    )


def test_a_formula_alone_on_its_row_in_a_column_not_read_is_warned(grid, tmp_path):
    path = workbook(
        tmp_path / "f.xlsx",
        [["code_insee", "population"], ["49000", 10], ["49001", 20], [None, "=SUM(B2:B3)"]],
    )
    p = read_proposal(path, grid)
    assert p.codes == ["49000", "49001"]
    assert "B4 (=SUM(B2:B3))" in messages(p)[-1]


def test_a_formula_in_a_cell_read_is_still_refused(grid, tmp_path):
    path = workbook(
        tmp_path / "f.xlsx",
        [["code_insee", "commune"], ["49000", "Commune 49000"], ["=VLOOKUP(B2,Z:Z,1)", None]],
    )
    with pytest.raises(InputError, match=r"1 formule sans valeur calculée : A3 \(=VLOOKUP\(B2,Z:Z,1\)\)"):
        read_proposal(path, grid)


def test_formula_in_a_title_row_is_warned(grid, tmp_path):
    path = workbook(
        tmp_path / "f.xlsx",
        [["Liste des communes", '=TEXT(TODAY(),"yyyy")'], [], ["code_insee"], ["49000"], ["49001"]],
    )
    p = read_proposal(path, grid)
    assert p.codes == ["49000", "49001"]
    assert any("B1 (=TEXT(TODAY()" in m for m in messages(p))


def test_register_total_row_formula_is_warned(grid, tmp_path):
    path = workbook(
        tmp_path / "r.xlsx",
        [
            ["cpts_id", "cpts_nom", "code_insee", "population"],
            ["A", "CPTS A", "49000", 1000],
            ["A", "CPTS A", "49001", 1000],
            ["Total", None, None, "=SUM(D2:D3)"],
        ],
    )
    reg = read_register(path, grid)
    assert reg.links["code_insee"].tolist() == ["49000", "49001"]


# --- codes with a thousands separator ---------------------------------------------------------
@pytest.mark.parametrize("space", [" ", "\u00a0", "\u202f", "\u2009"])
def test_codes_with_a_thousands_separator_are_read_with_a_warning(grid, tmp_path, space):
    path = tmp_path / "l.csv"
    path.write_text(
        f"code_insee;population\n49{space}000;1{space}000\n49{space}001;1{space}000\n", encoding="utf-8"
    )
    p = read_proposal(path, grid)
    assert p.codes == ["49000", "49001"]
    assert p.warnings == [
        {
            "line": 2,
            "value": "49 000",
            "message": "code écrit avec un séparateur de milliers : « 49 000 » lu 49000",
        },
        {
            "line": 3,
            "value": "49 001",
            "message": "code écrit avec un séparateur de milliers : « 49 001 » lu 49001",
        },
    ]


def test_headerless_list_with_separators_leaves_populations_alone(grid, tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("49 000;1 234\n49 101;2 345\n", encoding="utf-8")
    p = read_proposal(path, grid)
    assert p.codes == ["49000", "49101"]
    assert [w["line"] for w in p.warnings] == [1, 2]


def test_a_value_with_a_separator_given_in_code(grid):
    p = proposal_from_codes(["49\u00a0002"], grid)
    assert p.codes == ["49002"]
    assert p.warnings[0]["message"] == "code écrit avec un séparateur de milliers : « 49\u00a0002 » lu 49002"


# --- LibreOffice .ods -------------------------------------------------------------------------
def ods(path, rows, sheet="Feuille1", more=None):
    with pd.ExcelWriter(path, engine="odf") as w:
        for name, data in [(sheet, rows), *(more or [])]:
            pd.DataFrame(data).to_excel(w, sheet_name=name, header=False, index=False)
    return path


def test_ods_with_title_rows_blank_rows_and_a_total(grid, tmp_path):
    path = ods(
        tmp_path / "l.ods",
        [
            [None, None],
            ["CPTS du Bocage", None],
            [None, None],
            ["Code INSEE", "Commune"],
            ["49000", "Commune 49000"],
            [49001, "Commune 49001"],
            ["Total", 2],
        ],
    )
    p = read_proposal(path, grid)
    assert p.codes == ["49000", "49001"]
    assert p.name == "CPTS du Bocage"
    assert messages(p) == [
        "ligne(s) de titre au-dessus de l'en-tête ignorée(s) : ligne 2 « CPTS du Bocage »",
        "ligne(s) de total ignorée(s) : ligne 7 « Total 2 »",
        "nom du territoire pris dans la ligne de titre : « CPTS du Bocage »",
    ]


def test_ods_notes_sheet_first_and_sheet_choice(grid, tmp_path):
    path = ods(
        tmp_path / "l.ods", [["Notes"], ["Source : ARS"]], "Notes", more=[("Liste", [["49000"], ["49002"]])]
    )
    p = read_proposal(path, grid)
    assert p.codes == ["49000", "49002"]
    assert "feuille 'Liste' lue" in messages(p)[0]
    with pytest.raises(InputError, match="feuille 'Autre' introuvable ; feuilles : Notes, Liste"):
        read_proposal(path, grid, sheet="Autre")


def test_ods_register(grid, tmp_path):
    path = ods(
        tmp_path / "r.ods",
        [["cpts_id", "cpts_nom", "code_insee"], ["A", "CPTS A", "49000"], ["B", "CPTS B", "49003"]],
    )
    reg = read_register(path, grid)
    assert sorted(reg.cpts.index) == ["A", "B"]


def test_a_broken_ods_is_refused_in_french(grid, tmp_path):
    path = tmp_path / "x.ods"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="classeur OpenDocument illisible"):
        read_proposal(path, grid)


def _rewrite_content(path, old: str, new: str):
    """The same .ods with a piece of its content.xml replaced (kept a valid OpenDocument zip)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        data = {n: z.read(n) for n in z.namelist()}
    content = data["content.xml"].decode()
    assert old in content
    data["content.xml"] = content.replace(old, new, 1).encode()
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", data.pop("mimetype"), compress_type=zipfile.ZIP_STORED)
        for n, b in data.items():
            z.writestr(n, b, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_ods_declaring_millions_of_repeated_cells_is_refused_before_reading(grid, tmp_path):
    path = ods(tmp_path / "b.ods", [["code_insee"], ["49000"], ["49001"]])
    cell = '<table:table-cell office:value-type="string" office:string-value="49001">'
    _rewrite_content(
        path,
        f"<table:table-row>{cell}",
        '<table:table-row table:number-rows-repeated="1000000">'
        + cell.replace("<table:table-cell ", '<table:table-cell table:number-columns-repeated="200" '),
    )
    with pytest.raises(InputError, match="classeur OpenDocument de plus de 5.000.000 cellules"):
        read_proposal(path, grid)


def test_ods_with_the_empty_rows_libreoffice_repeats_to_the_end_of_the_sheet(grid, tmp_path):
    path = ods(tmp_path / "l.ods", [["code_insee"], ["49000"], ["49001"]])
    _rewrite_content(
        path,
        "</table:table>",
        '<table:table-row table:number-rows-repeated="1048573"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row></table:table>',
    )
    assert read_proposal(path, grid).codes == ["49000", "49001"]


def test_a_code_with_a_separator_in_a_names_column(grid, tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("Commune;Population\nCommune 49000;1 000\n49 001;1 000\nTotal;2 000\n", encoding="utf-8")
    p = read_proposal(path, grid)
    assert p.codes == ["49000", "49001"]
    assert messages(p) == [
        "code écrit avec un séparateur de milliers : « 49 001 » lu 49001",
        "ligne(s) de total ignorée(s) : ligne 4 « Total 2 000 »",
    ]
