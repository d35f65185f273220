"""Names as users type them, folded, and the lookup tables of a reference.

:func:`normalize_name` and :func:`epci_key` fold what users type so that it meets the names of
the reference; :func:`build_index` makes the tables :mod:`cpts_geo.reference.resolve` looks names and codes
up in (cached by the reference, ``Reference._name_index``).
"""

from __future__ import annotations

import gc
import re
import unicodedata
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from cpts_geo.reference.unit_types import SUBUNIT_TYPE

__all__ = [
    "FOLDED_COLUMNS",
    "FOLDED_NAMES_FILE",
    "FOLDING_VERSION",
    "LOCALITIES_FILE",
    "LOCALITY_COLUMNS",
    "LOCALITY_TYPES",
    "Former",
    "Locality",
    "NameIndex",
    "build_index",
    "epci_key",
    "folded_names",
    "normalize_name",
    "positions_in",
    "without_remark",
]


# ---- folding -------------------------------------------------------------------------------

_ARTICLE_AT_END = re.compile(
    r"^(?P<rest>.+?)\s*(?:,\s*|\(\s*)(?P<art>l\s*['’ʼ‘`´]?|la|le|les)\s*\)?\s*$", re.IGNORECASE
)
_SAINT_DOT = re.compile(r"(?<![^\W\d_])(s)\.\s*(?=[^\W\d_])", re.IGNORECASE)
_SUR_SLASH = re.compile(r"(?<![^\W\d_])s/\s*", re.IGNORECASE)
_TOKENS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def normalize_name(name) -> str:
    """Fold a name for matching: accents, case, punctuation, articles and ``Saint`` forms.

    Every character that is neither a letter nor a digit separates words (curly apostrophes,
    dashes, non-breaking hyphens and spaces included); accents are dropped (``ÿ`` → ``y``),
    ``œ``/``æ`` spelt out; an article moved to the end is put back (``Rochelle (La)``,
    ``Haÿ-les-Roses (L')``, ``Sables-d'Olonne, Les``); ``St``, ``Ste``, ``S.`` become ``saint``,
    ``sainte``; ``s/`` becomes ``sur``.

    >>> normalize_name("L’Île-d’Yeu")
    'l ile d yeu'
    >>> normalize_name("HAŸ-LES-ROSES (L')")
    'l hay les roses'
    >>> normalize_name("Ste-Foy‑lès‑Lyon")
    'sainte foy les lyon'
    """
    s = str(name).strip()
    m = _ARTICLE_AT_END.match(s)
    if m:
        s = f"{m.group('art')} {m.group('rest')}"
    s = _SAINT_DOT.sub("saint ", s)
    s = _SUR_SLASH.sub(" sur ", s)
    s = s.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae").replace("ß", "ss")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    words = re.sub(r"[^a-z0-9]+", " ", s).split()
    return " ".join(_TOKENS.get(w, w) for w in words)


_EPCI_FORMS = [
    (r"\bcommunaute de communes\b", "cc"),
    (r"\bcommunaute d agglomeration\b", "ca"),
    (r"\bcommunaute urbaine\b", "cu"),
    (r"\bcommunaute agglomeration\b", "ca"),
    (r"^(cdc|ccom|comcom|com com)\b", "cc"),
    (r"^agglomeration\b", "ca"),
    (r"^agglo\b", "ca"),
]
_EPCI_STOPWORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "et"}


def epci_key(name) -> str:
    """Fold an EPCI name so that DGCL's short forms and the long ones users write meet.

    >>> epci_key("Communauté de communes de l'Île de Ré") == epci_key("CC de l'Ile de Ré")
    True
    """
    s = re.sub(r"\([^)]*\)", " ", str(name))  # acronyms in brackets: « (COBAS) »
    s = normalize_name(s)
    for pattern, short in _EPCI_FORMS:
        s = re.sub(pattern, short, s)
    return " ".join(w for w in s.split() if w not in _EPCI_STOPWORDS)


# ---- folded names shipped with a reference ---------------------------------------------------

