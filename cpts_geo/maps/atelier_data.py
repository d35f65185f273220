"""The data of the builder page (``cpts-geo atelier``): everything its JavaScript rules need to
check a territory exactly as :func:`cpts_geo.checks.rules.check_territory` does, as one
JSON-serialisable dict.

The page holds the units of an area plus a ring around it (the units of every EPCI the area
touches, then their land neighbours): a territory may cross the area's border. Units beyond the
page are not lost to the rules: the enclave rule needs the pieces of land outside a territory,
so the units beyond the page are folded into *outer nodes* (connected pieces of the land graph
without the page's units, each with its unit count, population and first position), joined to
the page's units they touch. Since a territory never holds a unit beyond the page, a piece of
the outside always holds an outer node whole, and the sizes the rule compares are exact.

Precomputed links are a list of unit pairs with a kind, a length and the segment drawn: the sea
links (``"mer"``: every pair of units of the page on different land masses of one zone within
``sea_link_km``, measured in the zone's projected CRS as the contiguity rule measures the
distance between two parts) and the water crossings (``"eau"``: the pairs of units of one land
mass facing each other across water, :meth:`~cpts_geo.reference.Reference.water_crossings`,
within ``sea_link_km``). The enclave rule walks the land graph and the water crossings
(:meth:`~cpts_geo.reference.Reference.arrays_with_water`): so do the outer nodes, pieces of
that graph, joined to the page's units they touch by land or across water.

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.maps.atelier_data import atelier_payload
>>> data = atelier_payload(cg.load_reference(), ["56"], geometry=False)
>>> sum(data["units"]["area"]), len(data["units"]["code"])  # Morbihan's units, and its ring
(249, 339)
"""

from __future__ import annotations

import numpy as np

from cpts_geo import _graph
from cpts_geo._version import __version__
from cpts_geo.checks.report import RULE_LABELS, STATUS_LABELS
from cpts_geo.reference.units import Reference

__all__ = ["PAYLOAD_VERSION", "atelier_payload", "page_links", "page_units", "unit_pairs_within"]

#: The version of the payload's layout (the page refuses another).
PAYLOAD_VERSION = 2

#: Outer nodes of at most this many units carry their units (code, name, population), so that an
#: enclave reaching beyond the page is listed unit by unit as the Python rule lists it.
OUTER_MEMBERS_MAX = 400

#: Simplification tolerance of the drawn boundaries (degrees, about 40 m): one coverage, no
#: slivers between neighbours (``shapely.coverage_simplify``). Drawing only: the rules use the
#: graph and the precomputed links.
SIMPLIFY_DEG = 0.0004

#: Coordinates are stored as integers of this many degrees, delta-encoded ring by ring.
COORD_SCALE = 100_000


