"""Cells of the tables users send (CSV, XLSX, DataFrames): blank tests, text, folded keys."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = [
    "CPTS_FIRST_YEAR",
    "blank",
    "cell_text",
    "clean_text",
    "fold",
    "parse_date",
    "parse_stage_date",
    "short_error",
]


def blank(v) -> bool:
    """``None``, NaN, NA/NaT or a string of spaces."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(float(v))
    return isinstance(v, str) and not v.strip()


#: Characters pasted from PDFs and word processors that mean plain ones: Unicode spaces
#: (no-break, narrow, thin, ideographic) and fullwidth digits (« ４９００７ »).
_PLAIN = {
    **dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2009\u200a\u3000"), " "),
    **{0xFF10 + i: str(i) for i in range(10)},
}


def clean_text(text: str) -> str:
    """Text of a cell as it is compared: Unicode spaces made spaces, fullwidth digits made
    digits, composed (NFC: an « é » typed as « e » and an accent is the « é » of the next row),
    stripped.

    >>> clean_text("\uff14\uff19\uff10\uff10\uff17"), clean_text("Ste\u0301phane\u00a0B")
    ('49007', 'Stéphane B')
    """
    return unicodedata.normalize("NFC", text.translate(_PLAIN)).strip()


def cell_text(v) -> str:
    """A cell as text: integers without '.0', dates as ISO dates, strings stripped."""
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        return str(int(f)) if f.is_integer() else str(f)
    if isinstance(v, dt.datetime | pd.Timestamp):
        return v.date().isoformat() if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return clean_text(str(v))


#: Names (of a territory, of a CPTS) longer than this are cut, with a warning: a name of
#: 100,000 characters made the HTML report take two minutes and 8.7 MB.
MAX_NAME = 200


def bounded_name(name: str, line=None) -> tuple[str, dict | None]:
    """``name`` cut to :data:`MAX_NAME` characters, and the warning that says so (``None`` when
    it is short enough).

    >>> bounded_name("CPTS du Saumurois")
    ('CPTS du Saumurois', None)
    >>> len(bounded_name("x" * 1000)[0]), bounded_name("x" * 1000, 3)[1]["message"]
    (200, 'nom de 1\u00a0000 caractères coupé aux 200 premiers')
    """
    if len(name) <= MAX_NAME:
        return name, None
    from cpts_geo._text import fr_int

    message = f"nom de {fr_int(len(name))} caractères coupé aux {MAX_NAME} premiers"
    return name[:MAX_NAME], {"line": line, "value": name[:60] + "…", "message": message}


def fold(value) -> str:
    """A column name or a label folded for matching (see :func:`cpts_geo.reference.normalize_name`)."""
    from cpts_geo.reference.names import normalize_name

    return normalize_name(str(value)).replace("_", " ")


def short_error(exc: BaseException) -> str:
    """The first line of an exception's message (200 characters at most), or its type."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def parse_date(value: str) -> dt.date:
    """A date written ``AAAA-MM-JJ`` (time ignored) or ``jj/mm/aaaa``.

    Raises
    ------
    ValueError
        With a French reason: a format not recognised, or a day that does not exist.
    """
    text = str(value).strip()
    m = _ISO.fullmatch(text)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _FR.fullmatch(text)
        if not m:
            raise ValueError(f"date '{text}' illisible ; attendu AAAA-MM-JJ ou jj/mm/aaaa")
        d, mo, y = (int(g) for g in m.groups())
    try:
        return dt.date(y, mo, d)
    except ValueError:
        raise ValueError(f"date '{text}' impossible (ce jour n'existe pas)") from None


#: CPTS exist since the law of 26 January 2016: a stage dated earlier is a typo (0202-01-01).
CPTS_FIRST_YEAR = 2016


def parse_stage_date(value: str) -> dt.date:
    """:func:`parse_date` of the date of a CPTS's stage, which lies between 2016 (the law that
    created CPTS) and the end of next year.

    Raises
    ------
    ValueError
        With a French reason: not a date, or a date out of that period (a typo).

    >>> parse_stage_date("15/03/2024")
    datetime.date(2024, 3, 15)
    >>> parse_stage_date("0202-01-01")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: date '0202-01-01' hors de la période des CPTS (2016 à ...) : faute de frappe ?
    """
    d = parse_date(value)
    last = dt.date.today().year + 1
    if not CPTS_FIRST_YEAR <= d.year <= last:
        raise ValueError(
            f"date '{str(value).strip()}' hors de la période des CPTS ({CPTS_FIRST_YEAR} à {last}) : faute de frappe ?"
        )
    return d


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?")


_FR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
