"""Reading polygons (GeoJSON, GeoPackage, Shapefile) as users send them: the layer to read, the CRS declared or guessed, repairs with their areas, degenerate geometries refused; the area share of each unit inside a polygon (used by :mod:`cpts_geo.inputs`)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpts_geo._errors import InputError
from cpts_geo._text import fr_decimal, fr_int, safe
from cpts_geo.inputs._tables import _check_input_file
from cpts_geo.inputs.cells import short_error
from cpts_geo.reference.units import Reference


def _area_shares(ref: Reference, geom) -> pd.Series:
    """Share of each unit's area inside ``geom`` (EPSG:4326), measured in the zone's CRS."""
    units = ref.units
    idx = units.sindex.query(geom, predicate="intersects")
    if not len(idx):
        return pd.Series(dtype=float)
    cand = units.iloc[np.sort(idx)]
    out = []
    for epsg, part in cand.groupby("epsg"):
        proj = part.geometry.to_crs(int(epsg)).to_numpy()
        g = gpd.GeoSeries([geom], crs=4326).to_crs(int(epsg)).iloc[0]
        area = shapely.area(proj)
        inter = shapely.area(shapely.intersection(proj, g))
        out.append(pd.Series(np.where(area > 0, inter / area, 0.0), index=part.index))
    return pd.concat(out)


def _with_contained(ref: Reference, codes: list[str]) -> list[str]:
    """Add the units without a geometry whose polygon is their container's (restored communes)."""
    units = ref.units
    missing = units.index[units.geometry.isna()]
    chosen = set(codes)
    for code in missing:
        m = re.search(r"inclus dans (\d\w\d{3})", str(units.at[code, "geometry_source"]))
        if m and m.group(1) in chosen and code not in chosen:
            codes.append(code)
            chosen.add(code)
    return codes


def _geo_layer(path: Path, layer: str | None) -> str | None:
    """The layer to read: ``layer`` (checked), the only spatial layer, or a refusal listing
    the layers (a second layer is never ignored silently). Non-spatial tables such as QGIS's
    ``layer_styles`` are not layers of polygons."""
    import pyogrio

    try:
        listed = pyogrio.list_layers(path)
    except Exception:  # unreadable: gpd.read_file says why
        return layer
    spatial = [str(name) for name, gtype in listed if gtype is not None]
    if layer is not None:
        if layer not in spatial:
            raise InputError(
                f"{path} : couche '{safe(layer)}' introuvable ; couches : {', '.join(map(safe, spatial)) or 'aucune'}"
            )
        return layer
    if len(spatial) > 1:
        raise InputError(
            f"{path} : {fr_int(len(spatial))} couches ({', '.join(map(safe, spatial))}) ; choisissez-en une "
            "(paramètre layer)"
        )
    return spatial[0] if spatial else None


def _read_geo(
    path: Path, ref: Reference | None = None, *, layer: str | None = None, crs=None
) -> gpd.GeoDataFrame:
    """The polygons of a geographic file in EPSG:4326, repaired; what was repaired is in
    ``gdf.attrs["warnings"]`` (the area before and after, in the zone's CRS)."""
    import warnings as _warnings

    _check_input_file(path)
    chosen = _geo_layer(path, layer)
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # pyogrio's own warnings: our messages say it in French
            gdf = gpd.read_file(path, layer=chosen) if chosen is not None else gpd.read_file(path)
    except Exception as exc:  # pyogrio/GDAL raise many kinds; all mean "cannot read this file"
        raise InputError(
            f"{path} : fichier géographique illisible ({safe(short_error(exc))}) ; attendu un "
            "GeoJSON ou un GeoPackage de polygones"
        ) from None
    if gdf.crs is None or crs is not None or _not_degrees(gdf):
        gdf = _declared_crs(gdf, path, crs)
    if not len(gdf):
        raise InputError(f"{path} : le fichier ne contient aucun objet")
    gtype = shapely.get_type_id(gdf.geometry.to_numpy())
    bad = np.flatnonzero(~np.isin(gtype, [3, 6]))  # Polygon, MultiPolygon
    if len(bad):
        kinds = sorted(set(gdf.geometry.iloc[bad].geom_type.fillna("vide")))
        raise InputError(
            f"{path} : objet n°{bad[0] + 1} : géométrie {', '.join(kinds)} ; attendu des polygones"
        )
    geoms = gdf.geometry.to_numpy()
    for i, g in enumerate(geoms):
        xy = shapely.get_coordinates(g)
        if not np.isfinite(xy).all():
            raise InputError(f"{path} : objet n°{i + 1} : coordonnées non finies (NaN ou infini)")
    try:
        gdf = gdf.to_crs(4326)
    except Exception as exc:  # PROJ errors: a CRS it cannot transform
        raise InputError(f"{path} : reprojection impossible ({safe(short_error(exc))})") from None
    gdf["geometry"], gdf.attrs["warnings"] = _repaired(path, gdf.geometry.to_numpy(), ref)
    return gdf


