"""Tests of the reports: the JSON contract (DESIGN.md §5) and the French text summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpts_geo._text import fr_int, fr_km, fr_plural, fr_share
from cpts_geo.checks.report import RegisterReport, Report, RuleResult, worst_status
from cpts_geo.checks.rules import RULE_IDS, check_register, check_territory
from tests.checks.test_rules import register
from tests.grids import block, code, grid_reference


@pytest.fixture(scope="module")
def grid():
    return grid_reference(5, 5, 9000)


@pytest.fixture(scope="module")
def ring_report(grid):
    ring = [c for c in block(1, 3, 1, 3) if c != code(2, 2)]
    reg = register([("X", "CPTS X", code(1, 1)), ("X", "CPTS X", code(0, 0))])
    warnings = [{"line": 4, "value": "4911", "message": "code complété par un zéro initial", "index": 3}]
    return check_territory(grid, list(reversed(ring)), name="Anneau", existing=reg, input_warnings=warnings)


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------
def test_french_numbers():
    assert fr_int(1234567) == "1\u00a0234\u00a0567"
    assert fr_int(999) == "999"
    assert fr_km(12.483) == "12,5"
    assert fr_km(30.0) == "30"
    assert fr_km(1234.56) == "1\u00a0234,6"
    assert fr_share(0.4257) == "42,6\u00a0%"
    assert fr_share(1) == "100,0\u00a0%"
    assert fr_plural(1, "commune") == "1 commune"
    assert fr_plural(12345, "commune") == "12\u00a0345 communes"
    assert fr_plural(2, "CPTS", "CPTS") == "2 CPTS"


def test_worst_status():
    assert worst_status([]) == "pass"
    assert worst_status(["pass", "warn", "pass"]) == "warn"
    assert worst_status(["warn", "fail", "pass"]) == "fail"


def test_rule_result_rejects_an_unknown_status():
    with pytest.raises(ValueError, match="status must be one of"):
        RuleResult("population", "ok", "")


# ---------------------------------------------------------------------------------------------
# JSON contract
# ---------------------------------------------------------------------------------------------
def test_report_dict_is_the_json_contract(ring_report):
    d = ring_report.to_dict()
    assert list(d) == ["status", "territory", "rules", "input_warnings"]
    assert d["status"] == "fail"
    assert d["territory"] == {
        "name": "Anneau",
        "communes": ["49101", "49102", "49103", "49201", "49203", "49301", "49302", "49303"],
        "n_communes": 8,
        "population": 72_000,
        "aci_size_class": 2,
        "vintage": {"cog": 2026, "population": 2023},
        # Added for the communes declared shared (issue 22): equal bounds when nothing is shared.
        "population_min": 72_000,
        "population_max": 72_000,
        "aci_size_class_min": 2,
        "aci_size_class_max": 2,
        "population_known": True,
    }
    assert [r["id"] for r in d["rules"]] == list(RULE_IDS)
    assert [r["status"] for r in d["rules"]] == ["pass", "pass", "warn", "warn", "pass", "fail"]
    assert all(list(r) == ["id", "status", "message", "details"] for r in d["rules"])
    assert d["input_warnings"] == [
        {"line": 4, "value": "4911", "message": "code complété par un zéro initial"}
    ]
    assert json.loads(ring_report.to_json()) == d


def test_report_without_register_has_no_overlap_rule(grid):
    d = check_territory(grid, [code(0, 0)]).to_dict()
    assert [r["id"] for r in d["rules"]] == list(RULE_IDS[:-1])
    assert d["territory"]["name"] is None
    assert d["input_warnings"] == []


def test_report_status_and_rule_lookup(ring_report):
    assert ring_report.status == "fail"
    assert ring_report.rule("enclaves").status == "warn"
    with pytest.raises(KeyError, match="no rule 'nope'"):
        ring_report.rule("nope")
    assert Report(territory={}, rules=[]).status == "pass"


def test_register_report_dict(grid):
    reg = register(
        [("A", "CPTS A", c) for c in block(0, 1, 0, 1)] + [("B", "CPTS B", c) for c in block(1, 2, 1, 2)]
    )
    rr = check_register(grid, reg)
    d = rr.to_dict()
    assert list(d) == ["status", "cpts", "register"]
    assert d["status"] == "fail"
    assert [list(c)[:2] for c in d["cpts"]] == [["cpts_id", "status"]] * 2
    assert [(c["cpts_id"], c["territory"]["name"]) for c in d["cpts"]] == [("A", "CPTS A"), ("B", "CPTS B")]
    assert all([r["id"] for r in c["rules"]] == list(RULE_IDS) for c in d["cpts"])
    assert d["register"] == {
        "overlaps": [{"code": "49101", "nom": "Commune 49101", "cpts": ["A", "B"], "population": 9000}],
        "shared": [],
        "enclaves": [],
    }
    assert json.loads(rr.to_json()) == d


def test_register_status_counts_register_wide_findings():
    ok = Report(territory={}, rules=[RuleResult("population", "pass", "")])
    assert RegisterReport([ok]).status == "pass"
    assert RegisterReport([ok], enclaves=[{"communes": []}]).status == "warn"
    assert RegisterReport([ok], overlaps=[{"code": "x"}]).status == "fail"


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------
def test_text_summary(ring_report):
    text = ring_report.to_text()
    lines = text.splitlines()
    assert lines[:3] == [
        "Territoire : Anneau",
        "8 communes, 72\u00a0000 habitants (population municipale 2023), taille ACI 2 — COG 2026",
        "Résultat : ÉCHEC",
    ]
    # One line per rule, in order, with its status; long messages continue indented.
    heads = [line for line in lines[4:] if line.startswith("  ") and not line.startswith("   ")]
    assert [h.split()[0] for h in heads[:6]] == ["OK", "OK", "ATTENTION", "ATTENTION", "OK", "ÉCHEC"]
    assert heads[0] == (
        "  OK         Population               72\u00a0000 habitants (population municipale 2023), taille ACI 2 ;"
    )
    assert "Détails" in lines
    assert "    enclave 1 : 1 commune, 9\u00a0000 hab. — Commune 49202 (49202)" in lines
    assert "    CPTS X (X) : 1 commune partagée, 9\u00a0000 hab. — Commune 49101 (49101)" in lines
    assert "Communes (8) :" in lines
    assert "Avertissements de lecture (1) :" in lines
    assert "  ligne 4 « 4911 » : code complété par un zéro initial" in lines
    assert all(len(line) <= 110 for line in lines)


def test_text_of_a_territory_without_name(grid):
    text = check_territory(grid, [code(0, 0)]).to_text()
    assert text.startswith("Territoire : (sans nom)\n1 commune, 9\u00a0000 habitants")
    assert "Avertissements" not in text


def test_register_text(grid):
    ring = [c for c in block(1, 3, 1, 3) if c != code(2, 2)]
    reg = register(
        [("R", "CPTS Anneau", c) for c in ring]
        + [("S", "CPTS Sud", c) for c in block(0, 4, 0, 0)]
        + [("S", "CPTS Sud", code(1, 1))]
    )
    text = check_register(grid, reg).to_text()
    lines = text.splitlines()
    assert lines[0] == "Registre : 2 CPTS — résultat : ÉCHEC"
    assert lines[3].split() == [
        "id",
        "résultat",
        "communes",
        "population",
        "Population",
        "Continuité",
        "Enclaves",
        "EPCI",
        "Dép./rég.",
        "Chevauch.",
        "nom",
    ]
    assert lines[4].split()[:4] == ["R", "ÉCHEC", "8", "72"]
    assert lines[4].endswith("CPTS Anneau")
    assert "Communes dans plusieurs CPTS (1) :" in lines
    assert "  Commune 49101 (49101), 9\u00a0000 hab. : CPTS R, S" in lines
    assert "Communes hors CPTS enclavées par les CPTS du registre (1 groupe) :" in lines
    assert "  Commune 49202 (49202) — 1 commune, 9\u00a0000 hab. ; CPTS autour : R" in lines
    assert "À examiner" in lines


@pytest.mark.national
def test_text_of_a_real_report(ref):
    text = check_territory(
        ref, ["56009", "56114", "56152", "56241", "56186"], name="Belle-Île et Quiberon"
    ).to_text()
    assert "5 communes, 10\u00a0483 habitants (population municipale 2023), taille ACI 1 — COG 2026" in text
    assert (
        "    liaison maritime : Le Palais (56152) – Quiberon (56186), 12,5\u00a0km (parties 1 et 2)" in text
    )
    assert (
        "    CC Auray Quiberon Terre Atlantique (200043123) : coupé, 1/24 communes, 4\u00a0876/91\u00a0253 hab. (5,3\u00a0%)"
    ) in text
    assert "  Bangor (56009), Locmaria (56114), Le Palais (56152), Quiberon (56186), Sauzon (56241)" in text


# ---------------------------------------------------------------------------------------------
# The print map of a check report: drawn from the report, as the interactive map
# ---------------------------------------------------------------------------------------------
EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
REGISTER = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"


def _print_map(ref, report, register, monkeypatch):
    """The figure the HTML report prints, caught where it becomes an ``<img>``."""
    import cpts_geo.outputs.printing as printing
    from cpts_geo.outputs.html_report import report_html

    drawn = []
    monkeypatch.setattr(printing, "static_map_img", lambda fig, **_: drawn.append(fig) or "<img>")
    report_html(ref, report, existing=register)
    (fig,) = drawn
    return fig.axes[0]


def _points(ref, codes) -> dict:
    """A point inside each unit, in the figure's CRS (Lambert-93)."""
    pts = ref.units.loc[list(codes)].geometry.to_crs(2154).representative_point()
    return {c: (p.x, p.y) for c, p in pts.items()}


