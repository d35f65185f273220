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
    assert "reference incomplete, missing units.parquet" in res.stderr
    assert "Traceback" not in res.output


def test_fetch_map_assets_command_is_gone():
    """Maps embed Leaflet from a pip dependency: there is nothing to fetch with npm any more."""
    res = CliRunner().invoke(main, ["fetch-map-assets"])
    assert res.exit_code == 2 and "commande inconnue : « fetch-map-assets »" in res.stderr
