"""The national reference: units, local-authority tables, adjacency, and resolving what users type.

Examples
--------
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> ref.units.loc["49007", ["nom", "population"]].tolist()
['Angers', 159022]
>>> ref.resolve(["1001", "2a004", "Angers"]).codes
['01001', '2A004', '49007']
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import Transformer
from scipy.sparse import csgraph

from . import _resolve
from ._errors import AmbiguousNameError, InputError, ReferenceDataError, UnknownCommuneError

__all__ = [
    "ADJACENCY_TOLERANCE_M",
    "Reference",
    "Resolution",
    "ZONE_EPSG",
    "compute_adjacency",
    "default_data_dir",
    "epsg_for_departement",
    "load_reference",
    "normalize_name",
    "reference_summary",
    "sea_links",
]

log = logging.getLogger(__name__)

#: Official projected CRS of each zone, by département code (metropolitan France: Lambert-93).
ZONE_EPSG = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
METRO_EPSG = 2154

#: Two units are neighbours when their boundaries touch or come within this distance (metres,
#: in the zone's projected CRS). The boundaries are made a clean coverage at build time, so
#: true neighbours share vertices exactly and enclosed gaps are closed; what remains are gaps
#: that open onto the sea or a border (the cleaning cannot see them as gaps), and points where
#: four communes meet, which the generalization opened into two triple points a few metres
#: apart (or a commune it narrowed to a neck). 5 m is far below the source's generalization
#: step (median edge 569 m, 1st percentile 134 m, metropolitan France) and below any real
#: width of land: nationally it adds 6 pairs to those sharing a vertex (0.16 to 4.53 m apart),
#: while 10 m would add 37 and 20 m 155 (see scripts/benchmark.py and data/SOURCES.md).
ADJACENCY_TOLERANCE_M = 5.0

#: Length of one degree of latitude at the equator (the shortest), in metres: bounds how far
#: apart in degrees two points ``tolerance_m`` metres apart can be.
_DEGREE_M = 110_574.0

PLM_CITIES = {"75056", "69123", "13055"}


def epsg_for_departement(code: str) -> int:
    """The official projected CRS (EPSG code) used for areas and distances in a département."""
    return ZONE_EPSG.get(str(code), METRO_EPSG)


def default_data_dir() -> Path:
    """The folder of the shipped reference.

    ``$CPTS_GEO_DATA`` if set, else the package data ``cpts_geo.data`` of an installed package,
    else the ``data/`` folder next to the source tree.
    """
    env = os.environ.get("CPTS_GEO_DATA")
    if env:
        return Path(env)
    try:
        folder = Path(str(resources.files("cpts_geo.data")))
        if (folder / "units.parquet").exists():
            return folder
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[1] / "data"


def compute_adjacency(
    units: gpd.GeoDataFrame, *, tolerance_m: float = ADJACENCY_TOLERANCE_M, shared_lengths: bool = True
) -> pd.DataFrame:
    """Pairs of units whose boundaries touch, or come within ``tolerance_m`` metres.

    Computed once per reference, vectorised over whole arrays. The boundaries are a clean
    coverage (build time), so neighbours share vertices exactly: queen contiguity is found by
    numbering the vertices (exact on the 1e-7° grid the build rounds to). The tolerance catches
    what shared vertices miss, checked only where it can happen: gaps opening onto the sea or a
    border between units of the coverage's outline, and slivers of a third unit, thinner than
    the tolerance, between two units that both touch it (four-commune corners the
    generalization opened); distances are measured in the zone's projected CRS. Units without a
    geometry (communes restored from a commune nouvelle whose polygon still covers them) are
    linked to the unit covering them.

    Parameters
    ----------
    units
        Units indexed by code, EPSG:4326, with ``epsg`` and ``geometry_source`` columns.
    tolerance_m
        Distance under which two boundaries count as touching.
    shared_lengths
        Also measure the length of each shared boundary (metres, projected CRS).

    Returns
    -------
    pandas.DataFrame
        Columns ``a``, ``b`` (unit codes, ``a < b``) and ``shared_m`` (length of the shared
        boundary in metres; 0 for a contact at a point or within the tolerance).
    """
    if units.crs is None or units.crs.to_epsg() != 4326:
        raise ReferenceDataError("compute_adjacency expects units in EPSG:4326")
    geom_all = units.geometry.to_numpy()
    present = ~shapely.is_missing(geom_all)
    epsg_all = units["epsg"].to_numpy()
    codes_all = units.index.to_numpy()
    n = len(codes_all)
    keys, lengths = [], []
    for epsg in np.unique(epsg_all[present]):
        sel = np.flatnonzero((epsg_all == epsg) & present)
        a, b, shared = _zone_adjacency(geom_all[sel], int(epsg), tolerance_m, shared_lengths)
        keys.append(sel[a].astype(np.int64) * n + sel[b])  # sel is increasing: sel[a] < sel[b]
        lengths.append(shared)
    # Units without geometry: linked to the unit whose polygon covers them.
    for i in np.flatnonzero(~present):
        m = re.search(r"inclus dans (\d\w\d{3})", str(units["geometry_source"].iat[i]))
        if m and m.group(1) in units.index:
            j = units.index.get_loc(m.group(1))
            keys.append(np.array([min(i, j) * n + max(i, j)], dtype=np.int64))
            lengths.append(np.array([np.nan]))
    # Zones hold disjoint units and each lists a pair once: sorting the keys is enough.
    key = np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)
    shared = np.concatenate(lengths) if lengths else np.empty(0)
    order = np.argsort(key)
    a, b = key[order] // n, key[order] % n
    out = pd.DataFrame({"a": codes_all[a], "b": codes_all[b], "shared_m": np.round(shared[order], 1)})
    if units.index.is_monotonic_increasing:
        return out  # positions in code order: a < b already, and sorted
    swap = out["a"] > out["b"]
    if swap.any():
        out.loc[swap, ["a", "b"]] = out.loc[swap, ["b", "a"]].to_numpy()
    return out.sort_values(["a", "b"]).reset_index(drop=True)


#: Offsets that make grid coordinates (1e-7 degree) positive, and the factor that packs them.
_GRID_X0, _GRID_Y0, _GRID_PACK = 1_800_000_000, 900_000_000, 4_000_000_000


def _zone_adjacency(geoms: np.ndarray, epsg: int, tolerance_m: float, shared_lengths: bool):
    """Neighbour pairs (positions in ``geoms``) of one zone, and their shared boundary length."""
    n = len(geoms)
    coords, unit = shapely.get_coordinates(geoms, return_index=True)
    # Exact integer keys of the vertices on the build's 1e-7 degree grid, numbered by a hash
    # table: linear time, where sorting the million keys costs about twice as much.
    vertex, vertex_key = pd.factorize(_grid_keys(coords))
    # Each vertex's units, each once (a ring's closing vertex repeats its first one): rows of
    # a vertex x unit incidence matrix, which scipy groups by counting sort, columns sorted.
    inc = sp.csr_matrix((np.ones(len(vertex), dtype=bool), (vertex, unit)), shape=(len(vertex_key), n))
    inc.sum_duplicates()
    units_at = np.diff(inc.indptr)
    at = np.repeat(np.arange(len(vertex_key)), units_at)
    # Queen contiguity: every two units listed at the same vertex (columns are sorted within a
    # row, so the first is the lower position). pair_of numbers the pairs, for each (vertex,
    # pair) found; the tolerance screen bounds each pair's shared vertices.
    i, j = _pairs_within_runs(at)
    pair_of, pair_key = pd.factorize(inc.indices[i].astype(np.int64) * n + inc.indices[j])
    pair_key = np.asarray(pair_key, dtype=np.int64)
    # Outline units: those owning a vertex no other unit shares (gaps onto the sea or a border).
    outline = np.unique(inc.indices[np.repeat(units_at == 1, units_at)])

    max_lat = float(np.abs(coords[:, 1]).max()) if len(coords) else 0.0
    deg_tol = 1.05 * tolerance_m / (_DEGREE_M * np.cos(np.radians(min(max_lat, 89.0))))
    near = _tolerance_candidates(geoms, pair_key, pair_of, vertex_key[at[i]], outline, deg_tol)
    # Decided on the units themselves: first in degrees (cheap, no projection), then in metres
    # in the zone's projected CRS, projecting only the few units still in question.
    na, nb = near // n, near % n
    close = shapely.dwithin(geoms[na], geoms[nb], deg_tol)
    na, nb = na[close], nb[close]
    if len(na):
        need = np.unique(np.r_[na, nb])
        proj = np.empty(n, dtype=object)
        proj[need] = gpd.GeoSeries(geoms[need], crs=4326).to_crs(epsg).to_numpy()
        close = shapely.dwithin(proj[na], proj[nb], tolerance_m)
        pair_key = np.r_[pair_key, na[close].astype(np.int64) * n + nb[close]]
    pair_key = np.sort(pair_key)
    shared = _shared_lengths(geoms, epsg, pair_key) if shared_lengths else np.zeros(len(pair_key))
    return pair_key // n, pair_key % n, shared


def _grid_keys(coords: np.ndarray) -> np.ndarray:
    """One exact int64 per vertex on the build's 1e-7 degree grid (x then y, packed)."""
    ix = np.rint(coords[:, 0] * 1e7).astype(np.int64) + _GRID_X0
    iy = np.rint(coords[:, 1] * 1e7).astype(np.int64) + _GRID_Y0
    return ix * _GRID_PACK + iy


