"""Coverage of a register: per unit, by département, région and nation (the command: test_coverage_cli)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpts_geo._errors import InputError
from cpts_geo.inputs.register import register_from_frame
from cpts_geo.reference.areas import resolve_scope
from cpts_geo.steering.coverage import coverage_summary, coverage_table, cpts_table

# Five CPTS: A and B share Trélazé (an overlap); C spans Bretagne (35) and Pays de la Loire (44);
# D is two arrondissements of Paris; E (no stage given) is in Martinique.
ROWS = [
    ("A", "CPTS Angers", "49007", "aci"),
    ("A", "CPTS Angers", "49353", "aci"),
    ("B", "CPTS Loire-Authion", "49353", "projet-sante"),
    ("B", "CPTS Loire-Authion", "49015", "projet-sante"),
    ("C", "CPTS du Pays de Redon", "35236", "lettre-intention"),
    ("C", "CPTS du Pays de Redon", "44185", "lettre-intention"),
    ("D", "CPTS Paris Centre", "75101", "pre-projet"),
    ("D", "CPTS Paris Centre", "75102", "pre-projet"),
    ("E", "CPTS Fort-de-France", "97209", ""),
]
POP = {
    "49007": 159022,
    "49353": 16333,
    "49015": 15251,
    "35236": 9542,
    "44185": 3311,
    "75101": 15114,
    "75102": 19847,
    "97209": 75506,
}
NATIONAL_POP = 68350798


def frame(rows=ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee", "statut"])


@pytest.fixture(scope="module")
def register(ref):
    return register_from_frame(frame(), ref, source="registre-test.csv")


@pytest.fixture(scope="module")
def cov(ref, register):
    return coverage_summary(ref, register)


def test_fixture_populations(ref):
    assert ref.units.loc[list(POP), "population"].to_dict() == POP
    assert int(ref.units["population"].sum()) == NATIONAL_POP


def test_unit_table(ref, register):
    t = coverage_table(ref, register)
    assert len(t) == len(ref.units) == 34917
    assert t.at["49353", "cpts"] == ["A", "B"]
    assert t.at["49353", "etat"] == "chevauchement"
    assert t.at["49007", "cpts"] == ["A"] and t.at["49007", "etat"] == "couverte"
    assert t.at["49002", "n_cpts"] == 0 and t.at["49002", "etat"] == "zone blanche"
    assert (t["n_cpts"] > 0).sum() == 8
    assert (t["n_cpts"] >= 2).sum() == 1


def test_national_figures(cov):
    n = cov.national
    covered = sum(POP.values())
    assert covered == 313926
    assert n["code"] == "FR"
    assert n["cpts"] == 5  # C counts once although it spans two régions
    assert n["by_stage"] == {
        "pre-projet": 1,
        "lettre-intention": 1,
        "projet-sante": 1,
        "aci": 1,
        "non-renseigne": 1,
    }
    assert n["population"] == NATIONAL_POP
    assert n["population_covered"] == covered  # Trélazé counted once though in A and B
    assert n["white_zone_population"] == NATIONAL_POP - covered
    assert n["white_zone_communes"] == 34917 - 8
    assert n["overlap_communes"] == 1
    assert n["overlap_population"] == 16333
    assert n["share_covered"] == round(covered / NATIONAL_POP, 4)
    assert n["goal"] == 1000
    assert n["progress"] == 0.005


def test_regions_count_a_spanning_cpts_in_each(cov):
    regs = {r["code"]: r for r in cov.regions}
    assert len(regs) == 18
    assert regs["52"]["cpts"] == 3  # A, B and C
    assert regs["53"]["cpts"] == 1  # C again
    assert regs["52"]["cpts_shared"] == 1 and regs["53"]["cpts_shared"] == 1
    assert regs["11"]["cpts"] == 1 and regs["02"]["cpts"] == 1
    assert sum(r["cpts"] for r in cov.regions) == 6 > cov.national["cpts"]
    assert regs["52"]["population_covered"] == 159022 + 16333 + 15251 + 3311
    assert regs["52"]["population"] == 3907156
    assert regs["52"]["goal"] == 57.2  # 1000 x 3,907,156 / 68,350,798
    assert regs["52"]["by_stage"]["lettre-intention"] == 1
    assert regs["02"]["by_stage"]["non-renseigne"] == 1
    assert regs["24"]["cpts"] == 0 and regs["24"]["share_covered"] == 0.0
    assert any("comptée une fois au niveau national" in n for n in cov.notes)


def test_departements(cov):
    deps = {d["code"]: d for d in cov.departements}
    assert len(deps) == 101
    assert deps["49"]["cpts"] == 2 and deps["49"]["overlap_communes"] == 1
    assert deps["49"]["population_covered"] == 159022 + 16333 + 15251
    assert deps["44"]["cpts"] == 1 and deps["44"]["cpts_shared"] == 1
    assert deps["49"]["cpts_shared"] == 0
    assert deps["75"]["white_zone_communes"] == 20 - 2  # arrondissements are the units
    assert deps["44"]["region"] == "52"
    assert round(sum(d["goal"] for d in cov.departements)) == 1000


def test_scope_filters(ref, register):
    cov = coverage_summary(ref, register, region="52")
    assert [r["code"] for r in cov.regions] == ["52"]
    assert [d["code"] for d in cov.departements] == ["44", "49", "53", "72", "85"]
    assert cov.national["cpts"] == 5  # the nation stays, for context
    assert cov.area["code"] == "52"
    dep = coverage_summary(ref, register, departement="49")
    assert [d["code"] for d in dep.departements] == ["49"] and dep.area["cpts"] == 2
    assert resolve_scope(ref, region="Bretagne")["code"] == "53"
    assert resolve_scope(ref, departement="2a")["code"] == "2A"
    assert resolve_scope(ref, departement="1")["code"] == "01"


def test_unknown_scope(ref, register):
    with pytest.raises(
        InputError, match=r"région '99' inconnu\(e\) du COG 2026 ; codes valides : 01 \(Guadeloupe\)"
    ):
        coverage_summary(ref, register, region="99")
    with pytest.raises(
        InputError, match=r"département 'Maine et Loir' .* vouliez-vous dire 49 \(Maine-et-Loire\)"
    ):
        coverage_summary(ref, register, departement="Maine et Loir")
    with pytest.raises(
        InputError, match=r"département '20' .* la Corse a deux départements : 2A \(Corse-du-Sud\) et 2B"
    ):
        coverage_summary(ref, register, departement="20")
    with pytest.raises(InputError, match=r"département '999' .* codes valides : 01, 02, .*, 976 \(ou le nom"):
        coverage_summary(ref, register, departement="999")
    with pytest.raises(InputError, match="choisissez soit une région, soit un département"):
        coverage_summary(ref, register, region="52", departement="49")
    with pytest.raises(InputError, match="goal : valeur 0 refusée ; attendu un nombre fini de 1 à 100 000"):
        coverage_summary(ref, register, goal=0)
    with pytest.raises(InputError, match="goal : valeur inf refusée"):
        coverage_summary(ref, register, goal=float("inf"))


def test_empty_register_is_all_white(ref):
    empty = register_from_frame(frame([]), ref)
    cov = coverage_summary(ref, empty)
    n = cov.national
    assert n["cpts"] == 0 and n["population_covered"] == 0
    assert n["white_zone_population"] == NATIONAL_POP and n["white_zone_communes"] == 34917
    assert len(cpts_table(ref, empty)) == 0


def test_cpts_table(ref, register):
    t = cpts_table(ref, register)
    assert list(t.index) == ["A", "B", "C", "D", "E"]
    assert t.at["A", "population"] == 159022 + 16333
    assert t.at["A", "aci_size_class"] == 4
    assert t.at["C", "regions"] == ["52", "53"] and t.at["C", "departements"] == ["35", "44"]
    assert t.at["D", "n_units"] == 2 and t.at["D", "n_communes"] == 1  # one city, two arrondissements
    assert t.at["E", "statut"] == ""


def test_text_output(ref, register):
    text = coverage_summary(ref, register, region="52").to_text()
    assert "Couverture CPTS — région Pays de la Loire (52) (registre : registre-test.csv)" in text
    assert "CPTS : 3 pour un objectif de 57,2 (5,2\u00a0%)" in text
    assert "Population couverte : 193\u00a0917 sur 3\u00a0907\u00a0156 habitants (5,0\u00a0%)" in text
    assert (
        "Chevauchements : 1 commune dans plusieurs CPTS (16\u00a0333 habitants, comptés une seule fois)"
        in text
    )
    assert "49   Maine-et-Loire" in text
    assert "  dont 1 à cheval sur une autre région" in text  # the CPTS of Redon
    row = next(line for line in text.splitlines() if line.startswith("44 "))
    assert row.split()[-1] == "1" and "(À cheval : CPTS qui touchent aussi un autre département" in text
    national = coverage_summary(ref, register).to_text()
    assert "à cheval" not in national.split("\n\n")[0] and "53   Bretagne" in national


def test_csv_output(ref, register):
    df = pd.read_csv(
        pd.io.common.StringIO(coverage_summary(ref, register).to_csv(by="region")), dtype={"code": str}
    )
    assert list(df["niveau"][:2]) == ["national", "region"]
    assert len(df) == 19
    row = df[df["code"] == "52"].iloc[0]
    assert row["cpts"] == 3 and row["cpts_lettre-intention"] == 1 and row["population_covered"] == 193917


def test_goal_shares(ref, register):
    """A région's or département's goal is its population share of the national goal."""
    cov = coverage_summary(ref, register, goal=800)
    assert cov.national["goal"] == 800 and cov.national["progress"] == round(5 / 800, 4)
    pop = ref.units.groupby("region")["population"].sum()
    for r in cov.regions:
        assert r["goal"] == round(800 * pop[r["code"]] / NATIONAL_POP, 1)
        assert r["progress"] == (round(r["cpts"] / r["goal"], 4) if r["goal"] else 0.0)
    assert sum(r["goal"] for r in cov.regions) == pytest.approx(800, abs=0.5)
    regs = {r["code"]: r for r in cov.regions}
    assert regs["52"]["goal"] == 45.7  # 800 x 3,907,156 / 68,350,798
    assert coverage_summary(ref, register, goal=1500.5).national["goal"] == 1500.5


def test_unknown_code_in_register_table(ref, register):
    """A register whose table names a unit the reference does not have (another vintage)."""
    from cpts_geo.inputs.read import as_register

    table = register.table.copy()
    table.loc[len(table)] = ["Z", "CPTS Z", "49999", "aci", "", None, False]
    with pytest.raises(
        InputError, match="registre-test.csv : ligne n°.* : code commune '49999' inconnu du COG 2026"
    ):
        coverage_summary(ref, as_register(ref, table.drop(columns="line"), source="registre-test.csv"))


# ---- invariants ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def codes_3_departements(ref):
    return list(ref.units.index[ref.units["departement"].isin(["49", "53", "35"])])


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_invariants(ref, codes_3_departements, data):
    """Whatever the register: population covered = sum over the distinct covered units; white +
    covered = total; overlaps = units in two CPTS or more; régions and départements add up to
    the nation (each unit is in exactly one); a CPTS is counted once in each area it touches;
    the order of the rows changes nothing."""
    codes = codes_3_departements
    n = data.draw(st.integers(0, 60), label="rows")
    picks = data.draw(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(codes)), min_size=n, max_size=n))
    df = pd.DataFrame(
        [(f"C{k}", f"CPTS {k}", code, ["aci", "pre-projet", ""][k % 3]) for k, code in picks],
        columns=["cpts_id", "cpts_nom", "code_insee", "statut"],
    )
    cov = coverage_summary(ref, register_from_frame(df, ref))
    pairs = df.drop_duplicates(["cpts_id", "code_insee"])
    owners = pairs.groupby("code_insee")["cpts_id"].nunique()
    pop = ref.units["population"]
    n_ = cov.national
    assert n_["population_covered"] == int(pop[owners.index].sum())
    assert n_["population_covered"] + n_["white_zone_population"] == NATIONAL_POP
    assert n_["white_zone_communes"] == len(ref.units) - len(owners)
    assert n_["overlap_communes"] == int((owners >= 2).sum())
    assert n_["overlap_population"] == int(pop[owners.index[owners >= 2]].sum())
    assert n_["cpts"] == df["cpts_id"].nunique() == sum(n_["by_stage"].values())
    for key in ("population_covered", "white_zone_population", "white_zone_communes", "overlap_communes"):
        assert sum(r[key] for r in cov.regions) == n_[key] == sum(d[key] for d in cov.departements)
    regions_of = (
        pairs.assign(r=ref.units.loc[pairs["code_insee"], "region"].to_numpy())
        .groupby("r")["cpts_id"]
        .nunique()
    )
    assert {r["code"]: r["cpts"] for r in cov.regions if r["cpts"]} == regions_of.to_dict()
    assert sum(r["cpts"] for r in cov.regions) >= n_["cpts"]
    shuffled = df.sample(frac=1, random_state=data.draw(st.integers(0, 2**16), label="seed"))
    again = coverage_summary(ref, register_from_frame(shuffled, ref))
    assert again.to_dict()["national"] == cov.to_dict()["national"]
    assert again.regions == cov.regions and again.departements == cov.departements
    assert np.isfinite([r["share_covered"] for r in cov.departements]).all()
