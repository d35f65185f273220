"""The CLI skeleton: help, version, reference info."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cpts_geo._version import __version__
from cpts_geo.cli.main import main


@pytest.fixture
def runner():
    return CliRunner()


def test_help_lists_commands(runner):
    res = runner.invoke(main, ["--help"])
    assert res.exit_code == 0
    assert "Vérifier, cartographier et planifier les territoires des CPTS" in res.output
    assert "Utilisation : " in res.output and "Commandes:" in res.output
    assert "reference" in res.output


def test_every_help_text_is_french(runner):
    """Every command and option has a help text, none left in English."""
    english = ("Show this message", "Usage:", "[default:", "Write ", "Check ", "Draw ", "Code or name")
    for args in (
        ["--help"],
        ["reference", "--help"],
        ["reference", "info", "--help"],
        ["check", "--help"],
        ["check-register", "--help"],
        ["coverage", "--help"],
        ["coverage-map", "--help"],
        ["suggest", "--help"],
    ):
        res = runner.invoke(main, args)
        assert res.exit_code == 0, args
        assert not [w for w in english if w in res.output], (args, res.output)


def test_help_and_version_import_neither_pandas_nor_geopandas():
    import subprocess
    import sys

    code = (
        "import sys\nfrom cpts_geo.cli import main\n"
        "for a in (['--help'], ['--version']):\n"
        "    try:\n        main(a, standalone_mode=False)\n    except SystemExit:\n        pass\n"
        "print(sorted(m for m in ('pandas', 'geopandas', 'numpy', 'shapely') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_version(runner):
    res = runner.invoke(main, ["--version"])
    assert res.exit_code == 0
    assert res.output.strip() == f"cpts-geo, version {__version__}"


def test_reference_info_text(runner):
    res = runner.invoke(main, ["reference", "info"])
    assert res.exit_code == 0, res.output
    assert "Millésimes : COG 2026, populations légales 2023" in res.output
    assert "Communes : 34\u00a0875 (unités : 34\u00a0917, dont 45 arrondissements" in res.output
    assert "EPCI : 1\u00a0255" in res.output
    assert "Départements : 101" in res.output
    assert "Régions : 18" in res.output
    assert "Population nationale : 68\u00a0350\u00a0798 habitants" in res.output


def test_reference_info_json(runner):
    res = runner.invoke(main, ["reference", "info", "--format", "json"])
    info = json.loads(res.output)
    assert info["counts"]["communes"] == 34_875
    assert info["counts"]["communes_without_epci"] == ["22016", "29083", "29155", "85113"]
    assert info["population"] == 68_350_798


def test_reference_folder_without_data_exits_2(runner, tmp_path):
    res = runner.invoke(main, ["--reference", str(tmp_path), "reference", "info"])
    assert res.exit_code == 2
    assert "référentiel incomplet, fichier(s) absent(s) : units.parquet" in res.stderr
    assert "Traceback" not in res.output


def test_fetch_map_assets_command_is_gone():
    """Maps embed Leaflet from a pip dependency: there is nothing to fetch with npm any more."""
    res = CliRunner().invoke(main, ["fetch-map-assets"])
    assert res.exit_code == 2 and "commande inconnue : « fetch-map-assets »" in res.stderr


def test_closed_pipe_stops_quietly():
    """``cpts-geo … --format json | head -c 10``: the reader goes away; no « Erreur : : Broken
    pipe » and no exit 2 (an input error), but 141 as the shell reports a closed pipe."""
    import subprocess
    import sys

    from cpts_geo.reference.units import default_data_dir

    register = default_data_dir() / "examples" / "registre_fictif_pays_de_la_loire.csv"
    cmd = [sys.executable, "-m", "cpts_geo.cli", "check-register", str(register), "--format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10) == b'{\n  "statu'
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Broken pipe" not in err and "Erreur" not in err and "Traceback" not in err


def test_verbose_says_what_the_tool_does():
    """``-v`` promises « Afficher ce que fait l'outil »: it printed nothing."""
    import subprocess
    import sys

    from cpts_geo.reference.units import default_data_dir

    examples = default_data_dir() / "examples"
    args = ["check", str(examples / "proposition_valide.csv"), "--existing"]
    args += [str(examples / "registre_fictif_pays_de_la_loire.csv"), "--format", "json"]
    quiet = subprocess.run([sys.executable, "-m", "cpts_geo.cli", *args], capture_output=True, text=True)
    loud = subprocess.run([sys.executable, "-m", "cpts_geo.cli", "-v", *args], capture_output=True, text=True)
    assert quiet.returncode == loud.returncode == 0
    assert quiet.stderr == "" and quiet.stdout == loud.stdout
    lines = loud.stderr.replace("\u00a0", " ").replace("\u202f", " ").splitlines()
    assert (
        lines[0].startswith("Référentiel ")
        and "34 917 unités, COG 2026, populations légales 2023" in lines[0]
    )
    assert "Proposition lue : " in lines[1] and lines[1].endswith("17 unités, 0 correction(s)")
    assert lines[2].startswith("Registre lu : ") and lines[2].endswith("60 CPTS, 1 207 lignes")
    assert lines[3] == (
        "Règles vérifiées : Population OK, Continuité OK, Enclaves OK, EPCI OK, "
        "Départements et régions OK, Chevauchement OK"
    )


def test_flag_hints_name_the_parameter_not_a_column():
    """« colonne(s) cpts_id introuvable(s) » is about a column of the file, not --cpts-id."""
    from cpts_geo.cli.options import with_flags

    assert with_flags("colonne(s) cpts_id introuvable(s)") == "colonne(s) cpts_id introuvable(s)"
    assert with_flags("cpts_id 'X' inconnu du registre").endswith("(cpts_id : option --cpts-id)")
    assert with_flags("min_population hors bornes").endswith("(min_population : option --min-population)")
