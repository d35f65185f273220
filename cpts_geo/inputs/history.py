"""The history table of a register: one row per CPTS, stage and date, read from a file or a
DataFrame and validated (the earlier stages of CPTS whose register row gives only the current
one)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cpts_geo._errors import InputError
from cpts_geo.inputs.cells import parse_stage_date
from cpts_geo.inputs.stages import STAGES

__all__ = ["history_from_frame", "read_history"]


# ---------------------------------------------------------------------------------------------
# The history table
# ---------------------------------------------------------------------------------------------
def history_from_frame(df: pd.DataFrame, known_ids, *, source: str = "", lines=None) -> pd.DataFrame:
    """Validate a history table: one row per CPTS, stage and date.

    Parameters
    ----------
    df
        Columns ``cpts_id``, ``statut`` (a stage, as in registers: ``aci``, ``Projet de santé``...)
        and ``date`` (ISO or jj/mm/aaaa).
    known_ids
        The CPTS ids of the register: a history row for another id is an error.
    source, lines
        The file and the line of each row, for the messages.

    Returns
    -------
    pandas.DataFrame
        ``cpts_id``, ``statut`` (canonical), ``date`` (:class:`datetime.date`), ``line``.

    Raises
    ------
    InputError
        Every unknown id, unknown or missing stage, unreadable or impossible date, at once.
    """
    from cpts_geo.inputs.cells import blank as _blank
    from cpts_geo.inputs.cells import cell_text as _text
    from cpts_geo.inputs.stages import parse_stage as _stage

    src = source or "historique"
    missing = [c for c in ("cpts_id", "statut", "date") if c not in df.columns]
    if missing:
        raise InputError(
            f"{src} : colonne(s) {', '.join(missing)} introuvable(s) ; un historique a une "
            "ligne par (CPTS, stade) avec cpts_id, statut, date"
        )
    n = len(df)
    lines = list(lines) if lines is not None else [None] * n
    known = {str(k) for k in known_ids}
    problems, rows = [], []

    def cell(col, i):
        v = df[col].iloc[i]
        return "" if _blank(v) else _text(v)

    for i in range(n):
        where = f"ligne {lines[i]}" if lines[i] is not None else f"ligne n°{i + 1} du tableau"
        cid, raw_stage, raw_date = cell("cpts_id", i), cell("statut", i), cell("date", i)
        row_problems = []
        if not cid:
            row_problems.append((cid, "identifiant de CPTS (cpts_id) manquant"))
        elif cid not in known:
            row_problems.append((cid, f"CPTS '{cid}' absente du registre ; vérifiez l'identifiant"))
        stage = _stage(raw_stage)
        if not stage:
            what = f"statut '{raw_stage}' inconnu" if raw_stage else "statut manquant"
            row_problems.append((raw_stage, f"{what} ; attendu {', '.join(STAGES)}"))
        date = None
        if not raw_date:
            row_problems.append((raw_date, "date manquante ; attendu AAAA-MM-JJ ou jj/mm/aaaa"))
        else:
            try:
                date = parse_stage_date(raw_date)
            except ValueError as exc:
                row_problems.append((raw_date, str(exc)))
        for value, message in row_problems:
            problems.append(
                {"file": src, "line": lines[i], "value": value, "message": f"{where} : {message}"}
            )
        if not row_problems:
            rows.append((cid, stage, date, lines[i]))
    if problems:
        raise InputError("\n".join(f"{src} : {p['message']}" for p in problems), problems)
    return pd.DataFrame(rows, columns=["cpts_id", "statut", "date", "line"])


def read_history(path, known_ids, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a history file (CSV/TXT/XLSX): one row per CPTS, stage and date.

    Columns are recognised as in registers (``cpts_id`` or ``identifiant``, ``statut`` or
    ``stade``, ``date``). See :func:`history_from_frame` for the checks and the result.

    Raises
    ------
    InputError
        Naming the file, the line and the value of every problem.
    """
    from cpts_geo.inputs._layout import _columns
    from cpts_geo.inputs._tables import _read_rows

    path = Path(path)
    rows = _read_rows(path, sheet=sheet)
    cols = _columns(rows[0].cells)
    if cols.get("cpts_id") is None or cols.get("stage") is None or cols.get("date") is None:
        raise InputError(
            f"{path} : ligne {rows[0].line} : en-tête attendu avec les colonnes cpts_id, "
            f"statut, date ; trouvé : {', '.join(repr(c) for c in rows[0].cells)}"
        )
    body = rows[1:]

    def get(r, key):
        j = cols[key]
        return r.cells[j] if j < len(r.cells) else ""

    df = pd.DataFrame(
        {
            "cpts_id": [get(r, "cpts_id") for r in body],
            "statut": [get(r, "stage") for r in body],
            "date": [get(r, "date") for r in body],
        },
        dtype=object,
    )
    return history_from_frame(df, known_ids, source=str(path), lines=[r.line for r in body])
