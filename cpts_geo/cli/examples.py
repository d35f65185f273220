"""``cpts-geo exemples``: copy the example files and the notebooks into a folder."""

from __future__ import annotations

from pathlib import Path

import click

from cpts_geo._errors import InputError
from cpts_geo.cli.options import FrenchCommand, InputFailure, argument, handle_errors, option


@click.command("exemples", cls=FrenchCommand)
@argument("folder", metavar="DOSSIER", type=click.Path(path_type=Path))
@option(
    "--force",
    is_flag=True,
    help="Copier aussi dans un dossier non vide (les fichiers d'exemple du même nom sont remplacés, "
    "et listés comme tels).",
)
@handle_errors
def examples_cmd(folder: Path, force: bool) -> None:
    """Copier les fichiers d'exemple et les carnets Jupyter dans DOSSIER, et dire à quoi sert
    chacun.

    Les chemins sont ceux du README (data/examples/..., notebooks/...) : ses commandes
    fonctionnent telles quelles depuis DOSSIER.
    """
    from cpts_geo.outputs.examples import copy_examples

    try:
        copied = copy_examples(folder, force=force)
    except InputError as exc:
        if "n'est pas vide" in str(exc):
            raise InputFailure(f"{exc} (force : option --force)") from None
        raise
    click.echo(copied.to_text())