def page_units(ref: Reference, departements: list[str], extra_codes=()) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the page's units (sorted) and a mask of those in the area.

    The area's units, every unit of an EPCI the area touches, ``extra_codes`` (a proposal's
    units beyond the area), then one ring of land neighbours around them all.
    """
    a = ref.arrays
    dep_ids = np.flatnonzero(np.isin(a.dep_codes.astype(str), list(departements)))
    in_area = np.isin(a.dep, dep_ids)
    epcis = np.unique(a.epci[in_area])
    core = in_area | np.isin(a.epci, epcis[epcis >= 0])
    extra = [a.pos[c] for c in extra_codes if c in a.pos]
    core[np.asarray(extra, dtype=np.int64)] = True
    ring = np.unique(a.neighbours_of(np.flatnonzero(core)))
    core[ring] = True
    units = np.flatnonzero(core)
    return units, in_area[units]


def unit_pairs_within(
    ref: Reference, positions: np.ndarray, max_km: float, *, segments: bool = False
) -> list[list]:
    """Every pair of units (indices into ``positions``) on different land masses of one zone
    within ``max_km``, with its distance (km, unrounded, zone's projected CRS), as the
    contiguity rule measures parts: ``[[i, j, "mer", km], ...]``, ``i < j``; with
    ``segments``, each row ends with the shortest segment between the two units (longitude,
    latitude of its end on ``i``, then on ``j``; 5 decimals)."""
    import shapely

    a = ref.arrays
    out: list[list] = []
    for epsg in np.unique(a.epsg[positions]).tolist():
        idx = np.flatnonzero(a.epsg[positions] == epsg)
        geoms = ref.projected(positions[idx])
        ok = ~shapely.is_missing(geoms)
        idx, geoms = idx[ok], geoms[ok]
        lands = a.land[positions[idx]]
        if len(np.unique(lands)) < 2:
            continue
        # One end of a pair is off the zone's largest land mass: query from those units only.
        values, counts = np.unique(lands, return_counts=True)
        off = np.flatnonzero(lands != values[np.argmax(counts)])
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms[off], predicate="dwithin", distance=max_km * 1000.0)
        left = off[left]
        left, right = np.minimum(left, right), np.maximum(left, right)
        keep = (left < right) & (lands[left] != lands[right])
        pairs = np.unique(np.c_[left[keep], right[keep]], axis=0).reshape(-1, 2)
        left, right = pairs[:, 0], pairs[:, 1]
        dist = shapely.distance(geoms[left], geoms[right]) / 1000.0
        keep = dist <= max_km
        left, right, dist = left[keep], right[keep], dist[keep]
        ends = (
            _to_lonlat(shapely.get_coordinates(shapely.shortest_line(geoms[left], geoms[right])), int(epsg))
            if segments and len(left)
            else None
        )
        for k, (i, j, d) in enumerate(zip(idx[left].tolist(), idx[right].tolist(), dist.tolist())):
            out.append([i, j, "mer", d] + ([] if ends is None else ends[k]))
    out.sort(key=lambda r: (r[0], r[1]))
    return out


def _to_lonlat(xy: np.ndarray, epsg: int) -> list[list[float]]:
    """Pairs of points (rows of ``xy``: the two ends of each segment, in turn) in ``epsg``, as
    ``[lon_a, lat_a, lon_b, lat_b]`` per segment, 5 decimals."""
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(epsg, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    return np.round(np.c_[lon, lat].reshape(-1, 4), 5).tolist()


def page_links(ref: Reference, positions: np.ndarray, max_km: float) -> list[list]:
    """The links of the page's units (``positions``) the contiguity and enclave rules use, of
    at most ``max_km``: the sea links (:func:`unit_pairs_within`), then the water crossings
    between two units of the page (``"eau"``, length as the build measured it), each
    ``[i, j, kind, km, lon_i, lat_i, lon_j, lat_j]`` (``i < j``, indices into ``positions``;
    the segment drawn on the page), each kind sorted by ``i``, ``j``.

    Examples
    --------
    >>> import cpts_geo as cg
    >>> ref = cg.load_reference()
    >>> from cpts_geo.maps.atelier_data import page_units
    >>> units, _ = page_units(ref, ["29"])
    >>> links = page_links(ref, units, 2.0)  # Plougastel-Daoulas (29189) across the Elorn
    >>> codes = ref.arrays.codes[units].astype(str).tolist()
    >>> [(codes[i], codes[j], km) for i, j, kind, km, *_ in links if "29189" in (codes[i], codes[j])]
    [('29019', '29189', 1.866), ('29075', '29189', 0.443), ('29189', '29235', 0.546)]
    """
    out = unit_pairs_within(ref, positions, max_km, segments=True)
    t = ref.water_crossings(max_km)
    a = ref.arrays
    local = np.full(a.n, -1, dtype=np.int64)
    local[positions] = np.arange(len(positions))
    i = local[ref.position.reindex(t["a"]).to_numpy(dtype=np.int64)]
    j = local[ref.position.reindex(t["b"]).to_numpy(dtype=np.int64)]
    keep = (i >= 0) & (j >= 0)
    t, i, j = t[keep], i[keep], j[keep]
    ends = np.zeros((len(t), 4))
    for epsg in np.unique(t["epsg"]).tolist():
        sel = t["epsg"].to_numpy() == epsg
        xy = t[["ax", "ay", "bx", "by"]].to_numpy(dtype=float)[sel].reshape(-1, 2)
        ends[sel] = _to_lonlat(xy, int(epsg))
    flip = i > j  # the segment runs from a to b: from i to j once the pair is ordered
    ends[flip] = ends[flip][:, [2, 3, 0, 1]]
    water = [
        [lo, hi, "eau", km, *e]
        for lo, hi, km, e in zip(
            np.minimum(i, j).tolist(), np.maximum(i, j).tolist(), t["distance_km"].tolist(), ends.tolist()
        )
    ]
    water.sort(key=lambda r: (r[0], r[1]))
    return out + water


def _polygon_areas(ref: Reference, register, units: np.ndarray) -> list[list] | None:
    """For a polygon register, the area (km², unrounded) each CPTS polygon covers of each page
    unit, where it covers more than :data:`cpts_geo.inputs.read.CUT_BOUNDS` ``[0]`` of it, as
    the overlap rule measures it (``[cpts_id, unit, km2]``); ``None`` for a register of
    communes."""
    import geopandas as gpd
    import shapely

    from cpts_geo.inputs.read import CUT_BOUNDS

    polys = getattr(register, "geometries", None)
    if polys is None or not len(polys):
        return None
    a = ref.arrays
    geoms = ref.units.geometry.to_numpy()[units]
    ok = np.flatnonzero(~shapely.is_missing(geoms))
    out: list[list] = []
    ui, pi = polys.sindex.query(geoms[ok], predicate="intersects")
    ids = polys.index.astype(str).to_numpy()
    for epsg in np.unique(a.epsg[units[ok[ui]]]).tolist() if len(ui) else []:
        sel = a.epsg[units[ok[ui]]] == epsg
        u = ref.projected(units[ok[ui[sel]]])
        g = gpd.GeoSeries(polys.geometry.to_numpy()[pi[sel]], crs=polys.crs).to_crs(int(epsg)).to_numpy()
        inter = shapely.area(shapely.intersection(u, g))
        keep = inter > CUT_BOUNDS[0] * shapely.area(u)
        for i, c, km2 in zip(
            ok[ui[sel]][keep].tolist(), ids[pi[sel]][keep].tolist(), (inter[keep] / 1e6).tolist()
        ):
            out.append([c, i, km2])
    out.sort(key=lambda r: (r[1], r[0]))
    return out


def _outer_nodes(ref: Reference, units: np.ndarray, max_km: float) -> tuple[dict, list[list[int]]]:
    """The pieces of the land graph and the water crossings of at most ``max_km`` without the
    page's units that touch the page, and the page units each touches (see the module's
    docstring)."""
    a = ref.arrays_with_water(max_km)
    on_page = np.zeros(a.n, dtype=bool)
    on_page[units] = True
    rest = np.flatnonzero(~on_page)
    k, labels = _graph.components(a, rest)
    label_of = np.full(a.n, -1, dtype=np.int64)
    label_of[rest] = labels
    nbrs = a.neighbours_of(units)
    rows = np.repeat(np.arange(len(units)), np.diff(a.indptr)[units])
    out = ~on_page[nbrs]
    pairs = np.unique(np.c_[label_of[nbrs[out]], rows[out]], axis=0) if out.any() else np.zeros((0, 2), int)
    touched = np.unique(pairs[:, 0])
    new_id = {int(t): i for i, t in enumerate(touched.tolist())}
    groups = _graph.groups(labels, k)
    members: list[np.ndarray] = [rest[groups[t]] for t in touched.tolist()]
    info: dict = {
        "n": [len(m) for m in members],
        "pop": [int(a.pop[m].sum()) for m in members],
        "first": [int(m[0]) for m in members],
        "units": [
            [[str(a.codes[p]), str(a.names[p]), int(a.pop[p])] for p in m.tolist()]
            if len(m) <= OUTER_MEMBERS_MAX
            else None
            for m in members
        ],
        "land": [int(a.land[m[0]]) for m in members],
    }
    touching: list[list[int]] = [[] for _ in range(len(units))]
    for t, r in pairs.tolist():
        touching[r].append(new_id[t])
    return info, touching


def _cities(ref: Reference, local: np.ndarray) -> dict:
    """The communes made of several units on the page (Paris, Lyon, Marseille: arrondissements),
    so that the page's search and pasted lists take the whole city by its name or code."""
    a = ref.arrays
    out: dict = {"code": [], "nom": [], "units": []}
    for code, units in sorted(ref.subdivided.items()):
        idx = [int(local[a.pos[u]]) for u in units if u in a.pos and local[a.pos[u]] >= 0]
        if idx:
            out["code"].append(str(code))
            out["nom"].append(str(ref.communes.at[code, "nom"]))
            out["units"].append(sorted(idx))
    return out


