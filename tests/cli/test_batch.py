"""`cpts-geo check DOSSIER/` (or several files): every proposal checked, one summary, a report per
proposal, an unreadable file reported without stopping the others (issue 25, point 4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cpts_geo.checks.batch import BatchEntry, BatchSummary, proposal_files
from cpts_geo.cli.main import main
from cpts_geo.reference.units import default_data_dir

EXAMPLES = default_data_dir() / "examples"
REGISTER = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


@pytest.fixture
def folder(tmp_path) -> Path:
    """Three proposals (OK, ATTENTION, ÉCHEC), one unreadable list, one Word file."""
    lot = tmp_path / "lot"
    lot.mkdir()
    for name in ("proposition_valide.csv", "proposition_belle_ile.csv", "proposition_discontinue.csv"):
        shutil.copy(EXAMPLES / name, lot / name)
    (lot / "erreur.csv").write_text("code_insee\n49007\n49999\n", encoding="utf-8")
    (lot / "courrier.docx").write_bytes(b"PK")
    (lot / "~$proposition_valide.xlsx").write_bytes(b"")
    return lot


def test_a_folder_gives_one_line_per_file_and_the_worst_exit_code(folder, tmp_path):
    res = run("check", folder)
    assert res.exit_code == 2  # one file could not be read: the worst
    out = res.stdout
    assert out.startswith(
        "Propositions : 3 propositions vérifiées (1 OK, 1 ATTENTION, 1 ÉCHEC), 1 fichier illisible, "
        "2 fichiers non lus\n"
    )
    table = out.split("Fichiers non vérifiés")[0]
    lines = {line.split()[0]: line for line in table.splitlines() if line.startswith(f"  {folder}")}
    assert "OK               17      28\u00a0413  OK" in lines[f"{folder}/proposition_valide.csv"]
    assert "ÉCHEC" in lines[f"{folder}/proposition_discontinue.csv"].split()[1]
    assert lines[f"{folder}/erreur.csv"].split()[1] == "ILLISIBLE"
    # every file is accounted for: what could not be read says why, with line and value
    assert f"  {folder}/erreur.csv : ligne 3 : code commune '49999' inconnu du COG 2026" in out
    assert f"  {folder}/courrier.docx : format « .docx » non lu" in out
    assert "fichier de verrouillage d'un tableur" in out
    # the files that were read were checked whatever happened to the others
    assert out.index("proposition_belle_ile.csv") < out.index("proposition_discontinue.csv")


def test_several_files_and_exit_code_without_unreadable_file(folder):
    res = run("check", folder / "proposition_valide.csv", folder / "proposition_belle_ile.csv")
    assert res.exit_code == 0, res.output
    assert "2 propositions vérifiées (1 OK, 1 ATTENTION)" in res.stdout
    assert (
        run(
            "check", folder / "proposition_valide.csv", folder / "proposition_belle_ile.csv", "--strict"
        ).exit_code
        == 1
    )
    res = run("check", folder / "proposition_valide.csv", folder / "proposition_discontinue.csv")
    assert res.exit_code == 1


def test_summary_workbook_and_reports(folder, tmp_path):
    out, reports = tmp_path / "synthese.xlsx", tmp_path / "rapports"
    res = run("check", folder, "--existing", REGISTER, "-o", out, "--reports", reports)
    assert res.exit_code == 2
    assert f"Écrit : 3 rapports dans {reports}" in res.stderr and f"Écrit : {out}" in res.stderr
    assert sorted(p.name for p in reports.iterdir()) == [
        "proposition_belle_ile.html",
        "proposition_discontinue.html",
        "proposition_valide.html",
    ]
    page = (reports / "proposition_valide.html").read_text(encoding="utf-8")
    assert "Projet fictif de CPTS" in page
    ws = openpyxl.load_workbook(out).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0].startswith("Vérification de 6 fichier(s) : 1 OK, 1 en avertissement, 1 en échec")
    header = rows[1]
    assert header[:6] == (
        "Fichier",
        "Territoire",
        "Résultat",
        "Communes",
        "Population municipale",
        "Taille ACI",
    )
    assert "Règle : Chevauchement" in header and header[-1] == "Constat"
    by_file = {Path(r[0]).name: dict(zip(header, r)) for r in rows[2:]}
    assert by_file["proposition_valide.csv"]["Résultat"] == "OK"
    assert by_file["proposition_valide.csv"]["Population municipale"] == 28413
    assert by_file["proposition_discontinue.csv"]["Règle : Continuité"] == "ÉCHEC"
    assert by_file["erreur.csv"]["Résultat"] == "ILLISIBLE"
    assert "49999" in by_file["erreur.csv"]["Constat"]
    assert by_file["courrier.docx"]["Résultat"] == "NON LU"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_reports_in_other_formats_and_json_summary(folder, tmp_path, fmt):
    reports = tmp_path / "r"
    res = run(
        "check",
        folder / "proposition_valide.csv",
        folder / "erreur.csv",
        "--reports",
        reports,
        "--format",
        fmt,
    )
    assert res.exit_code == 2
    suffix = ".json" if fmt == "json" else ".txt"
    assert [p.name for p in reports.iterdir()] == [f"proposition_valide{suffix}"]
    res = run("check", folder / "proposition_valide.csv", folder / "erreur.csv", "--format", "json")
    data = json.loads(res.stdout)
    assert data["status"] == "error" and data["counts"]["pass"] == 1 and data["counts"]["error"] == 1
    assert data["files"][0]["report"]["status"] == "pass"
    assert "49999" in data["files"][1]["error"]


def test_refusals(folder, tmp_path):
    res = run("check", folder, "--cpts-id", "X")
    assert res.exit_code == 2 and "--cpts-id : sans objet pour plusieurs propositions" in res.stderr
    res = run("check", folder, "-o", tmp_path / "synthese.docx")
    assert res.exit_code == 2 and "la synthèse s'écrit en .xlsx, .json, .txt, .csv" in res.stderr
    res = run("check", folder, "--format", "html")
    assert res.exit_code == 2 and "--reports DOSSIER" in res.stderr
    res = run("check", folder / "proposition_valide.csv", "--reports", tmp_path / "r")
    assert res.exit_code == 2 and "pour une seule, écrivez son rapport avec -o" in res.stderr
    empty = tmp_path / "vide"
    empty.mkdir()
    res = run("check", empty)
    assert res.exit_code == 2 and f"{empty} : dossier vide" in res.stdout
    # a report never lands on an input
    (tmp_path / "r2").mkdir()
    shutil.copy(folder / "proposition_valide.csv", tmp_path / "r2" / "proposition_valide.txt")
    res = run(
        "check",
        tmp_path / "r2" / "proposition_valide.txt",
        folder / "proposition_belle_ile.csv",
        "--reports",
        tmp_path / "r2",
        "--format",
        "text",
    )
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_summary_without_reference(tmp_path):
    """The summary's own logic: worst status, counts, files not read listed."""
    (tmp_path / "a.csv").write_text("x", encoding="utf-8")
    (tmp_path / "b.pdf").write_text("x", encoding="utf-8")
    (tmp_path / ".cache").mkdir()
    (tmp_path / "sous").mkdir()
    found, other = proposal_files(tmp_path)
    assert [p.name for p in found] == ["a.csv"]
    assert {Path(e.path).name: e.skipped for e in other} == {
        "b.pdf": "format « .pdf » non lu",
        "sous": "sous-dossier non parcouru",
    }
    s = BatchSummary([*other])
    assert s.status == "pass"  # files not read do not make a run fail
    s.entries.append(BatchEntry("c.csv", error="illisible"))
    assert s.status == "error" and s.counts()["skipped"] == 2


