"""Synthetic references for the tests: square 'communes' of 1 km on a grid (Lambert-93)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.affinity

from cpts_geo.reference.units import Reference

__all__ = ["block", "code", "grid_reference", "polygon_reference"]


def grid_reference(
    nx: int,
    ny: int,
    population=1000,
    *,
    epci=None,
    departement=None,
    region=None,
    islands=(),
    codes_by_departement: bool = False,
) -> Reference:
    """``nx`` x ``ny`` square 'communes' of 1 km (Lambert-93), rook contiguity, plus islands.

    ``population``, ``epci``, ``departement`` and ``region`` are scalars or (ny, nx) arrays.
    Unit codes are ``49`` + row + column (``49000`` is the south-west corner); ``islands`` are
    ``(code, x_km, y_km, population)`` squares of 1 km with no land neighbour, placed relative
    to the grid's south-west corner. With ``codes_by_departement`` the codes start with each
    unit's département instead of ``49``.
    """
    shape = (ny, nx)

    def grid(value, default):
        return np.broadcast_to(np.asarray(default if value is None else value, dtype=object), shape).ravel()

    pop = np.broadcast_to(np.asarray(population), shape).ravel().astype(np.int64)
    ep, dep, reg = grid(epci, "200000001"), grid(departement, "49"), grid(region, "52")
    x0, y0 = 400_000, 6_700_000
    codes = [
        f"{dep[j * nx + i][:2] if codes_by_departement else '49'}{j:01d}{i:02d}"
        for j in range(ny)
        for i in range(nx)
    ]
    boxes = [
        shapely.box(x0 + i * 1000, y0 + j * 1000, x0 + (i + 1) * 1000, y0 + (j + 1) * 1000)
        for j in range(ny)
        for i in range(nx)
    ]
    for code, x, y, p in islands:
        codes.append(code)
        boxes.append(shapely.box(x0 + x * 1000, y0 + y * 1000, x0 + (x + 1) * 1000, y0 + (y + 1) * 1000))
        pop = np.append(pop, p)
        ep, dep, reg = np.append(ep, ""), np.append(dep, "49"), np.append(reg, "52")
    geoms = gpd.GeoSeries(boxes, crs=2154).to_crs(4326)
    units = gpd.GeoDataFrame(
        {
            "nom": [f"Commune {c}" for c in codes],
            "type": "commune",
            "commune": codes,
            "population": pop,
            "departement": dep.astype(str),
            "region": reg.astype(str),
            "epci": ep.astype(str),
            "zone": "metro",
            "epsg": 2154,
            "anciens_codes": "",
            "area_km2": 1.0,
            "lon": geoms.representative_point().x.to_numpy(),
            "lat": geoms.representative_point().y.to_numpy(),
            "geometry_source": "grille",
        },
        geometry=geoms.to_numpy(),
        crs=4326,
        index=pd.Index(codes, name="code"),
    )
    pairs = []
    for j in range(ny):
        for i in range(nx):
            k = j * nx + i
            if i + 1 < nx:
                pairs.append((codes[k], codes[k + 1]))
            if j + 1 < ny:
                pairs.append((codes[k], codes[k + nx]))
    deps = sorted(set(units["departement"]))
    regs = sorted(set(units["region"]))
    epcis = sorted(set(units["epci"]) - {""})
    by_dep = units.groupby("departement")["population"]
    by_reg = units.groupby("region")["population"]
    return Reference(
        units=units,
        communes=units[["nom", "departement", "epci", "population", "anciens_codes"]].assign(unites=codes),
        epci=pd.DataFrame(
            {"nom": [f"CC {e}" for e in epcis], "type": "CC"}, index=pd.Index(epcis, name="code")
        ),
        departements=pd.DataFrame(
            {
                "nom": [f"Département {d}" for d in deps],
                "region": [units.loc[units["departement"] == d, "region"].iloc[0] for d in deps],
                "zone": "metro",
                "population": by_dep.sum().reindex(deps).to_numpy(),
                "n_communes": by_dep.size().reindex(deps).to_numpy(),
                "epsg": 2154,
            },
            index=pd.Index(deps, name="code"),
        ),
        regions=pd.DataFrame(
            {
                "nom": [f"Région {r}" for r in regs],
                "zone": "metro",
                "population": by_reg.sum().reindex(regs).to_numpy(),
                "n_communes": by_reg.size().reindex(regs).to_numpy(),
            },
            index=pd.Index(regs, name="code"),
        ),
        adjacency=pd.DataFrame(pairs, columns=["a", "b"]).assign(shared_m=1000.0),
        metadata={"vintage": {"cog": 2026, "population": 2023}, "counts": {}},
    )


def code(i: int, j: int) -> str:
    """Grid unit at column ``i``, row ``j``."""
    return f"49{j:01d}{i:02d}"


def block(i0: int, i1: int, j0: int, j1: int) -> list[str]:
    """Grid units of columns ``i0..i1`` and rows ``j0..j1`` (inclusive)."""
    return [code(i, j) for j in range(j0, j1 + 1) for i in range(i0, i1 + 1)]


def polygon_reference(polygons: dict, population=1000) -> Reference:
    """A reference of the given 'communes': ``{code: polygon}`` in km, placed like
    :func:`grid_reference`'s squares (Lambert-93, from its south-west corner); neighbours are
    the polygons that touch (their shared boundary measured), as the build finds them."""
    codes = list(polygons)
    x0, y0 = 400_000, 6_700_000
    proj = [shapely.affinity.affine_transform(g, [1000, 0, 0, 1000, x0, y0]) for g in polygons.values()]
    geoms = gpd.GeoSeries(proj, crs=2154).to_crs(4326)
    pts = geoms.representative_point()
    units = gpd.GeoDataFrame(
        {
            "nom": [f"Commune {c}" for c in codes],
            "type": "commune",
            "commune": codes,
            "population": population,
            "departement": "49",
            "region": "52",
            "epci": "200000001",
            "zone": "metro",
            "epsg": 2154,
            "anciens_codes": "",
            "area_km2": [g.area / 1e6 for g in proj],
            "lon": pts.x.to_numpy(),
            "lat": pts.y.to_numpy(),
            "geometry_source": "polygones",
        },
        geometry=geoms.to_numpy(),
        crs=4326,
        index=pd.Index(codes, name="code"),
    )
    pairs = [
        (codes[i], codes[j], shapely.length(shapely.intersection(proj[i].boundary, proj[j].boundary)))
        for i in range(len(codes))
        for j in range(i + 1, len(codes))
        if proj[i].distance(proj[j]) < 0.01
    ]
    pop = units["population"]
    return Reference(
        units=units,
        communes=units[["nom", "departement", "epci", "population", "anciens_codes"]].assign(unites=codes),
        epci=pd.DataFrame(
            {"nom": ["CC 200000001"], "type": "CC"}, index=pd.Index(["200000001"], name="code")
        ),
        departements=pd.DataFrame(
            {
                "nom": ["Département 49"],
                "region": ["52"],
                "zone": "metro",
                "population": [int(pop.sum())],
                "n_communes": [len(codes)],
                "epsg": 2154,
            },
            index=pd.Index(["49"], name="code"),
        ),
        regions=pd.DataFrame(
            {
                "nom": ["Région 52"],
                "zone": "metro",
                "population": [int(pop.sum())],
                "n_communes": [len(codes)],
            },
            index=pd.Index(["52"], name="code"),
        ),
        adjacency=pd.DataFrame(pairs, columns=["a", "b", "shared_m"]),
        metadata={"vintage": {"cog": 2026, "population": 2023}, "counts": {}},
    )