def _declared_crs(gdf: gpd.GeoDataFrame, path: Path, crs) -> gpd.GeoDataFrame:
    """A layer without CRS with the one the user declared; else an error that says whether its
    coordinates look like degrees or projected metres."""
    if crs is not None:
        try:
            return gdf.set_crs(_crs_value(crs), allow_override=True)
        except Exception as exc:  # pyproj raises CRSError and ValueError
            raise InputError(f"crs '{crs}' : système de coordonnées inconnu ({short_error(exc)})") from None
    bounds = gdf.total_bounds if len(gdf) else np.array([np.nan] * 4)
    if _not_degrees(gdf):
        raise InputError(
            f"{path} : le fichier n'a pas de système de coordonnées (CRS) déclaré et ses coordonnées "
            f"(x de {bounds[0]:.0f} à {bounds[2]:.0f}, y de {bounds[1]:.0f} à {bounds[3]:.0f}) ne sont pas "
            "des degrés : elles semblent projetées (en mètres ; Lambert-93, EPSG:2154, en métropole) ; "
            "déclarez le CRS (paramètre crs, par exemple crs=2154) ou enregistrez le fichier avec son CRS"
        )
    raise InputError(
        f"{path} : le fichier n'a pas de système de coordonnées (CRS) ; ses coordonnées ressemblent à "
        "des degrés : déclarez le CRS (paramètre crs, par exemple crs=4326) ou enregistrez le fichier "
        "avec son CRS (par exemple EPSG:2154 ou EPSG:4326)"
    )


def _not_degrees(gdf: gpd.GeoDataFrame) -> bool:
    """Coordinates out of the range of degrees in a layer without CRS or in a geographic one (a
    GeoJSON without CRS is read as EPSG:4326): they are projected metres."""
    if gdf.crs is not None and not gdf.crs.is_geographic:
        return False
    bounds = gdf.total_bounds if len(gdf) else np.array([np.nan] * 4)
    return bool(
        np.isfinite(bounds).all()
        and (np.abs(bounds[[0, 2]]).max() > 180 or np.abs(bounds[[1, 3]]).max() > 90)
    )


def _crs_value(crs):
    text = str(crs).strip()
    return int(text) if text.isdigit() else text


def _repaired(path: Path, geoms: np.ndarray, ref: Reference | None) -> tuple[np.ndarray, list[dict]]:
    """Polygons made valid: a self-intersecting one is repaired with a warning giving its area
    before and after (in the zone's CRS: the repair may change which communes are in); one that
    is degenerate (no area left) or that GEOS cannot repair is an InputError naming it."""
    out = geoms.copy()
    warnings = []
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    for i in invalid:
        try:
            # "structure": rings rebuilt as areas (no stray lines or points to filter out)
            fixed = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
            fixed = shapely.union_all(
                [p for p in shapely.get_parts(fixed) if shapely.get_type_id(p) in (3, 6)]
            )
        except shapely.errors.GEOSException as exc:
            raise InputError(f"{path} : objet n°{i + 1} : géométrie irréparable ({safe(exc)})") from None
        epsg = _zone_epsg(ref, fixed if not fixed.is_empty else geoms[i])
        before, after = gpd.GeoSeries([geoms[i], fixed], crs=4326).to_crs(epsg).area.to_numpy() / 1e6
        if fixed.is_empty or not after > 0:
            raise InputError(
                f"{path} : objet n°{i + 1} : polygone dégénéré (surface nulle : points confondus ou "
                "contour aplati) ; redessinez-le"
            )
        warnings.append(
            {
                "line": int(i + 1),
                "value": f"objet n°{i + 1}",
                "message": f"objet n°{i + 1} : polygone invalide (contour qui se recoupe) réparé : "
                f"{fr_decimal(abs(before), 2)} km² avant, {fr_decimal(after, 2)} km² après (EPSG:{epsg}) ; "
                "vérifiez les communes retenues",
            }
        )
        out[i] = fixed
    return out, warnings


def _zone_epsg(ref: Reference | None, geom) -> int:
    """The projected CRS of the zone a geometry falls in (Lambert-93 by default)."""
    if ref is None:
        return 2154
    idx = ref.units.sindex.query(geom, predicate="intersects")
    if not len(idx):
        return 2154
    return int(pd.Series(ref.units["epsg"].to_numpy()[idx]).mode().iloc[0])
