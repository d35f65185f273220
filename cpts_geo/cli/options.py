"""What every command of the ``cpts-geo`` command line shares: French help and messages, exit
codes, the options read by several commands, error handling, reading inputs with warnings,
writing outputs. Imported by the command modules; never imports them nor the group."""

from __future__ import annotations

import functools
import gc
import itertools
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from cpts_geo._errors import CptsGeoError, os_error_text
from cpts_geo._progress import step

#: What the tool does, shown with -v/--verbose.
log = logging.getLogger("cpts_geo.cli")

EXIT_INPUT = 2
#: An error of the tool itself (a bug): never 1, which means "a rule failed".
EXIT_INTERNAL = 3
#: Interrupted (Ctrl-C) or terminated (SIGTERM): the shell's convention, 128 + signal number.
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def _on_sigterm(signum, frame) -> None:
    """SIGTERM as SystemExit, so that ``finally`` blocks run and :func:`_io.atomic_write`
    removes its temp file (the default action kills the process on the spot)."""
    _quiet_finalizers()
    raise SystemExit(EXIT_TERMINATED)


def _quiet_finalizers() -> None:
    """The process is stopping on the user's request: what a library's half-done work raises
    while Python finalizes it (openpyxl's row writer of a workbook being written, whose file was
    closed by the unwinding) is a consequence of the stop, not an error to show as a traceback."""
    sys.unraisablehook = lambda unraisable: None


#: Set by :func:`start_process`: the garbage collector waits for the reference.
_starting = False


def start_process() -> None:
    """Start a ``cpts-geo`` process of its own (:func:`cpts_geo.cli.main.run`; never under a
    test runner, which calls the group in its own process): the garbage collector is paused
    while the modules and the reference load, objects that all live until the process ends,
    then :func:`load_ref` freezes them out of its passes (``gc.freeze``) and resumes it. Each pass
    would otherwise walk them again, and the last one at exit: a tenth of a second of a cold
    ``check`` of a list, as much as everything the check computes."""
    global _starting
    _starting = True
    gc.disable()


def _end_start() -> None:
    """The startup is over (see :func:`start_process`): freeze what it made, resume the collector."""
    global _starting
    if _starting:
        _starting = False
        gc.freeze()
        gc.enable()


def install_sigterm() -> None:
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def option(*args, **kwargs):
    """``click.option`` with French help extras."""
    kwargs.setdefault("cls", FrenchOption)
    return click.option(*args, **kwargs)


#: Parameters of the library named in its messages, and the flags that set them.
_FLAGS = {
    "min_population": "--min-population",
    "sea_link_km": "--sea-link-km",
    "allow_cross_departement": "--allow-cross-departement",
    "goal": "--goal",
    "sheet": "--sheet",
    "by": "--by",
    "prefer": "--prefer",
    "skip_rows": "--skip-rows",
    "crs": "--crs",
    "layer": "--layer",
    "id_column": "--id-column",
    "name_column": "--name-column",
    "stage_column": "--stage-column",
    "cpts_id": "--cpts-id",
}
#: Where a parameter's name is also a column's (``cpts_id``), the message names the parameter
#: only with its value: « cpts_id 'X' inconnu », not « colonne(s) cpts_id introuvable(s) ».
_FLAG_PATTERNS = {"cpts_id": r"(?<![\w-])cpts_id '"}


class InputFailure(click.ClickException):
    """An input could not be read or resolved: the message on stderr, exit code 2."""

    exit_code = EXIT_INPUT

    def show(self, file=None) -> None:
        from cpts_geo._text import for_terminal

        click.echo(f"Erreur : {for_terminal(self.format_message())}", err=True, file=file)


def with_flags(message: str, **flags: str) -> str:
    """A library message with the CLI flags of the parameters it names (``flags``: other flags
    for some, ``layer="--existing-layer"``)."""
    import re

    hints = [
        f"{name} : option {flag}"
        for name, flag in {**_FLAGS, **flags}.items()
        if re.search(_FLAG_PATTERNS.get(name, rf"(?<![\w-]){re.escape(name)}(?![\w-])"), message)
    ]
    return message + (f" ({' ; '.join(hints)})" if hints else "")