def _pairs_within_runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(i, j)``, ``i < j``, of every two equal entries of a sorted array.

    Entries ``d`` places apart, for d = 1, 2, ...: a run is at most a few dozen long (units at
    a vertex, neighbours of a unit), so this is a few vectorised passes over the array.
    """
    i_parts, j_parts = [np.empty(0, dtype=np.intp)], [np.empty(0, dtype=np.intp)]
    d = 1
    while d < len(sorted_values):
        i = np.flatnonzero(sorted_values[d:] == sorted_values[:-d])
        if not len(i):
            break
        i_parts.append(i)
        j_parts.append(i + d)
        d += 1
    return np.concatenate(i_parts), np.concatenate(j_parts)


def _tolerance_candidates(
    geoms: np.ndarray,
    pair_key: np.ndarray,
    pair_of: np.ndarray,
    shared_vertex: np.ndarray,
    outline: np.ndarray,
    deg_tol: float,
) -> np.ndarray:
    """Pairs (``lo * n + hi``, sorted) that share no vertex but may be within the tolerance.

    After cleaning, enclosed gaps are gone, so the space between two such units is either a
    gap onto the sea or a border (both are outline units) or a sliver of a third unit c they
    both touch. In the second case the segment joining the closest points crosses c only, so
    its ends lie on the boundaries each unit shares with c, which run between vertices shared
    with c (the coverage is noded): the bounding octagons of those shared vertices come within
    the tolerance. ``pair_of`` and ``shared_vertex`` give, for each (vertex, pair) found, the
    pair's number in ``pair_key`` and the vertex's grid key. Both screens work in degrees, with
    a bound valid at the zone's highest latitude; a pair that passes is then measured.
    """
    n = len(geoms)
    reach = int(np.ceil(deg_tol * 1e7)) + 1  # in grid units, with a unit for rounding
    # Bounding octagon of the vertices each pair shares: their extent along x, y and the two
    # diagonals x + y, x - y (which two points within the reach differ by at most twice it).
    # A bounding box alone leaves ~4 times more candidates: the neighbours of a small unit
    # all have overlapping boxes.
    x, y = np.divmod(shared_vertex, _GRID_PACK)
    octagon = []
    for along, limit in ((x, reach), (y, reach), (x + y, 2 * reach), (x - y, 2 * reach)):
        lo = np.full(len(pair_key), np.iinfo(np.int64).max)
        hi = np.full(len(pair_key), np.iinfo(np.int64).min)
        np.minimum.at(lo, pair_of, along)
        np.maximum.at(hi, pair_of, along)
        octagon.append((lo, hi, limit))

    # Every two neighbours of a unit c, with the pairs they form with c: CSR rows group the
    # neighbours by unit (pair ids stored 1-based, so that none is a zero).
    ids = np.arange(1, len(pair_key) + 1)
    a, b = pair_key // n, pair_key % n
    g = sp.csr_matrix((np.r_[ids, ids], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    i, j = _pairs_within_runs(np.repeat(np.arange(n), np.diff(g.indptr)))
    # Their two octagons (pairs p, q with c) must come within reach along every direction;
    # screened one direction at a time, each on what the previous ones kept.
    for lo, hi, limit in octagon:
        p, q = g.data[i] - 1, g.data[j] - 1
        kept = np.maximum(lo[p], lo[q]) - np.minimum(hi[p], hi[q]) <= limit
        i, j = i[kept], j[kept]

    # Outline units whose boxes come within the tolerance.
    bounds = shapely.bounds(geoms[outline]) + np.array([-deg_tol, -deg_tol, deg_tol, deg_tol])
    boxes = shapely.box(*bounds.T)
    li, ri = shapely.STRtree(boxes).query(boxes)

    ca, cb = np.r_[g.indices[i], outline[li]], np.r_[g.indices[j], outline[ri]]
    key = np.sort((np.minimum(ca, cb).astype(np.int64) * n + np.maximum(ca, cb))[ca != cb])
    key = key[np.diff(key, prepend=-1) != 0]  # unique: np.unique hashes, slower here
    # Most candidates are neighbours already (c's neighbours meet at its triple points).
    neighbours = np.sort(pair_key)
    if len(neighbours):
        found = np.searchsorted(neighbours, key).clip(max=len(neighbours) - 1)
        key = key[neighbours[found] != key]
    return key


def _shared_lengths(geoms: np.ndarray, epsg: int, pair_key: np.ndarray) -> np.ndarray:
    """Length (metres, projected CRS) of the boundary each pair shares, for sorted pair keys.

    Edges are matched between rings exactly (same two vertices on the grid); a contact at a
    point or within the tolerance has no shared edge and measures 0.
    """
    n = len(geoms)
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    rings, ridx = shapely.get_rings(parts, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    poly = pidx[ridx[cidx]]
    seg = np.flatnonzero(cidx[1:] == cidx[:-1])  # consecutive vertices of one ring
    if not len(seg):
        return np.zeros(len(pair_key))
    key = _grid_keys(coords)
    xy = np.column_stack(Transformer.from_crs(4326, epsg, always_xy=True).transform(coords[:, 0], coords[:, 1]))
    s1, s2 = key[seg], key[seg + 1]
    e1, e2 = np.minimum(s1, s2), np.maximum(s1, s2)
    length = np.hypot(*(xy[seg + 1] - xy[seg]).T)
    order = np.lexsort((poly[seg], e2, e1))
    e1, e2, sp_, length = e1[order], e2[order], poly[seg][order], length[order]
    same = (e1[1:] == e1[:-1]) & (e2[1:] == e2[:-1]) & (sp_[1:] != sp_[:-1])
    ea, eb = sp_[:-1][same], sp_[1:][same]
    edge_pairs = np.minimum(ea, eb).astype(np.int64) * n + np.maximum(ea, eb)
    sums = pd.Series(length[:-1][same]).groupby(edge_pairs).sum()
    return sums.reindex(pair_key, fill_value=0.0).to_numpy()


def normalize_name(name: str) -> str:
    """Fold a commune name for matching: no accents, case, punctuation, articles or ``Saint`` forms.

    Any character that is not a letter or digit separates words (curly apostrophes, dashes,
    non-breaking spaces); ``Rochelle (La)`` is ``La Rochelle``; see :func:`cpts_geo._resolve.normalize_name`.

    >>> normalize_name("Saint-Étienne-du-Rouvray")
    'saint etienne du rouvray'
    >>> normalize_name("ST ETIENNE DU ROUVRAY")
    'saint etienne du rouvray'
    >>> normalize_name("L’Île-d’Yeu")
    'l ile d yeu'
    """
    return _resolve.normalize_name(name)


@dataclass
class Resolution:
    """What :meth:`Reference.resolve` made of the values it was given.

    ``codes`` are unit codes, in input order, without duplicates; ``warnings`` lists what was
    resolved with a correction (``index`` is the position of the value in the input).
    """

    codes: list[str]
    warnings: list[dict] = field(default_factory=list)
    by_value: list[list[str]] = field(default_factory=list)


@dataclass
class Reference:
    """A loaded reference.

    Attributes
    ----------
    units
        GeoDataFrame (EPSG:4326) indexed by unit code: communes, and the arrondissements
        municipaux of Paris, Lyon and Marseille.
    communes, epci, departements, regions
        DataFrames indexed by code.
    adjacency
        DataFrame of neighbour pairs (``a``, ``b``, ``shared_m``).
    metadata
        Vintages, sources and build figures.
    former_communes
        Former communes users may still name (``code``, ``nom``, ``commune``, ``type``,
        ``depuis``); empty for a reference folder without ``anciennes_communes.csv``.
    postal_codes
        ``code_postal`` to ``code_insee`` (a unit); empty without ``codes_postaux.csv``.
    """

    units: gpd.GeoDataFrame
    communes: pd.DataFrame
    epci: pd.DataFrame
    departements: pd.DataFrame
    regions: pd.DataFrame
    adjacency: pd.DataFrame
    metadata: dict
    path: Path | None = None
    former_communes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["code", "nom", "commune", "type", "depuis"]))
    postal_codes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["code_postal", "code_insee", "nom"]))

    # ---- vintages ------------------------------------------------------------------------
    @property
    def vintage(self) -> dict:
        """``{"cog": 2026, "population": 2023}``."""
        return dict(self.metadata["vintage"])

    # ---- graph ---------------------------------------------------------------------------
    @cached_property
    def position(self) -> pd.Series:
        """Row position of each unit code in :attr:`units` (and in :attr:`graph`)."""
        return pd.Series(np.arange(len(self.units)), index=self.units.index)

    @cached_property
    def graph(self) -> sp.csr_matrix:
        """Symmetric sparse adjacency matrix of the units (land contiguity), in units order."""
        n = len(self.units)
        i = self.position.reindex(self.adjacency["a"]).to_numpy()
        j = self.position.reindex(self.adjacency["b"]).to_numpy()
        data = np.ones(len(i) * 2, dtype=np.int8)
        m = sp.coo_matrix((data, (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
        m.sum_duplicates()
        m.data[:] = 1
        return m

    @cached_property
    def land_component(self) -> pd.Series:
        """Id of the land mass each unit is on (units joined by a land path share an id)."""
        _, labels = csgraph.connected_components(self.graph, directed=False)
        return pd.Series(labels, index=self.units.index)

    def neighbours(self, code: str) -> list[str]:
        """Codes of the land neighbours of a unit, sorted."""
        row = self.graph[self.position[code]]
        return sorted(self.units.index[row.indices])

    # ---- resolving -----------------------------------------------------------------------
    @cached_property
    def _old_codes(self) -> dict[str, str]:
        out = {}
        for code, old in self.communes["anciens_codes"].items():
            for o in str(old).split(";") if isinstance(old, str) and old else []:
                if o != code:
                    out[o] = code
        return out

    @cached_property
    def _names(self) -> dict[str, list[str]]:
        """Normalized name -> commune codes (PLM cities and arrondissements included)."""
        out: dict[str, list[str]] = {}
        for code, nom in self.communes["nom"].items():
            out.setdefault(normalize_name(nom), []).append(code)
        for code, row in self.units[self.units["type"] == "arrondissement"].iterrows():
            out.setdefault(normalize_name(row["nom"]), []).append(code)
        return out

    @cached_property
    def _name_index(self) -> _resolve.NameIndex:
        """Lookup tables of names, former communes, postal codes and EPCI (built once)."""
        return _resolve.build_index(self)

    def expand(self, code: str) -> list[str]:
        """Unit codes of a commune code (a PLM city's arrondissements, else the code itself)."""
        if code in PLM_CITIES:
            return str(self.communes.at[code, "unites"]).split(";")
        return [code]

    def resolve(
        self,
        values,
        *,
        departement: str | list | None = None,
        postal_codes: str | list | None = None,
        names: list | None = None,
        prefer: str | None = None,
        lines: list | None = None,
        source: str | None = None,
    ) -> Resolution:
        """Turn what users type into unit codes.

        Accepts INSEE codes with or without their leading zero (``1001``), lower-case Corsican
        codes (``2a004``), old codes of merged communes (mapped to the current commune, with a
        warning), the codes of Paris, Lyon and Marseille (expanded to their arrondissements),
        names (accents, case, punctuation, articles at the end and ``St`` forms folded), names of
        former communes (communes déléguées, associées), postal codes, EPCI names and SIREN
        (all their units). A name borne by several communes is decided by the list's other
        values (their départements, else adjacency), a misspelt name by a single close match in
        that context; each with a warning.

        Parameters
        ----------
        values
            Iterable of codes or names.
        departement
            A département code for all values, or one per value (``None`` where unknown).
        postal_codes
            A postal code for all values, or one per value, to choose between homonyms.
        names
            When ``values`` are codes: the name given for each (a file with both columns); the
            two must designate the same unit.
        prefer
            ``"codes"`` or ``"names"``: which wins when a code and its name disagree (with a
            warning); by default such rows are errors.
        lines
            Line numbers of the values in their file, used in messages and warnings.
        source
            The file the values come from, used in messages.

        Returns
        -------
        Resolution

        Raises
        ------
        UnknownCommuneError, AmbiguousNameError
            Naming every value that could not be resolved (all of them at once).

        Examples
        --------
        >>> ref = load_reference()
        >>> ref.resolve(["75056"]).codes[:2]
        ['75101', '75102']
        >>> ref.resolve(["Saint-Denis", "Aubervilliers"]).codes
        ['93066', '93001']
        """
        return _resolve.resolve(self, values, departement=departement, postal_codes=postal_codes,
                                names=names, prefer=prefer, lines=lines, source=source)

    def _resolve_one(self, value, dep) -> tuple[list[str], str | None, dict | None]:
        cog = self.vintage["cog"]
        raw = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        v = raw.strip().strip('"').strip()
        if re.fullmatch(r"\d+\.0", v):  # Excel turned the code into a float
            v = v[:-2]
        if not v:
            return [], None, {"message": "valeur vide", "kind": "empty"}
        up = v.upper()
        if re.fullmatch(r"\d{4}", up):
            code = "0" + up
            fix = f"code complété par un zéro initial : {v} → {code}"
        else:
            code, fix = up, None
        if re.fullmatch(r"\d[0-9AB]\d{3}", code):
            if code in self.communes.index:
                if code in PLM_CITIES:
                    units = self.expand(code)
                    note = f"{self.communes.at[code, 'nom']} ({code}) remplacée par ses {len(units)} arrondissements"
                    return units, (fix + " ; " + note) if fix else note, None
                if code in self.units.index:
                    return [code], fix, None
            if code in self.units.index:  # an arrondissement
                return [code], fix, None
            if code in self._old_codes:
                new = self._old_codes[code]
                note = (
                    f"ancien code {code} : commune fusionnée dans "
                    f"{self.communes.at[new, 'nom']} ({new}) au COG {cog}"
                )
                return self.expand(new), note if not fix else fix + " ; " + note, None
            return [], None, {
                "message": f"code commune '{v}' inconnu du COG {cog} ; vérifiez le code "
                "ou utilisez le nom et le département",
                "kind": "unknown",
            }
        # A name.
        key = normalize_name(v)
        cands = self._names.get(key, [])
        dep_code = self._departement_code(dep)
        if dep_code:
            cands = [c for c in cands if self._dep_of(c) == dep_code]
        if len(cands) == 1:
            code = cands[0]
            return self.expand(code), None, None
        if not cands:
            return [], None, {
                "message": f"commune '{v}'"
                + (f" (département {dep_code})" if dep_code else "")
                + f" introuvable au COG {cog} ; vérifiez l'orthographe ou donnez le code INSEE",
                "kind": "unknown",
            }
        listed = ", ".join(f"{c} ({self._dep_of(c)})" for c in sorted(cands)[:10])
        return [], None, {
            "message": f"nom '{v}' ambigu : {len(cands)} communes portent ce nom ({listed}) ; "
            "précisez le département ou donnez le code INSEE",
            "kind": "ambiguous",
            "candidates": sorted(cands),
        }

    @cached_property
    def _departement_names(self) -> dict[str, str]:
        return {normalize_name(n): c for c, n in self.departements["nom"].items()}

    def _departement_code(self, dep) -> str | None:
        """A département code from a code (``1``, ``01``, ``2a``) or a name (``Maine-et-Loire``)."""
        code = _normalize_dep(dep)
        if code is None or code in self.departements.index:
            return code
        return self._departement_names.get(normalize_name(code), code)

    def _dep_of(self, code: str) -> str:
        if code in self.communes.index:
            return self.communes.at[code, "departement"]
        return self.units.at[code, "departement"]


def _normalize_dep(dep) -> str | None:
    if dep is None or (isinstance(dep, float) and np.isnan(dep)):
        return None
    d = str(dep).strip().upper()
    if not d:
        return None
    if re.fullmatch(r"\d+\.0", d):
        d = d[:-2]
    if re.fullmatch(r"\d", d):
        d = "0" + d
    return d


def _resolution_error(problems: list[dict], source: str | None) -> InputError:
    prefix = f"{source} : " if source else ""
    lines = []
    for p in problems:
        where = f"ligne {p['line']}" if p.get("line") is not None else f"valeur n°{p['index'] + 1}"
        lines.append(f"{prefix}{where} : {p['message']}")
    msg = "\n".join(lines)
    if all(p.get("kind") == "ambiguous" for p in problems):
        return AmbiguousNameError(msg, problems)
    return UnknownCommuneError(msg, problems)


def load_reference(path: str | Path | None = None) -> Reference:
    """Load the shipped national reference, or one built into ``path``.

    Parameters
    ----------
    path
        A folder written by ``scripts/build_reference.py``; default: the shipped ``data/``.

    Returns
    -------
    Reference

    Raises
    ------
    ReferenceDataError
        If a file is missing.
    """
    folder = Path(path) if path is not None else default_data_dir()
    needed = ["units.parquet", "adjacency.parquet", "communes.csv", "epci.csv",
              "departements.csv", "regions.csv", "metadata.json"]
    missing = [n for n in needed if not (folder / n).exists()]
    if missing:
        raise ReferenceDataError(
            f"{folder}: reference incomplete, missing {', '.join(missing)}; "
            "build it with scripts/build_reference.py"
        )
    units = gpd.read_parquet(folder / "units.parquet")
    str_cols = {"code": str, "departement": str, "region": str, "epci": str, "commune": str,
                "anciens_codes": str, "unites": str}
    communes = pd.read_csv(folder / "communes.csv", dtype=str_cols, keep_default_na=False,
                           na_values={"population": [""]}).set_index("code")
    epci = pd.read_csv(folder / "epci.csv", dtype={"code": str}).set_index("code")
    deps = pd.read_csv(folder / "departements.csv", dtype={"code": str, "region": str}).set_index("code")
    regs = pd.read_csv(folder / "regions.csv", dtype={"code": str}).set_index("code")
    adjacency = pd.read_parquet(folder / "adjacency.parquet")
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    optional = {}
    if (folder / "anciennes_communes.csv").exists():
        optional["former_communes"] = pd.read_csv(
            folder / "anciennes_communes.csv", dtype={"code": str, "nom": str, "commune": str, "type": str},
            keep_default_na=False, na_values={"depuis": [""]}).astype({"depuis": "Int64"})
    if (folder / "codes_postaux.csv").exists():
        optional["postal_codes"] = pd.read_csv(folder / "codes_postaux.csv", dtype=str, keep_default_na=False)
    return Reference(units=units, communes=communes, epci=epci, departements=deps,
                     regions=regs, adjacency=adjacency, metadata=metadata, path=folder, **optional)


def reference_summary(ref: Reference) -> dict:
    """Vintages, counts and national population of a reference, as a plain dict."""
    counts = ref.metadata["counts"]
    return {
        "path": str(ref.path) if ref.path else None,
        "vintage": ref.vintage,
        "counts": {
            "communes": int(len(ref.communes)),
            "units": int(len(ref.units)),
            "arrondissements": int((ref.units["type"] == "arrondissement").sum()),
            "epci": int(len(ref.epci)),
            "departements": int(len(ref.departements)),
            "regions": int(len(ref.regions)),
            "adjacency_pairs": int(len(ref.adjacency)),
            "communes_without_epci": counts.get("communes_without_epci", []),
        },
        "population": int(ref.units["population"].sum()),
        "population_notes": dict(ref.metadata.get("population_notes", {})),
        "geometry_source": ref.metadata.get("geometry_source"),
    }


def sea_links(ref: Reference, *, max_km: float = 30.0) -> pd.DataFrame:
    """Sea links between land masses (islands) closer than ``max_km``.

    A land mass is a connected component of the land adjacency graph (an island, an
    archipelago's island, the mainland). For each pair of land masses of the same zone within
    ``max_km``, the closest pair of units is returned, with its distance in the zone's
    projected CRS. Computed on demand and cached on the reference.

    Returns
    -------
    pandas.DataFrame
        Columns ``a``, ``b`` (unit codes, ``a < b``), ``distance_km``.
    """
    cache = ref.__dict__.setdefault("_sea_links_cache", {})
    if max_km in cache:
        return cache[max_km]
    units = ref.units
    lc = ref.land_component
    frames = []
    for epsg, idx in units.groupby("epsg").groups.items():
        part = units.loc[idx]
        part = part[part.geometry.notna()]
        proj = part.geometry.to_crs(epsg)
        comp = lc.reindex(proj.index).to_numpy()
        sizes = pd.Series(comp).value_counts()
        mainland = sizes.index[0]
        island = np.flatnonzero(comp != mainland)
        if not len(island):
            continue
        geoms = proj.to_numpy()
        left, right = proj.sindex.query(geoms[island], predicate="dwithin", distance=max_km * 1000.0)
        left = island[left]
        keep = comp[left] != comp[right]
        left, right = left[keep], right[keep]
        if not len(left):
            continue
        dist = shapely.distance(geoms[left], geoms[right]) / 1000.0
        ca, cb = np.minimum(comp[left], comp[right]), np.maximum(comp[left], comp[right])
        df = pd.DataFrame({"ca": ca, "cb": cb, "i": left, "j": right, "distance_km": dist})
        df = df.sort_values(["distance_km", "i", "j"]).drop_duplicates(["ca", "cb"])
        codes = proj.index.to_numpy()
        a, b = codes[df["i"].to_numpy()], codes[df["j"].to_numpy()]
        frames.append(pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b),
                                    "distance_km": df["distance_km"].round(3).to_numpy()}))
    out = (pd.concat(frames, ignore_index=True) if frames
           else pd.DataFrame({"a": [], "b": [], "distance_km": []}))
    out = out.sort_values(["a", "b"]).reset_index(drop=True)
    cache[max_km] = out
    return out
