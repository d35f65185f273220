"""Reading zone layers (issue 24) as they come: delimiters, encodings, XLSX title rows,
categories, EPCI by SIREN or name, polygons; bad files refused naming file, line and value."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from cpts_geo._errors import InputError
from cpts_geo.inputs.zones import normalize_category, read_zones


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_categories_cartosante_and_plain_forms_are_one():
    forms = ["1_ZIP", "ZIP", "zip", "Zone d'intervention prioritaire", "1 - ZIP"]
    assert {normalize_category(f) for f in forms} == {"ZIP"}
    assert {normalize_category(f) for f in ["2_ZAC", "ZAC", "Zone d'action complémentaire"]} == {"ZAC"}
    assert {normalize_category(f) for f in ["4_HZ", "HZ", "hors zonage", "Hors zonage"]} == {"Hors zonage"}
    assert normalize_category("3_ZV") == "Zone de vigilance"
    assert normalize_category("Quartier prioritaire") == "Quartier prioritaire"


def test_cp1252_tab_delimited_names_and_departement(ref, tmp_path):
    text = (
        "Commune\tDépartement\tCatégorie\r\nAngers\t49\tZIP\r\nSaint-Denis\t93\t2_ZAC\r\nTrélazé\t49\tzip\r\n"
    )
    z = read_zones(write(tmp_path, "z.txt", text, "cp1252"), ref, name="Z")
    assert z.kind == "communes" and z.categories == ["ZIP", "ZAC"]
    assert z.codes("ZIP") == ["49007", "49353"] and z.codes("ZAC") == ["93066"]


def test_xlsx_with_title_rows(ref, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Arrêté ARS fictif du 1er janvier 2026"])
    ws.append([])
    ws.append(["CODGEO", "LIBGEO", "Zonage médecins"])
    ws.append([49007, "Angers", "1_ZIP"])
    ws.append([1001, "L'Abergement-Clémenciat", "4_HZ"])
    path = tmp_path / "zonage.xlsx"
    wb.save(path)
    z = read_zones(path, ref)
    assert z.name == "zonage" and z.categories == ["ZIP", "Hors zonage"]
    assert z.codes("Hors zonage") == ["01001"]
    assert any("titre" in w["message"] for w in z.warnings)
    assert any("zéro initial" in w["message"] for w in z.warnings)


def test_xlsx_list_of_epci_on_a_later_sheet(ref, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Notes"
    wb.active.append(["Liste publiée le 1er janvier 2026 (fictive)"])
    ws = wb.create_sheet("Zones rouges")
    ws.append(["Département", "Nom de l'EPCI", "SIREN"])
    ws.append(["49", "CU Angers Loire Métropole", 244900015])
    path = tmp_path / "rouges.xlsx"
    wb.save(path)
    z = read_zones(path, ref)
    assert z.kind == "epci" and len(z.codes("rouges")) == 29
    assert "feuille 'Zones rouges' lue" in z.warnings[0]["message"]


def test_without_category_one_zone_named_after_the_layer(ref, tmp_path):
    z = read_zones(
        write(tmp_path, "liste.csv", "code_insee;remarque\n49007;x\n49015;y\n"), ref, name="Ma zone"
    )
    assert z.categories == ["Ma zone"] and z.codes("Ma zone") == ["49007", "49015"]
    assert "aucune colonne de catégorie reconnue" in z.warnings[0]["message"]
    z = read_zones(write(tmp_path, "nue.txt", "49007\n49015\n"), ref)
    assert z.categories == ["nue"] and z.kind == "communes"


def test_category_column_named(ref, tmp_path):
    path = write(tmp_path, "z.csv", "code_insee;Classement ARS 2026\n49007;A\n49015;B\n")
    z = read_zones(path, ref, category_column="Classement ARS 2026")
    assert z.categories == ["A", "B"]
    with pytest.raises(InputError, match=r"z.csv : ligne 1 : colonne de catégorie 'Statut' introuvable"):
        read_zones(path, ref, category_column="Statut")


def test_epci_by_siren_and_name(ref, tmp_path):
    text = "siren;nom\n244900015;\n;CA Saumur Val de Loire\n"
    z = read_zones(write(tmp_path, "rouges.csv", text), ref)
    assert z.kind == "epci"
    units = ref.units
    sirens = ["244900015", units.at["49328", "epci"]]
    assert set(z.codes("rouges")) == set(units.index[units["epci"].isin(sirens)])
    # A list of SIRENs without header.
    z = read_zones(write(tmp_path, "s.txt", "244900015\n"), ref)
    assert z.kind == "epci" and len(z.codes("s")) == 29


def test_bad_rows_refused_naming_file_line_and_value(ref, tmp_path):
    text = "code_insee;zonage\n49007;ZIP\n49999;ZAC\n;ZIP\n49015;\n49007;ZAC\n"
    path = write(tmp_path, "mauvais.csv", text)
    with pytest.raises(InputError) as err:
        read_zones(path, ref)
    msg = str(err.value)
    assert f"{path} : ligne 3 : code commune '49999' inconnu du COG" in msg
    assert f"{path} : ligne 4 : ligne sans code ni nom de commune" in msg
    assert f"{path} : ligne 5 : '49015' sans catégorie" in msg
    # A commune in two categories: refused once the values are known.
    with pytest.raises(
        InputError, match=r"ligne 3 : unité 49007 classée « ZAC » alors qu'elle l'est déjà « ZIP » ligne 2"
    ):
        read_zones(write(tmp_path, "deux.csv", "code_insee;zonage\n49007;ZIP\n49007;ZAC\n"), ref)


def test_former_communes_meeting_in_one_keep_the_more_urgent_category(ref, tmp_path):
    # 49166 (Juigné-Béné) merged into Montreuil-Juigné (49214): an older zonage lists both.
    path = write(tmp_path, "z.csv", "code_insee;zonage\n49214;2_ZAC\n49166;1_ZIP\n")
    z = read_zones(path, ref)
    assert z.codes("ZIP") == ["49214"] and z.codes("ZAC") == []
    assert any("catégorie retenue : ZIP" in w["message"] and w["line"] == 3 for w in z.warnings)


def test_epci_problems(ref, tmp_path):
    path = write(
        tmp_path,
        "r.csv",
        "SIREN;Nom de l'EPCI\n123456789;\n;CC Imaginaire du Haut-Pays\n;CA Saumur Val de Loir\n",
    )
    with pytest.raises(InputError) as err:
        read_zones(path, ref)
    msg = str(err.value)
    assert f"{path} : ligne 2 : SIREN '123456789' : aucun EPCI de ce numéro" in msg
    assert f"{path} : ligne 3 : EPCI 'CC Imaginaire du Haut-Pays' inconnu au COG" in msg
    assert "vouliez-vous dire CA Saumur Val de Loire" in msg


def test_no_column_we_know(ref, tmp_path):
    with pytest.raises(
        InputError, match=r"z.csv : ligne 1 : aucune colonne de communes ni d'EPCI reconnue parmi 'a', 'b'"
    ):
        read_zones(write(tmp_path, "z.csv", "a;b\nx;y\n"), ref)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_polygons(ref, tmp_path):
    angers = ref.units.loc[["49007"]].to_crs(2154)
    c = angers.geometry.iloc[0].representative_point()
    gdf = gpd.GeoDataFrame(
        {"nom": ["Q <b>1</b>", "Q2"], "Zonage": ["QPV", "QPV"]},
        geometry=[c.buffer(500), shapely.box(0, 0, 10, 10)],
        crs=2154,
    )
    path = tmp_path / "q.gpkg"
    gdf.to_file(path, layer="quartiers")
    gdf.iloc[:1].to_file(path, layer="autre")
    with pytest.raises(InputError, match=r"2 couches \(quartiers, autre\)"):
        read_zones(path, ref)
    # A polygon out of the reference is said and left out; none in it is an error.
    z = read_zones(path, ref, layer="quartiers")
    assert z.members["code"].tolist() == ["49007"]
    assert (
        "1 polygone(s) hors de toute commune du référentiel, non comptés : objet n°2 (Q2)"
        in (z.warnings[0]["message"])
    )
    far = tmp_path / "loin.gpkg"
    gdf.iloc[1:].to_file(far)
    with pytest.raises(
        InputError, match=r"aucun polygone ne touche une commune du référentiel \(objet n°1 \(Q2\)\)"
    ):
        read_zones(far, ref)
    z = read_zones(path, ref, layer="autre")
    assert z.kind == "polygones" and z.categories == ["QPV"]
    assert z.members[["code", "polygon"]].values.tolist() == [["49007", "Q <b>1</b>"]]
    assert z.members["zone_share"].iloc[0] == pytest.approx(1.0, abs=1e-3)
    # No CRS: said, and the CRS given is used.
    bare = tmp_path / "bare.geojson"
    gdf.iloc[:1].set_crs(None, allow_override=True).to_file(bare)
    with pytest.raises(InputError, match="pas de système de coordonnées"):
        read_zones(bare, ref)
    assert read_zones(bare, ref, crs=2154).codes("QPV") == ["49007"]
