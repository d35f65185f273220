"""Units below the commune: a reference built with IRIS (or city sectors) replacing a commune.

The files are made here, small, in the layouts the producers publish: a COG package of nine
square communes of 2 km (Lambert-93) around « Toulouse » (31555), an ADMIN EXPRESS COG commune
GeoPackage, IGN CONTOURS-IRIS (``CODE_IRIS``, ``NOM_IRIS``, ``INSEE_COM``) cutting Toulouse into
four squares of 1 km, and INSEE's population by IRIS (``IRIS``, ``P21_POP``) as a ``;`` CSV and
as an XLSX with title rows. The IRIS figures sum to 8 000.5 for a population légale of 8 000.

    y  j=2  31006 31007 31008
       j=1  31004 31555 31005        Toulouse:  0201 0202
       j=0  31001 31002 31003                   0101 0102
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from cpts_geo._errors import ReferenceDataError
from cpts_geo.reference.units import load_reference

ROOT = Path(__file__).resolve().parents[2]
X0, Y0 = 570_000.0, 6_275_000.0
TOULOUSE = "31555"
IRIS = ["315550101", "315550102", "315550201", "315550202"]
IRIS_NAMES = ["Capitole", "Saint-Cyprien", "Minimes", "Rangueil"]
IRIS_POP = [2100.4, 1899.6, 2000.0, 2000.5]
OTHERS = [f"3100{k}" for k in range(1, 9)]


def _script():
    spec = importlib.util.spec_from_file_location("build_reference", ROOT / "scripts" / "build_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _square(x: float, y: float, size: float):
    return shapely.box(X0 + x, Y0 + y, X0 + x + size, Y0 + y + size)


def _communes() -> dict:
    """Commune code -> its 2 km square."""
    out, k = {}, 1
    for j in range(3):
        for i in range(3):
            if (i, j) == (1, 1):
                out[TOULOUSE] = _square(2000, 2000, 2000)
            else:
                out[f"3100{k}"] = _square(2000 * i, 2000 * j, 2000)
                k += 1
    return out


def _iris_squares() -> list:
    return [_square(2000 + 1000 * i, 2000 + 1000 * j, 1000) for j in range(2) for i in range(2)]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("subdivide")
    dec = d / "decoupage"
    dec.mkdir()
    communes = [
        {
            "code": c,
            "nom": "Toulouse" if c == TOULOUSE else f"Commune {c}",
            "type": "commune-actuelle",
            "zone": "metro",
            "departement": "31",
            "region": "76",
            "population": 8000 if c == TOULOUSE else 1000,
        }
        for c in sorted(_communes())
    ]
    (dec / "communes.json").write_text(json.dumps(communes), encoding="utf-8")
    epci = [
        {
            "code": "243100518",
            "nom": "Toulouse Métropole",
            "type": "METRO",
            "modeFinancement": "FPU",
            "populationMunicipale": 16000,
            "membres": [{"code": c["code"], "populationMunicipale": c["population"]} for c in communes],
        }
    ]
    (dec / "epci.json").write_text(json.dumps(epci), encoding="utf-8")
    (dec / "departements.json").write_text(
        json.dumps([{"code": "31", "region": "76", "nom": "Haute-Garonne", "zone": "metro"}]),
        encoding="utf-8",
    )
    (dec / "regions.json").write_text(
        json.dumps([{"code": "76", "nom": "Occitanie", "zone": "metro"}]), encoding="utf-8"
    )
    com = _communes()
    gpd.GeoDataFrame(
        {"code_insee": list(com), "nom_officiel": [c["nom"] for c in communes]},
        geometry=list(com.values()),
        crs=2154,
    ).to_file(d / "ADE.gpkg", layer="commune", driver="GPKG")
    _iris_layer(d / "CONTOURS-IRIS.gpkg", _iris_squares())
    # INSEE's population by IRIS, CSV: one header line, ';', more columns than needed.
    rows = ["IRIS;REG;DEP;UU2020;COM;LIB_COM;LIBIRIS;TYP_IRIS;P21_POP;P21_POP0002"]
    rows += [
        f"{c};76;31;31701;{TOULOUSE};Toulouse;{n};H;{p};12" for c, n, p in zip(IRIS, IRIS_NAMES, IRIS_POP)
    ]
    rows += ["310010000;76;31;31701;31001;Commune 31001;Commune 31001;Z;1003.2;10"]
    (d / "base-ic-evol-struct-pop-2021.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    # The XLSX as INSEE publishes it: title rows, French labels, then the variables' codes.
    head = ["IRIS", "REG", "DEP", "COM", "LIB_COM", "LIBIRIS", "P20_POP", "P21_POP"]
    table = pd.DataFrame(
        [
            ["Évolution et structure de la population en 2021", *[None] * 7],
            ["Recensement de la population", *[None] * 7],
            [None] * 8,
            [
                "Code IRIS",
                "Région",
                "Département",
                "Commune",
                "Libellé",
                "Libellé IRIS",
                "Pop 2020",
                "Pop 2021",
            ],
            head,
            *[[c, "76", "31", TOULOUSE, "Toulouse", n, 1, p] for c, n, p in zip(IRIS, IRIS_NAMES, IRIS_POP)],
        ]
    )
    with pd.ExcelWriter(d / "base-ic-evol-struct-pop-2021.xlsx") as xl:
        pd.DataFrame([["Documentation"]]).to_excel(xl, sheet_name="Documentation", header=False, index=False)
        table.to_excel(xl, sheet_name="IRIS", header=False, index=False)
    return d


def _iris_layer(path: Path, geoms, codes=IRIS, names=IRIS_NAMES) -> Path:
    """CONTOURS-IRIS as IGN publishes it (GeoPackage, Lambert-93, upper-case attributes), with
    31001 as a commune of one IRIS (``310010000``, type Z), which stays a commune."""
    n = len(codes)
    gpd.GeoDataFrame(
        {
            "INSEE_COM": [TOULOUSE] * n + ["31001"],
            "NOM_COM": ["Toulouse"] * n + ["Commune 31001"],
            "IRIS": [c[5:] for c in codes] + ["0000"],
            "CODE_IRIS": list(codes) + ["310010000"],
            "NOM_IRIS": list(names) + ["Commune 31001"],
            "TYP_IRIS": ["H"] * n + ["Z"],
        },
        geometry=list(geoms) + [_communes()["31001"]],
        crs=2154,
    ).to_file(path, driver="GPKG")
    return path


def _build(files: Path, out: Path, *extra: str) -> int:
    args = [
        "--decoupage",
        str(files / "decoupage"),
        "--admin-express",
        f"{files / 'ADE.gpkg'}::commune",
        "--population-vintage",
        "2023",
        "-o",
        str(out),
        *extra,
    ]
    return _script().main(args)


def _iris_build(
    files: Path, out: Path, layer: Path | None = None, table: str = "base-ic-evol-struct-pop-2021.csv"
):
    return _build(
        files,
        out,
        "--subdivide",
        str(layer or files / "CONTOURS-IRIS.gpkg"),
        "--subdivide-population",
        str(files / table),
    )


@pytest.fixture(scope="module")
def sub_ref(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    assert _iris_build(files, out) == 0
    return load_reference(out)


def test_iris_replace_their_commune(sub_ref):
    units = sub_ref.units
    assert units.index.tolist() == sorted(OTHERS + IRIS)
    iris = units.loc[IRIS]
    assert iris["nom"].tolist() == IRIS_NAMES
    assert set(iris["type"]) == {"infracommunal"}
    assert set(iris["commune"]) == {TOULOUSE}
    assert set(iris["epci"]) == {"243100518"} and set(iris["departement"]) == {"31"}
    assert set(iris["region"]) == {"76"} and set(iris["epsg"]) == {2154}
    # 8 000.5 inhabitants by IRIS scaled to the 8 000 of the population légale (largest remainders).
    assert iris["population"].tolist() == [2100, 1900, 2000, 2000]
    assert int(units["population"].sum()) == 16_000
    assert iris["area_km2"].round(3).tolist() == [1.0] * 4
    assert sub_ref.communes.at[TOULOUSE, "unites"] == ";".join(IRIS)
    assert sub_ref.communes.at[TOULOUSE, "population"] == 8000
    assert sub_ref.communes.at["31001", "unites"] == "31001"
    # Adjacency recomputed (corners count, as everywhere in the reference): the south-west IRIS
    # borders the other three and the communes west and south.
    assert sub_ref.neighbours("315550101") == ["31001", "31002", "31004"] + IRIS[1:]
    assert sub_ref.neighbours("31002") == ["31001", "31003", "31004", "31005", "315550101", "315550102"]
    meta = sub_ref.metadata
    assert meta["counts"]["infracommunal"] == 4
    assert meta["subdivisions"]["population_column"] == "P21_POP"
    assert meta["subdivisions"]["communes"][TOULOUSE] == {
        "nom": "Toulouse",
        "unites": 4,
        "population_legale": 8000,
        "population_source": 8000.5,
        "ecart_population": 0.0001,
        "ecart_surface": 0.0,
        "chevauchement": 0.0,
    }
    assert meta["subdivisions"]["tolerances"] == {"area": 0.01, "overlap": 0.005, "population": 0.02}
    assert meta["sources"]["subdivide"]["file"] == "CONTOURS-IRIS.gpkg"


def test_only_the_communes_asked_for(files, tmp_path):
    """A national CONTOURS-IRIS file for a few cities: the other communes' features are left out
    (the XLSX lacks 31001's IRIS: not read)."""
    base = ["--subdivide", str(files / "CONTOURS-IRIS.gpkg"), "--subdivide-population"]
    base.append(f"{files / 'base-ic-evol-struct-pop-2021.xlsx'}::IRIS")
    assert _build(files, tmp_path / "a", *base, "--subdivide-communes", TOULOUSE) == 0
    assert load_reference(tmp_path / "a").communes.at[TOULOUSE, "unites"] == ";".join(IRIS)
    with pytest.raises(ReferenceDataError, match=r"1 unité\(s\) sans population \(310010000\)"):
        _build(files, tmp_path / "b", *base)
    with pytest.raises(
        ReferenceDataError, match="CONTOURS-IRIS.gpkg : aucune unité pour les communes 31009$"
    ):
        _build(files, tmp_path / "c", *base, "--subdivide-communes", "31555,31009")


def test_xlsx_population_table_with_title_rows(files, tmp_path):
    """INSEE's XLSX: title rows and French labels above the codes; the latest Pyy_POP is taken."""
    args = ["--subdivide", str(files / "CONTOURS-IRIS.gpkg"), "--subdivide-communes", TOULOUSE]
    args += ["--subdivide-population", f"{files / 'base-ic-evol-struct-pop-2021.xlsx'}::IRIS"]
    assert _build(files, tmp_path, *args) == 0
    mine = load_reference(tmp_path)
    assert mine.units.loc[IRIS, "population"].tolist() == [2100, 1900, 2000, 2000]
    assert mine.metadata["subdivisions"]["population_column"] == "P21_POP"


def test_free_layer_of_sectors_with_its_own_columns(files, tmp_path):
    """City sectors in GeoJSON (EPSG:4326), columns mapped by the options, population in the layer."""
    sq = _iris_squares()
    sectors = gpd.GeoDataFrame(
        {
            "secteur": ["T5.1", "T5.2", "T5.3"],
            "libelle": ["Toulouse 5.1", "Toulouse 5.2", "Toulouse 5.3"],
            "insee": [TOULOUSE] * 3,
            "habitants": [4000, 2000, 2000],
        },
        geometry=[shapely.union_all([sq[0], sq[2]]), sq[3], sq[1]],
        crs=2154,
    ).to_crs(4326)
    sectors.to_file(tmp_path / "secteurs.geojson", driver="GeoJSON")
    args = ["--subdivide", str(tmp_path / "secteurs.geojson")]
    for opt, col in (
        ("code", "secteur"),
        ("name", "libelle"),
        ("commune", "insee"),
        ("population", "habitants"),
    ):
        args += [f"--subdivide-{opt}-column", col]
    assert _build(files, tmp_path / "ref", *args) == 0
    mine = load_reference(tmp_path / "ref")
    assert mine.communes.at[TOULOUSE, "unites"] == "T5.1;T5.2;T5.3"
    assert mine.units.loc[["T5.1", "T5.2", "T5.3"], "population"].tolist() == [4000, 2000, 2000]
    assert mine.units.loc["T5.1", "area_km2"] == pytest.approx(2.0, abs=1e-3)
    assert mine.resolve(["Toulouse 5.2"]).codes == ["T5.2"]
    assert mine.resolve(["t5.3"]).codes == ["T5.3"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "gap",
            "Toulouse \\(31555\\) : les unités ne recouvrent pas la commune \\(écart de surface "
            "25,00\u00a0% de la commune, tolérance 1\u00a0%\\)",
        ),
        (
            "overlap",
            "Toulouse \\(31555\\) : les unités se chevauchent \\(12,50\u00a0% de la surface de la "
            "commune, tolérance 0,5\u00a0%\\)",
        ),
        ("duplicate", r"CONTOURS-IRIS.gpkg : codes en double : 315550101$"),
        ("commune code", r"codes déjà pris par une commune ou une unité : 31001"),
    ],
)
def test_broken_layers_are_refused(files, tmp_path, change, message):
    geoms, codes = _iris_squares(), list(IRIS)
    if change == "gap":
        geoms[3] = _square(3000, 3000, 1)  # 0202 shrunk to 1 m²: a quarter of Toulouse uncovered
    elif change == "overlap":
        geoms[1] = _square(2500, 2000, 1000).union(geoms[1])  # 0102 reaches half into 0101
    elif change == "duplicate":
        codes[1] = codes[0]
    else:
        codes[1] = "31001"
    layer = _iris_layer(tmp_path / "CONTOURS-IRIS.gpkg", geoms, codes=codes)
    table = (files / "base-ic-evol-struct-pop-2021.csv").read_text(encoding="utf-8")
    if change == "commune code":
        table = table.replace(f"{IRIS[1]};", f"{codes[1]};")
    (tmp_path / "pop.csv").write_text(table, encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=message):
        _iris_build(files, tmp_path / "ref", layer=layer, table=str(tmp_path / "pop.csv"))


