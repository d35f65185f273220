"""Rewriting a register to the current COG, with a log of every change.

:func:`migrate_register` reads a register exactly as every command does
(:func:`cpts_geo.inputs.read_register`: old codes, former communes, names, postal codes, EPCI
rows resolved against the reference) and returns the register in the current format (one row
per CPTS and unit code, canonical stages, ``commune_partagee``) with the list of what changed
from the file: so ``check-register`` on the old file and on the migrated one see the same CPTS.

Examples
--------
>>> import pandas as pd
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> old = pd.DataFrame({"cpts_id": ["A", "A"], "cpts_nom": ["CPTS A", "CPTS A"],
...                     "code_insee": ["93059", "Aubervilliers"], "statut": ["ACI signé", ""]})
>>> m = migrate_register(old, ref)
>>> m.table["code_insee"].tolist(), m.log["motif"].iloc[0][:45]
(['93066', '93001'], 'ancien code 93059 : commune fusionnée dans Sa')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cpts_geo.inputs.cells import blank, cell_text
from cpts_geo.inputs.read import as_register
from cpts_geo.inputs.register import Register
from cpts_geo.reference.units import Reference

__all__ = ["LOG_COLUMNS", "Migration", "migrate_register"]

#: Columns of :attr:`Migration.log`.
LOG_COLUMNS = ("ligne", "cpts_id", "valeur", "code_insee", "nom", "motif")


@dataclass(frozen=True)
class Migration:
    """A register rewritten to the current COG.

    Attributes
    ----------
    register
        The register as read (what every command sees).
    table
        The rewritten file: ``cpts_id``, ``cpts_nom``, ``code_insee``, ``nom_commune``,
        ``statut``, ``date_statut``, ``commune_partagee`` (``oui`` or blank).
    log
        One row per change (:data:`LOG_COLUMNS`): the line, the CPTS, the value in the file,
        the unit code(s) and name(s) it became (blank for a skipped row) and why.
    """

    register: Register
    table: pd.DataFrame
    log: pd.DataFrame


def migrate_register(obj, ref: Reference, **reading) -> Migration:
    """Rewrite a register (a path, a DataFrame or a Register) to the reference's COG.

    ``reading`` is passed to :func:`cpts_geo.inputs.read_register` for a path (``sheet``,
    ``prefer``, ``skip_rows``, ``crs``, ``id_column``, ...).

    Raises
    ------
    InputError
        As :func:`cpts_geo.inputs.read_register`: the register cannot be read or resolved.
    """
    originals: dict = {}
    if isinstance(obj, str | Path):
        from cpts_geo.inputs.read import read_register, register_cells

        register = read_register(obj, ref, **reading)
        if Path(obj).suffix.lower() not in (".geojson", ".json", ".gpkg", ".shp", ".fgb"):
            originals = register_cells(
                obj, **{k: v for k, v in reading.items() if k in ("sheet", "skip_rows")}
            )
    elif isinstance(obj, pd.DataFrame):
        from cpts_geo.inputs.register import register_from_frame

        # Rows numbered from 1, so that the log and the warnings name the same rows.
        lines = list(range(1, len(obj) + 1))
        register = register_from_frame(obj, ref, lines=lines)
        stages = obj["statut"].tolist() if "statut" in obj.columns else [""] * len(obj)
        values = obj["code_insee"].tolist() if "code_insee" in obj.columns else [""] * len(obj)
        originals = {
            line: ("" if blank(v) else cell_text(v), "" if blank(s) else cell_text(s))
            for line, v, s in zip(lines, values, stages)
        }
    else:
        register = as_register(ref, obj)
    return Migration(register, _rewritten(register), _log(register, originals))


def _rewritten(register: Register) -> pd.DataFrame:
    t = register.table
    names = register.ref.units["nom"]
    return pd.DataFrame(
        {
            "cpts_id": t["cpts_id"].astype(str),
            "cpts_nom": t["cpts_nom"].astype(str),
            "code_insee": t["code_insee"].astype(str),
            "nom_commune": names.reindex(t["code_insee"]).fillna("").to_numpy(),
            "statut": t["statut"].fillna("").astype(str),
            "date_statut": t["date_statut"].fillna("").astype(str),
            "commune_partagee": ["oui" if x else "" for x in t["commune_partagee"].astype(bool)],
        }
    )


def _log(register: Register, originals: dict) -> pd.DataFrame:
    """Every row of the file that the reading changed: its warnings, the values that were not
    already the unit's code (a name, a code without its leading zero...) and the stages written
    another way; rows skipped (titles, totals, duplicates) with why."""
    t = register.table
    names = register.ref.units["nom"]
    by_line: dict = {}
    for k, (line, cid, code, stage) in enumerate(
        zip(
            t["line"].tolist(), t["cpts_id"].astype(str), t["code_insee"].astype(str), t["statut"].astype(str)
        )
    ):
        key = line if line is not None else ("row", k)
        entry = by_line.setdefault(key, {"cpts_id": cid, "codes": [], "stage": stage})
        entry["codes"].append(code)
    messages: dict = {}
    for w in register.warnings:
        messages.setdefault(w.get("line"), []).append(w)
    rows = []
    for key, entry in by_line.items():
        value, stage_raw = originals.get(key, ("", ""))
        why = [w["message"] for w in messages.pop(key, [])]
        if not why and value and [value] != entry["codes"]:
            why.append(f"« {value} » réécrit en code INSEE")
        if stage_raw and stage_raw != entry["stage"]:
            why.append(f"statut « {stage_raw} » réécrit {entry['stage']}")
        if why:
            rows.append(
                {
                    "ligne": key if isinstance(key, int) else None,
                    "cpts_id": entry["cpts_id"],
                    "valeur": value,
                    "code_insee": ", ".join(entry["codes"]),
                    "nom": ", ".join(str(names.get(c, "")) for c in entry["codes"]),
                    "motif": " ; ".join(why),
                }
            )
    for line, ws in messages.items():  # rows that gave no unit: skipped, or duplicates
        value = (
            originals.get(line, (ws[0].get("value", ""), ""))[0]
            if line is not None
            else ws[0].get("value", "")
        )
        rows.append(
            {
                "ligne": line,
                "cpts_id": "",
                "valeur": value,
                "code_insee": "",
                "nom": "",
                "motif": " ; ".join(w["message"] for w in ws) + " ; ligne non reprise",
            }
        )
    rows.sort(key=lambda r: (r["ligne"] is None, r["ligne"] or 0))
    return pd.DataFrame(rows, columns=list(LOG_COLUMNS))
