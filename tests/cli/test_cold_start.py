"""Cold start (issue 21, point 7): what a fresh ``cpts-geo`` process imports.

A check of a list of codes or names imports none of the geometry stack (geopandas, shapely,
pyogrio, matplotlib, folium): only polygon inputs and the outputs that draw need it. ``--help``
and ``--version`` import no pandas. Each command runs in a new interpreter, as a user runs it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.national

GEOMETRY = ("geopandas", "shapely", "pyogrio", "matplotlib", "folium")

#: Run the command line in this interpreter, then write the exit code and the top-level
#: packages imported (among those asked) to the file given first.
_DRIVER = """
import json, sys
out, watched, args = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
from cpts_geo.cli.main import main
try:
    main(args, prog_name="cpts-geo")
    code = 0
except SystemExit as exc:
    code = exc.code
with open(out, "w", encoding="utf-8") as f:
    json.dump({"code": code, "imported": sorted(m for m in watched if m in sys.modules)}, f)
"""


def run(tmp_path, args: list[str], watched=GEOMETRY) -> tuple[dict, subprocess.CompletedProcess]:
    out = tmp_path / "imported.json"
    res = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(out), ",".join(watched), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert out.exists(), res.stderr
    return json.loads(out.read_text(encoding="utf-8")), res


@pytest.mark.parametrize(
    ("content", "communes", "warned"),
    [
        ("code_insee\n49007\n49015\n", ["49007", "49015"], False),
        # Avrillé: a homonym, decided by its neighbour Angers.
        ("commune\nAngers\nAvrillé\n", ["49007", "49015"], True),
        # Pierrefitte-sur-Seine: a former commune, part of Saint-Denis since 2025.
        ("Commune;Département\nSaint-Denis;93\nPierrefitte-sur-Seine;93\n", ["93066"], True),
    ],
)
def test_checking_a_list_imports_no_geometry(tmp_path, content, communes, warned):
    proposal = tmp_path / "liste.csv"
    proposal.write_text(content, encoding="utf-8")
    got, res = run(tmp_path, ["check", str(proposal), "--format", "json"])
    assert got == {"code": 0, "imported": []}, res.stderr
    report = json.loads(res.stdout)
    assert report["territory"]["communes"] == communes
    assert [r["id"] for r in report["rules"]] == [
        "population",
        "contiguity",
        "enclaves",
        "epci_alignment",
        "admin_boundaries",
    ]
    assert ("Attention" in res.stderr) == warned


def test_checking_a_polygon_imports_the_geometry(tmp_path):
    """The other side: a polygon proposal needs geopandas and shapely, and gets them."""
    proposal = tmp_path / "contour.geojson"
    proposal.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"cpts_nom": "Angers"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [-0.60, 47.44],
                                    [-0.52, 47.44],
                                    [-0.52, 47.50],
                                    [-0.60, 47.50],
                                    [-0.60, 47.44],
                                ]
                            ],
                        },
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    got, res = run(tmp_path, ["check", str(proposal), "--format", "json"], watched=("geopandas", "shapely"))
    assert got["imported"] == ["geopandas", "shapely"], res.stderr
    assert "49007" in json.loads(res.stdout)["territory"]["communes"]


def test_the_program_freezes_its_startup_and_resumes_the_collector(tmp_path):
    """``cpts-geo`` (:func:`cpts_geo.cli.main.run`) pauses the garbage collector while the modules
    and the reference load, then freezes them out of its passes and resumes it; the report is
    the one the group gives in-process."""
    proposal = tmp_path / "codes.csv"
    proposal.write_text("code_insee\n49007\n49015\n", encoding="utf-8")
    driver = (
        "import gc, json, sys\n"
        "from cpts_geo.cli.options import start_process\n"
        "from cpts_geo.cli.main import main\n"
        "start_process()\n"
        "paused = not gc.isenabled()\n"
        "try:\n"
        "    main(sys.argv[2:], prog_name='cpts-geo')\n"
        "except SystemExit:\n"
        "    pass\n"
        "json.dump({'paused': paused, 'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count() > 0},"
        " open(sys.argv[1], 'w'))\n"
    )
    out = tmp_path / "gc.json"
    res = subprocess.run(
        [sys.executable, "-c", driver, str(out), "check", str(proposal), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert json.loads(out.read_text(encoding="utf-8")) == {"paused": True, "enabled": True, "frozen": True}
    cli = subprocess.run(
        [sys.executable, "-m", "cpts_geo.cli", "check", str(proposal), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == json.loads(res.stdout)
    assert json.loads(cli.stdout)["territory"]["population"] == 174_273


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["check", "--help"]])
def test_help_and_version_import_no_pandas(tmp_path, args):
    got, res = run(tmp_path, args, watched=("pandas", "numpy", *GEOMETRY))
    assert got == {"code": 0, "imported": []}, res.stderr
    assert "cpts-geo" in res.stdout