def _coords(values: np.ndarray) -> list:
    """Label-point coordinates, 5 decimals; ``None`` for a unit without geometry (the communes
    restored inside another's polygon)."""
    return [None if v != v else v for v in np.round(values, 5).tolist()]


def _encode_geometry(geom) -> list:
    """A (multi)polygon as lists of rings of delta-encoded integer coordinates."""
    import shapely

    if geom is None or shapely.is_missing(geom) or geom.is_empty:
        return []
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    out = []
    for poly in polys:
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        rings = []
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.round(np.asarray(ring.coords)[:-1, :2] * COORD_SCALE).astype(np.int64)
            if len(xy) < 3:
                continue
            flat = np.diff(xy, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
            rings.append(flat.tolist())
        if rings:
            out.append(rings)
    return out


def _geometries(ref: Reference, units: np.ndarray) -> tuple[list, np.ndarray]:
    """The page units' simplified boundaries, encoded, and as shapely geometries."""
    import shapely

    geoms = ref.units.geometry.to_numpy()[units]
    present = ~shapely.is_missing(geoms)
    simplified = np.array(geoms, dtype=object)
    if present.any():
        try:
            simplified[present] = shapely.coverage_simplify(geoms[present], SIMPLIFY_DEG)
        except Exception:  # a coverage the simplifier refuses: each polygon on its own
            simplified[present] = shapely.simplify(geoms[present], SIMPLIFY_DEG, preserve_topology=True)
    return [_encode_geometry(g) for g in simplified], simplified


def _outlines(members: list[list[int]], simplified: np.ndarray) -> list:
    """The outline of each group of page units (the union of their simplified boundaries,
    encoded); ``[]`` for an empty group."""
    import shapely

    out: list = []
    for units in members:
        geoms = [g for g in simplified[units] if g is not None and not shapely.is_missing(g)]
        if not geoms:
            out.append([])
            continue
        try:
            union = shapely.coverage_union_all(geoms)
        except Exception:  # not a clean coverage: a plain union
            union = shapely.union_all(geoms)
        out.append(_encode_geometry(union))
    return out


def atelier_payload(
    ref: Reference,
    departements: list[str],
    *,
    register=None,
    selection=(),
    min_population: int | None = 20_000,
    sea_link_km: float = 30.0,
    cpts_id: str | None = None,
    title: str = "",
    geometry: bool = True,
) -> dict:
    """The builder page's data for an area (``departements``, codes).

    Parameters
    ----------
    ref
        The reference.
    departements
        The area's département codes (:func:`cpts_geo.reference.areas.resolve_area`).
    register
        A :class:`cpts_geo.inputs.Register` of existing CPTS (drawn by stage; the overlap rule).
    selection
        Unit codes preselected (a proposal).
    min_population, sea_link_km, cpts_id
        The rules' parameters, as for :func:`cpts_geo.checks.rules.check_territory`.
    title
        The page's title (the area's name).
    geometry
        Include the drawn boundaries (tests of the rules alone skip them).

    Returns
    -------
    dict
        JSON-serialisable; its layout is documented in ``atelier_rules.js``.
    """
    a = ref.arrays
    selection = [str(c) for c in selection]
    units, in_area = page_units(ref, departements, selection)
    local = np.full(a.n, -1, dtype=np.int64)
    local[units] = np.arange(len(units))
    outer, touching = _outer_nodes(ref, units, sea_link_km)

    # The land graph on the page: units 0..n-1, outer nodes n..n+m-1 (touched by land or across
    # water: the outer nodes serve the enclave rule only).
    n = len(units)
    adj: list[list[int]] = []
    for i, p in enumerate(units.tolist()):
        nb = local[a.indices[a.indptr[p] : a.indptr[p + 1]]]
        adj.append(sorted(nb[nb >= 0].tolist()) + [n + t for t in touching[i]])

    land_ids, land_local = np.unique(
        np.r_[a.land[units], np.asarray(outer["land"], dtype=np.int64)], return_inverse=True
    )
    dep_ids, dep_local = np.unique(a.dep[units], return_inverse=True)
    reg_ids = np.unique(a.dep_region[dep_ids])
    epci_ids = np.unique(a.epci[units])
    epci_ids = epci_ids[epci_ids >= 0]
    epci_local = np.full(len(a.epci_codes), -1, dtype=np.int64)
    epci_local[epci_ids] = np.arange(len(epci_ids))
    zone_ids, zone_local = np.unique(a.epsg[units], return_inverse=True)
    main_land = ref.main_land
    isl = [bool(a.dep[p] >= 0 and a.land[p] != main_land[a.dep[p]]) for p in units.tolist()]

    reg_out = None
    if register is not None:
        from cpts_geo.inputs.read import as_register

        register = as_register(ref, register)
        idx = register.index
        keep = local[idx.row_pos] >= 0
        stages = register.cpts["statut"].reindex(idx.ids).fillna("").astype(str).tolist()
        reg_out = {
            "ids": [str(c) for c in idx.ids],
            "names": [str(c) for c in idx.names],
            "stages": stages,
            "rows": np.c_[idx.row_cpts[keep], local[idx.row_pos[keep]]].tolist(),
            "shared": np.flatnonzero(register.shared_mask[units]).tolist(),
            "areas": _polygon_areas(ref, register, units),
        }

    dep_table: dict = {
        "code": [str(c) for c in a.dep_codes[dep_ids]],
        "nom": [str(c) for c in a.dep_names[dep_ids]],
        "reg": np.searchsorted(reg_ids, a.dep_region[dep_ids]).tolist(),
    }
    sel = sorted({int(local[a.pos[c]]) for c in selection if c in a.pos and local[a.pos[c]] >= 0})
    data = {
        "version": PAYLOAD_VERSION,
        "tool": __version__,
        "title": title,
        "vintage": ref.vintage,
        "params": {
            "min_population": int(min_population) if min_population else None,
            "sea_link_km": float(sea_link_km),
            "cpts_id": None if cpts_id is None else str(cpts_id),
        },
        "area": {"departements": list(departements)},
        "units": {
            "code": [str(c) for c in a.codes[units]],
            "nom": [str(c) for c in a.names[units]],
            "pop": a.pop[units].astype(int).tolist(),
            "pos": units.tolist(),
            "dep": dep_local.tolist(),
            "epci": np.where(a.epci[units] >= 0, epci_local[np.maximum(a.epci[units], 0)], -1).tolist(),
            "land": land_local[:n].tolist(),
            "zone": zone_local.tolist(),
            "isl": [int(x) for x in isl],
            "area": in_area.astype(int).tolist(),
            "lon": _coords(a.lon[units]),
            "lat": _coords(a.lat[units]),
            "adj": adj,
        },
        "outer": {**outer, "land": land_local[n:].tolist()},
        "lands": {
            "size": a.land_size[land_ids].astype(int).tolist(),
            "pop": a.land_pop[land_ids].astype(int).tolist(),
        },
        "links": page_links(ref, units, sea_link_km),
        "epci": {
            "code": [str(c) for c in a.epci_codes[epci_ids]],
            "nom": [str(c) for c in a.epci_names[epci_ids]],
            "n": a.epci_n[epci_ids].astype(int).tolist(),
            "pop": a.epci_pop[epci_ids].astype(int).tolist(),
        },
        "deps": dep_table,
        "regs": {
            "code": [str(c) for c in a.reg_codes[reg_ids]],
            "nom": [str(c) for c in a.reg_names[reg_ids]],
        },
        "register": reg_out,
        "cities": _cities(ref, local),
        "labels": {"status": dict(STATUS_LABELS), "rules": dict(RULE_LABELS)},
        "selection": sel,
    }
    if geometry:
        data["geom"], simplified = _geometries(ref, units)
        deps: list[list[int]] = [[] for _ in dep_ids]
        for i, d in enumerate(dep_local.tolist()):
            deps[d].append(i)
        dep_table["outlines"] = _outlines(deps, simplified)
        if reg_out is not None:
            members: list[list[int]] = [[] for _ in reg_out["ids"]]
            for c, u in reg_out["rows"]:
                members[c].append(u)
            reg_out["outlines"] = _outlines(members, simplified)
    return data
