"""Rows of the tables users send (CSV/TXT in any delimiter and encoding, XLSX with formulas and several sheets), with their line numbers: the low-level readers of :mod:`cpts_geo.inputs`."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from cpts_geo._errors import InputError
from cpts_geo._text import fr_int, fr_plural, safe
from cpts_geo.inputs._layout import _header_index, _holds_communes, _one_line_list, _skipped, _without_totals
from cpts_geo.inputs.cells import blank, cell_text, clean_text, short_error

TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".tab", ".lst", ""}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
GEO_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb"}


# ---------------------------------------------------------------------------------------------
# Tables: CSV/TXT/XLSX rows with their line numbers
# ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Row:
    line: int
    cells: list[str]
    warnings: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cells = [clean_text(c) for c in self.cells]


#: Input files larger than this are refused before reading (a register of every commune of
#: France, 35,000 rows, is about 3 MB).
MAX_INPUT_BYTES = 200 * 1024 * 1024


def _check_input_file(path: Path) -> None:
    """Refuse, before reading, a path that is missing, a folder, not a regular file (a device
    such as /dev/zero, a FIFO, a socket) or larger than :data:`MAX_INPUT_BYTES`."""
    import os
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path} : fichier introuvable") from None
    except OSError as exc:
        raise InputError(f"{path} : fichier inaccessible ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        if path.suffix.lower() == ".gdb":
            return
        raise InputError(f"{path} : est un dossier, pas un fichier")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path} : n'est pas un fichier ordinaire (périphérique, tube ou socket) ; non lu")
    if st.st_size > MAX_INPUT_BYTES:
        raise InputError(
            f"{path} : fichier de {fr_int(st.st_size)} octets, au-delà de la limite de "
            f"{fr_int(MAX_INPUT_BYTES / 2**20)} Mo ; découpez-le (par département ou par région)"
        )


def _as_path(path) -> Path:
    """A path given as ``str`` or ``os.PathLike``; any other object is an InputError."""
    import os

    if not isinstance(path, str | os.PathLike) or (isinstance(path, str) and ("\x00" in path or not path)):
        raise InputError(
            f"chemin de fichier attendu (str ou Path), reçu {type(path).__name__} {safe(repr(path), 60)}"
        )
    return Path(path)


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in GEO_SUFFIXES:
        return "geo"
    if suffix in EXCEL_SUFFIXES:
        return "xlsx"
    if suffix == ".xls":
        raise InputError(
            f"{path} : format Excel 97-2003 (.xls) non pris en charge ; enregistrez le "
            "classeur en .xlsx ou en CSV"
        )
    if suffix in (".ods", ".numbers"):
        raise InputError(f"{path} : format {suffix} non pris en charge ; enregistrez-le en .xlsx ou en CSV")
    return "text"


def _read_rows(path: Path, *, sheet: str | None = None) -> list[_Row]:
    """Non-blank rows of a text or XLSX table, cells stripped, with their line (row) numbers."""
    _check_input_file(path)
    if _kind(path) == "xlsx":
        rows = _xlsx_rows(path, sheet)
    else:
        if sheet is not None:
            raise InputError(f"{path} : le choix d'une feuille (sheet) ne s'applique qu'aux classeurs .xlsx")
        rows = _text_rows(path)
    if not rows:
        raise InputError(f"{path} : fichier vide")
    return rows


def _decode(data: bytes, path: Path) -> str:
    if b"\x00" in data:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            try:
                return data.decode("utf-16")
            except UnicodeDecodeError:
                pass
        raise InputError(
            f"{path} : fichier binaire, pas un tableau texte ; attendu un CSV, un TXT ou un .xlsx"
        )
    if data[:4] == b"PK\x03\x04":
        raise InputError(
            f"{path} : ce fichier est un classeur compressé (xlsx ?) ; donnez-lui l'extension .xlsx"
        )
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _text_rows(path: Path) -> list[_Row]:
    text = _decode(path.read_bytes(), path)
    physical = text.splitlines()
    sample = [ln for ln in physical if ln.strip()][:50]
    delim = _delimiter(sample)
    rows = []
    if delim is None:
        for i, ln in enumerate(physical, start=1):
            if ln.strip():
                rows.append(_Row(i, [ln.strip().strip('"').strip()]))
        return rows
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    start = 1
    try:
        for cells in reader:
            line = start
            start = reader.line_num + 1
            cells = [c.strip() for c in cells]
            if any(cells):
                rows.append(_Row(line, cells, _multiline_warnings(cells, line, reader.line_num)))
    except csv.Error as exc:
        raise InputError(f"{path} : ligne {reader.line_num} : CSV illisible ({exc})") from None
    return rows


def _multiline_warnings(cells: list[str], line: int, last: int) -> list[dict]:
    """A quoted field that runs over line breaks: a commune name never holds one, so it is
    almost always an unbalanced ``"`` that swallowed the lines that follow."""
    cell = next((c for c in cells if "\n" in c or "\r" in c), None)
    if cell is None:
        return []
    return [
        {
            "line": line,
            "value": safe(cell, 60),
            "message": f"champ entre guillemets sur plusieurs lignes (lignes {line} à {last}) : un "
            "guillemet \" n'est pas refermé ? vérifiez ces lignes",
        }
    ]


