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
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cpts_geo import ReferenceDataError, load_reference

ROOT = Path(__file__).resolve().parents[1]
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
        {"code": c, "nom": units.at[c, "nom"], "type": "commune-actuelle", "zone": "metro",
         "departement": "53", "region": "52", "population": 1}
        for c in CODES
    ]
    communes[0]["anciensCodes"] = ["53999"]
    communes.append({"code": "69123", "nom": "Lyon", "type": "commune-actuelle", "zone": "metro",
                     "departement": "69", "region": "84", "population": lyon_pop})
    communes += [
        {"code": c, "nom": units.at[c, "nom"], "type": "arrondissement-municipal", "zone": "metro",
         "departement": "69", "region": "84", "commune": "69123", "population": int(units.at[c, "population"])}
        for c in LYON
    ]
    (dec / "communes.json").write_text(json.dumps(communes), encoding="utf-8")
    epci = [{"code": "200000001", "nom": "CC d'essai", "type": "CC", "modeFinancement": "FPU",
             "populationMunicipale": 3, "membres": [{"code": c, "populationMunicipale": 1} for c in CODES[:3]]},
            {"code": "200000002", "nom": "CC bis", "type": "CC", "modeFinancement": "FPU",
             "populationMunicipale": 2, "membres": [{"code": c, "populationMunicipale": 1} for c in CODES[3:]]},
            {"code": "200046977", "nom": "Métropole de Lyon", "type": "METRO", "modeFinancement": "FPU",
             "populationMunicipale": 1, "membres": [{"code": "69123", "populationMunicipale": 1}]}]
    (dec / "epci.json").write_text(json.dumps(epci), encoding="utf-8")
    (dec / "departements.json").write_text(json.dumps(
        [{"code": "53", "region": "52", "nom": "Mayenne", "zone": "metro"},
         {"code": "69", "region": "84", "nom": "Rhône", "zone": "metro"}]), encoding="utf-8")
    (dec / "regions.json").write_text(json.dumps(
        [{"code": "52", "nom": "Pays de la Loire", "zone": "metro"},
         {"code": "84", "nom": "Auvergne-Rhône-Alpes", "zone": "metro"}]), encoding="utf-8")

    l93 = units.geometry.to_crs(2154)
    city = shapely.union_all(l93.loc[LYON].to_numpy())
    com_codes = CODES + ["69123"]
    com_geoms = list(l93.loc[CODES]) + [city]
    # ADMIN EXPRESS COG 4.0 (GeoPackage): lower-case attributes, code_insee.
    gpd.GeoDataFrame({"cleabs": [f"COMMUNE_{i}" for i in range(len(com_codes))], "code_insee": com_codes,
                      "nom_officiel": [units.at[c, "nom"] if c in units.index else "Lyon" for c in com_codes]},
                     geometry=com_geoms, crs=2154).to_file(d / "ADE.gpkg", layer="commune", driver="GPKG")
    gpd.GeoDataFrame({"code_insee": LYON, "code_insee_de_la_commune_de_rattach": "69123"},
                     geometry=l93.loc[LYON].to_numpy(), crs=2154).to_file(
        d / "ADE.gpkg", layer="arrondissement_municipal", driver="GPKG")
    # ADMIN EXPRESS COG 3.x (shapefiles): upper-case attributes, INSEE_COM / INSEE_ARM.
    gpd.GeoDataFrame({"ID": [f"COMMUNE_{i}" for i in range(len(com_codes))], "INSEE_COM": com_codes},
                     geometry=com_geoms, crs=2154).to_file(d / "COMMUNE.shp")
    gpd.GeoDataFrame({"INSEE_ARM": LYON, "INSEE_COM": "69123"},
                     geometry=l93.loc[LYON].to_numpy(), crs=2154).to_file(d / "ARRONDISSEMENT_MUNICIPAL.shp")

    # INSEE national table: Lyon as a city (the arrondissements are not in it), COM is the name.
    rows = ["CODREG;REG;CODDEP;CODARR;CODCAN;CODCOM;COM;PMUN;PCAP;PTOT"]
    rows += [f"52;Pays de la Loire;53;1;01;{c[2:]};{units.at[c, 'nom']};{1000 + i};10;{1010 + i}"
             for i, c in enumerate(CODES)]
    rows += [f"84;Auvergne-Rhône-Alpes;69;1;99;123;Lyon;{lyon_pop};0;{lyon_pop}"]
    (d / "donnees_communes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return d


def _build(files: Path, out: Path, *, layers: str = "gpkg", populations=("donnees_communes.csv",)):
    if layers == "gpkg":
        com, arm = f"{files / 'ADE.gpkg'}::commune", f"{files / 'ADE.gpkg'}::arrondissement_municipal"
    else:
        com, arm = str(files / "COMMUNE.shp"), str(files / "ARRONDISSEMENT_MUNICIPAL.shp")
    args = ["--decoupage", str(files / "decoupage"), "--admin-express", com, "--admin-express-arm", arm,
            "--population-vintage", "2023", "-o", str(out)]
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
    assert mine.units["area_km2"].round(2).tolist() == ref.units.loc[CODES + LYON, "area_km2"].round(2).tolist()


def test_xlsx_with_title_rows_french_headers_and_arrondissements(official_files, tmp_path, ref):
    """An XLSX laid out like INSEE's workbook, listing the arrondissements but not their city."""
    header = ["Code région", "Nom de la région", "Code département", "Code commune", "Nom de la commune",
              "Population municipale", "Population comptée à part", "Population totale"]
    rows = [[52, "Pays de la Loire", 53, int(c[2:]), "x", 2000 + i, 0, 2000 + i] for i, c in enumerate(CODES)]
    rows += [[84, "Auvergne-Rhône-Alpes", 69, int(c[2:]), "x", 10_000 + i, 0, 10_000 + i]
             for i, c in enumerate(LYON)]
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
    for name in ["units.parquet", "adjacency.parquet", "communes.csv", "epci.csv",
                 "departements.csv", "regions.csv", "metadata.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_missing_population_is_an_error(official_files, tmp_path):
    (official_files / "pop.csv").write_text("CODGEO;LIBGEO;PMUN\n53001;x;10\n69123;Lyon;1\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"no population for the arrondissements municipaux of 69123"):
        _build(official_files, tmp_path / "x", populations=["pop.csv"])
    (official_files / "pop2.csv").write_text("CODGEO;PMUN\n53001;10\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError,
                       match=r"pop2.csv: no population for 14 unit\(s\) \(by département: 53: 4, 69: 10\)"):
        _build(official_files, tmp_path / "x", populations=["pop2.csv"])


def test_mayotte_absent_from_the_insee_tables_keeps_the_package_figures(tmp_path):
    """INSEE publishes Mayotte apart from its national table: the package's figures stay, noted."""
    from cpts_geo.build import _apply_population_tables

    communes = pd.DataFrame({"code": ["53001", "97601"], "departement": ["53", "976"],
                             "population": [1, 5192], "commune": ["53001", "97601"]})
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
        _script().main(["--decoupage", str(official_files / "decoupage"),
                        "--admin-express", f"{official_files / 'ADE.gpkg'}::commune",
                        "--populations", str(official_files / "donnees_communes.csv"),
                        "-o", str(tmp_path / "x")])


def test_incomplete_reference_folder(tmp_path):
    with pytest.raises(ReferenceDataError, match="reference incomplete, missing units.parquet"):
        load_reference(tmp_path)
