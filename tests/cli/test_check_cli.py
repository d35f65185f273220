"""`cpts-geo check` and `check-register` through the CLI: examples, exit codes, JSON contract,
bad input, HTML report (in a real browser)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from cpts_geo.cli.main import main
from cpts_geo.reference.units import default_data_dir
from tests.browser import chromium_page

EXAMPLES = default_data_dir() / "examples"
REGISTER = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"
RULES = ["population", "contiguity", "enclaves", "epci_alignment", "admin_boundaries"]


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def statuses(res) -> dict:
    data = json.loads(res.stdout)
    return {r["id"]: r["status"] for r in data["rules"]}


# --- the shipped examples: one outcome each ---------------------------------------------------
@pytest.mark.parametrize(
    ("example", "rule", "status", "exit_code"),
    [
        ("proposition_valide.csv", None, "pass", 0),
        ("proposition_population_insuffisante.csv", "population", "fail", 1),
        ("proposition_discontinue.csv", "contiguity", "fail", 1),
        ("proposition_belle_ile.csv", "contiguity", "warn", 0),
        ("proposition_enclave.csv", "enclaves", "warn", 0),
        ("proposition_epci_partiel.csv", "epci_alignment", "warn", 0),
        ("proposition_deux_regions.csv", "admin_boundaries", "warn", 0),
    ],
)
def test_examples(example, rule, status, exit_code):
    res = run("check", EXAMPLES / example, "--format", "json")
    assert res.exit_code == exit_code, res.output
    data = json.loads(res.stdout)
    assert data["status"] == status
    assert [r["id"] for r in data["rules"]] == RULES
    if rule is not None:
        assert statuses(res)[rule] == status


def test_valid_example_against_the_register():
    res = run("check", EXAMPLES / "proposition_valide.csv", "--existing", REGISTER, "--format", "json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["status"] == "pass"
    assert [r["id"] for r in data["rules"]] == [*RULES, "overlap"]


def test_overlap_example_fails_naming_the_cpts():
    res = run("check", EXAMPLES / "proposition_chevauchement.csv", "--existing", REGISTER)
    assert res.exit_code == 1
    assert "ÉCHEC      Chevauchement" in res.stdout
    assert "FICTIF-52-" in res.stdout


def test_strict_turns_warnings_into_exit_1():
    path = EXAMPLES / "proposition_belle_ile.csv"
    assert run("check", path).exit_code == 0
    assert run("check", path, "--strict").exit_code == 1


def test_json_contract_and_input_warnings():
    res = run("check", EXAMPLES / "proposition_excel.csv", "--format", "json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert set(data) == {"status", "territory", "rules", "input_warnings"}
    t = data["territory"]
    assert set(t) >= {"name", "communes", "n_communes", "population", "aci_size_class", "vintage"}
    assert t["communes"] == sorted(["49007", "49015", "49267", "49246", "49353", "49214"])
    assert t["n_communes"] == 6 and t["vintage"] == {"cog": 2026, "population": 2023}
    for r in data["rules"]:
        assert set(r) == {"id", "status", "message", "details"}
    assert data["input_warnings"] == [
        {"line": 7, "value": "49246", "message": "doublon ignoré : 49246 déjà cité"},
        {
            "line": 9,
            "value": "49166",
            "message": "ancien code 49166 : commune fusionnée dans Montreuil-Juigné (49214) au COG 2026 ; "
            "nom 'Juigné-Béné (ancien code)' inconnu du COG 2026, sans doute celui de l'ancienne commune 49166 : le code "
            "est retenu",
        },
    ]
    assert "ligne 9 : ancien code 49166" in res.stderr


def test_text_report_reads_as_french():
    res = run("check", EXAMPLES / "proposition_enclave.csv")
    assert res.exit_code == 0
    assert "Résultat : ATTENTION" in res.stdout
    assert "Le Mans (72181, 146\u00a0249 hab.) est enclavée par le territoire" in res.stdout


def test_min_population_option():
    path = EXAMPLES / "proposition_population_insuffisante.csv"
    assert run("check", path, "--min-population", "10000").exit_code == 0


def test_output_file_is_written_atomically_and_never_over_an_input(tmp_path):
    src = tmp_path / "p.txt"  # a report may be .txt: the output path itself is refused
    src.write_text("code_insee\n49007\n")
    out = tmp_path / "rapport.json"
    res = run("check", src, "-o", out)
    assert res.exit_code == 0 and json.loads(out.read_text())["territory"]["communes"] == ["49007"]
    res = run("check", src, "-o", src)
    assert res.exit_code == 2
    assert "le fichier de sortie est aussi un fichier d'entrée" in res.stderr
    assert src.read_text() == "code_insee\n49007\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.txt", "rapport.json"]


# --- bad input: exit 2, file, line and value named, no traceback -----------------------------
def _xlsx_garbage(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04garbage")
    return path


def _no_crs(path: Path) -> Path:
    with pytest.warns(UserWarning):
        gpd.GeoDataFrame(geometry=[shapely.box(400000, 6700000, 410000, 6710000)]).to_file(path)
    return path


@pytest.mark.parametrize(
    ("name", "content", "messages"),
    [
        (
            "inconnu.csv",
            "code_insee\n49007\n49999\n",
            ["inconnu.csv : ligne 3 : code commune '49999' inconnu"],
        ),
        (
            "ambigu.csv",
            "commune\nMontreuil\n",
            ["ambigu.csv : ligne 2 : nom 'Montreuil' ambigu", "93048 (93)", "précisez le département"],
        ),
        ("vide.csv", "", ["vide.csv : fichier vide"]),
        (
            "colonnes.csv",
            "population;surface\n12;3\n",
            ["colonnes.csv : ligne 1 : aucune colonne de codes communes"],
        ),
        ("classeur.xlsx", _xlsx_garbage, ["classeur.xlsx : classeur Excel illisible"]),
        ("sans_crs.gpkg", _no_crs, ["sans_crs.gpkg : le fichier n'a pas de système de coordonnées"]),
        ("rien.csv", "code_insee;nom_cpts\n;x\n", ["rien.csv : aucune commune dans le fichier"]),
    ],
)
def test_check_bad_input_exit_2(tmp_path, name, content, messages):
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_text(content, encoding="utf-8")
    res = run("check", path)
    assert res.exit_code == 2, res.output
    for msg in messages:
        assert msg in res.stderr
    assert res.stderr.startswith("Erreur : ")


def test_register_with_an_id_mapped_to_two_names(tmp_path):
    reg = tmp_path / "registre.csv"
    reg.write_text("cpts_id;cpts_nom;code_insee\nA;Un;49007\nA;Deux;49015\n", encoding="utf-8")
    for args in (("check-register", reg), ("check", EXAMPLES / "proposition_valide.csv", "--existing", reg)):
        res = run(*args)
        assert res.exit_code == 2
        assert "registre.csv : ligne 3 : la CPTS 'A' a deux noms : 'Un' (ligne 2) et 'Deux'" in res.stderr


def test_missing_files(tmp_path):
    res = run("check", tmp_path / "absent.csv")
    assert res.exit_code == 2 and "absent.csv : fichier introuvable" in res.stderr


# --- check-register ---------------------------------------------------------------------------
def test_check_register_example(tmp_path):
    res = run("check-register", REGISTER, "--format", "json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["status"] == "fail"
    assert len(data["cpts"]) == 60
    first = data["cpts"][0]
    assert first["cpts_id"] == "FICTIF-52-001"
    assert first["territory"]["name"] == "CPTS fictive de Pontchâteau"
    assert {r["id"]: r["status"] for r in first["rules"]}["overlap"] == "fail"
    assert data["register"]["overlaps"] == [
        {"code": "44013", "nom": "Besné", "cpts": ["FICTIF-52-001", "FICTIF-52-041"], "population": 3322}
    ]
    # Written to a file in pieces (one CPTS at a time): the same JSON, one final line break, no
    # temp file left.
    out = tmp_path / "registre.json"
    res = run("check-register", REGISTER, "-o", out)
    assert res.exit_code == 1 and f"Écrit : {out}" in res.stderr
    written = out.read_text(encoding="utf-8")
    assert json.loads(written) == data and written.endswith("}\n") and not written.endswith("\n\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registre.json"]
    text = run("check-register", REGISTER).stdout
    assert text.startswith("Registre : 60 CPTS — résultat : ÉCHEC")


# --- HTML report --------------------------------------------------------------------------------
def test_html_report_escapes_hostile_names_and_runs_in_a_browser(tmp_path):
    reg = tmp_path / "registre.csv"
    hostile = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>"
    reg.write_text("cpts_id;cpts_nom;code_insee\nX1;" + hostile + ";72181\n", encoding="utf-8")
    prop = tmp_path / "<b>proposition.csv"
    prop.write_text(
        "cpts_nom;code_insee\n<i>Mon territoire</i>;72003\n"
        + "".join(f";{c}\n" for c in ["72008", "72181", "72095"]),
        encoding="utf-8",
    )
    out = tmp_path / "rapport.html"
    res = run("check", prop, "--existing", reg, "-o", out)  # self-contained by default
    assert res.exit_code == 1, res.output
    page = out.read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in page and "<i>Mon territoire</i>" not in page
    assert "&lt;i&gt;Mon territoire&lt;/i&gt;" in page
    with chromium_page(out, wait_s=1.5) as browser:
        assert browser.errors == []
        assert browser.network_errors == []  # self-contained: nothing fetched
        assert browser.js("return window.__pwned") is None
        assert browser.js("return document.querySelectorAll('table.synthese tbody tr').length") == 6
        frame = browser.driver.find_element("css selector", "iframe")
        browser.driver.switch_to.frame(frame)
        n = browser.js("return document.querySelectorAll('path.leaflet-interactive').length")
        assert n >= 4  # four communes, the outline, the existing CPTS
        assert browser.js("return window.__pwned") is None
        assert "Légende" in browser.js("return document.body.innerText")
        browser.driver.switch_to.default_content()
        assert browser.screenshot(tmp_path / "rapport.png").stat().st_size > 10_000


def test_html_report_to_a_file_prints_the_verdict(tmp_path):
    """``check -o rapport.html`` says the result, not only « Écrit : … »."""
    out = tmp_path / "rapport.html"
    res = CliRunner().invoke(main, ["check", str(EXAMPLES / "proposition_belle_ile.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "Résultat : ATTENTION (Continuité, EPCI)" in res.stdout
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("command", "suffix"), [("check", ".docx"), ("check", ".csv"), ("check-register", ".pdf")]
)
def test_unknown_output_extension_is_refused(tmp_path, command, suffix):
    out = tmp_path / f"rapport{suffix}"
    source = "proposition_belle_ile.csv" if command == "check" else "registre_fictif_pays_de_la_loire.csv"
    res = CliRunner().invoke(main, [command, str(EXAMPLES / source), "-o", str(out)])
    assert res.exit_code == 2
    assert f"extension « {suffix} » inconnue ; formats :" in res.output
    assert not out.exists()


def test_unknown_cpts_id_is_refused():
    args = ["check", str(EXAMPLES / "proposition_valide.csv"), "--existing", str(REGISTER)]
    res = CliRunner().invoke(main, [*args, "--cpts-id", "FICTIF-52-99"])
    assert res.exit_code == 2
    assert "cpts_id 'FICTIF-52-99' inconnu du registre ; vouliez-vous dire FICTIF-52-059" in res.output
    assert "option --cpts-id" in res.output
    res = CliRunner().invoke(main, ["check", str(EXAMPLES / "proposition_valide.csv"), "--cpts-id", "X"])
    assert res.exit_code == 2 and "sans objet sans registre" in res.output


def test_overlap_mostly_one_cpts_hints_a_perimeter_change():
    proposal = str(EXAMPLES / "proposition_chevauchement.csv")
    res = CliRunner().invoke(main, ["check", proposal, "--existing", str(REGISTER)])
    assert res.exit_code == 1
    assert (
        "Conseil : la proposition reprend surtout « CPTS fictive de Pontchâteau » (FICTIF-52-001) ; "
        "s'il s'agit d'une modification de son périmètre, relancez avec --cpts-id FICTIF-52-001"
    ) in res.stderr
    res = CliRunner().invoke(
        main, ["check", proposal, "--existing", str(REGISTER), "--cpts-id", "FICTIF-52-001"]
    )
    assert "Conseil" not in res.stderr
