"""``cpts-geo atelier``: the builder page of an area (a territory built by clicking communes,
the rules checked live in the page)."""

from __future__ import annotations

from pathlib import Path

import click

from cpts_geo.cli.options import (
    FrenchCommand,
    check_one_area,
    check_output_paths,
    handle_errors,
    input_paths,
    layer_option,
    load_ref,
    min_population_option,
    option,
    read_register_warned,
    read_zone_layers,
    reading_kwargs,
    reading_options,
    sea_link_option,
    warn_inputs,
    zone_paths,
    zones_options,
)


@click.command("atelier", cls=FrenchCommand)
@option("--region", help="Code (ou nom) de la région de la page.")
@option(
    "--departement",
    multiple=True,
    help="Code (ou nom) d'un département de la page (répétable : 49, 2A, 971).",
)
@option(
    "--existing",
    "existing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registre des CPTS existantes (CSV/XLSX/GeoJSON/GPKG) : dessinées par stade, leurs communes "
    "verrouillées, et la règle de chevauchement.",
)
@option(
    "--proposition",
    "proposal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Proposition à présélectionner (les mêmes formats et noms que cpts-geo check).",
)
@option(
    "--cpts-id",
    help="Modifier le périmètre de cette CPTS du registre (présélectionnée, pas comparée à elle-même).",
)
@min_population_option
@sea_link_option
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("atelier.html"),
    show_default=True,
    help="Page HTML à écrire.",
)
@zones_options
@layer_option
@reading_options()
@click.pass_context
@handle_errors
def atelier_cmd(
    ctx,
    region,
    departement,
    existing_path,
    proposal_path,
    cpts_id,
    min_population,
    sea_link_km,
    output,
    layer,
) -> None:
    """Page autonome pour construire un territoire de CPTS en cliquant des communes, les six
    règles de cpts-geo check vérifiées en direct.

    La page tient en un fichier HTML (données et Leaflet intégrés, aucun accès réseau) : elle
    s'ouvre hors ligne et s'envoie par courriel. « Exporter CSV » y écrit une liste de communes
    que cpts-geo check lit. Avec --zones, chaque couche de zones est dessinée (hachurée par
    catégorie, affichable ou non) et le verdict donne les zones que touche le territoire, comme
    cpts-geo check --zones.
    """
    from cpts_geo._io import atomic_write_text
    from cpts_geo._text import fr_int
    from cpts_geo.inputs.read import read_proposal
    from cpts_geo.maps.atelier import atelier_page

    departement = list(departement) or None
    check_one_area(ctx, region, departement)
    if region is None and departement is None:
        raise click.UsageError("indiquez la zone de la page : --region ou --departement", ctx=ctx)
    inputs = input_paths(ctx, existing_path, proposal_path, *zone_paths())
    check_output_paths(ctx, [output], inputs)
    ref = load_ref(ctx)
    register = read_register_warned(existing_path, ref, layer) if existing_path is not None else None
    zones = read_zone_layers(ref)
    proposal = None
    if proposal_path is not None:
        proposal = read_proposal(proposal_path, ref, layer=layer, **reading_kwargs(register=False))
        warn_inputs(proposal_path, proposal.warnings)
    page = atelier_page(
        ref,
        region=region,
        departement=departement,
        existing=register,
        proposal=proposal,
        min_population=min_population,
        sea_link_km=sea_link_km,
        cpts_id=cpts_id,
        zones=zones,
    )
    atomic_write_text(output, page, inputs=inputs)
    click.echo(f"Page : {output} ({fr_int(len(page.encode('utf-8')) // 1024)} Ko)", err=True)
