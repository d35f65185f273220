"""Traceability of reports and maps (files, parameters default or chosen, version, vintages, run
date), the sea-link lines of the check map, and the check report's text (footer, plurals)."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import shapely
from click.testing import CliRunner

from cpts_geo._version import __version__
from cpts_geo.cli.main import main
from cpts_geo.outputs.provenance import Parameter, provenance
from cpts_geo.reference.units import default_data_dir

EXAMPLES = default_data_dir() / "examples"

WHEN = dt.datetime(2026, 12, 1, 9, 5)


def _prov(tmp_path, *, chosen=False):
    f = tmp_path / "registre.csv"
    f.write_text("x\n", encoding="utf-8")
    os.utime(f, (WHEN.timestamp(), dt.datetime(2026, 11, 3, 14, 7).timestamp()))
    return provenance(
        files=[("Proposition", None), ("Registre", f)],
        parameters=[
            Parameter("min_population", "Population minimale", "20\u00a0000\u00a0habitants", not chosen),
            Parameter("sea_link_km", "Distance maximale des liaisons maritimes", "30\u00a0km", True),
        ],
        vintage={"cog": 2026, "population": 2023},
        run_date=WHEN,
        notes={"Registre": "statut le plus récent daté du 11/01/2025"},
    )


def test_provenance_lines_html_and_summary(tmp_path):
    p = _prov(tmp_path)
    assert p.to_lines() == [
        "Traçabilité",
        "  Registre : registre.csv, modifié le 03/11/2026 à 14:07 ; statut le plus récent daté du 11/01/2025",
        "  Population minimale : 20\u00a0000\u00a0habitants (valeur par défaut)",
        "  Distance maximale des liaisons maritimes : 30\u00a0km (valeur par défaut)",
        f"  Outil : cpts-geo {__version__}",
        "  Référentiel : COG 2026, populations légales 2023 (population municipale)",
        "  Édité le 01/12/2026 à 09:05",
    ]
    assert p.all_defaults
    assert p.summary_line() == (
        f"Traçabilité : registre.csv ; paramètres : valeurs par défaut ; cpts-geo {__version__}, 01/12/2026"
    )
    html = p.to_html()
    assert html.startswith('<ul class="tracabilite"><li>Registre : registre.csv') and html.count("<li>") == 6
    chosen = _prov(tmp_path, chosen=True)
    assert not chosen.all_defaults
    assert "; valeurs choisies : population minimale ;" in chosen.summary_line()
    assert "Population minimale : 20\u00a0000\u00a0habitants (valeur choisie)" in chosen.to_html(compact=True)
    assert chosen.to_dict()["parameters"][0] == {
        "name": "min_population",
        "label": "Population minimale",
        "value": "20\u00a0000\u00a0habitants",
        "default": False,
    }


def test_provenance_escapes_file_names(tmp_path):
    f = tmp_path / "<b>{{ 7*7 }}.csv"
    f.write_text("x", encoding="utf-8")
    html = provenance(files=[("Registre", f)], run_date=WHEN).to_html(compact=True)
    assert "<b>" not in html and "&lt;b&gt;&#123;&#123; 7*7 }}.csv" in html


def test_sea_link_line_joins_the_closest_points(ref):
    from cpts_geo.maps.territory import sea_link_lines

    link = {"a": "56152", "a_nom": "Le Palais", "b": "56186", "b_nom": "Quiberon", "distance_km": 12.483}
    lines = sea_link_lines(ref, [link, {**link, "b": "99999"}])  # an unknown unit is skipped
    assert list(lines["liaison"]) == ["Le Palais (56152) – Quiberon (56186)"]
    assert list(lines["distance"]) == ["12,5\u00a0km"]
    line = lines.to_crs(2154).geometry.iloc[0]
    assert abs(line.length / 1000 - 12.483) < 0.01
    pos = ref.position.reindex(["56152", "56186"]).to_numpy()
    a, b = ref.projected(pos)
    start, end = shapely.points(np.asarray(line.coords))[[0, -1]]
    assert a.distance(start) < 1 and b.distance(end) < 1  # metres, in Lambert-93


def test_check_html_traceability_and_footer(tmp_path):
    out = tmp_path / "rapport.html"
    res = CliRunner().invoke(
        main,
        ["check", "data/examples/proposition_belle_ile.csv", "--min-population", "25000", "-o", str(out)],
    )
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "<li>Proposition : proposition_belle_ile.csv, modifié le " in page
    assert "<li>Population minimale : 25\u00a0000\u00a0habitants (valeur choisie)</li>" in page
    assert "<li>Distance maximale des liaisons maritimes : 30\u00a0km (valeur par défaut)</li>" in page
    assert f"<li>Outil : cpts-geo {__version__}</li>" in page
    assert "Les seuils et règles appliqués sont ceux du cahier des charges" not in page
    assert (
        "Seuils appliqués (population minimale 25\u00a0000\u00a0habitants, liaisons maritimes et traversées par l&#x27;eau de "
        "30\u00a0km au plus) : les valeurs indiquées dans la section Traçabilité" in page
    )
    assert '<img class="carte-statique"' in page and "@page" in page
    assert ".statut{color:#000" not in page
    assert "<b>11</b>communes" in page


def test_check_pdf_without_chromium_says_how_to_print(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CPTS_GEO_CHROMIUM", raising=False)
    out = tmp_path / "rapport.pdf"
    res = CliRunner().invoke(main, ["check", "data/examples/proposition_belle_ile.csv", "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert not out.exists() and (tmp_path / "rapport.html").is_file()
    assert f"Écrit : {tmp_path / 'rapport.html'}" in res.stderr
    assert "Erreur : PDF impossible : aucun navigateur Chromium trouvé" in res.stderr
    assert "Traceback" not in res.output


def test_epci_count_text():
    from cpts_geo.diagnostic.summary import _epci_count_text

    assert _epci_count_text(1, 1) == "1, entier"
    assert _epci_count_text(3, 3) == "3, tous entiers"
    assert _epci_count_text(4, 1) == "4, dont 1 entier"
    assert _epci_count_text(4, 2) == "4, dont 2 entiers"
    assert _epci_count_text(2, 0) == "2, aucun entier"


def test_notebook_map_and_online_report(ref, tmp_path):
    """The notebooks' interactive map is self-contained and draws the sea link; ``--online``
    reports load Leaflet from the CDN with the basemaps."""
    from cpts_geo.diagnostic.summary import interactive_map, territory_summary
    from cpts_geo.maps.base import external_resources, render_map

    codes = ["56009", "56114", "56152", "56241", "56186"]
    page = render_map(interactive_map(ref, territory_summary(ref, codes)))
    assert external_resources(page) == [] and "cpts-liaison-maritime" in page
    assert "cpts-partie-detachee" in page
    assert 'cpts-sea-link-label\\"\\u003e12,5\\u00a0km\\u003c/span' in page  # the label, JSON-escaped
    out = tmp_path / "rapport.html"
    res = CliRunner().invoke(
        main, ["check", "data/examples/proposition_belle_ile.csv", "--online", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js" in html and "tile.openstreetmap.org" in html


def test_traceability_reads_iso_stage_dates_as_iso(tmp_path):
    """The register's latest ``date_statut`` 2025-02-01 is the 1st of February (it was printed
    02/01/2025: the ISO date parsed day first)."""
    reg = tmp_path / "registre.csv"
    reg.write_text(
        "cpts_id,cpts_nom,code_insee,statut,date_statut\n"
        "A,CPTS A,49007,aci,2025-02-01\nB,CPTS B,49015,aci,15/01/2025\n",
        encoding="utf-8",
    )
    out = tmp_path / "rapport.html"
    res = CliRunner().invoke(
        main, ["check", str(EXAMPLES / "proposition_valide.csv"), "--existing", str(reg), "-o", str(out)]
    )
    assert res.exit_code in (0, 1), res.output
    assert "statut le plus récent daté du 01/02/2025" in out.read_text(encoding="utf-8")