def test_population_off_by_ten_percent_is_refused(files, tmp_path):
    table = (files / "base-ic-evol-struct-pop-2021.csv").read_text(encoding="utf-8")
    (tmp_path / "pop.csv").write_text(table.replace(";2000.5;", ";2800.5;"), encoding="utf-8")
    with pytest.raises(
        ReferenceDataError,
        match="Toulouse \\(31555\\) : population des unités 8\u00a0800 pour une population légale de "
        "8\u00a0000 \\(\\+10,0\u00a0%, tolérance 2\u00a0%\\)",
    ):
        _iris_build(files, tmp_path / "ref", table=str(tmp_path / "pop.csv"))
    (tmp_path / "short.csv").write_text(table.replace("315550202;", "315559999;"), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"1 unité\(s\) sans population \(315550202\)"):
        _iris_build(files, tmp_path / "ref", table=str(tmp_path / "short.csv"))


# --- everything works on such units --------------------------------------------------------

WEST = ["31001", "31002", "31004", "315550101", "315550201"]  # Toulouse's west half and three communes
EAST = ["31003", "31005", "31008", "315550102", "315550202"]


def _register(a=WEST, b=EAST) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cpts_id": ["A"] * len(a) + ["B"] * len(b),
            "cpts_nom": ["CPTS Toulouse Ouest"] * len(a) + ["CPTS Toulouse Est"] * len(b),
            "code_insee": list(a) + list(b),
            "statut": "aci",
        }
    )


