"""GeoPackages the commands write for QGIS: layers, a default style per layer, exact attributes."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import pyogrio
from click.testing import CliRunner

from cpts_geo.cli.main import main
from cpts_geo.inputs.read import read_proposal, read_register
from cpts_geo.reference.units import default_data_dir

EXAMPLES = default_data_dir() / "examples"
REGISTER = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def styles(path) -> dict[str, tuple]:
    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT f_table_name, styleName, useAsDefault, description, styleQML FROM layer_styles ORDER BY id"
    ).fetchall()
    con.close()
    return {r[0]: r[1:] for r in rows}


def check_styled(path, layers: list[str]) -> None:
    """The file opens with pyogrio, lists ``layers`` then layer_styles, one default style each."""
    assert pyogrio.list_layers(path).tolist() == [[n, "MultiPolygon"] for n in layers] + [
        ["layer_styles", None]
    ]
    st = styles(path)
    assert list(st) == layers
    for name, (style_name, default, _description, qml) in st.items():
        assert (style_name, default) == (name, 1)
        assert qml.startswith("<!DOCTYPE qgis") and "<renderer-v2" in qml


def test_coverage_map_gpkg(tmp_path):
    out = tmp_path / "couverture.gpkg"
    res = run("coverage-map", REGISTER, "--departement", "49", "--gpkg", out)
    assert res.exit_code == 0, res.output
    assert f"GeoPackage : {out}" in res.stderr
    assert not (tmp_path / "carte.html").exists()  # only the GeoPackage asked for
    check_styled(out, ["cpts_par_stade", "zones_blanches", "chevauchements", "departements"])
    st = styles(out)
    assert st["cpts_par_stade"][2] == "CPTS par stade (Atlas des CPTS)"
    assert 'attr="statut"' in st["cpts_par_stade"][3] and "#1a9850" not in st["zones_blanches"][3]
    cpts = gpd.read_file(out, layer="cpts_par_stade")
    # Lambert-93, so that QGIS measures in metres; the stage date a DATE field
    assert len(cpts) == 9 and cpts.crs.to_epsg() == 2154
    assert pyogrio.read_info(out, layer="cpts_par_stade")["ogr_types"][4] == "OFTDate"
    assert str(cpts.set_index("cpts_id").at["FICTIF-52-006", "date_statut"])[:10] == "2025-08-01"
    assert cpts.area.sum() / 1e6 > 1000  # km² (square degrees would be below 1)
    saumur = cpts.set_index("cpts_id").loc["FICTIF-52-019"]
    assert saumur[["cpts_nom", "statut", "stade", "population", "taille_aci"]].tolist() == [
        "CPTS fictive de Saumur",
        "aci",
        "Contrat ACI signé",
        98005,
        3,
    ]
    white = gpd.read_file(out, layer="zones_blanches")
    assert white.drop(columns="geometry").to_dict("records") == [
        {
            "departement": "49",
            "nom": "Zone blanche — Maine-et-Loire (49)",
            "communes": 17,
            "population": 28413,
        }
    ]
    deps = gpd.read_file(out, layer="departements")
    assert deps[["code", "nom", "cpts", "part_couverte"]].values.tolist() == [
        ["49", "Maine-et-Loire", 9, 0.9659]
    ]
    assert len(gpd.read_file(out, layer="chevauchements")) == 0


def test_coverage_gpkg_overlaps_and_read_back_as_register(tmp_path, ref):
    out = tmp_path / "c.gpkg"
    res = run("coverage", REGISTER, "--region", "52", "--gpkg", out)
    assert res.exit_code == 0, res.output
    assert "Pays de la Loire" in res.stdout
    ov = gpd.read_file(out, layer="chevauchements")
    assert ov.drop(columns="geometry").to_dict("records") == [
        {
            "cpts": "FICTIF-52-001 ; FICTIF-52-041",
            "cpts_noms": "CPTS fictive de Pontchâteau ; CPTS fictive de Saint-Nazaire",
            "communes": "44013",
            "n_communes": 1,
            "population": 3322,
        }
    ]
    assert len(gpd.read_file(out, layer="cpts_par_stade")) == 60
    assert len(gpd.read_file(out, layer="departements")) == 5
    # Read back: the first spatial layer (the CPTS), not the styles table.
    register = read_register(out, ref, layer="cpts_par_stade")
    assert len(register.cpts) == 60


def test_check_gpkg(tmp_path):
    out = tmp_path / "territoire.gpkg"
    proposal = EXAMPLES / "proposition_epci_partiel.csv"
    res = run("check", proposal, "--existing", REGISTER, "-o", out)
    assert res.exit_code == 1
    assert "Résultat : ÉCHEC" in res.stdout
    check_styled(out, ["cpts_voisines", "communes", "contour_territoire"])
    units = gpd.read_file(out, layer="communes").set_index("code_insee")
    assert len(units) == 45 and units["dans_territoire"].sum() == 22
    assert units.loc["49002", ["nom", "population", "constat", "constat_libelle"]].tolist() == [
        "Allonnes",
        2911,
        "chevauchement",
        "Commune déjà dans une CPTS existante",
    ]
    assert set(units.loc[~units["dans_territoire"], "constat"]) == {"epci_hors"}
    outline = gpd.read_file(out, layer="contour_territoire")
    assert outline.drop(columns="geometry").to_dict("records") == [
        {
            "nom": "Projet fictif sur une moitié d'EPCI",
            "population": 63708,
            "n_communes": 22,
            "taille_aci": 2,
            "resultat": "fail",
        }
    ]
    near = gpd.read_file(out, layer="cpts_voisines")
    assert "FICTIF-52-019" in set(near["cpts_id"])
    assert 'type="categorizedSymbol"' in styles(out)["communes"][3]
    assert 'attr="constat"' in styles(out)["communes"][3]


def test_suggest_gpkg_read_back_as_proposal(tmp_path, ref):
    out = tmp_path / "s.gpkg"
    res = run("suggest", "--departement", "15", "--mode", "max-count", "-o", out, "--seed", "1")
    assert res.exit_code == 0, res.output
    check_styled(out, ["territoires_proposes", "extensions", "non_rattachables"])
    terr = gpd.read_file(out, layer="territoires_proposes")
    assert len(terr) == 6 and terr["population"].sum() == 144196
    # Neighbouring territories in different colours of the palette (categories on "couleur").
    assert terr["couleur"].between(0, 7).all() and terr["couleur"].nunique() >= 2
    assert 'attr="couleur"' in styles(out)["territoires_proposes"][3]
    first = terr.iloc[0]
    assert first["noms"].split(", ")[0] == ref.units.at[first["communes"].split(";")[0], "nom"]
    proposal = read_proposal(out, ref, layer="territoires_proposes")  # several layers: the one asked
    assert len(proposal.codes) == terr["n_communes"].sum()


def test_check_gpkg_without_register(tmp_path):
    out = tmp_path / "t.gpkg"
    res = run("check", EXAMPLES / "proposition_belle_ile.csv", "-o", out)
    assert res.exit_code == 0, res.output
    check_styled(out, ["communes", "contour_territoire"])
    units = gpd.read_file(out, layer="communes")
    inside = units[units["dans_territoire"]]
    assert len(inside) == 11 and inside["population"].sum() == 29281
    # Belle-Île's EPCI is whole ("territoire"); 7 of the 24 communes of CC Auray Quiberon are in
    # ("epci_partiel"), its 17 others drawn outside ("epci_hors").
    assert units.groupby("constat").size().to_dict() == {"epci_hors": 17, "epci_partiel": 7, "territoire": 4}


def test_a_geopackage_of_other_layers_is_never_replaced(tmp_path):
    """``-o``/``--gpkg`` onto an existing GeoPackage replaced the whole file: the user's other
    layers were gone without a word."""
    import geopandas as gpd
    import pyogrio
    import shapely
    from click.testing import CliRunner

    from cpts_geo.cli.main import main
    from cpts_geo.reference.units import default_data_dir

    mine = tmp_path / "projet.gpkg"
    gpd.GeoDataFrame({"nom": ["mon calque"]}, geometry=[shapely.box(0, 45, 1, 46)], crs=4326).to_file(
        mine, layer="mes_sites"
    )
    before = mine.read_bytes()
    examples = default_data_dir() / "examples"
    for args in (
        ["check", str(examples / "proposition_valide.csv"), "-o", str(mine)],
        [
            "coverage",
            str(examples / "registre_fictif_pays_de_la_loire.csv"),
            "--region",
            "52",
            "--gpkg",
            str(mine),
        ],
    ):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2, res.output
        assert "contient d'autres couches (mes_sites)" in res.stderr and "rien n'a été écrit" in res.stderr
        assert mine.read_bytes() == before
    # Our own file, written again, is replaced.
    ours = tmp_path / "couverture.gpkg"
    args = [
        "coverage",
        str(examples / "registre_fictif_pays_de_la_loire.csv"),
        "--region",
        "52",
        "--gpkg",
        str(ours),
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert CliRunner().invoke(main, args).exit_code == 0
    assert "chevauchements" in {n for n, _ in pyogrio.list_layers(ours)}


def test_geopackage_crs_is_the_zone_s_projected_crs(ref):
    """Each output in the projected CRS of its zone (issue 25: GeoPackages were in degrees);
    degrees only when the features span several zones (one CRS per layer)."""
    import geopandas as gpd
    import shapely

    from cpts_geo.outputs.geopackages import output_crs

    def layer(codes):
        return (gpd.GeoDataFrame(geometry=ref.units.loc[codes].geometry.to_numpy(), crs=4326), "")

    assert output_crs(ref, {"a": layer(["49007", "49015"]), "b": layer(["2A004"])}) == 2154
    assert output_crs(ref, {"a": layer(["97411"])}) == 2975  # La Réunion
    assert output_crs(ref, {"a": layer(["97101"])}) == 5490  # Guadeloupe
    assert output_crs(ref, {"a": layer(["49007"]), "b": layer(["97411"])}) == 4326
    empty = (gpd.GeoDataFrame(geometry=[], crs=4326), "")
    assert output_crs(ref, {"a": empty}) == 4326
    far = (gpd.GeoDataFrame(geometry=[shapely.box(100, 10, 101, 11)], crs=4326), "")
    assert output_crs(ref, {"a": far}) == 4326
