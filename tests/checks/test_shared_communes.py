"""Communes shared on purpose below the commune level (``commune_partagee``, issue 12 point 11)
end to end: register, overlap rule, check-register text and JSON, the HTML report of a CPTS,
coverage, coverage-map; and register migration (point 13)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cpts_geo._errors import InputError
from cpts_geo._text import fr_int
from cpts_geo.checks.rules import check_register
from cpts_geo.cli.main import main
from cpts_geo.inputs.read import read_register
from cpts_geo.steering.coverage import coverage_summary, with_funding
from cpts_geo.steering.migrate import migrate_register

NICE, TOULON, ANTIBES = "06088", "83137", "06004"
# Nice in three CPTS, Toulon in two (declared); Antibes in two (not declared).
ROWS = [
    ("NE", "CPTS Nice Est", NICE, "oui"),
    ("NE", "CPTS Nice Est", "06149", ""),  # La Trinité
    ("NO", "CPTS Nice Ouest", NICE, "x"),
    ("NO", "CPTS Nice Ouest", "06123", ""),  # Saint-Laurent-du-Var
    ("NN", "CPTS Nice Nord", "Nice", "1"),
    ("NN", "CPTS Nice Nord", "06060", "non"),  # Falicon
    ("TO", "CPTS Toulon Ouest", TOULON, "true"),
    ("TO", "CPTS Toulon Ouest", "83126", ""),  # La Seyne-sur-Mer
    ("TE", "CPTS Toulon Est", "Toulon", "Oui"),
    ("TE", "CPTS Toulon Est", "83144", ""),  # La Valette-du-Var
    ("A1", "CPTS Antibes", ANTIBES, ""),
    ("A2", "CPTS Vallauris", ANTIBES, ""),
    ("A2", "CPTS Vallauris", "06155", ""),  # Vallauris
]


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


@pytest.fixture
def register_csv(tmp_path):
    path = tmp_path / "registre.csv"
    lines = ["cpts_id;cpts_nom;code_insee;statut;commune_partagee"]
    lines += [f"{i};{n};{c};ACI signé;{s}" for i, n, c, s in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def pop(ref, code):
    return int(ref.units.at[code, "population"])


def test_register_table_and_view(register_csv, ref):
    reg = read_register(register_csv, ref)
    assert reg.shared_units == [NICE, TOULON]
    t = reg.table
    assert t.loc[t["code_insee"] == NICE, "commune_partagee"].tolist() == [True, True, True]
    assert not t.loc[t["code_insee"] == ANTIBES, "commune_partagee"].any()
    assert int(reg.shared_mask.sum()) == 2


def test_declaration_on_some_rows_only_is_an_error(tmp_path, ref):
    path = tmp_path / "r.csv"
    path.write_text(
        "cpts_id;cpts_nom;code_insee;commune_partagee\nA;A;06088;oui\nA;A;06149;\nB;B;06088;\nC;C;Nice;non\n",
        encoding="utf-8",
    )
    with pytest.raises(
        InputError,
        match=r"ligne 4 : commune 06088 déclarée partagée \(commune_partagee\) ligne 2 mais pas lignes 4, 5 ; "
        r"déclarez-la sur chacune de ses lignes ou sur aucune",
    ):
        read_register(path, ref)


def test_unreadable_flag(tmp_path, ref):
    path = tmp_path / "r.csv"
    path.write_text("cpts_id;cpts_nom;code_insee;commune_partagee\nA;A;06088;peut-être\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"ligne 2 : commune_partagee 'peut-être' illisible ; attendu oui/non"
    ):
        read_register(path, ref)


def test_flag_on_a_commune_of_one_cpts_warns(ref):
    reg_df = pd.DataFrame(
        {"cpts_id": ["A"], "cpts_nom": ["A"], "code_insee": [NICE], "commune_partagee": [True]}
    )
    reg = migrate_register(reg_df, ref).register
    assert reg.shared_units == []
    assert reg.warnings[-1]["message"] == (
        "commune 06088 déclarée partagée (commune_partagee) mais dans une seule CPTS"
    )


def test_check_register_reports_shares_apart_from_overlaps(register_csv, ref):
    rr = check_register(ref, read_register(register_csv, ref), min_population=0)
    assert rr.overlaps == [
        {"code": ANTIBES, "nom": "Antibes", "cpts": ["A1", "A2"], "population": pop(ref, ANTIBES)}
    ]
    assert rr.shared == [
        {"code": NICE, "nom": "Nice", "cpts": ["NE", "NO", "NN"], "population": pop(ref, NICE)},
        {"code": TOULON, "nom": "Toulon", "cpts": ["TO", "TE"], "population": pop(ref, TOULON)},
    ]
    by_id = {r.cpts_id: r.rule("overlap") for r in rr.reports}
    assert by_id["NE"].status == "warn"
    assert by_id["NE"].message == "commune partagée déclarée : Nice (06088) avec NO et NN."
    assert by_id["TO"].details["shared"] == [
        {"code": TOULON, "nom": "Toulon", "population": pop(ref, TOULON), "cpts": ["TE"]}
    ]
    assert by_id["A1"].status == "fail"


def test_check_register_cli_text_and_json(register_csv, ref):
    res = run("check-register", register_csv, "--min-population", "0", "--format", "json")
    assert res.exit_code == 1  # Antibes is an undeclared overlap
    data = json.loads(res.stdout)
    assert [o["code"] for o in data["register"]["overlaps"]] == [ANTIBES]
    assert data["register"]["shared"] == [
        {"code": NICE, "nom": "Nice", "cpts": ["NE", "NO", "NN"], "population": pop(ref, NICE)},
        {"code": TOULON, "nom": "Toulon", "cpts": ["TO", "TE"], "population": pop(ref, TOULON)},
    ]
    assert set(data["register"]["shared"][0]) == set(data["register"]["overlaps"][0])
    res = run("check-register", register_csv, "--min-population", "0")
    assert "Communes dans plusieurs CPTS (1) :\n  Antibes (06004)" in res.stdout
    assert (
        f"Communes partagées déclarées (commune_partagee) (2) :\n  Nice (06088), "
        f"{fr_int(pop(ref, NICE))} hab. : CPTS NE, NO, NN"
    ) in res.stdout
    assert "ATTENTION Chevauchement : commune partagée déclarée : Toulon (83137) avec TE." in res.stdout


def test_register_with_only_declared_shares_passes(tmp_path, ref):
    path = tmp_path / "r.csv"
    rows = [r for r in ROWS if r[0] not in ("A1", "A2")]
    path.write_text(
        "cpts_id;cpts_nom;code_insee;commune_partagee\n"
        + "\n".join(f"{i};{n};{c};{s}" for i, n, c, s in rows)
        + "\n",
        encoding="utf-8",
    )
    rr = check_register(ref, read_register(path, ref), min_population=0)
    assert rr.overlaps == [] and len(rr.shared) == 2
    assert {r.rule("overlap").status for r in rr.reports} == {"warn"}


def test_html_report_of_a_cpts_names_the_declared_share(register_csv, tmp_path):
    proposal = tmp_path / "ne.csv"
    proposal.write_text("code_insee\n06088\n06149\n", encoding="utf-8")
    out = tmp_path / "rapport.html"
    res = run(
        "check",
        proposal,
        "--existing",
        register_csv,
        "--cpts-id",
        "NE",
        "--min-population",
        "0",
        "-o",
        out,
        "--offline",
    )
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "commune partagée déclarée : Nice (06088) avec NO et NN." in html
    # A new proposal taking Nice is an overlap: the declaration binds the CPTS of the register.
    res = run("check", proposal, "--existing", register_csv, "--min-population", "0", "--format", "json")
    rule = next(r for r in json.loads(res.stdout)["rules"] if r["id"] == "overlap")
    assert rule["status"] == "fail"


def test_coverage_counts_shared_inhabitants_once_and_not_as_overlaps(register_csv, ref):
    reg = read_register(register_csv, ref)
    cov = coverage_summary(ref, reg)
    a = cov.area
    covered = {c for _, _, c, _ in ROWS if c[0].isdigit()}
    assert a["population_covered"] == sum(pop(ref, c) for c in covered)
    assert (a["overlap_communes"], a["overlap_population"]) == (1, pop(ref, ANTIBES))
    assert (a["shared_communes"], a["shared_population"]) == (2, pop(ref, NICE) + pop(ref, TOULON))
    assert cov.units.loc[[NICE, TOULON, ANTIBES], "etat"].tolist() == [
        "partagée déclarée",
        "partagée déclarée",
        "chevauchement",
    ]
    res = run("coverage", register_csv, "--departement", "06", "--format", "json")
    dep = json.loads(res.stdout)["departements"][0]
    assert (dep["overlap_communes"], dep["shared_communes"]) == (1, 1)
    res = run("coverage", register_csv, "--departement", "83")
    assert f"Communes partagées déclarées : 1 commune ({fr_int(pop(ref, TOULON))} habitants" in res.stdout
    assert "Chevauchements : 0 commune dans plusieurs CPTS" in res.stdout


def test_coverage_map_hatches_shared_communes_with_a_legend_entry(register_csv, tmp_path):
    out = tmp_path / "carte.html"
    res = run("coverage-map", register_csv, "--departement", "06", "-o", out, "--offline")
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "Commune partagée déclarée (découpage infra-communal)" in html
    assert "cpts-hachures-partagees" in html and "cpts-partagee" in html
    assert "Nice (06088)" in html  # the shared commune's feature
    # Each CPTS sharing Nice: a range of population and of size class in its tooltip (issue 22).
    assert "hab. (communes partagées : part inconnue)" in html and "taille 1 à 4" in html


def nice_register(tmp_path):
    """Two CPTS declaring Nice shared (below the commune level), each with one more commune."""
    path = tmp_path / "nice.csv"
    path.write_text(
        "cpts_id;cpts_nom;code_insee;statut;commune_partagee\n"
        f"A;CPTS Nice A;{NICE};aci;oui\nA;CPTS Nice A;06149;aci;\n"
        f"B;CPTS Nice B;{NICE};projet-sante;oui\nB;CPTS Nice B;06123;projet-sante;\n",
        encoding="utf-8",
    )
    return path


def test_coverage_gpkg_writes_a_declared_share_apart_from_the_overlaps(tmp_path, ref):
    """Issue 21: `coverage` counted 0 overlaps and the HTML map hatched Nice as a declared share,
    but the GeoPackage wrote Nice in `chevauchements`."""
    import geopandas as gpd

    out = tmp_path / "nice.gpkg"
    res = run("coverage", nice_register(tmp_path), "--departement", "06", "--gpkg", out)
    assert res.exit_code == 0, res.output
    assert "Chevauchements : 0 commune dans plusieurs CPTS" in res.stdout
    overlaps = gpd.read_file(out, layer="chevauchements")
    assert overlaps.drop(columns="geometry").to_dict("records") == []
    shared = gpd.read_file(out, layer="communes_partagees")
    assert shared.drop(columns="geometry").to_dict("records") == [
        {
            "code_insee": NICE,
            "nom": "Nice",
            "cpts": "A ; B",
            "cpts_noms": "CPTS Nice A ; CPTS Nice B",
            "population": pop(ref, NICE),
        }
    ]
    assert shared.crs.to_epsg() == 2154  # Lambert-93: QGIS measures in metres
    assert shared.to_crs(4326).geometry.iloc[0].contains(ref.units.geometry[NICE].representative_point())


def test_map_figure_and_gpkg_draw_the_layers_of_one_builder(tmp_path, ref):
    """The HTML map, the figure and the GeoPackage draw the same units per layer kind: those of
    build_coverage_layers, whatever their level of detail (Nice a declared share, no overlap)."""
    import folium
    import numpy as np
    from matplotlib.colors import to_rgba

    from cpts_geo.maps.coverage import coverage_map
    from cpts_geo.maps.layers import build_coverage_layers
    from cpts_geo.maps.styles import DETAIL, OVERLAP_STYLE, SHARED_STYLE
    from cpts_geo.outputs.figures import coverage_figure
    from cpts_geo.outputs.geopackages import coverage_layers

    cov = coverage_summary(ref, read_register(nice_register(tmp_path), ref), departement="06")

    def units(layers) -> dict[str, set[str]]:
        return {
            "cpts": set(layers.cpts.index),
            "blanches": {c for codes in layers.white_zones["codes"] for c in codes},
            "chevauchements": {c for codes in layers.overlaps["codes"] for c in codes},
            "partagees": set(layers.shared.index),
        }

    tol = DETAIL["departement"][0]
    detail = {"carte": (tol, DETAIL["departement"][1]), "figure": (tol, 6), "gpkg": (0.0, 6)}
    by_detail = {
        k: units(build_coverage_layers(cov, tolerance_m=t, decimals=d)) for k, (t, d) in detail.items()
    }
    expected = by_detail["carte"]
    assert by_detail["figure"] == by_detail["gpkg"] == expected
    white = set(cov.units.index[cov.units_mask("white")])
    assert expected == {"cpts": {"A", "B"}, "blanches": white, "chevauchements": set(), "partagees": {NICE}}
    # The map draws them.
    features = {
        c.layer_name: [f["properties"] for f in c.data["features"]]
        for c in coverage_map(ref, cov, search=False)._children.values()
        if isinstance(c, folium.GeoJson)
    }
    assert [p["cpts_id"] for p in features["CPTS par stade"]] == ["A", "B"]
    assert features["Communes dans plusieurs CPTS"] == []
    assert [(p["nom"], p["cpts"]) for p in features["Communes partagées déclarées"]] == [
        ("Nice (06088)", "CPTS Nice A ; CPTS Nice B")
    ]
    assert [p["communes"] for p in features["Zones blanches (aucune CPTS)"]] == [str(len(white))]
    # The figure too: the declared share hatched in its colour, nothing in the overlaps' red.
    fig = coverage_figure(ref, cov)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[-1] == "Commune partagée déclarée"
    fills = np.concatenate([c.get_facecolor() for c in fig.axes[0].collections if len(c.get_facecolor())])
    assert not np.isclose(fills, to_rgba(OVERLAP_STYLE["fillColor"])).all(axis=1).any()
    assert np.isclose(fills, to_rgba(SHARED_STYLE["fillColor"].split()[-1])).all(axis=1).any()
    # And the GeoPackage.
    gpkg = coverage_layers(ref, cov)
    assert list(gpkg["cpts_par_stade"][0]["cpts_id"]) == ["A", "B"]
    assert len(gpkg["chevauchements"][0]) == 0
    assert list(gpkg["communes_partagees"][0]["code_insee"]) == [NICE]


# --- migration --------------------------------------------------------------------------------


def test_migration_rewrites_and_logs_every_change(tmp_path, ref):
    old = tmp_path / "ancien.csv"
    old.write_text(
        "cpts_id;cpts_nom;code_insee;statut;commune_partagee\n"
        "P;CPTS Plaine;93059;ACI signé;\n"  # Pierrefitte-sur-Seine, merged into Saint-Denis
        "P;CPTS Plaine;Aubervilliers;ACI signé;\n"
        "R;CPTS Ré;CC de l'Île de Ré;en projet;\n"
        "L;CPTS Lot;Lhospitalet;LI validée;\n"
        "L;CPTS Lot;46102;;\n"
        "N;CPTS Nice Est;06088;;oui\n"
        "M;CPTS Nice Ouest;Nice;;x\n",
        encoding="utf-8",
    )
    new, log = tmp_path / "nouveau.csv", tmp_path / "journal.xlsx"
    res = run("register", "migrate", old, "-o", new, "--log", log)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(new, dtype=str, keep_default_na=False)
    assert table.columns.tolist() == [
        "cpts_id",
        "cpts_nom",
        "code_insee",
        "nom_commune",
        "statut",
        "date_statut",
        "commune_partagee",
    ]
    assert table.loc[table["cpts_id"] == "P", "code_insee"].tolist() == ["93066", "93001"]
    assert len(table[table["cpts_id"] == "R"]) == 10
    assert table.loc[table["cpts_id"] == "N", "commune_partagee"].tolist() == ["oui"]
    ws = load_workbook(log)["Changements"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Ligne", "CPTS", "Valeur du fichier", "Code(s) INSEE", "Commune(s)", "Changement")
    motifs = {r[0]: r[5] for r in rows[1:]}
    assert motifs[2].startswith(
        "ancien code 93059 : commune fusionnée dans Saint-Denis (93066) au COG 2026 ; toute la commune est "
        "retenue, pas seulement l'ancienne commune Pierrefitte-sur-Seine : +149\u00a0077\u00a0hab., "
    )
    assert motifs[2].endswith(" de la population du territoire ; statut « ACI signé » réécrit aci")
    assert motifs[3] == "« Aubervilliers » réécrit en code INSEE ; statut « ACI signé » réécrit aci"
    assert motifs[4].startswith("EPCI CC de l'Ile de Ré (241700459) remplacé par ses 10 communes")
    assert motifs[5].startswith("ancienne commune Lhospitalet (46172), rattachée à Pern-Lhospitalet (46172)")
    assert 6 not in motifs  # 46102 is already a current code
    # check-register sees the same CPTS in the old file and in the migrated one.
    a = json.loads(run("check-register", old, "--min-population", "0", "--format", "json").stdout)
    b = json.loads(run("check-register", new, "--min-population", "0", "--format", "json").stdout)
    assert [(c["cpts_id"], c["territory"]["communes"]) for c in a["cpts"]] == [
        (c["cpts_id"], c["territory"]["communes"]) for c in b["cpts"]
    ]
    assert a["register"] == b["register"]


def test_migration_log_as_csv_and_refusal_to_overwrite_the_input(tmp_path):
    old = tmp_path / "ancien.csv"
    old.write_text("cpts_id;cpts_nom;code_insee\nA;A;1001\n", encoding="utf-8")
    res = run("register", "migrate", old, "-o", tmp_path / "n.csv", "--log", tmp_path / "j.csv")
    assert res.exit_code == 0
    log = pd.read_csv(tmp_path / "j.csv", dtype=str)
    assert log.iloc[0].tolist() == [
        "2",
        "A",
        "1001",
        "01001",
        "L'Abergement-Clémenciat",
        "code complété par un zéro initial : 1001 → 01001",
    ]
    res = run("register", "migrate", old, "-o", old)
    assert res.exit_code == 2 and "est aussi un fichier d'entrée" in res.stderr


def test_static_coverage_figure_hatches_shared_communes(register_csv, ref):
    from cpts_geo.outputs.figures import coverage_figure

    cov = coverage_summary(ref, read_register(register_csv, ref), departement="06")
    fig = coverage_figure(ref, cov)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[-2:] == ["Commune dans plusieurs CPTS", "Commune partagée déclarée"]


# ---- issue 22, point 3: a shared city is not counted whole three times ------------------------
def test_nice_shared_by_three_cpts_has_a_population_range(register_csv, ref):
    rr = check_register(ref, read_register(register_csv, ref), min_population=20_000)
    by_id = {r.cpts_id: r for r in rr.reports}
    nice = pop(ref, NICE)
    for cid, own in (("NE", "06149"), ("NO", "06123"), ("NN", "06060")):
        t = by_id[cid].territory
        assert (t["population_min"], t["population_max"]) == (pop(ref, own), pop(ref, own) + nice)
        assert t["population"] == t["population_max"]  # the old field, kept
        assert t["aci_size_class_max"] == 4 and t["aci_size_class_min"] < 4
        assert t["population_known"] is False
        rule = by_id[cid].rule("population")
        assert f"Nice (06088, {fr_int(nice)} hab.)" in rule.message
        assert f"taille ACI {t['aci_size_class_min']} à 4" in rule.message
    # Falicon alone is under the minimum, with Nice above it: unknown, a warning.
    assert by_id["NN"].rule("population").status == "warn"
    # Antibes is in two CPTS without declaration: an overlap, no range.
    assert by_id["A1"].territory["population_known"] is True
    text = rr.to_text()
    assert f"{fr_int(pop(ref, '06149'))} à {fr_int(pop(ref, '06149') + nice)}" in text


def test_nice_funding_is_a_range_not_three_times_the_largest_envelope(register_csv, ref):
    cov = with_funding(coverage_summary(ref, read_register(register_csv, ref), departement="06"))
    f = cov.funding
    nice_cpts = f.per_cpts.loc[["NE", "NO", "NN"]]
    assert nice_cpts["taille"].tolist() == [4, 4, 4]
    assert (nice_cpts["taille_min"] < 4).all()
    assert f.national["montant_max_eur_bas"] < f.national["montant_max_eur_haut"]
    assert f.national["cpts_taille_inconnue"] == 5  # three for Nice, two for Toulon
    lines = f.to_text().splitlines()
    assert lines[1].startswith(
        "Enveloppe annuelle maximale estimée, département Alpes-Maritimes (06) : entre "
    )
    assert lines[2].startswith("Enveloppe annuelle maximale estimée, registre entier : entre ")


def test_nice_counts_once_at_the_most_advanced_stage_of_its_cpts(tmp_path, ref):
    path = tmp_path / "nice.csv"
    path.write_text(
        "cpts_id;cpts_nom;code_insee;statut;commune_partagee\n"
        "NE;CPTS Nice Est;06088;pré-projet;oui\nNE;CPTS Nice Est;06149;pré-projet;\n"
        "NO;CPTS Nice Ouest;06088;ACI signé;oui\nNO;CPTS Nice Ouest;06123;ACI signé;\n"
        "NN;CPTS Nice Nord;06088;projet de santé validé;oui\nNN;CPTS Nice Nord;06060;projet de santé validé;\n",
        encoding="utf-8",
    )
    cov = coverage_summary(ref, read_register(path, ref), departement="06")
    d = cov.departements[0]
    nice = pop(ref, NICE)
    assert d["population_covered"] == nice + pop(ref, "06149") + pop(ref, "06123") + pop(ref, "06060")
    assert d["population_covered_by_stage"]["aci"] == nice + pop(ref, "06123")
    assert d["shared_population_by_stage"] == {
        "aci": nice,
        "projet-sante": nice,
        "lettre-intention": nice,
        "pre-projet": nice,
    }
    res = run("coverage", path, "--departement", "06")
    assert res.exit_code == 0
    assert f"{fr_int(nice)} au stade « Contrat ACI signé »" in res.output


def test_check_register_json_and_workbook_give_the_ranges(register_csv, ref, tmp_path):
    res = run("check-register", register_csv, "--format", "json")
    data = {c["cpts_id"]: c for c in json.loads(res.stdout)["cpts"]}
    t = data["NE"]["territory"]
    assert (t["population"], t["population_min"], t["population_max"]) == (
        pop(ref, NICE) + pop(ref, "06149"),
        pop(ref, "06149"),
        pop(ref, NICE) + pop(ref, "06149"),
    )
    details = data["NE"]["rules"][0]["details"]
    assert details["shared_units"] == [{"code": NICE, "nom": "Nice", "population": pop(ref, NICE)}]
    assert data["A1"]["territory"]["population_known"] is True
    out = tmp_path / "registre.xlsx"
    assert run("check-register", register_csv, "-o", out).exit_code == 1
    ws = load_workbook(out)["CPTS × règles"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(r for r in rows if r and "Identifiant" in r)
    assert "Population sans les communes partagées" in header
    assert "Taille ACI sans les communes partagées" in header
    ne = next(r for r in rows if r and r[0] == "NE")
    assert ne[header.index("Population sans les communes partagées")] == pop(ref, "06149")


def test_coverage_gpkg_gives_the_lower_bounds_of_the_cpts_sharing_nice(register_csv, ref, tmp_path):
    import geopandas as gpd

    out = tmp_path / "couverture.gpkg"
    res = run("coverage-map", register_csv, "--departement", "06", "-o", tmp_path / "c.html", "--gpkg", out)
    assert res.exit_code == 0, res.output
    layer = gpd.read_file(out, layer="cpts_par_stade").set_index("cpts_id")
    assert layer.loc["NE", ["population", "population_min", "taille_aci", "taille_aci_min"]].tolist() == [
        pop(ref, NICE) + pop(ref, "06149"),
        pop(ref, "06149"),
        4,
        1,
    ]
    assert layer.loc["A1", "population_min"] == layer.loc["A1", "population"]
