"""Rows of the tables users send (CSV/TXT in any delimiter and encoding, XLSX with formulas and several sheets), with their line numbers: the low-level readers of :mod:`cpts_geo.inputs`."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from cpts_geo._errors import InputError
from cpts_geo._text import fr_int, fr_plural, safe
from cpts_geo.inputs._layout import (
    _columns,
    _header_index,
    _holds_communes,
    _join_spaced_codes,
    _known_header,
    _one_line_list,
    _skipped,
    _without_totals,
)
from cpts_geo.inputs.cells import blank, cell_text, clean_text, short_error

TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".tab", ".lst", ""}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
#: LibreOffice / OpenDocument spreadsheets, read through pandas and odfpy.
ODS_SUFFIXES = {".ods"}
GEO_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb"}


# ---------------------------------------------------------------------------------------------
# Tables: CSV/TXT/XLSX rows with their line numbers
# ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Row:
    line: int
    cells: list[str]
    warnings: list[dict] = field(default_factory=list)
    #: Cells holding a formula without a cached value that could not be evaluated: column
    #: index -> formula (their text is blank); see :func:`_formulas_in_use`.
    formulas: dict[int, str] = field(default_factory=dict)

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
    if suffix in ODS_SUFFIXES:
        return "ods"
    if suffix == ".xls":
        raise InputError(
            f"{path} : format Excel 97-2003 (.xls) non pris en charge ; enregistrez le "
            "classeur en .xlsx ou en CSV"
        )
    if suffix in (".fods", ".numbers"):
        raise InputError(f"{path} : format {suffix} non pris en charge ; enregistrez-le en .xlsx ou en CSV")
    return "text"


def _read_rows(path: Path, *, sheet: str | None = None, lenient: bool = False) -> list[_Row]:
    """Non-blank rows of a text, XLSX or ODS table, cells stripped, with their line (row) numbers.

    A formula without a cached value that cannot be evaluated is refused, naming its cells;
    with ``lenient``, its row is kept with the formula in ``_Row.formulas`` (a row holding
    nothing else too), for :func:`_table_rows` to refuse it only where it is read."""
    _check_input_file(path)
    kind = _kind(path)
    if kind == "xlsx":
        rows = _xlsx_rows(path, sheet)
        if not lenient:
            _refuse_formulas(path, [(r.line, j, f) for r in rows for j, f in r.formulas.items()])
            rows = [r for r in rows if any(r.cells)]
    elif kind == "ods":
        rows = _ods_rows(path, sheet)
    else:
        if sheet is not None:
            raise InputError(
                f"{path} : le choix d'une feuille (sheet) ne s'applique qu'aux classeurs .xlsx et .ods"
            )
        rows = _text_rows(path)
    if not any(any(r.cells) or r.formulas for r in rows):
        raise InputError(f"{path} : fichier vide")
    return rows


def _refuse_formulas(path: Path, cells: list[tuple[int, int, str]]) -> None:
    """Refuse formulas without a cached value: ``(line, column index, formula)`` each."""
    if not cells:
        return
    from openpyxl.utils import get_column_letter

    shown = ", ".join(f"{get_column_letter(j + 1)}{line} ({safe(f, 40)})" for line, j, f in cells[:5])
    more = f" et {fr_int(len(cells) - 5)} autres" if len(cells) > 5 else ""
    raise InputError(
        f"{path} : {fr_plural(len(cells), 'formule')} sans valeur calculée : {shown}{more} ; "
        "ouvrez le classeur dans Excel ou LibreOffice et enregistrez-le (les valeurs seront "
        "calculées), ou remplacez les formules par leurs valeurs"
    )


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
    a script, never opened in Excel) is evaluated when simple (a constant, a cell, ``&``), and
    kept in ``_Row.formulas`` otherwise (a row with nothing else is kept for it)."""
    values = _xlsx_values(path, sheet, data_only=True)
    formulas = None
    rows = []
    for i, row in enumerate(values, start=1):
        pending: dict[int, str] = {}
        if any(v is None for v in row):
            if formulas is None:
                formulas = _xlsx_values(path, sheet, data_only=False)
            row = _fill_formulas(row, i, formulas)
            pending = _unevaluated_in(values, formulas, i)
        cells = ["" if blank(v) else cell_text(v) for v in row]
        if any(cells) or pending:
            rows.append(_Row(i, cells, formulas=pending))
    return rows