def _top_fill(ax, point) -> str | None:
    """The fill colour (hex, no alpha) of the last patch drawn under ``point``."""
    from matplotlib.colors import to_hex

    top = None
    for coll in ax.collections:
        colours = coll.get_facecolors()
        for i, path in enumerate(coll.get_paths()):
            colour = colours[i % len(colours)] if len(colours) else None
            if colour is not None and colour[3] > 0 and path.contains_point(point):
                top = to_hex(colour, keep_alpha=False)
    return top


def _white_hatched(ax, points: dict) -> set[str]:
    """The units drawn with the hatching that the legend gives to the white zones."""
    legend = ax.get_legend()
    hatch = next((h.get_hatch() for h in legend.legend_handles if "zone blanche" in h.get_label()), None)
    if hatch is None:
        return set()
    paths = [p for coll in ax.collections if coll.get_hatch() == hatch for p in coll.get_paths()]
    return {c for c, pt in points.items() if any(p.contains_point(pt) for p in paths)}


@pytest.mark.national
def test_print_map_of_a_perimeter_change_shows_no_overlap(ref, monkeypatch):
    """``check PROPOSITION --existing REGISTRE --cpts-id X``: X's communes in its new perimeter
    are no overlap in the report, nor on its print map (a second check without ``cpts_id``
    drew them all red)."""
    from cpts_geo.inputs.read import read_register
    from cpts_geo.maps.styles import FINDING_STYLES

    register = read_register(REGISTER, ref)
    # The CPTS of Angers grows onto the white zone next to it: Cheffes, Montreuil-sur-Loir, Tiercé.
    codes = register.codes("FICTIF-52-042") + ["49090", "49216", "49347"]
    report = check_territory(
        ref, codes, name="CPTS d'Angers agrandie", existing=register, cpts_id="FICTIF-52-042"
    )
    assert report.rule("overlap").status == "pass" and list(report.rule("overlap").details["cpts"]) == []
    ax = _print_map(ref, report, register, monkeypatch)
    fills = {c: _top_fill(ax, p) for c, p in _points(ref, codes).items()}
    red = FINDING_STYLES["chevauchement"][1]["fillColor"]
    assert sorted(c for c, f in fills.items() if f == red) == []
    assert set(fills.values()) == {FINDING_STYLES["territoire"][1]["fillColor"]}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert not [t for t in labels if "déjà dans une CPTS" in t], labels


