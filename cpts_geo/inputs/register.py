"""The register of existing CPTS: one type, its derived views, stages.

A :class:`Register` is built by one constructor path, :func:`cpts_geo.inputs.read.as_register`, from a Register, a
DataFrame in the long format (one row per CPTS and commune: ``cpts_id``, ``cpts_nom``,
``code_insee`` and optional ``statut``, ``date_statut``, ``departement``) or a path (read with
:func:`cpts_geo.inputs.read.read_register`). Its codes are resolved against a reference once, when
it is built: every public function that takes a register accepts any of these and treats an
unknown code the same way (an :class:`~cpts_geo.InputError` naming the line and value).

A register is immutable: :attr:`Register.table` is a copy-on-write view (editing it changes
only that view, never the register nor what was computed from it); build a new register from
an edited table with :func:`~cpts_geo.inputs.read.as_register`. Its derived views (links, CPTS, unit positions,
owners) are computed once and cached on the register.

Examples
--------
>>> import pandas as pd
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> reg = cg.as_register(ref, pd.DataFrame({"cpts_id": ["A", "A", "B"], "cpts_nom": ["CPTS A", "CPTS A", "B"],
...                                      "code_insee": ["49007", "49015", "75056"], "statut": ["aci", "aci", ""]}))
>>> len(reg), int(reg.cpts.loc["A", "n_units"]), int(reg.cpts.loc["B", "n_units"])
(2, 2, 20)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cpts_geo import _graph
from cpts_geo._errors import InputError
from cpts_geo._text import fr_plural, safe
from cpts_geo.inputs.cells import blank, bounded_name, cell_text, fold
from cpts_geo.inputs.stages import parse_stage, stage_problem

if TYPE_CHECKING:
    import geopandas as gpd

    from cpts_geo.reference.units import Reference

__all__ = [
    "Register",
    "RegisterIndex",
    "cpts_id_from_name",
    "empty_register",
    "parse_shared",
    "register_from_frame",
]


#: Columns of :attr:`Register.table`.
COLUMNS = ("cpts_id", "cpts_nom", "code_insee", "statut", "date_statut", "line", "commune_partagee")

#: Cell values of ``commune_partagee`` (folded), blank being ``False``.
_TRUE = {"oui", "o", "1", "x", "true", "vrai", "yes", "y"}
_FALSE = {"non", "n", "0", "false", "faux", "no", ""}


def parse_shared(value) -> bool | None:
    """A ``commune_partagee`` cell as a boolean (blank is ``False``), ``None`` when unreadable.

    >>> parse_shared("oui"), parse_shared("x"), parse_shared(""), parse_shared(0), parse_shared("peut-être")
    (True, True, False, False, None)
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = "" if blank(value) else fold(cell_text(value))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


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
        ``""`` when not given), ``date_statut``, ``line`` (its line in the file, or ``None``) and
        ``commune_partagee`` (bool: the commune is declared shared on purpose by several CPTS
        below the commune level); a copy-on-write view.
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
        if "commune_partagee" not in table.columns:
            table = table.assign(commune_partagee=False)
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

    @cached_property
    def shared_units(self) -> list[str]:
        """Codes of the units declared shared (``commune_partagee``) by two CPTS or more, in
        reference order: they are not overlaps."""
        t = self._table[self._table["commune_partagee"].astype(bool)]
        if not len(t):
            return []
        counts = t.groupby("code_insee")["cpts_id"].nunique()
        codes = counts.index[counts >= 2]
        return self.ref.position.reindex(codes).sort_values().index.tolist()

    @cached_property
    def shared_mask(self) -> np.ndarray:
        """For each unit of the reference (positions), whether it is in :attr:`shared_units`."""
        out = np.zeros(self.ref.arrays.n, dtype=bool)
        if self.shared_units:
            out[self.ref.position.reindex(self.shared_units).to_numpy(dtype=np.int64)] = True
        return out

    @cached_property
    def population_range(self) -> pd.DataFrame:
        """What is known of each CPTS's population when it shares units declared shared
        (``commune_partagee``) without a finer mesh: how the shared units' inhabitants are split
        between the CPTS sharing them is not known.

        Indexed by ``cpts_id`` (register order): ``population_min`` (its units without the
        shared ones), ``population_max`` (all its units, shared ones whole: the population
        counted before this range existed), ``shared`` (codes of its shared units, reference
        order; empty when its population is known, then both bounds are equal). A reference
        subdivided below the commune (IRIS, sectors) lets a register give each CPTS its own
        sub-units: nothing is then declared shared and there is no range.
        """
        idx = self.index
        pop = self.ref.arrays.pop
        n = idx.n_cpts
        weights = pop[idx.row_pos].astype(np.float64)
        is_shared = self.shared_mask[idx.row_pos]
        high = np.bincount(idx.row_cpts, weights=weights, minlength=n).round().astype(np.int64)
        low = np.bincount(idx.row_cpts, weights=weights * ~is_shared, minlength=n).round().astype(np.int64)
        shared: list[list[str]] = [[] for _ in range(n)]
        rows = np.flatnonzero(is_shared)
        order = rows[np.lexsort((idx.row_pos[rows], idx.row_cpts[rows]))]
        codes = self.ref.arrays.codes
        for c, p in zip(idx.row_cpts[order].tolist(), idx.row_pos[order].tolist()):
            shared[c].append(str(codes[p]))
        return pd.DataFrame(
            {"population_min": low, "population_max": high, "shared": shared},
            index=pd.Index(idx.ids.astype(str), name="cpts_id"),
        )

    def codes(self, cpts_id) -> list[str]:
        """Unit codes of one CPTS, in file order."""
        links = self.links
        return links.loc[links["cpts_id"] == str(cpts_id), "code_insee"].tolist()