def test_resolve_sub_units(sub_ref):
    r = sub_ref.resolve(["315550101", "Saint-Cyprien", "Toulouse Minimes", "rangueil"])
    assert r.codes == IRIS and r.warnings == []
    r = sub_ref.resolve(["31555"])
    assert r.codes == IRIS
    assert [w["message"] for w in r.warnings] == [
        "Toulouse (31555) remplacée par ses 4 unités infracommunales"
    ]
    r = sub_ref.resolve(["Toulouse"])
    assert r.codes == IRIS
    assert [w["message"] for w in r.warnings] == [
        "Toulouse (31555) remplacée par ses 4 unités infracommunales"
    ]
    assert sub_ref.expand("31555") == IRIS and sub_ref.expand("31001") == ["31001"]
    assert sub_ref.subdivided == {TOULOUSE: tuple(IRIS)}


def test_territory_of_sub_units(sub_ref):
    from cpts_geo.checks.rules import check_territory

    rep = check_territory(sub_ref, WEST, min_population=None)
    assert rep.territory["population"] == 3000 + 2100 + 2000
    assert {r.id: r.status for r in rep.rules} == {
        "population": "pass",
        "contiguity": "pass",
        "enclaves": "pass",
        "epci_alignment": "warn",
        "admin_boundaries": "pass",
    }
    # Two IRIS that touch only through the west half of the city are not contiguous without it.
    rep = check_territory(sub_ref, ["315550102", "31004"], min_population=None)
    assert {r.id: r.status for r in rep.rules}["contiguity"] == "fail"


