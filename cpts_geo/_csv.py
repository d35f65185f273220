"""Cells a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``...), neutralised in the CSV and XLSX
files written for people (formula injection)."""

from __future__ import annotations

import pandas as pd

__all__ = ["neutralize_csv_cell", "neutralize_frame"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP), and their
#: full-width forms, which some Excel input methods also turn into formulas.
_FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


# ---- neutralising text ------------------------------------------------------------------------
def _is_risky(text: str) -> bool:
    stripped = text.lstrip(" ")
    return bool(stripped) and stripped[0] in _FORMULA_START


def neutralize_csv_cell(value):
    """``value`` made safe for a CSV cell: a string a spreadsheet would evaluate gets a ``'`` first.

    Other values (numbers, dates, missing values) are returned unchanged.

    Examples
    --------
    >>> neutralize_csv_cell("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> neutralize_csv_cell("Angers"), neutralize_csv_cell(-3)
    ('Angers', -3)
    """
    if isinstance(value, str) and _is_risky(value):
        return "'" + value
    return value


def neutralize_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names are neutralised for CSV output.

    Numeric, boolean and date columns are left as they are (a negative number is not a formula).
    """
    out = df.copy()
    for col in out.columns:
        if _textual(out[col].dtype):
            out[col] = _neutralized(out[col])
    out.columns = [neutralize_csv_cell(c) for c in out.columns]
    if _textual(out.index.dtype):  # an index of CPTS ids is written by to_csv(index=True)
        out.index = pd.Index(_neutralized(out.index.to_series()), name=neutralize_csv_cell(out.index.name))
    return out


def _textual(dtype) -> bool:
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def _neutralized(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    return s.map(neutralize_csv_cell, na_action="ignore")