#: Version of the folding (:func:`normalize_name`, :func:`without_remark`, :func:`epci_key`). A
#: reference's table of folded names is read only when it was written by the same version; bump
#: it whenever the folding changes what it returns (tests/test_reference.py checks the shipped
#: table against the folding of the day).
FOLDING_VERSION = 1

#: The file of a reference folder holding the folded names (see :func:`folded_names`).
FOLDED_NAMES_FILE = "noms_normalises.csv"

#: Its columns.
FOLDED_COLUMNS = ("nom", "forme", "forme_sans_remarque", "cle_epci")


def folded_names(names, epci_names=(), *, communes=()) -> pd.DataFrame:
    """The folded forms of the names of a reference, the table a build ships so that resolving
    a list of names does not fold tens of thousands of them at run time.

    One row per name: ``nom`` as the reference writes it; ``forme``, its
    :func:`normalize_name`; ``forme_sans_remarque``, the :func:`normalize_name` of its
    :func:`without_remark` when the name ends with a remark in brackets (empty otherwise);
    ``cle_epci``, its :func:`epci_key` for the names of ``epci_names`` (empty for the others).
    The table opens with the names of ``communes``, one row per commune in their order (a name
    borne by several communes repeated), so that the communes' forms are read by position; then
    come the other distinct names, sorted.

    Parameters
    ----------
    names
        Names of communes, arrondissements, units below the commune and former communes.
    epci_names
        Names of EPCI.
    communes
        The communes' names in the order of the reference's communes.

    Examples
    --------
    >>> table = folded_names(["Rochelle (La)", "Bors (Canton de Charente-Sud)"], ["CC de l'Île de Ré"])
    >>> table.values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['Bors (Canton de Charente-Sud)', 'bors canton de charente sud', 'bors', ''],
     ["CC de l'Île de Ré", 'cc de l ile de re', '', 'cc ile re'],
     ['Rochelle (La)', 'la rochelle', '', '']]
    >>> folded_names(["Aast", "Zut"], communes=["Vaux", "Aast", "Vaux"])["nom"].tolist()
    ['Vaux', 'Aast', 'Vaux', 'Zut']
    """
    epci = {str(n) for n in epci_names}
    folded: dict[str, tuple | None] = {}

    def row(nom: str) -> tuple | None:
        if nom not in folded:
            base = without_remark(nom)
            without = normalize_name(base) if base != nom else ""
            # An empty form would read as "no remark": left to be folded at run time.
            skip = base != nom and not without
            key = epci_key(nom) if nom in epci else ""
            folded[nom] = None if skip else (nom, normalize_name(nom), without, key)
        return folded[nom]

    # A commune's row stays even without a form (its place is its commune's).
    first = [str(n) for n in communes]
    rows = [row(n) or (n, normalize_name(n), "", "") for n in first]
    others = sorted(({str(n) for n in names} | epci) - set(first))
    rows += [r for n in others if (r := row(n)) is not None]
    return pd.DataFrame(rows, columns=list(FOLDED_COLUMNS))


# ---- index ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Former:
    """A former commune (commune déléguée, associée, or absorbed) and the commune it is now."""

    code: str
    nom: str
    commune: str
    type: str
    depuis: int | None


#: The file of a reference folder naming localities that are no commune (« Carnon », a part
#: of Mauguio), each with its commune: see :attr:`NameIndex.localities`.
LOCALITIES_FILE = "localites.csv"

#: Its columns: the locality's name, the INSEE code of its commune, its postal code, and where
#: it comes from.
LOCALITY_COLUMNS = ("nom", "commune", "code_postal", "source", "type")

#: Kinds of localities: a place within the commune (« Carnon », in Mauguio), or the commune's own
#: name as the post writes it (« Fleury d'Aude » for Fleury, « Talmont » for Talmont-sur-Gironde).
LOCALITY_TYPES = ("partie", "graphie")


