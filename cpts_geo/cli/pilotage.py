"""``cpts-geo coverage-history, compare-registers``: steering the deployment over time."""

from __future__ import annotations

from pathlib import Path

import click

from cpts_geo.cli.options import (
    FrenchCommand,
    argument,
    check_one_area,
    emit,
    handle_errors,
    layer_option,
    load_ref,
    offline_option,
    online_option,
    option,
    read_register_warned,
)

_OUTPUT_FORMATS = {".json": "json", ".csv": "csv", ".xlsx": "xlsx", ".txt": "text"}


def _output_format(ctx, fmt: str | None, output: Path | None, allowed: tuple[str, ...]) -> str:
    """The format asked, else the one of the output's suffix, else text; XLSX only to a file."""
    guessed = _OUTPUT_FORMATS.get(output.suffix.lower(), "text") if output is not None else "text"
    fmt = fmt or guessed
    if fmt not in allowed:
        raise click.UsageError(
            f"format '{fmt}' non pris en charge ici ; attendu {', '.join(allowed)}", ctx=ctx
        )
    if output is not None and output.suffix.lower() == ".xlsx" and fmt != "xlsx":
        raise click.UsageError(
            f"-o {output} : un fichier .xlsx ne peut pas recevoir le format {fmt}", ctx=ctx
        )
    if fmt == "xlsx" and (output is None or output.suffix.lower() != ".xlsx"):
        raise click.UsageError("le format xlsx s'écrit dans un fichier : -o tableau.xlsx", ctx=ctx)
    return fmt


def _sheet(name: str, frame, title: str | None = None):
    """A sheet of ``frame`` (a DataFrame) with French headers as they are, numbers as numbers,
    codes as text."""
    import pandas as pd

    from cpts_geo.outputs.xlsx import Column, Sheet

    cols = []
    for c in frame.columns:
        dtype = frame[c].dtype
        if c.startswith("Part "):
            kind = "percent"
        elif c == "Mois":
            kind = "month"
        elif "date" in c.lower():
            kind = "date"
        elif c in ("Code", "Identifiant", "Département", "Région"):
            kind = "code"
        elif pd.api.types.is_integer_dtype(dtype):
            kind = "int"
        elif pd.api.types.is_float_dtype(dtype):
            kind = "decimal"
        else:
            kind = "text"
        cols.append(Column(c, c, kind))
    return Sheet(name, frame, cols, title=title)


def _source_rows(ref, inputs, parameters) -> list[tuple[str, str]]:
    from cpts_geo._version import __version__
    from cpts_geo.outputs.xlsx import file_rows, run_row

    v = ref.vintage
    return [
        ("Outil", f"cpts-geo {__version__}"),
        ("Millésimes", f"COG {v['cog']}, populations légales {v['population']} (population municipale)"),
        *file_rows(inputs),
        *parameters,
        run_row(),
    ]


# ---- coverage-history ---------------------------------------------------------------------------
@click.command("coverage-history", cls=FrenchCommand)
@argument("register_path", metavar="REGISTRE", type=click.Path(dir_okay=False, path_type=Path))
@option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Historique des stades : une ligne par CPTS et stade (cpts_id, statut, date).",
)
@option("--region", help="Code (ou nom) d'une région.")
@option("--departement", help="Code (ou nom) d'un département (49, 2A, 971).")
@option("--goal", type=float, default=1000, show_default=True, help="Objectif national (nombre de CPTS).")
@option(
    "--end",
    help="Dernier mois de la courbe (AAAA-MM ; par défaut le mois en cours).",
)
@option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv", "xlsx"]),
    help="Format (par défaut : celui de l'extension de -o, sinon text).",
)
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire dans ce fichier (.txt, .json, .csv, .xlsx) plutôt qu'à l'écran.",
)
@option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dessiner aussi la courbe du nombre de CPTS par stade, avec l'objectif (.png, .svg, .pdf).",
)
@layer_option
@click.pass_context
@handle_errors
def coverage_history_cmd(
    ctx, register_path, history_path, region, departement, goal, end, fmt, output, png_path, layer
) -> None:
    """Couverture dans le temps : nombre de CPTS et population couverte par stade, mois par mois.

    Les dates viennent de date_statut (date du stade actuel) et, avec --history, des stades
    antérieurs. Ce qui ne peut pas être su est dit : une CPTS sans date est hors courbe, une CPTS
    dont seul le stade actuel est daté n'est comptée qu'à partir de cette date.
    """
    from cpts_geo._io import check_outputs
    from cpts_geo.steering.history import register_history

    check_one_area(ctx, region, departement)
    fmt = _output_format(ctx, fmt, output, ("text", "json", "csv", "xlsx"))
    inputs = [register_path, history_path]
    check_outputs([output, png_path], inputs)
    ref = load_ref(ctx)
    register = read_register_warned(register_path, ref, layer)
    hist = register_history(
        ref, register, history=history_path, region=region, departement=departement, goal=goal, end=end
    )
    if png_path is not None:
        from cpts_geo.outputs.figures import history_figure, save_figure

        save_figure(history_figure(hist), png_path, inputs=inputs)
        click.echo(f"Figure : {png_path}", err=True)
    if fmt == "xlsx":
        import pandas as pd

        from cpts_geo.outputs.xlsx import parameter_row, write_workbook

        area = hist.area
        sheets = [_sheet("Couverture par mois", hist.to_frame(), f"Couverture CPTS par mois — {area['nom']}")]
        notes = pd.DataFrame({"Note": hist.notes})
        sheets.append(_sheet("Ce qui ne peut pas être su", notes))
        params = [
            ("Zone", f"{area['nom']} ({area['code']})"),
            parameter_row("Objectif national (CPTS)", goal, 1000),
            ("Objectif de la zone (CPTS)", str(hist.goal).replace(".", ",")),
        ]
        write_workbook(output, sheets, source=_source_rows(ref, inputs, params), inputs=inputs)
        click.echo(f"Écrit : {output}", err=True)
        return
    text = {
        "json": hist.to_json,
        "csv": lambda: hist.to_frame().to_csv(index=False, lineterminator="\n"),
        "text": hist.to_text,
    }[fmt]()
    emit(text, output, inputs)