@pytest.mark.national
def test_print_map_hatches_white_zones_only_where_the_register_speaks(ref, monkeypatch):
    """A territory on the border of Loire-Atlantique checked against a register of
    Loire-Atlantique only: its neighbours of Maine-et-Loire and Vendée, of which the register
    says nothing, are no white zone on the print map, as on the interactive map; the
    neighbours the register leaves uncovered in Loire-Atlantique are."""
    import re

    import folium
    import numpy as np

    from cpts_geo.checks.findings import findings_by_unit
    from cpts_geo.inputs.read import as_register, read_register
    from cpts_geo.maps.territory import territory_map

    full = read_register(REGISTER, ref)
    t = full.table
    # Loire-Atlantique only, without the CPTS of Vallet: its communes become a white zone.
    register = as_register(ref, t[t["code_insee"].str.startswith("44") & (t["cpts_id"] != "FICTIF-52-009")])
    clisson = full.codes("FICTIF-52-008")
    report = check_territory(ref, clisson, name="CPTS de Clisson", existing=register, cpts_id="FICTIF-52-008")
    pos = ref.position.reindex(clisson).to_numpy(dtype=np.int64)
    neighbours = sorted(set(ref.arrays.codes[ref.arrays.neighbours_of(pos)].astype(str)) - set(clisson))
    assert {c[:2] for c in neighbours} == {"44", "49", "85"}
    vallet = set(full.codes("FICTIF-52-009"))
    expected = {c for c in neighbours if c in vallet}
    assert expected == {"44032", "44084", "44108", "44117", "44169"}

    ax = _print_map(ref, report, register, monkeypatch)
    hatched = _white_hatched(ax, _points(ref, neighbours))
    assert sorted(hatched - expected) == []
    assert hatched == expected

    m = territory_map(ref, clisson, findings=findings_by_unit(ref, report), existing=register)
    layers = [
        ch
        for ch in m._children.values()
        if isinstance(ch, folium.GeoJson) and "zone blanche" in ch.layer_name
    ]
    on_screen = {
        re.search(r"\((\w+)\)$", f["properties"]["nom"]).group(1)
        for ly in layers
        for f in ly.data["features"]
    }
    assert on_screen == hatched
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Commune d'un département hors du registre" in labels