def _delimiter(sample: list[str]) -> str | None:
    """The delimiter that splits the sample's lines into the same number (> 1) of fields."""
    best, best_score = None, 0.0
    for d in (";", "\t", ",", "|"):
        counts = []
        for ln in sample:
            try:
                counts.append(len(next(csv.reader([ln], delimiter=d))))
            except (csv.Error, StopIteration):
                counts.append(1)
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        score = counts.count(mode) / len(counts) + 0.001 * mode
        if score > best_score:
            best, best_score = d, score
    return best


def _xlsx_rows(path: Path, sheet: str | None) -> list[_Row]:
    """Rows of a sheet: cached values; a formula without a cached value (a workbook written by
    a script, never opened in Excel) is evaluated when simple (a constant, a cell, ``&``) and
    refused, naming the cells, otherwise."""
    values = _xlsx_values(path, sheet, data_only=True)
    formulas = None
    rows = []
    for i, row in enumerate(values, start=1):
        if any(v is None for v in row):
            if formulas is None:
                formulas = _xlsx_values(path, sheet, data_only=False)
            row = _fill_formulas(row, i, formulas)
        cells = ["" if blank(v) else cell_text(v) for v in row]
        if any(cells):
            rows.append(_Row(i, cells))
    if formulas is not None:
        bad = _unevaluated(values, formulas)
        if bad:
            shown = ", ".join(f"{c} ({safe(f, 40)})" for c, f in bad[:5])
            more = f" et {fr_int(len(bad) - 5)} autres" if len(bad) > 5 else ""
            raise InputError(
                f"{path} : {fr_plural(len(bad), 'formule')} sans valeur calculée : {shown}{more} ; "
                "ouvrez le classeur dans Excel ou LibreOffice et enregistrez-le (les valeurs seront "
                "calculées), ou remplacez les formules par leurs valeurs"
            )
    return rows


_CELL_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d{1,7})")


def _evaluate(formula: str, formulas: list[tuple], depth: int = 0):
    """The value of a simple formula: a constant, a cell of the same sheet, or ``&`` of them;
    ``None`` when it is not that simple."""
    from openpyxl.utils import column_index_from_string

    if depth > 5:
        return None
    parts = [p.strip() for p in formula.lstrip("=").split("&")]
    out = []
    for part in parts:
        if re.fullmatch(r'"[^"]*"', part):
            out.append(part[1:-1])
        elif re.fullmatch(r"[+-]?\d+(\.\d+)?", part):
            out.append(cell_text(float(part)))
        elif m := _CELL_REF.fullmatch(part):
            r, c = int(m.group(2)) - 1, column_index_from_string(m.group(1)) - 1
            v = formulas[r][c] if r < len(formulas) and c < len(formulas[r]) else None
            if isinstance(v, str) and v.startswith("="):
                v = _evaluate(v, formulas, depth + 1)
                if v is None:
                    return None
            out.append("" if blank(v) else cell_text(v))
        else:
            return None
    return "".join(out) if len(out) > 1 or isinstance(out[0], str) else out[0]


def _fill_formulas(row: tuple, i: int, formulas: list[tuple]) -> tuple:
    f = formulas[i - 1] if i - 1 < len(formulas) else ()
    out = list(row)
    for j, v in enumerate(row):
        if v is None and j < len(f) and isinstance(f[j], str) and f[j].startswith("="):
            out[j] = _evaluate(f[j], formulas)
    return tuple(out)


