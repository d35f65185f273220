"""Reading proposals and registers as users send them (cpts_geo.inputs)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpts_geo._errors import AmbiguousNameError, InputError, UnknownCommuneError
from cpts_geo.inputs.read import proposal_from_codes, read_proposal, read_register
from cpts_geo.inputs.register import register_from_frame


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode(encoding))
    return path


# --- proposals: text files -------------------------------------------------------------------
def test_excel_csv_with_bom_semicolons_crlf_blank_lines_duplicates(tmp_path, ref):
    path = write(
        tmp_path,
        "proposition.csv",
        "Code INSEE;Commune\r\n49007;Angers\r\n\r\n49015;Avrillé\r\n49015;Avrillé\r\n1340;Arbignieu\r\n",
        encoding="utf-8-sig",
    )
    p = read_proposal(path, ref)
    assert p.codes == ["49007", "49015", "01015"]
    assert p.name == "proposition"
    assert p.warnings == [
        {"line": 5, "value": "49015", "message": "doublon ignoré : 49015 déjà cité"},
        {
            "line": 6,
            "value": "1340",
            "message": "code complété par un zéro initial : 1340 → 01340 ; ancien code 01340 : commune fusionnée "
            "dans Arboys en Bugey (01015) au COG 2026",
        },
    ]


def test_cp1252_names_with_departement_column(tmp_path, ref):
    path = write(
        tmp_path,
        "noms.csv",
        "Commune\tDépartement\nAvrillé\t49\nMONTREUIL\t93\nsaint etienne\t42\n",
        encoding="cp1252",
    )
    assert read_proposal(path, ref).codes == ["49015", "93048", "42218"]


def test_plain_list_lower_case_corsica_and_city_codes(tmp_path, ref):
    path = write(tmp_path, "liste.txt", "2a004\n\n 69123 \n")
    p = read_proposal(path, ref)
    assert p.codes[0] == "2A004"
    assert p.codes[1:] == [f"6938{i}" for i in range(1, 10)]
    assert "remplacée par ses 9 arrondissements" in p.warnings[0]["message"]


def test_headerless_two_columns_takes_the_codes(tmp_path, ref):
    path = write(tmp_path, "sans_entete.csv", "49007,Angers\n49015,Avrillé\n")
    assert read_proposal(path, ref).codes == ["49007", "49015"]


def test_cpts_nom_column_names_the_territory(tmp_path, ref):
    path = write(tmp_path, "p.csv", "cpts_nom,code_insee\nCPTS du Val,49007\n,49015\n")
    p = read_proposal(path, ref)
    assert (p.name, p.codes) == ("CPTS du Val", ["49007", "49015"])


def test_row_without_code_is_reported_not_lost(tmp_path, ref):
    path = write(tmp_path, "p.csv", "code_insee;population\n49007;159022\n;159022\n")
    p = read_proposal(path, ref)
    assert p.codes == ["49007"]
    assert p.warnings == [
        {"line": 3, "value": "159022", "message": "ligne(s) de total ignorée(s) : ligne 3 « 159022 »"}
    ]


# --- proposals: XLSX -------------------------------------------------------------------------
def test_xlsx_numeric_codes_and_sheet(tmp_path, ref):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws.append(["rien à lire ici"])
    ws2 = wb.create_sheet("Communes")
    ws2.append(["CODGEO", "LIBGEO"])
    ws2.append([1001, "L'Abergement-Clémenciat"])
    ws2.append([])
    ws2.append([49007.0, "Angers"])
    path = tmp_path / "territoire.xlsx"
    wb.save(path)
    p = read_proposal(path, ref, sheet="Communes")
    assert p.codes == ["01001", "49007"]
    assert p.warnings[0]["line"] == 2
    with pytest.raises(InputError, match="feuille 'Feuil1' introuvable ; feuilles : Notes, Communes"):
        read_proposal(path, ref, sheet="Feuil1")


def test_unreadable_xlsx(tmp_path, ref):
    path = write(tmp_path, "casse.xlsx", b"PK\x03\x04 this is not a workbook")
    with pytest.raises(InputError, match=r"casse.xlsx : classeur Excel illisible"):
        read_proposal(path, ref)


# --- proposals: polygons ---------------------------------------------------------------------
def _polygon_of(ref, codes, buffer_m=0.0):
    geom = shapely.union_all(ref.units.loc[codes].geometry.to_crs(2154).to_numpy())
    return shapely.buffer(geom, buffer_m) if buffer_m else geom


def test_polygon_proposal_by_area_share(tmp_path, ref):
    codes = ["49007", "49015", "49353"]
    poly = _polygon_of(ref, codes, buffer_m=30)
    # Add the southern third of Bouchemaine (49035): the polygon cuts it, less than half is in.
    bouch = ref.units.loc[["49035"]].geometry.to_crs(2154).iloc[0]
    minx, miny, maxx, maxy = bouch.bounds
    third = shapely.box(minx, miny, maxx, miny + (maxy - miny) / 3)
    poly = shapely.union(poly, shapely.intersection(bouch, third))
    path = tmp_path / "dessin.geojson"
    gpd.GeoDataFrame({"nom": ["Mon territoire"]}, geometry=[poly], crs=2154).to_file(path)
    p = read_proposal(path, ref)
    assert p.codes == codes  # in reference order; Bouchemaine left out
    assert p.name == "Mon territoire"
    assert "49035" in p.cut_units.index
    share = p.cut_units.at["49035", "share"]
    assert 0.05 < share < 0.5 and not p.cut_units.at["49035", "included"]
    assert any("Bouchemaine (49035) coupée par le contour" in w["message"] for w in p.warnings)


def test_polygon_of_the_container_brings_the_restored_communes(tmp_path, ref):
    path = tmp_path / "neussargues.gpkg"
    gpd.GeoDataFrame(geometry=[_polygon_of(ref, ["15141"], buffer_m=10)], crs=2154).to_file(path)
    assert sorted(read_proposal(path, ref).codes) == ["15031", "15035", "15047", "15141", "15171"]


def test_polygon_without_crs(tmp_path, ref):
    path = tmp_path / "sans_crs.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame(geometry=[shapely.box(400000, 6700000, 410000, 6710000)]).to_file(path)
    with pytest.raises(InputError, match="sans_crs.gpkg : le fichier n'a pas de système de coordonnées"):
        read_proposal(path, ref)


def test_points_are_not_a_territory(tmp_path, ref):
    path = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(-0.55, 47.47)], crs=4326).to_file(path)
    with pytest.raises(InputError, match="géométrie Point ; attendu des polygones"):
        read_proposal(path, ref)


# --- proposals: bad input --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "error", "match"),
    [
        ("vide.csv", "", InputError, r"vide.csv : fichier vide"),
        ("blancs.csv", "\n \n\r\n", InputError, r"blancs.csv : fichier vide"),
        ("entete.csv", "code_insee\n", InputError, r"entete.csv : aucune commune dans le fichier"),
        (
            "colonnes.csv",
            "population;surface\n100;2\n",
            InputError,
            r"colonnes.csv : ligne 1 : aucune colonne de codes communes reconnue parmi 'population', 'surface'",
        ),
        (
            "inconnu.csv",
            "code_insee\n49007\n49999\n",
            UnknownCommuneError,
            r"inconnu.csv : ligne 3 : code commune '49999' inconnu du COG 2026",
        ),
        (
            "ambigu.csv",
            "commune\nMontreuil\n",
            AmbiguousNameError,
            r"ambigu.csv : ligne 2 : nom 'Montreuil' ambigu : 3 communes portent ce nom \(28267 \(28\), "
            r"85148 \(85\), 93048 \(93\)\)",
        ),
        (
            "vides.csv",
            "code_insee;population\n;12\n;13\n",
            InputError,
            r"vides.csv : aucune commune dans le fichier",
        ),
        ("binaire.csv", b"\x00\x01\x02code", InputError, r"fichier binaire"),
        ("ancien.xls", b"\xd0\xcf\x11\xe0", InputError, r"\(.xls\) non pris en charge"),
    ],
)
def test_bad_proposals(tmp_path, ref, name, content, error, match):
    path = write(tmp_path, name, content)
    with pytest.raises(error, match=match):
        read_proposal(path, ref)


def test_every_unknown_value_named_at_once(tmp_path, ref):
    path = write(tmp_path, "p.csv", "code_insee\n49007\n99999\nZzyzx\n")
    with pytest.raises(UnknownCommuneError) as info:
        read_proposal(path, ref)
    assert [(p["line"], p["value"]) for p in info.value.problems] == [(3, "99999"), (4, "Zzyzx")]


def test_missing_file(tmp_path, ref):
    with pytest.raises(InputError, match="absent.csv : fichier introuvable"):
        read_proposal(tmp_path / "absent.csv", ref)


def test_proposal_from_codes(ref):
    assert proposal_from_codes([49007, "Avrillé"], ref, departement="49").codes == ["49007", "49015"]
    with pytest.raises(InputError, match="aucune commune"):
        proposal_from_codes([], ref)


# --- registers -------------------------------------------------------------------------------
REGISTER = (
    "cpts_id;cpts_nom;code_insee;statut;date_statut\n"
    "C1;CPTS d'Angers;49007;ACI;2021-05-01\n"
    "C1;CPTS d'Angers;49015;;\n"
    "C2;CPTS Loire-Authion;49015;Lettre d'intention validée;\n"
    "C2;CPTS Loire-Authion;49353;;\n"
    "C2;CPTS Loire-Authion;49353;;\n"
)


def test_register_long_format(tmp_path, ref):
    reg = read_register(write(tmp_path, "registre.csv", REGISTER, encoding="cp1252"), ref)
    t = reg.table
    assert t[["cpts_id", "code_insee", "statut"]].values.tolist() == [
        ["C1", "49007", "aci"],
        ["C1", "49015", "aci"],
        ["C2", "49015", "lettre-intention"],
        ["C2", "49353", "lettre-intention"],
    ]
    assert t["line"].tolist() == [2, 3, 4, 5]
    assert reg.warnings == [
        {"line": 6, "value": "49353", "message": "doublon ignoré : 49353 déjà cité pour la CPTS 'C2'"}
    ]
    assert reg.cpts["cpts_nom"].to_dict() == {"C1": "CPTS d'Angers", "C2": "CPTS Loire-Authion"}
    assert reg.codes("C2") == ["49015", "49353"]
    assert len(reg) == 2


def test_register_xlsx_with_dates(tmp_path, ref):
    import datetime as dt

    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["cpts_id", "cpts_nom", "code_insee", "statut", "date_statut"])
    ws.append([7, "CPTS Sept", 75056, "aci", dt.datetime(2022, 3, 1)])
    path = tmp_path / "registre.xlsx"
    wb.save(path)
    reg = read_register(path, ref)
    assert reg.table["code_insee"].tolist() == [f"751{i:02d}" for i in range(1, 21)]
    assert set(reg.table["date_statut"]) == {"2022-03-01"}
    assert set(reg.table["cpts_id"]) == {"7"}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            "cpts_id;cpts_nom;code_insee\nA;Un;49007\nA;Deux;49015\n",
            r"registre.csv : ligne 3 : la CPTS 'A' a deux noms : 'Un' \(ligne 2\) et 'Deux'",
        ),
        (
            "cpts_id;cpts_nom;code_insee;statut\nA;Un;49007;abandonnée\n",
            r"ligne 2 : statut 'abandonnée' inconnu ; formulations acceptées : pre-projet \(Pré-projet, ",
        ),
        ("cpts_id;cpts_nom;code_insee\n;Un;49007\n", r"ligne 2 : identifiant de CPTS \(cpts_id\) manquant"),
        # A name column alone is read (ids derived from the names, issue 22); no CPTS column at all is not.
        ("statut;code_insee\naci;49007\n", r"colonne\(s\) cpts_id introuvable\(s\)"),
        ("49007\n49015\n", r"en-tête attendu avec les colonnes cpts_id"),
        ("cpts_id;cpts_nom;code_insee\nA;Un;4900\n", r"ligne 2 : code commune '4900' inconnu"),
    ],
)
def test_bad_registers(tmp_path, ref, content, match):
    with pytest.raises(InputError, match=match):
        read_register(write(tmp_path, "registre.csv", content), ref)


def test_register_from_frame_and_polygons_agree(tmp_path, ref):
    frame = pd.DataFrame(
        {
            "cpts_id": ["A", "A", "B"],
            "cpts_nom": ["Nord", "Nord", "Sud"],
            "code_insee": ["49007", "49015", "49353"],
        }
    )
    from_frame = register_from_frame(frame, ref)
    polys = gpd.GeoDataFrame(
        {"cpts_id": ["A", "B"], "cpts_nom": ["Nord", "Sud"]},
        geometry=[_polygon_of(ref, ["49007", "49015"], 20), _polygon_of(ref, ["49353"], 20)],
        crs=2154,
    )
    path = tmp_path / "registre.gpkg"
    polys.to_file(path)
    from_polys = read_register(path, ref)
    key = ["cpts_id", "cpts_nom", "code_insee"]
    assert (
        from_polys.table[key].sort_values(key).values.tolist()
        == from_frame.table[key].sort_values(key).values.tolist()
    )
    assert from_polys.geometries.index.tolist() == ["A", "B"]


# --- no user input ever crashes the readers --------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda s: s.encode("utf-8"))),
    suffix=st.sampled_from([".csv", ".txt", ".xlsx", ".geojson"]),
)
def test_readers_raise_only_input_error(tmp_path, ref, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    for reader in (read_proposal, read_register):
        try:
            reader(path, ref)
        except InputError:
            pass
