"""``cpts-geo suggest``: candidate territories for the white zones."""

from __future__ import annotations

import json
import sys
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


@main.command("suggest")
@_option(
    "--existing",
    "existing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registre des CPTS existantes (CSV/XLSX/GeoJSON/GPKG) : ses communes sont laissées de côté.",
)
@_option("--departement", help="Code ou nom du département à découper (49, 2A, 971).")
@_option("--region", help="Code ou nom de la région à découper (52).")
@_option("--all", "all_france", is_flag=True, help="Découper tous les départements de France.")
@_option(
    "--min-population",
    type=Bounded("min_population"),
    default=20000,
    show_default=True,
    help="Population minimale d'un territoire.",
)
@_option(
    "--sea-link-km",
    type=Bounded("sea_link_km"),
    default=30.0,
    show_default=True,
    help="Les îles à moins de cette distance (km) sont reliées par la mer.",
)
@_option(
    "--allow-cross-departement",
    is_flag=True,
    help="Autoriser les territoires à cheval sur plusieurs départements.",
)
@_option(
    "--seed",
    type=Bounded("seed"),
    default=0,
    show_default=True,
    help="Graine des tirages aléatoires (résultat reproductible).",
)
@_option(
    "--effort",
    type=Bounded("effort"),
    default=1,
    show_default=True,
    help="Multiplicateur de l'effort de recherche : 2 ou 3 trouvent parfois un ou deux territoires de plus, 10 à 20 fois plus lentement.",
)
@_option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SORTIE.csv (une ligne par commune), SORTIE.gpkg ou SORTIE.geojson (un polygone par territoire).",
)
@_option(
    "--map",
    "map_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire une carte HTML des propositions et des CPTS existantes.",
)
@_option(
    "--offline",
    is_flag=True,
    help="--map : page autonome (Leaflet intégré, sans fond de carte ; cpts-geo fetch-map-assets une fois).",
)
@_option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_layer
@click.pass_context
@handle_errors
def suggest_cmd(
    ctx,
    existing_path,
    departement,
    region,
    all_france,
    min_population,
    sea_link_km,
    allow_cross_departement,
    seed,
    effort,
    output,
    map_path,
    offline,
    fmt,
    layer,
) -> None:
    """Découper les zones blanches (communes couvertes par aucune CPTS) en territoires candidats.

    Chaque territoire est d'un seul tenant (îles reliées par la mer), compte au moins
    --min-population habitants et reste dans un département ; leur nombre est maximisé. Les
    morceaux trop petits pour former un territoire sont proposés en extension d'une CPTS voisine.
    """
    from .maps import suggest_map
    from .suggest import resolve_area, suggest_territories, write_result

    chosen = [x for x in (departement is not None, region is not None, all_france) if x]
    if len(chosen) != 1:
        raise click.UsageError(
            "choisissez une zone : --departement CODE, --region CODE ou --all (une seule)", ctx=ctx
        )
    inputs = _inputs(ctx, existing_path)
    _check_outputs(ctx, [output, map_path], inputs)
    if output is not None and output.suffix.lower() not in (".csv", ".gpkg", ".geojson"):
        raise click.UsageError(
            f"{output} : format de sortie inconnu '{output.suffix}' ; utilisez .csv, .gpkg ou .geojson",
            ctx=ctx,
        )
    ref = load_ref(ctx)
    deps = resolve_area(ref, departement=departement, region=region)
    register = None
    if existing_path is not None:
        register = _read_register_warned(existing_path, ref, layer)

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Partition des zones blanches", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        result = suggest_territories(
            ref,
            existing=register,
            within=deps,
            min_population=min_population,
            sea_link_km=sea_link_km,
            allow_cross_departement=allow_cross_departement,
            seed=seed,
            effort=effort,
            geometry=output is not None and output.suffix.lower() in (".gpkg", ".geojson"),
            progress=progress if (region is not None or all_france) else None,
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if output is not None:
        write_result(ref, result, output, inputs=inputs)
    if map_path is not None:
        from .maps import save_map

        save_map(suggest_map(ref, result, existing=register, offline=offline), map_path, inputs=inputs)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        from ._text import for_terminal

        click.echo(for_terminal(result.to_text()))
    if output is not None:
        click.echo(f"Écrit : {output}", err=True)
    if map_path is not None:
        click.echo(f"Carte : {map_path}", err=True)
