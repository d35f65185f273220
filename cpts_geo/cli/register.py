"""``cpts-geo register migrate``: rewrite a register to the current COG, with a log of changes."""

from __future__ import annotations

from pathlib import Path

import click

from cpts_geo._text import fr_int, fr_plural
from cpts_geo.cli.options import (
    FrenchGroup,
    argument,
    handle_errors,
    load_ref,
    option,
    reading_kwargs,
    reading_options,
    warn_inputs,
)


@click.group("register", cls=FrenchGroup)
def register_group() -> None:
    """Tenir un registre de CPTS à jour (codes et communes du COG en vigueur)."""


@register_group.command("migrate")
@argument("register_path", metavar="ANCIEN", type=click.Path(dir_okay=False, path_type=Path))
@option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registre réécrit (.csv ou .xlsx) : une ligne par CPTS et commune du COG en vigueur.",
)
@option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Journal de chaque changement (.csv ou .xlsx) : ligne, valeur d'origine, code(s) retenu(s), motif.",
)
@option(
    "--sheet", help="Registre XLSX : la feuille à lire (par défaut : la première qui contient des communes)."
)
@reading_options()
@click.pass_context
@handle_errors
def migrate_cmd(ctx, register_path, output, log_path, sheet) -> None:
    """Réécrire un registre au COG en vigueur : anciens codes, anciens noms, communes fusionnées,
    lignes d'EPCI remplacées par leurs communes ; ce que check-register applique à la lecture.
    """
    from cpts_geo._io import check_outputs
    from cpts_geo.outputs.migration import write_migration
    from cpts_geo.steering.migrate import migrate_register

    inputs = [register_path]
    check_outputs([output, log_path], inputs)
    ref = load_ref(ctx)
    options = reading_kwargs(register=True)
    if sheet is not None:
        options["sheet"] = sheet
    m = migrate_register(register_path, ref, **options)
    warn_inputs(register_path, m.register.warnings)
    write_migration(m, output, log=log_path, inputs=inputs)
    click.echo(
        f"Registre réécrit : {output} — {fr_int(len(m.register))} CPTS, {fr_plural(len(m.table), 'ligne')} ; "
        + (fr_plural(len(m.log), "changement") if len(m.log) else "aucun changement")
        + (f", journal : {log_path}" if log_path else ""),
        err=True,
    )
