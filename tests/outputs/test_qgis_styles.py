"""GeoPackages with their QGIS styles in ``layer_styles``: the table, the QML, reading back."""

from __future__ import annotations

import os
import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cpts_geo._errors import CptsGeoError, InputError
from cpts_geo.maps.styles import OVERLAP_STYLE, PALETTE, STAGE_COLORS
from cpts_geo.outputs import qgis as q

STYLE_COLUMNS = [
    "id",
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
]


def _layers():
    boxes = [shapely.box(i, 0, i + 1, 1) for i in range(4)]
    cpts = gpd.GeoDataFrame(
        {
            "cpts_id": ["C1", "C2", "C3", "C4"],
            "statut": ["aci", "projet-sante", "", None],
            "communes": [["49007", "49015"], ["49017"], [], ["49020"]],
        },
        geometry=boxes,
        crs=4326,
    )
    white = gpd.GeoDataFrame(
        {"nom": ["Zone blanche"]},
        geometry=[shapely.MultiPolygon([shapely.box(0, 1, 1, 2), shapely.box(2, 1, 3, 2)])],
        crs=4326,
    )
    overlap = gpd.GeoDataFrame({"cpts": ["C1 ; C2"]}, geometry=[shapely.box(0.9, 0, 1.1, 1)], crs=4326)
    suggested = gpd.GeoDataFrame(
        {"territoire_id": ["T1", "T2"], "label": ["a", "b"]},
        geometry=[shapely.box(0, 2, 1, 3), shapely.box(1, 2, 2, 3)],
        crs=4326,
    )
    return {
        "cpts_par_stade": (cpts, q.cpts_stage_qml("statut"), "CPTS par stade"),
        "zones_blanches": (white, q.white_zone_qml()),
        "chevauchements": (overlap, q.overlap_qml(), "Communes dans plusieurs CPTS"),
        "territoires_proposes": (suggested, q.suggested_qml("territoire_id")),
    }


@pytest.fixture
def gpkg(tmp_path):
    return q.write_styled_gpkg(tmp_path / "carte.gpkg", _layers())


def _styles(path) -> dict[str, dict]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    rows = {r["f_table_name"]: dict(r) for r in con.execute("SELECT * FROM layer_styles")}
    con.close()
    return rows


def _symbol_layers(qml: str) -> list[dict]:
    """Each symbol layer as {"class": ..., option name: value} (QGIS 3 Option maps)."""
    root = ET.fromstring(qml.split("\n", 1)[1])
    out = []
    for lay in root.iter("layer"):
        opts = {o.get("name"): o.get("value") for o in lay.find("Option").findall("Option")}
        out.append({"class": lay.get("class"), **opts})
    return out


def test_layer_styles_table_as_qgis_creates_it(gpkg):
    con = sqlite3.connect(gpkg)
    cols = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
    assert cols == STYLE_COLUMNS
    assert con.execute(
        "SELECT data_type, identifier, srs_id FROM gpkg_contents WHERE table_name='layer_styles'"
    ).fetchone() == ("attributes", "layer_styles", 0)
    assert con.execute(
        "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name='layer_styles'"
    ).fetchone() == (4,)
    geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []  # srs_id 0 is GDAL's "undefined"
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("PRAGMA application_id").fetchone() == (0x47504B47,)  # "GPKG"
    assert con.execute("PRAGMA user_version").fetchone() == (10200,)  # GeoPackage 1.2
    con.close()
    rows = _styles(gpkg)
    assert sorted(rows) == sorted(_layers())
    for name, row in rows.items():
        assert (row["f_table_catalog"], row["f_table_schema"]) == ("", "")  # what QGIS queries for a GPKG
        assert row["f_geometry_column"] == geom[name] == "geom"
        assert row["useAsDefault"] == 1 and row["styleName"] == name
        assert row["update_time"].endswith("Z")
    assert rows["cpts_par_stade"]["description"] == "CPTS par stade"