def _ods_rows(path: Path, sheet: str | None) -> list[_Row]:
    """Rows of a sheet of an OpenDocument spreadsheet (LibreOffice), read by pandas through
    odfpy: the values LibreOffice stored for its formulas."""
    try:
        import odf  # noqa: F401  (pandas' engine; checked here to say how to install it)
    except ImportError:
        raise InputError(
            f"{path} : la lecture des fichiers .ods demande le paquet odfpy (pip install odfpy) ; "
            "ou enregistrez le classeur en .xlsx ou en CSV"
        ) from None
    import pandas as pd

    _check_ods_size(path)
    try:
        book = pd.ExcelFile(path, engine="odf")
        names = [str(n) for n in book.sheet_names]
        if sheet is not None and sheet not in names:
            raise InputError(f"{path} : feuille '{safe(sheet)}' introuvable ; feuilles : {', '.join(names)}")
        if not names:
            return []
        frame = pd.read_excel(
            book, sheet_name=sheet if sheet is not None else names[0], header=None, dtype=object
        )
    except InputError:
        raise
    except Exception as exc:  # a corrupt archive or XML: odfpy and zipfile raise many kinds
        raise InputError(
            f"{path} : classeur OpenDocument illisible ({short_error(exc)}) ; réenregistrez-le en .ods, "
            ".xlsx ou CSV"
        ) from None
    rows = []
    # pandas keeps the sheet's leading blank rows and numbers rows from 0: line = position + 1.
    for i, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        cells = ["" if blank(v) else cell_text(v) for v in values]
        if any(cells):
            rows.append(_Row(i, cells))
    return rows


#: Cells an OpenDocument sheet may hold once its repeated rows and cells are expanded (a few
#: hundred bytes can declare a row of 200 cells repeated a million times); a register of every
#: commune of France, 35,000 rows of ten columns, holds 350,000.
MAX_ODS_CELLS = 5_000_000
#: Uncompressed size of an OpenDocument spreadsheet's content.xml read at most.
MAX_ODS_XML_BYTES = 300 * 1024 * 1024


def _check_ods_size(path: Path) -> None:
    """Refuse, before pandas expands it, an OpenDocument spreadsheet whose content is larger
    than :data:`MAX_ODS_XML_BYTES` or whose repeated rows and cells holding values add up to
    more than :data:`MAX_ODS_CELLS` (empty rows and cells at the end of a sheet, which
    LibreOffice writes repeated to the sheet's size, are not expanded by pandas)."""
    import xml.etree.ElementTree as ET
    import zipfile

    table = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
    office = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("content.xml")
            if info.file_size > MAX_ODS_XML_BYTES:
                raise InputError(
                    f"{path} : classeur OpenDocument de {fr_int(info.file_size / 2**20)} Mo une fois "
                    f"décompressé, au-delà de la limite de {fr_int(MAX_ODS_XML_BYTES / 2**20)} Mo"
                )
            cells = 0
            pending = 0  # empty rows, expanded when a row with values follows
            width = 0
            with z.open(info) as xml:
                for _, el in ET.iterparse(xml, events=("end",)):
                    if el.tag == f"{table}table-row":
                        n = int(el.get(f"{table}number-rows-repeated", "1") or 1)
                        used, filled = 0, 0
                        for c in el:
                            k = int(c.get(f"{table}number-columns-repeated", "1") or 1)
                            used += k
                            if c.get(f"{office}value-type") is not None or "".join(c.itertext()).strip():
                                filled = used
                        if filled:
                            width = max(width, filled)
                            cells += (pending + n) * width
                            pending = 0
                        else:
                            pending += n
                        el.clear()
                        if cells > MAX_ODS_CELLS:
                            raise InputError(
                                f"{path} : classeur OpenDocument de plus de {fr_int(MAX_ODS_CELLS)} cellules "
                                "(lignes ou cellules répétées) ; enregistrez la liste seule en .ods, .xlsx ou CSV"
                            )
                    elif el.tag == f"{table}table":
                        pending, width = 0, 0
                        el.clear()
    except InputError:
        raise
    except Exception:  # not a zip, no content.xml, bad XML: pandas says it below
        return


def ods_sheet_names(path: Path) -> list[str]:
    """The sheets of an OpenDocument spreadsheet ([] when it cannot be read)."""
    import pandas as pd

    _check_ods_size(path)
    try:
        return [str(n) for n in pd.ExcelFile(path, engine="odf").sheet_names]
    except Exception:  # unreadable: _read_rows says why
        return []


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


def _unevaluated_in(values: list[tuple], formulas: list[tuple], line: int) -> dict[int, str]:
    """The cells of row ``line`` (column index -> formula) that have no cached value and are
    not simple enough to evaluate."""
    f = formulas[line - 1] if line - 1 < len(formulas) else ()
    row = values[line - 1] if line - 1 < len(values) else ()
    return {
        j: v
        for j, v in enumerate(f)
        if isinstance(v, str)
        and v.startswith("=")
        and (j >= len(row) or row[j] is None)
        and _evaluate(v, formulas) is None
    }


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


