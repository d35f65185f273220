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


def _n(value: int) -> str:
    """An integer with French digit grouping (a space every three digits)."""
    return f"{value:,}".replace(",", " ")


def _fail(message: str) -> None:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(EXIT_INPUT)


def handle_errors(func):
    """Turn the project's errors into a message on stderr and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CptsGeoError as exc:
            _fail(str(exc))
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            _fail(f"{exc.filename} : {exc.strerror}")

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
    from .reference import reference_summary

    info = reference_summary(load_ref(ctx))
    if fmt == "json":
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    v = info["vintage"]
    c = info["counts"]
    lines = [
        f"Référentiel : {info['path']}",
        f"Millésimes : COG {v['cog']}, populations légales {v['population']} (population municipale)",
        f"Communes : {_n(c['communes'])} (unités : {_n(c['units'])}, dont {c['arrondissements']} "
        "arrondissements municipaux de Paris, Lyon et Marseille)",
        f"EPCI : {_n(c['epci'])}",
        f"Départements : {c['departements']}",
        f"Régions : {c['regions']}",
        f"Paires de communes voisines : {_n(c['adjacency_pairs'])}",
        f"Population nationale : {_n(info['population'])} habitants",
        f"Contours : {info['geometry_source']}",
    ]
    click.echo("\n".join(lines))


# --- check commands (check, check-register) ---


# --- coverage commands (coverage, coverage-map) ---


# --- suggest command ---


if __name__ == "__main__":  # pragma: no cover
    main()