def test_register_sharing_a_commune_by_its_sub_units(sub_ref):
    from cpts_geo.checks.rules import check_register

    rr = check_register(sub_ref, _register(), min_population=None)
    assert rr.overlaps == []
    assert [{r.id: r.status for r in rep.rules}["overlap"] for rep in rr.reports] == ["pass", "pass"]
    assert [rep.territory["population"] for rep in rr.reports] == [7100, 6900]
    # Each CPTS names its own IRIS: its population is known, no range (issue 22, point 3).
    assert [rep.territory["population_known"] for rep in rr.reports] == [True, True]
    assert [rep.territory["population_min"] for rep in rr.reports] == [7100, 6900]
    # One IRIS in both CPTS: an overlap, named.
    rr = check_register(sub_ref, _register(b=EAST + ["315550101"]), min_population=None)
    assert [(o["code"], o["cpts"]) for o in rr.overlaps] == [("315550101", ["A", "B"])]
    assert [{r.id: r.status for r in rep.rules}["overlap"] for rep in rr.reports] == ["fail", "fail"]


def test_register_of_the_commune_reference_naming_the_shared_commune(sub_ref):
    """A register written on the commune reference gives Toulouse in both CPTS: on the divided
    reference, the commune means all its units (with a warning), so the sharing is an overlap;
    naming the sub-units instead settles it."""
    from cpts_geo.checks.rules import check_register
    from cpts_geo.inputs.read import as_register

    reg = as_register(sub_ref, _register(a=["31001", "31004", TOULOUSE], b=["31003", "31005", TOULOUSE]))
    assert sorted(reg.links.loc[reg.links["cpts_id"] == "A", "code_insee"]) == ["31001", "31004"] + IRIS
    rr = check_register(sub_ref, reg, min_population=None)
    assert sorted(o["code"] for o in rr.overlaps) == IRIS


