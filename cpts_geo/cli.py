"""The ``cpts-geo`` command line: parse options, call one API function, format, exit.

Exit codes: 0 every rule passed or only warned; 1 a rule failed (or warned, with ``--strict``);
2 the input could not be read or resolved.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path

import click

from . import __version__
from ._errors import CptsGeoError

EXIT_INPUT = 2


def _option(*args, **kwargs):
    """``click.option`` with French help extras."""
    kwargs.setdefault("cls", _FrenchOption)
    return click.option(*args, **kwargs)


#: Parameters of the library named in its messages, and the flags that set them.
_FLAGS = {
    "min_population": "--min-population",
    "sea_link_km": "--sea-link-km",
    "allow_cross_departement": "--allow-cross-departement",
    "goal": "--goal",
}


class InputFailure(click.ClickException):
    """An input could not be read or resolved: the message on stderr, exit code 2."""

    exit_code = EXIT_INPUT

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True, file=file)


def _with_flags(message: str) -> str:
    """A library message with the CLI flags of the parameters it names."""
    hints = [f"{name} : option {flag}" for name, flag in _FLAGS.items() if name in message]
    return message + (f" ({' ; '.join(hints)})" if hints else "")


def handle_errors(func):
    """Turn the project's errors (and file-system errors) into :class:`InputFailure` (exit 2)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CptsGeoError as exc:
            raise InputFailure(_with_flags(str(exc))) from None
        except OSError as exc:
            raise InputFailure(f"{exc.filename or ''} : {exc.strerror or exc}") from None

    return wrapper


class _FrenchFormatter(click.HelpFormatter):
    """Click's help layout with French headings (click's own strings are English)."""

    _HEADINGS = {"Options": "Options", "Commands": "Commandes", "Arguments": "Arguments"}

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix="Utilisation : " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(self._HEADINGS.get(heading, heading))


class _FrenchContext(click.Context):
    formatter_class = _FrenchFormatter


class _FrenchOption(click.Option):
    """An option whose help extras ("[default: ...]") read in French."""

    _WORDS = (
        ("default: ", "par défaut : "),
        ("env var: ", "variable d'environnement : "),
        ("required", "obligatoire"),
    )

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        name, text = record
        for en, fr in self._WORDS:
            text = text.replace(en, fr)
        return name, text


class _FrenchCommand(click.Command):
    context_class = _FrenchContext

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = "Afficher cette aide et quitter."
        return opt


class _FrenchGroup(click.Group):
    context_class = _FrenchContext
    command_class = _FrenchCommand

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = "Afficher cette aide et quitter."
        return opt


_FrenchGroup.group_class = _FrenchGroup


class _WarningHandler(logging.Handler):
    def emit(self, record):
        click.echo(f"Attention : {record.getMessage()}", err=True)