def empty_register(ref: Reference) -> Register:
    """A register without CPTS (every unit is a white zone)."""
    table = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    return Register(ref, table)


def cpts_id_from_name(name: str) -> str:
    """A CPTS id derived from its name, for registers that give names only: the name folded
    (case, accents, punctuation and spaces do not count), words joined by hyphens. The same
    name gives the same id in every file and every year.

    >>> cpts_id_from_name("CPTS du Pays d'Apt"), cpts_id_from_name("  CPTS  du pays d’APT ")
    ('cpts-du-pays-d-apt', 'cpts-du-pays-d-apt')
    >>> cpts_id_from_name("CPTS Cœur de Provence")
    'cpts-coeur-de-provence'
    """
    return "-".join(fold(name).split())


def _ids_from_names(
    noms: list[str], lines, where, problems: list[dict], column: str
) -> tuple[list[str], list[str], list[dict]]:
    """Ids derived from the CPTS names (:func:`cpts_id_from_name`), each CPTS's name as first
    written, and the warnings: one saying that the ids come from the names, one per other
    spelling of a name (same id)."""
    ids: list[str] = []
    first: dict[str, tuple[str, int]] = {}
    variants: dict[tuple[str, str], int] = {}
    filled: list = []
    noms = list(noms)
    for i, nom in enumerate(noms):
        if not nom and i and noms[i - 1]:
            # A name written once for a block of rows (merged cells): the rows below are its own.
            noms[i] = nom = noms[i - 1]
            filled.append(lines[i] if lines[i] is not None else i + 1)
        cid = cpts_id_from_name(nom) if nom else ""
        if not cid:
            problems.append(
                {
                    "line": lines[i],
                    "value": nom,
                    "message": f"{where(i)} : nom de CPTS ({column}) manquant ; sans colonne cpts_id, "
                    "chaque ligne doit nommer sa CPTS",
                }
            )
        elif cid not in first:
            first[cid] = (nom, i)
        elif first[cid][0] != nom:
            variants.setdefault((cid, nom), i)
        ids.append(cid)
    names = [first[c][0] if c in first else n for c, n in zip(ids, noms)]
    warnings: list[dict] = []
    if first:
        shown = [f"« {safe(n, 60)} » → {c}" for c, (n, _) in list(first.items())[:3]]
        more = f" et {len(first) - 3} autres" if len(first) > 3 else ""
        warnings.append(
            {
                "line": lines[next(iter(first.values()))[1]],
                "value": column,
                "message": "pas de colonne cpts_id : l'identifiant "
                + ("de la CPTS" if len(first) == 1 else f"de chacune des {len(first)} CPTS")
                + f" est tiré de son nom (colonne {column}) : {', '.join(shown)}{more} ; le même nom donne "
                "le même identifiant d'une année à l'autre, mais un nom changé fait une autre CPTS",
            }
        )
    if filled:
        at = ", ".join(str(x) for x in filled[:5]) + (
            f" et {len(filled) - 5} autres" if len(filled) > 5 else ""
        )
        one = len(filled) == 1
        warnings.append(
            {
                "line": filled[0],
                "value": "",
                "message": f"{fr_plural(len(filled), 'ligne')} sans nom de CPTS ({column}) "
                + ("rattachée" if one else "rattachées")
                + " à la CPTS de la ligne au-dessus (cellules fusionnées ?) : "
                + ("ligne " if one else "lignes ")
                + at,
            }
        )
    for (cid, nom), i in variants.items():
        j = first[cid][1]
        warnings.append(
            {
                "line": lines[i],
                "value": nom,
                "message": f"« {safe(nom, 80)} » lu comme « {safe(first[cid][0], 80)} » ({where(j)}) : même nom "
                "aux majuscules, accents et ponctuation près, même CPTS",
            }
        )
    return ids, names, warnings