def test_declared_shared_commune_of_a_commune_register_on_the_divided_reference(sub_ref):
    """Issue 17, point 3: a register written on the commune reference that declares Toulouse
    shared (commune_partagee) still works on the divided reference: the commune means all its
    units in both CPTS, declared shared, so a warning and no overlap."""
    from cpts_geo.checks.rules import check_register

    df = _register(a=["31001", "31004", TOULOUSE], b=["31003", "31005", TOULOUSE])
    df["commune_partagee"] = ["oui" if c == TOULOUSE else "" for c in df["code_insee"]]
    rr = check_register(sub_ref, df, min_population=None)
    assert rr.overlaps == []
    assert sorted(s["code"] for s in rr.shared) == IRIS
    assert all(s["cpts"] == ["A", "B"] for s in rr.shared)
    assert [{r.id: r.status for r in rep.rules}["overlap"] for rep in rr.reports] == ["warn", "warn"]
    assert rr.to_dict()["register"]["overlaps"] == []
    # Still declared shared, not split between them: the part of each is not known.
    assert [rep.territory["population_known"] for rep in rr.reports] == [False, False]
    assert [rep.territory["population_max"] - rep.territory["population_min"] for rep in rr.reports] == [
        8000,
        8000,
    ]


def test_coverage_of_sub_units(sub_ref):
    from cpts_geo.steering.coverage import coverage_summary

    cov = coverage_summary(sub_ref, _register())
    units = cov.units
    assert units.loc[IRIS, "n_cpts"].tolist() == [1, 1, 1, 1]
    assert units.loc[units["n_cpts"] == 0].index.tolist() == ["31006", "31007"]
    assert int(units.loc[units["n_cpts"] == 0, "population"].sum()) == 2000
    assert cov.cpts_frame.loc[["A", "B"], "n_units"].tolist() == [5, 5]
    assert cov.cpts_frame.loc[["A", "B"], "n_communes"].tolist() == [4, 4]
    assert cov.units_phrase("white") == "2 communes"
    # Sub-units are named as such, never as arrondissements.
    white_iris = coverage_summary(sub_ref, _register(a=["31001"], b=["31003"]))
    assert white_iris.units_phrase("white").endswith("et 4 unités infracommunales)")


