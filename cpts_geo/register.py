"""The register of existing CPTS: one type, its derived views, stages.

A :class:`Register` is built by one constructor path, :func:`as_register`, from a Register, a
DataFrame in the long format (one row per CPTS and commune: ``cpts_id``, ``cpts_nom``,
``code_insee`` and optional ``statut``, ``date_statut``, ``departement``) or a path (read with
:func:`cpts_geo.inputs.read_register`). Its codes are resolved against a reference once, when
it is built: every public function that takes a register accepts any of these and treats an
unknown code the same way (an :class:`~cpts_geo.InputError` naming the line and value).

A register is immutable: :attr:`Register.table` is a copy-on-write view (editing it changes
only that view, never the register nor what was computed from it); build a new register from
an edited table with :func:`as_register`. Its derived views (links, CPTS, unit positions,
owners) are computed once and cached on the register.

Examples
--------
>>> import pandas as pd
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> reg = as_register(ref, pd.DataFrame({"cpts_id": ["A", "A", "B"], "cpts_nom": ["CPTS A", "CPTS A", "B"],
...                                      "code_insee": ["49007", "49015", "75056"], "statut": ["aci", "aci", ""]}))
>>> len(reg), int(reg.cpts.loc["A", "n_units"]), int(reg.cpts.loc["B", "n_units"])
(2, 2, 20)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import _graph
from ._cells import blank, cell_text, fold
from ._errors import InputError
from ._text import safe

if TYPE_CHECKING:
    import geopandas as gpd

    from .reference import Reference

__all__ = [
    "STAGES",
    "STAGE_LABELS",
    "Register",
    "RegisterIndex",
    "as_register",
    "empty_register",
    "parse_stage",
    "register_from_frame",
]

#: Stages of a CPTS (Atlas des CPTS), from project to signed contract.
STAGES = ("pre-projet", "lettre-intention", "projet-sante", "aci")

#: French labels of the stages ("" = not given).
STAGE_LABELS = {
    "pre-projet": "Pré-projet",
    "lettre-intention": "Lettre d'intention validée",
    "projet-sante": "Projet de santé validé",
    "aci": "Contrat ACI signé",
    "": "Stade non renseigné",
}

_STAGE_ALIASES = {
    "pre projet": "pre-projet",
    "preprojet": "pre-projet",
    "projet": "pre-projet",
    "lettre intention": "lettre-intention",
    "lettre d intention": "lettre-intention",
    "lettre d intention validee": "lettre-intention",
    "li": "lettre-intention",
    "projet sante": "projet-sante",
    "projet de sante": "projet-sante",
    "projet de sante valide": "projet-sante",
    "ps": "projet-sante",
    "aci": "aci",
    "contrat aci": "aci",
    "contrat aci signe": "aci",
    "signature aci": "aci",
}
_STAGE_LIST = ", ".join(STAGES)

#: Columns of :attr:`Register.table`.
COLUMNS = ("cpts_id", "cpts_nom", "code_insee", "statut", "date_statut", "line")


def parse_stage(value: str) -> str | None:
    """A stage in canonical form, ``""`` for none, ``None`` when unknown.

    >>> parse_stage("Lettre d'intention validée"), parse_stage(""), parse_stage("???")
    ('lettre-intention', '', None)
    """
    if not value:
        return ""
    if value in STAGES:
        return value
    return _STAGE_ALIASES.get(fold(value))


@dataclass(frozen=True, eq=False)
class RegisterIndex:
    """A register on the integer positions of its reference: one row per distinct (CPTS, unit)."""

    ids: np.ndarray  # cpts_id of each CPTS, register order
    names: np.ndarray  # cpts_nom of each CPTS
    row_cpts: np.ndarray  # CPTS of each row (index into ids)
    row_pos: np.ndarray  # unit of each row (position in ref.units)
    geometries: gpd.GeoDataFrame | None = None  # polygon registers: one polygon per cpts_id

    @property
    def n_cpts(self) -> int:
        return len(self.ids)

    def members(self) -> list[np.ndarray]:
        """Sorted unit positions of each CPTS."""
        return [np.sort(self.row_pos[g]) for g in _graph.groups(self.row_cpts, self.n_cpts)]


class Register:
    """The CPTS of a register, one row per (CPTS, unit), resolved against a reference.

    Build it with :func:`as_register` (or the readers of :mod:`cpts_geo.inputs`).

    Attributes
    ----------
    ref
        The reference its codes are units of.
    table
        ``cpts_id``, ``cpts_nom``, ``code_insee`` (unit code), ``statut`` (one of :data:`STAGES`,
        ``""`` when not given), ``date_statut`` and ``line`` (its line in the file, or ``None``);
        a copy-on-write view.
    source
        The file the register was read from.
    warnings
        What was resolved with a correction: ``{"line", "value", "message"}`` each.
    geometries
        Polygon registers only: one polygon per CPTS (EPSG:4326), indexed by ``cpts_id``.
    """

    ref: Reference
    _table: pd.DataFrame
    source: str
    _warnings: tuple[dict, ...]
    geometries: gpd.GeoDataFrame | None

    def __init__(
        self,
        ref: Reference,
        table: pd.DataFrame,
        *,
        source: str = "",
        warnings: list[dict] | None = None,
        geometries: gpd.GeoDataFrame | None = None,
    ):
        missing = [c for c in COLUMNS if c not in table.columns]
        if missing:
            raise InputError(
                f"{source or 'registre'} : colonne(s) {', '.join(missing)} manquante(s) ; "
                "construisez le registre avec as_register()"
            )
        for name, value in (
            ("ref", ref),
            ("_table", table[list(COLUMNS)].copy(deep=False)),
            ("source", str(source or "")),
            ("_warnings", tuple(warnings or ())),
            ("geometries", geometries),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(
            f"Register is immutable: build a new one with as_register() instead of setting {name}"
        )

    def __repr__(self) -> str:
        return f"Register({len(self)} CPTS, {len(self._table)} rows, source={self.source!r})"

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy(deep=False)

    @property
    def warnings(self) -> list[dict]:
        return [dict(w) for w in self._warnings]

    def with_warnings(self, warnings: list[dict]) -> Register:
        """The same register with ``warnings`` put before its own."""
        return Register(
            self.ref,
            self._table,
            source=self.source,
            warnings=list(warnings) + self.warnings,
            geometries=self.geometries,
        )

    def __len__(self) -> int:
        return int(self._table["cpts_id"].nunique())

    # ---- derived views ---------------------------------------------------------------------
    @cached_property
    def links(self) -> pd.DataFrame:
        """Distinct (``cpts_id``, ``code_insee``) pairs, as strings, in register order."""
        t = self._table[["cpts_id", "code_insee"]].astype(str)
        return t.drop_duplicates().reset_index(drop=True)

    @cached_property
    def cpts(self) -> pd.DataFrame:
        """One row per CPTS, indexed by ``cpts_id`` (register order): ``cpts_nom``, ``statut``,
        ``date_statut``, ``n_units``."""
        cols = ["cpts_nom", "statut", "date_statut"]
        t = self._table
        if not len(t):
            out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols}, index=pd.Index([], name="cpts_id"))
            out["n_units"] = pd.Series(dtype=np.int64)
            return out
        t = t.assign(cpts_id=t["cpts_id"].astype(str), **{c: t[c].fillna("").astype(str) for c in cols})
        out = t.groupby("cpts_id", sort=False)[cols].first()
        out["n_units"] = (
            self.links.groupby("cpts_id", sort=False).size().reindex(out.index).fillna(0).astype(np.int64)
        )
        return out

    @cached_property
    def named_links(self) -> pd.DataFrame:
        """:attr:`links` with each CPTS's ``cpts_nom`` (its id when it has none) and ``statut``."""
        out = self.links.join(self.cpts[["cpts_nom", "statut"]], on="cpts_id")
        out["cpts_nom"] = out["cpts_nom"].where(out["cpts_nom"] != "", out["cpts_id"])
        return out[["cpts_id", "cpts_nom", "code_insee", "statut"]]

    @cached_property
    def index(self) -> RegisterIndex:
        """The register on the reference's integer positions (rows are distinct (CPTS, unit))."""
        a = self.ref.arrays
        links = self.links
        if not len(links):
            empty = np.empty(0, dtype=np.int64)
            return RegisterIndex(
                np.empty(0, dtype=object), np.empty(0, dtype=object), empty, empty, self.geometries
            )
        cpts_idx, ids = pd.factorize(links["cpts_id"])  # in order of first appearance
        ids = np.asarray(ids, dtype=object)
        names = self.cpts["cpts_nom"].reindex(ids).fillna("").astype(str).to_numpy(dtype=object)
        pos = self.ref.position.reindex(links["code_insee"]).to_numpy()
        if pd.isna(pos).any():  # impossible through as_register: codes are resolved on construction
            bad = sorted(set(links["code_insee"][pd.isna(pos)]))
            raise InputError(
                f"{self.source or 'registre'} : code(s) inconnu(s) du référentiel : {', '.join(bad[:10])}"
            )
        key = np.unique(cpts_idx.astype(np.int64) * a.n + pos.astype(np.int64))
        return RegisterIndex(ids, names, key // a.n, key % a.n, self.geometries)

    @cached_property
    def unit_cpts(self) -> list[list[str]]:
        """For each unit of the reference (positions), the ids of the CPTS covering it, sorted."""
        idx = self.index
        out: list[list[str]] = [[] for _ in range(self.ref.arrays.n)]
        order = np.lexsort((idx.ids[idx.row_cpts].astype(str), idx.row_pos))
        for p, c in zip(idx.row_pos[order].tolist(), idx.row_cpts[order].tolist()):
            out[p].append(str(idx.ids[c]))
        return out

    @cached_property
    def n_cpts_by_unit(self) -> np.ndarray:
        """How many CPTS cover each unit (positions)."""
        return np.bincount(self.index.row_pos, minlength=self.ref.arrays.n).astype(np.int64)

    @cached_property
    def owner(self) -> np.ndarray:
        """For each unit (positions), the id of a CPTS covering it (the smallest id when several), ``""``
        when none."""
        out: np.ndarray = np.array([""] * self.ref.arrays.n, dtype=object)
        for p, ids in enumerate(self.unit_cpts):
            if ids:
                out[p] = ids[0]
        return out

    def codes(self, cpts_id) -> list[str]:
        """Unit codes of one CPTS, in file order."""
        links = self.links
        return links.loc[links["cpts_id"] == str(cpts_id), "code_insee"].tolist()


def empty_register(ref: Reference) -> Register:
    """A register without CPTS (every unit is a white zone)."""
    table = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    return Register(ref, table)


def as_register(ref: Reference, obj, *, source: str | None = None, sheet: str | None = None) -> Register:
    """The one way to a :class:`Register`: from a Register, a DataFrame in the long format, a
    path (CSV/TXT/XLSX/GeoJSON/GPKG, see :func:`cpts_geo.inputs.read_register`) or ``None``
    (an empty register).

    A Register of another reference is rebuilt on ``ref`` from its table.

    Raises
    ------
    InputError
        Unknown codes or stages, a CPTS id with two names, a row without a CPTS id, an object of
        another type.
    """
    if obj is None:
        return empty_register(ref)
    if isinstance(obj, Register):
        if obj.ref is ref:
            return obj
        rebuilt = register_from_frame(
            obj.table.drop(columns="line"), ref, source=obj.source, lines=obj.table["line"].tolist()
        )
        return Register(
            ref, rebuilt.table, source=obj.source, warnings=obj.warnings, geometries=obj.geometries
        )
    if isinstance(obj, pd.DataFrame):
        return register_from_frame(obj, ref, source=source or "")
    if isinstance(obj, str | Path):
        from .inputs import read_register

        return read_register(obj, ref, sheet=sheet)
    raise InputError(
        f"registre de type {type(obj).__name__} non pris en charge ; attendu un Register, un "
        "DataFrame (cpts_id, cpts_nom, code_insee, ...) ou le chemin d'un fichier"
    )


def register_from_frame(df: pd.DataFrame, ref: Reference, *, source: str = "", lines=None) -> Register:
    """A register from a DataFrame with ``cpts_id``, ``cpts_nom``, ``code_insee`` (and optional
    ``statut``, ``date_statut``, ``departement``).

    Codes are resolved as :meth:`Reference.resolve` does (a city's code gives its
    arrondissements); stages are normalized (``"Lettre d'intention"`` → ``lettre-intention``).

    Raises
    ------
    InputError
        Unknown codes or stages, a CPTS id given with two names, a row without a CPTS id: every
        problem at once, each with its line.
    """
    src = source or "registre"
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{src} : DataFrame attendu, reçu {type(df).__name__}")
    if "cpts_id" not in df.columns or "code_insee" not in df.columns:
        raise InputError(
            f"{src} : colonnes cpts_id et code_insee attendues ; trouvées : "
            f"{', '.join(map(str, df.columns)) or 'aucune'}"
        )
    n = len(df)
    lines = list(lines) if lines is not None else [None] * n

    def col(name):
        if name not in df.columns:
            return [""] * n
        return ["" if blank(v) else cell_text(v) for v in df[name].tolist()]

    ids, noms, codes = col("cpts_id"), col("cpts_nom"), col("code_insee")
    stages_raw, dates, deps = col("statut"), col("date_statut"), col("departement")
    problems: list[dict] = []
    warnings: list[dict] = []

    def where(i):
        return f"ligne {lines[i]}" if lines[i] is not None else f"ligne n°{i + 1} du tableau"

    stages = []
    for i, s in enumerate(stages_raw):
        st = parse_stage(s)
        if st is None:
            problems.append(
                {
                    "line": lines[i],
                    "value": s,
                    "message": f"{where(i)} : statut '{safe(s)}' inconnu ; attendu {_STAGE_LIST}",
                }
            )
        stages.append(st or "")
    dates = _iso_dates(dates, lines, where, problems)
    for i, cid in enumerate(ids):
        if not cid:
            problems.append(
                {
                    "line": lines[i],
                    "value": codes[i],
                    "message": f"{where(i)} : identifiant de CPTS (cpts_id) manquant",
                }
            )
    seen_name, seen_stage, seen_date = _one_value_per_cpts(ids, noms, stages, dates, lines, where, problems)
    # Codes, resolved row by row (a unit may belong to two CPTS: that is an overlap, not a duplicate).
    valid = [i for i in range(n) if ids[i]]
    res = None
    try:
        res = ref.resolve(
            [codes[i] for i in valid],
            departement=[deps[i] or None for i in valid],
            lines=[lines[i] for i in valid],
            source=None,
        )
    except InputError as exc:
        for p in exc.problems:
            i = valid[p["index"]]
            problems.append(
                {"line": lines[i], "value": p["value"], "message": f"{where(i)} : {p['message']}"}
            )
    if problems:
        problems.sort(key=lambda p: (p["line"] is None, p["line"] or 0))
        raise InputError(
            "\n".join(f"{src} : {p['message']}" for p in problems), [{"file": src, **p} for p in problems]
        )
    assert res is not None
    for w in res.warnings:
        if not w["message"].startswith("doublon ignoré"):
            warnings.append({"line": w["line"], "value": w["value"], "message": w["message"]})
    rows = []
    for k, i in enumerate(valid):
        cid = ids[i]
        for code in res.by_value[k]:
            rows.append(
                (
                    cid,
                    noms[i] or seen_name.get(cid, (cid,))[0],
                    code,
                    stages[i] or seen_stage.get(cid, ("",))[0],
                    dates[i] or seen_date.get(cid, ("",))[0],
                    lines[i],
                )
            )
    table = pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)
    dup = table.duplicated(["cpts_id", "code_insee"])
    for r in table[dup].itertuples(index=False):
        warnings.append(
            {
                "line": r.line,
                "value": r.code_insee,
                "message": f"doublon ignoré : {r.code_insee} déjà cité pour la CPTS '{r.cpts_id}'",
            }
        )
    table = table[~dup].reset_index(drop=True)
    return Register(ref, table, source=source, warnings=warnings)


