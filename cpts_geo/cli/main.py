"""The ``cpts-geo`` command line: the group, which adds the commands of each family (as rasterio's
``rio``). Each command parses its options, calls one API function, formats and exits."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from cpts_geo._version import __version__
from cpts_geo.cli.atelier import atelier_cmd
from cpts_geo.cli.check import check_cmd, check_register_cmd
from cpts_geo.cli.coverage import coverage_cmd, coverage_map_cmd
from cpts_geo.cli.examples import examples_cmd
from cpts_geo.cli.options import FrenchGroup, handle_errors, install_sigterm, load_ref, option, start_process
from cpts_geo.cli.pilotage import compare_registers_cmd, coverage_history_cmd
from cpts_geo.cli.register import register_group
from cpts_geo.cli.suggest import suggest_cmd


@click.group(cls=FrenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cpts-geo", help="Afficher la version et quitter.")
@option(
    "--reference",
    "reference_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar="CPTS_GEO_REFERENCE",
    show_envvar=True,
    help="Dossier d'un référentiel construit par scripts/build_reference.py (par défaut : celui livré avec l'outil).",
)
@option("-v", "--verbose", is_flag=True, help="Afficher ce que fait l'outil.")
@click.pass_context
def main(ctx: click.Context, reference_path: Path | None, verbose: bool) -> None:
    """Vérifier, cartographier et planifier les territoires des CPTS sur les communes de France.

    Les unités sont les communes du COG en vigueur (Paris, Lyon et Marseille : leurs
    arrondissements). Chaque chiffre indique son millésime.
    """
    import sys

    from cpts_geo._progress import shown_on

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    install_sigterm()
    ctx.obj = {"reference_path": reference_path}
    # Long work shows its progress on standard error when it is a terminal (nothing otherwise).
    ctx.with_resource(shown_on(sys.stderr))


@main.group()
def reference() -> None:
    """Consulter le référentiel national (communes, EPCI, départements, régions)."""


@reference.command("info")
@option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
@handle_errors
def reference_info(ctx: click.Context, fmt: str) -> None:
    """Millésimes, effectifs et population nationale du référentiel."""
    from cpts_geo.reference.units import reference_summary, reference_summary_text

    info = reference_summary(load_ref(ctx))
    if fmt == "json":
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    click.echo(reference_summary_text(info))


# --- helpers shared by the commands ---


for _command in (
    atelier_cmd,
    check_cmd,
    check_register_cmd,
    coverage_cmd,
    coverage_map_cmd,
    examples_cmd,
    coverage_history_cmd,
    compare_registers_cmd,
    register_group,
    suggest_cmd,
):
    main.add_command(_command)


def run() -> None:
    """The ``cpts-geo`` program (console script, ``python -m cpts_geo.cli``): :func:`main` in a
    process of its own, started by :func:`~cpts_geo.cli.options.start_process`."""
    start_process()
    main(prog_name="cpts-geo")