def test_map_draws_sub_units_and_the_commune_outline(sub_ref):
    from cpts_geo.maps.coverage import coverage_map

    m = coverage_map(sub_ref, _register(), departement="31", search=False)
    page = m.get_root().render()
    assert "Commune découpée en unités infracommunales" in page  # the legend
    layers = {
        child.layer_name: child
        for child in m._children.values()
        if getattr(child, "layer_name", None)
        in ("Unités infracommunales (IRIS, secteurs)", "Communes découpées (contour)")
    }
    outline = layers["Communes découpées (contour)"].data["features"]
    assert len(outline) == 1
    geom = gpd.GeoSeries([shapely.geometry.shape(outline[0]["geometry"])], crs=4326).to_crs(2154)
    assert geom.area.iloc[0] == pytest.approx(4e6, rel=1e-3)
    assert len(layers["Unités infracommunales (IRIS, secteurs)"].data["features"]) == 4


def test_suggest_on_sub_units(sub_ref):
    from cpts_geo.suggest.territories import suggest_territories

    res = suggest_territories(
        sub_ref, existing=_register(a=WEST, b=["31003", "31005", "31008"]), min_population=3000
    )
    table = res.unit_table()
    assert sorted(table.index if "code_insee" not in table else table["code_insee"]) == [
        "31006",
        "31007",
        "315550102",
        "315550202",
    ]


def test_sources_md_states_the_scaling(sub_ref, tmp_path):
    from cpts_geo.build.builder import write_sources_md

    write_sources_md(tmp_path, sub_ref.metadata)
    text = (tmp_path / "SOURCES.md").read_text(encoding="utf-8")
    assert "12 units: 8 communes + 0 arrondissements" in text
    assert "## Units below the commune" in text
    assert "scaled to its population légale" in text
    assert (
        "  - `31555` Toulouse: 4 units; 8,000.5 inhabitants in the source for a population légale of "
        "8,000 (+0.01%)"
    ) in text


def test_small_gap_within_tolerance_goes_to_the_bordering_unit(files, tmp_path):
    """A 20 m strip of Toulouse left uncovered along 0202's east edge (0.5 % of the city) is
    accepted and given to 0202, the only unit bordering it."""
    geoms = _iris_squares()
    x0, y0, x1, y1 = geoms[3].bounds
    geoms[3] = shapely.box(x0, y0, x1 - 20, y1)
    layer = _iris_layer(tmp_path / "CONTOURS-IRIS.gpkg", geoms)
    assert _iris_build(files, tmp_path / "ref", layer=layer) == 0
    mine = load_reference(tmp_path / "ref")
    assert mine.units.loc[IRIS, "area_km2"].round(4).tolist() == [1.0] * 4
    assert "31005" in mine.neighbours("315550202")
    figures = mine.metadata["subdivisions"]["communes"][TOULOUSE]
    assert (figures["ecart_surface"], figures["chevauchement"]) == (0.005, 0.0)


