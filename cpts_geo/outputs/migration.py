"""Writing a migrated register and its log of changes."""

from __future__ import annotations

from pathlib import Path

from cpts_geo.steering.migrate import Migration


def write_migration(m: Migration, output, *, log=None, inputs=()) -> None:
    """Write the rewritten register (CSV, or XLSX) and its log (CSV or XLSX)."""
    from cpts_geo._csv import neutralize_frame
    from cpts_geo._io import atomic_write_text, check_outputs
    from cpts_geo.outputs.xlsx import Column, Sheet, write_workbook

    paths = [Path(p) for p in (output, log) if p is not None]
    check_outputs(paths, inputs)
    reg_cols = [Column(c, c, "code" if c == "code_insee" else "text") for c in m.table.columns]
    log_cols = [
        Column("ligne", "Ligne", "int"),
        Column("cpts_id", "CPTS", "text"),
        Column("valeur", "Valeur du fichier", "text"),
        Column("code_insee", "Code(s) INSEE", "text"),
        Column("nom", "Commune(s)", "text"),
        Column("motif", "Changement", "text"),
    ]
    for path, frame, cols, title in (
        (Path(output), m.table, reg_cols, "Registre"),
        (log and Path(log), m.log, log_cols, "Changements"),
    ):
        if path is None:
            continue
        if path.suffix.lower() == ".xlsx":
            write_workbook(path, [Sheet(title, frame, cols)], source=_source(m, inputs), inputs=list(inputs))
        else:
            text = neutralize_frame(frame).to_csv(index=False, lineterminator="\n")
            atomic_write_text(path, text, inputs=inputs)


def _source(m: Migration, inputs) -> list[tuple[str, str]]:
    from cpts_geo._version import __version__
    from cpts_geo.outputs.xlsx import file_rows, run_row

    v = m.register.ref.vintage
    return [
        ("Outil", f"cpts-geo {__version__} (register migrate)"),
        ("COG", str(v.get("cog", ""))),
        *file_rows(inputs),
        run_row(),
    ]
