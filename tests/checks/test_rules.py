"""Tests of the territory rules (DESIGN.md §2): synthetic grids, then real cases on the national reference."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpts_geo._errors import InputError, UnknownCommuneError
from cpts_geo.checks.rules import RULE_IDS, check_register, check_territory, contiguity, enclaves
from cpts_geo.checks.territory import ACI_SIZE_BOUNDS, Territory, aci_size_class
from cpts_geo.inputs.read import as_register
from cpts_geo.inputs.register import register_from_frame
from cpts_geo.reference.units import Reference
from cpts_geo.steering.coverage import coverage_summary, coverage_table
from tests.grids import block, code, grid_reference


def register(rows) -> pd.DataFrame:
    """A minimal register in the long format (a DataFrame, as every public function accepts):
    ``rows`` of (cpts_id, cpts_nom, code_insee)."""
    return pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee"]).assign(statut="")


@pytest.fixture(scope="module")
def grid():
    return grid_reference(5, 5)


# ---------------------------------------------------------------------------------------------
# territory
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("population", "size"),
    [
        (0, 1),
        (8_500, 1),
        (39_999, 1),
        (40_000, 2),
        (79_999, 2),
        (80_000, 3),
        (175_000, 3),
        (175_001, 4),
        (2_000_000, 4),
    ],
)
def test_aci_size_class_boundaries(population, size):
    assert aci_size_class(population) == size
    assert ACI_SIZE_BOUNDS == (40_000, 80_000, 175_000)


def test_territory_is_sorted_and_distinct(grid):
    t = Territory(grid, [code(1, 0), code(0, 0), code(1, 0)], name="t")
    assert t.codes == ["49000", "49001"]
    assert len(t) == 2
    assert t.positions.tolist() == [0, 1]
    assert t.population == 2000
    assert t.aci_size_class == 1
    assert t.area_km2 == 2.0
    assert list(t.units.index) == ["49000", "49001"]


def test_territory_tables(grid):
    ref = grid_reference(
        2,
        2,
        [[1000, 2000], [3000, 4000]],
        epci=[["A", "A"], ["B", "B"]],
        departement=[["49", "49"], ["72", "35"]],
        region=[["52", "52"], ["52", "53"]],
    )
    t = Territory(ref, ["49000", "49001", "49100"])
    assert t.epcis.to_dict("index") == {
        "A": {
            "nom": "CC A",
            "n_communes": 2,
            "n_communes_total": 2,
            "population": 3000,
            "population_total": 3000,
            "share_communes": 1.0,
            "share_population": 1.0,
            "whole": True,
        },
        "B": {
            "nom": "CC B",
            "n_communes": 1,
            "n_communes_total": 2,
            "population": 3000,
            "population_total": 7000,
            "share_communes": 0.5,
            "share_population": 3000 / 7000,
            "whole": False,
        },
    }
    assert t.departements.to_dict("index") == {
        "49": {"nom": "Département 49", "region": "52", "n_communes": 2, "population": 3000},
        "72": {"nom": "Département 72", "region": "52", "n_communes": 1, "population": 3000},
    }
    assert t.regions.to_dict("index") == {"52": {"nom": "Région 52", "n_communes": 3, "population": 6000}}


def test_territory_geometry_is_the_dissolved_units(grid):
    geom = Territory(grid, block(0, 1, 0, 1)).geometry()
    assert geom.geom_type == "Polygon"
    area = gpd.GeoSeries([geom], crs=4326).to_crs(2154).area.iloc[0]
    assert area == pytest.approx(4e6, rel=1e-6)


def test_territory_rejects_unknown_codes(grid):
    with pytest.raises(UnknownCommuneError, match="'99999' n'est pas un code de commune"):
        Territory(grid, ["49000", "99999"])


# ---------------------------------------------------------------------------------------------
# population
# ---------------------------------------------------------------------------------------------
def test_population_at_the_minimum_passes(grid):
    r = check_territory(grid, block(0, 2, 0, 2), min_population=9000).rule("population")
    assert r.status == "pass"
    assert r.message == (
        "9\u00a0000 habitants (population municipale 2023), taille ACI 1 ; minimum de 9\u00a0000 atteint."
    )
    assert r.details == {
        "population": 9000,
        "min_population": 9000,
        "aci_size_class": 1,
        "aci_size_bounds": [40_000, 80_000, 175_000],
        "vintage": 2023,
        # Added for the communes declared shared (issue 22): equal bounds when nothing is shared.
        "population_min": 9000,
        "population_max": 9000,
        "aci_size_class_min": 1,
        "aci_size_class_max": 1,
        "population_known": True,
        "shared_units": [],
    }


def test_population_below_the_minimum_fails(grid):
    r = check_territory(grid, block(0, 2, 0, 2), min_population=9001).rule("population")
    assert r.status == "fail"
    assert r.message == (
        "9\u00a0000 habitants (population municipale 2023), taille ACI 1 : sous le minimum "
        "de 9\u00a0001 habitants (il manque 1 habitants)."
    )


@pytest.mark.parametrize("minimum", [None, 0])
def test_population_without_minimum_passes(grid, minimum):
    r = check_territory(grid, [code(0, 0)], min_population=minimum).rule("population")
    assert (r.status, r.details["min_population"]) == ("pass", None)
    assert r.message.endswith("pas de population minimale demandée.")


@pytest.mark.parametrize(("pop", "size"), [(39_999, 1), (40_000, 2), (80_000, 3), (175_000, 3), (175_001, 4)])
def test_population_reports_the_aci_size_class(pop, size):
    ref = grid_reference(2, 1, [[pop - 1, 1]])
    report = check_territory(ref, ["49000", "49001"])
    assert report.rule("population").details["aci_size_class"] == size
    assert report.territory["aci_size_class"] == size
    assert report.territory["population"] == pop


# ---------------------------------------------------------------------------------------------
# contiguity
# ---------------------------------------------------------------------------------------------
def test_contiguous_block_passes(grid):
    r = check_territory(grid, block(0, 1, 0, 2)).rule("contiguity")
    assert r.status == "pass"
    assert r.message == "Territoire d'un seul tenant (6 communes)."
    assert r.details["n_components"] == 1


def test_diagonal_contact_is_not_contiguity(grid):
    # Rook adjacency in the synthetic grid: corners do not touch.
    r = check_territory(grid, [code(0, 0), code(1, 1)]).rule("contiguity")
    assert r.status == "fail"


def test_land_gap_fails_and_names_the_parts():
    ref = grid_reference(5, 1, [[1000, 1000, 1000, 5000, 1000]])
    r = check_territory(ref, ["49000", "49001", "49003"]).rule("contiguity")
    assert r.status == "fail"
    assert r.details["components"] == [
        {
            "id": 1,
            "name": "Commune 49003",
            "n_communes": 1,
            "population": 5000,
            "island": False,
            "communes": [{"code": "49003", "nom": "Commune 49003"}],
        },
        {
            "id": 2,
            "name": "Commune 49000",
            "n_communes": 2,
            "population": 2000,
            "island": False,
            "communes": [
                {"code": "49000", "nom": "Commune 49000"},
                {"code": "49001", "nom": "Commune 49001"},
            ],
        },
    ]
    assert r.details["land_gaps"] == [[1, 2]]
    assert r.details["sea_links"] == []
    assert r.message == (
        "Territoire discontinu en 2 parties : Commune 49003 (1 commune) et Commune 49000 "
        "(2 communes) sont séparées par des communes hors du territoire."
    )


def island_reference(distance_km: float) -> Reference:
    # A 3 x 1 strip and a 1 km island ``distance_km`` north of it, from x = 1.5 to 2.5 km: its
    # closest unit is 49001 (x 1-2 km), 49000 is sqrt(0.5² + d²) away.
    return grid_reference(3, 1, islands=[("49900", 1.5, 1 + distance_km, 700)])


def test_island_within_sea_link_warns_with_the_link():
    ref = island_reference(5)
    r = check_territory(ref, ["49000", "49001", "49900"]).rule("contiguity")
    assert r.status == "warn"
    [link] = r.details["sea_links"]
    assert (link["a"], link["b"], link["parts"]) == ("49001", "49900", [1, 2])
    assert link["distance_km"] == pytest.approx(5.0, abs=0.01)
    assert r.details["components"][1]["island"] is True
    assert r.message == (
        "Territoire en 2 parties reliées par la mer (liaisons de 30\u00a0km au plus) : "
        "Commune 49001 – Commune 49900 (5\u00a0km) ; parties : Commune 49000 (2 communes) et "
        "Commune 49900 (île, 1 commune)."
    )


def test_island_beyond_sea_link_fails():
    ref = island_reference(40)
    r = check_territory(ref, ["49001", "49900"]).rule("contiguity")
    assert r.status == "fail"
    assert r.details["sea_links"] == []
    assert r.message == (
        "Territoire discontinu en 2 parties : Commune 49900 (île, 1 commune) à plus de "
        "30\u00a0km par la mer du reste du territoire."
    )
    r = check_territory(ref, ["49001", "49900"], sea_link_km=50).rule("contiguity")
    assert r.status == "warn"
    assert r.details["sea_link_km"] == 50.0


def test_sea_link_is_measured_from_the_territory_not_the_land_mass():
    # The island is 5 km from 49001 but 5.025 km from 49000 (both on the mainland).
    ref = island_reference(5)
    assert contiguity(Territory(ref, ["49001", "49900"]), sea_link_km=5.01).status == "warn"
    assert contiguity(Territory(ref, ["49000", "49900"]), sea_link_km=5.01).status == "fail"
    [link] = contiguity(Territory(ref, ["49000", "49900"]), sea_link_km=5.05).details["sea_links"]
    assert (link["a"], link["distance_km"]) == ("49000", pytest.approx(5.025, abs=0.002))


def test_a_land_gap_fails_even_when_an_island_joins_both_parts():
    ref = island_reference(2)
    r = check_territory(ref, ["49000", "49002", "49900"]).rule("contiguity")
    assert r.status == "fail"
    assert r.details["land_gaps"] == [[1, 2]]
    assert len(r.details["sea_links"]) == 1


# ---------------------------------------------------------------------------------------------
# enclaves
# ---------------------------------------------------------------------------------------------
def test_ring_encloses_its_centre(grid):
    ring = [c for c in block(1, 3, 1, 3) if c != code(2, 2)]
    r = check_territory(grid, ring).rule("enclaves")
    assert r.status == "warn"
    assert r.details == {
        "groups": [
            {
                "communes": [{"code": "49202", "nom": "Commune 49202", "population": 1000}],
                "n_communes": 1,
                "population": 1000,
            }
        ]
    }
    assert r.message == (
        "Commune 49202 (49202, 1\u00a0000 hab.) est enclavée par le territoire : "
        "tous ses voisins terrestres en font partie."
    )


def test_a_group_of_units_is_one_enclave():
    # A 5 x 5 frame around a 3 x 1 hole, on a 7 x 5 grid: the 3 units are one enclosed group.
    frame = [c for c in block(0, 4, 0, 4) if c not in block(1, 3, 2, 2)]
    r = check_territory(grid_reference(7, 5), frame).rule("enclaves")
    assert [[u["code"] for u in g["communes"]] for g in r.details["groups"]] == [["49201", "49202", "49203"]]
    assert r.message == (
        "1 groupe de communes est enclavé par le territoire (tous leurs voisins terrestres "
        "en font partie) : Commune 49201 (49201), Commune 49202 (49202) et Commune 49203 "
        "(49203) (3 communes, 3\u00a0000 hab.)."
    )


def test_cutting_off_a_corner_encloses_it(grid):
    # Column 1 cuts column 0 off the rest of the grid (15 units): column 0 is enclosed.
    r = check_territory(grid, block(1, 1, 0, 4)).rule("enclaves")
    assert [[u["code"] for u in g["communes"]] for g in r.details["groups"]] == [block(0, 0, 0, 4)]


def test_rest_of_the_land_mass_and_untouched_islands_are_not_enclaves():
    ref = grid_reference(3, 3, islands=[("49900", 1, 5, 700)])
    assert check_territory(ref, [code(0, 0)]).rule("enclaves").status == "pass"
    # The territory covers all but one unit of the land mass: that unit is the rest of it.
    r = check_territory(ref, [c for c in block(0, 2, 0, 2) if c != code(2, 2)]).rule("enclaves")
    assert (r.status, r.details["groups"]) == ("pass", [])
    assert r.message == "Aucune commune extérieure enclavée par le territoire."


def test_two_enclaves_are_reported_in_code_order():
    ref = grid_reference(9, 5)
    rings = [c for c in block(1, 3, 1, 3) + block(5, 7, 1, 3) if c not in (code(2, 2), code(6, 2))]
    r = enclaves(Territory(ref, rings))
    assert [[u["code"] for u in g["communes"]] for g in r.details["groups"]] == [["49202"], ["49206"]]
    assert r.message == (
        "2 groupes de communes sont enclavés par le territoire (tous leurs voisins terrestres "
        "en font partie) : Commune 49202 (49202) (1\u00a0000 hab.) ; Commune 49206 (49206) "
        "(1\u00a0000 hab.)."
    )


# ---------------------------------------------------------------------------------------------
# epci_alignment, admin_boundaries
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def split_grid():
    epci = [["A", "A", "B", "B"]] * 2
    dep = [["49", "49", "72", "35"]] * 2
    reg = [["52", "52", "52", "53"]] * 2
    return grid_reference(4, 2, [[1000, 2000, 3000, 4000]] * 2, epci=epci, departement=dep, region=reg)


def test_whole_epcis_pass(split_grid):
    r = check_territory(split_grid, block(0, 1, 0, 1)).rule("epci_alignment")
    assert r.status == "pass"
    assert r.message == "Territoire fait du seul EPCI entier : CC A."
    assert r.details == {
        "epcis": [
            {
                "code": "A",
                "nom": "CC A",
                "n_communes_in": 4,
                "n_communes": 4,
                "population_in": 6000,
                "population": 6000,
                "share_communes": 1.0,
                "share_population": 1.0,
                "whole": True,
                "communes": ["49000", "49001", "49100", "49101"],
            }
        ],
        "n_split": 0,
        "without_epci": [],
    }


def test_split_epci_warns_with_shares(split_grid):
    r = check_territory(split_grid, block(0, 2, 0, 1)).rule("epci_alignment")
    assert r.status == "warn"
    assert [(e["code"], e["whole"]) for e in r.details["epcis"]] == [("A", True), ("B", False)]
    b = r.details["epcis"][1]
    assert (b["code"], b["n_communes_in"], b["n_communes"], b["population_in"], b["population"]) == (
        "B",
        2,
        4,
        6000,
        14000,
    )
    assert (b["share_communes"], b["share_population"], b["whole"]) == (0.5, 0.4286, False)
    assert r.message == "1 EPCI coupé sur 2 touchés : CC B (2/4 communes, 42,9\u00a0% de la population)."


def test_units_without_epci_are_named():
    ref = grid_reference(2, 1, islands=[("49900", 0, 3, 700)])
    r = check_territory(ref, ["49000", "49001", "49900"]).rule("epci_alignment")
    assert r.status == "pass"
    assert r.details["without_epci"] == [{"code": "49900", "nom": "Commune 49900"}]
    assert (
        r.message
        == "Territoire fait du seul EPCI entier : CC 200000001. Commune sans EPCI : Commune 49900 (49900)."
    )


def test_one_departement_passes(split_grid):
    r = check_territory(split_grid, block(0, 1, 0, 0)).rule("admin_boundaries")
    assert r.status == "pass"
    assert r.message == "Territoire dans un seul département, Département 49 (49), région Région 52."


def test_two_departements_warn(split_grid):
    r = check_territory(split_grid, block(1, 2, 0, 0)).rule("admin_boundaries")
    assert r.status == "warn"
    assert r.details["departements"] == [
        {"code": "72", "nom": "Département 72", "region": "52", "n_communes": 1, "population": 3000},
        {"code": "49", "nom": "Département 49", "region": "52", "n_communes": 1, "population": 2000},
    ]
    assert r.message == (
        "Territoire sur 2 départements de la région Région 52 : Département 72 (72, 3\u00a0000 hab.) "
        "et Département 49 (49, 2\u00a0000 hab.)."
    )


def test_two_regions_warn(split_grid):
    r = check_territory(split_grid, block(2, 3, 0, 1)).rule("admin_boundaries")
    assert r.status == "warn"
    assert r.details["regions"] == [
        {"code": "53", "nom": "Région 53", "n_communes": 2, "population": 8000},
        {"code": "52", "nom": "Région 52", "n_communes": 2, "population": 6000},
    ]
    assert "les ARS de ces régions doivent valider le territoire ensemble" in r.message


# ---------------------------------------------------------------------------------------------
# overlap
# ---------------------------------------------------------------------------------------------
def test_overlap_only_with_a_register(grid):
    assert [r.id for r in check_territory(grid, [code(0, 0)]).rules] == list(RULE_IDS[:-1])
    reg = register([("X", "CPTS X", code(4, 4))])
    assert [r.id for r in check_territory(grid, [code(0, 0)], existing=reg).rules] == list(RULE_IDS)


def test_overlap_fails_naming_the_cpts(grid):
    reg = register(
        [("X", "CPTS X", c) for c in block(0, 1, 0, 0)] + [("Y", "CPTS Y", c) for c in block(3, 4, 3, 4)]
    )
    r = check_territory(grid, block(1, 2, 0, 1), existing=reg).rule("overlap")
    assert r.status == "fail"
    assert r.details == {
        "cpts": [
            {
                "cpts_id": "X",
                "cpts_nom": "CPTS X",
                "n_communes": 1,
                "population": 1000,
                "communes": [{"code": "49001", "nom": "Commune 49001", "population": 1000}],
            }
        ],
        "n_communes": 1,
        "population": 1000,
        "n_cpts_compared": 2,
        "shared": [],
    }
    assert r.message == (
        "1 commune (1\u00a0000 hab.) déjà dans 1 CPTS du registre : CPTS X (X) : 1 commune, 1\u00a0000 hab."
    )


def test_overlap_does_not_compare_a_cpts_with_itself(grid):
    reg = register([("X", "CPTS X", c) for c in block(0, 1, 0, 0)])
    r = check_territory(grid, block(0, 1, 0, 1), existing=reg, cpts_id="X").rule("overlap")
    assert (r.status, r.details["n_cpts_compared"]) == ("pass", 0)
    assert r.message == "Registre sans autre CPTS : aucun chevauchement possible."


def test_no_overlap_passes(grid):
    reg = register([("X", "CPTS X", code(4, 4)), ("Y", "CPTS Y", code(4, 3))])
    r = check_territory(grid, [code(0, 0)], existing=reg).rule("overlap")
    assert (r.status, r.message) == ("pass", "Aucune commune partagée avec les 2 CPTS du registre.")


# ---------------------------------------------------------------------------------------------
# check_register
# ---------------------------------------------------------------------------------------------
def test_check_register_on_a_grid(grid):
    ring = [c for c in block(1, 3, 1, 3) if c != code(2, 2)]
    reg = register(
        [("R", "CPTS Anneau", c) for c in ring]
        + [("S", "CPTS Sud", c) for c in block(0, 4, 0, 0) + [code(1, 1)]]
    )
    rr = check_register(grid, reg, min_population=0)
    assert [(r.cpts_id, r.territory["name"], r.status) for r in rr.reports] == [
        ("R", "CPTS Anneau", "fail"),
        ("S", "CPTS Sud", "fail"),
    ]
    assert rr.reports[0].rule("overlap").details["cpts"][0]["cpts_id"] == "S"
    assert rr.overlaps == [{"code": "49101", "nom": "Commune 49101", "cpts": ["R", "S"], "population": 1000}]
    assert rr.enclaves == [
        {
            "communes": [{"code": "49202", "nom": "Commune 49202"}],
            "n_communes": 1,
            "population": 1000,
            "cpts": ["R"],
        }
    ]
    assert rr.status == "fail"


@pytest.fixture(scope="module")
def varied_grid():
    rng = np.random.default_rng(7)
    return grid_reference(6, 5, rng.integers(100, 5000, size=(5, 6)))


def _overlap_rows_expected(ref, table: pd.DataFrame, cid: str) -> list[dict]:
    """The overlap rows of one CPTS of a register, computed another way (pandas)."""
    units = ref.units
    mine = set(table.loc[table["cpts_id"] == cid, "code_insee"])
    others = table[(table["cpts_id"] != cid) & table["code_insee"].isin(mine)]
    rows = []
    for other, g in others.groupby("cpts_id"):
        codes = sorted(set(g["code_insee"]))
        rows.append(
            {
                "cpts_id": other,
                "cpts_nom": g["cpts_nom"].iloc[0],
                "n_communes": len(codes),
                "population": int(units.loc[codes, "population"].sum()),
                "communes": [
                    {"code": c, "nom": units.at[c, "nom"], "population": int(units.at[c, "population"])}
                    for c in codes
                ],
            }
        )
    return sorted(rows, key=lambda r: (-r["population"], -r["n_communes"], r["cpts_id"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from("ABCDEF"), st.integers(0, 5), st.integers(0, 4)), min_size=1, max_size=40
    )
)
def test_overlap_rows_of_a_register_are_every_other_cpts_sharing_units(varied_grid, picks):
    # The rows are built when read (LazyRows): they must be what an eager computation gives.
    table = register([(cid, f"CPTS {cid}", code(i, j)) for cid, i, j in picks]).drop_duplicates(
        ["cpts_id", "code_insee"]
    )
    rr = check_register(varied_grid, table, min_population=0)
    for report in rr.reports:
        rows = report.rule("overlap").details["cpts"]
        expected = _overlap_rows_expected(varied_grid, table, report.cpts_id)
        assert rows == expected and list(rows) == expected and len(rows) == len(expected)
        assert rows[:2] == expected[:2] and (not expected or rows[-1] == expected[-1])
        assert report.to_dict()["rules"][-1]["details"]["cpts"] == expected


@pytest.fixture(scope="module")
def mosaic():
    rng = np.random.default_rng(11)
    epci = rng.choice(["E1", "E2", "E3", "E4"], size=(5, 6))
    dep = np.array([["49", "49", "72", "72", "35", "35"]] * 5)
    reg = np.array([["52", "52", "52", "52", "53", "53"]] * 5)
    return grid_reference(6, 5, rng.integers(100, 5000, size=(5, 6)), epci=epci, departement=dep, region=reg)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sets(st.tuples(st.integers(0, 5), st.integers(0, 4)), min_size=1, max_size=30))
def test_epci_and_admin_rows_are_those_of_the_units(mosaic, cells):
    # The rows are built when read (LazyRows): they must be what the units table says.
    codes = sorted(code(i, j) for i, j in cells)
    report = check_territory(mosaic, codes, min_population=0)
    units = mosaic.units
    inside = units.loc[codes]
    expected = []
    for e, g in inside.groupby("epci"):
        n_tot, p_tot = int((units["epci"] == e).sum()), int(units.loc[units["epci"] == e, "population"].sum())
        expected.append(
            {
                "code": e,
                "nom": mosaic.epci.at[e, "nom"],
                "n_communes_in": len(g),
                "n_communes": n_tot,
                "population_in": int(g["population"].sum()),
                "population": p_tot,
                "share_communes": round(len(g) / n_tot, 4),
                "share_population": round(int(g["population"].sum()) / p_tot, 4),
                "whole": len(g) == n_tot,
                "communes": sorted(g.index),
            }
        )
    expected.sort(key=lambda r: (-r["population_in"], r["code"]))
    epci = report.rule("epci_alignment").details
    assert epci["epcis"] == expected and epci["n_split"] == sum(not r["whole"] for r in expected)
    admin = report.rule("admin_boundaries").details
    deps = [
        {
            "code": d,
            "nom": f"Département {d}",
            "region": g["region"].iloc[0],
            "n_communes": len(g),
            "population": int(g["population"].sum()),
        }
        for d, g in inside.groupby("departement")
    ]
    assert admin["departements"] == sorted(deps, key=lambda r: (-r["population"], r["code"]))
    regs = [(r, len(g), int(g["population"].sum())) for r, g in inside.groupby("region")]
    assert [(r["code"], r["n_communes"], r["population"]) for r in admin["regions"]] == sorted(
        regs, key=lambda r: (-r[2], r[0])
    )
    parts = report.rule("contiguity").details["components"]
    assert sorted(u["code"] for c in parts for u in c["communes"]) == (codes if len(parts) else [])
    assert [c["population"] for c in parts] == sorted((c["population"] for c in parts), reverse=True)
    assert json.loads(report.to_json()) == report.to_dict()


def test_register_json_in_pieces_is_the_json_of_the_report(grid):
    ring = [c for c in block(1, 3, 1, 3) if c != code(2, 2)]
    reg = register(
        [("R", "CPTS Anneau", c) for c in ring]
        + [("S", "CPTS Sud « 1 »", c) for c in block(0, 4, 0, 0) + [code(1, 1)]]
        + [("T", "CPTS\nTrois", c) for c in block(0, 1, 0, 1)]
    )
    rr = check_register(grid, reg, min_population=0)
    assert rr.overlaps and rr.enclaves
    for indent in (2, None, 0, 4):
        text = "".join(rr.json_chunks(indent=indent))
        assert (
            text == json.dumps(rr.to_dict(), ensure_ascii=False, indent=indent) == rr.to_json(indent=indent)
        )
    assert json.loads(rr.to_json()) == rr.to_dict()
    import pickle

    again = pickle.loads(pickle.dumps(rr))  # rows built when read travel as plain lists
    assert again.to_dict() == rr.to_dict() and again.to_json() == rr.to_json()


def test_register_read_in_batches_is_the_register_read_at_once(grid, monkeypatch):
    import cpts_geo.inputs.register as register_module

    rows = [(f"C{k}", f"CPTS {k}", code(i, j)) for k in range(6) for i, j in ((k % 5, 0), (k % 5, 1))]
    rows += [("N", "CPTS N", "Commune 49404"), ("N", "CPTS N", code(3, 4))]  # a name: own batch
    frame = register(rows)
    whole = register_from_frame(frame, grid)
    monkeypatch.setattr(register_module, "CODES_BATCH", 3)
    batched = register_from_frame(frame, grid)
    pd.testing.assert_frame_equal(whole.table, batched.table)
    assert whole.warnings == batched.warnings


def test_register_codes_unknown_to_the_reference_are_refused_everywhere(grid):
    reg = register([("A", "CPTS A", code(0, 0)), ("A", "CPTS A", "99999"), ("B", "CPTS B", code(4, 4))])
    for call in (
        lambda: check_register(grid, reg),
        lambda: check_territory(grid, [code(0, 0)], existing=reg),
        lambda: coverage_summary(grid, reg),
        lambda: coverage_table(grid, reg),
    ):
        with pytest.raises(InputError, match=r"ligne n°2 du tableau : code commune '99999' inconnu"):
            call()


def test_editing_a_register_table_in_place_changes_nothing_computed(grid):
    """The register is immutable: its table is a copy-on-write view. Editing it in place used to
    leave check_territory on the old overlap (a cache keyed by id(table)) while coverage_table
    saw the new code."""
    reg = as_register(grid, register([("A", "CPTS A", code(0, 0))]))
    assert check_territory(grid, [code(0, 0)], existing=reg).rule("overlap").status == "fail"
    view = reg.table
    view.loc[0, "code_insee"] = code(4, 4)
    assert check_territory(grid, [code(0, 0)], existing=reg).rule("overlap").status == "fail"
    assert coverage_table(grid, reg).loc[code(0, 0), "cpts"] == ["A"]
    assert coverage_table(grid, reg).loc[code(4, 4), "cpts"] == []
    with pytest.raises(AttributeError, match="Register is immutable"):
        reg.table = view
    edited = as_register(grid, view)  # the edit, as a new register: seen by every function
    assert check_territory(grid, [code(0, 0)], existing=edited).rule("overlap").status == "pass"
    assert coverage_table(grid, edited).loc[code(4, 4), "cpts"] == ["A"]


def test_renaming_a_unit_in_the_reference_changes_nothing_computed(grid):
    """The reference is immutable: ``ref.units`` is a copy-on-write view. Renaming a commune in
    it used to show the new name in Territory.units and the old one in the report."""
    t = Territory(grid, [code(0, 0)])
    view = grid.units
    view.loc[code(0, 0), "nom"] = "Nouveau nom"
    report = check_territory(grid, t)
    assert t.units["nom"].tolist() == ["Commune 49000"]
    assert report.units[0]["nom"] == "Commune 49000"
    with pytest.raises(AttributeError, match="Reference is immutable"):
        grid.units = view
    renamed = grid.replace(units=view)  # the edit, as a new reference
    t2 = Territory(renamed, [code(0, 0)])
    assert t2.units["nom"].tolist() == ["Nouveau nom"]
    assert check_territory(renamed, t2).units[0]["nom"] == "Nouveau nom"
    assert grid.units.loc[code(0, 0), "nom"] == "Commune 49000"


def test_check_register_attributes_warnings_to_their_cpts(grid):
    reg = register_from_frame(
        register([("A", "CPTS A", code(0, 0)), ("B", "CPTS B", code(4, 4))]), grid, lines=[2, 3]
    )
    reg = reg.with_warnings(
        [
            {"line": 3, "value": "4944", "message": "code complété"},
            {"line": 9, "value": "x", "message": "doublon ignoré", "cpts_id": "A"},
        ]
    )
    rr = check_register(grid, reg)
    assert rr.reports[0].input_warnings == [{"line": 9, "value": "x", "message": "doublon ignoré"}]
    assert rr.reports[1].input_warnings == [{"line": 3, "value": "4944", "message": "code complété"}]


# ---------------------------------------------------------------------------------------------
# Inputs of check_territory
# ---------------------------------------------------------------------------------------------
def test_empty_territory_is_an_input_error(grid):
    with pytest.raises(InputError, match="le territoire ne contient aucune commune"):
        check_territory(grid, [])


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        (
            "min_population",
            -1,
            "min_population : valeur -1 refusée ; attendu un nombre entier de 0 à 10 000 000",
        ),
        ("min_population", 10**40, "min_population : valeur 1000000000"),
        ("sea_link_km", -5, "sea_link_km : valeur -5 refusée ; attendu un nombre fini de 0 à 200"),
        ("sea_link_km", float("nan"), "sea_link_km : valeur nan refusée"),
        ("sea_link_km", 201, "sea_link_km : valeur 201 refusée"),
    ],
)
def test_invalid_options_are_input_errors(grid, option, value, match):
    with pytest.raises(InputError, match=match):
        check_territory(grid, [code(0, 0)], **{option: value})


def test_territory_and_name_are_accepted(grid):
    t = Territory(grid, [code(0, 0)], name="T")
    assert check_territory(grid, t).territory["name"] == "T"
    assert check_territory(grid, t, name="U").territory["name"] == "U"


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------
def _grow(ref: Reference, seed: int, steps: list[int]) -> list[str]:
    """A contiguous territory grown from unit ``seed`` by adding neighbours chosen by ``steps``."""
    codes = list(ref.units.index)
    territory = [codes[seed % len(codes)]]
    for s in steps:
        frontier = sorted({n for c in territory for n in ref.neighbours(c)} - set(territory))
        if not frontier:
            break
        territory.append(frontier[s % len(frontier)])
    return territory


@pytest.fixture(scope="module")
def big_grid():
    rng = np.random.default_rng(1)
    epci = np.where(np.arange(8)[None, :] < 4, "A", "B").repeat(6, axis=0)
    return grid_reference(
        8,
        6,
        rng.integers(100, 5000, size=(6, 8)),
        epci=epci,
        departement=np.where(np.arange(6)[:, None] < 3, "49", "72").repeat(8, axis=1),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 47), steps=st.lists(st.integers(0, 1000), max_size=20), pick=st.integers(0, 1000))
def test_adding_a_neighbour_never_breaks_contiguity(big_grid, seed, steps, pick):
    territory = _grow(big_grid, seed, steps)
    assert contiguity(Territory(big_grid, territory)).status == "pass"
    frontier = sorted({n for c in territory for n in big_grid.neighbours(c)} - set(territory))
    if frontier:
        assert contiguity(Territory(big_grid, territory + [frontier[pick % len(frontier)]])).status == "pass"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(units=st.sets(st.integers(0, 47), min_size=1, max_size=30), data=st.data())
def test_adding_a_neighbour_never_adds_a_part(big_grid, units, data):
    codes = list(big_grid.units.index)
    territory = [codes[i] for i in sorted(units)]
    before = contiguity(Territory(big_grid, territory)).details["n_components"]
    frontier = sorted({n for c in territory for n in big_grid.neighbours(c)} - set(territory))
    if frontier:
        added = data.draw(st.sampled_from(frontier))
        after = contiguity(Territory(big_grid, territory + [added])).details["n_components"]
        assert max(after, 1) <= max(before, 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(units=st.sets(st.integers(0, 47), min_size=1, max_size=48), data=st.data())
def test_input_order_never_changes_the_report_on_a_grid(big_grid, units, data):
    codes = [list(big_grid.units.index)[i] for i in sorted(units)]
    shuffled = data.draw(st.permutations(codes))
    reg = register([("X", "CPTS X", c) for c in block(2, 5, 2, 3)])
    a = check_territory(big_grid, codes, existing=reg).to_dict()
    b = check_territory(big_grid, list(shuffled), existing=reg).to_dict()
    assert a == b


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(units=st.sets(st.integers(0, 47), min_size=2, max_size=48), cut=st.integers(1, 47))
def test_population_is_conserved_when_a_territory_is_split(big_grid, units, cut):
    codes = [list(big_grid.units.index)[i] for i in sorted(units)]
    cut = 1 + cut % (len(codes) - 1)
    whole = check_territory(big_grid, codes).territory["population"]
    parts = [check_territory(big_grid, part).territory["population"] for part in (codes[:cut], codes[cut:])]
    assert whole == sum(parts)


# ---------------------------------------------------------------------------------------------
# Real cases on the national reference
# ---------------------------------------------------------------------------------------------
BELLE_ILE = ["56009", "56114", "56152", "56241"]  # Bangor, Locmaria, Le Palais, Sauzon
SAUMUR_VAL_DE_LOIRE = "200071876"
REDON_AGGLOMERATION = "243500741"


def epci_members(ref, siren: str) -> list[str]:
    return sorted(ref.units.index[ref.units["epci"] == siren])


@pytest.mark.national
def test_belle_ile_codes(ref):
    assert ref.units.loc[BELLE_ILE, "nom"].tolist() == ["Bangor", "Locmaria", "Le Palais", "Sauzon"]
    assert ref.units.at["56186", "nom"] == "Quiberon"


@pytest.mark.national
def test_lyon_5e_and_6e_are_separated_by_land(ref):
    r = check_territory(ref, ["69385", "69386"]).rule("contiguity")
    assert r.status == "fail"
    assert r.details["components"] == [
        {
            "id": 1,
            "name": "Lyon 6e Arrondissement",
            "n_communes": 1,
            "population": 49_385,
            "island": False,
            "communes": [{"code": "69386", "nom": "Lyon 6e Arrondissement"}],
        },
        {
            "id": 2,
            "name": "Lyon 5e Arrondissement",
            "n_communes": 1,
            "population": 47_777,
            "island": False,
            "communes": [{"code": "69385", "nom": "Lyon 5e Arrondissement"}],
        },
    ]
    assert r.details["land_gaps"] == [[1, 2]]
    assert r.message == (
        "Territoire discontinu en 2 parties : Lyon 6e Arrondissement (1 commune) et "
        "Lyon 5e Arrondissement (1 commune) sont séparées par des communes hors du territoire."
    )


@pytest.mark.national
def test_belle_ile_and_quiberon_are_joined_by_sea(ref):
    r = check_territory(ref, BELLE_ILE + ["56186"]).rule("contiguity")
    assert r.status == "warn"
    assert r.details["sea_links"] == [
        {
            "a": "56152",
            "a_nom": "Le Palais",
            "b": "56186",
            "b_nom": "Quiberon",
            "distance_km": 12.483,
            "parts": [1, 2],
        }
    ]
    assert [(c["name"], c["n_communes"], c["population"], c["island"]) for c in r.details["components"]] == [
        ("Le Palais", 4, 5_607, True),
        ("Quiberon", 1, 4_876, False),
    ]
    assert r.message == (
        "Territoire en 2 parties reliées par la mer (liaisons de 30\u00a0km au plus) : "
        "Le Palais – Quiberon (12,5\u00a0km) ; parties : Le Palais (île, 4 communes) et "
        "Quiberon (1 commune)."
    )
    # Closer than 12.483 km by sea is not enough.
    assert check_territory(ref, BELLE_ILE + ["56186"], sea_link_km=12).rule("contiguity").status == "fail"
    assert check_territory(ref, BELLE_ILE).rule("contiguity").status == "pass"


@pytest.mark.national
def test_ring_around_le_mans_encloses_it(ref):
    ring = ref.neighbours("72181")
    assert len(ring) == 12
    r = check_territory(ref, ring).rule("enclaves")
    assert r.status == "warn"
    assert r.details["groups"] == [
        {
            "communes": [{"code": "72181", "nom": "Le Mans", "population": 146_249}],
            "n_communes": 1,
            "population": 146_249,
        }
    ]
    assert r.message == (
        "Le Mans (72181, 146\u00a0249 hab.) est enclavée par le territoire : "
        "tous ses voisins terrestres en font partie."
    )
    assert check_territory(ref, ring + ["72181"]).rule("enclaves").status == "pass"


@pytest.mark.national
def test_whole_epci_passes_and_half_of_it_warns(ref):
    members = epci_members(ref, SAUMUR_VAL_DE_LOIRE)
    assert len(members) == 45
    whole = check_territory(ref, members).rule("epci_alignment")
    assert whole.status == "pass"
    assert whole.message == "Territoire fait du seul EPCI entier : CA Saumur Val de Loire."
    half = check_territory(ref, members[:22]).rule("epci_alignment")
    assert half.status == "warn"
    [e] = half.details["epcis"]
    expected_pop = int(ref.units.loc[members[:22], "population"].sum())
    assert expected_pop == 41_718
    assert e == {
        "code": SAUMUR_VAL_DE_LOIRE,
        "nom": "CA Saumur Val de Loire",
        "n_communes_in": 22,
        "n_communes": 45,
        "population_in": 41_718,
        "population": 98_005,
        "share_communes": 0.4889,
        "share_population": 0.4257,
        "whole": False,
        "communes": members[:22],
    }
    assert half.message == (
        "1 EPCI coupé sur 1 touché : CA Saumur Val de Loire (22/45 communes, 42,6\u00a0% de la population)."
    )


@pytest.mark.national
def test_island_without_epci_is_named(ref):
    r = check_territory(ref, ["85113"]).rule("epci_alignment")
    assert (r.status, r.details["without_epci"]) == ("pass", [{"code": "85113", "nom": "L'Île-d'Yeu"}])
    assert r.message == (
        "Aucune commune du territoire n'appartient à un EPCI. Commune sans EPCI : L'Île-d'Yeu (85113)."
    )


@pytest.mark.national
def test_redon_spans_two_regions(ref):
    r = check_territory(ref, epci_members(ref, REDON_AGGLOMERATION)).rule("admin_boundaries")
    assert r.status == "warn"
    assert r.details["regions"] == [
        {"code": "53", "nom": "Bretagne", "n_communes": 23, "population": 46_346},
        {"code": "52", "nom": "Pays de la Loire", "n_communes": 8, "population": 21_320},
    ]
    assert r.details["departements"] == [
        {"code": "35", "nom": "Ille-et-Vilaine", "region": "53", "n_communes": 12, "population": 28_206},
        {"code": "44", "nom": "Loire-Atlantique", "region": "52", "n_communes": 8, "population": 21_320},
        {"code": "56", "nom": "Morbihan", "region": "53", "n_communes": 11, "population": 18_140},
    ]
    assert r.message.startswith(
        "Territoire sur 2 régions : Bretagne (53, 46\u00a0346 hab.) et Pays de la Loire "
        "(52, 21\u00a0320 hab.), et 3 départements : Ille-et-Vilaine (35, 28\u00a0206 hab.)"
    )


@pytest.mark.national
def test_overlap_with_a_real_register(ref):
    from cpts_geo.inputs.register import register_from_frame

    saumur = epci_members(ref, SAUMUR_VAL_DE_LOIRE)
    frame = pd.DataFrame(
        {"cpts_id": "CPTS-49-01", "cpts_nom": "CPTS du Saumurois (fictive)", "code_insee": saumur}
    )
    reg = register_from_frame(frame, ref)
    proposal = saumur[:2] + ref.neighbours(saumur[0])
    report = check_territory(ref, proposal, existing=reg)
    r = report.rule("overlap")
    assert r.status == "fail"
    shared = sorted(set(proposal) & set(saumur))
    [c] = r.details["cpts"]
    assert (c["cpts_id"], c["cpts_nom"]) == ("CPTS-49-01", "CPTS du Saumurois (fictive)")
    assert [u["code"] for u in c["communes"]] == shared
    assert c["population"] == int(ref.units.loc[shared, "population"].sum())
    assert r.message.startswith(f"{len(shared)} communes (")
    assert "CPTS du Saumurois (fictive) (CPTS-49-01)" in r.message
    # The same CPTS re-checked under its own id is not compared with itself.
    assert check_territory(ref, saumur, existing=reg, cpts_id="CPTS-49-01").rule("overlap").status == "pass"


@pytest.mark.national
def test_check_territory_resolves_what_users_type(ref):
    report = check_territory(ref, ["Le Palais", "56009", "56009", "56114", "56241"])
    assert report.territory["communes"] == BELLE_ILE
    assert report.input_warnings == [
        {"line": None, "value": "56009", "message": "doublon ignoré : 56009 déjà cité"}
    ]
    lyon = check_territory(ref, ["69123"])
    assert lyon.territory["n_communes"] == 9
    assert lyon.input_warnings[0]["message"] == "Lyon (69123) remplacée par ses 9 arrondissements"
    with pytest.raises(UnknownCommuneError, match="code commune '99999' inconnu du COG 2026"):
        check_territory(ref, ["99999"])


@pytest.mark.national
def test_check_territory_takes_a_proposal(ref):
    from cpts_geo.inputs.read import proposal_from_codes

    proposal = proposal_from_codes(BELLE_ILE + ["56186"], ref, name="Belle-Île et Quiberon")
    report = check_territory(ref, proposal)
    assert report.territory["name"] == "Belle-Île et Quiberon"
    assert report.territory["population"] == 10_483
    assert check_territory(ref, proposal, name="Autre").territory["name"] == "Autre"


@pytest.fixture(scope="module")
def sarthe_and_orne(ref):
    """Units of Sarthe and Orne: a real, irregular graph with several EPCIs and départements."""
    return sorted(ref.units.index[ref.units["departement"].isin(["72", "61"])])


@pytest.mark.national
@settings(max_examples=25, deadline=None)
@given(units=st.sets(st.integers(0, 1000), min_size=1, max_size=60), data=st.data())
def test_input_order_never_changes_the_report(ref, sarthe_and_orne, units, data):
    area = sarthe_and_orne
    codes = sorted({area[i % len(area)] for i in units})
    shuffled = data.draw(st.permutations(codes))
    a = check_territory(ref, codes).to_dict()
    b = check_territory(ref, list(shuffled)).to_dict()
    assert a == b
    json.dumps(a)


@pytest.mark.national
def test_check_register_on_the_national_reference(ref):
    from cpts_geo.inputs.register import register_from_frame

    saumur = epci_members(ref, SAUMUR_VAL_DE_LOIRE)
    ring = ref.neighbours("72181")
    rows = (
        [("A", "CPTS A (fictive)", c) for c in saumur]
        + [("B", "CPTS B (fictive)", c) for c in ring]
        + [("C", "CPTS C (fictive)", c) for c in saumur[:3]]
    )
    reg = register_from_frame(pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee"]), ref)
    rr = check_register(ref, reg)
    assert [(r.cpts_id, r.status) for r in rr.reports] == [("A", "fail"), ("B", "warn"), ("C", "fail")]
    assert [o["code"] for o in rr.overlaps] == saumur[:3]
    assert all(o["cpts"] == ["A", "C"] for o in rr.overlaps)
    assert rr.enclaves == [
        {
            "communes": [{"code": "72181", "nom": "Le Mans"}],
            "n_communes": 1,
            "population": 146_249,
            "cpts": ["B"],
        }
    ]
    d = rr.to_dict()
    assert list(d) == ["status", "cpts", "register"]
    assert d["cpts"][0]["cpts_id"] == "A" and d["cpts"][0]["territory"]["name"] == "CPTS A (fictive)"
    assert [x["id"] for x in d["cpts"][1]["rules"]] == list(RULE_IDS)
    json.dumps(d)


# ---------------------------------------------------------------------------------------------
# Polygon registers: area shared
# ---------------------------------------------------------------------------------------------
def _polygon_register(ref, tmp_path, geom_2154):
    from cpts_geo.inputs.read import read_register

    path = tmp_path / "registre.gpkg"
    gpd.GeoDataFrame(
        {"cpts_id": ["P1"], "cpts_nom": ["CPTS dessinée"]}, geometry=[geom_2154], crs=2154
    ).to_file(path)
    return read_register(path, ref)


def test_polygon_register_cutting_a_commune_warns_with_the_area(ref, tmp_path):
    angers = ref.units.loc[["49007"]].geometry.to_crs(2154).iloc[0]
    avrille = ref.units.loc[["49015"]].geometry.to_crs(2154).iloc[0]
    minx, miny, maxx, maxy = avrille.bounds
    third = shapely.intersection(avrille, shapely.box(minx, miny, minx + (maxx - minx) / 3, maxy))
    register = _polygon_register(ref, tmp_path, shapely.union(angers, third))
    assert register.codes("P1") == ["49007"]  # Avrillé is not in it: less than half its area
    r = check_territory(ref, ["49015", "49214"], existing=register).rule("overlap")
    assert r.status == "warn"
    area = r.details["cpts"][0]["area_km2"]
    assert r.details["cpts"][0]["n_communes"] == 0
    assert area == pytest.approx(shapely.area(third) / 1e6, rel=0.02)
    assert "empiète sur des communes du territoire : CPTS dessinée (P1)" in r.message


def test_polygon_register_sharing_a_commune_fails_with_its_area(ref, tmp_path):
    angers = ref.units.loc[["49007"]].geometry.to_crs(2154).iloc[0]
    register = _polygon_register(ref, tmp_path, shapely.buffer(angers, 10))
    r = check_territory(ref, ["49007", "49015"], existing=register).rule("overlap")
    assert r.status == "fail"
    row = r.details["cpts"][0]
    assert (row["cpts_id"], row["n_communes"]) == ("P1", 1)
    assert row["area_km2"] == pytest.approx(ref.units.at["49007", "area_km2"], rel=0.01)
    # A commune the polygon only brushes along a shared border (< 5 % of it) is not counted.
    assert r.details["area_km2"] == row["area_km2"]