def _unevaluated(values: list[tuple], formulas: list[tuple]) -> list[tuple[str, str]]:
    """Cells (``B4``) and formulas that have no cached value and are not simple."""
    from openpyxl.utils import get_column_letter

    bad = []
    for i, f in enumerate(formulas):
        row = values[i] if i < len(values) else ()
        for j, v in enumerate(f):
            if isinstance(v, str) and v.startswith("=") and (j >= len(row) or row[j] is None):
                if _evaluate(v, formulas) is None:
                    bad.append((f"{get_column_letter(j + 1)}{i + 1}", v))
    return bad


def _xlsx_values(path: Path, sheet: str | None, *, data_only: bool) -> list[tuple]:
    """The cell values of a sheet, row by row (``data_only``: cached values, else formulas)."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=data_only)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise InputError(
            f"{path} : classeur Excel illisible ({short_error(exc)}) ; réenregistrez-le en .xlsx ou en CSV"
        ) from None
    except Exception as exc:  # a corrupt archive: openpyxl and zipfile raise many kinds
        raise InputError(f"{path} : classeur Excel illisible ({short_error(exc)})") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0] if wb.worksheets else None
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise InputError(
                f"{path} : feuille '{safe(sheet)}' introuvable ; feuilles : {', '.join(wb.sheetnames)}"
            )
        return [] if ws is None else [tuple(r) for r in ws.iter_rows(values_only=True)]
    except InputError:
        raise
    except Exception as exc:  # a corrupt sheet inside a valid zip: openpyxl raises many kinds
        raise InputError(f"{path} : classeur Excel illisible ({short_error(exc)})") from None
    finally:
        wb.close()


def _table_rows(path: Path, *, sheet: str | None, skip_rows: int | None) -> tuple[list[_Row], list[dict]]:
    """The rows of a table from its header on, without total and note rows, and the warnings
    naming what was skipped (title rows, totals, notes, another sheet)."""
    warnings: list[dict] = []
    if sheet is None and _kind(path) == "xlsx":
        rows, sheet_note = _communes_sheet(path)
        warnings += sheet_note
    else:
        rows = _read_rows(path, sheet=sheet)
    if skip_rows:
        skipped = [r for r in rows if r.line <= skip_rows]
        rows = [r for r in rows if r.line > skip_rows]
        if skipped:
            warnings.append(
                _skipped(skipped, f"{fr_plural(skip_rows, 'première ligne')} ignorée(s) à la demande")
            )
        if not rows:
            raise InputError(f"{path} : aucune ligne après les {skip_rows} premières")
    else:
        start = _header_index(rows)
        if start:
            warnings.append(_skipped(rows[:start], "ligne(s) de titre au-dessus de l'en-tête ignorée(s)"))
            rows = rows[start:]
    if len(rows) == 1:
        return _one_line_list(rows), warnings
    rows, dropped = _without_totals(rows)
    return rows, warnings + dropped


def _communes_sheet(path: Path) -> tuple[list[_Row], list[dict]]:
    """The rows of the first sheet that holds communes (a header we know, or codes), with a
    warning when it is not the first; an error listing the sheets when none does."""
    from openpyxl import load_workbook

    first = _read_rows_or_empty(path, None)
    if _holds_communes(first):
        return first, []
    try:
        wb = load_workbook(path, read_only=True)
        names = list(wb.sheetnames)
        wb.close()
    except Exception:  # unreadable: _read_rows already said why, or the first sheet is all there is
        return _read_rows(path, sheet=None), []
    for name in names[1:]:
        rows = _read_rows_or_empty(path, name)
        if _holds_communes(rows):
            return rows, [
                {
                    "line": None,
                    "value": name,
                    "message": f"feuille '{name}' lue : la première feuille, '{names[0]}', ne contient pas "
                    "de liste de communes reconnue",
                }
            ]
    if len(names) > 1:
        raise InputError(
            f"{path} : aucune feuille ne contient de liste de communes reconnue (en-tête code_insee, "
            f"Commune... ou codes INSEE) ; feuilles : {', '.join(repr(n) for n in names)} ; précisez la "
            "feuille à lire (paramètre sheet)"
        )
    return _read_rows(path, sheet=None), []


def _read_rows_or_empty(path: Path, sheet: str | None) -> list[_Row]:
    try:
        return _read_rows(path, sheet=sheet)
    except InputError as exc:
        if str(exc).endswith("fichier vide"):
            return []
        raise
