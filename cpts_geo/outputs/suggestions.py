"""Writing the results of ``suggest`` (one row per unit, polygons per territory, styled GeoPackage)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import shapely

from cpts_geo._errors import InputError
from cpts_geo.reference.units import Reference
from cpts_geo.suggest.territories import LAYER_NAME, SuggestResult, result_features


def write_result(ref: Reference, result: SuggestResult, out, *, inputs=()) -> None:
    """Write a result: ``.csv`` one row per unit, ``.geojson`` one polygon per territory,
    extension and non-rattachable piece, ``.gpkg`` the same as three layers styled for QGIS
    (:func:`cpts_geo.outputs.geopackages.suggest_layers`).

    Raises
    ------
    InputError
        For another extension, or an output path that is one of the inputs.
    """
    from pathlib import Path

    from cpts_geo._io import atomic_write

    out = Path(out)
    ext = out.suffix.lower()
    if ext == ".csv":
        from cpts_geo._csv import neutralize_frame

        table = neutralize_frame(result.unit_table())
        atomic_write(out, lambda p: table.to_csv(p, index=False, encoding="utf-8"), inputs=inputs)
    elif ext == ".gpkg":
        from cpts_geo.outputs.geopackages import write_suggest_gpkg

        write_suggest_gpkg(ref, result, out, inputs=inputs)
    elif ext == ".geojson":
        feats = result_features(ref, result)
        driver = "GeoJSON"
        # The layer name (GeoJSON: its "name" member), not the temporary file's name.
        kwargs = {"layer": LAYER_NAME}

        def write(p):
            with warnings.catch_warnings():  # the temp file's '.tmp' extension, renamed afterwards
                warnings.filterwarnings("ignore", message="The filename extension should be")
                if len(feats):
                    feats.to_file(p, driver=driver, promote_to_multi=True, **kwargs)  # one layer type
                else:
                    _write_empty(p, driver, feats)

        atomic_write(out, write, inputs=inputs)
    else:
        raise InputError(
            f"{out} : format de sortie inconnu '{out.suffix}' ; utilisez .csv, .gpkg ou .geojson"
        )


def _write_empty(path, driver, feats) -> None:
    """An empty layer (no territory to suggest) with the same columns."""
    import pyogrio

    fields = [c for c in feats.columns if c != "geometry"]
    empty = gpd.GeoDataFrame(
        {c: pd.Series(["x"], dtype=object) for c in fields},
        geometry=[shapely.Point(0, 0).buffer(1e-6)],
        crs=4326,
    )
    pyogrio.write_dataframe(
        empty.iloc[:0],
        path,
        driver=driver,
        layer=LAYER_NAME,
        geometry_type="MultiPolygon",
    )
