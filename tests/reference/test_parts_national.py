"""Parts of communes in real lists, on the national reference (issue 22 point 2, issue 25 item
3): « Carnon » (a part of Mauguio) and « Le Longeron » (a commune déléguée of Sèvremoine)."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

from cpts_geo._errors import UnknownCommuneError
from cpts_geo._text import fr_int, fr_share
from cpts_geo.cli.main import main
from cpts_geo.inputs.read import read_proposal


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def test_carnon_is_a_part_of_mauguio(ref, tmp_path):
    path = tmp_path / "occitanie_mediterranee.csv"
    path.write_text("commune\nCarnon\nLa Grande-Motte\nPérols\nPalavas-les-Flots\n", encoding="utf-8")
    p = read_proposal(path, ref)
    assert p.codes == ["34154", "34344", "34198", "34192"]
    pop = int(ref.units.loc["34154", "population"])
    total = int(ref.units.loc[p.codes, "population"].sum())
    [w] = p.reading
    assert w["line"] == 2 and w["retained"] == "Mauguio (34154)" and w["population"] == pop
    assert w["message"].startswith(
        "« Carnon » est une partie de la commune Mauguio (34154), pas une commune ; toute la commune est "
        f"retenue : +{fr_int(pop)}\u00a0hab., {fr_share(pop / total, 0)} de la population du territoire"
    )


def test_carnon_and_mauguio_both_listed(ref, tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("commune\nMauguio\nCarnon\nPérols\n", encoding="utf-8")
    p = read_proposal(path, ref)
    assert p.codes == ["34154", "34198"]
    assert "elle est déjà citée (ligne 2) : sans effet sur la population" in p.warnings[0]["message"]


def test_le_longeron_brings_sevremoine_with_its_population(ref, tmp_path):
    path = tmp_path / "choletais.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [
        ["Liste des communes de la CPTS du Choletais - 2026"],
        [],
        ["Commune", "Département", "Population"],
        ["Cholet", "49", 54000],
        ["Le Longeron", "49", 1300],
        ["La Séguinière", "49", 4000],
        ["Total", None, "=SUM(C4:C6)"],
    ]:
        ws.append(row)
    wb.save(path)
    p = read_proposal(path, ref)
    assert p.name == "CPTS du Choletais"
    assert p.codes == ["49099", "49301", "49332"]
    w = next(w for w in p.reading if w["line"] == 5)
    assert w["population"] == 25797 and w["part"] == "ancienne commune"
    assert (
        "toute la commune est retenue, pas seulement l'ancienne commune Le Longeron : +25\u00a0797\u00a0hab."
        in (w["message"])
    )
    out = tmp_path / "rapport.xlsx"
    res = run("check", path, "-o", out)
    assert res.exit_code in (0, 1), res.output
    sheet = openpyxl.load_workbook(out)["Lecture de la liste"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("Ligne", "Valeur écrite", "Retenu", "Effet sur la population", "Correction")
    longeron = next(r for r in rows if r[1] == "Le Longeron")
    assert longeron[:4] == (
        5,
        "Le Longeron",
        "Sèvremoine (49301)",
        "+25\u00a0797\u00a0hab. (commune entière)",
    )
    assert any("=SUM(C4:C6)" in str(r[4]) for r in rows[2:])
    html = tmp_path / "rapport.html"
    assert run("check", path, "-o", html).exit_code in (0, 1)
    text = html.read_text(encoding="utf-8")
    assert "<h1>CPTS du Choletais</h1>" in text
    assert "Lecture de la liste (" in text and "+25\u00a0797\u00a0hab. (commune entière)" in text


def test_places_of_the_post_resolve_by_context(ref, tmp_path):
    path = tmp_path / "aix.csv"
    path.write_text("commune\nLes Milles\nPuyricard\nVentabren\nLa Baule\nPornichet\n", encoding="utf-8")
    p = read_proposal(path, ref)
    assert p.codes == ["13001", "13114", "44055", "44132"]
    messages = [w["message"] for w in p.warnings]
    assert messages[0].startswith("« Les Milles » est une partie de la commune Aix-en-Provence (13001)")
    assert "« La Baule » : nom de La Baule-Escoublac (44055) tel que l'écrit La Poste" in messages
    far = tmp_path / "vendee.csv"
    far.write_text("commune\nTalmont\nLes Sables-d'Olonne\nJard-sur-Mer\n", encoding="utf-8")
    with pytest.raises(
        UnknownCommuneError, match="« Talmont » est aussi un nom de lieu de Talmont-sur-Gironde"
    ):
        read_proposal(far, ref)