def register_from_frame(
    df: pd.DataFrame,
    ref: Reference,
    *,
    source: str = "",
    lines=None,
    prefer: str | None = None,
    name_column: str | None = None,
) -> Register:
    """A register from a DataFrame with ``cpts_id``, ``cpts_nom``, ``code_insee`` (and optional
    ``statut``, ``date_statut``, ``departement``, ``nom_commune``, ``code_postal``, ``epci``,
    ``commune_partagee``).

    Codes are resolved as :meth:`Reference.resolve` does (a city's code gives its
    arrondissements; old codes, former names, postal codes and EPCI names or SIREN give the
    current units), each CPTS on its own so that a homonym is decided by the other communes of
    its CPTS; stages are normalized (``"Lettre d'intention"`` → ``lettre-intention``).
    ``code_insee`` may hold a name; ``nom_commune`` is the name given next to a code (both must
    designate the same unit, unless ``prefer`` is ``"codes"`` or ``"names"``); ``epci`` names an
    EPCI (name or SIREN) that stands for all its communes on a row without ``code_insee`` nor
    ``nom_commune`` (elsewhere it is only informative).
    ``commune_partagee`` (oui/non, 1/0, x, true/false; blank = non) declares a commune shared on
    purpose by several CPTS below the commune level: it must be declared on every row of the
    commune.

    Without a ``cpts_id`` column, each CPTS's id is derived from its ``cpts_nom``
    (:func:`cpts_id_from_name`, with a warning): names differing only by case, accents or
    punctuation are one CPTS (a warning names each other spelling). ``name_column``: the name of
    that column in the file, for the messages.

    Raises
    ------
    InputError
        Unknown codes or stages, a CPTS id given with two names, a row without a CPTS id, a
        commune declared shared on only some of its rows: every problem at once, each with its line.
    """
    src = source or "registre"
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{src} : DataFrame attendu, reçu {type(df).__name__}")
    named_only = "cpts_id" not in df.columns and "cpts_nom" in df.columns
    if not ("cpts_id" in df.columns or named_only) or not ({"code_insee", "epci"} & set(df.columns)):
        raise InputError(
            f"{src} : colonnes cpts_id (ou cpts_nom) et code_insee attendues ; trouvées : "
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
    for i, nom in enumerate(noms):
        noms[i], cut = bounded_name(nom, lines[i])
        if cut and not any(w["message"] == cut["message"] and w["value"] == cut["value"] for w in warnings):
            warnings.append(cut)

    def where(i):
        return f"ligne {lines[i]}" if lines[i] is not None else f"ligne n°{i + 1} du tableau"

    stages = []
    for i, s in enumerate(stages_raw):
        st = parse_stage(s)
        if st is None:
            problems.append({"line": lines[i], "value": s, "message": f"{where(i)} : {stage_problem(s)}"})
        stages.append(st or "")
    if named_only:
        ids, noms, derived = _ids_from_names(noms, lines, where, problems, name_column or "cpts_nom")
        warnings += derived
    shared = _shared_flags(df, n, lines, where, problems)
    dates = _iso_dates(dates, lines, where, problems)
    for i, cid in enumerate(ids):
        if not cid and not named_only:
            problems.append(
                {
                    "line": lines[i],
                    "value": codes[i],
                    "message": f"{where(i)} : identifiant de CPTS (cpts_id) manquant",
                }
            )
    seen_name, seen_stage, seen_date = _one_value_per_cpts(ids, noms, stages, dates, lines, where, problems)
    by_row = _resolve_by_cpts(ref, df, ids, codes, deps, lines, where, prefer, problems, warnings)
    rows = []
    for i in range(n):
        cid = ids[i]
        for code in by_row.get(i, []):
            rows.append(
                (
                    cid,
                    noms[i] or seen_name.get(cid, (cid,))[0],
                    code,
                    stages[i] or seen_stage.get(cid, ("",))[0],
                    dates[i] or seen_date.get(cid, ("",))[0],
                    lines[i],
                    bool(shared[i]),
                )
            )
    table = pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)
    table["commune_partagee"] = table["commune_partagee"].astype(bool)
    _check_shared(
        table, where_line=lambda line: f"ligne {line}" if line is not None else "?", problems=problems
    )
    if problems:
        problems.sort(key=lambda p: (p["line"] is None, p["line"] or 0))
        raise InputError(
            "\n".join(f"{src} : {p['message']}" for p in problems), [{"file": src, **p} for p in problems]
        )
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
    warnings += _shared_alone(table)
    warnings.sort(key=lambda w: (w["line"] is None, w["line"] or 0))
    return Register(ref, table, source=source, warnings=warnings)


