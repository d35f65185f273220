"""``cpts-geo suggest``: candidate territories for the white zones."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cpts_geo._progress import counter, step
from cpts_geo.cli.options import (
    Bounded,
    FrenchCommand,
    check_output_paths,
    handle_errors,
    input_paths,
    layer_option,
    load_ref,
    offline_option,
    online_option,
    option,
    param_texts,
    read_register_warned,
    reading_options,
    run_provenance,
)


@click.command("suggest", cls=FrenchCommand)
@option(
    "--existing",
    "existing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registre des CPTS existantes (CSV/XLSX/GeoJSON/GPKG) : ses communes sont laissées de côté.",
)
@option("--departement", help="Code ou nom du département à découper (49, 2A, 971).")
@option("--region", help="Code ou nom de la région à découper (52).")
@option("--all", "all_france", is_flag=True, help="Découper tous les départements de France.")
@option(
    "--mode",
    type=click.Choice(["epci", "max-count"]),
    default="epci",
    show_default=True,
    help="epci : des EPCI entiers d'abord (seuls les EPCI au-dessus de --max-population sont découpés), "
    "territoires proches de --target-population ; max-count : le plus grand nombre de territoires "
    "d'au moins --min-population habitants.",
)
@option(
    "--min-population",
    type=Bounded("min_population"),
    default=20000,
    show_default=True,
    help="Population minimale d'un territoire.",
)
@option(
    "--max-population",
    type=int,
    default=175000,
    show_default=True,
    help="Mode epci : population maximale d'un territoire (borne de la taille 4 de l'ACI) ; seuls les EPCI plus peuplés sont découpés.",
)
@option(
    "--target-population",
    type=int,
    default=60000,
    show_default=True,
    help="Mode epci : population visée quand des EPCI sont regroupés ou découpés.",
)
@option(
    "--sea-link-km",
    type=Bounded("sea_link_km"),
    default=30.0,
    show_default=True,
    help="Les îles à moins de cette distance (km) sont reliées par la mer, les rives d'un estuaire, "
    "d'une rade ou d'une baie par l'eau.",
)
@option(
    "--allow-cross-departement",
    is_flag=True,
    help="Autoriser les territoires à cheval sur plusieurs départements.",
)
@option(
    "--seed",
    type=Bounded("seed"),
    default=0,
    show_default=True,
    help="Graine des tirages aléatoires (résultat reproductible).",
)
@option(
    "--effort",
    type=Bounded("effort"),
    default=1,
    show_default=True,
    help="Mode max-count (et sa comparaison en mode epci) : multiplicateur de l'effort de recherche ; 2 ou 3 trouvent parfois un ou deux territoires de plus, 10 à 20 fois plus lentement.",
)
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SORTIE.csv (une ligne par commune), SORTIE.xlsx (classeur Excel : territoires et leurs communes, "
    "extensions, non rattachables), SORTIE.gpkg (couches stylées pour QGIS) ou SORTIE.geojson "
    "(un polygone par territoire).",
)
@option(
    "--map",
    "map_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire une carte HTML des propositions et des CPTS existantes.",
)
@online_option
@offline_option
@option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@reading_options()
@layer_option
@click.pass_context
@handle_errors
def suggest_cmd(
    ctx,
    existing_path,
    departement,
    region,
    all_france,
    mode,
    min_population,
    max_population,
    target_population,
    sea_link_km,
    allow_cross_departement,
    seed,
    effort,
    output,
    map_path,
    online,
    offline,
    fmt,
    layer,
) -> None:
    """Découper les zones blanches (communes couvertes par aucune CPTS) en territoires candidats.

    Chaque territoire est d'un seul tenant (îles reliées par la mer), compte au moins
    --min-population habitants et reste dans un département. Mode epci (par défaut) : les EPCI
    entiers d'abord, regroupés s'ils sont trop petits, découpés seulement au-dessus de
    --max-population ; mode max-count : le plus grand nombre de territoires. Les morceaux trop
    petits pour former un territoire sont proposés en extension d'une CPTS voisine.
    """
    from cpts_geo.maps.plan_maps import suggest_map
    from cpts_geo.outputs.suggestions import write_result
    from cpts_geo.reference.areas import resolve_area
    from cpts_geo.suggest.territories import suggest_territories

    chosen = [x for x in (departement is not None, region is not None, all_france) if x]
    if len(chosen) != 1:
        raise click.UsageError(
            "choisissez une zone : --departement CODE, --region CODE ou --all (une seule)", ctx=ctx
        )
    for flag, value in (("--max-population", max_population), ("--target-population", target_population)):
        if value <= 0:
            raise click.UsageError(
                f"{flag} {value} : un nombre d'habitants strictement positif est attendu", ctx=ctx
            )
    # A minimum <= 0 is the library's error (the same message as from Python).
    if mode == "epci" and min_population > 0 and not min_population <= target_population <= max_population:
        raise click.UsageError(
            f"tailles incohérentes : il faut --min-population ({min_population}) ≤ --target-population "
            f"({target_population}) ≤ --max-population ({max_population})",
            ctx=ctx,
        )
    inputs = input_paths(ctx, existing_path)
    check_output_paths(ctx, [output, map_path], inputs)
    if output is not None and output.suffix.lower() not in (".csv", ".xlsx", ".gpkg", ".geojson"):
        raise click.UsageError(
            f"{output} : format de sortie inconnu '{output.suffix}' ; utilisez .csv, .xlsx, .gpkg ou .geojson",
            ctx=ctx,
        )
    ref = load_ref(ctx)
    deps = resolve_area(ref, departement=departement, region=region)
    register = None
    if existing_path is not None:
        register = read_register_warned(existing_path, ref, layer)

    with counter("Partition des zones blanches") as progress:
        result = suggest_territories(
            ref,
            existing=register,
            within=deps,
            mode=mode,
            min_population=min_population,
            max_population=max_population,
            target_population=target_population,
            sea_link_km=sea_link_km,
            allow_cross_departement=allow_cross_departement,
            seed=seed,
            effort=effort,
            geometry=output is not None and output.suffix.lower() in (".gpkg", ".geojson"),
            progress=progress,
        )
    if output is not None and output.suffix.lower() == ".xlsx":
        from cpts_geo.outputs.spreadsheets import source_rows, suggest_workbook
        from cpts_geo.outputs.xlsx import write_workbook

        params = [
            ("Zone", result.area, None),
            ("Population minimale", min_population, 20000),
            ("Distance des liaisons maritimes (km)", sea_link_km, 30.0),
            ("Territoires à cheval sur plusieurs départements", allow_cross_departement, False),
            ("Graine", seed, 0),
            ("Effort de recherche", effort, 1),
        ]
        source = source_rows(ref.vintage, files=inputs, parameters=params)
        with step("Classeur"):
            write_workbook(output, suggest_workbook(result), source=source, inputs=inputs)
    elif output is not None:
        with step("Écriture des propositions"):
            write_result(ref, result, output, inputs=inputs)
    if map_path is not None:
        from cpts_geo.maps.base import save_map

        prov = run_provenance(
            ctx,
            ref,
            files=[("Registre", existing_path)],
            parameters=param_texts(
                min_population=min_population,
                sea_link_km=sea_link_km,
                allow_cross_departement=allow_cross_departement,
                seed=seed,
                effort=effort,
            ),
            register=register,
        )
        with step("Carte des propositions"):
            m = suggest_map(ref, result, existing=register, online=online, provenance=prov)
            save_map(m, map_path, inputs=inputs)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        from cpts_geo._text import for_terminal

        click.echo(for_terminal(result.to_text()))
    if output is not None:
        click.echo(f"Écrit : {output}", err=True)
    if map_path is not None:
        click.echo(f"Carte : {map_path}", err=True)
