"""Hostile input, at random: whatever bytes, table structures or Python values reach
``read_proposal``, ``read_register`` and ``Reference.resolve``, only the project's errors come
out (a :class:`CptsGeoError` with a message), never a traceback of pandas, openpyxl, pyogrio or
shapely, and what is returned is well formed."""

from __future__ import annotations

import datetime as dt
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpts_geo._errors import CptsGeoError
from cpts_geo.inputs.read import read_proposal, read_register

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Cells users (and attackers) type: real codes and names, near misses, controls, formulas, huge.
CELLS = st.one_of(
    st.sampled_from(
        [
            "49007",
            "49015",
            "2A004",
            "75056",
            "1001",
            "49007.0",
            "Angers",
            "Saint-Denis",
            "Saint-Denis (93)",
            "49000 Angers",
            "=cmd|' /C calc'!A0",
            "\x1b[2J",
            "\x00",
            "",
            " ",
            '"',
            "aci",
            "lettre-intention",
            "31/02/2021",
            "01/03/2021",
            "hier",
            "A" * 300,
        ]
    ),
    st.text(max_size=30),
)
HEADERS = st.sampled_from(
    [
        "cpts_id",
        "cpts_nom",
        "code_insee",
        "statut",
        "date_statut",
        "commune",
        "departement",
        "CODGEO",
        "x",
        "",
    ]
)


def only_our_errors(fn):
    """Call ``fn``; any exception must be one of ours, with a non-empty message."""
    try:
        return fn()
    except CptsGeoError as exc:
        assert str(exc).strip()
        return None


def check_proposal(p) -> None:
    if p is None:
        return
    assert p.codes and len(p.codes) == len(set(p.codes))
    assert all(isinstance(w["message"], str) for w in p.warnings)


def check_register(r) -> None:
    if r is None:
        return
    assert list(r.table.columns)[:3] == ["cpts_id", "cpts_nom", "code_insee"]
    assert r.table["cpts_id"].map(bool).all()


def read_both(ref, path) -> None:
    check_proposal(only_our_errors(lambda: read_proposal(path, ref)))
    check_register(only_our_errors(lambda: read_register(path, ref)))


@SETTINGS
@given(
    data=st.binary(max_size=2000),
    suffix=st.sampled_from([".csv", ".txt", ".xlsx", ".ods", ".geojson", ".gpkg", ""]),
)
def test_random_bytes(ref, tmp_path, data, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    read_both(ref, path)


@SETTINGS
@given(
    header=st.lists(HEADERS, min_size=1, max_size=5),
    rows=st.lists(st.lists(CELLS, max_size=6), max_size=8),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_random_csv_tables(ref, tmp_path, header, rows, sep, encoding):
    buf = io.StringIO()
    for line in [header, *rows]:
        buf.write(sep.join(line) + "\n")
    path = tmp_path / "t.csv"
    path.write_bytes(buf.getvalue().encode(encoding, errors="replace"))
    read_both(ref, path)


XLSX_VALUES = st.one_of(
    CELLS.map(lambda s: "".join(c for c in s if c >= " " or c in "\t\n")),  # openpyxl refuses C0
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
    st.sampled_from(['="49007"', "=A1", "=A1&B1", "=SUM(1,2)", "=1/0", "=Z99"]),
)


@SETTINGS
@given(
    header=st.lists(HEADERS, min_size=1, max_size=5),
    rows=st.lists(st.lists(XLSX_VALUES, max_size=5), max_size=6),
)
def test_random_xlsx_workbooks(ref, tmp_path, header, rows):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    read_both(ref, path)


COORD = st.one_of(
    st.floats(min_value=-5, max_value=10),
    st.sampled_from([float("nan"), float("inf"), -0.55, 47.47, 1e308]),
)
POINT = st.tuples(COORD, COORD)
RING = st.lists(POINT, min_size=0, max_size=7)
GEOMETRY = st.one_of(
    RING.map(lambda r: {"type": "Polygon", "coordinates": [[list(p) for p in r + r[:1]]]}),
    st.lists(RING, max_size=3).map(
        lambda rs: {"type": "MultiPolygon", "coordinates": [[[list(p) for p in r + r[:1]]] for r in rs]}
    ),
    POINT.map(lambda p: {"type": "Point", "coordinates": list(p)}),
    st.none(),
    st.just({"type": "Polygon", "coordinates": "x"}),
)
PROPS = st.dictionaries(
    st.sampled_from(["cpts_id", "cpts_nom", "statut", "date_statut", "nom"]), CELLS, max_size=4
)


@SETTINGS
@given(features=st.lists(st.tuples(GEOMETRY, PROPS), max_size=4), crs=st.booleans())
def test_random_geojson(ref, tmp_path, features, crs):
    doc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features],
    }
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    path = tmp_path / "t.geojson"
    path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    read_both(ref, path)


# Odd Python values handed to the API.
ODD = st.one_of(
    st.none(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=40),
    st.binary(max_size=10),
    st.sampled_from(
        [49007, 49007.0, np.int64(49007), np.float64(np.nan), pd.NA, pd.NaT, dt.date(2021, 1, 1), (), [], {}]
    ),
    st.lists(st.sampled_from(["49007", 1, None]), max_size=3),
)


@SETTINGS
@given(
    values=st.lists(ODD, max_size=6),
    departement=st.one_of(ODD, st.sampled_from([49, "49", "2a", "Maine-et-Loire"])),
)
def test_resolve_odd_values(ref, values, departement):
    def call():
        return ref.resolve(values, departement=departement)

    res = only_our_errors(call)
    if res is not None:
        assert all(isinstance(c, str) and c in ref.units.index for c in res.codes)
        assert len(res.by_value) == len(values)


@SETTINGS
@given(path=ODD)
def test_readers_odd_path_values(ref, path):
    only_our_errors(lambda: read_proposal(path, ref))
    only_our_errors(lambda: read_register(path, ref))


@SETTINGS
@given(frame=st.lists(st.tuples(ODD, ODD, ODD, ODD, ODD), max_size=5))
def test_register_from_odd_frames(ref, frame):
    from cpts_geo.inputs.read import as_register

    df = pd.DataFrame(
        frame, columns=["cpts_id", "cpts_nom", "code_insee", "statut", "date_statut"], dtype=object
    )
    check_register(only_our_errors(lambda: as_register(ref, df)))


@pytest.mark.parametrize("value", [math.inf, -1, 10**40, "inf", object()])
def test_check_territory_odd_options(ref, value):
    from cpts_geo.checks.rules import check_territory

    only_our_errors(lambda: check_territory(ref, ["49007"], min_population=value))
    only_our_errors(lambda: check_territory(ref, ["49007"], sea_link_km=value))


@SETTINGS
@given(
    header=st.lists(HEADERS, min_size=1, max_size=5), rows=st.lists(st.lists(CELLS, max_size=6), max_size=8)
)
def test_random_ods_workbooks(ref, tmp_path, header, rows):
    """LibreOffice workbooks of odd cells: read, or refused with our error."""
    import pandas as pd

    path = tmp_path / "f.ods"
    width = max([len(header), *(len(r) for r in rows)])
    frame = pd.DataFrame([[*r, *[None] * (width - len(r))] for r in [header, *rows]])
    frame.to_excel(path, engine="odf", header=False, index=False)
    read_both(ref, path)
