"""The shipped national reference: contents, resolve(), adjacency."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from scipy.sparse import csgraph

from cpts_geo import _graph
from cpts_geo._errors import AmbiguousNameError, InputError, ReferenceDataError, UnknownCommuneError
from cpts_geo.reference.adjacency import ADJACENCY_TOLERANCE_M, compute_adjacency
from cpts_geo.reference.names import FOLDED_NAMES_FILE, FOLDING_VERSION, folded_names, normalize_name
from cpts_geo.reference.units import default_data_dir, epsg_for_departement, load_reference, read_text_table

pytestmark = pytest.mark.national


def test_counts(ref):
    assert len(ref.communes) == 34_875
    assert len(ref.units) == 34_875 - 3 + 45
    assert (ref.units["type"] == "arrondissement").sum() == 45
    assert len(ref.epci) == 1_255
    assert len(ref.departements) == 101
    assert len(ref.regions) == 18
    assert ref.vintage == {"cog": 2026, "population": 2023}
    assert ref.units.crs.to_epsg() == 4326
    assert ref.units.index.is_unique


def test_no_population_lost(ref):
    national = int(ref.communes["population"].sum())
    assert national == 68_350_798
    assert int(ref.units["population"].sum()) == national
    assert int(ref.departements["population"].sum()) == national
    assert int(ref.regions["population"].sum()) == national


@pytest.mark.parametrize(("city", "n"), [("75056", 20), ("69123", 9), ("13055", 16)])
def test_arrondissements_sum_to_their_city(ref, city, n):
    arm = ref.units[ref.units["commune"] == city]
    assert len(arm) == n
    assert arm["population"].sum() == ref.communes.at[city, "population"]
    assert city not in ref.units.index


def test_paris_population(ref):
    assert ref.communes.at["75056", "population"] == 2_103_778


def test_every_epci_population_is_the_sum_of_its_members(ref):
    sums = ref.communes.groupby("epci")["population"].sum()
    assert (ref.epci["population"] == sums.reindex(ref.epci.index)).all()
    counts = ref.communes.groupby("epci").size()
    assert (ref.epci["n_communes"] == counts.reindex(ref.epci.index)).all()
    # The DGCL figures are one vintage older: kept for comparison only.
    assert (ref.epci["population"] != ref.epci["population_dgcl"]).sum() == 1_246


def test_communes_without_epci_are_the_islands(ref):
    none = sorted(ref.communes.index[ref.communes["epci"] == ""])
    assert none == ["22016", "29083", "29155", "85113"]


def test_geometry_less_communes_are_handled(ref):
    units = ref.units
    assert units.geometry.isna().sum() == 4
    for code in ["15031", "15035", "15047", "15171"]:
        assert units.at[code, "geometry"] is None
        assert units.at[code, "geometry_source"] == "sans contour (inclus dans 15141)"
        assert ref.neighbours(code) == ["15141"]
        assert units.at[code, "population"] > 0
    for code, n in [("12218", 4), ("14581", 7), ("49126", 9), ("69114", 3)]:
        assert units.at[code, "geometry"] is not None
        assert units.at[code, "geometry_source"] == f"union des {n} communes déléguées"


def test_boundaries_form_a_valid_coverage(ref):
    dep = ref.units[(ref.units["departement"] == "49")]
    geoms = dep.geometry.to_crs(2154).to_numpy()
    assert shapely.coverage_is_valid(geoms)
    assert shapely.is_valid(geoms).all()


def test_epsg_by_zone():
    assert epsg_for_departement("49") == 2154
    assert epsg_for_departement("2A") == 2154
    assert epsg_for_departement("971") == 5490
    assert epsg_for_departement("973") == 2972
    assert epsg_for_departement("974") == 2975
    assert epsg_for_departement("976") == 4471


def test_angers_neighbours_are_the_communes_its_boundary_touches(ref):
    expected = ["49015", "49020", "49035", "49055", "49129", "49246", "49267", "49278", "49353"]
    assert ref.neighbours("49007") == expected
    # Independently of the stored adjacency: what Angers' polygon touches (within 5 m).
    dep = ref.units[ref.units["departement"] == "49"].geometry.to_crs(2154)
    angers = dep.loc["49007"]
    touching = sorted(c for c, g in dep.items() if c != "49007" and g.distance(angers) <= 5.0)
    assert touching == expected


def test_tolerance_links_gaps_and_opened_corners(ref):
    shared = ref.adjacency.set_index(["a", "b"])["shared_m"]
    # La Baule-Escoublac and Le Pouliguen: 4.5 m apart across a gap opening onto the sea.
    assert "44135" in ref.neighbours("44055")
    # Monceau-Saint-Waast touches Saint-Hilaire-sur-Helpe at a point, which the generalization
    # opened into two triple points 2.6 m apart; same for Lignol-le-Château and Rennepont
    # (0.65 m, across départements 10 and 52).
    assert "59534" in ref.neighbours("59406")
    assert "52419" in ref.neighbours("10197")
    assert shared[("44055", "44135")] == shared[("59406", "59534")] == 0.0
    # Real neighbours share a boundary: Angers and Les Ponts-de-Cé.
    assert shared[("49007", "49246")] > 1000


def test_adjacency_is_every_pair_within_the_tolerance(ref):
    """Checked by brute force on the Nord (647 communes): a spatial index query in Lambert-93."""
    sub = ref.units[ref.units["departement"] == "59"].geometry.to_crs(2154)
    left, right = sub.sindex.query(sub.to_numpy(), predicate="dwithin", distance=ADJACENCY_TOLERANCE_M)
    codes = sub.index.to_numpy()
    brute = {(a, b) for a, b in zip(codes[left], codes[right]) if a < b}
    adj = ref.adjacency
    stored = set(zip(*adj[adj["a"].isin(sub.index) & adj["b"].isin(sub.index)][["a", "b"]].to_numpy().T))
    assert len(brute) == 1762  # 1,759 before L'Orée de Mormal (59006) got Bermeries back
    assert brute == stored


def test_adjacency_is_symmetric_and_stored_once(ref):
    adj = ref.adjacency
    assert (adj["a"] < adj["b"]).all()
    assert not adj.duplicated(["a", "b"]).any()
    g = ref.graph
    assert (g != g.T).nnz == 0
    assert g.diagonal().sum() == 0


def test_compute_adjacency_reproduces_stored_pairs_on_a_departement(ref):
    sub = ref.units[ref.units["departement"] == "53"]
    pairs = compute_adjacency(sub)
    stored = ref.adjacency[ref.adjacency["a"].isin(sub.index) & ref.adjacency["b"].isin(sub.index)]
    assert list(zip(pairs["a"], pairs["b"])) == list(zip(stored["a"], stored["b"]))
    np.testing.assert_allclose(pairs["shared_m"], stored["shared_m"].to_numpy())


def _units_from_lambert93(polygons: dict) -> gpd.GeoDataFrame:
    """Units given in Lambert-93 metres, as the build ships them: EPSG:4326 on the 1e-7° grid."""
    geoms = gpd.GeoSeries(list(polygons.values()), index=list(polygons), crs=2154).to_crs(4326)
    geoms = shapely.transform(geoms.to_numpy(), lambda xy: np.round(xy, 7))
    return gpd.GeoDataFrame(
        {"epsg": 2154, "geometry_source": "test"}, index=list(polygons), geometry=list(geoms), crs=4326
    )


def _opened_corner(gap_m: float) -> dict:
    """Four squares meeting at a corner that the generalization opened: A (south-west) and B
    (north-east) end at two triple points ``gap_m`` apart, joined by an edge of C and D."""
    x0, y0, d = 650_000.0, 6_860_000.0, gap_m / np.sqrt(2)
    return {
        "A": shapely.box(x0 - 1000, y0 - 1000, x0, y0),
        "B": shapely.box(x0 + d, y0 + d, x0 + 1000, y0 + 1000),
        "C": shapely.Polygon(
            [(x0 - 1000, y0), (x0, y0), (x0 + d, y0 + d), (x0 + d, y0 + 1000), (x0 - 1000, y0 + 1000)]
        ),
        "D": shapely.Polygon(
            [(x0, y0 - 1000), (x0 + 1000, y0 - 1000), (x0 + 1000, y0 + d), (x0 + d, y0 + d), (x0, y0)]
        ),
    }


@pytest.mark.parametrize(("gap_m", "linked"), [(0.5, True), (4.9, True), (5.2, False), (40.0, False)])
def test_opened_corner_is_a_contact_within_the_tolerance(gap_m, linked):
    units = _units_from_lambert93(_opened_corner(gap_m))
    pairs = set(zip(*compute_adjacency(units, shared_lengths=False)[["a", "b"]].to_numpy().T))
    assert pairs - {("A", "B")} == {("A", "C"), ("A", "D"), ("B", "C"), ("B", "D"), ("C", "D")}
    assert (("A", "B") in pairs) is linked


@pytest.mark.parametrize(("gap_m", "linked"), [(3.0, True), (7.0, False)])
def test_gap_onto_the_sea_is_a_contact_within_the_tolerance(gap_m, linked):
    # Two coastal units a few metres apart, nothing in between; a third one west of A.
    x0, y0 = 350_000.0, 6_700_000.0
    units = _units_from_lambert93(
        {
            "A": shapely.box(x0, y0, x0 + 1000, y0 + 1000),
            "B": shapely.box(x0 + 1000 + gap_m, y0, x0 + 2000, y0 + 1000),
            "C": shapely.box(x0 - 1000, y0, x0, y0 + 1000),
        }
    )
    pairs = set(zip(*compute_adjacency(units, shared_lengths=False)[["a", "b"]].to_numpy().T))
    assert pairs == ({("A", "B")} if linked else set()) | {("A", "C")}


def test_compute_adjacency_does_not_depend_on_row_order(ref):
    sub = ref.units[ref.units["departement"].isin(["10", "52", "59"])]  # two opened corners
    pairs = compute_adjacency(sub, shared_lengths=False)
    shuffled = compute_adjacency(sub.sample(frac=1, random_state=0), shared_lengths=False)
    assert ("10197", "52419") in set(zip(pairs["a"], pairs["b"]))
    assert shuffled[["a", "b"]].equals(pairs[["a", "b"]])
    stored = ref.adjacency[ref.adjacency["a"].isin(sub.index) & ref.adjacency["b"].isin(sub.index)]
    assert pairs[["a", "b"]].reset_index(drop=True).equals(stored[["a", "b"]].reset_index(drop=True))


def test_land_masses(ref):
    lc = ref.land_component
    assert lc["49007"] == lc["75101"]  # Angers and Paris: same land mass
    assert lc["56152"] != lc["56186"]  # Le Palais (Belle-Île) and Quiberon
    assert lc["2A004"] != lc["13201"]  # Corsica


def test_graph_and_land_masses_without_scipy_equal_scipy(ref):
    """The land graph and its components, built with numpy, are scipy's (same CSR arrays, same
    labels: components numbered in the order of their first unit)."""
    n = len(ref.units)
    i = ref.position.reindex(ref.adjacency["a"]).to_numpy()
    j = ref.position.reindex(ref.adjacency["b"]).to_numpy()
    import scipy.sparse as sp

    m = sp.coo_matrix((np.ones(2 * len(i), dtype=np.int8), (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    m.sum_duplicates()
    m.sort_indices()
    assert np.array_equal(ref.graph.indptr, m.indptr) and np.array_equal(ref.graph.indices, m.indices)
    k, labels = csgraph.connected_components(m, directed=False)
    assert np.array_equal(ref.land_component.to_numpy(), labels)
    assert ref.land_component.max() + 1 == k == 29
    # A territory's parts: the sub-graph induced by its units.
    positions = ref.position[["56009", "56114", "56152", "56241", "56186", "49007", "49015"]].to_numpy()
    assert _graph.components(ref.arrays, positions)[1].tolist() == [0, 0, 0, 0, 1, 2, 2]


# --- loading without the boundaries ------------------------------------------------------------


def test_units_table_is_read_without_geometry_and_geometry_on_first_use():
    """A loaded reference reads units.parquet without its boundaries; ``units`` decodes them on
    first use: the same GeoDataFrame as geopandas reads."""
    ref = load_reference()
    expected = gpd.read_parquet(ref.path / "units.parquet")
    assert ref._unit_store._frame is None  # nothing decoded yet
    pd.testing.assert_frame_equal(ref.unit_table, pd.DataFrame(expected.drop(columns="geometry")))
    assert ref.resolve(["49007", "Avrillé (49)"]).codes == ["49007", "49015"]
    assert ref.arrays.pop[ref.arrays.pos["49007"]] == 159_022
    assert ref._unit_store._frame is None  # resolving and the arrays read no boundary
    assert_geodataframe_equal(ref.units, expected)
    assert ref.units.crs.to_epsg() == 4326
    # A reference made by replace() without new units shares the decoded units.
    assert ref.replace(metadata={**ref.metadata}).units.geometry.equals(ref.units.geometry)


def test_units_file_replaced_after_loading_is_refused(tmp_path):
    ref = load_reference()
    for f in ref.path.iterdir():
        if f.is_file():
            (tmp_path / f.name).symlink_to(f)
    mine = load_reference(tmp_path)
    (tmp_path / "units.parquet").unlink()
    gpd.read_parquet(ref.path / "units.parquet").iloc[:10].to_parquet(tmp_path / "units.parquet")
    with pytest.raises(ReferenceDataError, match="units.parquet : le fichier a changé depuis le chargement"):
        mine.units  # noqa: B018 (the property decodes the boundaries)


def test_text_tables_read_by_pyarrow_equal_pandas(ref):
    str_cols = ["code", "departement", "region", "epci", "commune", "anciens_codes", "unites"]
    path = ref.path / "communes.csv"
    expected = pd.read_csv(
        path, dtype=dict.fromkeys(str_cols, str), keep_default_na=False, na_values={"population": [""]}
    )
    pd.testing.assert_frame_equal(read_text_table(path, str_cols), expected)
    pd.testing.assert_frame_equal(ref.communes, expected.set_index("code"))


# --- folded names shipped with the reference -------------------------------------------------


def test_shipped_folded_names_are_the_folding_of_the_reference_names(ref):
    """``noms_normalises.csv`` is what folding the reference's names gives today (else bump
    FOLDING_VERSION and rebuild)."""
    shipped = ref.table("folded_names")
    names = [*ref.units["nom"], *ref.former_communes["nom"]]
    expected = folded_names(names, ref.epci["nom"], communes=ref.communes["nom"])
    pd.testing.assert_frame_equal(shipped, expected)
    assert shipped["nom"].iloc[: len(ref.communes)].tolist() == ref.communes["nom"].tolist()
    assert ref.metadata["folded_names"] == {
        "file": FOLDED_NAMES_FILE,
        "folding": FOLDING_VERSION,
        "names": len(shipped),
    }
    assert len(shipped) == 38_388  # 34,875 communes, then 3,513 other distinct names
    row = shipped.set_index("nom").loc["Bors (Canton de Charente-Sud)"]
    assert (row["forme"], row["forme_sans_remarque"]) == ("bors canton de charente sud", "bors")
    assert (
        shipped.set_index("nom").at["CA Bassin d'Arcachon Sud (COBAS)", "cle_epci"]
        == "ca bassin arcachon sud"
    )


def test_folded_names_table():
    table = folded_names(
        ["Rochelle (La)", "Bors (Canton de Charente-Sud)", "Rochelle (La)"], ["CC de l'Île de Ré"]
    )
    assert table.to_dict("records") == [
        {
            "nom": "Bors (Canton de Charente-Sud)",
            "forme": "bors canton de charente sud",
            "forme_sans_remarque": "bors",
            "cle_epci": "",
        },
        {
            "nom": "CC de l'Île de Ré",
            "forme": "cc de l ile de re",
            "forme_sans_remarque": "",
            "cle_epci": "cc ile re",
        },
        {"nom": "Rochelle (La)", "forme": "la rochelle", "forme_sans_remarque": "", "cle_epci": ""},
    ]


# --- resolve -----------------------------------------------------------------------------


def test_resolve_zero_pads_numeric_codes(ref):
    res = ref.resolve(["1001", "01004"])
    assert res.codes == ["01001", "01004"]
    assert res.warnings[0]["message"] == "code complété par un zéro initial : 1001 → 01001"


def test_resolve_corsica_lower_case(ref):
    assert ref.resolve(["2a004", "2B033"]).codes == ["2A004", "2B033"]


def test_resolve_excel_float(ref):
    assert ref.resolve(["49007.0", 49015]).codes == ["49007", "49015"]


def test_resolve_old_code_maps_to_current_commune_with_warning(ref):
    res = ref.resolve(["01340"], lines=[4])
    assert res.codes == ["01015"]
    assert res.warnings == [
        {
            "index": 0,
            "line": 4,
            "value": "01340",
            "message": "ancien code 01340 : commune fusionnée dans Arboys en Bugey (01015) au COG 2026 ; "
            "toute la commune est retenue, pas seulement l'ancienne commune Saint-Bois : +710\u00a0hab., "
            "100\u00a0% de la population du territoire",
            "retained": "Arboys en Bugey (01015)",
            "population": 710,
            "part": "ancienne commune",
        }
    ]


def test_resolve_expands_plm_cities(ref):
    assert ref.resolve(["75056"]).codes == [f"751{i:02d}" for i in range(1, 21)]
    assert ref.resolve(["69123"]).codes == [f"6938{i}" for i in range(1, 10)]
    assert len(ref.resolve(["13055"]).codes) == 16
    assert ref.resolve(["Lyon"]).codes == [f"6938{i}" for i in range(1, 10)]
    assert ref.resolve(["75105"]).codes == ["75105"]


def test_resolve_names_are_accent_case_and_hyphen_insensitive(ref):
    assert ref.resolve(["SAINT ETIENNE"]).codes == ["42218"]
    assert ref.resolve(["st-etienne"]).codes == ["42218"]
    assert ref.resolve(["angers", "Les Ponts de Cé"]).codes == ["49007", "49246"]
    assert ref.resolve(["L'ÎLE-D'YEU"]).codes == ["85113"]


def test_resolve_names_with_departement(ref):
    assert ref.resolve(["Saint-Denis"], departement="974").codes == ["97411"]
    assert ref.resolve(["Saint-Denis", "Angers"], departement=["93", "49"]).codes == ["93066", "49007"]
    assert ref.resolve(["Saint-Denis"], departement="11").codes == ["11339"]
    assert ref.resolve(["Saint-Denis"], departement="La Réunion").codes == ["97411"]
    assert ref.resolve(["Sainte-Lucie-de-Tallano"], departement="2a").codes == ["2A308"]
    with pytest.raises(UnknownCommuneError, match=r"commune 'Saint-Denis' \(département 01\) introuvable"):
        ref.resolve(["Saint-Denis"], departement="1")


def test_resolve_ambiguous_name_lists_candidates(ref):
    with pytest.raises(AmbiguousNameError, match=r"ligne 3 : nom 'Saint-Denis' ambigu : \d+ communes") as e:
        ref.resolve(["Saint-Denis"], lines=[3])
    assert "93066 (93)" in str(e.value)
    assert "97411" in e.value.problems[0]["candidates"]


def test_resolve_reports_every_bad_value_at_once(ref):
    with pytest.raises(UnknownCommuneError) as e:
        ref.resolve(["49007", "49999", "", "Nullepart-sur-Mer"], lines=[2, 3, 4, 5], source="p.csv")
    msg = str(e.value)
    assert "p.csv : ligne 3 : code commune '49999' inconnu du COG 2026 ; vérifiez le code" in msg
    assert "p.csv : ligne 4 : valeur vide" in msg
    assert "p.csv : ligne 5 : commune 'Nullepart-sur-Mer' introuvable au COG 2026" in msg
    assert [p["line"] for p in e.value.problems] == [3, 4, 5]
    assert isinstance(e.value, InputError) and isinstance(e.value, ValueError)


def test_resolve_duplicates_are_dropped_with_warning(ref):
    res = ref.resolve(["49007", "49007", "Angers"])
    assert res.codes == ["49007"]
    assert [w["message"] for w in res.warnings] == [
        "doublon ignoré : 49007 déjà cité",
        "doublon ignoré : 49007 déjà cité",
    ]


def test_normalize_name():
    assert normalize_name("Saint-Étienne-du-Rouvray") == "saint etienne du rouvray"
    assert normalize_name("  ST ÉTIENNE ") == "saint etienne"
    assert normalize_name("Œuilly") == "oeuilly"


def test_shipped_reference_reads_its_fast_copies_and_graphs(tmp_path):
    """The shipped ``data/`` has fresh fast copies and graphs (a build that forgot them, or a
    table edited after the build, would make every check rebuild them): the tables and arrays
    read equal those read from the files themselves."""
    from cpts_geo.reference.units import FAST_TABLES, GRAPH_FILE, _read_fast

    ref = load_reference()
    folder = default_data_dir()
    for source in FAST_TABLES:
        assert _read_fast(folder, source) is not None, source
    # The same folder without the copies and graphs (links to the other files).
    for f in folder.iterdir():
        if f.is_file() and f.name not in (GRAPH_FILE, *FAST_TABLES.values()):
            (tmp_path / f.name).symlink_to(f)
    slow = load_reference(tmp_path)
    pd.testing.assert_frame_equal(ref.unit_table, slow.unit_table)
    pd.testing.assert_frame_equal(ref.communes, slow.communes)
    pd.testing.assert_frame_equal(ref.former_communes, slow.former_communes)
    pd.testing.assert_frame_equal(ref.table("folded_names"), slow.table("folded_names"))
    stored = ref._stored_graph
    assert stored is not None
    rebuilt = ref.replace(adjacency=ref.adjacency)  # same tables, graphs built from them
    assert rebuilt._stored_graph is None
    np.testing.assert_array_equal(stored["land_indptr"], rebuilt._csr[0])
    np.testing.assert_array_equal(stored["land_indices"], rebuilt._csr[1])
    np.testing.assert_array_equal(stored["land"], rebuilt.land_component.to_numpy())
    for key, built in zip(("water_indptr", "water_indices", "water_km"), rebuilt._water_csr):
        np.testing.assert_array_equal(stored[key], built)