# ---- compare-registers --------------------------------------------------------------------------
@click.command("compare-registers", cls=FrenchCommand)
@argument("old_path", metavar="ANCIEN", type=click.Path(dir_okay=False, path_type=Path))
@argument("new_path", metavar="NOUVEAU", type=click.Path(dir_okay=False, path_type=Path))
@option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "xlsx"]),
    help="Format (par défaut : celui de l'extension de -o, sinon text).",
)
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire dans ce fichier (.txt, .json, .xlsx) plutôt qu'à l'écran.",
)
@option(
    "--map",
    "map_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Carte HTML des changements (communes entrées et sorties, zones blanches, chevauchements).",
)
@option(
    "--match",
    "match",
    type=click.Choice(["auto", "id"]),
    default="auto",
    show_default=True,
    help="Rapprochement des CPTS : auto = par identifiant quand il figure dans les deux registres "
    "(et que ses CPTS ont des communes en commun), les autres par leur territoire ; id = par "
    "identifiant seulement.",
)
@option("--old-layer", help="Ancien registre GeoPackage de plusieurs couches : la couche à lire.")
@option("--new-layer", help="Nouveau registre GeoPackage de plusieurs couches : la couche à lire.")
@online_option
@offline_option
@click.pass_context
@handle_errors
def compare_registers_cmd(
    ctx, old_path, new_path, fmt, output, map_path, match, old_layer, new_layer, online, offline
) -> None:
    """Ce qui a changé entre deux versions d'un registre, ou ce qui diffère entre deux registres
    d'un même territoire : CPTS ajoutées, supprimées, renommées, changements de stade et de
    périmètre, communes affectées à une autre CPTS, effet sur la couverture.

    Les CPTS sont rapprochées par leur identifiant (cpts_id) quand il figure dans les deux registres,
    les autres par leur territoire : chacune avec la CPTS de l'autre registre avec laquelle elle
    partage le plus d'habitants (si c'est réciproque et qu'elles partagent au moins la moitié de la
    population de l'une d'elles), avec la part en commun ; les noms différents d'une même CPTS sont
    des alias. Une CPTS sans correspondante est ajoutée ou supprimée. --match id : par identifiant
    seulement.
    """
    from cpts_geo._io import check_outputs
    from cpts_geo.steering.changes import register_changes

    fmt = _output_format(ctx, fmt, output, ("text", "json", "xlsx"))
    inputs = [old_path, new_path]
    check_outputs([output, map_path], inputs)
    ref = load_ref(ctx)
    old = read_register_warned(old_path, ref, old_layer, layer_option="--old-layer")
    new = read_register_warned(new_path, ref, new_layer, layer_option="--new-layer")
    changes = register_changes(ref, old, new, match=match)
    if map_path is not None:
        from cpts_geo.maps.base import save_map
        from cpts_geo.maps.plan_maps import changes_map

        save_map(changes_map(ref, old, new, changes=changes, online=online), map_path, inputs=inputs)
        click.echo(f"Carte : {map_path}", err=True)
    if fmt == "xlsx":
        import pandas as pd

        from cpts_geo.outputs.xlsx import write_workbook

        sheets = [_sheet(name, frame) for name, frame in changes.to_frames().items()]
        sheets.append(_sheet("Notes", pd.DataFrame({"Note": changes.notes})))
        params = [("Ancien registre", str(old_path)), ("Nouveau registre", str(new_path))]
        write_workbook(output, sheets, source=_source_rows(ref, inputs, params), inputs=inputs)
        click.echo(f"Écrit : {output}", err=True)
        return
    emit(changes.to_json() if fmt == "json" else changes.to_text(), output, inputs)
