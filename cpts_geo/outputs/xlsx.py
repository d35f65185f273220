"""Workbooks for people: French Excel tables, and neutralising formula injection in CSV/XLSX.

A table is described by a :class:`Sheet` (a DataFrame and the :class:`Column` specs saying which
columns to show, under which French header and how to format them); :func:`write_workbook`
writes the sheets and a last "Source" sheet (tool version, vintages, files read, parameters,
date of the run) atomically.

Numbers are stored as numbers and dates as date cells; the number formats are written in the
file's neutral notation (``#,##0.0``, ``0.0%``, ``dd/mm/yyyy``) that French Excel displays the
French way (``12 345,6``, ``45,2 %``, ``04/03/2025``). Codes (INSEE, SIREN) are text cells, so
``01001`` keeps its leading zero.

Injection (OWASP "CSV injection"): a text cell coming from input data that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return could be evaluated as a formula by a
spreadsheet. In a workbook such a value is stored as a string cell (never a formula) with
Excel's quote prefix, the equivalent of typing ``'`` before it: Excel shows the text as is and
does not evaluate it even when the cell is edited. In CSV files, :func:`neutralize_csv_cell`
and :func:`neutralize_frame` prefix such strings with ``'``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

from cpts_geo._csv import _is_risky
from cpts_geo._io import atomic_write
from cpts_geo.reference.units import shipped_data_dir

__all__ = [
    "KINDS",
    "SOURCE_SHEET",
    "Column",
    "Sheet",
    "file_rows",
    "parameter_row",
    "run_row",
    "sheet_name",
    "write_workbook",
]

#: Column kinds and the number format of their cells ("decimal" and "percent" by digits).
KINDS = ("text", "int", "decimal", "percent", "date", "month", "code")
_FORMATS = {
    "text": "General",
    "int": "#,##0",
    ("decimal", 1): "#,##0.0",
    ("decimal", 2): "#,##0.00",
    ("percent", 0): "0%",
    ("percent", 1): "0.0%",
    ("percent", 2): "0.00%",
    "date": "dd/mm/yyyy",
    "month": "mm/yyyy",
    "code": "@",
}
#: Name of the last sheet, listing what the tables were computed from.
SOURCE_SHEET = "Source"

#: Characters XML 1.0 forbids (openpyxl raises IllegalCharacterError on the C0 ones).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_CELL = 32_767  # characters in one Excel cell
_MAX_WIDTH = 60.0
_MIN_WIDTH = 6.0
_WIDTH_SAMPLE = 2_000  # rows looked at to size a column

_HEADER_FILL = "DDEBF7"


@dataclass(frozen=True)
class Column:
    """One column of a sheet.

    Parameters
    ----------
    key
        Column of the DataFrame.
    header_fr
        Header shown (French).
    kind
        ``text``, ``int``, ``decimal``, ``percent`` (a share, 0-1), ``date`` or ``code`` (text that
        must stay text: INSEE codes, SIREN).
    width
        Width in Excel characters; by default from the content (capped).
    digits
        Decimals shown for ``decimal`` (1 or 2) and ``percent`` (0-2).
    """

    key: str
    header_fr: str
    kind: str = "text"
    width: float | None = None
    digits: int = 1

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        allowed = {"decimal": (1, 2), "percent": (0, 1, 2)}.get(self.kind)
        if allowed and self.digits not in allowed:
            raise ValueError(f"column {self.key!r}: {self.digits} digits for {self.kind}; use {allowed}")

    @property
    def number_format(self) -> str:
        fmt = _FORMATS.get(self.kind) or _FORMATS[(self.kind, self.digits)]
        return fmt


@dataclass
class Sheet:
    """A sheet: ``columns`` of ``frame`` in that order, under an optional title line.

    Only columns are shown: reset the index of a frame indexed by code to show the codes. With a
    title, the title is row 1 and the headers row 2 (frozen below them).
    """

    name: str
    frame: pd.DataFrame
    columns: list[Column] = field(default_factory=list)
    title: str | None = None


def _clean_text(value) -> str:
    """Text an XML worksheet can hold: no control characters, no lone surrogates, not too long."""
    text = _ILLEGAL_XML.sub("", str(value))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    if len(text) > _MAX_CELL:
        text = text[: _MAX_CELL - 1] + "…"
    return text


def _set_text(cell, value) -> None:
    """Store ``value`` as a string cell, never a formula (quote prefix when it starts like one)."""
    text = _clean_text(value)
    cell.value = text
    cell.data_type = "s"  # openpyxl makes any string starting with '=' a formula
    if _is_risky(text):
        cell.quotePrefix = True


def sheet_name(name: str, taken: Iterable[str] = ()) -> str:
    """A valid, unused Excel sheet name for ``name``.

    At most 31 characters, none of ``[]:*?/\\``, no leading or trailing apostrophe, not empty, not
    the reserved "History", and not one of ``taken`` (compared as Excel does, ignoring case): a
    repeated name gets `` (2)``, `` (3)``...
    """
    base = _SHEET_FORBIDDEN.sub(" ", _clean_text(name)).strip().strip("'").strip()
    base = re.sub(r"\s+", " ", base) or "Feuille"
    if base.casefold() == "history":
        base = "History (2)"
    used = {t.casefold() for t in taken}
    candidate, k = base[:31], 1
    while candidate.casefold() in used:
        k += 1
        suffix = f" ({k})"
        candidate = base[: 31 - len(suffix)].rstrip() + suffix
    return candidate


# ---- typed values -----------------------------------------------------------------------------
def _missing(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays, lists
        return False


def _number(value, integer: bool):
    """``value`` as a finite number (None when missing or not finite), or the text it is."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        v = float(value)
        if not math.isfinite(v):
            return None
        return int(round(v)) if integer and v.is_integer() else v
    return _Text(value)