def handle_errors(func):
    """Turn the project's errors (and file-system errors) into :class:`InputFailure` (exit 2)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CptsGeoError as exc:
            raise InputFailure(with_flags(str(exc))) from None
        except BrokenPipeError:
            _closed_pipe()
        except OSError as exc:
            raise InputFailure(os_error_text(exc)) from None

    return wrapper


#: Exit code of a program whose reader closed the pipe (128 + SIGPIPE, as the shell reports it).
EXIT_CLOSED_PIPE = 141


def _closed_pipe() -> None:
    """The reader of our standard output went away (``… | head -c 10``): stop quietly, as Unix
    tools do, with nothing more written (what is left in the buffer goes nowhere)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test runner's stream)
        pass
    sys.exit(EXIT_CLOSED_PIPE)


class FrenchUsageError(click.UsageError):
    """A usage error of click, or of ours, shown in French: the usage line, « Essayez
    « cpts-geo check --help » pour l'aide. », then « Erreur : » and the message (exit code 2)."""

    def show(self, file=None) -> None:
        from cpts_geo._text import for_terminal

        if self.ctx is not None:
            hint = ""
            if self.ctx.command.get_help_option(self.ctx) is not None:
                help_name = max(self.ctx.command.get_help_option_names(self.ctx), key=len)
                hint = f"Essayez « {self.ctx.command_path} {help_name} » pour l'aide.\n"
            click.echo(f"{self.ctx.get_usage()}\n{hint}", err=True, file=file, color=self.ctx.color)
        click.echo(f"Erreur : {for_terminal(self.format_message())}", err=True, file=file)


def in_french(exc: click.ClickException) -> click.ClickException:
    """One of click's exceptions as it is shown in French, exit code unchanged (ours, already
    French, and the group's help shown for no arguments are returned as they are)."""
    from cpts_geo.cli._french import french_message

    if isinstance(exc, (InputFailure, BadValue, FrenchUsageError, click.exceptions.NoArgsIsHelpError)):
        return exc
    if isinstance(exc, click.UsageError):
        return FrenchUsageError(french_message(exc), exc.ctx)
    return FrenchFailure(french_message(exc))


class FrenchFailure(click.ClickException):
    """Another error of click (a file it could not open): « Erreur : » and the message, exit
    code 1 as click's."""

    def show(self, file=None) -> None:
        from cpts_geo._text import for_terminal

        click.echo(f"Erreur : {for_terminal(self.format_message())}", err=True, file=file)


