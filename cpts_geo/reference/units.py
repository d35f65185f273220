"""The national reference: units, local-authority tables, adjacency, and resolving what users type.

Examples
--------
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> ref.units.at["49007", "nom"], int(ref.units.at["49007", "population"])
('Angers', 159022)
>>> ref.resolve(["1001", "2a004", "Angers"]).codes
['01001', '2A004', '49007']
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cpts_geo import _graph
from cpts_geo._errors import ReferenceDataError
from cpts_geo._graph import neighbours_of
from cpts_geo._text import fr_int
from cpts_geo.reference import names as _names
from cpts_geo.reference import resolve as _resolve
from cpts_geo.reference.names import (
    FOLDED_COLUMNS,
    FOLDED_NAMES_FILE,
    FOLDING_VERSION,
    LOCALITIES_FILE,
    normalize_name,
    positions_in,
)
from cpts_geo.reference.resolve import Resolution
from cpts_geo.reference.water import (
    WATER_CROSSING_COLUMNS,
    WATER_CROSSING_MAX_KM,
    empty_water_crossings,
)

if TYPE_CHECKING:  # geopandas, shapely and scipy load when geometry or a sparse matrix is asked for
    import geopandas as gpd
    import scipy.sparse as sp

__all__ = [
    "Reference",
    "ReferenceArrays",
    "UnitRecords",
    "ZONE_EPSG",
    "default_data_dir",
    "shipped_data_dir",
    "epsg_for_departement",
    "load_reference",
    "reference_summary",
    "read_text_table",
    "reference_summary_text",
    "sea_links",
]

log = logging.getLogger(__name__)

#: Official projected CRS of each zone, by département code (metropolitan France: Lambert-93).
ZONE_EPSG = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
METRO_EPSG = 2154


#: The columns of ``units.parquet``, in the order the build writes them (the schema of a
#: reference: the build writes it, :func:`load_reference` checks it).
UNIT_COLUMNS = (
    "nom",
    "type",
    "commune",
    "population",
    "departement",
    "region",
    "epci",
    "zone",
    "epsg",
    "anciens_codes",
    "area_km2",
    "lon",
    "lat",
    "geometry_source",
    "geometry",
)
#: The columns of ``communes.csv`` every part of the tool reads.
COMMUNE_KEY_COLUMNS = ("nom", "departement", "anciens_codes", "unites")
#: The columns of ``adjacency.parquet``.
ADJACENCY_COLUMNS = ("a", "b", "shared_m")
#: The build's table of water crossings (:mod:`cpts_geo.reference.water`).
WATER_CROSSINGS_FILE = "traversees_eau.parquet"
#: Copies of tables in Arrow IPC (Feather v2), written by the build beside the file each mirrors
#: and read instead of it: a memory-mapped read, without parsing a CSV nor decoding a parquet.
#: Each records the fingerprint of its source (:func:`source_fingerprint`); a source that changed
#: since (edited by hand) is read itself.
FAST_TABLES = {
    "units.parquet": "unites.arrow",
    "communes.csv": "communes.arrow",
    "anciennes_communes.csv": "anciennes_communes.arrow",
    FOLDED_NAMES_FILE: "noms_normalises.arrow",
}
#: The schema metadata key of a fast table: its source file and that file's fingerprint.
FAST_SOURCE_KEY = b"cpts_geo_source"
#: The build's graphs of the units, as numpy arrays (:func:`graph_arrays`): what a check walks,
#: read in a millisecond instead of being rebuilt from ``adjacency.parquet`` and
#: ``traversees_eau.parquet`` by every process.
GRAPH_FILE = "graphes.npz"
#: The arrays of :data:`GRAPH_FILE`: the land graph (CSR over unit positions), the land mass
#: of each unit, the water crossings (CSR, with their length in km), and the fingerprint of
#: the units they were built for (:func:`codes_fingerprint`). The build adds ``sources``: the
#: fingerprints of the files they were computed from (:data:`GRAPH_SOURCES`).
GRAPH_ARRAYS = (
    "land_indptr",
    "land_indices",
    "land",
    "water_indptr",
    "water_indices",
    "water_km",
    "codes_sha256",
)
#: The files the graphs are computed from: graphs whose sources changed are rebuilt.
GRAPH_SOURCES = ("adjacency.parquet", WATER_CROSSINGS_FILE)


def epsg_for_departement(code: str) -> int:
    """The official projected CRS (EPSG code) used for areas and distances in a département."""
    return ZONE_EPSG.get(str(code), METRO_EPSG)


def default_data_dir() -> Path:
    """The folder of the reference used when none is given.

    ``$CPTS_GEO_REFERENCE`` if set (the variable the CLI's ``--reference`` reads too), else the
    reference shipped with the tool (:func:`shipped_data_dir`).
    """
    env = os.environ.get("CPTS_GEO_REFERENCE")
    if env:
        return Path(env)
    return shipped_data_dir()


def shipped_data_dir() -> Path:
    """The folder of the reference shipped with the tool: the package data ``cpts_geo.data`` of
    an installed package, else the ``data/`` folder next to the source tree."""
    try:
        folder = Path(str(resources.files("cpts_geo.data")))
        if (folder / "units.parquet").exists():
            return folder
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "data"


class UnitRecords:
    """One record (a dict) per unit position, built on first use by ``build`` and then shared:
    ``records[p]``. Treat the records as read-only."""

    __slots__ = ("_build", "_records")

    def __init__(self, build: Callable[[int], dict]):
        self._build = build
        self._records: dict[int, dict] = {}

    def __getitem__(self, p: int) -> dict:
        record = self._records.get(p)
        if record is None:
            record = self._records[p] = self._build(p)
        return record


@dataclass(frozen=True, eq=False)
class ReferenceArrays:
    """The reference as numpy arrays, for the rules and territories (built once per reference).

    Units are integer positions (the order of ``ref.units`` and ``ref.graph``); EPCI,
    départements, régions and land masses are integer ids into the ``*_codes`` arrays.
    """

    n: int
    codes: np.ndarray
    names: np.ndarray
    pop: np.ndarray
    pos: dict
    indptr: np.ndarray
    indices: np.ndarray
    land: np.ndarray
    land_size: np.ndarray
    land_pop: np.ndarray
    epci: np.ndarray  # -1: no EPCI
    epci_codes: np.ndarray
    epci_names: np.ndarray
    epci_n: np.ndarray
    epci_pop: np.ndarray
    dep: np.ndarray
    dep_codes: np.ndarray
    dep_names: np.ndarray
    dep_region: np.ndarray
    reg: np.ndarray
    reg_codes: np.ndarray
    reg_names: np.ndarray
    epsg: np.ndarray
    area: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    @cached_property
    def edge_rows(self) -> np.ndarray:
        """The row (unit position) of each entry of ``indices``: the land graph as edge lists."""
        return np.repeat(np.arange(self.n, dtype=np.int32), np.diff(self.indptr))

    @cached_property
    def code_list(self) -> list[str]:
        """Unit codes as Python strings, shared by every report (no new string per mention)."""
        return [str(c) for c in self.codes]

    @cached_property
    def name_list(self) -> list[str]:
        """Unit names as Python strings (see :attr:`code_list`)."""
        return [str(c) for c in self.names]

    @cached_property
    def unit_records(self) -> tuple[UnitRecords, UnitRecords, UnitRecords]:
        """Per unit (position), the records reports list it with — ``{code, nom}``, ``{code, nom,
        population}`` and ``{code, nom, population, epci, departement}`` — one dict per unit,
        built when first listed and then shared by every report (a register of 200,000 rows
        mentions units millions of times). Treat them as read-only."""
        codes, names, pop = self.code_list, self.name_list, self.pop

        def short(p: int) -> dict:
            return {"code": codes[p], "nom": names[p]}

        def with_pop(p: int) -> dict:
            return {"code": codes[p], "nom": names[p], "population": int(pop[p])}

        def full(p: int) -> dict:
            e, d = int(self.epci[p]), int(self.dep[p])
            return {
                "code": codes[p],
                "nom": names[p],
                "population": int(pop[p]),
                "epci": str(self.epci_codes[e]) if e >= 0 else "",
                "departement": str(self.dep_codes[d]) if d >= 0 else "",
            }

        return UnitRecords(short), UnitRecords(with_pop), UnitRecords(full)

    @cached_property
    def indices32(self) -> np.ndarray:
        """``indices`` as int32 (half the memory traffic in the per-territory graph passes)."""
        return self.indices.astype(np.int32)

    @cached_property
    def indptr32(self) -> np.ndarray:
        """``indptr`` as int32 (with :attr:`indices32`)."""
        return self.indptr.astype(np.int32)

    def neighbours_of(self, positions: np.ndarray) -> np.ndarray:
        """Land neighbours of the given units, concatenated (with repeats)."""
        return neighbours_of(self, positions)


def _factorize(values: pd.Series, names: pd.Series | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer ids of ``values`` ("" / NaN -> -1), the distinct codes (in order of first
    appearance) and their names."""
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        # Strings already (Arrow): factorized as they are, then "" made a missing value.
        ids, uniques = pd.factorize(values, use_na_sentinel=True)
        codes = np.asarray(uniques, dtype=object)
        empty = np.flatnonzero(codes == "")
        if len(empty):
            e = int(empty[0])
            ids = np.where(ids == e, -1, ids - (ids > e))
            codes = np.delete(codes, e)
    else:
        s = pd.Series(values.to_numpy()).astype(object).where(values.notna().to_numpy(), "").astype(str)
        ids, uniques = pd.factorize(s.where(s != "", None), use_na_sentinel=True)
        codes = np.asarray(uniques, dtype=object)
    if names is None:
        labels = codes.copy()
    else:
        labels = np.array(names.reindex(codes).astype(object).to_numpy(), dtype=object)
        missing = pd.isna(labels)
        labels[missing] = codes[missing]
    return ids.astype(np.int64), codes, labels


_TABLES = ("units", "communes", "epci", "departements", "regions", "adjacency")


class _Units:
    """The units of a reference: their table without geometry, and the GeoDataFrame, built on
    first use (a check of a list of codes or names reads no boundary and imports no geopandas).

    Shared by the references :meth:`Reference.replace` makes without new units.
    """

    def __init__(self, units: pd.DataFrame, geometry: Callable[[], object] | None = None):
        self._geometry = geometry
        self._frame: pd.DataFrame | None = None
        name = getattr(units, "_geometry_column_name", None) if geometry is None else None
        if geometry is not None or name is None or name not in units.columns:
            # A plain table: geometry from ``geometry`` (or none at all).
            self.table = units.copy(deep=False)
            if geometry is None:
                self._frame = self.table
        else:  # a GeoDataFrame
            self._frame = units.copy(deep=False)
            self.table = pd.DataFrame(units.drop(columns=name))

    def frame(self) -> pd.DataFrame:
        """The units with their geometry (a GeoDataFrame), decoded once."""
        if self._frame is None:
            import geopandas as gpd

            assert self._geometry is not None
            geo = self._geometry()
            if not isinstance(geo, gpd.GeoSeries) or not geo.index.equals(self.table.index):
                raise ReferenceDataError(
                    "géométrie des unités : une GeoSeries indexée comme les unités est attendue ; "
                    "rechargez le référentiel"
                )
            name = geo.name or "geometry"
            frame = self.table.copy(deep=False)
            frame[name] = geo.values
            self._frame = gpd.GeoDataFrame(frame, geometry=name)
        return self._frame


class _Lazy:
    """An optional table of a reference folder, read on first use (a check of a list of codes
    never reads the postal codes, nor the former communes)."""

    def __init__(self, read: Callable[[], pd.DataFrame]):
        self._read = read
        self._table: pd.DataFrame | None = None

    def get(self) -> pd.DataFrame:
        if self._table is None:
            self._table = self._read().copy(deep=False)
        return self._table


class Reference:
    """A loaded reference: immutable, and owner of everything derived from it.

    The tables are exposed as copy-on-write views (pandas' Copy-on-Write): editing
    ``ref.units`` in place changes only that view, never the reference nor anything computed
    from it, and assigning an attribute raises. To work on an edited table, build a new
    reference with :meth:`replace`. Everything derived (positions, graph, land masses, numpy
    arrays, projected geometries, sea links, the tables of names) is computed once, on first
    use, and cached on the reference itself; the boundaries of the units too, when the
    reference was loaded by :func:`load_reference` (a check of a list of codes or names never
    decodes them).

    Parameters
    ----------
    units
        A GeoDataFrame; or, with ``geometry``, the same table without its geometry.
    geometry
        A function returning the units' geometries (a GeoSeries in EPSG:4326 indexed like
        ``units``), called once, when geometry is first asked for.
    graph
        A function returning the build's graphs (the arrays :data:`GRAPH_ARRAYS`), called once,
        when the graph is first walked; used only if they were built for these units (else the
        graphs are built from ``adjacency`` and the water crossings, as without it).
    **extra
        Further tables (``former_communes``, ``postal_codes``, ``folded_names``...): DataFrames,
        or functions returning one, called once, when the table is first asked for.

    Attributes
    ----------
    units
        GeoDataFrame (EPSG:4326) indexed by unit code: communes, and the arrondissements
        municipaux of Paris, Lyon and Marseille.
    unit_table
        The same table without the geometry (a DataFrame): what a check of a list reads.
    communes, epci, departements, regions
        DataFrames indexed by code.
    adjacency
        DataFrame of neighbour pairs (``a``, ``b``, ``shared_m``); a function returning it is
        called when the table is first asked for.
    metadata
        Vintages, sources and build figures.
    path
        The folder the reference was loaded from.
    former_communes
        Former communes users may still name (``code``, ``nom``, ``commune``, ``type``,
        ``depuis``); empty for a reference folder without ``anciennes_communes.csv``.
    postal_codes
        ``code_postal`` to ``code_insee`` (a unit); empty without ``codes_postaux.csv``.
    """

    _unit_store: _Units
    _communes: pd.DataFrame
    _epci: pd.DataFrame
    _departements: pd.DataFrame
    _regions: pd.DataFrame
    _adjacency_store: pd.DataFrame | _Lazy
    _graph_source: Callable[[], object] | None
    _extra: tuple[str, ...]
    metadata: dict
    path: Path | None

    def __init__(
        self,
        units: pd.DataFrame,
        communes: pd.DataFrame,
        epci: pd.DataFrame,
        departements: pd.DataFrame,
        regions: pd.DataFrame,
        adjacency: pd.DataFrame | Callable[[], pd.DataFrame],
        metadata: dict,
        path: Path | None = None,
        *,
        geometry: Callable[[], object] | None = None,
        graph: Callable[[], object] | None = None,
        **extra: pd.DataFrame | Callable[[], pd.DataFrame],
    ):
        store = units if isinstance(units, _Units) else _Units(units, geometry)
        object.__setattr__(self, "_unit_store", store)
        tables = {
            "communes": communes,
            "epci": epci,
            "departements": departements,
            "regions": regions,
        }
        for name, table in tables.items():
            object.__setattr__(self, f"_{name}", table.copy(deep=False))
        if not isinstance(adjacency, _Lazy):
            adjacency = _Lazy(adjacency) if callable(adjacency) else adjacency.copy(deep=False)
        object.__setattr__(self, "_adjacency_store", adjacency)
        object.__setattr__(self, "_graph_source", graph)
        for name, table in extra.items():
            if not isinstance(table, _Lazy):
                table = _Lazy(table) if callable(table) else table.copy(deep=False)
            object.__setattr__(self, f"_{name}", table)
        object.__setattr__(self, "_extra", tuple(extra))
        object.__setattr__(self, "metadata", copy.deepcopy(metadata))
        object.__setattr__(self, "path", path)

    def __setattr__(self, name, value):
        raise AttributeError(
            f"Reference is immutable: build a new one with ref.replace({name}=...) instead of setting {name}"
        )

    def __delattr__(self, name):
        raise AttributeError("Reference is immutable")

    def __repr__(self) -> str:
        return f"Reference({len(self._table)} units, {self.path})"

    def replace(self, **tables) -> Reference:
        """A new reference with some tables replaced (``units=``, ``communes=``, ...)."""
        current = {name: getattr(self, f"_{name}") for name in (*_TABLES[1:-1], *self._extra)}
        current["units"] = self._unit_store
        current["adjacency"] = self._adjacency_store
        current.update(tables)
        metadata = tables.pop("metadata", self.metadata)
        current.pop("metadata", None)
        # The build's graphs describe its units, neighbours and water crossings only.
        same_graph = not {"units", "adjacency", "water_crossings"} & set(tables)
        graph = self._graph_source if same_graph else None
        return Reference(metadata=metadata, path=self.path, graph=graph, **current)

    # ---- tables (copy-on-write views) ------------------------------------------------------
    @property
    def units(self) -> gpd.GeoDataFrame:
        return self._unit_store.frame().copy(deep=False)

    @property
    def unit_table(self) -> pd.DataFrame:
        """:attr:`units` without the geometry (read without decoding the boundaries)."""
        return self._unit_store.table.copy(deep=False)

    @property
    def _table(self) -> pd.DataFrame:
        return self._unit_store.table

    @property
    def communes(self) -> pd.DataFrame:
        return self._communes.copy(deep=False)

    @property
    def epci(self) -> pd.DataFrame:
        return self._epci.copy(deep=False)

    @property
    def departements(self) -> pd.DataFrame:
        return self._departements.copy(deep=False)

    @property
    def regions(self) -> pd.DataFrame:
        return self._regions.copy(deep=False)

    @property
    def adjacency(self) -> pd.DataFrame:
        return self._adjacency.copy(deep=False)

    @property
    def _adjacency(self) -> pd.DataFrame:
        store = self._adjacency_store
        return store.get() if isinstance(store, _Lazy) else store

    @property
    def former_communes(self) -> pd.DataFrame:
        """Former communes users may still name (``code``, ``nom``, ``commune``, ``type``, ``depuis``)."""
        if "former_communes" in self._extra:
            return self.table("former_communes")
        return pd.DataFrame(columns=["code", "nom", "commune", "type", "depuis"])

    @property
    def postal_codes(self) -> pd.DataFrame:
        """Postal codes (``code_postal``) of the units (``code_insee``, ``nom``)."""
        if "postal_codes" in self._extra:
            return self.table("postal_codes")
        return pd.DataFrame(columns=["code_postal", "code_insee", "nom"])

    def table(self, name: str) -> pd.DataFrame:
        """An extra table of the reference folder (e.g. ``anciennes_communes``), as a view."""
        if name not in self._extra:
            raise KeyError(
                f"no table {name!r} in this reference (tables: {', '.join(self._extra) or 'none'})"
            )
        table = getattr(self, f"_{name}")
        return (table.get() if isinstance(table, _Lazy) else table).copy(deep=False)

    # ---- vintages ------------------------------------------------------------------------
    @property
    def vintage(self) -> dict:
        """``{"cog": 2026, "population": 2023}``."""
        return dict(self.metadata["vintage"])

    # ---- graph ---------------------------------------------------------------------------
    @cached_property
    def position(self) -> pd.Series:
        """Row position of each unit code in :attr:`units` (and in :attr:`graph`)."""
        return pd.Series(np.arange(len(self._table)), index=self._table.index)

    @cached_property
    def _stored_graph(self) -> dict[str, np.ndarray] | None:
        """The build's graphs (:data:`GRAPH_FILE`) when they were built for these units, else
        ``None`` (the graphs are then built from the tables)."""
        if self._graph_source is None:
            return None
        arrays = self._graph_source()
        problem = graph_arrays_problem(arrays, self._table.index)
        if problem:
            log.info("%s : %s ; graphes recalculés depuis les tables", GRAPH_FILE, problem)
            return None
        assert isinstance(arrays, dict)
        return arrays

    @cached_property
    def _csr(self) -> tuple[np.ndarray, np.ndarray]:
        """The land graph as CSR arrays (``indptr``, ``indices``; int32, each row sorted,
        without repeats), built with numpy: what :attr:`graph` holds, without scipy."""
        stored = self._stored_graph
        if stored is not None:
            return stored["land_indptr"], stored["land_indices"]
        n = len(self._table)
        i = positions_in(self._table.index, self._adjacency["a"])
        j = positions_in(self._table.index, self._adjacency["b"])
        if (i < 0).any() or (j < 0).any():
            unknown = sorted(set(self._adjacency["a"][i < 0]) | set(self._adjacency["b"][j < 0]))
            raise ReferenceDataError(
                f"adjacency.parquet : {len(unknown)} code(s) absent(s) des unités ({', '.join(unknown[:5])}) ; "
                "reconstruisez le référentiel avec scripts/build_reference.py"
            )
        # Stable sort: the stored pairs come sorted, and timsort takes the runs as they are.
        pairs = np.sort(np.r_[i, j].astype(np.int64) * n + np.r_[j, i].astype(np.int64), kind="stable")
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
        rows, cols = np.divmod(pairs, max(n, 1))
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        index = np.int32 if max(n, len(cols)) < np.iinfo(np.int32).max else np.int64
        return indptr.astype(index), cols.astype(index)

    @cached_property
    def graph(self) -> sp.csr_matrix:
        """Symmetric sparse adjacency matrix of the units (land contiguity), in units order."""
        import scipy.sparse as sp

        indptr, indices = self._csr
        n = len(self._table)
        m = sp.csr_matrix((np.ones(len(indices), dtype=np.int8), indices, indptr), shape=(n, n))
        m.sort_indices()
        return m

    @cached_property
    def land_component(self) -> pd.Series:
        """Id of the land mass each unit is on (units joined by a land path share an id)."""
        stored = self._stored_graph
        if stored is not None:
            return pd.Series(stored["land"], index=self._table.index)
        indptr, indices = self._csr
        n = len(self._table)
        rows = np.repeat(np.arange(n, dtype=indices.dtype), np.diff(indptr))
        once = rows < indices  # each edge once (the graph is symmetric)
        _, labels = _graph.labels_of_edges(n, rows[once], indices[once])
        return pd.Series(labels, index=self._table.index)

    def neighbours(self, code: str) -> list[str]:
        """Codes of the land neighbours of a unit, sorted."""
        indptr, indices = self._csr
        p = self.position[code]
        return sorted(self._table.index[indices[indptr[p] : indptr[p + 1]]])

    def neighbours_of_codes(self, codes: Iterable[str]) -> set[str]:
        """Codes of the units adjacent by land to any of ``codes`` (unknown codes ignored)."""
        a = self.arrays
        pos = np.array([a.pos[c] for c in set(codes) if c in a.pos], dtype=np.int64)
        return set(a.codes[np.unique(a.neighbours_of(pos))].tolist())

    @cached_property
    def arrays(self) -> ReferenceArrays:
        """The numpy view of the reference used by territories and rules."""
        units = self._table
        n = len(units)
        indptr, indices = self._csr
        pop = units["population"].fillna(0).to_numpy(dtype=np.int64)
        land = self.land_component.to_numpy().astype(np.int64)
        n_land = int(land.max()) + 1 if n else 0
        epci, epci_codes, epci_names = _factorize(units["epci"], self._epci["nom"])
        dep, dep_codes, dep_names = _factorize(units["departement"], self._departements["nom"])
        reg, reg_codes, reg_names = _factorize(units["region"], self._regions["nom"])
        # Région of each département: the région of its units.
        dep_region = np.full(len(dep_codes), -1, dtype=np.int64)
        ok = (dep >= 0) & (reg >= 0)
        dep_region[dep[ok]] = reg[ok]
        ok_e = epci >= 0
        return ReferenceArrays(
            n=n,
            codes=units.index.to_numpy(dtype=object),
            names=units["nom"].astype(str).to_numpy(dtype=object),
            pop=pop,
            pos=dict(zip(units.index.tolist(), range(n))),
            indptr=indptr.astype(np.int64),
            indices=indices.astype(np.int64),
            land=land,
            land_size=np.bincount(land, minlength=n_land),
            land_pop=np.bincount(land, weights=pop, minlength=n_land).astype(np.int64),
            epci=epci,
            epci_codes=epci_codes,
            epci_names=epci_names,
            epci_n=np.bincount(epci[ok_e], minlength=len(epci_codes)),
            epci_pop=np.bincount(epci[ok_e], weights=pop[ok_e], minlength=len(epci_codes)).astype(np.int64),
            dep=dep,
            dep_codes=dep_codes,
            dep_names=dep_names,
            dep_region=dep_region,
            reg=reg,
            reg_codes=reg_codes,
            reg_names=reg_names,
            epsg=units["epsg"].to_numpy(dtype=np.int64),
            area=units["area_km2"].fillna(0).to_numpy(dtype=float)
            if "area_km2" in units
            else np.full(n, np.nan),
            lon=units["lon"].to_numpy(dtype=float),
            lat=units["lat"].to_numpy(dtype=float),
        )

    @cached_property
    def main_land(self) -> np.ndarray:
        """The largest land mass (most units) of each département (``arrays.dep`` id): its mainland."""
        a = self.arrays
        ok = a.dep >= 0
        base = int(a.land.max()) + 1 if a.n else 1
        key = a.dep[ok] * base + a.land[ok]
        pairs, counts = np.unique(key, return_counts=True)
        dep, land = pairs // base, pairs % base
        order = np.lexsort((land, -counts, dep))  # by département, most units first
        out = np.full(len(a.dep_codes), -1, dtype=np.int64)
        first = np.unique(dep[order], return_index=True)[1]
        out[dep[order][first]] = land[order][first]
        return out

    # ---- geometry in the zones' projected CRS ----------------------------------------------
    @cached_property
    def _projected_store(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self._table)
        return np.empty(n, dtype=object), np.zeros(n, dtype=bool)

    def projected(self, positions: np.ndarray) -> np.ndarray:
        """Geometries of units (positions) in their zone's projected CRS (projected once each)."""
        positions = np.asarray(positions, dtype=np.int64)
        geoms, done = self._projected_store
        todo = positions[~done[positions]]
        if len(todo):
            import geopandas as gpd

            a = self.arrays
            frame = self._unit_store.frame()
            src = frame.geometry.to_numpy()
            for epsg in np.unique(a.epsg[todo]):
                sel = todo[a.epsg[todo] == epsg]
                geoms[sel] = gpd.GeoSeries(src[sel], crs=frame.crs).to_crs(int(epsg)).to_numpy()
            done[todo] = True
        return geoms[positions]

    @cached_property
    def unit_xy_km(self) -> np.ndarray:
        """Representative points of the units, in km, in each zone's projected CRS."""
        from pyproj import Transformer

        a = self.arrays
        xy = np.zeros((a.n, 2))
        for code in np.unique(a.epsg):
            sel = a.epsg == code
            x, y = Transformer.from_crs(4326, int(code), always_xy=True).transform(a.lon[sel], a.lat[sel])
            xy[sel, 0] = np.asarray(x) / 1000.0
            xy[sel, 1] = np.asarray(y) / 1000.0
        # Units without geometry (restored communes inside another's polygon): their neighbours' mean.
        g = self.graph
        for i in np.flatnonzero(~np.isfinite(xy).all(axis=1)):
            nb = g.indices[g.indptr[i] : g.indptr[i + 1]]
            nb = nb[np.isfinite(xy[nb]).all(axis=1)]
            xy[i] = xy[nb].mean(axis=0) if len(nb) else 0.0
        return xy

    @cached_property
    def shared_length_km(self) -> sp.csr_matrix:
        """Length (km) of the boundary each pair of land neighbours shares, as a CSR matrix."""
        import scipy.sparse as sp

        adj = self._adjacency
        i = self.position.reindex(adj["a"]).to_numpy()
        j = self.position.reindex(adj["b"]).to_numpy()
        length = np.nan_to_num(adj["shared_m"].to_numpy(dtype=float), nan=0.0) / 1000.0
        n = len(self._table)
        m = sp.coo_matrix((np.r_[length, length], (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
        m.sum_duplicates()
        m.sort_indices()
        return m

    # ---- sea links -------------------------------------------------------------------------
    @cached_property
    def _sea_link_cache(self) -> dict:
        return {}

    def sea_links(self, max_km: float = 30.0, *, departements=None) -> pd.DataFrame:
        """Sea links between land masses closer than ``max_km`` (see :func:`sea_links`); with
        ``departements`` (codes), only the links between units of those départements are
        computed (cached per distance and zone: the work is bounded by the zone asked)."""
        key = (float(max_km), _zone_key(departements))
        if key not in self._sea_link_cache:
            self._sea_link_cache[key] = _compute_sea_links(self, key[0], key[1])
        return self._sea_link_cache[key]

    def graph_with_sea_links(self, max_km: float = 30.0, *, departements=None) -> sp.csr_matrix:
        """Land adjacency plus the sea links and the water crossings of at most ``max_km`` (of
        ``departements`` only, when given): the links the rules, ``suggest`` and the maps
        share. Symmetric CSR in units order (cached)."""
        import scipy.sparse as sp

        zone = _zone_key(departements)
        key = ("graph", float(max_km), zone)
        if key not in self._sea_link_cache:
            links = self.sea_links(max_km, departements=zone)
            water = self.water_crossings(max_km, departements=zone)
            g = self.graph.astype(np.int8)
            if len(links) or len(water):
                i = self.position.reindex(np.r_[links["a"], water["a"]]).to_numpy()
                j = self.position.reindex(np.r_[links["b"], water["b"]]).to_numpy()
                n = g.shape[0]
                extra = sp.coo_matrix(
                    (np.ones(2 * len(i), dtype=np.int8), (np.r_[i, j], np.r_[j, i])), shape=(n, n)
                )
                g = (g + extra.tocsr()).tocsr()
                g.data[:] = 1
            g.sort_indices()
            self._sea_link_cache[key] = g
        return self._sea_link_cache[key]

    # ---- water crossings -------------------------------------------------------------------
    @cached_property
    def _water_table(self) -> pd.DataFrame:
        """Every water crossing of the reference: the build's table
        (``traversees_eau.parquet``), else computed once from the boundaries; shortest first,
        with the positions of its units (``pa``, ``pb``)."""
        if "water_crossings" in self._extra:
            table = self.table("water_crossings")
        elif not hasattr(self._unit_store.frame(), "geometry"):
            table = empty_water_crossings()
        else:
            from cpts_geo.reference.water import compute_water_crossings

            log.info("traversées par l'eau absentes du référentiel : calculées depuis les contours")
            table = compute_water_crossings(self._unit_store.frame(), self._adjacency)
        pa = positions_in(self._table.index, table["a"])
        pb = positions_in(self._table.index, table["b"])
        known = (pa >= 0) & (pb >= 0)
        table = table[known].assign(pa=pa[known], pb=pb[known])
        order = np.lexsort((table["pb"].to_numpy(), table["pa"].to_numpy(), table["distance_km"].to_numpy()))
        return table.iloc[order].reset_index(drop=True)

    @property
    def water_crossing_max_km(self) -> float:
        """The longest water crossing the reference holds (the build's limit)."""
        info = self.metadata.get("water_crossings") or {}
        return float(info.get("max_km", WATER_CROSSING_MAX_KM))

    def water_crossings(self, max_km: float = 30.0, *, departements=None) -> pd.DataFrame:
        """Water crossings of at most ``max_km``: pairs of units of one land mass that are not
        land neighbours and face each other across water (an estuary, a rade, a bay).

        The shortest segment between the two units, in the zone's projected CRS, crosses the
        land of no other unit (over more than 20 m), nor a land border of France
        (:mod:`cpts_geo.reference.water`). Precomputed by the build
        (``data/traversees_eau.parquet``, up to :attr:`water_crossing_max_km`); the
        ``contiguity`` and ``enclaves`` rules, ``suggest`` and the maps use these links, with
        ``max_km`` = ``sea_link_km``.

        Parameters
        ----------
        max_km
            Longest crossing returned.
        departements
            Département codes: only the crossings between two units of those départements.

        Returns
        -------
        pandas.DataFrame
            One row per pair, shortest first: ``a``, ``b`` (unit codes, ``a < b``), ``a_nom``,
            ``b_nom``, ``distance_km`` (length of the segment), ``epsg`` (the zone's projected
            CRS) and the segment's ends in it (``ax``, ``ay`` on ``a``; ``bx``, ``by`` on ``b``;
            metres). :meth:`water_crossing_lines` gives the segments as lines.

        Examples
        --------
        >>> ref = load_reference()
        >>> w = ref.water_crossings(2.0, departements="29")
        >>> w.loc[(w["a"] == "29189") | (w["b"] == "29189"), ["a_nom", "b_nom", "distance_km"]]
                         a_nom               b_nom  distance_km
        20            Guipavas  Plougastel-Daoulas        0.443
        24  Plougastel-Daoulas   Le Relecq-Kerhuon        0.546
        42               Brest  Plougastel-Daoulas        1.866
        """
        t = self._water_table
        keep = t["distance_km"].to_numpy() <= float(max_km)
        zone = _zone_key(departements)
        if zone is not None:
            a = self.arrays
            ok = np.isin(a.dep_codes, zone)[np.maximum(a.dep, 0)] & (a.dep >= 0)
            keep &= ok[t["pa"].to_numpy()] & ok[t["pb"].to_numpy()]
        out = t[keep].drop(columns=["pa", "pb"]).reset_index(drop=True)
        names = self._table["nom"]
        out.insert(2, "a_nom", names.reindex(out["a"]).to_numpy())
        out.insert(3, "b_nom", names.reindex(out["b"]).to_numpy())
        return out

    def links(self, max_km: float = 30.0, *, departements=None) -> pd.DataFrame:
        """Every link :meth:`graph_with_sea_links` adds to the land graph: the sea links between
        land masses (:meth:`sea_links`, ``kind`` ``"mer"``) and the water crossings within one
        (:meth:`water_crossings`, ``kind`` ``"eau"``), of at most ``max_km``.

        Returns
        -------
        pandas.DataFrame
            ``a``, ``b`` (unit codes, ``a < b``), ``distance_km``, ``kind``; sea links first,
            each kind sorted by ``a``, ``b``.

        Examples
        --------
        >>> ref = load_reference()
        >>> links = ref.links(30.0, departements="29")
        >>> links.groupby("kind").size().to_dict()
        {'eau': 117, 'mer': 5}
        """
        sea = self.sea_links(max_km, departements=departements)[["a", "b", "distance_km"]]
        water = self.water_crossings(max_km, departements=departements)[["a", "b", "distance_km"]]
        return pd.concat(
            [
                sea.sort_values(["a", "b"]).assign(kind="mer"),
                water.sort_values(["a", "b"]).assign(kind="eau"),
            ],
            ignore_index=True,
        )

    def water_crossing_lines(self, max_km: float = 30.0, *, departements=None) -> gpd.GeoDataFrame:
        """:meth:`water_crossings` with their segments as lines (EPSG:4326, for a map)."""
        import geopandas as gpd
        import shapely

        t = self.water_crossings(max_km, departements=departements)
        lines = np.empty(len(t), dtype=object)
        for epsg in np.unique(t["epsg"]).tolist():
            sel = np.flatnonzero(t["epsg"].to_numpy() == epsg)
            ends = t[["ax", "ay", "bx", "by"]].to_numpy()[sel].reshape(-1, 2, 2)
            lines[sel] = gpd.GeoSeries(shapely.linestrings(ends), crs=int(epsg)).to_crs(4326).to_numpy()
        return gpd.GeoDataFrame(t.drop(columns=["ax", "ay", "bx", "by"]), geometry=list(lines), crs=4326)

    @cached_property
    def _water_csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every water crossing as a symmetric CSR over unit positions: ``indptr``, ``indices``
        and the length (km) of each entry."""
        stored = self._stored_graph
        if stored is not None:
            return stored["water_indptr"], stored["water_indices"], stored["water_km"]
        t = self._water_table
        n = len(self._table)
        i, j = t["pa"].to_numpy(dtype=np.int64), t["pb"].to_numpy(dtype=np.int64)
        d = t["distance_km"].to_numpy(dtype=float)
        rows, cols, dist = np.r_[i, j], np.r_[j, i], np.r_[d, d]
        order = np.lexsort((cols, rows))
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return indptr, cols[order], dist[order]

    def water_neighbours(
        self, positions: np.ndarray, max_km: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The water crossings of at most ``max_km`` from the given units (positions): the
        unit each starts from, the unit across the water, and the length (km)."""
        indptr, indices, dist = self._water_csr
        positions = np.asarray(positions, dtype=np.int64)
        counts = indptr[positions + 1] - indptr[positions]
        start = np.repeat(indptr[positions] - np.r_[0, np.cumsum(counts)[:-1]], counts)
        entries = start + np.arange(int(counts.sum()))
        frm = np.repeat(positions, counts)
        keep = dist[entries] <= float(max_km)
        return frm[keep], indices[entries][keep], dist[entries][keep]

    def arrays_with_water(self, max_km: float = 30.0) -> ReferenceArrays:
        """:attr:`arrays` whose graph (``indptr``, ``indices``) also joins the units across
        the water crossings of at most ``max_km`` (the land masses stay those of the land
        graph): what the ``enclaves`` rule walks (cached per distance)."""
        import dataclasses

        key = ("arrays", float(max_km))
        if key not in self._sea_link_cache:
            a = self.arrays
            frm, to, _ = self.water_neighbours(np.arange(a.n), max_km)
            if not len(frm):
                self._sea_link_cache[key] = a
            else:
                # The few crossings inserted after each row's land neighbours, and only the rows
                # that gained some sorted again: the same arrays as sorting every (row, column)
                # pair of the land graph anew, a tenth of the time of a cold check less.
                n = a.n
                order = np.lexsort((to, frm))
                frm, to = frm[order], to[order]
                land = np.diff(a.indptr).astype(np.int64)
                extra = np.bincount(frm, minlength=n)
                indptr = np.zeros(n + 1, dtype=np.int64)
                np.cumsum(land + extra, out=indptr[1:])
                cols = np.empty(int(indptr[-1]), dtype=np.int64)
                start = indptr[:-1]
                cols[np.repeat(start - a.indptr[:-1], land) + np.arange(len(a.indices))] = a.indices
                before = np.r_[0, np.cumsum(extra)[:-1]]
                cols[np.repeat(start + land - before, extra) + np.arange(len(frm))] = to
                for r in np.flatnonzero(extra).tolist():
                    cols[indptr[r] : indptr[r + 1]].sort()
                self._sea_link_cache[key] = dataclasses.replace(a, indptr=indptr, indices=cols)
        return self._sea_link_cache[key]

    # ---- resolving -----------------------------------------------------------------------
    @cached_property
    def _name_index(self) -> _names.NameIndex:
        """Lookup tables of codes, names, former communes, postal codes and EPCI (each built on
        first use: a list of codes folds no name)."""
        return _names.build_index(self)

    def expand(self, code: str) -> list[str]:
        """Unit codes of a commune code: its units (a PLM city's arrondissements, a divided
        commune's units below the commune), else the code itself."""
        if code in self.subdivided:
            return list(self.subdivided[code])
        return [code]

    @cached_property
    def subdivided(self) -> dict[str, tuple[str, ...]]:
        """Communes made of other units, by code: Paris, Lyon and Marseille (arrondissements) and
        the communes divided below the commune (IRIS, sectors: ``type`` ``infracommunal``)."""
        out = {}
        for code, unites in self._communes["unites"].items():
            codes = tuple(str(unites).split(";"))
            if codes != (code,):
                out[code] = codes
        return out

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
        return _resolve.resolve(
            self,
            values,
            departement=departement,
            postal_codes=postal_codes,
            names=names,
            prefer=prefer,
            lines=lines,
            source=source,
        )

    @cached_property
    def _departement_names(self) -> dict[str, str]:
        return {normalize_name(n): c for c, n in self._departements["nom"].items()}

    def departement_code(self, dep) -> str | None:
        """A département code from a code (``1``, ``01``, ``2a``) or a name (``Maine-et-Loire``)."""
        code = _normalize_dep(dep)
        if code is None or code in self._departements.index:
            return code
        return self._departement_names.get(normalize_name(code), code)

    def _dep_of(self, code: str) -> str:
        if code in self._communes.index:
            return self._communes.at[code, "departement"]
        return self._table.at[code, "departement"]


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
    needed = [
        "units.parquet",
        "adjacency.parquet",
        "communes.csv",
        "epci.csv",
        "departements.csv",
        "regions.csv",
        "metadata.json",
    ]
    missing = [n for n in needed if not (folder / n).exists()]
    if missing:
        raise ReferenceDataError(
            f"{folder} : référentiel incomplet, fichier(s) absent(s) : {', '.join(missing)} ; "
            "construisez-le avec scripts/build_reference.py (ou n'indiquez pas de référentiel pour "
            "utiliser celui livré avec l'outil)"
        )

    def read(name, reader):
        try:
            return reader(folder / name)
        except Exception as exc:  # parquet, CSV and JSON readers raise many kinds
            raise ReferenceDataError(
                f"{folder / name} : fichier du référentiel illisible ({type(exc).__name__} : "
                f"{str(exc).strip()[:200]}) ; reconstruisez le référentiel avec scripts/build_reference.py"
            ) from None

    str_cols = {
        "code": str,
        "departement": str,
        "region": str,
        "epci": str,
        "commune": str,
        "anciens_codes": str,
        "unites": str,
    }

    def table(name, reader):  # the build's fast copy of the file, else the file
        fast = _read_fast(folder, name)
        return fast if fast is not None else read(name, reader)

    units = table("units.parquet", _read_unit_table)
    communes = table("communes.csv", lambda p: read_text_table(p, str_cols).set_index("code"))
    epci = read("epci.csv", lambda p: pd.read_csv(p, dtype={"code": str}).set_index("code"))
    deps = read(
        "departements.csv", lambda p: pd.read_csv(p, dtype={"code": str, "region": str}).set_index("code")
    )
    regs = read("regions.csv", lambda p: pd.read_csv(p, dtype={"code": str}).set_index("code"))
    metadata = read("metadata.json", lambda p: json.loads(p.read_text(encoding="utf-8")))
    _check_reference(folder, units, communes, metadata)
    # Optional tables, read on first use (a list of codes reads neither).
    optional: dict[str, Callable[[], pd.DataFrame]] = {}
    if (folder / "anciennes_communes.csv").exists():
        optional["former_communes"] = lambda: table(
            "anciennes_communes.csv",
            lambda p: pd.read_csv(
                p,
                dtype={"code": str, "nom": str, "commune": str, "type": str},
                keep_default_na=False,
                na_values={"depuis": [""]},
            ).astype({"depuis": "Int64"}),
        )
    if (folder / "codes_postaux.csv").exists():
        optional["postal_codes"] = lambda: read(
            "codes_postaux.csv", lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)
        )
    if (folder / LOCALITIES_FILE).exists():
        optional["localities"] = lambda: read(
            LOCALITIES_FILE, lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)
        )
    if _has_folded_names(folder, metadata):
        optional["folded_names"] = lambda: _read_with_columns(
            folder, table, FOLDED_NAMES_FILE, lambda p: read_text_table(p, FOLDED_COLUMNS), FOLDED_COLUMNS
        )
    if (folder / WATER_CROSSINGS_FILE).exists():
        optional["water_crossings"] = lambda: _read_with_columns(
            folder, read, WATER_CROSSINGS_FILE, pd.read_parquet, WATER_CROSSING_COLUMNS
        )
    return Reference(
        geometry=lambda: _read_unit_geometry(folder / "units.parquet", units.index),
        units=units,
        communes=communes,
        epci=epci,
        departements=deps,
        regions=regs,
        # The neighbours are read from the build's graphs; the table only when asked for.
        adjacency=lambda: _read_with_columns(
            folder, read, "adjacency.parquet", pd.read_parquet, ADJACENCY_COLUMNS
        ),
        graph=(lambda: _read_graph(folder)) if (folder / GRAPH_FILE).exists() else None,
        metadata=metadata,
        path=folder,
        **optional,
    )


def read_text_table(path: Path, strings) -> pd.DataFrame:
    """A CSV table of a reference folder (UTF-8, as the build writes them), read by pyarrow: a
    few times faster than pandas' parser on the 35,000 communes. The ``strings`` columns are
    text; in the others, types are inferred; ``""`` is a missing value in numeric columns only.
    On the tables the build writes, the same DataFrame as ``pandas.read_csv(path, dtype={c:
    str for c in strings}, keep_default_na=False, na_values={numeric column: [""]})``."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    options = pcsv.ConvertOptions(
        column_types={c: pa.string() for c in strings}, strings_can_be_null=False, null_values=[""]
    )
    return pcsv.read_csv(path, convert_options=options).to_pandas()


def _geo_metadata(schema) -> dict:
    """The GeoParquet metadata of a parquet schema (its geometry columns)."""
    meta = (schema.metadata or {}).get(b"geo")
    if meta is None:
        raise ValueError("pas de métadonnées GeoParquet ('geo') : units.parquet doit être un GeoParquet")
    return json.loads(meta)


def _read_unit_table(path: Path) -> pd.DataFrame:
    """``units.parquet`` without its geometry columns: the attributes, as ``geopandas.read_parquet``
    gives them, read without the boundaries (decoded later by :func:`_read_unit_geometry`)."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    geo = _geo_metadata(f.schema_arrow)
    columns = [c for c in f.schema_arrow.names if c not in geo.get("columns", {})]
    return f.read(columns=columns, use_pandas_metadata=True).to_pandas()


def _read_unit_geometry(path: Path, index: pd.Index):
    """The geometry of ``units.parquet`` (a GeoSeries), read when first asked for; the file must
    still hold the units the reference was loaded with."""
    import geopandas as gpd
    import pyarrow.parquet as pq

    try:
        primary = _geo_metadata(pq.ParquetFile(path).schema_arrow)["primary_column"]
        geometry = gpd.read_parquet(path, columns=[primary]).geometry
    except Exception as exc:  # parquet and GeoParquet readers raise many kinds
        raise ReferenceDataError(
            f"{path} : contours illisibles ({type(exc).__name__} : {str(exc).strip()[:200]}) ; "
            "reconstruisez le référentiel avec scripts/build_reference.py"
        ) from None
    if not geometry.index.equals(index):
        raise ReferenceDataError(
            f"{path} : le fichier a changé depuis le chargement du référentiel ; rechargez-le"
        )
    return geometry


def _has_folded_names(folder: Path, metadata: dict) -> bool:
    """Whether the reference has a table of folded names (``noms_normalises.csv``) written by the
    folding of this version (:data:`~cpts_geo.reference.names.FOLDING_VERSION`); without it,
    names are folded when first resolved."""
    if not (folder / FOLDED_NAMES_FILE).exists():
        return False
    version = (metadata.get("folded_names") or {}).get("folding")
    if version != FOLDING_VERSION:
        log.info(
            "%s : formes normalisées d'une autre version (%s, attendue %s) : non lues",
            folder / FOLDED_NAMES_FILE,
            version,
            FOLDING_VERSION,
        )
        return False
    return True


def codes_fingerprint(codes: Iterable[str]) -> str:
    """SHA-256 of the unit codes in their order: what ties :data:`GRAPH_FILE` to its units.

    >>> codes_fingerprint(["49007", "49015"])[:12]
    'fec96637dc7e'
    """
    import hashlib

    import pyarrow as pa

    values = codes if isinstance(codes, (pd.Index, pd.Series)) else [str(c) for c in codes]
    array = pa.array(values, type=pa.large_string(), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    # The UTF-8 bytes of the codes and where each ends, read from Arrow's buffers (a tenth of
    # the time of joining 35,000 Python strings).
    buffers = array.buffers()
    ends = np.frombuffer(buffers[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.empty(0, np.uint8)
    digest = hashlib.sha256((ends - ends[0]).astype("<i8").tobytes())
    digest.update(data[ends[0] : ends[-1]].tobytes())
    return digest.hexdigest()


def graph_arrays(ref: Reference) -> dict[str, np.ndarray]:
    """The graphs of a reference as the build stores them (:data:`GRAPH_FILE`): what
    :attr:`Reference.arrays`, the land masses and the water crossings are read from."""
    indptr, indices = ref._csr
    w_indptr, w_indices, w_km = ref._water_csr
    index = np.int32 if len(ref._table) < np.iinfo(np.int32).max else np.int64
    return {
        "land_indptr": np.asarray(indptr, dtype=index),
        "land_indices": np.asarray(indices, dtype=index),
        "land": ref.land_component.to_numpy().astype(index),
        "water_indptr": np.asarray(w_indptr, dtype=np.int64),
        "water_indices": np.asarray(w_indices, dtype=np.int64),
        "water_km": np.asarray(w_km, dtype=np.float64),
        "codes_sha256": np.array(codes_fingerprint(ref._table.index)),
    }


def graph_arrays_problem(arrays, index: pd.Index) -> str | None:
    """Why ``arrays`` cannot be the graphs of the units ``index`` (``None`` when they can): an
    array missing, another set of units, a CSR out of shape."""
    if not isinstance(arrays, dict):
        return "fichier illisible"
    missing = [k for k in GRAPH_ARRAYS if k not in arrays]
    if missing:
        return f"tableau(x) manquant(s) {', '.join(missing)}"
    n = len(index)
    if str(arrays["codes_sha256"]) != codes_fingerprint(index):
        return "construit pour d'autres unités"
    for kind in ("land", "water"):
        indptr, indices = arrays[f"{kind}_indptr"], arrays[f"{kind}_indices"]
        if (
            indptr.ndim != 1
            or len(indptr) != n + 1
            or int(indptr[0]) != 0
            or int(indptr[-1]) != len(indices)
            or (np.diff(indptr) < 0).any()
            or (len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n))
        ):
            return f"graphe {kind} mal formé"
    if len(arrays["land"]) != n or len(arrays["water_km"]) != len(arrays["water_indices"]):
        return "tableaux de longueurs incohérentes"
    return None


def source_fingerprint(path: Path) -> dict:
    """What ties a fast copy to its source file: the file's name, size and SHA-256 (of the
    whole of a CSV; of a parquet file's footer, which holds the size, place and statistics of
    every column chunk, so that the 12 MB of boundaries are not read to check it)."""
    import hashlib

    size = path.stat().st_size
    with open(path, "rb") as f:
        if path.suffix == ".parquet" and size >= 12:
            f.seek(-8, os.SEEK_END)
            tail = f.read(8)
            length = int.from_bytes(tail[:4], "little")
            if tail[4:] != b"PAR1" or length + 8 > size:
                raise ValueError("pas un fichier parquet")
            f.seek(-(length + 8), os.SEEK_END)
            data = f.read(length)
        else:
            data = f.read()
    return {"file": path.name, "bytes": size, "sha256": hashlib.sha256(data).hexdigest()}


def fast_table(frame: pd.DataFrame, source: Path):
    """The Arrow table the build writes as the fast copy of ``source`` (:data:`FAST_TABLES`):
    ``frame`` (the table :func:`load_reference` reads from ``source``) with the fingerprint of
    ``source`` (:func:`source_fingerprint`) in its schema metadata."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=True)
    stamp = json.dumps(source_fingerprint(source)).encode("utf-8")
    return table.replace_schema_metadata({**(table.schema.metadata or {}), FAST_SOURCE_KEY: stamp})


def _read_fast(folder: Path, source: str) -> pd.DataFrame | None:
    """The fast copy of ``source`` (:data:`FAST_TABLES`), or ``None`` when there is none, it is
    unreadable, or ``source`` changed since the build (then ``source`` itself is read)."""
    path = folder / FAST_TABLES[source]
    if not path.exists():
        return None
    import pyarrow.feather as feather

    try:
        table = feather.read_table(path, memory_map=True)
        stamp = json.loads((table.schema.metadata or {})[FAST_SOURCE_KEY])
        fresh = stamp == source_fingerprint(folder / source)
    except Exception as exc:  # Arrow readers raise many kinds; the source is read instead
        log.info("%s : illisible (%s) ; %s relu", path, type(exc).__name__, source)
        return None
    if not fresh:
        log.info("%s : %s a changé depuis la construction du référentiel ; %s relu", path, source, source)
        return None
    return table.to_pandas()


def graph_sources(folder: Path) -> np.ndarray:
    """The fingerprints of the files the graphs of ``folder`` are computed from
    (:data:`GRAPH_SOURCES`, :func:`source_fingerprint`), as the build stores them."""
    found = [source_fingerprint(folder / name) for name in GRAPH_SOURCES if (folder / name).exists()]
    return np.array(json.dumps(found, sort_keys=True))


def _read_graph(folder: Path) -> dict[str, np.ndarray] | None:
    """The arrays of :data:`GRAPH_FILE` (``None`` when unreadable or when a file they were
    computed from changed since: the graphs are then built from the tables)."""
    path = folder / GRAPH_FILE
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        fresh = str(arrays.get("sources")) == str(graph_sources(folder))
    except Exception as exc:  # zip, .npy and file readers raise many kinds
        log.info("%s : illisible (%s) ; graphes recalculés depuis les tables", path, type(exc).__name__)
        return None
    if not fresh:
        log.info("%s : construit depuis d'autres %s ; graphes recalculés", path, " / ".join(GRAPH_SOURCES))
        return None
    return arrays


def _read_with_columns(folder: Path, read, name: str, reader, columns) -> pd.DataFrame:
    """The table ``name`` of a reference folder, read by ``read(name, reader)``, with its
    ``columns`` (else a :class:`ReferenceDataError` naming those missing)."""
    table = read(name, reader)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ReferenceDataError(
            f"{folder / name} : colonne(s) manquante(s) {', '.join(missing)} ; "
            "reconstruisez le référentiel avec scripts/build_reference.py"
        )
    return table


def _check_reference(folder: Path, units, communes, metadata) -> None:
    """The columns and keys every part of the tool reads, present (else ReferenceDataError);
    ``adjacency.parquet``'s when it is read."""
    problems = []
    for name, table, cols in (
        ("units.parquet", units, [c for c in UNIT_COLUMNS if c != "geometry"]),
        ("communes.csv", communes, COMMUNE_KEY_COLUMNS),
    ):
        missing = [c for c in cols if c not in table.columns]
        if missing:
            problems.append(f"{folder / name} : colonne(s) manquante(s) {', '.join(missing)}")
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("vintage"), dict)
        or not {"cog", "population"} <= set(metadata["vintage"])
    ):
        problems.append(f"{folder / 'metadata.json'} : clé 'vintage' (cog, population) manquante")
    elif "counts" not in metadata:
        problems.append(f"{folder / 'metadata.json'} : clé 'counts' manquante")
    if problems:
        raise ReferenceDataError(
            " ; ".join(problems) + " ; reconstruisez le référentiel avec scripts/build_reference.py"
        )


def reference_summary(ref: Reference) -> dict:
    """Vintages, counts and national population of a reference, as a plain dict."""
    counts = ref.metadata["counts"]
    units = ref.unit_table
    return {
        "path": str(ref.path) if ref.path else None,
        "vintage": ref.vintage,
        "counts": {
            "communes": int(len(ref.communes)),
            "units": int(len(units)),
            "arrondissements": int((units["type"] == "arrondissement").sum()),
            "infracommunal": int((units["type"] == "infracommunal").sum()),
            "epci": int(len(ref.epci)),
            "departements": int(len(ref.departements)),
            "regions": int(len(ref.regions)),
            "adjacency_pairs": int(len(ref.adjacency)),
            "communes_without_epci": counts.get("communes_without_epci", []),
        },
        "population": int(units["population"].sum()),
        "population_notes": dict(ref.metadata.get("population_notes", {})),
        "geometry_source": ref.metadata.get("geometry_source"),
    }


def reference_summary_text(info: dict) -> str:
    """:func:`reference_summary` as the French lines ``cpts-geo reference info`` prints."""
    v = info["vintage"]
    c = info["counts"]
    return "\n".join(
        [
            f"Référentiel : {info['path']}",
            f"Millésimes : COG {v['cog']}, populations légales {v['population']} (population municipale)"
            + "".join(f" ; sauf {note}" for note in info["population_notes"].values()),
            f"Communes : {fr_int(c['communes'])} (unités : {fr_int(c['units'])}, dont {c['arrondissements']} "
            "arrondissements municipaux de Paris, Lyon et Marseille)",
            *(
                [f"Unités infracommunales (IRIS, secteurs) : {fr_int(c['infracommunal'])}"]
                if c.get("infracommunal")
                else []
            ),
            f"EPCI : {fr_int(c['epci'])}",
            f"Départements : {c['departements']}",
            f"Régions : {c['regions']}",
            f"Paires de communes voisines : {fr_int(c['adjacency_pairs'])}",
            f"Population nationale : {fr_int(info['population'])} habitants",
            f"Contours : {info['geometry_source']}",
        ]
    )


def sea_links(ref: Reference, *, max_km: float = 30.0) -> pd.DataFrame:
    """Sea links between land masses (islands) closer than ``max_km``.

    A land mass is a connected component of the land adjacency graph (an island, an
    archipelago's island, the mainland). For each pair of land masses of the same zone within
    ``max_km``, the closest pair of units is returned, with its distance in the zone's
    projected CRS. Computed on demand and cached on the reference (:meth:`Reference.sea_links`).

    Returns
    -------
    pandas.DataFrame
        Columns ``a``, ``b`` (unit codes, ``a < b``), ``distance_km``.
    """
    return ref.sea_links(max_km)


def _zone_key(departements) -> tuple[str, ...] | None:
    """A zone (département codes) as a cache key; ``None`` for all of France."""
    if departements is None:
        return None
    if isinstance(departements, str):
        departements = [departements]
    return tuple(sorted({str(d) for d in departements}))


def _compute_sea_links(ref: Reference, max_km: float, zone: tuple[str, ...] | None = None) -> pd.DataFrame:
    import shapely

    units = ref.units
    if zone is not None:
        units = units[units["departement"].isin(zone)]
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
        frames.append(
            pd.DataFrame(
                {
                    "a": np.minimum(a, b),
                    "b": np.maximum(a, b),
                    "distance_km": df["distance_km"].round(3).to_numpy(),
                }
            )
        )
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({"a": [], "b": [], "distance_km": []})
    )
    return out.sort_values(["a", "b"]).reset_index(drop=True)
