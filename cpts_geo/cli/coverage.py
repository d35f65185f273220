"""``cpts-geo coverage, coverage-map``: coverage tables and maps of a register."""

from __future__ import annotations

from pathlib import Path

import click

from cpts_geo._progress import step
from cpts_geo._text import fr_int
from cpts_geo.cli.options import (
    Bounded,
    FrenchCommand,
    argument,
    check_one_area,
    check_output_paths,
    handle_errors,
    input_paths,
    layer_option,
    load_ref,
    log,
    offline_option,
    online_option,
    option,
    param_texts,
    read_register_warned,
    read_zone_layers,
    reading_options,
    run_provenance,
    zone_paths,
    zones_options,
)

_STAGE_CHOICE = click.Choice(["pre-projet", "lettre-intention", "projet-sante", "aci"])
_min_stage = option(
    "--min-stage",
    type=_STAGE_CHOICE,
    help="Ne compter que les CPTS à ce stade ou plus avancé (tous les chiffres portent alors sur elles).",
)


_TITLE_MAX = 200


def _title(ctx, param, value):
    """The title on one line, refused when longer than a title can be drawn."""
    title = " ".join((value or "").split())
    if len(title) > _TITLE_MAX:
        raise click.BadParameter(
            f"{len(title)} caractères : un titre en compte au plus {_TITLE_MAX}", ctx=ctx, param=param
        )
    return title or None


_title_option = option(
    "--title",
    callback=_title,
    help="Titre de la figure (--png) à la place du titre par défaut, par exemple pour un comité.",
)

_gpkg_option = option(
    "--gpkg",
    "gpkg_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire aussi un GeoPackage que QGIS ouvre avec les couleurs des cartes : CPTS par stade, "
    "zones blanches, chevauchements, communes partagées déclarées, départements (.gpkg).",
)


def _write_gpkg(ref, cov, path: Path, inputs) -> None:
    from cpts_geo.outputs.geopackages import write_coverage_gpkg

    with step("GeoPackage"):
        write_coverage_gpkg(ref, cov, path, inputs=inputs)
    click.echo(f"GeoPackage : {path}", err=True)


@click.command("coverage", cls=FrenchCommand)
@argument("register_path", metavar="REGISTRE", type=click.Path(dir_okay=False, path_type=Path))
@option("--region", help="Code (ou nom) d'une région : ses chiffres et ceux de ses départements.")
@option("--departement", help="Code (ou nom) d'un département (49, 2A, 971).")
@option(
    "--by",
    type=click.Choice(["region", "departement"]),
    help="Lignes de détail (text, csv) : par région (par défaut au niveau national) ou par département.",
)
@option(
    "--goal",
    type=Bounded("goal"),
    default=1000,
    show_default=True,
    help="Objectif national (nombre de CPTS).",
)
@option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True)
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire dans ce fichier plutôt qu'à l'écran ; .xlsx : classeur Excel (national, régions, départements).",
)
@option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dessiner aussi un graphique des CPTS et de la couverture par région ou département (.png, .svg).",
)
@_title_option
@_min_stage
@option(
    "--funding",
    is_flag=True,
    help="Ajouter l'estimation du financement ACI (enveloppe annuelle maximale par taille de CPTS).",
)
@option(
    "--funding-table",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Barème de financement à utiliser (même format que data/financement_aci.csv).",
)
@option(
    "--funding-stages",
    type=click.Choice(["aci", "all"]),
    default="aci",
    show_default=True,
    help="CPTS estimées : sous contrat ACI seulement, ou à tout stade (projection).",
)
@_gpkg_option
@reading_options()
@zones_options
@layer_option
@click.pass_context
@handle_errors
def coverage_cmd(
    ctx,
    register_path,
    region,
    departement,
    by,
    goal,
    fmt,
    output,
    png_path,
    title,
    min_stage,
    funding,
    funding_table,
    funding_stages,
    gpkg_path,
    layer,
) -> None:
    """Couverture d'un registre de CPTS : CPTS par stade, population couverte, zones blanches,
    chevauchements.

    Une CPTS à cheval sur plusieurs régions compte une fois au niveau national et une fois dans
    chaque région qu'elle touche.
    """
    from cpts_geo.inputs.stages import STAGES
    from cpts_geo.steering.coverage import coverage_summary, with_funding

    check_one_area(ctx, region, departement)
    if not funding and (funding_table is not None or funding_stages != "aci"):
        raise click.UsageError("--funding-table et --funding-stages vont avec --funding", ctx=ctx)
    xlsx = output is not None and output.suffix.lower() == ".xlsx"
    if xlsx and fmt != "text":
        raise click.UsageError(f"--format {fmt} : sans objet pour une sortie .xlsx (-o {output})", ctx=ctx)
    inputs = input_paths(ctx, register_path, funding_table, *zone_paths())
    check_output_paths(ctx, [output, png_path, gpkg_path], inputs)
    ref = load_ref(ctx)
    zones = read_zone_layers(ref)
    register = read_register_warned(register_path, ref, layer)
    cov = coverage_summary(
        ref, register, region=region, departement=departement, goal=goal, min_stage=min_stage, zones=zones
    )
    if funding:
        stages = STAGES if funding_stages == "all" else ("aci",)
        cov = with_funding(cov, funding_table, stages=stages)
    log.info(
        "Couverture calculée : %s, %s CPTS, %s habitants couverts",
        cov.national["nom"] if cov.scope["level"] == "national" else cov.scope["nom"],
        fr_int(cov.national["cpts"]),
        fr_int(cov.national["population_covered"]),
    )
    if gpkg_path is not None:
        _write_gpkg(ref, cov, gpkg_path, inputs)
    if png_path is not None:
        from cpts_geo.outputs.figures import coverage_bar_chart, save_figure

        save_figure(coverage_bar_chart(cov, by=by, title=title), png_path, inputs=inputs)
        click.echo(f"Figure : {png_path}", err=True)
    if xlsx:
        from cpts_geo.outputs.spreadsheets import coverage_workbook, source_rows
        from cpts_geo.outputs.xlsx import write_workbook

        params = [
            ("Région", region, None),
            ("Département", departement, None, "aucun"),
            ("Objectif national (CPTS)", goal, 1000),
            ("Stade minimal", min_stage, None, "aucun"),
        ]
        source = source_rows(ref.vintage, files=[p for p in inputs if p is not None], parameters=params)
        write_workbook(output, coverage_workbook(cov), source=source, inputs=inputs)
        click.echo(cov.to_text(by).rstrip("\n"))
        click.echo(f"Écrit : {output}", err=True)
        return
    text = {"json": lambda: cov.to_json(), "csv": lambda: cov.to_csv(by), "text": lambda: cov.to_text(by)}[
        fmt
    ]()
    if output is not None:
        from cpts_geo._io import atomic_write_text

        atomic_write_text(output, text if text.endswith("\n") else text + "\n", inputs=inputs)
        click.echo(f"Écrit : {output}", err=True)
    else:
        from cpts_geo._text import for_terminal

        click.echo(for_terminal(text.rstrip("\n")))