def test_pyogrio_lists_and_reads_every_layer(gpkg):
    listed = {name: kind for name, kind in pyogrio.list_layers(gpkg)}
    # The styles table is an attributes (non-spatial) table: pyogrio lists it with no geometry type.
    assert listed == {
        "cpts_par_stade": "MultiPolygon",
        "zones_blanches": "MultiPolygon",
        "chevauchements": "MultiPolygon",
        "territoires_proposes": "MultiPolygon",
        "layer_styles": None,
    }
    cpts = pyogrio.read_dataframe(gpkg, layer="cpts_par_stade")
    assert cpts.crs.to_epsg() == 4326 and list(cpts.geom_type.unique()) == ["MultiPolygon"]
    assert cpts["statut"].tolist()[:3] == ["aci", "projet-sante", ""]
    assert cpts["communes"].tolist()[:2] == ["49007, 49015", "49017"]
    assert [
        len(pyogrio.read_dataframe(gpkg, layer=n))
        for n in ("zones_blanches", "chevauchements", "territoires_proposes")
    ] == [1, 1, 2]
    styles = pyogrio.read_dataframe(gpkg, layer="layer_styles")
    assert styles["useAsDefault"].tolist() == [True] * 4


def test_qml_is_qgis3_xml_with_the_map_colours(gpkg):
    rows = _styles(gpkg)
    for row in rows.values():
        assert row["styleQML"].startswith("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>")
        root = ET.fromstring(row["styleQML"].split("\n", 1)[1])
        assert root.tag == "qgis" and root.get("version").startswith("3.28")
        assert root.find("renderer-v2") is not None
        assert not list(root.iter("prop"))  # QGIS 3 Option maps, not the old <prop k= v=>

    root = ET.fromstring(rows["cpts_par_stade"]["styleQML"].split("\n", 1)[1])
    r = root.find("renderer-v2")
    assert (r.get("type"), r.get("attr")) == ("categorizedSymbol", "statut")
    cats = [(c.get("value"), c.get("label"), c.get("symbol")) for c in r.find("categories")]
    assert cats == [
        ("pre-projet", "Pré-projet", "0"),
        ("lettre-intention", "Lettre d'intention validée", "1"),
        ("projet-sante", "Projet de santé validé", "2"),
        ("aci", "Contrat ACI signé", "3"),
        ("", "Stade non renseigné", "4"),
    ]
    fills = {}
    for sym in r.find("symbols"):
        opts = {o.get("name"): o.get("value") for o in sym.find("layer/Option")}
        fills[sym.get("name")] = (opts["color"], opts["outline_color"])
    assert fills["3"] == ("26,152,80,153", "51,51,51,255")  # aci #1a9850, fillOpacity 0.6, outline #333
    assert fills["0"] == ("253,174,97,153", "51,51,51,255")  # pre-projet #fdae61
    assert fills["4"][0] == "179,157,219,153"  # no stage #b39ddb

    white = _symbol_layers(rows["zones_blanches"]["styleQML"])
    assert [lay["class"] for lay in white] == ["SimpleFill", "LinePatternFill", "SimpleLine"]
    assert (white[0]["color"], white[0]["outline_color"]) == ("217,217,217,204", "115,115,115,255")
    assert (white[1]["angle"], white[1]["color"], white[2]["line_color"]) == (
        "45",
        "138,138,138,255",
        "138,138,138,255",
    )

    overlap = _symbol_layers(rows["chevauchements"]["styleQML"])
    assert (overlap[0]["color"], overlap[0]["outline_color"], overlap[0]["outline_width"]) == (
        "215,25,28,115",
        "215,25,28,255",
        "0.661",
    )  # #d7191c, 0.45, 2.5 px
    assert OVERLAP_STYLE["fillColor"] == "#d7191c"

    sugg = ET.fromstring(rows["territoires_proposes"]["styleQML"].split("\n", 1)[1])
    assert sugg.get("labelsEnabled") == "1"
    assert sugg.find("labeling").get("type") == "simple"
    assert sugg.find("labeling/settings/text-style").get("fieldName") == "territoire_id"
    assert _symbol_layers(rows["territoires_proposes"]["styleQML"])[0]["color"] == "31,120,180,140"  # #1f78b4