def _iso_dates(dates: list[str], lines, where, problems) -> list[str]:
    """Stage dates as ISO (``AAAA-MM-JJ``) from ISO, ``jj/mm/aaaa`` or an Excel date cell; an
    impossible or unreadable date is a problem naming its line and value."""
    from .history import parse_date

    out = []
    for i, d in enumerate(dates):
        if not d:
            out.append("")
            continue
        try:
            out.append(parse_date(d).isoformat())
        except ValueError:
            problems.append(
                {
                    "line": lines[i],
                    "value": d,
                    "message": f"{where(i)} : date_statut '{safe(d)}' impossible ou illisible ; "
                    "attendu une date jj/mm/aaaa ou AAAA-MM-JJ",
                }
            )
            out.append("")
    return out


def _one_value_per_cpts(ids, noms, stages, dates, lines, where, problems) -> tuple[dict, dict, dict]:
    """The first name, stage and date given for each CPTS; a second, different one is a problem."""
    seen_name: dict[str, tuple[str, int]] = {}
    seen_stage: dict[str, tuple[str, int]] = {}
    seen_date: dict[str, tuple[str, int]] = {}
    for i, cid in enumerate(ids):
        if not cid:
            continue
        for value, seen, what in (
            (noms[i], seen_name, "deux noms"),
            (stages[i], seen_stage, "deux statuts"),
            (dates[i], seen_date, "deux dates de statut"),
        ):
            if not value:
                continue
            if cid not in seen:
                seen[cid] = (value, i)
            elif seen[cid][0] != value:
                j = seen[cid][1]
                problems.append(
                    {
                        "line": lines[i],
                        "value": value,
                        "message": f"{where(i)} : la CPTS '{safe(cid)}' a {what} : '{safe(seen[cid][0])}' "
                        f"({where(j)}) et '{safe(value)}' ; corrigez l'une des lignes",
                    }
                )
    return seen_name, seen_stage, seen_date


def replace_geometries(register: Register, geometries) -> Register:
    """The same register with its CPTS polygons (polygon registers)."""
    return Register(
        register.ref,
        register.table,
        source=register.source,
        warnings=register.warnings,
        geometries=geometries,
    )