def test_check_register_cli_on_the_divided_reference(sub_ref, tmp_path):
    from click.testing import CliRunner

    from cpts_geo.cli.main import main

    path = tmp_path / "registre.csv"
    _register(b=EAST + ["315550101"]).to_csv(path, index=False)
    res = CliRunner().invoke(
        main,
        [
            "--reference",
            str(sub_ref.path),
            "check-register",
            str(path),
            "--min-population",
            "0",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 1, res.output
    data = json.loads(res.stdout)
    assert [o["code"] for o in data["register"]["overlaps"]] == ["315550101"]
    res = CliRunner().invoke(main, ["--reference", str(sub_ref.path), "reference", "info"])
    assert "Unités infracommunales (IRIS, secteurs) : 4" in res.stdout


@given(
    pops=st.lists(st.floats(min_value=0, max_value=1e5, allow_nan=False), min_size=1, max_size=30),
    total=st.integers(min_value=0, max_value=10**6),
)
def test_scaled_populations_sum_to_the_population_legale(pops, total):
    from cpts_geo.build.subdivide import _scaled

    arr = np.array(pops)
    out = _scaled(arr, total)
    assert int(out.sum()) == total
    share = arr * total / arr.sum() if arr.sum() > 0 else np.full(len(arr), total / len(arr))
    assert (np.abs(out - share) < 1 + 1e-6).all()


def test_arrondissements_and_unknown_communes_are_not_divided():
    from cpts_geo.build.subdivide import Subdivision, subdivide_units

    units = gpd.GeoDataFrame(
        {"nom": ["Lyon 1er Arrondissement"], "type": ["arrondissement"], "commune": ["69123"]},
        geometry=[shapely.box(4.8, 45.7, 4.9, 45.8)],
        index=pd.Index(["69381"], name="code"),
        crs=4326,
    )
    layer = gpd.GeoDataFrame(
        {
            "code": ["693810101", "693810102", "X1"],
            "nom": ["a", "b", "c"],
            "parent": ["69381", "69381", "99999"],
        },
        geometry=[
            shapely.box(4.8, 45.7, 4.85, 45.8),
            shapely.box(4.85, 45.7, 4.9, 45.8),
            shapely.box(0, 0, 1, 1),
        ],
        crs=4326,
    ).assign(population=1.0)
    with pytest.raises(
        ReferenceDataError,
        match=r"^secteurs.gpkg : communes absentes du référentiel : 99999 ; arrondissements municipaux non "
        r"découpables \(69381\) : Paris, Lyon et Marseille sont déjà représentées par leurs arrondissements$",
    ):
        subdivide_units(units, Subdivision(units=layer, source="secteurs.gpkg", population_column="pop"))


def test_indicators_of_a_divided_commune_are_reported(sub_ref, tmp_path):
    from cpts_geo.inputs.read import read_indicators

    path = tmp_path / "indicateurs.csv"
    path.write_text("code;medecins\n31555;40\n315550101;10\n", encoding="utf-8")
    ind = read_indicators(path, sub_ref)
    assert [w["message"] for w in ind.warnings] == [
        "31555 (Toulouse) : les unités sont ses 4 unités infracommunales (IRIS, secteurs) ; la valeur "
        "de la commune entière ne peut pas leur être répartie et ne sera pas utilisée"
    ]


# --- a real commune of the shipped reference, cut by a grid ----------------------------------


@pytest.fixture(scope="module")
def real_toulouse(ref, tmp_path_factory):
    """Toulouse and its neighbours from the shipped reference, as a COG package and an ADMIN
    EXPRESS layer; Toulouse cut by a 2 km grid into IRIS whose populations, proportional to
    their areas, sum to its population légale."""
    d = tmp_path_factory.mktemp("real")
    codes = [TOULOUSE, *ref.neighbours(TOULOUSE)]
    units = ref.units.loc[codes]
    dec = d / "decoupage"
    dec.mkdir()
    records = [
        {
            "code": c,
            "nom": r.nom,
            "type": "commune-actuelle",
            "zone": r.zone,
            "departement": r.departement,
            "region": r.region,
            "population": int(r.population),
        }
        for c, r in units.iterrows()
    ]
    (dec / "communes.json").write_text(json.dumps(records), encoding="utf-8")
    epci = [
        {
            "code": e,
            "nom": ref.epci.at[e, "nom"],
            "type": "CC",
            "modeFinancement": "FPU",
            "populationMunicipale": int(g["population"].sum()),
            "membres": [{"code": c, "populationMunicipale": int(p)} for c, p in g["population"].items()],
        }
        for e, g in units.groupby("epci")
    ]
    (dec / "epci.json").write_text(json.dumps(epci), encoding="utf-8")
    (dec / "departements.json").write_text(
        json.dumps([{"code": "31", "region": "76", "nom": "Haute-Garonne", "zone": "metro"}]),
        encoding="utf-8",
    )
    (dec / "regions.json").write_text(
        json.dumps([{"code": "76", "nom": "Occitanie", "zone": "metro"}]), encoding="utf-8"
    )
    l93 = units.geometry.to_crs(2154)
    gpd.GeoDataFrame({"code_insee": codes}, geometry=l93.to_numpy(), crs=2154).to_file(
        d / "ADE.gpkg", layer="commune", driver="GPKG"
    )
    city = l93.loc[TOULOUSE]
    x0, y0, x1, y1 = city.bounds
    cells = [
        shapely.intersection(shapely.box(x, y, x + 2000, y + 2000), city)
        for x in np.arange(x0, x1, 2000)
        for y in np.arange(y0, y1, 2000)
    ]
    cells = [c for c in cells if c.area > 1]
    iris = [f"{TOULOUSE}{k + 1:04d}" for k in range(len(cells))]
    pop = int(units.at[TOULOUSE, "population"])
    areas = np.array([c.area for c in cells])
    gpd.GeoDataFrame(
        {
            "CODE_IRIS": iris,
            "NOM_IRIS": [f"Carreau {k + 1}" for k in range(len(cells))],
            "INSEE_COM": TOULOUSE,
        },
        geometry=cells,
        crs=2154,
    ).to_file(d / "CONTOURS-IRIS.gpkg", driver="GPKG")
    rows = ["IRIS;COM;P21_POP"] + [f"{c};{TOULOUSE};{p:.1f}" for c, p in zip(iris, areas / areas.sum() * pop)]
    (d / "pop.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = d / "ref"
    args = ["--subdivide", str(d / "CONTOURS-IRIS.gpkg"), "--subdivide-population", str(d / "pop.csv")]
    assert _build(d, out, *args) == 0
    return load_reference(out), iris


def test_real_commune_cut_by_a_grid(ref, real_toulouse):
    mine, iris = real_toulouse
    pop = int(ref.units.at[TOULOUSE, "population"])
    assert mine.communes.at[TOULOUSE, "unites"] == ";".join(iris)
    assert int(mine.units.loc[iris, "population"].sum()) == pop
    assert mine.units.loc[iris, "area_km2"].sum() == pytest.approx(
        ref.units.at[TOULOUSE, "area_km2"], rel=1e-4
    )
    # Every neighbour of Toulouse borders one of its IRIS, and nothing else changed.
    for n in ref.neighbours(TOULOUSE):
        assert set(mine.neighbours(n)) & set(iris), n
        assert set(mine.neighbours(n)) - set(iris) == set(ref.neighbours(n)) & set(mine.units.index)
    # Two CPTS sharing Toulouse by its IRIS, west and east of its centre.
    x = mine.units.loc[iris, "lon"]
    west, east = list(x[x < x.median()].index), list(x[x >= x.median()].index)
    from cpts_geo.checks.rules import check_register

    reg = pd.DataFrame({"cpts_id": ["O"] * len(west) + ["E"] * len(east), "code_insee": west + east})
    rr = check_register(mine, reg, min_population=None)
    assert rr.overlaps == []
    assert sum(rep.territory["population"] for rep in rr.reports) == pop