def test_extension_orphan_and_outline_styles():
    ext = _symbol_layers(q.extension_qml())
    assert [lay["class"] for lay in ext] == ["SimpleFill", "SimpleLine"]
    assert (ext[0]["color"], ext[0]["outline_style"]) == ("239,138,98,128", "no")  # #ef8a62, 0.5
    assert (ext[1]["line_color"], ext[1]["use_custom_dash"], ext[1]["customdash"]) == (
        "178,24,43,255",
        "1",
        "1.323;1.323",
    )  # #b2182b dashed 5,5 px
    orphan = _symbol_layers(q.orphan_qml())
    assert orphan[0]["color"] == "186,186,186,153" and orphan[1]["line_color"] == "77,77,77,255"
    outline = _symbol_layers(q.territory_outline_qml())
    assert [(lay["class"], lay["line_color"], lay["line_width"]) for lay in outline] == [
        ("SimpleLine", "0,0,0,255", "0.794")
    ]
    assert _symbol_layers(q.departement_outline_qml())[0]["line_color"] == "68,68,68,230"
    units = ET.fromstring(q.territory_units_qml().split("\n", 1)[1])
    assert [c.get("value") for c in units.iter("category")] == [
        "chevauchement",
        "epci_partiel",
        "territoire",
        "enclave",
        "epci_hors",
    ]
    by_symbol = {
        sym.get("name"): [lay.get("class") for lay in sym.findall("layer")]
        for sym in units.find("renderer-v2/symbols")
    }
    assert by_symbol["3"] == ["SimpleFill", "SimpleLine"]  # enclaves: dashed outline "4 3"
    enclave = {
        o.get("name"): o.get("value") for o in units.find("renderer-v2/symbols")[3].find("layer/Option")
    }
    assert enclave["color"] == "158,154,200,191"  # #9e9ac8 at 0.75


def test_suggested_colours_by_palette_index():
    root = ET.fromstring(q.suggested_qml(colour_field="couleur").split("\n", 1)[1])
    r = root.find("renderer-v2")
    assert r.get("attr") == "couleur" and len(r.find("categories")) == len(PALETTE)
    first = {o.get("name"): o.get("value") for o in r.find("symbols/symbol/layer/Option")}
    assert first["color"] == q.rgba(PALETTE[0], 0.55)
    labels = [c.get("label") for c in r.find("categories")]
    assert (
        labels[0] == f"Territoires proposés — teinte 1 sur {len(PALETTE)}"
    )  # not « Territoire proposé (1) »


def test_builders():
    assert q.rgba("#333") == "51,51,51,255" and q.rgba("#1A9850", 0) == "26,152,80,0"
    with pytest.raises(ValueError, match="hex colour"):
        q.rgba("red")
    dashed = _symbol_layers(q.qml_single_fill("#ffffff", "#000000", 0.5, 0.3, dash=[2, 1]))
    assert dashed[1]["customdash"] == "2;1" and dashed[0]["color"] == "255,255,255,77"
    assert _symbol_layers(q.qml_single_fill(None, "#000000"))[0]["style"] == "no"
    assert _symbol_layers(q.qml_outline("#123456", 1.2))[0]["line_width"] == "1.2"
    with pytest.raises(ValueError, match="no category"):
        q.qml_categorized("x", [])
    for s, colour in STAGE_COLORS.items():
        assert q.rgba(colour, 0.6) in q.cpts_stage_qml(), s


def test_styles_rewritten_not_duplicated(gpkg):
    q.write_layer_styles(gpkg, {"zones_blanches": (q.orphan_qml(), "", "autre")})
    rows = (
        sqlite3.connect(gpkg)
        .execute(
            "SELECT f_table_name, useAsDefault, description FROM layer_styles WHERE f_table_name='zones_blanches'"
        )
        .fetchall()
    )
    assert rows == [("zones_blanches", 1, "autre")]
    assert len(pyogrio.read_dataframe(gpkg, layer="layer_styles")) == 4


