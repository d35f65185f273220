"""Building a reference from the official files a user may have (ADMIN EXPRESS COG + INSEE)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import pytest

from cpts_geo import ReferenceDataError, load_reference

ROOT = Path(__file__).resolve().parents[1]
CODES = ["53001", "53007", "53008", "53017", "53062"]  # five neighbouring communes of Mayenne


def _script():
    spec = importlib.util.spec_from_file_location("build_reference", ROOT / "scripts" / "build_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def official_files(tmp_path_factory, ref):
    """A tiny COG package, an ADMIN EXPRESS-like commune layer and an INSEE population table."""
    d = tmp_path_factory.mktemp("official")
    dec = d / "decoupage"
    dec.mkdir()
    units = ref.units.loc[CODES]
    communes = [
        {"code": c, "nom": units.at[c, "nom"], "type": "commune-actuelle", "zone": "metro",
         "departement": "53", "region": "52", "population": 1, "anciensCodes": ["53999"] if i == 0 else None}
        for i, c in enumerate(CODES)
    ]
    for c in communes:
        if c["anciensCodes"] is None:
            del c["anciensCodes"]
    (dec / "communes.json").write_text(json.dumps(communes), encoding="utf-8")
    epci = [{"code": "200000001", "nom": "CC d'essai", "type": "CC", "modeFinancement": "FPU",
             "populationMunicipale": 3, "membres": [{"code": c, "populationMunicipale": 1} for c in CODES[:3]]},
            {"code": "200000002", "nom": "CC bis", "type": "CC", "modeFinancement": "FPU",
             "populationMunicipale": 2, "membres": [{"code": c, "populationMunicipale": 1} for c in CODES[3:]]}]
    (dec / "epci.json").write_text(json.dumps(epci), encoding="utf-8")
    (dec / "departements.json").write_text(json.dumps(
        [{"code": "53", "region": "52", "nom": "Mayenne", "zone": "metro"}]), encoding="utf-8")
    (dec / "regions.json").write_text(json.dumps(
        [{"code": "52", "nom": "Pays de la Loire", "zone": "metro"}]), encoding="utf-8")
    # ADMIN EXPRESS COG: Lambert-93, INSEE_COM, upper-case attribute names.
    layer = gpd.GeoDataFrame({"ID": [f"COMMUNE_{i}" for i in range(5)], "INSEE_COM": CODES,
                              "NOM": units["nom"].tolist()},
                             geometry=units.geometry.to_crs(2154).to_numpy(), crs=2154)
    layer.to_file(d / "ADE_COMMUNE.gpkg", layer="commune", driver="GPKG")
    # INSEE populations légales: ';' separated, with the national table's column names.
    rows = ["COM;PMUN;PCAP;PTOT"] + [f"{c};{1000 + i};10;{1010 + i}" for i, c in enumerate(CODES)]
    (d / "donnees_communes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return d


def _build(files: Path, out: Path):
    return _script().main([
        "--decoupage", str(files / "decoupage"),
        "--admin-express", f"{files / 'ADE_COMMUNE.gpkg'}::commune",
        "--populations", str(files / "donnees_communes.csv"),
        "--population-vintage", "2023",
        "-o", str(out),
    ])


def test_build_from_official_files(official_files, tmp_path, ref):
    assert _build(official_files, tmp_path / "ref") == 0
    mine = load_reference(tmp_path / "ref")
    assert sorted(mine.units.index) == CODES
    assert mine.units["population"].tolist() == [1000, 1001, 1002, 1003, 1004]
    assert mine.epci.loc["200000001", "population"] == 3003
    assert mine.departements.loc["53", "population"] == 5010
    assert mine.metadata["geometry_source"] == "IGN ADMIN EXPRESS COG"
    assert mine.resolve(["53999"]).codes == ["53001"]
    # Same adjacency as the national reference on these five communes.
    nat = ref.adjacency[ref.adjacency["a"].isin(CODES) & ref.adjacency["b"].isin(CODES)]
    assert list(zip(mine.adjacency["a"], mine.adjacency["b"])) == list(zip(nat["a"], nat["b"]))
    # Areas are measured in Lambert-93, not degrees.
    assert mine.units["area_km2"].round(2).tolist() == ref.units.loc[CODES, "area_km2"].round(2).tolist()


def test_build_is_deterministic(official_files, tmp_path):
    _build(official_files, tmp_path / "a")
    _build(official_files, tmp_path / "b")
    for name in ["units.parquet", "adjacency.parquet", "communes.csv", "epci.csv",
                 "departements.csv", "regions.csv", "metadata.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_missing_population_is_an_error(official_files, tmp_path):
    bad = tmp_path / "pop.csv"
    bad.write_text("COM;PMUN\n53001;10\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="no population for 4 unit"):
        _script().main(["--decoupage", str(official_files / "decoupage"),
                        "--admin-express", f"{official_files / 'ADE_COMMUNE.gpkg'}::commune",
                        "--populations", str(bad), "-o", str(tmp_path / "x")])


def test_incomplete_reference_folder(tmp_path):
    with pytest.raises(ReferenceDataError, match="reference incomplete, missing units.parquet"):
        load_reference(tmp_path)