def _date(value):
    """``value`` as a naive datetime.date/datetime, or the text it is."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None)
        return value.date() if value.time() == dt.time(0) else value
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S"):
            try:
                parsed = dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
            return parsed.date() if fmt != "%Y-%m-%dT%H:%M:%S" else parsed
    return _Text(value)


def _month(value):
    """A month (``AAAA-MM``, a Period or a date) as the date of its first day (shown mm/aaaa),
    or the text it is."""
    if isinstance(value, pd.Period):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, str):
        m = re.fullmatch(r"(\d{4})-(\d{1,2})", value.strip())
        if m and 1 <= int(m[2]) <= 12:
            return dt.date(int(m[1]), int(m[2]), 1)
    return _date(value)


def _code(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 49007.0 read by pandas from a numeric column
    return str(value)


class _Text(str):
    """A value that did not fit its column's kind: written as (neutralised) text."""


def _convert(col: Column, value):
    if _missing(value):
        return None
    if col.kind in ("int", "decimal", "percent"):
        return _number(value, col.kind == "int")
    if col.kind == "date":
        return _date(value)
    if col.kind == "month":
        return _month(value)
    if col.kind == "code":
        return _Text(_code(value))
    if isinstance(value, bool | np.bool_):
        return _Text("oui" if value else "non")
    return _Text(value)


def _display_len(col: Column, value) -> int:
    """Roughly how many characters Excel shows for ``value`` (to size the column)."""
    if value is None:
        return 0
    if isinstance(value, _Text):
        return max((len(line) for line in str(value).splitlines()), default=0)
    if col.kind in ("date", "month"):
        return 10 if not isinstance(value, dt.datetime) or value.time() == dt.time(0) else 16
    if col.kind == "percent":
        return len(f"{value * 100:,.{col.digits}f}") + 2
    if col.kind == "decimal":
        return len(f"{value:,.{col.digits}f}")
    return len(f"{value:,.0f}")