def test_given_crs(tmp_path):
    layers = {"t": (_layers()["zones_blanches"][0].set_crs(2154, allow_override=True), q.white_zone_qml())}
    out = q.write_styled_gpkg(tmp_path / "l93.gpkg", layers, crs=2154)
    assert pyogrio.read_info(out, layer="t")["crs"] == "EPSG:2154"


def test_empty_layer(tmp_path):
    empty = gpd.GeoDataFrame({"nom": []}, geometry=[], crs=4326)
    out = q.write_styled_gpkg(tmp_path / "e.gpkg", {"vide": (empty, q.overlap_qml())})
    assert {n: k for n, k in pyogrio.list_layers(out)} == {"vide": "MultiPolygon", "layer_styles": None}
    assert list(_styles(out)) == ["vide"]


def test_refusals(tmp_path):
    good = _layers()["zones_blanches"][0]
    with pytest.raises(
        CptsGeoError,
        match=r"couche 'a' : pas de système de coordonnées.*réservé.*'gpkg_x'"
        r".*deux couches nommées 'B'",
    ):
        q.write_styled_gpkg(
            tmp_path / "x.gpkg",
            {
                "a": (good.set_crs(None, allow_override=True), ""),
                "gpkg_x": (good, ""),
                "b": (good, ""),
                "B": (good, ""),
            },
        )
    with pytest.raises(InputError, match=r"extension \.gpkg"):
        q.write_styled_gpkg(tmp_path / "x.geojson", {"a": (good, "")})
    assert not os.listdir(tmp_path)
    inp = tmp_path / "in.gpkg"
    q.write_styled_gpkg(inp, {"a": (good, q.white_zone_qml())})
    with pytest.raises(InputError, match="aussi un fichier d'entrée"):
        q.write_styled_gpkg(inp, {"a": (good, "")}, inputs=[inp])
    assert sorted(os.listdir(tmp_path)) == ["in.gpkg"]  # no temp file left
    with pytest.raises(CptsGeoError, match=r"pas de couche 'absente' ; couches : a"):
        q.write_layer_styles(inp, {"absente": ("", "", "")})
    (tmp_path / "t.sqlite").write_bytes(b"")
    with pytest.raises(CptsGeoError, match="n'est pas un GeoPackage"):
        q.write_layer_styles(tmp_path / "t.sqlite", {"a": ("", "", "")})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=20), st.text(max_size=30)), min_size=1, max_size=5),
    st.text(min_size=1, max_size=20),
)
def test_arbitrary_labels_give_valid_xml(cats, field):
    qml = q.qml_categorized(field, [(v, lab, "#1f78b4", "#222222") for v, lab in cats], label_field=field)
    root = ET.fromstring(qml.split("\n", 1)[1])
    assert len(root.find("renderer-v2/categories")) == len(cats)