@dataclass(frozen=True)
class Locality:
    """A place name that is not a commune's: a part of one commune (``type`` ``partie``:
    « Carnon » in Mauguio), or the commune's name as the post writes it (``graphie``). Postal
    « ligne 5 » and libellés d'acheminement."""

    nom: str
    commune: str
    code_postal: str
    source: str
    type: str = "partie"


def _arrondissement_aliases(key: str) -> list[str]:
    """Short forms of « Paris 1er Arrondissement »: paris 1, paris 01, paris 1er, paris 1e…"""
    m = re.fullmatch(r"(paris|lyon|marseille) (\d+)(er|e) arrondissement", key)
    if not m:
        return []
    city, n, suffix = m.group(1), int(m.group(2)), m.group(3)
    forms = {f"{n}", f"{n:02d}", f"{n}{suffix}", f"{n}e", f"{n}eme", f"{n:02d}e"}
    forms |= {f"{f} arrondissement" for f in list(forms)} | {f"{f} arr" for f in list(forms)}
    return sorted(f"{city} {f}" for f in forms if f"{city} {f}" != key)


def _optional_table(ref, attribute: str, name: str) -> pd.DataFrame | None:
    """An optional table of the reference: its attribute, or its extra table ``name``."""
    table = getattr(ref, attribute, None)
    if table is None and callable(getattr(ref, "table", None)):
        try:
            table = ref.table(name)
        except KeyError:
            return None
    return table


