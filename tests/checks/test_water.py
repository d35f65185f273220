"""Water crossings: parts of one land mass that face each other across an estuary, a rade or a
bay (issue 22, point 1). Synthetic bays here; the real EPCIs at the end (national tier)."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from cpts_geo.checks.rules import check_territory, enclaves
from cpts_geo.checks.territory import Territory
from cpts_geo.reference.water import compute_water_crossings
from tests.grids import polygon_reference

A, H, B, G = "49001", "49002", "49003", "49004"


def bay(cape: float, peninsula=None):
    """Two shores A (west) and B (east) of a bay 2 km wide, joined by land at its head H (south);
    each shore has a cape at y = 2 km reaching ``cape`` km into the bay, so the shortest segment
    between A and B runs between the capes' tips (2 - 2 x ``cape`` km long). ``peninsula``, a
    polygon standing on H, is a fourth unit G in the bay."""
    polygons = {
        A: shapely.Polygon([(0, 0), (1, 0), (1, 1.5), (1 + cape, 2), (1, 2.5), (1, 3), (0, 3)]),
        H: shapely.box(1, 0, 3, 1),
        B: shapely.Polygon([(3, 0), (4, 0), (4, 3), (3, 3), (3, 2.5), (3 - cape, 2), (3, 1.5)]),
    }
    if peninsula is not None:
        polygons[G] = peninsula
    return polygon_reference(polygons)


def contiguity(ref, codes, km):
    return check_territory(ref, codes, sea_link_km=km).rule("contiguity")


def test_a_bay_narrower_than_the_limit_joins_its_shores_with_a_warning():
    ref = bay(0.7)  # capes 0.6 km apart
    r = contiguity(ref, [A, B], 1.0)
    assert r.status == "warn"
    assert r.details["water_crossings"] == [
        {
            "a": A,
            "a_nom": "Commune 49001",
            "b": B,
            "b_nom": "Commune 49003",
            "distance_km": 0.6,
            "parts": [1, 2],
        }
    ]
    assert r.details["sea_links"] == [] and r.details["land_gaps"] == []
    assert r.message == (
        "Territoire en 2 parties reliées par l'eau (1\u00a0km au plus, sans terre hors du territoire) : "
        "traversée par l'eau Commune 49001 – Commune 49003 (0,6\u00a0km) ; "
        "parties : Commune 49001 (1 commune) et Commune 49003 (1 commune)."
    )


def test_a_bay_wider_than_the_limit_leaves_its_shores_separated_by_land():
    ref = bay(0.2)  # capes 1.6 km apart
    r = contiguity(ref, [A, B], 1.0)
    assert r.status == "fail"
    assert r.details["water_crossings"] == []
    assert r.details["land_gaps"] == [[1, 2]]
    assert "sont séparées par des communes hors du territoire" in r.message
    # The same bay within a longer limit.
    assert contiguity(ref, [A, B], 2.0).status == "warn"


def test_the_shortest_segment_is_measured_and_kept_by_the_build():
    ref = bay(0.7)
    table = ref.water_crossings(30.0)
    assert table[["a", "b", "distance_km"]].to_dict("records") == [{"a": A, "b": B, "distance_km": 0.6}]
    row = table.iloc[0]
    # The segment's ends are the capes' tips (Lambert-93 metres).
    assert (row["ax"], row["ay"], row["bx"], row["by"]) == pytest.approx(
        (401_700, 6_702_000, 402_300, 6_702_000)
    )
    lines = ref.water_crossing_lines(30.0)
    assert lines.crs.to_epsg() == 4326 and lines.geometry.iloc[0].geom_type == "LineString"
    # Land neighbours are never water crossings; nor units that touch.
    assert ref.water_crossings(30.0, departements="75").empty


def test_a_segment_crossing_the_land_of_a_third_unit_is_no_water_crossing():
    # A peninsula 200 m wide standing on the bay head reaches over the capes' line.
    ref = bay(0.7, peninsula=shapely.box(1.9, 1, 2.1, 2.1))
    pairs = ref.water_crossings(30.0)[["a", "b"]].to_dict("records")
    assert pairs == [{"a": A, "b": G}, {"a": B, "b": G}]  # each shore faces the peninsula
    r = contiguity(ref, [A, B], 30.0)
    assert r.status == "fail" and r.details["land_gaps"] == [[1, 2]]


def test_a_segment_grazing_a_third_unit_is_a_water_crossing():
    # The peninsula's tip touches the capes' line at one point: grazed, not crossed.
    ref = bay(0.7, peninsula=shapely.Polygon([(1.9, 1), (2.1, 1), (2.0, 2.0)]))
    r = contiguity(ref, [A, B], 30.0)
    assert r.status == "warn"
    assert [(w["a"], w["b"]) for w in r.details["water_crossings"]] == [(A, B)]


def test_a_segment_across_land_of_the_territory_joins_through_it():
    # The peninsula is in the territory: A and B each face it across water.
    ref = bay(0.7, peninsula=shapely.box(1.9, 1, 2.1, 2.1))
    r = contiguity(ref, [A, B, G], 30.0)
    assert r.status == "warn"
    assert sorted((w["a"], w["b"]) for w in r.details["water_crossings"]) == [(A, G), (B, G)]


def test_a_land_border_is_no_water():
    # The bay is a foreign country (the reference holds French land only): the outline from A to
    # B round the bay, away from the south coast S, is a land border.
    polygons = {
        A: shapely.Polygon([(0, 0), (1, 0), (1, 1.5), (1.7, 2), (1, 2.5), (1, 3), (0, 3)]),
        H: shapely.box(1, 0, 3, 1),
        B: shapely.Polygon([(3, 0), (4, 0), (4, 3), (3, 3), (3, 2.5), (2.3, 2), (3, 1.5)]),
        "49005": shapely.box(0, -1, 4, 0),
    }
    ref = polygon_reference(polygons)
    units, adjacency = ref.units, ref.adjacency
    assert compute_water_crossings(units, adjacency, land_borders={})[["a", "b"]].to_dict("records") == [
        {"a": A, "b": B}
    ]
    borders = {2154: ((A, B, "49005"),)}
    assert compute_water_crossings(units, adjacency, land_borders=borders).empty


def test_the_enclave_rule_uses_the_water_crossings():
    # H alone: A and B are cut off by land, but face each other across the bay.
    ref = bay(0.7)
    t = Territory(ref, [H])
    assert enclaves(t, sea_link_km=30.0).details["groups"] == []
    found = enclaves(t, sea_link_km=0.5).details["groups"]
    assert [[u["code"] for u in g["communes"]] for g in found] == [[B]]


def test_suggest_graph_has_the_water_crossings():
    ref = bay(0.7)
    pos = ref.position
    g = ref.graph_with_sea_links(1.0)
    assert g[pos[A], pos[B]] == 1
    assert ref.graph_with_sea_links(0.5)[pos[A], pos[B]] == 0


def test_a_reference_without_the_table_computes_it():
    ref = bay(0.7)  # built in memory: no traversees_eau.parquet
    assert isinstance(ref.water_crossings(), pd.DataFrame)
    assert list(ref.water_crossings().columns) == [
        "a",
        "b",
        "a_nom",
        "b_nom",
        "distance_km",
        "epsg",
        "ax",
        "ay",
        "bx",
        "by",
    ]


# ---------------------------------------------------------------------------------------------
# National: every EPCI of the reference checked as a proposal
# ---------------------------------------------------------------------------------------------
#: EPCIs in several land parts (COG 2026): islands joined by sea, parts facing each other across
#: water, and legal exclaves separated by other communes' land.
SEA = {
    "200018653": "CA CAP Excellence",
    "200041507": "CA La Riviéra du Levant",
    "200041762": "CA Rochefort Océan",
    "200043123": "CC Auray Quiberon Terre Atlantique",
    "200067072": "CC Haut-Léon Communauté",
    "200067932": "CA Golfe du Morbihan - Vannes Agglomération",
    "242900074": "CC du Pays d'Iroise",
    "249710070": "CA Grand Sud Caraïbe",
}
WATER = {
    "242900314": "Brest Métropole",
    "200066868": "CC Presqu'île de Crozon-Aulne maritime",
    "200042174": "CA Lorient Agglomération",
}
EXCLAVES = {
    "200069300": "CA Tarbes-Lourdes-Pyrénées",
    "200071173": "CC du Pays Arnay Liernais",
    "200043693": "CC Terre Lorraine du Longuyonnais",
    "200068500": "CA de Cambrai",
    "246701080": "CC du Pays de Sainte-Odile",
}


@pytest.fixture(scope="module")
def epci_contiguity(ref):
    units = ref.unit_table
    members = units[units["epci"].fillna("") != ""].groupby("epci").groups
    return {e: check_territory(ref, list(codes), name=e).rule("contiguity") for e, codes in members.items()}


@pytest.mark.national
def test_every_epci_as_a_proposal_has_the_expected_contiguity(ref, epci_contiguity):
    assert len(epci_contiguity) == 1255
    several = {e: r.status for e, r in epci_contiguity.items() if r.details["n_components"] > 1}
    expected = {
        **dict.fromkeys(SEA, "warn"),
        **dict.fromkeys(WATER, "warn"),
        **dict.fromkeys(EXCLAVES, "fail"),
    }
    assert several == expected
    assert {e: ref.epci.at[e, "nom"] for e in expected} == {**SEA, **WATER, **EXCLAVES}
    for e in SEA:
        assert epci_contiguity[e].details["water_crossings"] == [], e
    for e in WATER:
        assert (
            epci_contiguity[e].details["water_crossings"] and not epci_contiguity[e].details["land_gaps"]
        ), e
    for e in EXCLAVES:
        d = epci_contiguity[e].details
        assert d["water_crossings"] == [] and d["sea_links"] == [] and d["land_gaps"], e
        assert "séparées par des communes hors du territoire" in epci_contiguity[e].message


@pytest.mark.national
def test_brest_metropole_joins_plougastel_across_the_elorn(epci_contiguity):
    r = epci_contiguity["242900314"]
    assert r.status == "warn"
    assert r.message == (
        "Territoire en 2 parties reliées par l'eau (30\u00a0km au plus, sans terre hors du territoire) : "
        "traversée par l'eau Guipavas – Plougastel-Daoulas (0,4\u00a0km) ; "
        "parties : Brest (7 communes) et Plougastel-Daoulas (1 commune)."
    )


@pytest.mark.national
def test_crozon_and_lorient_join_across_the_aulne_the_rade_and_the_petite_mer(epci_contiguity):
    crozon = epci_contiguity["200066868"].details
    assert [(w["a_nom"], w["b_nom"]) for w in crozon["water_crossings"]] == [("Argol", "Rosnoën")]
    assert 0.1 <= crozon["water_crossings"][0]["distance_km"] <= 0.3  # across the Aulne
    lorient = epci_contiguity["200042174"].details
    assert [lk["a_nom"] + " – " + lk["b_nom"] for lk in lorient["sea_links"]] == ["Groix – Ploemeur"]
    assert len(lorient["water_crossings"]) == 2
    assert {lk["b_nom"] for lk in lorient["water_crossings"]} | {
        lk["a_nom"] for lk in lorient["water_crossings"]
    } >= {
        "Gâvres",
        "Port-Louis",
    }


@pytest.mark.national
def test_water_crossings_stop_at_the_land_borders(ref):
    w = ref.water_crossings(30.0)
    deps = set(w["a"].str[:2]) | set(w["b"].str[:2])
    # Geneva, Basel, the Belgian and German borders, Andorra: no crossing across a foreign country.
    assert not deps & {"01", "74", "08", "59", "57", "67", "68", "25", "90", "39", "09", "65", "31"}
    monaco = {"06032", "06104", "06012"}  # Cap-d'Ail, Roquebrune-Cap-Martin, Beausoleil
    assert not (set(w["a"]) | set(w["b"])) & monaco
    assert not (set(w["a"]) | set(w["b"])) & {"66005", "66025", "66072", "66167", "66181", "66202", "66218"}


@pytest.mark.national
def test_suggest_keeps_the_crozon_epci_whole(ref):
    from cpts_geo.suggest.territories import suggest_territories

    crozon = ref.unit_table.index[ref.unit_table["epci"] == "200066868"]
    res = suggest_territories(ref, within="29", geometry=False)
    assert res.assignment.loc[crozon, "territoire_id"].nunique() == 1


def test_the_maps_draw_the_water_crossing_like_a_sea_link():
    import matplotlib

    matplotlib.use("Agg")
    from cpts_geo.checks.findings import contiguity_overlays
    from cpts_geo.maps.territory import report_layers, sea_link_lines, territory_map
    from cpts_geo.outputs.figures import territory_figure

    ref = bay(0.7)
    report = check_territory(ref, [A, B], sea_link_km=1.0)
    links, detached = contiguity_overlays(report)
    assert [(lk["kind"], lk["a"], lk["b"]) for lk in links] == [("eau", A, B)]
    lines = sea_link_lines(ref, report_layers(ref, report).sea_links)
    assert lines[["liaison", "distance", "kind"]].to_dict("records") == [
        {"liaison": "Commune 49001 (49001) – Commune 49003 (49003)", "distance": "0,6\u00a0km", "kind": "eau"}
    ]
    assert lines.to_crs(2154).length.iloc[0] == pytest.approx(600, abs=1)
    page = territory_map(ref, [A, B], sea_links=links, detached=detached).get_root().render()
    assert "cpts-traversee-eau" in page and "cpts-liaison-maritime" not in page
    assert "Traversée par l&#x27;eau (règle de continuité)" in page  # the legend, escaped
    fig = territory_figure(ref, report)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "Traversée par l'eau" in labels and "Liaison maritime" not in labels


@pytest.mark.national
def test_check_json_lists_the_water_crossings(tmp_path):
    import json

    from click.testing import CliRunner

    from cpts_geo.cli.main import main

    proposal = tmp_path / "brest.csv"
    proposal.write_text("Brest Métropole\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["check", str(proposal), "--format", "json"])
    assert res.exit_code == 0, res.output
    rule = next(r for r in json.loads(res.stdout)["rules"] if r["id"] == "contiguity")
    assert rule["status"] == "warn"
    assert rule["details"]["sea_links"] == [] and rule["details"]["land_gaps"] == []
    assert rule["details"]["water_crossings"] == [
        {
            "a": "29075",
            "a_nom": "Guipavas",
            "b": "29189",
            "b_nom": "Plougastel-Daoulas",
            "distance_km": 0.443,
            "parts": [1, 2],
        }
    ]
    # Beyond the limit, Plougastel-Daoulas is separated by land again.
    res = CliRunner().invoke(main, ["check", str(proposal), "--format", "json", "--sea-link-km", "0.4"])
    assert res.exit_code == 1


@pytest.mark.national
def test_units_facing_others_across_water_are_no_enclaves(ref):
    # Each of these EPCIs surrounds on land communes that face the rest of their own EPCI across
    # water: Plougastel-Daoulas (the Elorn), the Crozon peninsula (the Aulne, the rade), Dinard
    # and its neighbours (the Rance), Gâvres, Port-Louis, Locmiquélic and Riantec (the rade of
    # Lorient). Before the water crossings, each warned of an enclave.
    units = ref.unit_table
    for epci in ("242900801", "200067247", "200068989", "245600440"):
        codes = list(units.index[units["epci"] == epci])
        assert check_territory(ref, codes).rule("enclaves").status == "pass", epci
        # Without the crossings (a limit below the narrowest), the enclaves come back.
        assert check_territory(ref, codes, sea_link_km=0.01).rule("enclaves").status == "warn", epci