def _preview_module():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "render_qml_preview.py"
    spec = importlib.util.spec_from_file_location("render_qml_preview", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_preview_reads_colours_back_and_draws_them(tmp_path, gpkg):
    preview = _preview_module()
    styles = preview.read_styles(gpkg)
    cats = {v: layers for v, _, layers in styles["cpts_par_stade"][0]["categories"]}
    assert preview._colour(cats["aci"][0]["color"]) == (26 / 255, 152 / 255, 80 / 255, 153 / 255)
    assert styles["territoires_proposes"][0]["label_field"] == "territoire_id"

    # One big "aci" square: its middle is #1a9850 at 60 % over white.
    from PIL import Image

    square = gpd.GeoDataFrame({"statut": ["aci"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    one = q.write_styled_gpkg(tmp_path / "one.gpkg", {"cpts": (square, q.cpts_stage_qml())})
    png = preview.render(one, tmp_path / "one.png", dpi=50)
    img = Image.open(png).convert("RGB")
    r, g, b = img.getpixel((img.width // 3, img.height // 2))
    assert abs(r - 118) <= 2 and abs(g - 193) <= 2 and abs(b - 150) <= 2


def _qgis_python() -> str | None:
    """A Python with PyQGIS (``$CPTS_QGIS_PYTHON``, else Debian's ``/usr/bin/python3``), or None."""
    import subprocess

    exe = os.environ.get("CPTS_QGIS_PYTHON", "/usr/bin/python3")
    if not os.path.exists(exe):
        return None
    try:
        ok = subprocess.run([exe, "-c", "import qgis.core"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return None
    return exe if ok else None


@pytest.mark.skipif(_qgis_python() is None, reason="no Python with PyQGIS (python3-qgis) on this machine")
def test_qgis_itself_applies_the_default_styles(tmp_path):
    """QGIS opens each layer with the style of layer_styles, as a user adding the layer would."""
    import json
    import subprocess
    from pathlib import Path

    extra = gpd.GeoDataFrame({"cpts_id": ["C9"]}, geometry=[shapely.box(5, 0, 6, 1)], crs=4326)
    both = q.write_styled_gpkg(
        tmp_path / "all.gpkg",
        {**_layers(), "extensions": (extra, q.extension_qml()), "orphelines": (extra, q.orphan_qml())},
    )
    script = Path(__file__).resolve().parents[2] / "scripts" / "qgis_open_check.py"
    done = subprocess.run(
        [_qgis_python(), str(script), str(both), "--png", str(tmp_path / "q.png")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    layers = json.loads(done.stdout)["layers"]
    # QGIS does not offer its styles table as a layer (unlike pyogrio.list_layers).
    assert sorted(layers) == sorted([*_layers(), "extensions", "orphelines"])
    cpts = layers["cpts_par_stade"]
    assert (cpts["renderer"], cpts["attribute"], cpts["features"]) == ("categorizedSymbol", "statut", 4)
    assert [(c["value"], c["symbol"][0]["color"]) for c in cpts["categories"]] == [
        ("pre-projet", "#99fdae61"),
        ("lettre-intention", "#99fee08b"),
        ("projet-sante", "#99a6d96a"),
        ("aci", "#991a9850"),
        ("", "#99b39ddb"),
    ]
    white = layers["zones_blanches"]["symbol"]
    assert [s["class"] for s in white] == ["SimpleFill", "LinePatternFill"]  # lines: its sub-symbol
    assert (white[0]["color"], white[0]["stroke"], white[1]["line_color"], white[1]["angle"]) == (
        "#ccd9d9d9",
        "#ff737373",
        "#ff8a8a8a",
        45.0,
    )
    assert layers["chevauchements"]["symbol"][0]["color"] == "#73d7191c"
    sugg = layers["territoires_proposes"]
    assert (sugg["labels"], sugg["label_field"], sugg["symbol"][0]["color"]) == (
        True,
        "territoire_id",
        "#8c1f78b4",
    )
    ext = layers["extensions"]["symbol"]
    assert (ext[0]["color"], ext[1]["color"], ext[1]["custom_dash"]) == ("#80ef8a62", "#ffb2182b", True)
    assert layers["orphelines"]["symbol"][0]["color"] == "#99bababa"
    assert (tmp_path / "q.png").stat().st_size > 1000


def test_layer_names_with_spaces_accents_and_quotes(tmp_path):
    gdf = _layers()["zones_blanches"][0]
    name = "Zones blanches d'Anjou (été)"
    out = q.write_styled_gpkg(tmp_path / "n.gpkg", {name: (gdf, q.white_zone_qml())})
    assert pyogrio.list_layers(out).tolist() == [[name, "MultiPolygon"], ["layer_styles", None]]
    assert list(_styles(out)) == [name] and _styles(out)[name]["styleName"] == name[:30]