class _FrenchErrors:
    """Click's errors of parsing (:meth:`make_context`) and of running (:meth:`invoke`) raised
    in French, before click's ``main`` shows them in English."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            raise in_french(exc) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except click.ClickException as exc:
            raise in_french(exc) from None


class FrenchFormatter(click.HelpFormatter):
    """Click's help layout with French headings (click's own strings are English)."""

    _HEADINGS = {
        "Options": "Options",
        "Commands": "Commandes",
        "Arguments": "Arguments",
        "Positional arguments": "Arguments",
    }

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix="Utilisation : " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(self._HEADINGS.get(heading, heading))


class FrenchContext(click.Context):
    formatter_class = FrenchFormatter


class FrenchOption(click.Option):
    """An option whose help extras ("[default: ...]") read in French."""

    _WORDS = (
        ("default: ", "par défaut : "),
        ("env var: ", "variable d'environnement : "),
        ("required", "obligatoire"),
    )

    def make_metavar(self, ctx: click.Context) -> str:
        from cpts_geo.cli._french import french_metavar

        metavar = super().make_metavar(ctx)
        return metavar if self.metavar is not None else french_metavar(metavar)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        name, text = record
        for en, fr in self._WORDS:
            text = text.replace(en, fr)
        return name, text


class FrenchArgument(click.Argument):
    """An argument whose metavar, when click derives it from its type, reads in French."""

    def make_metavar(self, ctx: click.Context) -> str:
        from cpts_geo.cli._french import french_metavar

        metavar = super().make_metavar(ctx)
        return metavar if self.metavar is not None else french_metavar(metavar)


def argument(*args, **kwargs):
    """``click.argument`` with a French metavar."""
    kwargs.setdefault("cls", FrenchArgument)
    return click.argument(*args, **kwargs)


class FrenchCommand(_FrenchErrors, click.Command):
    context_class = FrenchContext

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = "Afficher cette aide et quitter."
        return opt


class FrenchGroup(_FrenchErrors, click.Group):
    context_class = FrenchContext
    command_class = FrenchCommand

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if kwargs.get("subcommand_metavar") is None and not self.chain:
            self.subcommand_metavar = (
                "[COMMANDE] [ARGUMENTS]..." if self.invoke_without_command else "COMMANDE [ARGUMENTS]..."
            )

    def invoke(self, ctx: click.Context):
        """Run the command; exit code 1 stays reserved for "a rule failed": an interruption
        exits 130, an unexpected error 3 (with its message, and the traceback under -v)."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.ClickException as exc:
            raise in_french(exc) from None
        except KeyboardInterrupt:
            _quiet_finalizers()
            click.echo("\nInterrompu.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            logging.getLogger(__name__).info("erreur interne", exc_info=True)
            from cpts_geo._text import safe

            click.echo(
                f"Erreur interne : {type(exc).__name__} : {safe(str(exc))} ; relancez avec -v et "
                "signalez-la avec le fichier en cause",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = "Afficher cette aide et quitter."
        return opt


FrenchGroup.group_class = FrenchGroup


def input_paths(ctx: click.Context, *paths) -> list[Path]:
    """The files a command reads, and the reference folder: no output may land on them."""
    from cpts_geo.reference.units import default_data_dir

    folder = ctx.obj.get("reference_path") if ctx.obj else None
    return [Path(p) for p in paths if p is not None] + [Path(folder or default_data_dir())]


def check_output_paths(ctx: click.Context, outputs, inputs) -> None:
    """Every output of the command checked before anything is read or written (refused: an
    input, a file of the reference folder, a non-regular file, two outputs on one path)."""
    from cpts_geo._io import check_outputs

    check_outputs(outputs, inputs)


def load_ref(ctx: click.Context):
    from cpts_geo._text import fr_int
    from cpts_geo.reference.units import load_reference

    with step("Chargement du référentiel"):
        ref = load_reference(ctx.obj.get("reference_path"))
    _end_start()
    v = ref.vintage
    log.info(
        "Référentiel %s : %s unités, COG %s, populations légales %s",
        ref.path,
        fr_int(len(ref.unit_table)),
        v.get("cog"),
        v.get("population"),
    )
    return ref


def warn_inputs(source, warnings) -> None:
    from cpts_geo._text import for_terminal, safe

    for w in warnings or []:
        where = f"ligne {w['line']} : " if w.get("line") not in (None, "") else ""
        click.echo(f"Attention : {safe(source)} : {where}{for_terminal(str(w.get('message', '')))}", err=True)


def exit_status(status: str, strict: bool) -> None:
    if status == "fail" or (strict and status == "warn"):
        sys.exit(1)


def format_for(fmt: str | None, output: Path | None) -> str:
    if fmt is not None:
        return fmt
    if output is not None and output.suffix.lower() in (".html", ".htm"):
        return "html"
    if output is not None and output.suffix.lower() == ".pdf":
        return "pdf"
    if output is not None and output.suffix.lower() == ".json":
        return "json"
    return "text"


def emit(text: str | Iterator[str], output: Path | None, inputs) -> None:
    """Print ``text`` (or write it to ``output``), ending with one line break; ``text`` may be an
    iterator of pieces (:meth:`RegisterReport.json_chunks`), written as they come."""
    from cpts_geo._text import for_terminal

    if not isinstance(text, str):
        pieces = itertools.chain(text, ["\n"])
        if output is None:
            for piece in pieces:
                click.echo(for_terminal(piece), nl=False)
            return
        from cpts_geo._io import atomic_write_text

        atomic_write_text(output, pieces, inputs=inputs)
        click.echo(f"Écrit : {output}", err=True)
        return
    if output is None:
        click.echo(for_terminal(text.rstrip("\n")))
        return
    from cpts_geo._io import atomic_write_text

    atomic_write_text(output, text if text.endswith("\n") else text + "\n", inputs=inputs)
    click.echo(f"Écrit : {output}", err=True)


class BadValue(click.UsageError):
    """A value an option refuses: a French message (with the flag), exit code 2."""

    def show(self, file=None) -> None:
        from cpts_geo._text import for_terminal

        click.echo(f"Erreur : {for_terminal(self.format_message())}", err=True, file=file)


class Bounded(click.ParamType):
    """A numeric option bounded as the library bounds its parameter (:data:`_params.LIMITS`):
    ``nan``, ``inf``, out-of-range or 40-digit values are refused with exit code 2."""

    def __init__(self, param: str):
        from cpts_geo._limits import LIMITS

        self.param = param
        self.limit = LIMITS[param]
        self.name = "entier" if self.limit.integer else "nombre"

    def convert(self, value, param, ctx):
        from cpts_geo._limits import check_param
        from cpts_geo._text import safe

        try:
            return check_param(self.param, value)
        except CptsGeoError:
            flag = param.opts[0] if param is not None else self.param
            raise BadValue(
                f"option {flag} : valeur {safe(value, 60)} refusée ; attendu {self.limit.describe()}", ctx=ctx
            ) from None


min_population_option = option(
    "--min-population",
    type=Bounded("min_population"),
    default=20000,
    show_default=True,
    help="Population minimale (population municipale) d'un territoire ; 0 pour aucune.",
)
sea_link_option = option(
    "--sea-link-km",
    type=Bounded("sea_link_km"),
    default=30.0,
    show_default=True,
    help="Les îles à moins de cette distance (km) du reste du territoire y sont reliées par la mer, et les "
    "parties face à face de part et d'autre d'un estuaire, d'une rade ou d'une baie par l'eau (avertissement).",
)
layer_option = option(
    "--layer",
    help="GeoPackage de plusieurs couches : la couche à lire (sans elle, un fichier de plusieurs couches est refusé).",
)
strict_option = option("--strict", is_flag=True, help="Sortir avec le code 1 aussi sur un avertissement.")
online_option = option(
    "--online",
    is_flag=True,
    help="Carte : charger Leaflet depuis Internet (CDN) et ajouter les fonds OpenStreetMap et Plan IGN "
    "(attributions affichées). Par défaut la page est autonome : Leaflet intégré, sans fond de carte, "
    "aucun accès réseau.",
)
offline_option = option(
    "--offline",
    is_flag=True,
    hidden=False,
    help="Obsolète, sans effet : les cartes et rapports sont autonomes par défaut (voir --online).",
)


def run_provenance(ctx: click.Context, ref, *, files, parameters, register=None):
    """The :class:`~cpts_geo.outputs.provenance.Provenance` of a command: its input files (the
    register's latest dated status noted), and its parameters, each marked default or chosen
    from where click took its value."""
    from click.core import ParameterSource

    from cpts_geo.outputs.provenance import Parameter, provenance

    params = []
    for name, label, text in parameters:
        source = ctx.get_parameter_source(name)
        params.append(Parameter(name, label, text, source in (None, ParameterSource.DEFAULT)))
    notes = {}
    if register is not None and len(register):
        from cpts_geo.inputs.cells import parse_date

        dates = [parse_date(d) for d in register.cpts["date_statut"] if d]  # ISO once read
        if dates:
            notes["Registre"] = f"statut le plus récent daté du {max(dates):%d/%m/%Y}"
    return provenance(files=files, parameters=params, vintage=ref.vintage, notes=notes)


def param_texts(**values) -> list[tuple[str, str, str]]:
    """``(name, French label, value as it reads)`` for the parameters the commands share."""
    from cpts_geo._text import fr_int, fr_km, fr_number

    out = []
    for name, value in values.items():
        if name == "min_population":
            out.append(
                (name, "Population minimale", f"{fr_int(value)}\u00a0habitants" if value else "aucune")
            )
        elif name == "sea_link_km":
            out.append((name, "Distance maximale des liaisons maritimes", f"{fr_km(value)}\u00a0km"))
        elif name == "goal":
            out.append((name, "Objectif national", f"{fr_number(value)}\u00a0CPTS"))
        elif name == "allow_cross_departement":
            out.append((name, "Territoires à cheval sur plusieurs départements", "oui" if value else "non"))
        elif name == "seed":
            out.append((name, "Graine des tirages", str(value)))
        elif name == "effort":
            out.append((name, "Effort de recherche", str(value)))
    return out


def _keep_reading_option(ctx: click.Context, param: click.Parameter, value):
    ctx.meta.setdefault("cpts_reading", {})[param.name] = value
    return value


def reading_options(*, tables: bool = True, polygons: bool = True):
    """The options of the readers (``--prefer``, ``--skip-rows``, ``--crs``, polygon register
    fields), kept on the context for :func:`reading_kwargs` rather than passed to the command."""
    opts = [
        option(
            "--prefer",
            type=click.Choice(["codes", "names"]),
            expose_value=False,
            callback=_keep_reading_option,
            help="Quand le code et le nom d'une ligne désignent deux communes différentes : la colonne "
            "qui l'emporte (avec un avertissement par ligne) ; par défaut, la ligne est une erreur.",
        )
    ]
    if tables:
        opts.append(
            option(
                "--skip-rows",
                type=click.IntRange(min=0),
                expose_value=False,
                callback=_keep_reading_option,
                help="Ignorer les N premières lignes du fichier (titres non reconnus au-dessus de l'en-tête).",
            )
        )
    if polygons:
        opts += [
            option(
                "--crs",
                expose_value=False,
                callback=_keep_reading_option,
                help="GeoJSON/GPKG sans système de coordonnées : celui de ses coordonnées (2154 pour le "
                "Lambert-93, 4326 pour des degrés).",
            ),
            option(
                "--id-column",
                expose_value=False,
                callback=_keep_reading_option,
                help="Registre : la colonne (ou l'attribut d'un registre de polygones) qui porte l'identifiant "
                "de la CPTS.",
            ),
            option(
                "--name-column",
                expose_value=False,
                callback=_keep_reading_option,
                help="Registre : la colonne (ou l'attribut) qui porte le nom de la CPTS ; sans colonne "
                "d'identifiant, l'identifiant de chaque CPTS est tiré de son nom.",
            ),
            option(
                "--stage-column",
                expose_value=False,
                callback=_keep_reading_option,
                help="Registre : la colonne (ou l'attribut) qui porte le stade de la CPTS.",
            ),
        ]

    def decorate(func):
        for opt in reversed(opts):
            func = opt(func)
        return func

    return decorate


def reading_kwargs(*, register: bool) -> dict:
    """The reader options given on the command line, for ``read_register`` (``register``) or
    ``read_proposal``."""
    given = click.get_current_context().meta.get("cpts_reading", {})
    keys = ["prefer", "skip_rows", "crs"]
    if register:
        keys += ["id_column", "name_column", "stage_column"]
    return {k: given[k] for k in keys if given.get(k) is not None}


def read_register_warned(
    path: Path,
    ref,
    layer: str | None = None,
    *,
    skip_rows: bool = True,
    layer_option: str = "--layer",
    **kwargs,
):
    """Read a register, its warnings on stderr; ``layer_option``: the flag that chooses its layer
    (named when a GeoPackage of several layers is refused)."""
    from cpts_geo.inputs.read import read_register

    options = reading_kwargs(register=True)
    if not skip_rows:
        options.pop("skip_rows", None)
    if layer is not None:
        options["layer"] = layer
    try:
        with step("Lecture du registre"):
            register = read_register(path, ref, **options, **kwargs)
    except CptsGeoError as exc:
        raise InputFailure(with_flags(str(exc), layer=layer_option)) from None
    warn_inputs(path, register.warnings)
    from cpts_geo._text import fr_int

    log.info("Registre lu : %s, %s CPTS, %s lignes", path, fr_int(len(register)), fr_int(len(register.table)))
    return register


def check_one_area(ctx: click.Context, region: str | None, departement: str | None) -> None:
    """Refuse ``--region`` and ``--departement`` given together (a usage error, exit 2)."""
    if region is not None and departement is not None:
        raise click.UsageError("choisissez soit --region, soit --departement, pas les deux", ctx=ctx)


# ---- zone layers (--zones) -------------------------------------------------------------------
def zones_options(func):
    """``--zones FILE`` (repeatable), ``--zones-name NAME`` and ``--zones-layer LAYER`` (in the
    order of the files), kept on the context for :func:`read_zone_layers`."""
    opts = [
        option(
            "--zones",
            "zones_paths",
            multiple=True,
            type=click.Path(dir_okay=False, path_type=Path),
            expose_value=False,
            callback=_keep_reading_option,
            help="Couche de zones à croiser (répétable) : zonage médecins par commune (code ou nom, "
            "colonne de catégorie ZIP/ZAC/hors zonage en option), liste d'EPCI (SIREN ou nom : zones "
            "rouges), ou polygones GeoJSON/GPKG (QPV).",
        ),
        option(
            "--zones-name",
            "zones_names",
            multiple=True,
            expose_value=False,
            callback=_keep_reading_option,
            help="Nom de chaque couche --zones (un par fichier --zones, dans le même ordre ; par défaut : "
            "le nom du fichier).",
        ),
        option(
            "--zones-layer",
            "zones_layers",
            multiple=True,
            expose_value=False,
            callback=_keep_reading_option,
            help="GeoPackage --zones de plusieurs couches : la couche à lire (une par fichier --zones "
            "géographique, dans le même ordre).",
        ),
        option(
            "--zones-category-column",
            "zones_categories",
            multiple=True,
            expose_value=False,
            callback=_keep_reading_option,
            help="Colonne (ou attribut) de catégorie des fichiers --zones quand elle n'est pas reconnue "
            "(Zonage, catégorie... le sont) : une pour tous, ou une par fichier dans le même ordre (vide : "
            "reconnue).",
        ),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def zone_paths() -> list[Path]:
    """The ``--zones`` files given (inputs: no output may land on them)."""
    return list(click.get_current_context().meta.get("cpts_reading", {}).get("zones_paths") or [])


def read_zone_layers(ref):
    """The ``--zones`` layers read, their warnings on stderr; ``None`` without ``--zones``."""
    ctx = click.get_current_context()
    given = ctx.meta.get("cpts_reading", {})
    paths = list(given.get("zones_paths") or [])
    names = list(given.get("zones_names") or [])
    layers = list(given.get("zones_layers") or [])
    categories = list(given.get("zones_categories") or [])
    if not paths:
        if names or layers or categories:
            raise click.UsageError(
                "--zones-name, --zones-layer et --zones-category-column vont avec --zones", ctx=ctx
            )
        return None
    from cpts_geo._text import fr_int
    from cpts_geo.inputs.zones import as_zone_layers, is_polygon_file, read_zones

    # Matched by rank: a partial list would silently name the wrong files.
    if names and len(names) != len(paths):
        raise click.UsageError(
            f"{len(names)} --zones-name pour {len(paths)} fichier(s) --zones ; donnez un nom par fichier "
            "--zones, dans le même ordre (ou aucun : le nom du fichier)",
            ctx=ctx,
        )
    if len(categories) == 1:
        categories = categories * len(paths)
    elif categories and len(categories) != len(paths):
        raise click.UsageError(
            f"{len(categories)} --zones-category-column pour {len(paths)} fichier(s) --zones ; une seule "
            "(pour tous les fichiers) ou une par fichier, dans le même ordre",
            ctx=ctx,
        )
    geo = [p for p in paths if is_polygon_file(p)]
    if layers and len(layers) != len(geo):
        raise click.UsageError(
            f"{len(layers)} --zones-layer pour {len(geo)} fichier(s) --zones géographique(s) ; une couche par "
            "fichier géographique, dans le même ordre",
            ctx=ctx,
        )
    layer_of = dict(zip(geo, layers))
    opts = {k: given[k] for k in ("crs", "prefer") if given.get(k) is not None}
    out = []
    for i, path in enumerate(paths):
        kwargs = dict(opts) if is_polygon_file(path) else {k: v for k, v in opts.items() if k != "crs"}
        if layer_of.get(path):
            kwargs["layer"] = layer_of[path]
        if i < len(categories) and categories[i]:
            kwargs["category_column"] = categories[i]
        try:
            z = read_zones(path, ref, name=names[i] if i < len(names) else None, **kwargs)
        except CptsGeoError as exc:
            raise InputFailure(
                with_flags(
                    str(exc), layer="--zones-layer", crs="--crs", category_column="--zones-category-column"
                )
            ) from None
        warn_inputs(path, z.warnings)
        log.info(
            "Zones lues : %s, couche « %s » (%s), %s catégorie(s), %s unités",
            path,
            z.name,
            z.kind,
            fr_int(len(z.categories)),
            fr_int(z.members["code"].nunique()),
        )
        out.append(z)
    try:
        return as_zone_layers(ref, out)
    except CptsGeoError as exc:
        raise InputFailure(with_flags(str(exc), name="--zones-name")) from None