def _arrow_strings(column: pd.Series):
    """A column of strings as one Arrow array (no copy for the Arrow strings a table is read
    as)."""
    import pyarrow as pa

    array = pa.array(column, from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _opens_with(column: pd.Series, names: pd.Series) -> bool:
    """Whether ``column`` starts with ``names``, in their order (compared as Arrow arrays)."""
    import pyarrow.compute as pc

    if len(column) < len(names):
        return False
    head, mine = _arrow_strings(column.iloc[: len(names)]), _arrow_strings(names)
    return bool(pc.all(pc.equal(head, mine).fill_null(False)).as_py()) if len(names) else True


def _taken(array, at: np.ndarray) -> list:
    """``array[at]`` as a list (where ``at`` is -1, the first entry: the caller replaces it)."""
    import pyarrow as pa

    return array.take(pa.array(np.where(at >= 0, at, 0))).to_pylist() if len(at) else []


def _position(index: pd.Index, key) -> int:
    """Position of ``key`` in a unique ``index`` (-1 where absent)."""
    try:
        at = index.get_loc(key)
    except (KeyError, TypeError):
        return -1
    return at if isinstance(at, int) else -1


def positions_in(index, values) -> np.ndarray:
    """Position of each of ``values`` in ``index`` (-1 where absent), as
    ``pandas.Index.get_indexer`` finds them, with pyarrow's hash lookup (several times faster on
    the Arrow strings a reference is read as).

    >>> positions_in(pd.Index(["49007", "49015"]), ["49015", "75056"]).tolist()
    [1, -1]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        values_a, index_a = pa.array(values, from_pandas=True), pa.array(index, from_pandas=True)
        if len(values_a) * 8 < len(index_a):
            # A few values in a long index (45 arrondissements in 36,000 names): the values are
            # hashed and the index run through, not the other way round.
            distinct = pc.unique(values_a)
            hit = pc.index_in(index_a, value_set=distinct).fill_null(-1).to_numpy(zero_copy_only=False)
            first = np.full(len(distinct) + 1, -1, dtype=np.int64)  # last slot: values not found
            rows = np.flatnonzero(hit >= 0)[::-1]  # the first row of each value written last
            first[hit[rows]] = rows
            which = pc.index_in(values_a, value_set=distinct).fill_null(len(distinct))
            return first[which.to_numpy(zero_copy_only=False).astype(np.int64)]
        found = pc.index_in(values_a, value_set=index_a)
    except (pa.ArrowException, TypeError):  # values that are not strings: pandas' lookup
        return pd.Index(index).get_indexer(list(values)).astype(np.int64)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


@contextmanager
def _gc_paused():
    """The cyclic garbage collector paused while a table of tens of thousands of containers
    (dicts, tuples, lists, records) is built: they hold no reference cycle, and each allocation
    threshold passed would otherwise walk every object of the process, pandas' and numpy's
    included (about 60 ms of a cold check of a list of names)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_MISSING = object()


class _Lookup(Mapping):
    """A read-only table answered key by key by ``one`` (``get``, ``[]``, ``in``), the whole
    ``dict`` built by ``full`` only when the table is iterated or once many keys were asked.

    A list of a few names asks a few keys of tables of 35,000 entries: building those dicts
    took most of a cold ``check`` of such a list. ``one(key)`` returns the value or ``None``;
    without ``one`` the whole table is built on first use, as before.
    """

    __slots__ = ("_dict", "_full", "_limit", "_one", "_seen")

    def __init__(self, full, one=None, *, limit: int = 64):
        self._full, self._one, self._limit = full, one, limit
        self._dict: dict | None = None
        self._seen: dict = {}

    def _all(self) -> dict:
        if self._dict is None:
            self._dict = self._full()
        return self._dict

    def get(self, key, default=None):
        if self._dict is None and self._one is not None and len(self._seen) < self._limit:
            if key not in self._seen:
                self._seen[key] = self._one(key)
            value = self._seen[key]
            return default if value is None else value
        return self._all().get(key, default)

    def __getitem__(self, key):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class NameIndex:
    """Lookup tables of a reference, each built on first use and kept (by the reference:
    ``Reference._name_index``).

    The tables of codes (old codes, postal codes, EPCI members, units of a commune) fold no
    name, so a list of codes never builds the tables of names; these read the folded forms from
    the reference's table of folded names (:func:`folded_names`) when it has one, and fold the
    names missing from it.

    Parameters
    ----------
    ref
        The :class:`~cpts_geo.reference.units.Reference`, whose optional table ``folded_names``
        (columns :data:`FOLDED_COLUMNS`) is read when a name is first folded.
    """

    def __init__(self, ref):
        self._ref = ref

    # -- the reference's tables and folded names -------------------------------------------------
    @cached_property
    def _communes(self) -> pd.DataFrame:
        return self._ref.communes

    @cached_property
    def _units(self) -> pd.DataFrame:
        return _unit_table(self._ref)

    @cached_property
    def _commune_codes(self) -> list[str]:
        return self._communes.index.tolist()

    @cached_property
    def _folded(self) -> tuple[pd.Series, Any, Any, Any] | None:
        """The reference's table of folded names: its names, and their forms (Arrow arrays:
        taken from by position without turning 36,000 strings into Python objects)."""
        t = _optional_table(self._ref, "folded_names", "folded_names")
        if t is None or not len(t):
            return None
        return (t["nom"], *(_arrow_strings(t[c]) for c in ("forme", "forme_sans_remarque", "cle_epci")))

    def _fold_names(self, names: list[str]) -> tuple[list[str], list[str | None]]:
        """:func:`normalize_name` of each name, and that of its :func:`without_remark` where it
        differs (``None`` elsewhere): read from the table of folded names, folded here for the
        names it lacks."""
        folded = self._folded
        if folded is None:
            keys: list = [None] * len(names)
            bases: list = [None] * len(names)
            missing: list[int] = list(range(len(names)))
        else:
            at = positions_in(folded[0], names)
            keys = _taken(folded[1], at)
            bases = [b or None for b in _taken(folded[2], at)]
            missing = np.flatnonzero(at < 0).tolist()
        for i in missing:
            name = str(names[i])
            base = without_remark(name)
            keys[i] = normalize_name(name)
            bases[i] = normalize_name(base) if base != name else None
        return keys, bases

    def _epci_keys(self, names: list[str]) -> list[str]:
        """:func:`epci_key` of each name, read from the table of folded names when it has it."""
        folded = self._folded
        if folded is None:
            return [epci_key(n) for n in names]
        at = positions_in(folded[0], names)
        keys = _taken(folded[3], at)
        return [k if i >= 0 and k else epci_key(n) for k, i, n in zip(keys, at.tolist(), names)]

    # -- codes ---------------------------------------------------------------------------------
    @cached_property
    def units_of(self) -> _Lookup:
        """Commune code -> its unit codes (a PLM city's arrondissements; itself otherwise)."""

        @_gc_paused()
        def full() -> dict[str, list[str]]:
            unites = self._communes["unites"].tolist()
            return dict(zip(self._commune_codes, [str(u).split(";") for u in unites]))

        def one(code) -> list[str] | None:
            at = _position(self._communes.index, code)
            return None if at < 0 else str(self._communes["unites"].iat[at]).split(";")

        return _Lookup(full, one)

    @cached_property
    def commune_of(self) -> _Lookup:
        """Unit code -> commune code (an arrondissement's city)."""

        @_gc_paused()
        def full() -> dict[str, str]:
            return {u: c for c, us in self.units_of.items() for u in us}

        def one(unit) -> str | None:
            # The commune whose units name it: the unit's own commune column, checked.
            at = _position(self._units.index, unit)
            if at < 0:  # every unit a commune names is a unit of the reference
                return None
            if "commune" not in self._units.columns:
                return self.commune_of_full().get(unit)
            commune = self._units["commune"].iat[at]
            commune = unit if commune is None or pd.isna(commune) or commune == "" else str(commune)
            units = self.units_of.get(commune)
            return commune if units is not None and unit in units else self.commune_of_full().get(unit)

        return _Lookup(full, one)

    def commune_of_full(self) -> dict[str, str]:
        """:attr:`commune_of` as a whole dict (built once)."""
        return self.commune_of._all()

    @cached_property
    def infra(self) -> frozenset:
        """Units below the commune (IRIS, sectors), by code."""
        u = self._units
        return frozenset(u.index[(u["type"] == SUBUNIT_TYPE).to_numpy()].tolist())

    @cached_property
    @_gc_paused()
    def old_codes(self) -> dict[str, str]:
        """Old code -> current commune."""
        c = self._communes
        out = {}
        with_olds = (c["anciens_codes"].fillna("") != "").to_numpy()
        for code, olds in zip(c.index[with_olds].tolist(), c["anciens_codes"][with_olds].tolist()):
            for o in str(olds).split(";") if isinstance(olds, str) else []:
                if o and o != code:
                    out[o] = code
        return out

    @cached_property
    @_gc_paused()
    def _postal(self) -> tuple[dict[str, tuple[str, ...]], dict[str, frozenset]]:
        postal: dict[str, list[str]] = {}
        postal_of: dict[str, set] = {}
        pc = _optional_table(self._ref, "postal_codes", "codes_postaux")
        if pc is not None and len(pc):
            known = set(self._units.index.tolist()) | set(self._commune_codes)
            commune_of = self.commune_of
            for cp, code in zip(
                pc["code_postal"].astype(str).tolist(), pc["code_insee"].astype(str).tolist()
            ):
                if code not in known:
                    continue
                postal.setdefault(cp, []).append(code)
                postal_of.setdefault(code, set()).add(cp)
                city = commune_of.get(code)
                if city and city != code:
                    postal_of.setdefault(city, set()).add(cp)
        return (
            {k: tuple(v) for k, v in postal.items()},
            {k: frozenset(v) for k, v in postal_of.items()},
        )

    @property
    def postal(self) -> dict[str, tuple[str, ...]]:
        """Postal code -> unit codes."""
        return self._postal[0]

    @property
    def postal_of(self) -> dict[str, frozenset]:
        """Commune or unit code -> postal codes."""
        return self._postal[1]

    @cached_property
    @_gc_paused()
    def epci_units(self) -> dict[str, list[str]]:
        """SIREN -> unit codes."""
        out: dict[str, list[str]] = {}
        units_of = self.units_of
        for code, siren in zip(self._commune_codes, self._communes["epci"].tolist()):
            if isinstance(siren, str) and siren:
                out.setdefault(siren, []).extend(units_of.get(code, [code]))
        return out

    def _by_code(self, column: str) -> dict[str, str]:
        """Commune or unit code -> its ``column``; a commune's value wins over its unit's."""
        u, c = self._units, self._communes
        out = dict(zip(u.index.tolist(), u[column].tolist()))
        # Only the communes that are no unit (Paris, Lyon, Marseille...) or whose value differs
        # from their unit's are added: the others are there already.
        at = positions_in(u.index, c.index)
        mine = c[column].to_numpy(dtype=object)
        theirs = u[column].to_numpy(dtype=object)[np.maximum(at, 0)]
        differs = (at < 0) | (theirs != mine)
        out.update(zip(c.index[differs].tolist(), mine[differs].tolist()))
        return out

    def _by_code_lookup(self, column: str) -> _Lookup:
        def one(code):
            at = _position(self._communes.index, code)  # a commune's value wins over its unit's
            if at >= 0:
                return self._communes[column].iat[at]
            at = _position(self._units.index, code)
            return None if at < 0 else self._units[column].iat[at]

        return _Lookup(_gc_paused()(lambda: self._by_code(column)), one)

    @cached_property
    def departement(self) -> _Lookup:
        """Commune or unit code -> département."""
        return self._by_code_lookup("departement")

    @cached_property
    def nom(self) -> _Lookup:
        """Commune or unit code -> name."""
        return self._by_code_lookup("nom")

    # -- names ---------------------------------------------------------------------------------
    @cached_property
    def current(self) -> _Lookup:
        """Folded name -> commune and unit codes (communes, arrondissements, units below the
        commune, each under every form users type). Answered name by name from the communes'
        folded forms (a whole table is built only for a reference with units below the
        commune, or when iterated: the typo suggestions)."""
        infra = bool((self._units["type"] == SUBUNIT_TYPE).any())
        return _Lookup(self._current_full, None if infra else self._current_one)

    @cached_property
    def _commune_forms(self) -> tuple[Any, Any, dict[str, tuple[str, ...]]]:
        """Each commune's folded name and folded name without remark (``""`` where the same),
        as Arrow arrays in the communes' order (compared to a name in a fraction of a
        millisecond), and the arrondissements' forms -> codes."""
        import pyarrow as pa

        names = self._communes["nom"]
        folded = self._folded
        if folded is None:
            k, b = self._fold_names(names.tolist())
            keys, bases = pa.array(k, type=pa.string()), pa.array([x or "" for x in b], type=pa.string())
        elif _opens_with(folded[0], names):  # the table's first rows are the communes'
            keys, bases = (folded[i].slice(0, len(names)) for i in (1, 2))
        else:  # read from the table by name: the few names it lacks folded here
            at = positions_in(folded[0], names)
            keys, bases = (folded[i].take(pa.array(np.maximum(at, 0))) for i in (1, 2))
            missing = np.flatnonzero(at < 0)
            if len(missing):
                k, b = self._fold_names(names.iloc[missing].tolist())
                key_list, base_list = keys.to_pylist(), bases.to_pylist()
                for i, key, base in zip(missing.tolist(), k, b):
                    key_list[i], base_list[i] = key, base or ""
                keys, bases = pa.array(key_list, type=pa.string()), pa.array(base_list, type=pa.string())
        u = self._units
        arr = (u["type"] == "arrondissement").to_numpy(dtype=bool)
        arrs: dict[str, tuple[str, ...]] = {}
        for code, key in zip(u.index[arr].tolist(), self._fold_names(u["nom"][arr].tolist())[0]):
            for form in (key, *_arrondissement_aliases(key)):
                arrs[form] = (*arrs.get(form, ()), code)
        return keys, bases, arrs

    @cached_property
    def _commune_code_array(self) -> np.ndarray:
        return self._communes.index.to_numpy(dtype=object)

    def _current_one(self, key: str) -> tuple[str, ...] | None:
        import pyarrow.compute as pc

        if not key:  # no commune's name folds to nothing ("" marks a name without remark)
            return None
        keys, bases, arrs = self._commune_forms
        same = [
            pc.equal(forms, key).fill_null(False).to_numpy(zero_copy_only=False) for forms in (keys, bases)
        ]
        count = same[0].astype(np.int64) + same[1].astype(np.int64)
        at = np.flatnonzero(count)
        codes = self._commune_code_array[np.repeat(at, count[at])].tolist()
        out = (*codes, *arrs.get(key, ()))
        return out or None

    @_gc_paused()
    def _current_full(self) -> dict[str, tuple[str, ...]]:
        codes = self._commune_codes
        keys, bases = self._fold_names(self._communes["nom"].tolist())
        current: dict[str, tuple[str, ...]] = {}
        for code, key, base in zip(codes, keys, bases):
            known = current.get(key)
            current[key] = (code,) if known is None else (*known, code)
            if base is not None:  # « Bors (Canton de Charente-Sud) » is also a « Bors »: a homonym
                known = current.get(base)
                current[base] = (code,) if known is None else (*known, code)
        u = self._units
        kind = u["type"].to_numpy()
        arr = kind == "arrondissement"
        arr_codes = u.index[arr].tolist()
        for code, key in zip(arr_codes, self._fold_names(u["nom"][arr].tolist())[0]):
            for k in (key, *_arrondissement_aliases(key)):
                known = current.get(k)
                current[k] = (code,) if known is None else (*known, code)
        infra = kind == SUBUNIT_TYPE
        if infra.any():
            city_key = dict(zip(codes, keys))
            names = [str(n) for n in u["nom"][infra].tolist()]
            pairs = zip(u.index[infra].tolist(), self._fold_names(names)[0], u["commune"][infra].tolist())
            for code, key, commune in pairs:
                # The name as the layer gives it, and prefixed by its commune's name when it
                # does not start with it (« Capitole » is also « Toulouse Capitole »).
                city = city_key.get(commune, "")
                forms = [key]
                if city and key != city and not key.startswith(city + " "):
                    forms.append(f"{city} {key}")
                for k in forms:
                    known = current.get(k)
                    current[k] = (code,) if known is None else (*known, code)
        return current

    @cached_property
    def _former_table(self) -> tuple[list[tuple], np.ndarray, np.ndarray]:
        """The former communes of current communes: their rows (``code``, ``nom``, ``commune``,
        ``type``, ``depuis``), their folded names and their communes (object arrays)."""
        fc = _optional_table(self._ref, "former_communes", "anciennes_communes")
        if fc is None or not len(fc):
            return [], np.array([], dtype=object), np.array([], dtype=object)
        fc = fc[positions_in(self._communes.index, fc["commune"]) >= 0]
        rows = list(zip(*(fc[col].tolist() for col in ("code", "nom", "commune", "type", "depuis"))))
        keys = self._fold_names([str(n) for n in fc["nom"].tolist()])[0]
        return rows, np.array(keys, dtype=object), fc["commune"].astype(str).to_numpy(dtype=object)

    @staticmethod
    def _former_record(row: tuple) -> Former:
        code, nom, commune, kind, depuis = row
        since = None if pd.isna(depuis) or depuis == "" else int(float(depuis))
        return Former(str(code), str(nom), str(commune), str(kind), since)

    def _formers_where(self, mask: np.ndarray) -> tuple[Former, ...] | None:
        rows = self._former_table[0]
        found = tuple(self._former_record(rows[i]) for i in np.flatnonzero(mask).tolist())
        return found or None

    @cached_property
    @_gc_paused()
    def _former(self) -> tuple[dict[str, tuple[Former, ...]], dict[str, tuple[Former, ...]]]:
        former: dict[str, list[Former]] = {}
        former_of: dict[str, list[Former]] = {}
        rows, keys, _ = self._former_table
        for row, key in zip(rows, keys.tolist()):
            f = self._former_record(row)
            former.setdefault(key, []).append(f)
            former_of.setdefault(f.commune, []).append(f)
        return (
            {k: tuple(v) for k, v in former.items()},
            {k: tuple(v) for k, v in former_of.items()},
        )

    @cached_property
    def former(self) -> _Lookup:
        """Folded name -> former communes."""
        return _Lookup(lambda: self._former[0], lambda key: self._formers_where(self._former_table[1] == key))

    @cached_property
    def former_of(self) -> _Lookup:
        """Current commune -> its former communes."""
        return _Lookup(
            lambda: self._former[1], lambda code: self._formers_where(self._former_table[2] == code)
        )

    @cached_property
    def localities(self) -> dict[str, tuple[Locality, ...]]:
        """Folded name -> localities of that name (parts of communes, see :class:`Locality`)
        whose commune is in the reference; read only when a name is neither a commune's nor a
        former commune's."""
        out: dict[str, list[Locality]] = {}
        t = _optional_table(self._ref, "localities", "localities")
        if t is None or not len(t):
            return {}
        t = t[positions_in(self._communes.index, t["commune"]) >= 0]
        if "type" not in t.columns:  # a reference built before the column: places only
            t = t.assign(type="partie")
        rows = zip(*(t[c].astype(str).tolist() for c in LOCALITY_COLUMNS))
        for nom, commune, cp, source, kind in rows:
            loc = Locality(nom, commune, cp, source, kind)
            for key in {normalize_name(nom), normalize_name(without_remark(nom))} - {""}:
                out.setdefault(key, []).append(loc)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    @_gc_paused()
    def epci(self) -> dict[str, tuple[str, ...]]:
        """:func:`epci_key` of each EPCI's name (and without its type, as people name it:
        « Angers Loire Métropole », a CU) -> SIRENs."""
        out: dict[str, list[str]] = {}
        e = self._ref.epci
        for siren, key in zip(e.index.tolist(), self._epci_keys([str(n) for n in e["nom"].tolist()])):
            out.setdefault(key, []).append(str(siren))
            bare = re.sub(r"^(cc|ca|cu|metropole) ", "", key)
            if bare != key:
                out.setdefault(bare, []).append(str(siren))
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    @_gc_paused()
    def _choices(self) -> tuple[list[str], list[tuple[str, ...]]]:
        choices: dict[str, set] = {k: set(v) for k, v in self.current.items()}
        for k, fs in self.former.items():
            choices.setdefault(k, set()).update(f.commune for f in fs)
        keys = sorted(choices)
        return keys, [tuple(sorted(choices[k])) for k in keys]

    @property
    def choices(self) -> list[str]:
        """Folded names searched for typos (current and former), sorted."""
        return self._choices[0]

    @property
    def choice_codes(self) -> list[tuple[str, ...]]:
        """The communes of each of :attr:`choices`."""
        return self._choices[1]


def _unit_table(ref) -> pd.DataFrame:
    """The units of ``ref`` without decoding their geometry, when the reference can."""
    table = getattr(ref, "unit_table", None)
    return table if table is not None else ref.units


def build_index(ref) -> NameIndex:
    """The lookup tables of ``ref`` (communes, arrondissements, former communes, postal codes,
    EPCI), each built on first use: see :class:`NameIndex`."""
    return NameIndex(ref)


_REMARK = re.compile(
    r"^(?P<name>.*?\S)\s*\((?!\s*(?:l\s*['’]?|la|le|les|\d[\dab]?|\d{5}|2[ab])\s*\))[^()]*\)\s*$",
    re.IGNORECASE,
)


def without_remark(name: str) -> str:
    """A commune name without a remark in brackets at its end (« Juigné-Béné (ancien code) »);
    articles, départements and postal codes in brackets stay. The resolver reads a name without
    its remark only when the name as written is unknown: « Bors (Canton de Charente-Sud) » and
    « Château-Chinon (Ville) » are official names.

    >>> without_remark("Juigné-Béné (ancien code)"), without_remark("Rochelle (La)"), without_remark("Saint-Denis (93)")
    ('Juigné-Béné', 'Rochelle (La)', 'Saint-Denis (93)')
    """
    m = _REMARK.match(name)
    return m.group("name") if m else name
