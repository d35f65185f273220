"""``cpts-geo coverage, coverage-map``: coverage tables and maps of a register."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import (
    Bounded,
    _check_outputs,
    _inputs,
    _layer,
    _option,
    _read_register_warned,
    handle_errors,
    load_ref,
    main,
)


@main.command("coverage")
@click.argument("register_path", metavar="REGISTER", type=click.Path(dir_okay=False, path_type=Path))
@_option("--region", help="Code (ou nom) d'une région : ses chiffres et ceux de ses départements.")
@_option("--departement", help="Code (ou nom) d'un département (49, 2A, 971).")
@_option(
    "--by",
    type=click.Choice(["region", "departement"]),
    help="Lignes de détail (text, csv) : par région (par défaut au niveau national) ou par département.",
)
@_option(
    "--goal",
    type=Bounded("goal"),
    default=1000,
    show_default=True,
    help="Objectif national (nombre de CPTS).",
)
@_option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True)
@_option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire dans ce fichier plutôt qu'à l'écran.",
)
@_option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dessiner aussi un graphique des CPTS et de la couverture par région ou département (.png, .svg).",
)
@_layer
@click.pass_context
@handle_errors
def coverage_cmd(ctx, register_path, region, departement, by, goal, fmt, output, png_path, layer) -> None:
    """Couverture d'un registre de CPTS : CPTS par stade, population couverte, zones blanches,
    chevauchements.

    Une CPTS à cheval sur plusieurs régions compte une fois au niveau national et une fois dans
    chaque région qu'elle touche.
    """
    from .coverage import coverage_summary

    if region is not None and departement is not None:
        raise click.UsageError("choisissez soit --region, soit --departement, pas les deux", ctx=ctx)
    inputs = _inputs(ctx, register_path)
    _check_outputs(ctx, [output, png_path], inputs)
    ref = load_ref(ctx)
    register = _read_register_warned(register_path, ref, layer)
    cov = coverage_summary(ref, register, region=region, departement=departement, goal=goal)
    text = {"json": lambda: cov.to_json(), "csv": lambda: cov.to_csv(by), "text": lambda: cov.to_text(by)}[
        fmt
    ]()
    if png_path is not None:
        from .maps import coverage_bar_chart, save_figure

        save_figure(coverage_bar_chart(cov, by=by), png_path, inputs=inputs)
        click.echo(f"Figure : {png_path}", err=True)
    if output is not None:
        from ._io import atomic_write_text

        atomic_write_text(output, text if text.endswith("\n") else text + "\n", inputs=inputs)
        click.echo(f"Écrit : {output}", err=True)
    else:
        from ._text import for_terminal

        click.echo(for_terminal(text.rstrip("\n")))


@main.command("coverage-map")
@click.argument("register_path", metavar="REGISTER", type=click.Path(dir_okay=False, path_type=Path))
@_option("--region", help="Code (ou nom) de la région à dessiner.")
@_option("--departement", help="Code (ou nom) du département à dessiner.")
@_option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Carte HTML à écrire (par défaut : carte.html, sauf si seul --png est donné).",
)
@_option(
    "--offline",
    is_flag=True,
    help="Page autonome : Leaflet intégré (cpts-geo fetch-map-assets une fois), sans fond de carte.",
)
@_option(
    "--goal",
    type=Bounded("goal"),
    default=1000,
    show_default=True,
    help="Objectif national (nombre de CPTS).",
)
@_option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dessiner aussi une carte statique de la couverture (.png, .svg, .pdf).",
)
@_layer
@click.pass_context
@handle_errors
def coverage_map_cmd(ctx, register_path, region, departement, output, offline, goal, png_path, layer) -> None:
    """Carte HTML de la couverture d'un registre : CPTS par stade, zones blanches, chevauchements, départements."""
    from ._text import fr_int, fr_share
    from .coverage import coverage_summary
    from .maps import coverage_figure, coverage_map, save_figure, save_map

    if region is not None and departement is not None:
        raise click.UsageError("choisissez soit --region, soit --departement, pas les deux", ctx=ctx)
    if output is None and png_path is None:
        output = Path("carte.html")
    inputs = _inputs(ctx, register_path)
    _check_outputs(ctx, [output, png_path], inputs)
    ref = load_ref(ctx)
    register = _read_register_warned(register_path, ref, layer)
    cov = coverage_summary(ref, register, region=region, departement=departement, goal=goal)
    if output is not None:
        m = coverage_map(ref, cov, offline=offline)
        save_map(m, output, inputs=inputs)
        a = cov.area
        click.echo(
            f"Carte : {output} — {fr_int(a['cpts'])} CPTS, population couverte "
            f"{fr_share(a['share_covered'])}",
            err=True,
        )
    if png_path is not None:
        fig = coverage_figure(ref, cov)
        save_figure(fig, png_path, inputs=inputs)
        click.echo(f"Figure : {png_path}", err=True)
