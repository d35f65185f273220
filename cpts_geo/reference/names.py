"""Names as users type them, folded, and the lookup tables of a reference.

:func:`normalize_name` and :func:`epci_key` fold what users type so that it meets the names of
the reference; :func:`build_index` makes the tables :mod:`cpts_geo.reference.resolve` looks names and codes
up in (cached by the reference, ``Reference._name_index``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from cpts_geo.reference.unit_types import SUBUNIT_TYPE

__all__ = ["Former", "NameIndex", "build_index", "epci_key", "normalize_name", "without_remark"]


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


# ---- index ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Former:
    """A former commune (commune déléguée, associée, or absorbed) and the commune it is now."""

    code: str
    nom: str
    commune: str
    type: str
    depuis: int | None


@dataclass
class NameIndex:
    """Lookup tables of a reference, built once by :func:`build_index`."""

    current: dict[str, tuple[str, ...]]  # folded name -> commune and arrondissement codes
    former: dict[str, tuple[Former, ...]]  # folded name -> former communes
    former_of: dict[str, tuple[Former, ...]]  # current commune -> its former communes
    old_codes: dict[str, str]  # old code -> current commune
    postal: dict[str, tuple[str, ...]]  # postal code -> unit codes
    postal_of: dict[str, frozenset]  # commune or unit code -> postal codes
    epci: dict[str, tuple[str, ...]]  # epci_key -> SIREN
    epci_units: dict[str, list[str]]  # SIREN -> unit codes
    departement: dict[str, str]  # commune or unit code -> département
    nom: dict[str, str]  # commune or unit code -> name
    commune_of: dict[str, str]  # unit code -> commune code (an arrondissement's city)
    units_of: dict[str, list[str]]  # commune code -> unit codes
    infra: frozenset = frozenset()  # units below the commune (IRIS, sectors), by code
    choices: list[str] = field(default_factory=list)  # folded names searched for typos
    choice_codes: list[tuple[str, ...]] = field(default_factory=list)  # their communes


def _arrondissement_aliases(key: str) -> list[str]:
    """Short forms of « Paris 1er Arrondissement »: paris 1, paris 01, paris 1er, paris 1e…"""
    m = re.fullmatch(r"(paris|lyon|marseille) (\d+)(er|e) arrondissement", key)
    if not m:
        return []
    city, n, suffix = m.group(1), int(m.group(2)), m.group(3)
    forms = {f"{n}", f"{n:02d}", f"{n}{suffix}", f"{n}e", f"{n}eme", f"{n:02d}e"}
    forms |= {f"{f} arrondissement" for f in list(forms)} | {f"{f} arr" for f in list(forms)}
    return sorted(f"{city} {f}" for f in forms if f"{city} {f}" != key)


def _subunit_aliases(nom: str, commune: str) -> list[str]:
    """A sub-unit's name as the layer gives it, and prefixed by its commune's name when it does
    not start with it (« Capitole » is also « Toulouse Capitole »)."""
    key, city = normalize_name(nom), normalize_name(commune)
    if not city or key == city or key.startswith(city + " "):
        return [key]
    return [key, f"{city} {key}"]


def _optional_table(ref, attribute: str, name: str) -> pd.DataFrame | None:
    """An optional table of the reference: its attribute, or its extra table ``name``."""
    table = getattr(ref, attribute, None)
    if table is None and callable(getattr(ref, "table", None)):
        try:
            table = ref.table(name)
        except KeyError:
            return None
    return table


def build_index(ref) -> NameIndex:
    """The lookup tables of ``ref`` (communes, arrondissements, former communes, postal codes, EPCI)."""
    communes, units = ref.communes, ref.units
    current: dict[str, list[str]] = {}
    for code, nom in communes["nom"].items():
        current.setdefault(normalize_name(nom), []).append(code)
        base = without_remark(nom)
        if base != nom:  # « Bors (Canton de Charente-Sud) » is also a « Bors »: a homonym
            current.setdefault(normalize_name(base), []).append(code)
    arr = units[units["type"] == "arrondissement"]
    for code, nom in arr["nom"].items():
        current.setdefault(normalize_name(nom), []).append(code)
        for alias in _arrondissement_aliases(normalize_name(nom)):
            current.setdefault(alias, []).append(code)
    infra = units[units["type"] == SUBUNIT_TYPE]
    for code, nom, commune in zip(infra.index, infra["nom"], infra["commune"]):
        for alias in _subunit_aliases(str(nom), str(communes["nom"].get(commune, ""))):
            current.setdefault(alias, []).append(code)

    old_codes = {}
    for code, olds in communes["anciens_codes"].items():
        for o in str(olds).split(";") if isinstance(olds, str) else []:
            if o and o != code:
                old_codes[o] = code

    former: dict[str, list[Former]] = {}
    former_of: dict[str, list[Former]] = {}
    fc = _optional_table(ref, "former_communes", "anciennes_communes")
    if fc is not None and len(fc):
        for row in fc.itertuples(index=False):
            if row.commune not in communes.index:
                continue
            depuis = None if pd.isna(row.depuis) or row.depuis == "" else int(float(row.depuis))
            f = Former(str(row.code), str(row.nom), str(row.commune), str(row.type), depuis)
            former.setdefault(normalize_name(f.nom), []).append(f)
            former_of.setdefault(f.commune, []).append(f)

    units_of = {c: str(u).split(";") for c, u in communes["unites"].items()}
    commune_of = {u: c for c, us in units_of.items() for u in us}
    postal: dict[str, list[str]] = {}
    postal_of: dict[str, set] = {}
    pc = _optional_table(ref, "postal_codes", "codes_postaux")
    if pc is not None and len(pc):
        for cp, code in zip(pc["code_postal"].astype(str), pc["code_insee"].astype(str)):
            if code not in units.index and code not in communes.index:
                continue
            postal.setdefault(cp, []).append(code)
            postal_of.setdefault(code, set()).add(cp)
            city = commune_of.get(code)
            if city and city != code:
                postal_of.setdefault(city, set()).add(cp)

    epci: dict[str, list[str]] = {}
    for siren, nom in ref.epci["nom"].items():
        key = epci_key(nom)
        epci.setdefault(key, []).append(str(siren))
        # Without its type, as people name it: « Angers Loire Métropole » (CU).
        bare = re.sub(r"^(cc|ca|cu|metropole) ", "", key)
        if bare != key:
            epci.setdefault(bare, []).append(str(siren))
    epci_units: dict[str, list[str]] = {}
    for code, siren in communes["epci"].items():
        if isinstance(siren, str) and siren:
            epci_units.setdefault(siren, []).extend(units_of.get(code, [code]))

    departement = {**units["departement"].to_dict(), **communes["departement"].to_dict()}
    nom = {**units["nom"].to_dict(), **communes["nom"].to_dict()}
    index = NameIndex(
        current={k: tuple(v) for k, v in current.items()},
        former={k: tuple(v) for k, v in former.items()},
        former_of={k: tuple(v) for k, v in former_of.items()},
        old_codes=old_codes,
        postal={k: tuple(v) for k, v in postal.items()},
        postal_of={k: frozenset(v) for k, v in postal_of.items()},
        epci={k: tuple(v) for k, v in epci.items()},
        epci_units=epci_units,
        departement=departement,
        nom=nom,
        commune_of=commune_of,
        units_of=units_of,
        infra=frozenset(infra.index),
    )
    choices: dict[str, set] = {k: set(v) for k, v in index.current.items()}
    for k, fs in index.former.items():
        choices.setdefault(k, set()).update(f.commune for f in fs)
    index.choices = sorted(choices)
    index.choice_codes = [tuple(sorted(choices[k])) for k in index.choices]
    return index


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
