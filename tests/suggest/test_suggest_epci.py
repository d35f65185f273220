"""Tests of ``cpts-geo suggest --mode epci`` (the default): territories built from whole EPCIs.

The algorithm itself is tested on synthetic grids in tests/suggest/test_epci_mode.py; here it is wired:
real départements (Maine-et-Loire, Finistère with its islands, Cantal, Bouches-du-Rhône with
Marseille's arrondissements, La Réunion), the guarantees (contiguity on the rules' graph, every
white unit once, determinism, ``check_territory`` never failing, ``epci_alignment`` passing
unless an EPCI was split for size or lies partly elsewhere, no EPCI split unless above the
maximum), the quality figures in every output, and the exact optimum on small départements.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.sparse import csgraph

from cpts_geo._errors import InputError
from cpts_geo._text import fr_int
from cpts_geo.checks.rules import check_territory
from cpts_geo.cli.main import main
from cpts_geo.suggest.epci_exact import exact_grouping
from cpts_geo.suggest.epci_model import deviation
from cpts_geo.suggest.territories import result_features, suggest_territories
from tests.suggest.test_suggest import assert_valid, grid_reference

NBSP = "\u00a0"

#: Per département: territories, natures (epci, union_epci, epci_decoupe, partie_epci), the EPCIs
#: split for size with their pieces, and the max-count figures (territories, tight bound).
EXPECTED = {
    "49": (10, (7, 0, 2, 1), {"244900015": 2}, (28, 32)),
    # Finistère: 15 (8, 2, 2, 3) and 35 before the water crossings (issue 22) made the Crozon
    # EPCI, Plougastel-Daoulas with Brest... one piece each: fewer parts of EPCIs.
    "29": (16, (10, 3, 2, 1), {"242900314": 2}, (36, 38)),
    "15": (3, (1, 1, 0, 1), {}, (6, 6)),
    "13": (15, (3, 0, 12, 0), {"200054807": 12}, (54, 59)),
    "974": (8, (2, 0, 6, 0), {"249740077": 2, "249740101": 2, "249740119": 2}, (15, 17)),
}


@pytest.fixture(scope="module")
def results(ref):
    return {d: suggest_territories(ref, within=d, geometry=False) for d in EXPECTED}


def nature_counts(result) -> tuple:
    counts = result.territories["nature"].value_counts()
    return tuple(int(counts.get(k, 0)) for k in ("epci", "union_epci", "epci_decoupe", "partie_epci"))


@pytest.mark.parametrize("dep", sorted(EXPECTED))
def test_real_departements_exact_figures(ref, results, dep):
    result = results[dep]
    n, natures, split, maxp = EXPECTED[dep]
    codes = list(ref.units.index[ref.units["departement"] == dep])
    assert_valid(ref, result, codes)  # contiguous on the rules' graph, every unit once
    assert result.n_territories == n
    assert nature_counts(result) == natures
    assert {k: v["pieces"] for k, v in result.split_epci.items()} == split
    q = result.summary()["quality"]
    assert (q["max_count_territories"], q["max_count_bound"]) == maxp
    assert q["territories"] == n and q["mode"] == "epci"
    assert len(result.extensions) == len(result.orphans) == 0


@pytest.mark.parametrize("dep", sorted(EXPECTED))
def test_no_epci_split_unless_above_the_maximum(ref, results, dep):
    result = results[dep]
    a = result.assignment
    spread = a[a["epci"] != ""].groupby("epci")["territoire_id"].nunique()
    notes = result.territories.set_index("territoire_id")["notes"]
    for code in spread.index[spread > 1]:
        # Split for size, or its white part is not connected (each territory says so).
        if code not in result.split_epci:
            for tid in set(a.loc[a["epci"] == code, "territoire_id"]):
                assert any(f"({code}) non contiguë" in n for n in notes[tid]), (code, tid)
    for code, s in result.split_epci.items():
        white = int(a.loc[a["epci"] == code, "population"].sum())
        assert result.max_population < s["population"] <= white
        assert s["reason"].endswith(f"au-dessus du maximum de 175{NBSP}000")
        assert f"{s['nom']} ({code}) : {fr_int(s['population'])} habitants, découpé" in s["reason"]
        assert s["nom"] == ref.epci.at[code, "nom"]


@pytest.mark.parametrize("dep", sorted(EXPECTED))
def test_check_territory_never_fails_and_epci_alignment(ref, results, dep):
    for _, t in results[dep].territories.iterrows():
        report = check_territory(ref, t["communes"])
        assert report.status != "fail", (t["territoire_id"], report.status)
        rule = report.rule("epci_alignment")
        if t["nature"] in ("epci", "union_epci"):
            assert rule.status == "pass", t["territoire_id"]
        elif t["nature"] == "epci_decoupe":
            assert rule.status == "warn"
            assert all("au-dessus du maximum de 175\u00a0000" in r for r in t["raisons"])
        else:  # an EPCI crossing the département border or not connected: the notes say so
            assert rule.status == "warn"
            assert any(
                "à cheval sur plusieurs départements" in n or "non contiguë" in n for n in t["notes"]
            ), t["notes"]


def test_finistere_islands_and_marseille(ref, results):
    a = results["29"].assignment
    # Ouessant and Molène are in the territory of the mainland they are sea-linked to.
    assert a.at["29155", "territoire_id"] == a.at["29084", "territoire_id"]
    # Marseille's 16 arrondissements: never a territory made of arrondissements of several EPCIs.
    m = results["13"].assignment.loc[[f"132{i:02d}" for i in range(1, 17)]]
    assert set(m["epci"]) == {"200054807"}
    assert m["type"].eq("territoire").all()


def test_notes_name_epcis_and_departements(results):
    t = results["49"].territories.set_index("territoire_id")
    assert t.at["49-T07", "notes"] == [
        "EPCI CC du Pays d'Ancenis (244400552) à cheval sur plusieurs départements : seule sa "
        "partie du département Maine-et-Loire (49) est ici"
    ]
    assert t.at["49-T01", "raisons"] == [
        f"EPCI CU Angers Loire Métropole (244900015) : 312{NBSP}612 habitants, découpé car au-dessus "
        f"du maximum de 175{NBSP}000"
    ]


def test_deterministic_for_a_seed(ref):
    one = suggest_territories(ref, within="29", seed=5, geometry=False)
    two = suggest_territories(ref, within="29", seed=5, geometry=False)
    pd.testing.assert_frame_equal(one.assignment, two.assignment)
    # A département's result does not depend on the rest of the area.
    alone = suggest_territories(ref, within="49", geometry=False)
    region = suggest_territories(ref, within=["49", "53"], geometry=False)
    assert region.assignment.loc[alone.assignment.index, "territoire_id"].equals(
        alone.assignment["territoire_id"]
    )


@pytest.mark.parametrize("dep", ["48", "90", "23"])
def test_small_departements_reach_the_exact_optimum(ref, dep):
    """Gap 0 against the exact optimum of the same objective (MILP over the same blocks)."""
    result = suggest_territories(ref, within=dep, geometry=False)
    idx = np.flatnonzero(ref.arrays.dep == list(ref.arrays.dep_codes).index(dep))
    a = ref.arrays
    g = ref.graph_with_sea_links(30.0)[idx][:, idx]
    exact = exact_grouping(g, a.pop[idx], a.epci[idx], a.dep[idx], seed=0)
    assert exact is not None
    ours = sum(deviation(p, 60000) for p in result.territories["population"])
    left = int(result.extensions["population"].sum() + result.orphans["population"].sum())
    assert (left, round(ours, 9)) == (exact.objective[0], round(exact.objective[2], 9))


def test_existing_register_and_extensions(ref):
    """White parts of covered EPCIs are 'partie_epci'; a lone piece joins the CPTS of its EPCI."""
    u = ref.units[ref.units["departement"] == "53"]
    rows = pd.DataFrame({"cpts_id": "C1", "cpts_nom": "CPTS de la Mayenne", "code_insee": u.index})
    table = rows[~rows["code_insee"].isin(["53056", "53140"])]
    result = suggest_territories(ref, existing=table, within="53", geometry=False)
    assert result.n_territories == 0
    assert result.extensions[["territoire_id", "cpts_id", "communes"]].values.tolist() == [
        ["53-E01", "C1", ["53056", "53140"]]
    ]
    assert result.covered_units == len(u) - 2


def test_grid_large_epci_split_small_ones_joined():
    """A 6x2 grid: the north row, one EPCI of 6 x 40,000 (above the maximum), is split into two
    pieces of 120,000; the south row, two EPCIs of 15,000, is one union of whole EPCIs."""
    epci = np.array([["200000002"] * 3 + ["200000003"] * 3, ["200000001"] * 6])
    pop = np.array([[5000] * 6, [40000] * 6])
    ref = grid_reference(6, 2, pop, epci=epci)
    result = suggest_territories(ref, geometry=False)
    t = result.territories
    assert t[["territoire_id", "population", "nature"]].values.tolist() == [
        ["49-T01", 120000, "epci_decoupe"],
        ["49-T02", 120000, "epci_decoupe"],
        ["49-T03", 30000, "union_epci"],
    ]
    assert t["communes"].tolist() == [
        ["49100", "49101", "49102"],
        ["49103", "49104", "49105"],
        ["49000", "49001", "49002", "49003", "49004", "49005"],
    ]
    assert {k: (v["population"], v["pieces"]) for k, v in result.split_epci.items()} == {
        "200000001": (240000, 2)
    }
    # Max-count cuts the EPCIs for the count: 7 (the south row, 30,000, is one of them).
    assert result.summary()["quality"]["max_count_territories"] == 7


def test_bad_sizes(ref):
    with pytest.raises(InputError, match="tailles incohérentes"):
        suggest_territories(ref, within="15", min_population=70000)
    with pytest.raises(InputError, match="max_population 0 : un nombre entier"):
        suggest_territories(ref, within="15", max_population=0)
    with pytest.raises(InputError, match="mode 'autre' inconnu : choisissez epci ou max-count"):
        suggest_territories(ref, within="15", mode="autre")
    # max-count ignores the maximum and the target.
    assert suggest_territories(ref, within="15", mode="max-count", min_population=70000).n_territories == 2


# ---------------------------------------------------------------------------------------------
# Outputs: text, JSON, GPKG, map, CLI
# ---------------------------------------------------------------------------------------------
def test_text_says_how_good_it_is(results):
    text = results["49"].to_text()
    assert (
        f"Mode EPCI : territoires de 20{NBSP}000 à 175{NBSP}000 habitants, cible 60{NBSP}000 ; graine 0"
        in text
    )
    assert (
        "Territoires proposés : 10 — 7 EPCI entiers, 0 union d'EPCI entiers, 2 avec un EPCI découpé "
        "(taille), 1 avec une partie d'EPCI" in text
    )
    assert "EPCI découpés : 1\n" in text
    assert (
        f"Population des territoires : médiane 77{NBSP}650 habitants, de 28{NBSP}413 à 159{NBSP}022" in text
    )
    assert "en ferait 28 (borne supérieure 32)" in text
    assert "1 commune  1 EPCI  EPCI découpé (taille)" in text
    assert "commune(s)" not in text


def test_national_figures(ref):
    result = suggest_territories(ref, geometry=False)
    q = result.summary()["quality"]
    assert len(result.assignment) == len(ref.units)
    assert q["national"] == {
        "existing_cpts": 0,
        "proposed": result.n_territories,
        "total": result.n_territories,
        "goal": 1000,
        "progress": round(result.n_territories / 1000, 4),
    }
    assert q["max_count_territories"] > result.n_territories
    assert "pour l'objectif national de 1\u00a0000" in result.to_text()
    per_dep = result.territories.groupby("departement").size()
    assert set(per_dep.index) == set(ref.departements.index)


def test_features_json_and_map(ref, results, tmp_path):
    result = suggest_territories(ref, within="49")
    feats = result_features(ref, result).set_index("territoire_id")
    assert feats.at["49-T01", "nature"] == "epci_decoupe"
    assert "au-dessus du maximum" in feats.at["49-T01", "raison"]
    assert feats.at["49-T03", "nature"] == "epci" and feats.at["49-T03", "raison"] == ""
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert data["summary"]["quality"]["epci_split"] == [
        {
            "population": 312612,
            "pieces": 2,
            "reason": f"EPCI CU Angers Loire Métropole (244900015) : 312{NBSP}612 habitants, découpé car "
            f"au-dessus du maximum de 175{NBSP}000",
            "nom": "CU Angers Loire Métropole",
            "epci": "244900015",
        }
    ]
    from cpts_geo.maps.plan_maps import suggest_map

    page = suggest_map(ref, result).get_root().render()
    assert "cpts-propositions" in page
    assert "en ferait 28 (borne supérieure 32)" in page


def test_cli_modes_and_sizes(tmp_path):
    out = tmp_path / "t.gpkg"
    args = ["suggest", "--departement", "15", "--max-population", "100000", "--target-population", "50000"]
    res = CliRunner().invoke(main, [*args, "-o", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)["summary"]
    assert (summary["mode"], summary["max_population"], summary["target_population"]) == (
        "epci",
        100000,
        50000,
    )
    layer = gpd.read_file(out)
    assert {"nature", "raison"} <= set(layer.columns)
    assert len(layer) == summary["territories"]
    res = CliRunner().invoke(main, ["suggest", "--departement", "15", "--mode", "max-count"])
    assert "Mode max-count" in res.stdout and "Territoires supplémentaires possibles : 6" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--target-population", "200000"],
            "tailles incohérentes : il faut --min-population (20000) ≤ --target-population (200000) ≤ "
            "--max-population (175000)",
        ),
        (["--max-population", "0"], "--max-population 0 : un nombre d'habitants strictement positif"),
        (["--mode", "autre"], "valeur invalide pour --mode : « autre » ; choisissez parmi : epci, max-count"),
    ],
)
def test_cli_bad_sizes_exit_2(args, message):
    res = CliRunner().invoke(main, ["suggest", "--departement", "15", *args])
    assert res.exit_code == 2
    assert message in res.stderr


def test_every_territory_contiguous_on_the_rules_graph(ref, results):
    """Redundant with assert_valid, but on ``ref.graph_with_sea_links`` itself, as the rules use it."""
    g = ref.graph_with_sea_links(30.0)
    for result in results.values():
        for codes in result.territories["communes"]:
            idx = ref.position.loc[codes].to_numpy()
            assert csgraph.connected_components(g[idx][:, idx], directed=False)[0] == 1


def test_names_say_how_many_others():
    from types import SimpleNamespace

    from cpts_geo.suggest.quality import names

    codes = [f"4900{i}" for i in range(10)]
    result = SimpleNamespace(assignment=pd.DataFrame({"nom": [f"C{i}" for i in range(10)]}, index=codes))
    assert (
        names(result, codes[:9])
        == ", ".join(f"C{i} ({c})" for i, c in enumerate(codes[:8])) + " … et 1 autre"
    )
    assert names(result, codes).endswith("C7 (49007) … et 2 autres")
    assert names(result, codes[:2]) == "C0 (49000), C1 (49001)"


def test_cross_departement_keeps_the_epci_whole(ref):
    """CC du Pays d'Ancenis spans Loire-Atlantique and Maine-et-Loire: whole once crossing is allowed."""
    result = suggest_territories(ref, within=["44", "49"], allow_cross_departement=True, geometry=False)
    a = result.assignment
    ancenis = a[a["epci"] == "244400552"]
    assert sorted(ancenis["departement"].unique()) == ["44", "49"]
    assert ancenis["territoire_id"].unique().tolist() == ["44-T08"]
    t = result.territories.set_index("territoire_id").loc["44-T08"]
    assert (t["nature"], t["notes"], t["population"], t["epci"]) == ("epci", [], 70420, ["244400552"])
    assert check_territory(ref, t["communes"]).rule("epci_alignment").status == "pass"
