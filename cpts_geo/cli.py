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


class _WarningHandler(logging.Handler):
    def emit(self, record):
        click.echo(f"Attention : {record.getMessage()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cpts-geo")
@click.option(
    "--reference",
    "reference_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="CPTS_GEO_REFERENCE",
    show_envvar=True,
    help="Folder of a reference built by scripts/build_reference.py (default: the shipped one).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what the tool does.")
@click.pass_context
def main(ctx: click.Context, reference_path: Path | None, verbose: bool) -> None:
    """Check, map and plan CPTS territories on the communes of France.

    Units are the communes of the current COG (Paris, Lyon and Marseille: their
    arrondissements). Every figure states its vintage.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    ctx.obj = {"reference_path": reference_path}


def load_ref(ctx: click.Context):
    from .reference import load_reference

    return load_reference(ctx.obj.get("reference_path"))


@main.group()
def reference() -> None:
    """Inspect the national reference (communes, EPCI, départements, régions)."""


@reference.command("info")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
@handle_errors
def reference_info(ctx: click.Context, fmt: str) -> None:
    """Vintages, counts and national population of the reference."""
    from .reference import reference_summary, reference_summary_text

    info = reference_summary(load_ref(ctx))
    if fmt == "json":
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    click.echo(reference_summary_text(info))


@main.command("fetch-map-assets")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Parent folder of leaflet-<version>/ (default: $CPTS_GEO_MAP_ASSETS or the user cache).",
)
@click.option("--force", is_flag=True, help="Fetch again even if present.")
@handle_errors
def fetch_map_assets_cmd(dest: Path | None, force: bool) -> None:
    """Fetch Leaflet from the npm registry (npm pack) for the --offline maps and reports."""
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


_min_population = click.option(
    "--min-population",
    type=click.IntRange(min=0),
    default=20000,
    show_default=True,
    help="Minimum population (population municipale) of a territory; 0 for none.",
)
_sea_link = click.option(
    "--sea-link-km",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Islands within this distance (km) of the rest of the territory are joined by sea (warning).",
)
_strict = click.option("--strict", is_flag=True, help="Exit with code 1 on a warning too.")


@main.command("check")
@click.argument("proposal_path", metavar="PROPOSAL", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--existing",
    "existing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Register of existing CPTS (CSV/XLSX/GeoJSON/GPKG) to check overlaps against.",
)
@_min_population
@_sea_link
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    help="Report format (default: text, or from the -o suffix: .html, .json).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of the standard output.",
)
@_strict
@click.option("--sheet", help="XLSX proposal: the sheet to read (default: the first).")
@click.option("--departement", help="Département that disambiguates commune names in the proposal.")
@click.option("--name", "name", help="Name of the territory in the report (default: from the file).")
@click.option("--cpts-id", help="Id of this CPTS in the register (not compared with itself).")
@click.option(
    "--offline",
    is_flag=True,
    help="HTML report: map with Leaflet inlined and no tiles (cpts-geo fetch-map-assets once).",
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
    """Check a proposed CPTS territory: population, contiguity, enclaves, EPCI, départements and
    régions, overlap with the existing CPTS.

    PROPOSAL is a CSV/TXT/XLSX list of communes (codes or names) or a GeoJSON/GPKG polygon.
    Exit code 0: every rule passed or warned; 1: a rule failed (or warned, with --strict);
    2: the input could not be read.
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    help="Report format (default: text, or json for an -o ending in .json).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of the standard output.",
)
@_strict
@click.option("--sheet", help="XLSX register: the sheet to read (default: the first).")
@click.pass_context
@handle_errors
def check_register_cmd(ctx, register_path, min_population, sea_link_km, fmt, output, strict, sheet) -> None:
    """Check every CPTS of a register, and the register as a whole: communes in two CPTS,
    communes enclosed by the union of the CPTS.
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
@click.option("--region", help="Code (or name) of a région: its figures and its départements'.")
@click.option("--departement", help="Code (or name) of a département (49, 2A, 971).")
@click.option(
    "--by",
    type=click.Choice(["region", "departement"]),
    help="Detail lines (text, csv): by région (default nationally) or département.",
)
@click.option("--goal", type=float, default=1000, show_default=True, help="National goal (number of CPTS).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of the standard output.",
)
@click.option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw a bar chart of CPTS and coverage by région/département (.png, .svg).",
)
@click.pass_context
@handle_errors
def coverage_cmd(ctx, register_path, region, departement, by, goal, fmt, output, png_path) -> None:
    """Coverage of a CPTS register: CPTS by stage, population covered, white zones, overlaps.

    A CPTS spanning several régions counts once nationally and once in each région it touches.
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
@click.option("--region", help="Code (or name) of the région to draw.")
@click.option("--departement", help="Code (or name) of the département to draw.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML map to write (default: carte.html, unless only --png is given).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Self-contained page: Leaflet inlined (cpts-geo fetch-map-assets once), no tiles.",
)
@click.option("--goal", type=float, default=1000, show_default=True, help="National goal (number of CPTS).")
@click.option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw a static coverage map (.png, .svg, .pdf).",
)
@click.pass_context
@handle_errors
def coverage_map_cmd(ctx, register_path, region, departement, output, offline, goal, png_path) -> None:
    """HTML map of a register's coverage: CPTS by stage, white zones, overlaps, départements."""
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
@click.option(
    "--existing",
    "existing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Register of existing CPTS (CSV/XLSX/GeoJSON/GPKG): its communes are left out.",
)
@click.option("--departement", help="Code or name of the département to partition (49, 2A, 971).")
@click.option("--region", help="Code or name of the région to partition (52).")
@click.option("--all", "all_france", is_flag=True, help="Partition every département of France.")
@click.option(
    "--min-population", type=int, default=20000, show_default=True, help="Minimum population of a territory."
)
@click.option(
    "--sea-link-km",
    type=float,
    default=30.0,
    show_default=True,
    help="Islands within this distance (km) are linked by sea.",
)
@click.option("--allow-cross-departement", is_flag=True, help="Let territories span départements.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random restarts.")
@click.option(
    "--effort",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="Search budget multiplier: 2-3 sometimes find one or two more territories, 10-20x slower.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="OUT.csv (one row per commune), OUT.gpkg or OUT.geojson (one polygon per territory).",
)
@click.option(
    "--map",
    "map_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write an HTML map of the suggestions and the existing CPTS.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="--map: self-contained page (Leaflet inlined, no tiles; cpts-geo fetch-map-assets once).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
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
    """Partition the white zones (communes no CPTS covers) into candidate CPTS territories.

    Each territory is contiguous (islands joined by sea links), has at least --min-population
    inhabitants and stays in one département; their number is maximised. Pieces too small to
    form a territory are proposed as extensions of an adjacent CPTS.
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
