"""Tables as users lay them out: column names and their roles, the header row, title rows above
it, total and note rows, lists written on one line, the fields of polygon registers.

Pure functions on rows (dataclasses with ``line`` and ``cells``, see :mod:`cpts_geo.inputs`);
the readers of :mod:`cpts_geo.inputs` call them and turn what they skip into warnings.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from cpts_geo._errors import InputError
from cpts_geo._text import cut, others
from cpts_geo.inputs.cells import fold

__all__ = [
    "CODE_COLUMNS",
    "CPTS_ID_COLUMNS",
    "CPTS_NAME_COLUMNS",
    "DATE_COLUMNS",
    "DEP_COLUMNS",
    "EPCI_COLUMNS",
    "MAX_TITLE_ROWS",
    "NAME_COLUMNS",
    "POSTAL_COLUMNS",
    "SHARED_COLUMNS",
    "STAGE_COLUMNS",
]

#: A data row: any dataclass with ``line`` (int) and ``cells`` (list of str).
Row = Any

# Column names as users write them, folded with normalize_name.
CODE_COLUMNS = [
    "code insee",
    "codgeo",
    "insee",
    "code commune insee",
    "com",
    "depcom",
    "code commune",
    "codecommune",
    "code com",
    "codeinsee",
    "insee com",
    "code",
    "cog",
    "code insee commune",
    "code geo",
    "codegeo",
    "num insee",
    "n insee",
    "numero insee",
]
NAME_COLUMNS = [
    "commune",
    "communes",
    "nom commune",
    "nom de la commune",
    "libelle commune",
    "libgeo",
    "libelle",
    "nom",
    "ville",
    "nom com",
    "nom communes",
]
DEP_COLUMNS = [
    "departement",
    "dep",
    "code departement",
    "dept",
    "code dep",
    "num departement",
    "numero departement",
    "dpt",
]
POSTAL_COLUMNS = ["code postal", "cp", "code postal commune", "codepostal", "cod postal"]
EPCI_COLUMNS = [
    "epci",
    "nom epci",
    "siren epci",
    "code epci",
    "epci siren",
    "libelle epci",
    "intercommunalite",
    "communaute de communes",
]
SHARED_COLUMNS = ["commune partagee", "partagee", "commune partagee infra", "partage"]
CPTS_ID_COLUMNS = ["cpts id", "id cpts", "identifiant cpts", "code cpts", "id", "identifiant"]
CPTS_NAME_COLUMNS = [
    "cpts nom",
    "nom cpts",
    "nom de la cpts",
    "cpts",
    "libelle cpts",
    "cpts nom publie",
    "nom cpts publie",
    "nom publie cpts",
    "nom publie de la cpts",
    "nom de la cpts publie",
    "libelle de la cpts",
    "denomination cpts",
    "denomination de la cpts",
    "intitule cpts",
    "intitule de la cpts",
]
STAGE_COLUMNS = ["statut", "stade", "etat", "status", "etape"]
DATE_COLUMNS = ["date statut", "date", "date du statut", "date stade"]

#: How many rows above the header may be titles, blank-merged cells or notes.
MAX_TITLE_ROWS = 15

_TOTAL = re.compile(r"^(sous )?(total|totaux)\b|^ensemble\b")
# Notes: a known word followed by a colon (« Source : INSEE »), on the raw text (communes are
# named Champ-sur-Layon, Source-Seine).
_NOTE = re.compile(
    r"^\s*(sources?|notes?|nota|nb|n\.b\.|lecture|champ|remarques?|mise à jour|mis à jour|"
    r"extraction|réalisation|auteur|contact|légende|attention)\s*:",
    re.IGNORECASE,
)

#: A count or a total as spreadsheets write it (« 29863 », « 1 234 », « 12,5 % »).
_NUMBER_CELL = re.compile(r"[+-]?\d[\d\s\u00a0\u202f'.,]*\s*%?")


def _holds_communes(rows: list[Row]) -> bool:
    head = rows[: MAX_TITLE_ROWS + 5]
    # Codes on two rows at least (a year alone in a cell of a notes sheet is not a list).
    with_codes = sum(any(_looks_like_code(c) for c in r.cells) for r in head)
    alone = len(head) == 1 and all(_looks_like_code(c) for c in head[0].cells if c)
    return any(_known_header(r.cells) for r in head) or with_codes >= 2 or alone


def _known_header(cells: list[str]) -> bool:
    cols = _columns(cells)
    return any(k in cols for k in ("code", "name", "cpts_id", "epci"))


def _header_index(rows: list[Row]) -> int:
    """Index of the header row when title rows (no code, fewer cells than the header) are above
    it; 0 otherwise."""
    for k, r in enumerate(rows[: MAX_TITLE_ROWS + 1]):
        if any(_looks_like_code(c) for c in r.cells):
            return 0
        if _known_header(r.cells):
            width = sum(1 for c in r.cells if c)
            above = rows[:k]
            if all(sum(1 for c in t.cells if c) < max(width, 2) for t in above):
                return k
            return 0
    return 0


def _without_totals(rows: list[Row]) -> tuple[list[Row], list[dict]]:
    """Rows without total / subtotal rows and notes (the header, if any, is kept)."""
    keep, totals, notes = [], [], []
    # Columns where most rows hold a commune code: a number there is a code, not a total.
    width = max(len(r.cells) for r in rows)
    counts = [sum(_looks_like_code(_cell(r, j)) for r in rows) for j in range(width)]
    code_cols = {j for j, n in enumerate(counts) if n and 2 * n >= max(counts)}
    if _known_header(rows[0].cells):
        code_col = _code_column(_columns(rows[0].cells))
        code_cols = set() if code_col is None else {code_col}
    for k, r in enumerate(rows):
        filled = [c for c in r.cells if c]
        first = fold(filled[0]) if filled else ""
        numbers = [
            (j, c)
            for j, c in enumerate(r.cells)
            if c and (_only_number(c) or (_looks_like_code(c) and j not in code_cols))
        ]
        if k and (_TOTAL.match(first) or (filled and len(numbers) == len(filled))):
            totals.append(r)
        elif (
            k
            and len(filled) == 1
            and (_NOTE.match(filled[0]) or filled[0].startswith(("*", "(")) or len(first.split()) > 8)
        ):
            notes.append(r)
        else:
            keep.append(r)
    out = []
    if totals:
        out.append(_skipped(totals, "ligne(s) de total ignorée(s)"))
    if notes:
        out.append(_skipped(notes, "ligne(s) de notes ignorée(s)"))
    return keep, out


def _code_column(cols: dict[str, int]) -> int | None:
    """The column whose values the readers take as codes: the code column, else the name
    column (a code written there is read as a code)."""
    return cols.get("code", cols.get("name"))


def _only_number(cell: str) -> bool:
    """A number that is not a commune code (a count or a population total)."""
    if _looks_like_code(cell):
        return False
    tokens = [t for t in re.split(r"[\s,;|/]+", cell) if t]
    if len(tokens) > 1 and all(_looks_like_code(t) for t in tokens):
        return False  # « 49007,49015 »: two codes in one cell, not a French decimal
    return bool(_NUMBER_CELL.fullmatch(cell.strip()))


def _skipped(rows: list[Row], what: str) -> dict:
    shown = [f"ligne {r.line} « {cut(' '.join(c for c in r.cells if c), 60)} »" for r in rows[:5]]
    more = f" et {others(len(rows) - 5)}" if len(rows) > 5 else ""
    return {
        "line": rows[0].line,
        "value": " | ".join(" ".join(c for c in r.cells if c) for r in rows),
        "message": f"{what} : {', '.join(shown)}{more}",
    }


def _one_line_list(rows: list[Row]) -> list[Row]:
    """A list written on one line (« Angers, Avrillé, Beaucouzé »): one row per name."""
    multi = [r for r in rows if len([c for c in r.cells if c]) > 1]
    if (
        len(multi) != 1
        or _known_header(multi[0].cells)
        or any(len(r.cells) > 1 for r in rows if r is not multi[0])
    ):
        return rows
    out = []
    for r in rows:
        out += [replace(r, cells=[c]) for c in r.cells if c] if r is multi[0] else [r]
    return out


def _split_header(rows: list[Row], path: Path) -> tuple[list[str] | None, list[Row]]:
    """The header (if the first row names columns we know) and the data rows."""
    first = rows[0].cells
    if _columns(first) or (len(first) > 1 and not any(_looks_like_code(c) for c in first)):
        return first, rows[1:]
    if len(first) == 1 and fold(first[0]) in _HEADER_WORDS:
        return first, rows[1:]
    return None, rows


_HEADER_WORDS = {"codes", "liste", "communes", "code", "nom", "noms", "territoire", "commune"}


#: A commune or postal code written as a number with a thousands separator (« 49 007 »; the
#: no-break and narrow no-break spaces are plain spaces once read, see ``clean_text``).
_SPACED_CODE = re.compile(r"(\d{1,2}) (\d{3})")


def _join_spaced_codes(rows: list[Row]) -> list[dict]:
    """Codes written with a thousands separator (« 49 007 »), joined in place (« 49007 »), with
    a warning for each. Only in the code and postal-code columns of a table with a header; in a
    list without one, in the first column whose values are all codes, some of them separated
    (a column of populations « 29 863 » beside it is left alone)."""
    if not rows:
        return []
    if _known_header(rows[0].cells):
        cols = _columns(rows[0].cells)
        targets = {j for j in (cols.get("postal"), _code_column(cols)) if j is not None}
        body = rows[1:]
    else:
        body = rows
        width = max(len(r.cells) for r in body)
        targets = set()
        for j in range(width):
            cells = [_cell(r, j) for r in body if _cell(r, j)]
            spaced = [c for c in cells if _SPACED_CODE.fullmatch(c)]
            if spaced and all(_SPACED_CODE.fullmatch(c) or _looks_like_code(c) for c in cells):
                targets = {j}
                break
    out = []
    for r in body:
        for j in sorted(targets):
            c = _cell(r, j)
            if _SPACED_CODE.fullmatch(c):
                joined = c.replace(" ", "")
                r.cells[j] = joined
                out.append(
                    {
                        "line": r.line,
                        "value": c,
                        "retained": joined,
                        "message": f"code écrit avec un séparateur de milliers : « {c} » lu {joined}",
                    }
                )
    return out


_CPTS_IN_TITLE = re.compile(
    r"\b(?:C\.?\s?P\.?\s?T\.?\s?S\b\.?|communaut[ée]s? professionnelles? territoriales? de sant[ée])",
    re.IGNORECASE,
)
_TITLE_END = re.compile(r"\s+[-–—:|]\s+|\s*[;(\[]|\s*:\s")


def _title_name(titles: list[str]) -> str | None:
    """The CPTS a title row above the header names (« Liste des communes de la CPTS du
    Choletais - 2026 » names « CPTS du Choletais »), or None when no title row names one.

    >>> _title_name(["Liste des communes de la CPTS du Choletais - version 2026"])
    'CPTS du Choletais'
    >>> _title_name(["Projet de santé", "Communauté Professionnelle Territoriale de Santé Loire Layon (49)"])
    'Communauté Professionnelle Territoriale de Santé Loire Layon'
    >>> _title_name(["Communes du territoire"]) is None
    True
    """
    for title in titles:
        m = _CPTS_IN_TITLE.search(title)
        if not m:
            continue
        name = _TITLE_END.split(title[m.start() :], maxsplit=1)[0].strip(" .,;:-–—")
        if len(name) > len(m.group(0)):  # « CPTS » alone names no CPTS
            return name
    return None


def _looks_like_code(value: str) -> bool:
    return bool(re.fullmatch(r"\s*\d[0-9aAbB]?\d{2,3}(\.0)?\s*", value))


def _columns(header: list[str]) -> dict[str, int]:
    """Positions of the columns we know, by role (first match in order of preference)."""
    folded = [fold(h) for h in header]
    out: dict[str, int] = {}
    for role, names in (
        ("code", CODE_COLUMNS),
        ("cpts_id", CPTS_ID_COLUMNS),
        ("cpts_name", CPTS_NAME_COLUMNS),
        ("stage", STAGE_COLUMNS),
        ("date", DATE_COLUMNS),
        ("dep", DEP_COLUMNS),
        ("postal", POSTAL_COLUMNS),
        ("epci", EPCI_COLUMNS),
        ("shared", SHARED_COLUMNS),
        ("name", NAME_COLUMNS),
    ):
        for name in names:
            if name in folded and folded.index(name) not in out.values():
                out[role] = folded.index(name)
                break
    return out


def _cell(row: Row, col: int | None) -> str:
    if col is None or col >= len(row.cells):
        return ""
    return row.cells[col]


def _polygon_fields(gdf, path: Path, id_column, name_column, stage_column) -> dict[str, str]:
    """The layer's fields holding the CPTS id, name, stage and date: as named by the user, else
    ``cpts_id``/``cpts_nom``/``statut``/``date_statut`` or a variant known to the readers."""
    fields = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    known = _columns(fields)
    out: dict[str, str] = {}
    for key, given, role in (
        ("cpts_id", id_column, "cpts_id"),
        ("cpts_nom", name_column, "cpts_name"),
        ("statut", stage_column, "stage"),
        ("date_statut", None, "date"),
    ):
        if given is not None:
            match = [f for f in fields if f == given] or [f for f in fields if fold(f) == fold(given)]
            if not match:
                raise InputError(f"{path} : attribut '{given}' introuvable parmi {', '.join(fields)}")
            out[key] = match[0]
        elif role in known:
            out[key] = fields[known[role]]
    given = {"id_column": id_column, "name_column": name_column, "stage_column": stage_column}
    named = [(k, v) for k, v in given.items() if v is not None]
    twice = sorted({fold(v) for _, v in named if sum(fold(w) == fold(v) for _, w in named) > 1})
    if twice:
        roles = [k for k, v in named if fold(v) in twice]
        raise InputError(
            f"{path} : un même attribut pour deux rôles ({', '.join(roles)} : "
            f"« {next(v for _, v in named if fold(v) == twice[0])} ») ; chaque rôle a son attribut"
        )
    if "cpts_id" not in out and "cpts_nom" not in out:
        raise InputError(
            f"{path} : attribut cpts_id introuvable parmi {', '.join(fields)} ; chaque polygone doit "
            "avoir un identifiant et un nom de CPTS (précisez les attributs : paramètres id_column, "
            "name_column, stage_column)"
        )
    return out