def _shared_flags(df: pd.DataFrame, n: int, lines, where, problems: list[dict]) -> list[bool]:
    if "commune_partagee" not in df.columns:
        return [False] * n
    out = []
    for i, v in enumerate(df["commune_partagee"].tolist()):
        flag = parse_shared(v)
        if flag is None:
            problems.append(
                {
                    "line": lines[i],
                    "value": cell_text(v),
                    "message": f"{where(i)} : commune_partagee '{cell_text(v)}' illisible ; attendu oui/non, "
                    "1/0, x, true/false (vide = non)",
                }
            )
        out.append(bool(flag))
    return out


def _resolve_by_cpts(
    ref, df, ids, codes, deps, lines, where, prefer, problems, warnings
) -> dict[int, list[str]]:
    """Units of each row, each CPTS resolved on its own (its communes are a homonym's context)."""
    n = len(ids)

    def col(name):
        if name not in df.columns:
            return [""] * n
        return ["" if blank(v) else cell_text(v) for v in df[name].tolist()]

    names, postal, epci = col("nom_commune"), col("code_postal"), col("epci")
    groups: dict[str, list[int]] = {}
    for i, cid in enumerate(ids):
        if cid:
            groups.setdefault(cid, []).append(i)
    # Rows with a code and nothing else need no context: batches of such CPTS together, of a
    # bounded size (the resolver's state per value of a 200,000-row register is not held at once).
    batch: list[int] = []
    batches: list[list[int]] = []
    for rows in groups.values():
        if all(_CODE.fullmatch(codes[i]) and not names[i] and not postal[i] for i in rows):
            batch += rows
            if len(batch) >= CODES_BATCH:
                batches.append(batch)
                batch = []
        else:
            batches.append(rows)
    if batch:
        batches.append(batch)
    by_row: dict[int, list[str]] = {}
    for rows in batches:
        values = [codes[i] or names[i] or epci[i] for i in rows]
        try:
            res = ref.resolve(
                values,
                departement=[deps[i] or None for i in rows],
                postal_codes=[postal[i] or None for i in rows],
                names=[names[i] or None if codes[i] else None for i in rows],
                prefer=prefer,
                lines=[lines[i] for i in rows],
                source=None,
            )
        except InputError as exc:
            for p in exc.problems:
                i = rows[p["index"]]
                problems.append(
                    {"line": lines[i], "value": p["value"], "message": f"{where(i)} : {p['message']}"}
                )
            continue
        for w in res.warnings:
            if not w["message"].startswith("doublon ignoré"):
                warnings.append({"line": w["line"], "value": w["value"], "message": w["message"]})
        for k, i in enumerate(rows):
            by_row[i] = list(res.by_value[k])
    return by_row