def test_an_empty_folder_before_the_files_does_not_shift_the_reports(folder, tmp_path):
    """The report of each proposal is named after it whatever entries come before it (an empty
    folder given first took the first report's place)."""
    empty, reports = tmp_path / "vide", tmp_path / "r"
    empty.mkdir()
    res = run(
        "check",
        empty,
        folder / "proposition_valide.csv",
        folder / "proposition_belle_ile.csv",
        "--reports",
        reports,
        "--format",
        "json",
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert sorted(p.name for p in reports.iterdir()) == [
        "proposition_belle_ile.json",
        "proposition_valide.json",
    ]
    assert (
        json.loads((reports / "proposition_belle_ile.json").read_text(encoding="utf-8"))["status"] == "warn"
    )
    assert json.loads((reports / "proposition_valide.json").read_text(encoding="utf-8"))["status"] == "pass"


def test_a_report_that_cannot_be_written_keeps_the_verdict(folder, tmp_path, monkeypatch):
    """Chromium failing to print one PDF report: the proposal's verdict stays in the summary, the
    missing report is named, and the exit code says something was not done."""
    monkeypatch.setenv("CPTS_GEO_CHROMIUM", "/bin/false")
    reports = tmp_path / "r"
    res = run(
        "check",
        folder / "proposition_valide.csv",
        folder / "proposition_belle_ile.csv",
        "--reports",
        reports,
        "--format",
        "pdf",
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    table = res.stdout.split("Rapports non écrits")[0]
    assert "OK               17" in table and "ATTENTION        11" in table
    assert "Rapports non écrits (la vérification est faite) :" in res.stdout
    assert f"rapport {reports / 'proposition_valide.pdf'} non écrit" in res.stdout