@click.group(cls=_FrenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cpts-geo", help="Afficher la version et quitter.")
@_option(
    "--reference",
    "reference_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="CPTS_GEO_REFERENCE",
    show_envvar=True,
    help="Dossier d'un référentiel construit par scripts/build_reference.py (par défaut : celui livré avec l'outil).",
)
@_option("-v", "--verbose", is_flag=True, help="Afficher ce que fait l'outil.")
@click.pass_context
def main(ctx: click.Context, reference_path: Path | None, verbose: bool) -> None:
    """Vérifier, cartographier et planifier les territoires des CPTS sur les communes de France.

    Les unités sont les communes du COG en vigueur (Paris, Lyon et Marseille : leurs
    arrondissements). Chaque chiffre indique son millésime.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    ctx.obj = {"reference_path": reference_path}


def load_ref(ctx: click.Context):
    from .reference import load_reference

    return load_reference(ctx.obj.get("reference_path"))


@main.group()
def reference() -> None:
    """Consulter le référentiel national (communes, EPCI, départements, régions)."""


@reference.command("info")
@_option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
@handle_errors
def reference_info(ctx: click.Context, fmt: str) -> None:
    """Millésimes, effectifs et population nationale du référentiel."""
    from .reference import reference_summary, reference_summary_text

    info = reference_summary(load_ref(ctx))
    if fmt == "json":
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    click.echo(reference_summary_text(info))


@main.command("fetch-map-assets")
@_option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier parent de leaflet-<version>/ (par défaut : $CPTS_GEO_MAP_ASSETS ou le cache de l'utilisateur).",
)
@_option("--force", is_flag=True, help="Télécharger de nouveau même si les fichiers sont présents.")
@handle_errors
def fetch_map_assets_cmd(dest: Path | None, force: bool) -> None:
    """Télécharger Leaflet depuis le registre npm (npm pack) pour les cartes et rapports --offline."""
    from .maps import fetch_map_assets

    click.echo(f"Leaflet : {fetch_map_assets(dest, force=force)}")


# --- check commands (check, check-register) ---


def _warn_inputs(source, warnings) -> None:
    for w in warnings or []:
        where = f"ligne {w['line']} : " if w.get("line") not in (None, "") else ""
        click.echo(f"Attention : {source} : {where}{w.get('message', '')}", err=True)


def _exit_status(status: str, strict: bool) -> None:
    if status == "fail" or (strict and status == "warn"):
        sys.exit(1)


def _format_for(fmt: str | None, output: Path | None) -> str:
    if fmt is not None:
        return fmt
    if output is not None and output.suffix.lower() in (".html", ".htm"):
        return "html"
    if output is not None and output.suffix.lower() == ".json":
        return "json"
    return "text"


def _emit(text: str, output: Path | None, inputs) -> None:
    if output is None:
        click.echo(text.rstrip("\n"))
        return
    from ._io import atomic_write_text

    atomic_write_text(output, text if text.endswith("\n") else text + "\n", inputs=inputs)
    click.echo(f"Écrit : {output}", err=True)


_min_population = _option(
    "--min-population",
    type=click.IntRange(min=0),
    default=20000,
    show_default=True,
    help="Population minimale (population municipale) d'un territoire ; 0 pour aucune.",
)
_sea_link = _option(
    "--sea-link-km",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Les îles à moins de cette distance (km) du reste du territoire y sont reliées par la mer (avertissement).",
)
_strict = _option("--strict", is_flag=True, help="Sortir avec le code 1 aussi sur un avertissement.")


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
    inputs = [proposal_path, existing_path]
    if output is not None:
        from ._io import check_output_path

        check_output_path(output, inputs)
    ref = load_ref(ctx)
    proposal = read_proposal(proposal_path, ref, sheet=sheet, departement=departement)
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
@_option("--sheet", help="Registre XLSX : la feuille à lire (par défaut : la première).")
@click.pass_context
@handle_errors
def check_register_cmd(ctx, register_path, min_population, sea_link_km, fmt, output, strict, sheet) -> None:
    """Vérifier chaque CPTS d'un registre, et le registre entier : communes dans deux CPTS,
    communes enclavées par l'ensemble des CPTS.
    """
    from .inputs import read_register
    from .rules import check_register

    fmt = _format_for(fmt, output)
    if fmt == "html":
        raise click.UsageError("check-register : formats disponibles text et json", ctx=ctx)
    if output is not None:
        from ._io import check_output_path

        check_output_path(output, [register_path])
    ref = load_ref(ctx)
    register = read_register(register_path, ref, sheet=sheet)
    _warn_inputs(register_path, register.warnings)
    report = check_register(ref, register, min_population=min_population, sea_link_km=sea_link_km)
    text = report.to_json() if fmt == "json" else report.to_text()
    _emit(text, output, [register_path])
    _exit_status(report.status, strict)


# --- coverage commands (coverage, coverage-map) ---


def _read_register_warned(path: Path, ref):
    from .inputs import read_register

    register = read_register(path, ref)
    _warn_inputs(path, register.warnings)
    return register


@main.command("coverage")
@click.argument("register_path", metavar="REGISTER", type=click.Path(dir_okay=False, path_type=Path))
@_option("--region", help="Code (ou nom) d'une région : ses chiffres et ceux de ses départements.")
@_option("--departement", help="Code (ou nom) d'un département (49, 2A, 971).")
@_option(
    "--by",
    type=click.Choice(["region", "departement"]),
    help="Lignes de détail (text, csv) : par région (par défaut au niveau national) ou par département.",
)
@_option("--goal", type=float, default=1000, show_default=True, help="Objectif national (nombre de CPTS).")
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
@click.pass_context
@handle_errors
def coverage_cmd(ctx, register_path, region, departement, by, goal, fmt, output, png_path) -> None:
    """Couverture d'un registre de CPTS : CPTS par stade, population couverte, zones blanches,
    chevauchements.

    Une CPTS à cheval sur plusieurs régions compte une fois au niveau national et une fois dans
    chaque région qu'elle touche.
    """
    from .coverage import coverage_summary

    if region is not None and departement is not None:
        raise click.UsageError("choisissez soit --region, soit --departement, pas les deux", ctx=ctx)
    ref = load_ref(ctx)
    register = _read_register_warned(register_path, ref)
    cov = coverage_summary(ref, register, region=region, departement=departement, goal=goal)
    text = {"json": lambda: cov.to_json(), "csv": lambda: cov.to_csv(by), "text": lambda: cov.to_text(by)}[
        fmt
    ]()
    if png_path is not None:
        from .maps import coverage_bar_chart, save_figure

        save_figure(coverage_bar_chart(cov, by=by), png_path, inputs=[register_path])
        click.echo(f"Figure : {png_path}", err=True)
    if output is not None:
        from ._io import atomic_write_text

        atomic_write_text(output, text if text.endswith("\n") else text + "\n", inputs=[register_path])
        click.echo(f"Écrit : {output}", err=True)
    else:
        click.echo(text.rstrip("\n"))


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
@_option("--goal", type=float, default=1000, show_default=True, help="Objectif national (nombre de CPTS).")
@_option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dessiner aussi une carte statique de la couverture (.png, .svg, .pdf).",
)
@click.pass_context
@handle_errors
def coverage_map_cmd(ctx, register_path, region, departement, output, offline, goal, png_path) -> None:
    """Carte HTML de la couverture d'un registre : CPTS par stade, zones blanches, chevauchements, départements."""
    from ._text import fr_int, fr_share
    from .coverage import coverage_summary
    from .maps import coverage_figure, coverage_map, save_figure, save_map

    if region is not None and departement is not None:
        raise click.UsageError("choisissez soit --region, soit --departement, pas les deux", ctx=ctx)
    if output is None and png_path is None:
        output = Path("carte.html")
    inputs = [register_path]
    for path in (output, png_path):
        if path is not None:
            from ._io import check_output_path

            check_output_path(path, inputs)
    ref = load_ref(ctx)
    register = _read_register_warned(register_path, ref)
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


# --- suggest command ---


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
    type=int,
    default=20000,
    show_default=True,
    help="Population minimale d'un territoire.",
)
@_option(
    "--sea-link-km",
    type=float,
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
    type=int,
    default=0,
    show_default=True,
    help="Graine des tirages aléatoires (résultat reproductible).",
)
@_option(
    "--effort",
    type=click.IntRange(1, 10),
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
    ref = load_ref(ctx)
    deps = resolve_area(ref, departement=departement, region=region)
    register = None
    if existing_path is not None:
        register = _read_register_warned(existing_path, ref)
    inputs = [existing_path]
    for path in (output, map_path):
        if path is not None:
            from ._io import check_output_path

            check_output_path(path, inputs)
    if output is not None and output.suffix.lower() not in (".csv", ".gpkg", ".geojson"):
        raise click.UsageError(
            f"{output} : format de sortie inconnu '{output.suffix}' ; utilisez .csv, .gpkg ou .geojson",
            ctx=ctx,
        )

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
        click.echo(result.to_text())
    if output is not None:
        click.echo(f"Écrit : {output}", err=True)
    if map_path is not None:
        click.echo(f"Carte : {map_path}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