_CODE = re.compile(r"\d[0-9AaBb]\d{3}|\d{4}")

#: Rows of codes resolved together at most (see :func:`_resolve_by_cpts`).
CODES_BATCH = 10_000


def _check_shared(table: pd.DataFrame, *, where_line, problems: list[dict]) -> None:
    """A commune declared shared on some of its rows only is a problem naming them."""
    if not len(table) or not table["commune_partagee"].any():
        return
    flags = table.groupby("code_insee", sort=False)["commune_partagee"]
    mixed = flags.nunique()
    for code in mixed.index[mixed > 1]:
        rows = table[table["code_insee"] == code]
        yes = rows.loc[rows["commune_partagee"], "line"].tolist()
        no = rows.loc[~rows["commune_partagee"], "line"].tolist()
        problems.append(
            {
                "line": no[0],
                "value": code,
                "message": f"{where_line(no[0])} : commune {code} déclarée partagée (commune_partagee) "
                f"{_on_lines(yes)} mais pas {_on_lines(no)} ; déclarez-la sur chacune de ses lignes "
                "ou sur aucune",
            }
        )


def _on_lines(lines: list) -> str:
    known = [str(x) for x in lines if x is not None]
    if not known:
        return f"sur {len(lines)} ligne(s)"
    return ("ligne " if len(known) == 1 else "lignes ") + ", ".join(known)


def _shared_alone(table: pd.DataFrame) -> list[dict]:
    """Warnings for communes declared shared but in one CPTS only."""
    t = table[table["commune_partagee"]]
    if not len(t):
        return []
    counts = t.groupby("code_insee", sort=False)["cpts_id"].nunique()
    out = []
    for code in counts.index[counts < 2]:
        line = t.loc[t["code_insee"] == code, "line"].iloc[0]
        out.append(
            {
                "line": line,
                "value": code,
                "message": f"commune {code} déclarée partagée (commune_partagee) mais dans une seule CPTS",
            }
        )
    return out


def _iso_dates(dates: list[str], lines, where, problems) -> list[str]:
    """Stage dates as ISO (``AAAA-MM-JJ``) from ISO, ``jj/mm/aaaa`` or an Excel date cell; an
    impossible or unreadable date, or one out of the period of CPTS (a typo), is a problem naming
    its line and value."""
    from cpts_geo.inputs.cells import parse_date, parse_stage_date

    out = []
    for i, d in enumerate(dates):
        if not d:
            out.append("")
            continue
        try:
            parse_date(d)
        except ValueError:
            message = (
                f"date_statut '{safe(d)}' impossible ou illisible ; attendu une date jj/mm/aaaa ou AAAA-MM-JJ"
            )
        else:
            try:
                out.append(parse_stage_date(d).isoformat())
                continue
            except ValueError as exc:  # 0202-01-01: a typo
                message = f"date_statut : {safe(str(exc))}"
        problems.append({"line": lines[i], "value": d, "message": f"{where(i)} : {message}"})
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