@click.command("coverage-map", cls=FrenchCommand)
@argument("register_path", metavar="REGISTRE", type=click.Path(dir_okay=False, path_type=Path))
@option("--region", help="Code (ou nom) de la région à dessiner.")
@option("--departement", help="Code (ou nom) du département à dessiner.")
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Carte HTML à écrire (par défaut : carte.html, sauf si seul --png est donné).",
)
@online_option
@offline_option
@option(
    "--goal",
    type=Bounded("goal"),
    default=1000,
    show_default=True,
    help="Objectif national (nombre de CPTS).",
)
@option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dessiner aussi une carte statique de la couverture (.png, .svg, .pdf ; en France entière, "
    "Paris et la petite couronne et les DROM en encarts), légende et chiffres à côté de la carte.",
)
@option(
    "--labels",
    type=click.Choice(["nom", "id", "aucune", "auto"]),
    default="auto",
    show_default=True,
    help="Étiquettes des CPTS sur la carte statique : nom court (l'identifiant où le nom ne tient pas), "
    "identifiant (la liste des noms à côté), aucune ; auto : les noms pour une région ou un "
    "département, aucune en France entière. Elles ne se chevauchent jamais.",
)
@option(
    "--title",
    callback=_title,
    help="Titre de la carte (HTML et --png) à la place du titre par défaut, par exemple pour un comité.",
)
@_min_stage
@_gpkg_option
@reading_options()
@zones_options
@layer_option
@click.pass_context
@handle_errors
def coverage_map_cmd(
    ctx,
    register_path,
    region,
    departement,
    output,
    online,
    offline,
    goal,
    png_path,
    labels,
    title,
    min_stage,
    gpkg_path,
    layer,
) -> None:
    """Carte HTML de la couverture d'un registre : CPTS par stade, zones blanches, chevauchements, départements.

    La page est autonome (Leaflet intégré, aucun accès réseau) ; --online ajoute les fonds de carte.
    """
    from cpts_geo._text import fr_int, fr_share
    from cpts_geo.maps.base import save_map
    from cpts_geo.maps.coverage import coverage_map
    from cpts_geo.outputs.figures import coverage_figure, save_figure
    from cpts_geo.steering.coverage import coverage_summary

    check_one_area(ctx, region, departement)
    if output is None and png_path is None and gpkg_path is None:
        output = Path("carte.html")
    inputs = input_paths(ctx, register_path, *zone_paths())
    check_output_paths(ctx, [output, png_path, gpkg_path], inputs)
    ref = load_ref(ctx)
    zones = read_zone_layers(ref)
    register = read_register_warned(register_path, ref, layer)
    with step("Couverture"):
        cov = coverage_summary(
            ref,
            register,
            region=region,
            departement=departement,
            goal=goal,
            min_stage=min_stage,
            zones=zones,
        )
    if gpkg_path is not None:
        _write_gpkg(ref, cov, gpkg_path, inputs)
    if output is not None:
        prov = run_provenance(
            ctx,
            ref,
            files=[("Registre", register_path)] + [("Zones", p) for p in zone_paths()],
            parameters=param_texts(goal=goal),
            register=register,
        )
        with step("Carte HTML"):
            m = coverage_map(ref, cov, online=online, provenance=prov, title=title)
            save_map(m, output, inputs=inputs)
        a = cov.area
        click.echo(
            f"Carte : {output} — {fr_int(a['cpts'])} CPTS, population couverte "
            f"{fr_share(a['share_covered'])}",
            err=True,
        )
    if png_path is not None:
        with step("Carte statique"):
            fig = coverage_figure(ref, cov, title=title, labels=None if labels == "aucune" else labels)
            save_figure(fig, png_path, inputs=inputs)
        click.echo(f"Figure : {png_path}", err=True)
