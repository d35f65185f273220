"""``cpts-geo check, check-register``: check a proposed territory, audit a register."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import (
    _check_outputs,
    _emit,
    _exit_status,
    _format_for,
    _inputs,
    _layer,
    _min_population,
    _option,
    _read_register_warned,
    _sea_link,
    _strict,
    _warn_inputs,
    handle_errors,
    load_ref,
    main,
)


@main.command("check")
@click.argument("proposal_path", metavar="PROPOSAL", type=click.Path(dir_okay=False, path_type=Path))
@_option(
    "--existing",
    "existing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registre des CPTS existantes (CSV/XLSX/GeoJSON/GPKG) pour vérifier les chevauchements.",
)
@_min_population
@_sea_link
@_option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    help="Format du rapport (par défaut : text, ou d'après l'extension de -o : .html, .json).",
)
@_option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire le rapport dans ce fichier plutôt qu'à l'écran.",
)
@_strict
@_layer
@_option("--sheet", help="Proposition XLSX : la feuille à lire (par défaut : la première).")
@_option("--departement", help="Département qui lève l'ambiguïté des noms de communes de la proposition.")
@_option("--name", "name", help="Nom du territoire dans le rapport (par défaut : d'après le fichier).")
@_option(
    "--cpts-id", help="Identifiant de cette CPTS dans le registre (elle n'est pas comparée à elle-même)."
)
@_option(
    "--offline",
    is_flag=True,
    help="Rapport HTML : carte avec Leaflet intégré, sans fond de carte (cpts-geo fetch-map-assets une fois).",
)
@click.pass_context
@handle_errors
def check_cmd(
    ctx,
    proposal_path,
    existing_path,
    min_population,
    sea_link_km,
    fmt,
    output,
    strict,
    layer,
    sheet,
    departement,
    name,
    cpts_id,
    offline,
) -> None:
    """Vérifier un territoire de CPTS proposé : population, continuité, enclaves, EPCI,
    départements et régions, chevauchement avec les CPTS existantes.

    PROPOSAL est une liste de communes CSV/TXT/XLSX (codes ou noms) ou un polygone GeoJSON/GPKG.
    Code de sortie 0 : toutes les règles sont passées ou en avertissement ; 1 : une règle a
    échoué (ou averti, avec --strict) ; 2 : l'entrée n'a pas pu être lue.
    """
    from .inputs import read_proposal
    from .rules import check_territory

    fmt = _format_for(fmt, output)
    inputs = _inputs(ctx, proposal_path, existing_path)
    _check_outputs(ctx, [output], inputs)
    ref = load_ref(ctx)
    proposal = read_proposal(proposal_path, ref, sheet=sheet, departement=departement, layer=layer)
    _warn_inputs(proposal_path, proposal.warnings)
    register = _read_register_warned(existing_path, ref) if existing_path is not None else None
    report = check_territory(
        ref,
        proposal,
        name=name,
        existing=register,
        min_population=min_population,
        sea_link_km=sea_link_km,
        cpts_id=cpts_id,
    )
    if fmt == "json":
        text = report.to_json()
    elif fmt == "html":
        from .report import report_html

        text = report_html(ref, report, existing=register, offline=offline)
    else:
        text = report.to_text()
    _emit(text, output, inputs)
    _exit_status(report.status, strict)


@main.command("check-register")
@click.argument("register_path", metavar="REGISTER", type=click.Path(dir_okay=False, path_type=Path))
@_min_population
@_sea_link
@_option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    help="Format du rapport (par défaut : text, ou json pour un -o en .json).",
)
@_option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire le rapport dans ce fichier plutôt qu'à l'écran.",
)
@_strict
@_layer
@_option("--sheet", help="Registre XLSX : la feuille à lire (par défaut : la première).")
@click.pass_context
@handle_errors
def check_register_cmd(
    ctx, register_path, min_population, sea_link_km, fmt, output, strict, layer, sheet
) -> None:
    """Vérifier chaque CPTS d'un registre, et le registre entier : communes dans deux CPTS,
    communes enclavées par l'ensemble des CPTS.
    """
    from .inputs import read_register
    from .rules import check_register

    fmt = _format_for(fmt, output)
    if fmt == "html":
        raise click.UsageError("check-register : formats disponibles text et json", ctx=ctx)
    inputs = _inputs(ctx, register_path)
    _check_outputs(ctx, [output], inputs)
    ref = load_ref(ctx)
    register = read_register(register_path, ref, sheet=sheet, layer=layer)
    _warn_inputs(register_path, register.warnings)
    report = check_register(ref, register, min_population=min_population, sea_link_km=sea_link_km)
    text = report.to_json() if fmt == "json" else report.to_text()
    _emit(text, output, inputs)
    _exit_status(report.status, strict)