# ---- writing ----------------------------------------------------------------------------------
def _check(sheets: Sequence[Sheet]) -> None:
    problems = []
    for sh in sheets:
        if not isinstance(sh.frame, pd.DataFrame):
            problems.append(f"sheet {sh.name!r}: frame is a {type(sh.frame).__name__}, not a DataFrame")
            continue
        missing = [c.key for c in sh.columns if c.key not in sh.frame.columns]
        if missing:
            problems.append(f"sheet {sh.name!r}: no column {', '.join(map(repr, missing))} in the frame")
    if problems:
        raise ValueError("; ".join(problems))


def _write_sheet(ws, sheet: Sheet) -> None:
    """Fill a write-only worksheet: widths, frozen header and filter first, then the rows."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_row = 2 if sheet.title else 1
    n_cols, n_rows = len(sheet.columns), len(sheet.frame)
    values = [[_convert(col, v) for v in sheet.frame[col.key].tolist()] for col in sheet.columns]
    for j, (col, vals) in enumerate(zip(sheet.columns, values), start=1):
        width = col.width
        if width is None:
            longest = max((_display_len(col, v) for v in vals[:_WIDTH_SAMPLE]), default=0)
            # The header wraps when longer than the cap; its filter button takes ~2 characters.
            width = min(_MAX_WIDTH, max(_MIN_WIDTH, longest + 2, min(len(col.header_fr) + 4, _MAX_WIDTH)))
        ws.column_dimensions[get_column_letter(j)].width = float(width)
    if n_cols:
        ws.freeze_panes = f"A{header_row + 1}"
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(n_cols)}{header_row + n_rows}"
        ws.print_title_rows = f"{header_row}:{header_row}"

    def text_cell(value, **style):
        cell = WriteOnlyCell(ws)
        _set_text(cell, value)
        for k, v in style.items():
            setattr(cell, k, v)
        return cell

    if sheet.title:
        ws.append([text_cell(sheet.title, font=Font(bold=True, size=12))])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor=_HEADER_FILL)
    wrap = Alignment(wrap_text=True, vertical="center")
    ws.append([text_cell(col.header_fr, font=bold, fill=fill, alignment=wrap) for col in sheet.columns])
    formats = [col.number_format for col in sheet.columns]
    codes = [col.kind == "code" for col in sheet.columns]
    for i in range(n_rows):
        row: list = []
        for j in range(n_cols):
            value = values[j][i]
            if value is None:
                row.append(None)
            elif isinstance(value, _Text):
                row.append(text_cell(value, number_format=formats[j]) if codes[j] else text_cell(value))
            else:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = formats[j]
                row.append(cell)
        ws.append(row)


def _source_frame(source) -> pd.DataFrame:
    pairs = list(source.items()) if isinstance(source, Mapping) else [tuple(p) for p in source]
    for p in pairs:
        if len(p) != 2:
            raise ValueError(f"source: expected (label, value) pairs, got {p!r}")
    return pd.DataFrame(
        {"label": [str(k) for k, _ in pairs], "value": ["" if _missing(v) else str(v) for _, v in pairs]}
    )


# ---- rows of the Source sheet ----------------------------------------------------------------
def _fr_value(value) -> str:
    from cpts_geo._text import fr_decimal, fr_int

    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"
    if isinstance(value, Integral):
        return fr_int(value)
    if isinstance(value, Real) and math.isfinite(float(value)):
        v = float(value)
        return fr_int(v) if v.is_integer() else fr_decimal(v, 2).rstrip("0").rstrip(",")
    return "" if _missing(value) else str(value)


def parameter_row(label: str, value, default, none: str = "aucune") -> tuple[str, str]:
    """A parameter as the Source sheet shows it: its value, and whether it is the default;
    ``none`` is how an absent value reads, agreed with the label (« Département : aucun »).

    Examples
    --------
    >>> parameter_row("Population minimale", 20000, 20000)
    ('Population minimale', '20\\xa0000 (valeur par défaut)')
    >>> parameter_row("Distance des liaisons maritimes (km)", 15.5, 30)
    ('Distance des liaisons maritimes (km)', '15,5 (valeur choisie ; par défaut : 30)')
    >>> parameter_row("Département", None, None, "aucun")
    ('Département', 'aucun (valeur par défaut)')
    """
    shown = _fr_value(value) or none
    if value == default or (_missing(value) and _missing(default)):
        return label, f"{shown} (valeur par défaut)"
    return label, f"{shown} (valeur choisie ; par défaut : {_fr_value(default) or none})"


def file_rows(paths: Iterable[str | Path | None], label: str = "Fichier lu") -> list[tuple[str, str]]:
    """One Source row per file read: its name, folder and date of last modification; the
    reference folder as « Référentiel » (« livré avec l'outil », or the folder of another one)."""
    rows = []
    for p in paths:
        if p is None:
            continue
        p = Path(p)
        if p.is_dir():  # the reference folder
            shipped = p.resolve() == shipped_data_dir().resolve()
            rows.append(("Référentiel", "livré avec l'outil" if shipped else f"dossier {p.resolve()}"))
            continue
        try:
            stamp = dt.datetime.fromtimestamp(p.stat().st_mtime)
            when = f"modifié le {stamp:%d/%m/%Y à %H:%M}"
        except OSError:
            when = "date inconnue"
        rows.append((label, f"{p.name} ({when}) — {p.resolve().parent}"))
    return rows


def run_row(now: dt.datetime | None = None) -> tuple[str, str]:
    """The date and time of the run (local time)."""
    now = now or dt.datetime.now()
    return "Date de l'exécution", f"{now:%d/%m/%Y à %H:%M}"


def write_workbook(
    path: str | Path,
    sheets: Sequence[Sheet],
    *,
    source: Mapping[str, str] | Sequence[tuple[str, str]],
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write ``sheets`` and a last "Source" sheet to an XLSX file, atomically.

    Parameters
    ----------
    path
        The ``.xlsx`` file; it must not be one of ``inputs``.
    sheets
        One sheet each, in order; names are made valid (:func:`sheet_name`).
    source
        Label/value pairs listed on the "Source" sheet, in order: tool version, vintages (COG,
        populations), files read with their dates, parameters (value by default or chosen), date
        of the run.
    inputs
        Files the command read, never overwritten.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        A sheet names a column its frame lacks (all such problems at once).
    InputError
        ``path`` is an input, a folder, or in a missing folder.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> df = pd.DataFrame({"code": ["01001"], "pop": [832]})
    >>> sheet = Sheet("Communes", df, [Column("code", "Code commune", "code"),
    ...                                Column("pop", "Population", "int")])
    >>> out = write_workbook(Path(tempfile.mkdtemp()) / "t.xlsx", [sheet], source={"Outil": "cpts-geo"})
    >>> out.name
    't.xlsx'
    """
    from openpyxl import Workbook

    sheets = list(sheets)
    _check(sheets)
    src = Sheet(
        SOURCE_SHEET,
        _source_frame(source),
        [Column("label", "Rubrique", "text"), Column("value", "Valeur", "text")],
    )

    def write(tmp: str) -> None:
        # Built once the output path is accepted: a write-only workbook streams its rows to
        # temporary files (memory does not grow with them) until it is saved.
        wb = Workbook(write_only=True)
        taken: list[str] = []
        for sh in sheets:
            name = sheet_name(sh.name, taken + [SOURCE_SHEET])
            taken.append(name)
            _write_sheet(wb.create_sheet(name), sh)
        _write_sheet(wb.create_sheet(SOURCE_SHEET), src)
        wb.properties.creator = "cpts-geo"
        wb.save(tmp)

    return atomic_write(path, write, inputs=inputs)
