"""Zone layers (issue 24): the figures of a check and of a coverage against an independent
computation on the fictitious layers of data/examples/ (one of each shape)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import cpts_geo as cg
from cpts_geo.checks.rules import check_register, check_territory
from cpts_geo.inputs.zones import TOUCH_TOLERANCE, read_zones, zone_layer_from_codes
from cpts_geo.steering.coverage import coverage_summary

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
ZONAGE = EXAMPLES / "zonage_medecins_fictif.csv"
ROUGES = EXAMPLES / "zones_rouges_fictives.csv"
QPV = EXAMPLES / "qpv_fictifs.geojson"
REGISTER = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"
CARTOSANTE = {"1_ZIP": "ZIP", "2_ZAC": "ZAC", "4_HZ": "Hors zonage"}


# ---- independent readings of the three files: pandas and geopandas, no cpts_geo reader --------
def expected_zonage() -> dict[str, set[str]]:
    raw = pd.read_csv(ZONAGE, sep=";", skiprows=1, dtype=str)
    cats = raw["Zonage médecins"].map(CARTOSANTE)
    return {c: set(raw.loc[cats == c, "Code commune"]) for c in ["ZIP", "ZAC", "Hors zonage"]}


def expected_rouges(ref) -> set[str]:
    raw = pd.read_csv(ROUGES, sep=";", skiprows=1, dtype=str).fillna("")
    sirens = set(raw.loc[raw["SIREN"] != "", "SIREN"])
    by_name = ref.epci.index[ref.epci["nom"].isin(raw.loc[raw["SIREN"] == "", "Nom de l'EPCI"])]
    sirens |= set(by_name)
    assert len(sirens) == 8
    return set(ref.units.index[ref.units["epci"].isin(sirens)])


def expected_qpv(ref) -> pd.DataFrame:
    """(polygon, unit, share of the unit's area inside) with geopandas' overlay in Lambert-93."""
    polys = gpd.read_file(QPV).to_crs(2154)
    polys["poly"] = np.arange(len(polys))
    units = ref.units[ref.units["region"] == "52"].to_crs(2154)
    units = units.assign(unit_area=units.area, code=units.index)[["code", "unit_area", "geometry"]]
    inter = gpd.overlay(units, polys[["poly", "geometry"]], how="intersection", keep_geom_type=True)
    inter["share"] = inter.area / inter["unit_area"]
    inter["zone_share"] = inter.area / polys.area.to_numpy()[inter["poly"]]
    keep = (inter["share"] > TOUCH_TOLERANCE) | (inter["zone_share"] > TOUCH_TOLERANCE)
    return inter.loc[keep, ["poly", "code", "share", "zone_share"]].sort_values(["poly", "code"])


@pytest.fixture(scope="module")
def layers(ref):
    return [
        read_zones(ZONAGE, ref, name="Zonage médecins"),
        read_zones(ROUGES, ref, name="Zones rouges"),
        read_zones(QPV, ref, name="QPV"),
    ]


def test_the_three_shapes_read_as_the_files_say(ref, layers):
    zonage, rouges, qpv = layers
    assert (zonage.kind, rouges.kind, qpv.kind) == ("communes", "epci", "polygones")
    assert zonage.categories == ["ZIP", "ZAC", "Hors zonage"]
    for cat, codes in expected_zonage().items():
        assert set(zonage.codes(cat)) == codes
    assert "titre" in zonage.warnings[0]["message"]
    assert rouges.categories == ["Zones rouges"] and set(rouges.codes("Zones rouges")) == expected_rouges(ref)
    exp = expected_qpv(ref)
    got = qpv.members.sort_values(["line", "code"])
    assert got["code"].tolist() == exp["code"].tolist()
    assert (got["line"] - 1).tolist() == exp["poly"].tolist()
    np.testing.assert_allclose(got["share"], exp["share"], atol=2e-4)
    np.testing.assert_allclose(got["zone_share"], exp["zone_share"], atol=2e-4)
    # The hexagon on the boundary of Angers and Trélazé touches three communes.
    assert sorted(got.loc[got["polygon"].str.contains("Roseraie"), "code"]) == ["49007", "49246", "49353"]


def test_check_register_zones_equal_an_independent_computation(ref, layers):
    rr = check_register(ref, REGISTER, zones=layers)
    zonage = expected_zonage()
    rouges = expected_rouges(ref)
    qpv = expected_qpv(ref)
    pop = ref.units["population"]
    raw = pd.read_csv(REGISTER, dtype=str)
    checked = 0
    for rep in rr.reports:
        codes = set(raw.loc[raw["cpts_id"] == rep.cpts_id, "code_insee"])
        expected = {}
        for cat, zone in zonage.items():
            if codes & zone:
                expected[("Zonage médecins", cat)] = codes & zone
        if codes & rouges:
            expected[("Zones rouges", "Zones rouges")] = codes & rouges
        touched = codes & set(qpv["code"])
        if touched:
            expected[("QPV", "QPV")] = touched
        got = {(z["layer"], z["category"]): z for z in rep.zones}
        assert set(got) == set(expected), rep.cpts_id
        for key, units in expected.items():
            assert {u["code"] for u in got[key]["units"]} == units
            assert got[key]["population"] == int(pop[list(units)].sum())
            checked += 1
        for z in rep.zones:
            if z["kind"] == "polygones":
                for u in z["units"]:
                    share = qpv.loc[qpv["code"] == u["code"], "share"].sum()
                    assert u["share"] == pytest.approx(min(share, 1.0), abs=5e-4)
    assert checked > 60
    # The JSON contract: a top-level ``zones`` list in each CPTS's object.
    d = rr.reports[0].to_dict()
    assert set(d["zones"][0]) >= {"layer", "category", "units", "population"}


def test_check_json_and_text(ref, layers):
    rep = check_territory(ref, ["49007", "49353", "49246", "44109"], zones=layers)
    d = rep.to_dict()
    zones = {(z["layer"], z["category"]): z for z in d["zones"]}
    qpv = zones[("QPV", "QPV")]
    assert [u["code"] for u in qpv["units"]] == ["44109", "49007", "49246", "49353"]
    assert all(0 < u["share"] < 0.1 and u["polygones"] for u in qpv["units"])
    text = rep.to_text()
    assert "Zones" in text and "QPV (polygones) : 4 communes touchées" in text
    assert "de sa surface" in text
    # Without layers, no key: the JSON of a check is unchanged.
    assert "zones" not in check_territory(ref, ["49007"]).to_dict()


def test_coverage_zones_equal_an_independent_computation(ref, layers):
    cov = coverage_summary(ref, REGISTER, region="52", zones=layers)
    raw = pd.read_csv(REGISTER, dtype=str)
    covered = set(raw["code_insee"])
    aci = set(raw.loc[raw["statut"] == "aci", "code_insee"])
    projet = set(raw.loc[raw["statut"].isin(["aci", "projet-sante"]), "code_insee"])
    zones = {("Zonage médecins", c): z for c, z in expected_zonage().items()}
    zones[("Zones rouges", "Zones rouges")] = expected_rouges(ref)
    zones[("QPV", "QPV")] = set(expected_qpv(ref)["code"])
    units = ref.units
    entries = [(cov.national, units.index)] + [
        (d, units.index[units["departement"] == d["code"]]) for d in cov.departements
    ]
    entries.append((cov.regions[0], units.index[units["region"] == "52"]))
    for entry, area in entries:
        got = {(z["layer"], z["category"]): z for z in entry["zones"]}
        assert set(got) == set(zones)
        for key, zone in zones.items():
            inside = zone & set(area)
            pop = lambda s: int(units.loc[list(s), "population"].sum())  # noqa: E731
            z = got[key]
            assert z["population"] == pop(inside), (entry["code"], key)
            assert z["population_covered"] == pop(inside & covered)
            assert z["population_covered_by_stage"]["aci"] == pop(inside & aci)
            assert z["population_covered_by_stage"]["projet-sante"] == pop(inside & projet)
            assert list(z["population_covered_by_stage"]) == [
                "aci",
                "projet-sante",
                "lettre-intention",
                "pre-projet",
            ]
    # Text, CSV and JSON carry them; the notes say what a polygon counts.
    assert "Zonage médecins — ZIP :" in cov.to_text()
    assert "zones:Zones rouges:Zones rouges:population_covered_aci" in cov.to_csv().splitlines()[0]
    assert cov.to_dict()["departements"][0]["zones"]
    assert any("polygones" in n for n in cov.notes)


def test_each_inhabitant_once_with_min_stage(ref):
    # Angers in two CPTS: counted once; min_stage keeps only the ACI one.
    reg = pd.DataFrame(
        {
            "cpts_id": ["A", "B", "B"],
            "cpts_nom": ["A", "B", "B"],
            "code_insee": ["49007", "49007", "49015"],
            "statut": ["aci", "pre-projet", "pre-projet"],
        }
    )
    z = zone_layer_from_codes({"ZIP": ["49007", "49015", "49020"]}, ref, name="Zonage")
    pop = ref.units["population"]
    e = coverage_summary(ref, reg, departement="49", zones=[z]).departements[0]["zones"][0]
    assert e["population"] == pop[["49007", "49015", "49020"]].sum()
    assert e["population_covered"] == pop[["49007", "49015"]].sum()
    assert e["population_covered_by_stage"]["aci"] == pop["49007"]
    e = coverage_summary(ref, reg, departement="49", zones=[z], min_stage="aci").departements[0]["zones"][0]
    assert e["population_covered"] == pop["49007"]


def test_plm_and_old_codes_and_names(ref):
    z = zone_layer_from_codes({"1_ZIP": ["13055", "49166", "Avrillé"]}, ref, name="Z")
    assert z.categories == ["ZIP"]
    codes = z.codes("ZIP")
    assert codes[:16] == [f"132{n:02d}" for n in range(1, 17)]
    assert codes[16:] == ["49214", "49015"]
    assert any("ancien code 49166" in w["message"] for w in z.warnings)


def test_api_faces(ref):
    assert cg.read_zones is read_zones and cg.ZoneLayer is type(read_zones(ROUGES, ref))