@dataclass
class Table:
    """The rows of a table from its header on, what was skipped, and the title rows above."""

    rows: list[_Row]
    warnings: list[dict]
    #: Text of each title row above the header (« CPTS du Choletais - liste des communes »).
    titles: list[str] = field(default_factory=list)


def _table_rows(path: Path, *, sheet: str | None, skip_rows: int | None) -> Table:
    """The rows of a table from its header on, without total and note rows, and the warnings
    naming what was skipped (title rows, totals, notes, another sheet, formulas without a value
    where nothing is read) and what was corrected (codes written with a thousands separator).

    A formula without a cached value is refused only in a cell that is read: a data row's
    column with a role (all columns of a list without a header)."""
    warnings: list[dict] = []
    if sheet is None and _kind(path) in ("xlsx", "ods"):
        rows, sheet_note = _communes_sheet(path)
        warnings += sheet_note
    else:
        rows = _read_rows(path, sheet=sheet, lenient=True)
    formulas = {r.line: r.formulas for r in rows if r.formulas}
    rows = [r for r in rows if any(r.cells)]
    titles: list[str] = []
    skipped_lines: set[int] = set()  # rows not read: asked, titles, totals, notes
    if not rows:
        raise InputError(f"{path} : aucune valeur lue (seulement des formules sans valeur calculée)")
    if skip_rows:
        skipped = [r for r in rows if r.line <= skip_rows]
        rows = [r for r in rows if r.line > skip_rows]
        skipped_lines.update(range(1, skip_rows + 1))
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
            titles = [" ".join(c for c in r.cells if c) for r in rows[:start]]
            skipped_lines.update(range(1, rows[start].line))
            rows = rows[start:]
    if len(rows) == 1:
        rows = _one_line_list(rows)
    else:
        warnings += _join_spaced_codes(rows)
        kept, dropped = _without_totals(rows)
        skipped_lines.update({r.line for r in rows} - {r.line for r in kept})
        rows = kept
        warnings += dropped
    warnings += _formulas_in_use(path, rows, formulas, skipped_lines)
    return Table(rows, warnings, titles)


def _formulas_in_use(
    path: Path, rows: list[_Row], formulas: dict[int, dict[int, str]], skipped_lines: set[int]
) -> list[dict]:
    """Refuse the formulas without a value in cells that are read (a data row — a row holding
    nothing but formulas is one —, in a column with a role; every column of a list without a
    header); a warning naming the others (title, total and note rows, columns not read)."""
    if not formulas:
        return []
    from openpyxl.utils import get_column_letter

    header = rows[0] if rows and _known_header(rows[0].cells) else None
    used = set(_columns(header.cells).values()) if header is not None else None
    first = header.line + 1 if header is not None else 1
    bad: list[tuple[int, int, str]] = []
    ignored: list[tuple[int, int, str]] = []
    for line in sorted(formulas):
        for j, f in sorted(formulas[line].items()):
            in_use = line >= first and line not in skipped_lines and (used is None or j in used)
            (bad if in_use else ignored).append((line, j, f))
    _refuse_formulas(path, bad)
    shown = ", ".join(f"{get_column_letter(j + 1)}{line} ({safe(f, 40)})" for line, j, f in ignored[:5])
    more = f" et {fr_int(len(ignored) - 5)} autres" if len(ignored) > 5 else ""
    return [
        {
            "line": ignored[0][0],
            "value": "; ".join(f for _, _, f in ignored[:5]),
            "retained": "formule(s) ignorée(s)",
            "message": f"{fr_plural(len(ignored), 'formule')} sans valeur calculée hors des cellules lues "
            f"(ligne de total, de titre ou colonne non lue), ignorée(s) : {shown}{more}",
        }
    ]


def _communes_sheet(path: Path) -> tuple[list[_Row], list[dict]]:
    """The rows of the first sheet that holds communes (a header we know, or codes), with a
    warning when it is not the first; an error listing the sheets when none does."""
    first = _read_rows_or_empty(path, None)
    if _holds_communes(first):
        return first, []
    names = _sheet_names(path)
    if not names:  # unreadable: _read_rows already said why, or the first sheet is all there is
        return _read_rows(path, sheet=None, lenient=True), []
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
    return _read_rows(path, sheet=None, lenient=True), []


def _sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook ([] when it cannot be read)."""
    if _kind(path) == "ods":
        return ods_sheet_names(path)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True)
        names = list(wb.sheetnames)
        wb.close()
    except Exception:  # unreadable: _read_rows says why
        return []
    return names


def _read_rows_or_empty(path: Path, sheet: str | None) -> list[_Row]:
    try:
        return _read_rows(path, sheet=sheet, lenient=True)
    except InputError as exc:
        if str(exc).endswith("fichier vide"):
            return []
        raise