def test_reading_warnings_name_a_skipped_line_once(ref, tmp_path):
    """« Avertissements de lecture » said « ligne 4 « 159022 » : ligne(s) de total ignorée(s) :
    ligne 4 « 159022 » »."""
    from cpts_geo.inputs.read import read_proposal
    from cpts_geo.outputs.html_report import report_html

    path = tmp_path / "liste.csv"
    path.write_text("code_insee\n49007\n49015\n159022\n", encoding="utf-8")
    report = check_territory(ref, read_proposal(path, ref))
    text = report.to_text()
    assert "  ligne(s) de total ignorée(s) : ligne 4 « 159022 »" in text
    assert text.count("ligne 4") == 1
    page = report_html(ref, report, static_map=False)
    assert (
        "<tr><td>4</td><td>159022</td><td>ligne ignorée</td><td class=n>aucun</td>"
        "<td>ligne(s) de total ignorée(s) : ligne 4 « 159022 »</td></tr>"
    ) in page


def test_title_of_a_cpts_whose_id_says_cpts(ref):
    """Titles read « CPTS CPTS-49-01 » for ids that already say it."""
    import dataclasses

    from cpts_geo.outputs.html_report import report_html

    report = dataclasses.replace(check_territory(ref, ["49007"], name="CPTS d'Angers"), cpts_id="CPTS-49-01")
    assert report.to_text().splitlines()[0] == "CPTS-49-01 : CPTS d'Angers"
    page = report_html(ref, report, static_map=False)
    assert "CPTS-49-01 — CPTS d&#x27;Angers</h1>" in page and "CPTS CPTS" not in page
    other = dataclasses.replace(report, cpts_id="42")
    assert other.to_text().splitlines()[0] == "CPTS 42 : CPTS d'Angers"


def test_printed_report_lists_every_unit_of_the_evidence(ref):
    """The terminal report names 20 communes per list (« … et 9 autres »); the HTML report,
    which is printed for a committee, names them all."""
    import pandas as pd

    from cpts_geo.outputs.html_report import report_html

    register = pd.read_csv(EXAMPLES / "registre_fictif_pays_de_la_loire.csv", dtype=str)
    angers = register.loc[register["cpts_id"] == "FICTIF-52-042", "code_insee"].tolist()
    assert len(angers) == 29
    report = check_territory(ref, angers, existing=register)
    assert "et 9 autres" in report.to_text()
    page = report_html(ref, report, static_map=False)
    section = page[page.index('id="regle-overlap"') :]
    assert "autres" not in section[: section.index("</ul>")]
    assert all(f"({code})" in section for code in angers)


def test_a_name_of_100000_characters_is_cut_with_a_warning(ref, tmp_path):
    """Names of 100,000 characters made the HTML report take two minutes and 8.7 MB."""
    from cpts_geo.inputs.read import read_proposal, read_register
    from cpts_geo.outputs.html_report import report_html

    huge = "CPTS " + "x" * 100_000
    path = tmp_path / "liste.csv"
    path.write_text(f"cpts_nom,code_insee\n{huge},49007\n{huge},49015\n", encoding="utf-8")
    proposal = read_proposal(path, ref)
    assert len(proposal.name) == 200
    assert any(
        "nom de 100\u00a0005 caractères coupé aux 200 premiers" == w["message"] for w in proposal.warnings
    )
    page = report_html(ref, check_territory(ref, proposal), static_map=False)
    assert len(page) < 2_000_000
    reg = tmp_path / "registre.csv"
    reg.write_text(f"cpts_id,cpts_nom,code_insee\nA,{huge},49007\nA,{huge},49015\n", encoding="utf-8")
    register = read_register(reg, ref)
    assert len(register.cpts.loc["A", "cpts_nom"]) == 200
    assert [w["line"] for w in register.warnings if "coupé aux 200" in w["message"]] == [2]
